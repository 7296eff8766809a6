// `sspi-emu chaos`: handshakes and messages from several client processes while a seeded random
// schedule crashes processes at named call points (the LSA included, which the machine then
// restarts), stalls them, mangles their LPC messages, and makes package entry points throw or
// hang. It reports what was injected, what completed, what failed with which status, hangs (must
// be 0), what the LSA still holds once every dead process was reaped (must be 0), and its heap.

import { seededRandom, type FaultPlan } from '../faults/index.js';
import { describeError } from '../ipc/index.js';
import { packagesAlongside } from '../lsa/index.js';
import { Machine, type AppProcess, type LsaIsolation } from '../machine/index.js';

export interface ChaosOptions {
  /** Where the LSA runs (MachineOptions.lsaIsolation); default a worker thread. */
  lsaIsolation?: LsaIsolation;
  /** The package's name as SecPkgInfo gives it ("Example", "NTLM"). */
  package: string;
  /** The package's entry in the Security Packages list ("example", "ntlm"). */
  spec: string;
  durationMs: number;
  seed: number;
  clients: number;
  /** Handshakes each client keeps going at once. */
  lanes: number;
  /** A fault every this many ms, on average. */
  faultIntervalMs: number;
  /** A handshake (with its messages) that takes longer than this is a hang. */
  hangMs: number;
  /**
   * Go on past durationMs until at least this many faults were injected and this many handshakes
   * completed (default 0): a run whose figures must not depend on how fast a loaded machine is.
   */
  atLeast?: { faults?: number; completed?: number };
  progress?: (elapsedMs: number, totalMs: number, summary: string) => void;
}

export interface ChaosReport {
  seed: number;
  package: string;
  durationMs: number;
  faults: Record<string, number>;
  handshakes: { completed: number; failed: number; byStatus: Record<string, number> };
  hangs: number;
  lsaRestarts: number;
  processesRespawned: number;
  /** What the LSA held after every app process was gone and reaped: all must be 0. */
  /** `nested`: handles packages held of other packages (Negotiate's NTLM credentials and contexts). */
  lsaLeft: { processes: number; credentials: number; contexts: number; logonSessions: number; nested: number };
  lsaHeap: { before: number; after: number };
}

const CALL_POINTS: Record<'client' | 'server', Array<[string, 'call' | 'return']>> = {
  client: [
    ['InitializeSecurityContext', 'call'],
    ['InitializeSecurityContext', 'return'],
    ['SpInitUserModeContext', 'call'],
    ['EncryptMessage', 'return'],
    ['DecryptMessage', 'call'],
    ['DeleteSecurityContext', 'call'],
  ],
  server: [
    ['AcceptSecurityContext', 'call'],
    ['AcceptSecurityContext', 'return'],
    ['SpInitUserModeContext', 'call'],
    ['DecryptMessage', 'return'],
    ['MakeSignature', 'call'],
  ],
};
// SpDeleteContext is left out: a package made to fail there keeps its own per-context state (the
// example package's network logon session), which no reaping by the LSA can release.
const PACKAGE_ENTRIES = ['SpAcquireCredentialsHandle', 'SpInitLsaModeContext', 'SpAcceptLsaModeContext'];
const LISTEN_NAME = 'chaos';

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const machine = await Machine.boot({
    packages: [options.spec, ...packagesAlongside(options.spec)],
    trace: false,
    packageCallTimeoutMs: 1_000,
    lpcTimeoutMs: 3_000,
    ...(options.lsaIsolation === undefined ? {} : { lsaIsolation: options.lsaIsolation }),
  });
  const report: ChaosReport = {
    seed: options.seed,
    package: options.package,
    durationMs: options.durationMs,
    faults: {},
    handshakes: { completed: 0, failed: 0, byStatus: {} },
    hangs: 0,
    lsaRestarts: 0,
    processesRespawned: 0,
    lsaLeft: { processes: 0, credentials: 0, contexts: 0, logonSessions: 0, nested: 0 },
    lsaHeap: { before: 0, after: 0 },
  };
  const count = (bucket: Record<string, number>, key: string): void => {
    bucket[key] = (bucket[key] ?? 0) + 1;
  };
  const account = machine.config.accounts[0]!;
  let stopping = false;
  /** Set while the LSA is down and being restarted: lanes wait for it instead of failing in a loop. */
  let lsaBack: Promise<void> | null = null;
  const deadline = Date.now() + options.durationMs;

  try {
    report.lsaHeap.before = (await machine.lsa.stats({ gc: true })).heapUsed;
    let server = await machine.spawn('server');
    const clients: AppProcess[] = [];
    for (let i = 0; i < options.clients; i++) clients.push(await machine.spawn('client'));

    // A spawn can meet the LSA's death (a kill-lsa fault): wait for the restart and try again.
    const spawn = async (role: 'client' | 'server', name: string): Promise<AppProcess> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await machine.spawn(role, { name });
        } catch (error) {
          if (attempt >= 5) throw error;
          if (lsaBack !== null) await lsaBack;
        }
      }
    };

    // The server serves until it is killed; then a new one takes over the name.
    const serverLoop = (async () => {
      while (!stopping) {
        const current = server;
        await current.runApp(null, { name: LISTEN_NAME, package: options.package, connections: 0 }).catch(() => undefined);
        if (stopping) break;
        if (current.alive) await machine.kill(current);
        server = await spawn('server', `server-${++report.processesRespawned}`);
      }
    })();

    // A dead client is replaced once, however many of its lanes notice.
    const respawning = new Map<number, Promise<void>>();
    const respawnClient = (slot: number, dead: AppProcess): Promise<void> => {
      let pending = respawning.get(slot);
      if (pending === undefined) {
        pending = (async () => {
          await machine.kill(dead);
          if (clients[slot] === dead) clients[slot] = await spawn('client', `client-${++report.processesRespawned}`);
        })().finally(() => respawning.delete(slot));
        respawning.set(slot, pending);
      }
      return pending;
    };

    // Each client lane runs the default client app (connect, handshake, messages, delete) again and again.
    const lane = async (slot: number): Promise<void> => {
      while (!stopping) {
        if (lsaBack !== null) await lsaBack;
        const client = clients[slot]!;
        let timer: NodeJS.Timeout | undefined;
        const watchdog = new Promise<'hang'>((resolve) => {
          timer = setTimeout(() => resolve('hang'), options.hangMs);
        });
        const run = client
          .runApp(null, {
            server: LISTEN_NAME,
            package: options.package,
            user: account.user,
            domain: account.domain,
            password: account.password,
            messages: 2,
            connectWaitMs: 2_000,
          })
          .then(
            (r) => r.statusName,
            (e: unknown) => `process died (${describeError(e).split(':')[0]})`,
          );
        const outcome = await Promise.race([run, watchdog]);
        clearTimeout(timer);
        if (outcome === 'hang') report.hangs++;
        else if (outcome === 'SEC_E_OK') report.handshakes.completed++;
        else {
          report.handshakes.failed++;
          count(report.handshakes.byStatus, outcome);
        }
        if (!client.alive) await respawnClient(slot, client);
      }
    };
    const lanes: Promise<void>[] = [];
    for (let c = 0; c < options.clients; c++) for (let l = 0; l < options.lanes; l++) lanes.push(lane(c));

    // The schedule: one fault at a time, drawn from the seed, until the deadline (and the minimums).
    const injected = (): number => Object.values(report.faults).reduce((a, b) => a + b, 0);
    const more = (): boolean =>
      Date.now() < deadline || injected() < (options.atLeast?.faults ?? 0) || report.handshakes.completed < (options.atLeast?.completed ?? 0);
    while (more()) {
      await new Promise<void>((resolve) => setTimeout(resolve, options.faultIntervalMs * (0.5 + random())).unref());
      if (!more()) break;
      const kind = pick(['kill-client', 'kill-server', 'kill-lsa', 'stall', 'lpc', 'package-throw', 'package-hang'] as const);
      count(report.faults, kind);
      try {
        if (kind === 'kill-client' || kind === 'kill-server') {
          const target = kind === 'kill-client' ? pick(clients) : server;
          const [call, phase] = pick(CALL_POINTS[kind === 'kill-client' ? 'client' : 'server']);
          await target.injectFaults({ killAt: { call, phase, nth: 1 + Math.floor(random() * 3) } });
        } else if (kind === 'kill-lsa') {
          let back = (): void => undefined;
          lsaBack = new Promise<void>((resolve) => (back = resolve));
          try {
            await machine.kill(machine.lsa);
            await machine.restartLsa();
            report.lsaRestarts++;
          } finally {
            lsaBack = null;
            back();
          }
          // The server's credential handle died with the old LSA: a new server process takes over.
          await machine.kill(server);
        } else if (kind === 'stall') {
          const target = pick([server, ...clients]);
          const [call, phase] = pick(CALL_POINTS[target.role]);
          await target.injectFaults({ stallAt: { call, phase, ms: 100 + Math.floor(random() * 300) } });
        } else if (kind === 'lpc') {
          const target = pick([server, ...clients]);
          const plan: FaultPlan = { lpc: { seed: Math.floor(random() * 2 ** 31), drop: 0.03, duplicate: 0.05, delay: 0.05, delayMs: 20, reorder: 0.05 } };
          await target.injectFaults(plan);
          setTimeout(() => void target.injectFaults(null).catch(() => undefined), options.faultIntervalMs).unref();
        } else {
          await machine.lsa.injectFaults({
            packageFault: {
              package: options.package,
              entry: pick(PACKAGE_ENTRIES),
              kind: kind === 'package-throw' ? 'throw' : 'hang',
              count: 1 + Math.floor(random() * 3),
            },
          });
        }
      } catch {
        count(report.faults, `${kind} (target already gone)`);
      }
      options.progress?.(
        options.durationMs - (deadline - Date.now()),
        options.durationMs,
        `${report.handshakes.completed} ok, ${report.handshakes.failed} failed, ${report.hangs} hangs`,
      );
    }

    stopping = true;
    await Promise.all(lanes);
    if (!machine.lsa.alive) {
      await machine.restartLsa();
      report.lsaRestarts++;
    }
    await machine.lsa.injectFaults(null);
    // Every app process goes; the LSA must reap all they held. The server loop may be spawning a
    // replacement as it stops: once it has ended, whatever it spawned goes too.
    for (const proc of machine.running) await machine.kill(proc);
    await serverLoop;
    await Promise.all(respawning.values());
    for (const proc of machine.running) await machine.kill(proc);
    const after = await machine.lsa.stats({ gc: true });
    report.lsaLeft = {
      processes: after.processes,
      credentials: after.credentials,
      contexts: after.contexts,
      logonSessions: after.logonSessions,
      nested: after.nested.contexts + after.nested.credentials,
    };
    report.lsaHeap.after = after.heapUsed;
    return report;
  } finally {
    stopping = true;
    await machine.shutdown();
  }
}
