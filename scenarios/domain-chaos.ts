// `sspi-emu chaos --scenario domain`: a domain controller that dies or stalls in the middle of its
// work, while a member server's clients keep authenticating through it. Two kinds of lanes run
// all along:
//   NTLM lanes      a client process on the member authenticates as a domain user to a server
//                   process on the member, whose NTLM passes each logon through to the DC's
//                   Netlogon (the default apps, as `chaos` runs them: handshake, messages, delete)
//   Kerberos lanes  the KDC in the DC's LSA: an AS exchange (kinit) and a TGS exchange (kvno), with
//                   the small KDC client over TCP, as the Kerberos package's transport talks to it
// and a seeded schedule, fault after fault, round-robin over {kill, stall} x {NetrLogonSamLogonEx,
// AS-REQ, TGS-REQ}: the DC's LSA is killed at that call point when a request reaches it (and
// restarted on its ports, as a rebooted DC comes back) or stalled there (its thread blocked, for
// less or more than the member's Netlogon deadline). What must hold, whatever the schedule:
//   - nothing hangs: each attempt ends within its deadline (the member's join.timeoutMs, the KDC
//     client's), and the longest failure is reported;
//   - a failure is SEC_E_NO_AUTHENTICATING_AUTHORITY and nothing else: a member whose DC does not
//     answer says so (STATUS_NO_LOGON_SERVERS inside); a KDC that does not answer is the same
//     status (the KDC client's UNREACHABLE or TIMEOUT, which is what the Kerberos package maps to
//     it); every other outcome is counted as unexpected;
//   - the domain recovers: once the schedule ends and the DC is back, every lane succeeds again.

import { seededRandom } from '../faults/index.js';
import { describeError } from '../ipc/index.js';
import { Machine, type AppProcess, type LsaIsolation } from '../machine/index.js';
import { getServiceTicket, getTgt, KdcClientError } from '../packages/kerberos/kdc/index.js';

export interface DomainChaosOptions {
  lsaIsolation?: LsaIsolation;
  durationMs: number;
  seed: number;
  /** NTLM lanes (client processes on the member) and Kerberos lanes (KDC clients), each. */
  lanes: number;
  /** A fault every this many ms, on average. */
  faultIntervalMs: number;
  /** The member's Netlogon deadline and the KDC client's (ms). */
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

const LISTEN_NAME = 'domain-chaos';
const USER = { user: 'alice', domain: 'EXAMPLE', password: 'Domain-Passw0rd!' };
const REALM = 'EXAMPLE.TEST';
const POINTS = ['NetrLogonSamLogonEx', 'AS-REQ', 'TGS-REQ'] as const;
const NO_AUTHORITY = 'SEC_E_NO_AUTHENTICATING_AUTHORITY';
/** How long a lane waits after a failed attempt before the next. */
const RETRY_PAUSE_MS = 50;

/** What a Kerberos client answers for a KDC exchange's failure: the KDC client's codes, as the Kerberos package maps them. */
function kdcFailureStatus(error: unknown): string {
  if (error instanceof KdcClientError && (error.code === 'UNREACHABLE' || error.code === 'TIMEOUT')) return NO_AUTHORITY;
  return error instanceof KdcClientError ? `KDC ${error.code}: ${error.message.slice(0, 80)}` : `KDC client threw: ${describeError(error).slice(0, 80)}`;
}

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
    services: ['host/member.example.test'],
    machineAccounts: ['MEMBER:member-secret'],
    packages: ['ntlm'],
    trace: false,
    ...isolation,
  });
  let member: Machine | undefined;
  let stopping = false;
  try {
    member = await Machine.boot({
      join: { domain: REALM, dc: dc.netlogonAddress!, machineAccount: 'MEMBER:member-secret', timeoutMs: options.timeoutMs },
      accounts: [],
      packages: ['ntlm'],
      trace: false,
      packageCallTimeoutMs: options.timeoutMs + 2_000,
      ...isolation,
    });
    const kdc = { ...dc.kdcAddress! };
    const server = await member.spawn('server');
    const serving = server.runApp(null, { name: LISTEN_NAME, package: 'NTLM', connections: 0 }).catch(() => undefined);
    const clients: AppProcess[] = [];
    for (let i = 0; i < options.lanes; i++) clients.push(await member.spawn('client'));

    /** One attempt, raced against the hang watchdog; its outcome's status and how long it took. */
    const attempt = async (work: () => Promise<string>): Promise<{ status: string | 'hang'; ms: number }> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const watchdog = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), options.hangMs)));
      const status = await Promise.race([work(), watchdog]);
      clearTimeout(timer);
      return { status, ms: performance.now() - started };
    };
    const ntlmOnce = (client: AppProcess): Promise<string> =>
      client.runApp(null, { server: LISTEN_NAME, package: 'NTLM', ...USER, messages: 1, connectWaitMs: 2_000 }).then(
        (r) => r.statusName,
        (e: unknown) => `client failed: ${describeError(e).slice(0, 80)}`,
      );
    const kerberosOnce = async (): Promise<string> => {
      try {
        const tgt = await getTgt(kdc, { realm: REALM, client: [USER.user], password: USER.password, timeoutMs: options.timeoutMs });
        await getServiceTicket(kdc, { realm: REALM, tgt, service: ['host', 'member.example.test'], timeoutMs: options.timeoutMs });
        return 'SEC_E_OK';
      } catch (error) {
        return kdcFailureStatus(error);
      }
    };
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
    for (const client of clients) lanes.push(lane(report.ntlm, () => ntlmOnce(client)));
    for (let i = 0; i < options.lanes; i++) lanes.push(lane(report.kerberos, kerberosOnce));

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
    const ntlm = await attempt(() => ntlmOnce(clients[0]!));
    const kerberos = await attempt(kerberosOnce);
    report.recovered = ntlm.status === 'SEC_E_OK' && kerberos.status === 'SEC_E_OK';
    if (!report.recovered) count(report.unexpected, `not recovered: NTLM ${ntlm.status}, Kerberos ${kerberos.status}`);
    for (const proc of member.running) await member.kill(proc);
    await serving;
    return report;
  } finally {
    stopping = true;
    await Promise.all([dc.shutdown(), member?.shutdown()]);
  }
}
