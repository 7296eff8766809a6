// Fault injection, as a feature: a plan the machine hands a worker (an app process or the LSA)
// over the control plane. The worker then crashes or stalls itself at a named call point (any
// traced call, on its call or its return), mangles its outgoing LPC messages (drop, duplicate,
// delay, reorder) from a seeded generator, or makes a package entry point (of the LSA-mode half in
// the LSA, of the user-mode half in an app process) throw or never return. Every decision is drawn from the plan's seed, so a schedule is reproducible.

import type { CallPointHook } from '../hosting/index.js';
import type { FaultPlan, OutgoingFilter } from '../ipc/index.js';

export type { FaultPlan };

const CLEANUP_ENTRIES: ReadonlySet<string> = new Set(['SpDeleteContext', 'SpFreeCredentialsHandle']);

export type LinkDecision = 'send' | 'drop' | 'duplicate' | 'delay' | 'reorder';

/** The exit code of a process a fault plan crashed, so that it is told apart from other exits. */
export const FAULT_EXIT_CODE = 70;

/** mulberry32: a small, fast, seedable generator; the same seed gives the same schedule. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Blocks this thread for `ms`: a stalled process, not a sleeping one (nothing else runs meanwhile). */
export function stallThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class FaultInjector implements CallPointHook {
  private readonly seen = new Map<string, number>();
  private readonly random: () => number;
  private packageFaultsLeft: number;
  /** How many faults of each kind this worker injected. */
  readonly injected: Record<string, number> = {};

  readonly plan: FaultPlan;

  constructor(plan: FaultPlan) {
    this.plan = plan;
    this.random = seededRandom(plan.lpc?.seed ?? plan.packageFault?.seed ?? 1);
    this.packageFaultsLeft = plan.packageFault?.count ?? Infinity;
  }

  get delayMs(): number {
    return this.plan.lpc?.delayMs ?? 50;
  }

  /** The plan's faults on outgoing LPC messages, as an RpcPeer's outgoing filter; null when it has none. */
  linkFilter(): OutgoingFilter | null {
    if (this.plan.lpc === undefined) return null;
    return (message, send, sendLast) => {
      switch (this.decide()) {
        case 'drop':
          return;
        case 'duplicate':
          send(message);
          send(message);
          return;
        case 'delay':
          setTimeout(() => send(message), this.delayMs).unref();
          return;
        case 'reorder':
          // It goes after every other message of this turn (or, alone, at the turn's end).
          sendLast(message);
          return;
        case 'send':
          send(message);
      }
    };
  }

  /** Called at every traced call point: crashes or stalls the thread when the plan says so. */
  at(call: string, phase: string): void {
    const { killAt, stallAt } = this.plan;
    if (killAt !== undefined && killAt.call === call && killAt.phase === phase && this.count('kill', call, phase) === (killAt.nth ?? 1)) {
      this.note('kill');
      process.exit(FAULT_EXIT_CODE);
    }
    if (stallAt !== undefined && stallAt.call === call && stallAt.phase === phase && this.count('stall', call, phase) === (stallAt.nth ?? 1)) {
      this.note('stall');
      stallThread(stallAt.ms);
    }
  }

  decide(): LinkDecision {
    const lpc = this.plan.lpc;
    if (lpc === undefined) return 'send';
    const r = this.random();
    let edge = 0;
    for (const kind of ['drop', 'duplicate', 'delay', 'reorder'] as const) {
      edge += lpc[kind] ?? 0;
      if (r < edge) {
        this.note(kind);
        return kind;
      }
    }
    return 'send';
  }

  /** Whether this call of a package entry point (in the LSA or in a user-mode half) should throw or hang. */
  packageFault(packageName: string, entry: string): 'throw' | 'hang' | undefined {
    const f = this.plan.packageFault;
    const matches = f !== undefined && (f.entry === entry || (f.entry === '*' && !CLEANUP_ENTRIES.has(entry)));
    if (f === undefined || !matches || f.package.toLowerCase() !== packageName.toLowerCase() || this.packageFaultsLeft <= 0) return undefined;
    if (f.probability !== undefined && this.random() >= f.probability) return undefined;
    this.packageFaultsLeft--;
    this.note(`package-${f.kind}`);
    return f.kind;
  }

  private count(kind: string, call: string, phase: string): number {
    const key = `${kind}:${call}:${phase}`;
    const n = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, n);
    return n;
  }

  private note(kind: string): void {
    this.injected[kind] = (this.injected[kind] ?? 0) + 1;
  }
}
