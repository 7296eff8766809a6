// One complete run, as `sspi-emu run` and `npm start` show it: boot the machine, spawn a server
// that monitors a name and a client that connects to it, run one handshake through the LSA and N
// sealed and N signed messages, and report the statuses, the trace and the LPC message counts of
// each phase.

import { SEC_E_INTERNAL_ERROR, SEC_E_OK, statusName, type Status } from '../headers/index.js';
import { describeError, type TraceEvent } from '../ipc/index.js';
import type { AppResult } from '../process/index.js';
import { INSPECT_DEADLINE_MS, Machine, type AppProcess, type MachineOptions } from '../machine/index.js';
import { klist, type KlistReport } from './klist.js';

export interface DemoOptions extends MachineOptions {
  /** The package both sides use (its SecPkgInfo name). */
  package?: string;
  /** The client's explicit credentials; the default is the first account's. */
  user?: string;
  domain?: string;
  password?: string;
  /** The client's InitializeSecurityContext target (a Kerberos service: host/server or host@server). */
  targetName?: string;
  messages?: number;
  /** Module paths of the applications to run instead of the defaults. */
  clientApp?: string | null;
  serverApp?: string | null;
  /**
   * How long each application waits for its peer's next message (the apps' default, 30 s; while
   * a process is inspected, INSPECT_DEADLINE_MS, as the machine's deadlines).
   */
  receiveTimeoutMs?: number;
  /**
   * klist after the run: the client runs as the first account's logon (logonAs) and authenticates
   * with it (no explicit credentials: `user`, `domain` and `password` must be absent), and its
   * logon's Kerberos ticket cache is read as Windows' klist reads it (scenarios/klist.ts).
   */
  klist?: boolean;
}

export interface DemoReport {
  /** The status that failed first (the other side's failure may only follow from it), or SEC_E_OK. */
  status: Status;
  statusName: string;
  /** Whose failure `status` is: the side that failed first, or null when the run succeeded. */
  failedFirst: 'client' | 'server' | null;
  client: AppResult | null;
  server: AppResult | null;
  events: TraceEvent[];
  /** LPC messages (both directions, counted at the client's and server's channels) per phase. */
  lpc: { handshake: number; messages: number };
  error?: string;
  /**
   * The LSA ended during the run (a package took it down: a stray rejection or throw outside any
   * entry point, process.exit), and what it died of when it said: the processes' failures (their
   * LPC channel closed) only follow from it.
   */
  lsaExited?: string;
  /** With `klist`: the client's logon's ticket cache after the run. */
  klist?: KlistReport;
}

const LISTEN_NAME = 'sspi-demo';

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const machine = await Machine.boot(options);
  try {
    return (await runDemoOn(machine, options)).report;
  } finally {
    await machine.shutdown();
  }
}

/**
 * One run on a machine already booted (`run --watch` runs one after each reload): a server and a
 * client process named `server` and `client`, the handshake and the messages; the processes are
 * left running (the caller kills them).
 */
export async function runDemoOn(machine: Machine, options: DemoOptions): Promise<{ report: DemoReport; processes: AppProcess[] }> {
  const pkgName = options.package ?? (await defaultPackageName(machine));
  const firstAccount = machine.config.accounts[0];
  const server = await machine.spawn('server', { name: 'server' });
  // klist reads a logon's cache: the client runs as the first account and authenticates as its logon.
  const logonAs = options.klist === true ? (firstAccount?.user ?? null) : null;
  const client = await machine.spawn('client', logonAs === null ? { name: 'client' } : { name: 'client', logonAs });
  // A machine being debugged waits long for a peer paused at a breakpoint.
  const inspecting = (options.inspect?.length ?? 0) > 0;
  const receiveTimeoutMs = options.receiveTimeoutMs ?? (inspecting ? INSPECT_DEADLINE_MS : undefined);
  const waits = receiveTimeoutMs === undefined ? {} : { receiveTimeoutMs };
  const serverRun = server.runApp(options.serverApp ?? null, { name: LISTEN_NAME, package: pkgName, connections: 1, ...waits });
  // The phases are told apart by the handshake's end, which the client app marks in the trace.
  const clientRun = client.runApp(options.clientApp ?? null, {
    server: LISTEN_NAME,
    package: pkgName,
    ...(logonAs !== null
      ? {}
      : {
          user: options.user ?? firstAccount?.user ?? 'alice',
          domain: options.domain ?? firstAccount?.domain ?? '',
          password: options.password ?? firstAccount?.password ?? '',
        }),
    messages: options.messages ?? 3,
    ...(options.targetName === undefined ? {} : { targetName: options.targetName }),
    ...waits,
  });
  const [clientResult, serverResult] = await Promise.allSettled([clientRun, serverRun]);
  const events = await machine.events();
  const clientApp = clientResult.status === 'fulfilled' ? clientResult.value : null;
  const serverApp = serverResult.status === 'fulfilled' ? serverResult.value : null;
  const failedFirst = firstFailure(clientApp, serverApp);
  const status: Status = failedFirst === null ? SEC_E_OK : failedFirst === 'client' ? (clientApp?.status ?? SEC_E_INTERNAL_ERROR) : serverApp!.status;
  const report: DemoReport = { status, statusName: statusName(status), failedFirst, client: clientApp, server: serverApp, events, lpc: countLpc(events) };
  const failure = [clientResult, serverResult].find((r) => r.status === 'rejected');
  if (failure !== undefined && failure.status === 'rejected') report.error = describeError(failure.reason);
  if (failedFirst !== null && (await lsaGone(machine))) {
    const crash = machine.lsa.crashError;
    report.lsaExited = `the LSA (pid ${machine.lsa.pid}) exited during the run${crash === undefined ? '' : `: ${describeError(crash)}`}`;
  }
  if (logonAs !== null && client.alive) report.klist = await klist(client);
  return { report, processes: [server, client] };
}

/**
 * Whether the LSA is gone, for a run that failed: its processes may learn it (their channel closed)
 * before the machine has the worker's exit, so a live-looking LSA is asked; one that does not
 * answer for its death's sake is waited for until it has exited, and one that is only slow counts
 * as alive after 2 s.
 */
async function lsaGone(machine: Machine): Promise<boolean> {
  if (!machine.lsa.alive) return true;
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(!machine.lsa.alive), 2_000);
  });
  const asked = machine.lsa.stats().then(
    () => false,
    () => Promise.race([machine.lsa.exited.then(() => true), slow]),
  );
  try {
    return await Promise.race([asked, slow]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Which side failed first. A side that failed because its peer did (it hung up, or sent its own
 * failure: AppResult.afterPeer) is not the one: the client's SEC_E_INVALID_HANDLE, not the
 * server's SEC_E_INTERNAL_ERROR after the client hung up. When both or neither say so, the
 * server's verdict wins: a wrong password is the server's call (SEC_E_LOGON_DENIED). A client
 * that succeeded makes the run a success.
 */
export function firstFailure(client: AppResult | null, server: AppResult | null): 'client' | 'server' | null {
  if (client?.status === SEC_E_OK) return null;
  if (client === null) return server !== null && server.status !== SEC_E_OK && server.afterPeer !== true ? 'server' : 'client';
  if (server === null || server.status === SEC_E_OK) return 'client';
  if (client.afterPeer !== true && server.afterPeer === true) return 'client';
  return 'server';
}

async function defaultPackageName(machine: Machine): Promise<string> {
  const report = await machine.lsa.packages();
  const first = report.loaded[0];
  if (first === undefined) throw new Error(`no package loaded: ${report.failed.map((f) => `${f.spec}: ${f.reason}`).join('; ')}`);
  return first.name;
}

/**
 * LPC messages of each phase, counted at the app processes' LPC channels (both directions): each
 * app marks the end of its handshake and of its message phase with its channel's count.
 */
function countLpc(events: readonly TraceEvent[]): { handshake: number; messages: number } {
  const marks = new Map<string, { handshake?: number; messages?: number }>();
  for (const e of events) {
    if (e.call !== 'Phase' || e.lpc === undefined || (e.detail !== 'handshake' && e.detail !== 'messages')) continue;
    const m = marks.get(e.process) ?? {};
    m[e.detail] = e.lpc;
    marks.set(e.process, m);
  }
  const counts = { handshake: 0, messages: 0 };
  for (const m of marks.values()) {
    counts.handshake += m.handshake ?? 0;
    if (m.messages !== undefined && m.handshake !== undefined) counts.messages += m.messages - m.handshake;
  }
  return counts;
}
