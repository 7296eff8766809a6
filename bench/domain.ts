// The domain's figures, each beside its baseline from the same run:
// - the KDC in a domain controller's LSA: AS requests/s (an AS-REQ with PA-ENC-TIMESTAMP, as a
//   kinit's second request) and TGS requests/s (a TGS-REQ with a TGT, as a kvno), over TCP from
//   L connections kept open, with the LSA's work pool off and on (1 thread); beside the same
//   requests handed to a KDC in this thread (no sockets, no LSA: Kdc.handle), in adjacent windows;
//   and how long a DC of N users takes from boot until every key is made (string-to-key is PBKDF2,
//   which is what the pool runs), pool off and on;
// - an NTLM handshake passed through to the DC by a member server (the full path: client process,
//   the member's LSA, Netlogon's sealed call to the DC's LSA and back, the server process) beside
//   the same handshake checked by a standalone server that holds the user's account, adjacent
//   windows, the same in flight.
// The load generator's client side (the AS-REQ's timestamp sealed in the user's key, the reply
// opened) runs in this thread in both windows of a pair, so a ratio compares like with like.
// Runnable alone: node dist/bench/domain.js [--duration S] [--json FILE].

import { writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Machine } from '../machine/index.js';
import { KEY_USAGE, makeRandomKey, stringToKey, type EncryptionKey } from '../packages/kerberos/crypto/index.js';
import { Kdc, KdcDatabase, kdcPolicy } from '../packages/kerberos/kdc/index.js';
import { asRequest, encTimestamp, isFailure, openKdcReply, readKdcAnswer, tgsRequest, type KdcCredentials } from '../packages/kerberos/wire.js';
import { HandshakeBench, type HandshakeRun } from './handshakes.js';
import { eluMeter, median, pairedRatio, percentile, round } from './stats.js';

export interface DomainBenchOptions {
  /** Each window of a row. */
  durationMs: number;
  /** Repetitions of each row's pair of windows. */
  repetitions: number;
  /** KDC connections kept busy at once. */
  kdcLanes: number;
  /** The pool sizes of the KDC rows; 0 is off. */
  poolThreads: number[];
  /** Users of the DC whose keys the boot row waits for. */
  users: number;
  /** Handshakes in flight in the pass-through rows. */
  concurrency: number[];
  progress?: (label: string) => void;
}

export interface KdcRow {
  exchange: 'AS' | 'TGS';
  poolThreads: number;
  lanes: number;
  /** Requests answered per second by the DC's KDC over TCP (median of repetitions). */
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** The same requests handed to a KDC in this thread, in the window next to each. */
  inProcessPerSec: number;
  /** The median of each repetition's over-TCP rate / its adjacent in-process rate. */
  ratioToInProcess: number;
  /** The DC's LSA thread's event-loop utilization while it answered. */
  lsaBusy: number;
  failures: number;
}

export interface KdcKeysRow {
  poolThreads: number;
  users: number;
  /** From Machine.boot's start until every principal's keys are made (the KDC answers meanwhile). */
  keysReadyMs: number;
  /** PBKDF2 tasks that ran on the pool (0 when it is off: every key inline on the LSA's thread). */
  tasksOnPool: number;
}

export interface PassThroughRow {
  concurrency: number;
  /** NTLM handshakes/s against a member server, each passed through to the DC. */
  passThroughHsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** The same handshakes against a standalone server holding the account, in the window next to each. */
  localHsPerSec: number;
  ratioToLocal: number;
  failures: number;
}

export interface DomainReport {
  kdc: KdcRow[];
  keys: KdcKeysRow[];
  passThrough: PassThroughRow[];
}

const REALM = 'EXAMPLE.TEST';
const USER = { user: 'alice', password: 'Domain-Passw0rd!' };
const SERVICE = ['host', 'member.example.test'];

/** One kind of request, made and checked the same way whether it goes over TCP or to a KDC in this thread. */
interface Exchange {
  make(): { request: Uint8Array; open(reply: Uint8Array): void };
}

/** The answer opened as the request expects; throws (a failure of the bench) otherwise. */
function opened(reply: Uint8Array, key: EncryptionKey, usage: number, nonce: number): KdcCredentials {
  const answer = readKdcAnswer(reply);
  if (isFailure(answer)) throw new Error(answer.reason);
  if (answer.kind !== 'reply') throw new Error(`the KDC refused: error ${answer.error.errorCode}`);
  const credentials = openKdcReply(answer.rep, key, usage, nonce);
  if (isFailure(credentials)) throw new Error(credentials.reason);
  return credentials;
}

/** An AS-REQ with PA-ENC-TIMESTAMP (the second request of a kinit), made with the package's own request functions. */
function asExchange(key: EncryptionKey): Exchange {
  return {
    make: () => {
      const nonce = Math.floor(Math.random() * 0x7ffffffe) + 1;
      const request = asRequest({ realm: REALM, client: [USER.user], nonce, etypes: [key.keytype], padata: [encTimestamp(key)] });
      return { request, open: (reply) => void opened(reply, key, KEY_USAGE.AS_REP_ENC_PART, nonce) };
    },
  };
}

function tgsExchange(tgt: KdcCredentials): Exchange {
  return {
    make: () => {
      const made = tgsRequest({ realm: REALM, tgt, service: SERVICE });
      return { request: made.request, open: (reply) => void opened(reply, made.replyKey, made.replyUsage, made.body.nonce) };
    },
  };
}

/** One TCP connection to a KDC (RFC 4120 7.2.2's length prefix), one request after another. */
class KdcTcp {
  private readonly socket: Socket;
  private pending: Buffer = Buffer.alloc(0);
  private waiter: { resolve: (reply: Uint8Array) => void; reject: (error: Error) => void } | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      if (this.waiter === null || this.pending.length < 4) return;
      const length = this.pending.readUInt32BE(0);
      if (this.pending.length < 4 + length) return;
      const reply = new Uint8Array(this.pending.subarray(4, 4 + length));
      this.pending = this.pending.subarray(4 + length);
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve(reply);
    });
    const fail = (error: Error): void => {
      const waiter = this.waiter;
      this.waiter = null;
      waiter?.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the KDC closed the connection')));
  }

  static open(address: { host: string; port: number }): Promise<KdcTcp> {
    return new Promise((resolve, reject) => {
      const socket = connect(address.port, address.host, () => resolve(new KdcTcp(socket)));
      socket.once('error', reject);
    });
  }

  exchange(request: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      const framed = Buffer.alloc(4 + request.length);
      framed.writeUInt32BE(request.length, 0);
      framed.set(request, 4);
      this.socket.write(framed);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A TGT: one AS exchange with PA-ENC-TIMESTAMP, sent over a connection or to the KDC in this thread. */
async function tgtOf(key: EncryptionKey, send: (request: Uint8Array) => Promise<Uint8Array>): Promise<KdcCredentials> {
  const nonce = 12345;
  const request = asRequest({ realm: REALM, client: [USER.user], nonce, etypes: [key.keytype], padata: [encTimestamp(key)] });
  return opened(await send(request), key, KEY_USAGE.AS_REP_ENC_PART, nonce);
}

/** `lanes` connections each sending one request after another for `durationMs`: the rate, latencies, failures. */
async function overTcp(connections: KdcTcp[], exchange: Exchange, durationMs: number): Promise<{ perSec: number; latencies: number[]; failures: number }> {
  const end = performance.now() + durationMs;
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    connections.map(async (connection) => {
      while (performance.now() < end) {
        const t = performance.now();
        const { request, open } = exchange.make();
        try {
          open(await connection.exchange(request));
          latencies.push(performance.now() - t);
        } catch {
          failures++;
        }
      }
    }),
  );
  return { perSec: latencies.length / ((performance.now() - started) / 1000), latencies, failures };
}

/** The same requests to a KDC in this thread, `lanes` at a time, for `durationMs`. */
async function inProcess(kdc: Kdc, exchange: Exchange, lanes: number, durationMs: number): Promise<number> {
  const end = performance.now() + durationMs;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < end) {
        const { request, open } = exchange.make();
        open((await kdc.handle(request, 'tcp', 'in-process')).reply);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** A KDC in this thread with the DC's principals (its own random keys): the baseline. */
async function localKdc(): Promise<Kdc> {
  const db = KdcDatabase.open(
    REALM,
    [
      { components: ['krbtgt', REALM], kind: 'krbtgt', keys: [makeRandomKey(18), makeRandomKey(17), makeRandomKey(20), makeRandomKey(19)] },
      { components: [USER.user], kind: 'user', password: USER.password },
      { components: SERVICE, kind: 'service', keys: [makeRandomKey(18), makeRandomKey(17), makeRandomKey(20), makeRandomKey(19)] },
    ],
    async (etype, password, salt) => stringToKey(etype, password, salt),
  );
  await db.whenDerived();
  return new Kdc(db, kdcPolicy());
}

/** A DC of one user and one service, with its pool of `threads`; connections to its KDC and a TGT from it. */
async function kdcUnderTest(
  threads: number,
  lanes: number,
  key: EncryptionKey,
): Promise<{ dc: Machine; connections: KdcTcp[]; tgt: KdcCredentials; threads: number }> {
  const dc = await Machine.boot({
    role: 'domain-controller',
    realm: REALM,
    accounts: [`${USER.user}:${USER.password}`],
    services: [SERVICE.join('/')],
    packages: ['ntlm'],
    trace: false,
    lsaWorkPool: { threads },
  });
  const connections: KdcTcp[] = [];
  try {
    for (let i = 0; i < lanes; i++) connections.push(await KdcTcp.open(dc.kdcAddress!));
    const first = connections[0]!;
    const tgt = await tgtOf(key, (request) => first.exchange(request));
    return { dc, connections, tgt, threads };
  } catch (error) {
    for (const c of connections) c.close();
    await dc.shutdown();
    throw error;
  }
}

/**
 * The KDC rows: a DC for each pool size, all up at once, and each repetition an in-process window
 * then one window per DC, back to back, so that each DC's rate is paired with the in-process rate
 * of its moment (this machine's other load comes and goes within seconds).
 */
async function kdcRows(options: DomainBenchOptions, local: Kdc): Promise<KdcRow[]> {
  const key = stringToKey(18, USER.password, `${REALM}${USER.user}`);
  const dcs: Array<Awaited<ReturnType<typeof kdcUnderTest>>> = [];
  try {
    for (const threads of options.poolThreads) dcs.push(await kdcUnderTest(threads, options.kdcLanes, key));
    const localTgt = await tgtOf(key, async (request) => (await local.handle(request, 'tcp', 'in-process')).reply);
    const rows: KdcRow[] = [];
    for (const exchange of ['AS', 'TGS'] as const) {
      const here = exchange === 'AS' ? asExchange(key) : tgsExchange(localTgt);
      const remote = dcs.map((d) => (exchange === 'AS' ? asExchange(key) : tgsExchange(d.tgt)));
      // Warm every path (V8 compiles them) before the windows.
      await inProcess(local, here, options.kdcLanes, Math.min(300, options.durationMs));
      for (const [i, d] of dcs.entries()) await overTcp(d.connections, remote[i]!, Math.min(500, options.durationMs));
      const locals: number[] = [];
      const runs = dcs.map(() => [] as Array<{ perSec: number; latencies: number[]; failures: number }>);
      const busy = dcs.map(() => [] as number[]);
      for (let r = 0; r < options.repetitions; r++) {
        locals.push(await inProcess(local, here, options.kdcLanes, options.durationMs));
        for (const [i, d] of dcs.entries()) {
          const elu = await eluMeter([['lsa', d.dc.lsa]]);
          runs[i]!.push(await overTcp(d.connections, remote[i]!, options.durationMs));
          busy[i]!.push((await elu()).lsa ?? 0);
        }
      }
      for (const [i, d] of dcs.entries()) {
        const latencies = runs[i]!.flatMap((x) => x.latencies).sort((a, b) => a - b);
        rows.push({
          exchange,
          poolThreads: d.threads,
          lanes: options.kdcLanes,
          reqPerSec: round(median(runs[i]!.map((x) => x.perSec))),
          p50Ms: round(percentile(latencies, 50), 3),
          p99Ms: round(percentile(latencies, 99), 3),
          inProcessPerSec: round(median(locals)),
          ratioToInProcess: round(pairedRatio(runs[i]!.map((x, j) => [x.perSec, locals[j]!])), 3),
          lsaBusy: round(median(busy[i]!), 3),
          failures: runs[i]!.reduce((n, x) => n + x.failures, 0),
        });
      }
      options.progress?.(`KDC ${exchange}`);
    }
    return rows;
  } finally {
    for (const d of dcs) {
      for (const c of d.connections) c.close();
      await d.dc.shutdown();
    }
  }
}

/** From boot until every key of a DC of `users` users is made. */
async function keysRow(threads: number, users: number): Promise<KdcKeysRow> {
  const started = performance.now();
  const dc = await Machine.boot({
    role: 'domain-controller',
    realm: REALM,
    accounts: Array.from({ length: users }, (_, i) => `user${i}:Passw0rd-${i}`),
    packages: ['ntlm'],
    trace: false,
    lsaWorkPool: { threads },
  });
  try {
    for (;;) {
      const status = await dc.lsa.kdc();
      if (status !== null && status.keys.ready + status.keys.failed === status.keys.principals) break;
      // Polled: the DC reports no event when its last key is made (a figure, not a test's wait).
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
    const keysReadyMs = round(performance.now() - started);
    return { poolThreads: threads, users, keysReadyMs, tasksOnPool: (await dc.lsa.stats()).workPool.onPool };
  } finally {
    await dc.shutdown();
  }
}

async function passThroughRows(options: DomainBenchOptions): Promise<PassThroughRow[]> {
  const account = { user: USER.user, domain: 'EXAMPLE', password: USER.password };
  const dc = await Machine.boot({
    role: 'domain-controller',
    realm: REALM,
    accounts: [`${USER.user}:${USER.password}`],
    machineAccounts: ['MEMBER:member-secret'],
    packages: ['ntlm'],
    trace: false,
  });
  // HandshakeBench gives its machine the client's account; the member's NTLM passes every logon for
  // domain EXAMPLE to the DC all the same (its own domain is MEMBER): that copy is never read.
  const member = await HandshakeBench.start('ntlm', account, { join: { domain: REALM, dc: dc.netlogonAddress!, machineAccount: 'MEMBER:member-secret' } });
  const standalone = await HandshakeBench.start('ntlm', account);
  try {
    const rows: PassThroughRow[] = [];
    await member.run(8, 1, Math.max(1_000, options.durationMs), 0);
    await standalone.run(8, 1, Math.max(1_000, options.durationMs), 0);
    for (const concurrency of options.concurrency) {
      const runs: HandshakeRun[] = [];
      const locals: HandshakeRun[] = [];
      for (let r = 0; r < options.repetitions; r++) {
        locals.push(await standalone.run(concurrency, 1, options.durationMs, 100));
        runs.push(await member.run(concurrency, 1, options.durationMs, 100));
      }
      const latencies = runs.flatMap((x) => x.latencies).sort((a, b) => a - b);
      rows.push({
        concurrency,
        passThroughHsPerSec: round(median(runs.map((x) => x.hsPerSec))),
        p50Ms: round(percentile(latencies, 50), 3),
        p99Ms: round(percentile(latencies, 99), 3),
        localHsPerSec: round(median(locals.map((x) => x.hsPerSec))),
        ratioToLocal: round(pairedRatio(runs.map((x, i) => [x.hsPerSec, locals[i]!.hsPerSec])), 3),
        failures: runs.reduce((n, x) => n + x.failures, 0),
      });
      options.progress?.(`NTLM pass-through, ${concurrency} in flight`);
    }
    return rows;
  } finally {
    await Promise.all([member.stop(), standalone.stop(), dc.shutdown()]);
  }
}

export async function domainRows(options: DomainBenchOptions): Promise<DomainReport> {
  const local = await localKdc();
  const report: DomainReport = { kdc: [], keys: [], passThrough: [] };
  report.kdc = await kdcRows(options, local);
  for (const threads of options.poolThreads) {
    report.keys.push(await keysRow(threads, options.users));
    options.progress?.(`KDC keys of ${options.users} users, pool ${threads === 0 ? 'off' : threads}`);
  }
  report.passThrough = await passThroughRows(options);
  return report;
}

export function formatDomain(report: DomainReport): string[] {
  const out = ["The domain controller's KDC over TCP (AS: with PA-ENC-TIMESTAMP; TGS: with a TGT), beside a KDC in the bench's thread (bench/domain.ts)"];
  out.push('exchange  pool      lanes   req/s    p50 ms   p99 ms   in-process req/s  x in-process  LSA busy  failures');
  for (const r of report.kdc)
    out.push(
      `${r.exchange.padEnd(8)}  ${(r.poolThreads === 0 ? 'off' : `${r.poolThreads} thread${r.poolThreads === 1 ? '' : 's'}`).padEnd(8)}  ${String(r.lanes).padStart(5)}  ${String(r.reqPerSec).padStart(6)}  ${String(r.p50Ms).padStart(7)}  ${String(r.p99Ms).padStart(7)}  ${String(r.inProcessPerSec).padStart(16)}  ${String(r.ratioToInProcess).padStart(12)}  ${`${Math.round(r.lsaBusy * 100)}%`.padStart(8)}  ${String(r.failures).padStart(8)}`,
    );
  for (const k of report.keys)
    out.push(
      `keys of ${k.users} users ready (from boot), pool ${k.poolThreads === 0 ? 'off' : `${k.poolThreads} thread${k.poolThreads === 1 ? '' : 's'}`}: ${k.keysReadyMs} ms (${k.tasksOnPool} PBKDF2 tasks on the pool)`,
    );
  out.push('');
  out.push('NTLM handshakes passed through to the DC by a member server (Netlogon), beside a standalone server that holds the account (bench/domain.ts)');
  out.push('in flight  pass-through hs/s  p50 ms  p99 ms  local hs/s  x local  failures');
  for (const r of report.passThrough)
    out.push(
      `${String(r.concurrency).padStart(9)}  ${String(r.passThroughHsPerSec).padStart(17)}  ${String(r.p50Ms).padStart(6)}  ${String(r.p99Ms).padStart(6)}  ${String(r.localHsPerSec).padStart(10)}  ${String(r.ratioToLocal).padStart(7)}  ${String(r.failures).padStart(8)}`,
    );
  return out;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { json: { type: 'string' }, duration: { type: 'string' } } });
  const report = await domainRows({
    durationMs: Number(values.duration ?? 1.5) * 1000,
    repetitions: 3,
    kdcLanes: 8,
    poolThreads: [0, 1],
    users: 20,
    concurrency: [1, 8],
    progress: (label) => process.stderr.write(`${label}\n`),
  });
  console.log(formatDomain(report).join('\n'));
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2));
}
