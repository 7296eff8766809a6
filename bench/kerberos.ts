// Kerberos handshakes per second: a member machine (its LSA's Kerberos package, a server process
// accepting with the keytab a domain controller exported, a client process with alice's explicit
// credentials) and a domain controller machine whose KDC answers on loopback UDP and TCP, in three
// modes measured in adjacent windows of each repetition:
// - cached: one credential for the whole run; after its first handshake the client holds its TGT
//   and the service ticket, so a handshake is the AP exchange alone (no KDC request);
// - TGS each handshake: one credential, but each handshake targets a service of the member's it has
//   no ticket for yet (host/tgs-0, host/tgs-1, ...: the DC has a principal for each, the member
//   the keys of all), so each costs a TGS exchange with the DC, the TGT staying cached;
// - new credential each handshake: acquired before it and freed after it, so its ticket cache is
//   new each time: the password's keys made (PBKDF2 on the member LSA's work pool), an AS exchange
//   (KDC_ERR_PREAUTH_REQUIRED, then PA-ENC-TIMESTAMP) and a TGS exchange, then the AP exchange.
// The first handshake of each window (a new client process run: a new credential) gets the TGT and,
// but in the TGS mode, the ticket: the cached rows' few KDC requests per handshake.
// Each mode with the LSAs' work pool off (0 threads, PBKDF2 inline on the dispatch thread) and on
// (1 thread, the default), both machines alike. Every row counts the DC's AS and TGS requests per
// handshake started, which shows that each mode did what it says, and its ratio to the cached
// mode is the median of each repetition's own (adjacent windows).
// Runnable alone: node dist/bench/kerberos.js [--duration S] [--concurrency 1,16] [--json FILE].

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Machine } from '../machine/index.js';
import type { Account } from '../lsa/index.js';
import { HandshakeBench, type HandshakeRun } from './handshakes.js';
import { bottleneck, eluMeter, pairedRatio, repetitions, round, type RateFigures } from './stats.js';

export type KerberosMode = 'cached' | 'tgs' | 'new-credential';
export const KERBEROS_MODES: readonly KerberosMode[] = ['cached', 'tgs', 'new-credential'];

/** What each mode is, in the table. */
export const KERBEROS_MODE_LABELS: Readonly<Record<KerberosMode, string>> = {
  cached: 'cached service ticket',
  tgs: 'TGS exchange each handshake',
  'new-credential': 'new credential each handshake (AS + TGS)',
};

export interface KerberosBenchOptions {
  /** Each window of a row. */
  durationMs: number;
  warmupMs: number;
  repetitions: number;
  /** Handshakes in flight, from one client process. */
  concurrency: number[];
  /** The LSAs' work pool sizes; 0 is off. */
  poolThreads: number[];
  /**
   * Service principals for the TGS mode: each handshake of a window asks a ticket for one the
   * window's credential has not used (so the KDC sees a TGS-REQ each time); each window acquires a
   * credential of its own, with an empty ticket cache, so every window starts again at the first.
   * A window that uses them all ends early.
   */
  tgsServices?: number;
  progress?: (label: string) => void;
}

export interface KerberosRow extends RateFigures {
  mode: KerberosMode;
  /** The work pool of both machines' LSAs: 0 (off) or its threads. */
  poolThreads: number;
  concurrency: number;
  /** This mode's hs/s over the cached mode's, each repetition's own adjacent windows, the median (NaN when no window completed one); 1 for the cached rows. */
  ratioToCached: number;
  /** The DC's KDC requests per handshake started (warm-up included), over every window of the row. */
  kdcPerHandshake: { as: number; tgs: number };
  /** What those figures divide: the handshakes started over every window of the row, and the DC's requests in them. */
  started: number;
  kdcRequests: { as: number; tgs: number };
  /** The busiest of the member's workers and the DC's LSA (the median window's). */
  bottleneck: string;
  /** The DC's LSA thread's event-loop utilization (the median window's). */
  dcBusy: number;
  failures: number;
}

export interface KerberosReport {
  realm: string;
  rows: KerberosRow[];
}

const REALM = 'BENCH.TEST';
const ACCOUNT: Account = { user: 'alice', domain: REALM, password: 'Passw0rd!' };
const SERVICE = 'host/localhost';
const TGS_PREFIX = 'host/tgs-';

export async function kerberosRows(options: KerberosBenchOptions): Promise<KerberosReport> {
  const rows: KerberosRow[] = [];
  const services = options.tgsServices ?? 8000;
  const dir = await mkdtemp(join(tmpdir(), 'sspi-emu-bench-krb-'));
  try {
    for (const poolThreads of options.poolThreads) {
      const lsaWorkPool = { threads: poolThreads };
      const dc = await Machine.boot({
        role: 'domain-controller',
        realm: REALM,
        accounts: [ACCOUNT],
        services: [SERVICE, ...Array.from({ length: services }, (_, i) => `${TGS_PREFIX}${i}`)],
        trace: false,
        lsaWorkPool,
      });
      let member: HandshakeBench | undefined;
      try {
        const keytab = join(dir, `member-${poolThreads}.keytab`);
        await writeFile(keytab, await dc.lsa.exportKeytab(), { mode: 0o600 });
        const kdc = `${dc.kdcAddress!.host}:${dc.kdcAddress!.port}`;
        member = await HandshakeBench.start('kerberos', ACCOUNT, { packageSettings: { kerberos: { realm: REALM, kdc, keytab } }, lsaWorkPool });
        const window = async (mode: KerberosMode, concurrency: number, durationMs: number, warmupMs: number): Promise<Window> => {
          // The bench client acquires its credential per run: a fresh ticket cache, so the principals can be used again.
          const args: Record<string, unknown> =
            mode === 'tgs'
              ? { target: TGS_PREFIX, targets: services, first: 0 }
              : { target: SERVICE, ...(mode === 'new-credential' ? { credentialPerHandshake: true } : {}) };
          const before = (await dc.lsa.kdc())!.requests;
          const dcElu = await eluMeter([['dc lsa', dc.lsa]]);
          const run = await member!.run(concurrency, 1, durationMs, warmupMs, 0, args);
          const dcBusy = (await dcElu())['dc lsa'] ?? 0;
          const after = (await dc.lsa.kdc())!.requests;
          if (mode === 'tgs' && (run.targetsUsed ?? 0) >= services && run.latencies.length === 0)
            throw new Error(`a TGS window used all ${services} service principals before it measured a handshake: give it more (tgsServices)`);
          return { run, as: after.as - before.as, tgs: after.tgs - before.tgs, started: run.started ?? 0, dcBusy };
        };
        // Warm each mode's path first: V8's first second of it is not its speed.
        for (const mode of KERBEROS_MODES) await window(mode, Math.max(...options.concurrency), Math.max(500, options.durationMs), 0);
        for (const concurrency of options.concurrency) {
          const windows: Record<KerberosMode, Window[]> = { cached: [], tgs: [], 'new-credential': [] };
          for (let r = 0; r < options.repetitions; r++)
            for (const mode of KERBEROS_MODES) windows[mode].push(await window(mode, concurrency, options.durationMs, options.warmupMs));
          for (const mode of KERBEROS_MODES) {
            const runs = windows[mode].map((w) => w.run);
            const { mid, ...rate } = repetitions(runs);
            const midWindow = windows[mode][runs.indexOf(mid)]!;
            const started = windows[mode].reduce((n, w) => n + w.started, 0);
            const as = windows[mode].reduce((n, w) => n + w.as, 0);
            const tgs = windows[mode].reduce((n, w) => n + w.tgs, 0);
            rows.push({
              mode,
              poolThreads,
              concurrency,
              ...rate,
              ratioToCached: mode === 'cached' ? 1 : round(pairedRatio(runs.map((x, i) => [x.hsPerSec, windows.cached[i]!.run.hsPerSec])), 3),
              kdcPerHandshake: { as: round(as / Math.max(1, started), 2), tgs: round(tgs / Math.max(1, started), 2) },
              started,
              kdcRequests: { as, tgs },
              bottleneck: bottleneck({ ...Object.fromEntries(Object.entries(mid.elu).map(([name, u]) => [`member ${name}`, u])), 'dc lsa': midWindow.dcBusy }),
              dcBusy: midWindow.dcBusy,
              failures: runs.reduce((n, x) => n + x.failures, 0),
            });
          }
          options.progress?.(`Kerberos: pool ${poolThreads === 0 ? 'off' : `${poolThreads} thread(s)`}, ${concurrency} in flight`);
        }
      } finally {
        await member?.stop();
        await dc.shutdown();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { realm: REALM, rows };
}

interface Window {
  run: HandshakeRun;
  /** The DC's AS and TGS requests during the window. */
  as: number;
  tgs: number;
  /** Handshakes the client started, warm-up included. */
  started: number;
  dcBusy: number;
}

/** The rows as a table. */
export function formatKerberos(report: KerberosReport): string {
  const header = ['mode', 'pool', 'in flight', 'hs/s', 'min', 'max', 'p50 ms', 'p99 ms', 'x cached', 'AS/hs', 'TGS/hs', 'bottleneck', 'failures'];
  const body = report.rows.map((r) => [
    KERBEROS_MODE_LABELS[r.mode],
    r.poolThreads === 0 ? 'off' : `${r.poolThreads} thread${r.poolThreads === 1 ? '' : 's'}`,
    String(r.concurrency),
    fmt(r.hsPerSec),
    fmt(r.hsPerSecMin),
    fmt(r.hsPerSecMax),
    String(r.p50Ms),
    String(r.p99Ms),
    r.mode === 'cached' ? '-' : String(r.ratioToCached),
    String(r.kdcPerHandshake.as),
    String(r.kdcPerHandshake.tgs),
    r.bottleneck,
    String(r.failures),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === 11 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    `Kerberos handshakes per second against a domain controller's KDC on loopback (bench/kerberos.ts): a member machine's client and server`,
    `processes, the DC a machine of its own; each repetition a window of each mode, x cached the median of the repetitions' own ratios;`,
    `AS/hs and TGS/hs: the DC's requests per handshake started; pool: the work pool of both LSAs`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { duration: { type: 'string' }, concurrency: { type: 'string' }, repetitions: { type: 'string' }, json: { type: 'string' } },
  });
  const report = await kerberosRows({
    durationMs: Number(values.duration ?? 1.5) * 1000,
    warmupMs: 300,
    repetitions: Number(values.repetitions ?? 3),
    concurrency: (values.concurrency ?? '1,16').split(',').map(Number),
    poolThreads: [0, 1],
    progress: (label) => process.stderr.write(`${label}\n`),
  });
  console.log(formatKerberos(report));
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
}
