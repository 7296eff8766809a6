// `sspi-emu chaos --scenario domain`: a domain controller that dies or stalls in the middle of its
// work, while a member server's clients keep authenticating through it. Two kinds of lanes run
// all along:
//   NTLM lanes      a client process on the member authenticates as a domain user to a server
//                   process on the member, whose NTLM passes each logon through to the DC's
//                   Netlogon (the default apps, as `chaos` runs them: handshake, messages, delete)
//   Kerberos lanes  the same with the Kerberos package: each run's explicit credential gets a TGT
//                   (AS exchange) and a service ticket (TGS exchange) from the KDC in the DC's LSA,
//                   and the member's server opens the ticket with the keytab the DC exported
// and a seeded schedule, fault after fault, round-robin over {kill, stall} x {NetrLogonSamLogonEx,
// AS-REQ, TGS-REQ}: the DC's LSA is killed at that call point when a request reaches it (and
// restarted on its ports, as a rebooted DC comes back) or stalled there (its thread blocked, for
// less or more than the member's Netlogon deadline). What must hold, whatever the schedule:
//   - nothing hangs: each attempt ends within its deadline (the member's join.timeoutMs, the KDC
//     client's), and the longest failure is reported;
//   - a failure is SEC_E_NO_AUTHENTICATING_AUTHORITY and nothing else: a member whose DC does not
//     answer says so (STATUS_NO_LOGON_SERVERS inside), and so does the Kerberos package when no KDC
//     answers; every other outcome is counted as unexpected;
//   - the domain recovers: once the schedule ends and the DC is back, every lane succeeds again.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../faults/index.js';
import { describeError } from '../ipc/index.js';
import { Machine, type AppProcess, type LsaIsolation } from '../machine/index.js';

export interface DomainChaosOptions {
  lsaIsolation?: LsaIsolation;
  durationMs: number;
  seed: number;
  /** NTLM lanes (client processes on the member) and Kerberos lanes (KDC clients), each. */
  lanes: number;
  /** A fault every this many ms, on average. */
  faultIntervalMs: number;
  /** The member's Netlogon deadline and its Kerberos package's (kdcTimeoutMs). */
  timeoutMs: number;
  /** An attempt that takes longer than this is a hang. */
  hangMs: number;
  /** Go on past durationMs until at least this many faults were injected (a run whose figures must not depend on the machine's speed). */
  atLeast?: { faults?: number };
  progress?: (elapsedMs: number, totalMs: number, summary: string) => void;
}

export interface DomainChaosReport {
  seed: number;
  durationMs: number;
  /** Faults by kind and call point ("kill NetrLogonSamLogonEx", "stall AS-REQ 2100 ms" counted as "stall AS-REQ"). */
  faults: Record<string, number>;
  /** Kills that no request reached before the next fault (the plan was withdrawn). */
  notReached: number;
  ntlm: LaneCounts;
  kerberos: LaneCounts;
  hangs: number;
  /** Outcomes that are neither success nor SEC_E_NO_AUTHENTICATING_AUTHORITY, by what they were. */
  unexpected: Record<string, number>;
  /** The longest an attempt that failed took, in ms: within the deadline, or it would be a hang. */
  slowestFailureMs: number;
  dcRestarts: number;
  /** After the schedule, with the DC back: one NTLM logon and one AS and TGS exchange succeeded. */
  recovered: boolean;
}

export interface LaneCounts {
  completed: number;
  failed: number;
  byStatus: Record<string, number>;
}

const LISTEN_NTLM = 'domain-chaos-ntlm';
const LISTEN_KERBEROS = 'domain-chaos-kerberos';
const SERVICE = 'host/member.example.test';
const USER = { user: 'alice', domain: 'EXAMPLE', password: 'Domain-Passw0rd!' };
const REALM = 'EXAMPLE.TEST';
const POINTS = ['NetrLogonSamLogonEx', 'AS-REQ', 'TGS-REQ'] as const;
const NO_AUTHORITY = 'SEC_E_NO_AUTHENTICATING_AUTHORITY';
/** How long a lane waits after a failed attempt before the next. */
const RETRY_PAUSE_MS = 50;

export async function runDomainChaos(options: DomainChaosOptions): Promise<DomainChaosReport> {
  const random = seededRandom(options.seed);
  const isolation = options.lsaIsolation === undefined ? {} : { lsaIsolation: options.lsaIsolation };
  const report: DomainChaosReport = {
    seed: options.seed,
    durationMs: options.durationMs,
    faults: {},
    notReached: 0,
    ntlm: { completed: 0, failed: 0, byStatus: {} },
    kerberos: { completed: 0, failed: 0, byStatus: {} },
    hangs: 0,
    unexpected: {},
    slowestFailureMs: 0,
    dcRestarts: 0,
    recovered: false,
  };
  const count = (bucket: Record<string, number>, key: string): void => {
    bucket[key] = (bucket[key] ?? 0) + 1;
  };
  const dc = await Machine.boot({
    role: 'domain-controller',
    realm: REALM,
    accounts: [`${USER.user}:${USER.password}`],
    services: [SERVICE],
    machineAccounts: ['MEMBER:member-secret'],
    packages: ['ntlm'],
    trace: false,
    ...isolation,
  });
  let member: Machine | undefined;
  let stopping = false;
  // The member's service key: the keytab the DC exports, as ktpass makes one.
  const dir = await mkdtemp(join(tmpdir(), 'sspi-emu-domain-chaos-'));
  try {
    const keytab = join(dir, 'member.keytab');
    await writeFile(keytab, await dc.lsa.exportKeytab(), { mode: 0o600 });
    member = await Machine.boot({
      join: { domain: REALM, dc: dc.netlogonAddress!, machineAccount: 'MEMBER:member-secret', timeoutMs: options.timeoutMs },
      accounts: [],
      packages: ['ntlm', 'kerberos'],
      packageSettings: { kerberos: { realm: REALM, kdc: `${dc.kdcAddress!.host}:${dc.kdcAddress!.port}`, keytab, kdcTimeoutMs: options.timeoutMs } },
      trace: false,
      packageCallTimeoutMs: options.timeoutMs + 2_000,
      ...isolation,
    });
    const servers = [await member.spawn('server'), await member.spawn('server')];
    const serving = [
      servers[0]!.runApp(null, { name: LISTEN_NTLM, package: 'NTLM', connections: 0 }).catch(() => undefined),
      servers[1]!.runApp(null, { name: LISTEN_KERBEROS, package: 'Kerberos', connections: 0 }).catch(() => undefined),
    ];
    const clients: AppProcess[] = [];
    for (let i = 0; i < 2 * options.lanes; i++) clients.push(await member.spawn('client'));

    /** One attempt, raced against the hang watchdog; its outcome's status and how long it took. */
    const attempt = async (work: () => Promise<string>): Promise<{ status: string | 'hang'; ms: number }> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const watchdog = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), options.hangMs)));
      const status = await Promise.race([work(), watchdog]);
      clearTimeout(timer);
      return { status, ms: performance.now() - started };
    };
    /** One run of the default client app, a fresh explicit credential each: NTLM's logon passed through; Kerberos's TGT and ticket asked for. */
    const runOnce = (client: AppProcess, kerberos: boolean): Promise<string> =>
      client
        .runApp(null, {
          server: kerberos ? LISTEN_KERBEROS : LISTEN_NTLM,
          package: kerberos ? 'Kerberos' : 'NTLM',
          ...(kerberos ? { user: USER.user, domain: REALM, password: USER.password, targetName: SERVICE } : USER),
          messages: 1,
          connectWaitMs: 2_000,
        })
        .then(
          (r) => r.statusName,
          (e: unknown) => `client failed: ${describeError(e).slice(0, 80)}`,
        );
    const record = (counts: LaneCounts, outcome: { status: string; ms: number }): void => {
      if (outcome.status === 'hang') report.hangs++;
      else if (outcome.status === 'SEC_E_OK') counts.completed++;
      else {
        counts.failed++;
        count(counts.byStatus, outcome.status);
        report.slowestFailureMs = Math.max(report.slowestFailureMs, Math.round(outcome.ms));
        if (outcome.status !== NO_AUTHORITY) count(report.unexpected, outcome.status);
      }
    };
    // A client whose attempt failed tries again after a pause, as clients do (a refused port fails at once: without it, lanes would spin).
    const lane = async (counts: LaneCounts, once: () => Promise<string>): Promise<void> => {
      while (!stopping) {
        const outcome = await attempt(once);
        record(counts, outcome);
        if (outcome.status !== 'SEC_E_OK') await new Promise<void>((resolve) => setTimeout(resolve, RETRY_PAUSE_MS).unref());
      }
    };
    const lanes: Promise<void>[] = [];
    clients.forEach((client, i) => {
      const kerberos = i % 2 === 1;
      lanes.push(lane(kerberos ? report.kerberos : report.ntlm, () => runOnce(client, kerberos)));
    });

    // The schedule: round-robin over {kill, stall} x the DC's call points, the timing from the seed.
    const deadline = Date.now() + options.durationMs;
    const injected = (): number => Object.values(report.faults).reduce((a, b) => a + b, 0);
    const more = (): boolean => Date.now() < deadline || injected() < (options.atLeast?.faults ?? 0);
    for (let i = 0; more(); i++) {
      await new Promise<void>((resolve) => setTimeout(resolve, options.faultIntervalMs * (0.5 + random())).unref());
      if (!more()) break;
      const kind = Math.floor(i / POINTS.length) % 2 === 0 ? 'kill' : 'stall';
      const call = POINTS[i % POINTS.length]!;
      count(report.faults, `${kind} ${call}`);
      if (kind === 'kill') {
        await dc.lsa.injectFaults({ killAt: { call, phase: 'call', nth: 1 } });
        // Killed when a request reaches the point; withdrawn if none does in time.
        const died = await Promise.race([
          dc.lsa.exited.then(() => true),
          new Promise<false>((resolve) => setTimeout(() => resolve(false), 4 * options.timeoutMs).unref()),
        ]);
        if (!died) {
          report.notReached++;
          await dc.lsa.injectFaults(null);
          continue;
        }
        // Down a moment, as a rebooting DC is: the lanes' attempts meanwhile must fail with the status, not hang.
        await new Promise<void>((resolve) => setTimeout(resolve, options.timeoutMs / 2).unref());
        await dc.restartLsa();
        report.dcRestarts++;
      } else {
        // Shorter or longer than the member's deadline: a slow DC, or one the member gives up on.
        const ms = Math.round(options.timeoutMs * (0.5 + 2 * random()));
        await dc.lsa.injectFaults({ stallAt: { call, phase: 'call', ms, nth: 1 } });
      }
      options.progress?.(
        options.durationMs - (deadline - Date.now()),
        options.durationMs,
        `NTLM ${report.ntlm.completed} ok / ${report.ntlm.failed} failed, Kerberos ${report.kerberos.completed} ok / ${report.kerberos.failed} failed`,
      );
    }
    stopping = true;
    await Promise.all(lanes);
    if (!dc.lsa.alive) {
      await dc.restartLsa();
      report.dcRestarts++;
    }
    await dc.lsa.injectFaults(null);
    // Recovery: with the DC back and no fault planned, each kind of lane succeeds again.
    const ntlm = await attempt(() => runOnce(clients[0]!, false));
    const kerberos = await attempt(() => runOnce(clients[1]!, true));
    report.recovered = ntlm.status === 'SEC_E_OK' && kerberos.status === 'SEC_E_OK';
    if (!report.recovered) count(report.unexpected, `not recovered: NTLM ${ntlm.status}, Kerberos ${kerberos.status}`);
    for (const proc of member.running) await member.kill(proc);
    await Promise.all(serving);
    return report;
  } finally {
    stopping = true;
    await Promise.all([dc.shutdown(), member?.shutdown()]);
    await rm(dir, { recursive: true, force: true });
  }
}
