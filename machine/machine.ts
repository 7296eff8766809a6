// The machine: the small piece of main-thread code that boots the LSA worker, spawns client and
// server process workers (each with its own LPC channel to the LSA, created here at spawn), kills
// them (worker.terminate() is a process crash), keeps the table of names servers monitor, and
// collects every worker's trace on one clock. The CLI, the benchmarks and the tests all use it.

import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { AppRole, AppWorkerData, BootMessage, LsaWorkerData } from '../ipc/boot.js';
import { exposeControl, guard, transfer, wrapControl, type Remote } from '../ipc/control.js';
import { SspiEmuError, TransportError, describeError, rebuildError } from '../ipc/errors.js';
import type { FaultPlan } from '../ipc/faults.js';
import type { ProcessToLsaOps } from '../ipc/lpc.js';
import { now, type TapRecord, type TraceEvent } from '../ipc/trace.js';
import { parseAccount, type Account } from '../lsa/accounts.js';
import { DEFAULT_PACKAGES, type LsaConfig } from '../lsa/config.js';
import type { LsaControl } from '../lsa/control.js';
import type { LsaStats, PackageReport, ReapReport } from '../lsa/lsa.js';
import type { RemoteSecur32 } from '../sspi/secur32.js';
import type { AppArgs, AppControl, AppResult, AppStats, MachineServices } from '../sspi/process.js';
import { TraceCollector } from './trace-collector.js';

export interface MachineOptions {
  /** The "Security Packages" list: built-in names ("example", "ntlm", "null") or module paths. Default: example and ntlm. */
  packages?: string[];
  /** Accounts in the LSA's account store, as objects or "user:password" / "DOMAIN\\user:password". */
  accounts?: Array<string | Account>;
  computerName?: string;
  domainName?: string;
  dnsDomainName?: string;
  /** Record trace events (default true; benchmarks turn it off). */
  trace?: boolean;
  /** A package call that has not returned after this many ms fails with SEC_E_INTERNAL_ERROR. */
  packageCallTimeoutMs?: number;
  /** Package settings by the package's entry in `packages`. */
  packageSettings?: Record<string, Record<string, unknown>>;
  /** How long the LSA may take to report Ready. */
  bootTimeoutMs?: number;
  /** An app process's LPC call with no reply after this many ms fails (SEC_E_INTERNAL_ERROR, cause TIMEOUT). Default 60 s. */
  lpcTimeoutMs?: number;
}

export interface SpawnOptions {
  /** The process's name in traces; default "client", "server", then "client#2", ... */
  name?: string;
  /** The account the process runs as (its logon session in the LSA), or null for anonymous. */
  logonAs?: string | null;
}

export const DEMO_ACCOUNTS: readonly string[] = ['alice:Passw0rd!', 'bob:Hunter2hunter2'];
const DEFAULTS = { computerName: 'SSPI-EMU', domainName: 'SSPI-EMU', dnsDomainName: 'sspi-emu.local', packageCallTimeoutMs: 10_000, bootTimeoutMs: 15_000 };
const LSA_PID = 500;

/** A process of the machine as the main thread sees it. */
abstract class ProcessHandle {
  /** Rejects (with PEER_GONE) when the worker exits; every control call races it. */
  readonly death: Promise<never>;
  /** Resolves with the exit code when the worker exits. */
  readonly exited: Promise<number>;
  private exitCode: number | undefined;
  /** An uncaught error the worker died of, if any. */
  crashError: Error | undefined;

  constructor(
    readonly pid: number,
    readonly name: string,
    readonly worker: Worker,
  ) {
    this.exited = new Promise<number>((resolve) => {
      worker.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
    worker.on('error', (error) => {
      this.crashError = error;
    });
    this.death = this.exited.then((code) => {
      throw new TransportError('PEER_GONE', `${name} (pid ${pid}) exited with code ${code}${this.crashError ? ': ' + describeError(this.crashError) : ''}`);
    });
    this.death.catch(() => undefined);
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }
}

export class LsaProcess extends ProcessHandle {
  constructor(
    worker: Worker,
    private readonly control: Remote<LsaControl>,
  ) {
    super(LSA_PID, 'lsa', worker);
  }

  packages(): Promise<PackageReport> {
    return guard(this.control.packages(), this.death);
  }

  /** The LSA's statistics; with `gc`, after a full garbage collection (for memory figures). */
  stats(options?: { gc?: boolean }): Promise<LsaStats> {
    return guard(this.control.stats(options), this.death);
  }

  /** Applies a fault plan to the LSA (null clears it); returns the faults injected under the old plan. */
  injectFaults(plan: FaultPlan | null): Promise<Record<string, number>> {
    return guard(this.control.injectFaults(plan), this.death);
  }

  logonSessionBytes(count: number): Promise<number> {
    return guard(this.control.logonSessionBytes(count), this.death);
  }

  attach(request: Parameters<LsaControl['attachProcess']>[0], lpcPort: MessagePort): Promise<{ logonId: bigint }> {
    return guard(this.control.attachProcess(request, transfer(lpcPort, [lpcPort])), this.death);
  }

  detach(pid: number): Promise<ReapReport> {
    return guard(this.control.detachProcess(pid), this.death);
  }
}

export class AppProcess extends ProcessHandle {
  /**
   * The process's SSPI library, called from the main thread: each call runs in the process's
   * worker (its Secur32, its LPC channel) and fails with PEER_GONE if the process dies.
   */
  readonly sspi: RemoteSecur32;

  constructor(
    pid: number,
    name: string,
    readonly role: AppRole,
    readonly logonAs: string | null,
    worker: Worker,
    private readonly control: Remote<AppControl>,
  ) {
    super(pid, name, worker);
    this.sspi = guardedProxy(control.sspi as unknown as RemoteSecur32, this.death);
  }

  /** Runs an application module in this process (null: the process's default app). */
  runApp(module: string | null, args: AppArgs): Promise<AppResult> {
    return guard(this.control.runApp(module, args), this.death);
  }

  stats(): Promise<AppStats> {
    return guard(this.control.stats(), this.death);
  }

  /** Applies a fault plan to this process (null clears it); returns the faults injected under the old plan. */
  injectFaults(plan: FaultPlan | null): Promise<Record<string, number>> {
    return guard(this.control.injectFaults(plan), this.death);
  }

  reconnectLpc(port: MessagePort): Promise<void> {
    return guard(this.control.reconnectLpc(transfer(port, [port])), this.death);
  }

  /** Sends one raw LPC call as this process (a rogue process presenting made-up or stolen values). */
  lpcCall(op: keyof ProcessToLsaOps, body: object): Promise<unknown> {
    return guard(this.control.lpcCall(op, body), this.death);
  }
}

/** How long a connect waits for a server to start monitoring the name (as WaitNamedPipe would). */
const CONNECT_WAIT_MS = 10_000;

interface Listening {
  owner: AppProcess;
  backlog: MessagePort[];
  waiters: Array<{ resolve: (port: MessagePort) => void; reject: (error: Error) => void }>;
}

export class Machine {
  readonly trace: TraceCollector;
  private readonly processes = new Map<number, AppProcess>();
  private readonly listening = new Map<string, Listening>();
  /** Connects waiting for a name that nobody monitors yet. */
  private readonly awaitingListen = new Map<string, Set<() => void>>();
  private readonly counts = new Map<AppRole, number>();
  private nextPid = 1000;
  private stopped = false;

  private constructor(
    readonly config: LsaConfig,
    public lsa: LsaProcess,
    trace: TraceCollector,
    private readonly options: MachineOptions,
  ) {
    this.trace = trace;
  }

  /** Boots the LSA worker and waits for its Ready message; a boot that fails says why. */
  static async boot(options: MachineOptions = {}): Promise<Machine> {
    const config = lsaConfig(options);
    const trace = new TraceCollector(now(), options.trace ?? true);
    const lsa = await startLsa(config, trace, options);
    return new Machine(config, lsa, trace, options);
  }

  /**
   * Restarts a dead LSA with the same configuration and gives every running process a new LPC
   * channel to it (and a new logon session). Handles from the old LSA mean nothing to the new
   * one: they get SEC_E_INVALID_HANDLE.
   */
  async restartLsa(): Promise<void> {
    if (this.lsa.alive) throw new SspiEmuError('BOOT_FAILED', 'the LSA is still running; kill it first');
    this.lsa = await startLsa(this.config, this.trace, this.options);
    for (const proc of this.running) {
      const lpc = new MessageChannel();
      try {
        await this.lsa.attach({ pid: proc.pid, name: proc.name, threadId: proc.threadId, logonAs: proc.logonAs }, lpc.port1);
        await proc.reconnectLpc(lpc.port2);
      } catch (error) {
        if (proc.alive) throw error; // a process that died meanwhile needs no channel
      }
    }
  }

  /** Spawns a client or server process with its own LPC channel to the LSA. */
  async spawn(role: AppRole, options: SpawnOptions = {}): Promise<AppProcess> {
    if (this.stopped) throw new SspiEmuError('SPAWN_FAILED', 'the machine is shut down');
    const pid = this.nextPid;
    this.nextPid += 4; // Windows process ids are multiples of four
    const n = (this.counts.get(role) ?? 0) + 1;
    this.counts.set(role, n);
    const name = options.name ?? (n === 1 ? role : `${role}#${n}`);
    const logonAs = options.logonAs ?? null;

    const lpc = new MessageChannel();
    const control = new MessageChannel();
    const services = new MessageChannel();
    const tracePorts = new MessageChannel();
    const workerData: AppWorkerData = {
      pid,
      name,
      role,
      logonAs,
      lpcPort: lpc.port2,
      controlPort: control.port2,
      servicesPort: services.port2,
      tracePort: tracePorts.port2,
      trace: this.trace.isEnabled,
      tap: this.trace.isTapping,
      lpcTimeoutMs: this.options.lpcTimeoutMs ?? 60_000,
    };
    const entry = new URL(role === 'client' ? '../client-proc/worker.js' : '../server-proc/worker.js', import.meta.url);
    const worker = new Worker(entry, { workerData, transferList: [lpc.port2, control.port2, services.port2, tracePorts.port2], name });
    const proc = new AppProcess(pid, name, role, logonAs, worker, wrapControl<AppControl>(control.port1));
    this.trace.attach(tracePorts.port1, name);
    exposeControl(this.servicesFor(proc), services.port1);
    try {
      await this.lsa.attach({ pid, name, threadId: worker.threadId, logonAs }, lpc.port1);
      await waitForReady(worker, name, DEFAULTS.bootTimeoutMs);
    } catch (error) {
      await worker.terminate();
      throw new SspiEmuError('SPAWN_FAILED', `cannot spawn ${name}: ${describeError(error)}`, { cause: error });
    }
    this.processes.set(pid, proc);
    void proc.exited.then(() => this.reaped(proc, tracePorts.port1, [control.port1, services.port1]));
    return proc;
  }

  /** Kills a process as a crash would, and waits until the LSA has reaped its handles. */
  async kill(proc: AppProcess | LsaProcess): Promise<ReapReport | null> {
    await proc.worker.terminate();
    if (proc instanceof LsaProcess) return null;
    return this.lsa.alive ? this.lsa.detach(proc.pid).catch(() => null) : null;
  }

  /** Every app process that is still running. */
  get running(): AppProcess[] {
    return [...this.processes.values()].filter((p) => p.alive);
  }

  /** Trace events so far (after flushing every live worker), in time order, relative to boot. */
  async events(): Promise<TraceEvent[]> {
    await this.trace.flush();
    return this.trace.allEvents();
  }

  /** Tapped channel traffic so far (turn tapping on with tap(true) before the work). */
  async taps(): Promise<TapRecord[]> {
    await this.trace.flush();
    return this.trace.allTaps();
  }

  tap(on: boolean): void {
    this.trace.setTapping(on);
  }

  /** Stops every process and the LSA. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const waiters of this.awaitingListen.values()) for (const wake of waiters) wake();
    for (const entry of this.listening.values())
      for (const waiter of entry.waiters) waiter.reject(new SspiEmuError('NOT_LISTENING', 'the machine is shutting down'));
    this.listening.clear();
    await Promise.all([...this.processes.values()].map((p) => p.worker.terminate()));
    await this.lsa.worker.terminate();
  }

  /** The machine services one process may use; the process is known from the port, not the request. */
  private servicesFor(proc: AppProcess): MachineServices {
    return {
      listen: async (name) => {
        const existing = this.listening.get(name);
        if (existing !== undefined && existing.owner.alive)
          throw new SspiEmuError('ALREADY_LISTENING', `${name} is already monitored by ${existing.owner.name}`);
        this.listening.set(name, { owner: proc, backlog: [], waiters: [] });
        for (const wake of this.awaitingListen.get(name) ?? []) wake();
        this.awaitingListen.delete(name);
      },
      unlisten: async (name) => {
        if (this.listening.get(name)?.owner === proc) this.closeListening(name);
      },
      accept: (name) => {
        const entry = this.listening.get(name);
        if (entry === undefined || entry.owner !== proc) return Promise.reject(new SspiEmuError('NOT_LISTENING', `${proc.name} does not monitor ${name}`));
        const queued = entry.backlog.shift();
        if (queued !== undefined) return Promise.resolve(transfer(queued, [queued]));
        return new Promise<MessagePort>((resolve, reject) => entry.waiters.push({ resolve: (port) => resolve(transfer(port, [port])), reject }));
      },
      connect: async (name, waitMs = CONNECT_WAIT_MS) => {
        let entry = this.listening.get(name);
        if ((entry === undefined || !entry.owner.alive) && waitMs > 0) {
          await this.listenedTo(name, waitMs);
          entry = this.listening.get(name);
        }
        if (entry === undefined || !entry.owner.alive)
          throw new SspiEmuError('NOT_LISTENING', `nothing monitors ${name}${waitMs > 0 ? ` (waited ${waitMs} ms)` : ''}`);
        const channel = new MessageChannel();
        const waiter = entry.waiters.shift();
        if (waiter !== undefined) waiter.resolve(channel.port2);
        else entry.backlog.push(channel.port2);
        return transfer(channel.port1, [channel.port1]);
      },
    };
  }

  /** Resolves when `name` is monitored, or after `waitMs`, whichever comes first. */
  private listenedTo(name: string, waitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiters = this.awaitingListen.get(name) ?? new Set<() => void>();
      this.awaitingListen.set(name, waiters);
      const wake = (): void => {
        clearTimeout(timer);
        waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, waitMs);
      waiters.add(wake);
    });
  }

  private closeListening(name: string): void {
    const entry = this.listening.get(name);
    if (entry === undefined) return;
    this.listening.delete(name);
    for (const waiter of entry.waiters) waiter.reject(new SspiEmuError('NOT_LISTENING', `${name} is no longer monitored`));
    for (const port of entry.backlog) port.close();
  }

  private reaped(proc: AppProcess, tracePort: MessagePort, controlPorts: MessagePort[]): void {
    for (const [name, entry] of this.listening) if (entry.owner === proc) this.closeListening(name);
    this.trace.workerExited(tracePort);
    for (const port of controlPorts) port.close();
    if (this.lsa.alive) void this.lsa.detach(proc.pid).catch(() => undefined);
  }
}

async function startLsa(config: LsaConfig, trace: TraceCollector, options: MachineOptions): Promise<LsaProcess> {
  const control = new MessageChannel();
  const tracePorts = new MessageChannel();
  const workerData: LsaWorkerData = { config, controlPort: control.port2, tracePort: tracePorts.port2, trace: trace.isEnabled, tap: trace.isTapping };
  const worker = new Worker(new URL('../lsa/worker.js', import.meta.url), { workerData, transferList: [control.port2, tracePorts.port2], name: 'lsa' });
  const lsa = new LsaProcess(worker, wrapControl<LsaControl>(control.port1));
  trace.attach(tracePorts.port1, 'lsa');
  void lsa.exited.then(() => {
    trace.workerExited(tracePorts.port1);
    control.port1.close();
  });
  try {
    await waitForReady(worker, 'lsa', options.bootTimeoutMs ?? DEFAULTS.bootTimeoutMs);
  } catch (error) {
    await worker.terminate();
    throw new SspiEmuError('BOOT_FAILED', `the LSA did not start: ${describeError(error)}`, { cause: error });
  }
  return lsa;
}

/** Waits for a worker's Ready message; its boot-failed message, crash, exit or silence is an error. */
function waitForReady(worker: Worker, name: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${name} did not report Ready within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: BootMessage): void => {
      if (message.kind === 'ready') finish();
      else finish(rebuildError(message.error));
    };
    const onError = (error: Error): void => finish(error);
    const onExit = (code: number): void => finish(new Error(`${name} exited with code ${code} before it was ready`));
    function finish(error?: Error): void {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (error === undefined) resolve();
      else reject(error);
    }
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

function lsaConfig(options: MachineOptions): LsaConfig {
  const computerName = options.computerName ?? DEFAULTS.computerName;
  const domainName = options.domainName ?? computerName;
  const accounts = (options.accounts ?? DEMO_ACCOUNTS).map((a) => (typeof a === 'string' ? parseAccount(a, domainName) : a));
  return {
    packages: options.packages ?? [...DEFAULT_PACKAGES],
    accounts,
    computerName,
    dnsComputerName: `${computerName.toLowerCase()}.${options.dnsDomainName ?? DEFAULTS.dnsDomainName}`,
    domainName,
    dnsDomainName: options.dnsDomainName ?? DEFAULTS.dnsDomainName,
    packageCallTimeoutMs: options.packageCallTimeoutMs ?? DEFAULTS.packageCallTimeoutMs,
    packageSettings: Object.fromEntries(Object.entries(options.packageSettings ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
}

/** A proxy whose every method call goes to `remote` and races `death`. */
function guardedProxy<T extends object>(remote: T, death: Promise<never>): T {
  return new Proxy(remote, {
    get(target, property) {
      const member = (target as Record<string | symbol, unknown>)[property];
      if (typeof member !== 'function') return member;
      // Reflect.apply: a comlink proxy would take `.apply` for a remote property of that name.
      return (...args: unknown[]) => guard(Promise.resolve(Reflect.apply(member as (...a: unknown[]) => unknown, target, args)), death);
    },
  });
}
