// Views of a trace: a timeline to read in a terminal, a Mermaid sequence diagram of the
// handshake, and Trace Event Format JSON (chrome://tracing, Perfetto) with one track per process.

import type { TraceEvent } from '../ipc/index.js';

/** API calls an app process makes that cross to the LSA (the rest run in the process). */
const MESSAGE_APIS = new Set(['MakeSignature', 'VerifySignature', 'EncryptMessage', 'DecryptMessage']);
const USER_MODE_ENTRIES = new Set(['SpUserModeInitialize', 'SpInstanceInit', 'SpInitUserModeContext', 'SpDeleteUserModeContext', 'LsaCallbackFunction']);

/**
 * Who recorded an event, as a diagram names its lifeline: the process ("client", "lsa"), or, in a
 * timeline merged from several machines, the machine and the process ("member lsa"); with
 * `process`, that process of the event's machine (its LSA, the peer it names).
 */
export function participantOf(e: TraceEvent, process: string = e.process): string {
  return e.machine === undefined ? process : `${e.machine} ${process}`;
}

/** Whether a lifeline is an LSA's ("lsa", "dc lsa"). */
export function isLsaParticipant(name: string): boolean {
  return name === 'lsa' || name.endsWith(' lsa');
}

function tokenBytes(base64: string | undefined): number | undefined {
  return base64 === undefined ? undefined : Buffer.from(base64, 'base64').length;
}

/**
 * A readable timeline: one line per event, indented by call depth. The LSA serves several
 * processes at once, so its depth is kept per process it works for. Events merged from several
 * machines (each with its `machine`: run --domain) get a machine column, and their depths are
 * kept per machine.
 */
export function formatTimeline(events: readonly TraceEvent[]): string {
  const depth = new Map<string, number>();
  const depthKey = (e: TraceEvent): string => `${e.machine ?? ''}|${e.process}|${e.process === 'lsa' ? (e.peer ?? '') : ''}`;
  const processWidth = Math.max(7, ...events.map((e) => e.process.length));
  const machines = events.some((e) => e.machine !== undefined);
  const machineWidth = machines ? Math.max(7, ...events.map((e) => (e.machine ?? '').length)) : 0;
  const machineColumn = (name: string): string => (machines ? `${name.padEnd(machineWidth)}  ` : '');
  const lines = [`${'t (ms)'.padStart(9)}  ${machineColumn('machine')}${'process'.padEnd(processWidth)}  tid  call`];
  for (const e of events) {
    let d = depth.get(depthKey(e)) ?? 0;
    if (e.phase === 'return') d = Math.max(0, d - 1);
    const arrow = e.phase === 'call' ? '-> ' : e.phase === 'return' ? '<- ' : '** ';
    const parts = [`${'  '.repeat(d)}${arrow}${e.call}`];
    if (e.peer !== undefined) parts.push(e.phase === 'return' ? `(to ${e.peer})` : `(for ${e.peer})`);
    if (e.status !== undefined) parts.push(e.status);
    const tin = tokenBytes(e.tokenIn);
    const tout = tokenBytes(e.tokenOut);
    if (tin !== undefined) parts.push(`token in ${tin} B`);
    if (tout !== undefined) parts.push(`token out ${tout} B`);
    if (e.detail !== undefined) parts.push(`[${e.detail}]`);
    lines.push(
      `${e.t.toFixed(3).padStart(9)}  ${machineColumn(e.machine ?? '')}${e.process.padEnd(processWidth)}  ${String(e.threadId).padStart(3)}  ${parts.join('  ')}`,
    );
    // A package's stack under the return that carries it, in the column of the call.
    if (e.stack !== undefined)
      for (const frame of stackFrames(e.stack)) lines.push(`${' '.repeat(16 + processWidth + (machines ? machineWidth + 2 : 0))}${'  '.repeat(d + 2)}${frame}`);
    if (e.phase === 'call') d++;
    depth.set(depthKey(e), d);
  }
  return lines.join('\n');
}

/** The frames of a stack ("at f (file:line:col)"), without the message line(s) above them. */
export function stackFrames(stack: string): string[] {
  return stack
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('at ') || line === '...');
}

/**
 * A Mermaid sequence diagram: app calls that cross to the LSA and back, MappedContext and the
 * user-mode initialization in the app process, tokens forwarded between client and server, and
 * the message phase that stays in-process. Events merged from several machines are drawn with a
 * lifeline per machine's process ("member lsa"), each app process calling its own machine's LSA;
 * requests an LSA answers from the network (a DC's AS-REQ) are notes on its lifeline.
 */
export function formatMermaid(events: readonly TraceEvent[]): string {
  const who = participantOf;
  const processOf = new Map<string, string>();
  for (const e of events) if (!processOf.has(who(e))) processOf.set(who(e), e.process);
  const participants = [...processOf.keys()];
  const apps = participants.filter((p) => processOf.get(p) !== 'lsa');
  const clients = apps.filter((p) => processOf.get(p)!.startsWith('client'));
  const servers = apps.filter((p) => processOf.get(p)!.startsWith('server'));
  // LSAs between the clients and the servers: a client's machine's first, a server's last.
  const machineOf = (p: string): string => p.slice(0, p.length - processOf.get(p)!.length);
  const rank = (lsa: string): number =>
    clients.some((c) => machineOf(c) === machineOf(lsa)) ? 0 : servers.some((s) => machineOf(s) === machineOf(lsa)) ? 2 : 1;
  const lsas = participants.filter((p) => processOf.get(p) === 'lsa').sort((a, b) => rank(a) - rank(b));
  const order = [...clients, ...(lsas.length === 0 ? ['lsa'] : lsas), ...servers, ...apps.filter((p) => !clients.includes(p) && !servers.includes(p))];
  const lines = ['sequenceDiagram', ...order.filter((p) => processOf.has(p)).map((p) => `    participant ${id(p)} as ${p}`)];
  const peerOf = (p: string): string | undefined => (processOf.get(p)!.startsWith('client') ? servers[0] : clients[0]);

  for (const e of events) {
    const me = id(who(e));
    const lsa = id(who(e, 'lsa'));
    if (e.process === 'lsa') {
      if (e.peer === undefined) continue;
      const peer = who(e, e.peer);
      if (!processOf.has(peer) && e.machine !== undefined) {
        // A request from the network (a KDC's AS-REQ from 127.0.0.1:PORT): its result on the lifeline.
        if (e.phase === 'return') lines.push(`    Note over ${me}: ${e.call} from ${e.peer}: ${e.status ?? ''}`);
        continue;
      }
      if (e.call.startsWith('Sp') && e.phase === 'call') lines.push(`    ${me}->>${me}: ${e.call}`);
      else if (e.call === 'MappedContext') lines.push(`    Note over ${me},${id(peer)}: MappedContext intercepted, ContextData to ${e.peer}`);
      else if (!e.call.startsWith('Sp') && e.phase === 'call') lines.push(`    ${me}->>${id(peer)}: ${e.call}`);
      else if (!e.call.startsWith('Sp') && e.phase === 'return') lines.push(`    ${id(peer)}-->>${me}: ${e.status ?? ''}`);
      continue;
    }
    if (USER_MODE_ENTRIES.has(e.call) && e.phase === 'call') {
      lines.push(`    ${me}->>${me}: ${e.call}`);
    } else if (MESSAGE_APIS.has(e.call) && e.phase === 'return') {
      lines.push(`    ${me}->>${me}: ${e.call} ${e.status ?? ''} (no LPC)`);
      const peer = peerOf(who(e));
      if (peer !== undefined && (e.call === 'EncryptMessage' || e.call === 'MakeSignature'))
        lines.push(`    ${me}->>${id(peer)}: ${e.call === 'EncryptMessage' ? 'sealed' : 'signed'} message`);
    } else if (e.phase === 'call' && !MESSAGE_APIS.has(e.call) && /^[A-Z]/.test(e.call) && !e.call.startsWith('Sp') && isApi(e.call)) {
      const tin = tokenBytes(e.tokenIn);
      lines.push(`    ${me}->>${lsa}: ${e.call}${tin === undefined ? '' : ` (token ${tin} B)`}`);
    } else if (e.phase === 'return' && isApi(e.call) && !MESSAGE_APIS.has(e.call)) {
      const tout = tokenBytes(e.tokenOut);
      lines.push(`    ${lsa}-->>${me}: ${e.status ?? ''}${tout === undefined ? '' : `, token ${tout} B`}`);
      const peer = peerOf(who(e));
      if (tout !== undefined && peer !== undefined) lines.push(`    ${me}->>${id(peer)}: token (${tout} B)`);
    }
  }
  return lines.join('\n') + '\n';
}

const LPC_APIS = new Set([
  'EnumerateSecurityPackages',
  'QuerySecurityPackageInfo',
  'AcquireCredentialsHandle',
  'FreeCredentialsHandle',
  'InitializeSecurityContext',
  'AcceptSecurityContext',
  'DeleteSecurityContext',
  'ApplyControlToken',
  'QueryCredentialsAttributes',
]);
function isApi(call: string): boolean {
  return LPC_APIS.has(call);
}

function id(process: string): string {
  return process.replace(/[^A-Za-z0-9]/g, '_');
}

interface ChromeEvent {
  name: string;
  cat: string;
  ph: 'X' | 'i' | 'M';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: 't';
  args?: Record<string, unknown>;
}

/**
 * Trace Event Format: each call/return pair is one complete ('X') event on its process's track.
 * Events merged from several machines get a track per machine's process (their emulated pids
 * repeat from machine to machine, so each machine's are numbered anew).
 */
export function toChromeTrace(events: readonly TraceEvent[]): { traceEvents: ChromeEvent[]; displayTimeUnit: 'ms' } {
  const out: ChromeEvent[] = [];
  const seen = new Set<number>();
  const open = new Map<string, TraceEvent[]>();
  const tracks = new Map<string, number>();
  const pidOf = (e: TraceEvent): number => {
    if (e.machine === undefined) return e.pid;
    const key = `${e.machine}|${e.pid}`;
    if (!tracks.has(key)) tracks.set(key, tracks.size + 1);
    return tracks.get(key)!;
  };
  for (const e of events) {
    const pid = pidOf(e);
    const name = e.machine === undefined ? e.process : `${e.machine} ${e.process}`;
    if (!seen.has(pid)) {
      seen.add(pid);
      out.push({ name: 'process_name', cat: '__metadata', ph: 'M', ts: 0, pid, tid: e.threadId, args: { name: `${name} (pid ${e.pid})` } });
      out.push({ name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid, tid: e.threadId, args: { name: `${name} thread ${e.threadId}` } });
    }
    const key = `${pid}:${e.call}`;
    if (e.phase === 'call') {
      const stack = open.get(key) ?? [];
      stack.push(e);
      open.set(key, stack);
    } else if (e.phase === 'return' && (open.get(key)?.length ?? 0) > 0) {
      const start = open.get(key)!.pop()!;
      out.push({
        name: e.call,
        cat: category(e.call),
        ph: 'X',
        ts: start.t * 1000,
        dur: Math.max(0, (e.t - start.t) * 1000),
        pid,
        tid: e.threadId,
        args: args(start, e),
      });
    } else {
      out.push({ name: e.call, cat: category(e.call), ph: 'i', s: 't', ts: e.t * 1000, pid, tid: e.threadId, args: args(e) });
    }
  }
  for (const stack of open.values())
    for (const e of stack) out.push({ name: e.call, cat: category(e.call), ph: 'i', s: 't', ts: e.t * 1000, pid: pidOf(e), tid: e.threadId, args: args(e) });
  return { traceEvents: out, displayTimeUnit: 'ms' };
}

function category(call: string): string {
  if (USER_MODE_ENTRIES.has(call)) return 'user-mode';
  if (call.startsWith('Sp')) return 'package';
  if (isApi(call) || MESSAGE_APIS.has(call) || call === 'QueryContextAttributes' || call === 'CompleteAuthToken') return 'sspi';
  return 'event';
}

function args(...es: TraceEvent[]): Record<string, unknown> {
  const a: Record<string, unknown> = {};
  for (const e of es) {
    for (const k of ['status', 'peer', 'detail', 'stack', 'tokenIn', 'tokenOut'] as const) if (e[k] !== undefined) a[k] = e[k];
  }
  return a;
}
