// The LSA's work pool (lsa/work-pool.ts) and whether it pays, in two tables:
// - load: one process makes cheap calls (QuerySecurityPackageInfo, one every 2 ms) while another
//   keeps explicit-credential acquires of the example package in flight, each of which derives K
//   (PBKDF2-SHA256, 4096 iterations; only the server caches K, so the same account does not let a
//   cache absorb them). With the pool off (every PBKDF2 inline on the LSA's dispatch thread), at 1
//   and at 2 threads: the cheap call's p50/p99 alone and under that load, the acquires/s, how busy
//   the dispatch thread was, and the tasks that ran on the pool;
// - work kinds: what each candidate for the pool costs inline (the CPU time the dispatch thread
//   spends) against what the dispatch thread spends to hand the same work to a pool thread and
//   take its answer back (its own CPU time, read from /proc where there is one: on a loaded
//   machine a thread's busy wall time counts the time others had its core). PBKDF2 runs on the pool; the NT hash (MD4 of the password, in JS) and an
//   HMAC cost less than the crossing itself, whatever their size on the pool would be, so they are
//   measured against the smallest task the pool runs (PBKDF2 of one iteration).
// Runnable alone: node dist/bench/pool.js [--duration S] [--threads 0,1,2] [--json FILE].

import { createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkWorkTask, DEFAULT_WORK_POOL, LsaWorkPool, type Account } from '../lsa/index.js';
import { Machine } from '../machine/index.js';
import { ntowfv1 } from '../packages/ntlm/wire.js';
import { eluMeter, percentile } from './stats.js';

const CHEAP_APP = fileURLToPath(new URL('./apps/cheap-calls.js', import.meta.url));
const FLOOD_APP = fileURLToPath(new URL('./apps/flood.js', import.meta.url));

export interface PoolOptions {
  account: Account;
  /** How long each phase (alone, loaded) of each load row runs. */
  durationMs: number;
  /** The pool sizes of the load rows; 0 is off. */
  threads?: number[];
  /** Acquires the loading process keeps in flight. */
  inFlight?: number;
}

export interface Latency {
  p50: number | null;
  p99: number | null;
  calls: number;
}

export interface PoolLoadRow {
  /** The pool's size: 0 for off (PBKDF2 inline on the dispatch thread). */
  threads: number;
  alone: Latency;
  loaded: Latency;
  /** Explicit-credential acquires per second the loading process completed. */
  acquiresPerSec: number;
  /** The LSA worker's event-loop utilization during the loaded phase: its dispatch thread's share of busy time. */
  lsaBusy: number;
  /** Tasks that ran on the pool in the row (0 when it is off). */
  tasksOnPool: number;
}

export interface WorkCostRow {
  work: string;
  /** µs of the dispatch thread per operation, run inline. */
  inlineUs: number;
  /** µs of the dispatch thread per operation handed to the pool (handing it over and taking the answer). */
  dispatchUs: number;
  /** µs from handing one operation to the pool to its answer, one at a time. */
  latencyUs: number;
  /** Whether the pool saves the dispatch thread time: inline costs more than twice the crossing. */
  pays: boolean;
}

export interface PoolReport {
  load: PoolLoadRow[];
  costs: WorkCostRow[];
  /** The machine's default pool size, the "on" of the target. */
  defaultThreads: number;
  /** Loaded cheap-call p99 at the default size / with the pool off (null when a row is missing). */
  p99OnOverOff: number | null;
}

export async function poolRows(options: PoolOptions): Promise<PoolReport> {
  const sizes = options.threads ?? [0, 1, 2];
  const load: PoolLoadRow[] = [];
  for (const threads of sizes) load.push(await loadRow(threads, options));
  const costs = await workCosts(Math.max(200, options.durationMs / 4));
  const off = load.find((r) => r.threads === 0)?.loaded.p99;
  const on = load.find((r) => r.threads === DEFAULT_WORK_POOL.threads)?.loaded.p99;
  const p99OnOverOff = off === undefined || on === undefined || off === null || on === null || DEFAULT_WORK_POOL.threads === 0 ? null : round(on / off, 3);
  return { load, costs, defaultThreads: DEFAULT_WORK_POOL.threads, p99OnOverOff };
}

async function loadRow(threads: number, options: PoolOptions): Promise<PoolLoadRow> {
  const machine = await Machine.boot({ packages: ['example'], accounts: [options.account], trace: false, lsaWorkPool: { threads } });
  try {
    const name = (await machine.lsa.packages()).loaded[0]!.name;
    const victim = await machine.spawn('client', { name: 'victim' });
    const loader = await machine.spawn('client', { name: 'loader' });
    const { user, domain, password } = options.account;
    const flood = (durationMs: number) =>
      loader.runApp(FLOOD_APP, { package: name, user, domain, password, inFlight: options.inFlight ?? 32, durationMs }) as Promise<{ data?: unknown }>;
    const cheap = async (durationMs: number, warmupMs: number): Promise<number[]> => {
      const result = (await victim.runApp(CHEAP_APP, { package: name, durationMs, warmupMs })) as { data?: unknown; statusName: string };
      const latencies = (result.data as { latencies?: number[] } | undefined)?.latencies;
      if (latencies === undefined) throw new Error(`the cheap calls failed: ${result.statusName}`);
      return latencies.sort((a, b) => a - b);
    };
    // Warm: the pool's threads started, both paths compiled.
    await Promise.all([flood(300), cheap(300, 0)]);
    const tasksBefore = (await machine.lsa.stats()).workPool.onPool;
    const alone = await cheap(options.durationMs, 0);
    const rampMs = 200;
    const lsaElu = await eluMeter([['lsa', machine.lsa]]);
    const loading = flood(options.durationMs + rampMs);
    const loaded = await cheap(options.durationMs, rampMs);
    const floodCalls = ((await loading).data as { calls?: number } | undefined)?.calls ?? 0;
    const lsaBusy = (await lsaElu()).lsa ?? 0;
    const stats = await machine.lsa.stats();
    return {
      threads,
      alone: latency(alone),
      loaded: latency(loaded),
      acquiresPerSec: round(floodCalls / ((options.durationMs + rampMs) / 1000), 0),
      lsaBusy,
      tasksOnPool: stats.workPool.onPool - tasksBefore,
    };
  } finally {
    await machine.shutdown();
  }
}

function latency(sorted: number[]): Latency {
  return sorted.length === 0
    ? { p50: null, p99: null, calls: 0 }
    : { p50: round(percentile(sorted, 50), 3), p99: round(percentile(sorted, 99), 3), calls: sorted.length };
}

/**
 * A clock of this thread's own CPU time in µs: /proc/thread-self/stat (utime + stime, in ticks of
 * 10 ms) on Linux; elsewhere the event loop's busy wall time, which a loaded machine inflates.
 */
function threadCpuClock(): () => number {
  try {
    readFileSync('/proc/thread-self/stat', 'utf8');
  } catch {
    return () => performance.eventLoopUtilization().active * 1000;
  }
  return () => {
    const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  };
}
const threadCpuUs = threadCpuClock();

/** CPU µs of this thread per call of `fn`, called for about `ms` of wall time. */
function inlineUs(fn: () => void, ms: number): number {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const t0 = performance.now();
  const cpu0 = threadCpuUs();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
  }
  return (threadCpuUs() - cpu0) / n;
}

/** The dispatch thread's µs per task and each task's latency, for PBKDF2-SHA256 of `iterations` on a one-thread pool. */
async function onPool(pool: LsaWorkPool, iterations: number, ms: number): Promise<{ dispatchUs: number; latencyUs: number }> {
  const task = () => {
    const checked = checkWorkTask('BCryptDeriveKeyPBKDF2', {
      Prf: 'SHA256',
      Password: randomBytes(9),
      Salt: randomBytes(24),
      Iterations: iterations,
      DerivedKeyLength: 32,
    });
    if (typeof checked === 'string') throw new Error(checked);
    return checked;
  };
  const run = async (): Promise<void> => {
    const outcome = await pool.run(task());
    if (!outcome.ok) throw new Error(outcome.reason);
  };
  for (let i = 0; i < 20; i++) await run();
  // Latency: one at a time.
  let n = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < ms / 2) {
    await run();
    n++;
  }
  const latencyUs = ((performance.now() - t0) * 1000) / n;
  // The dispatch thread's share: 16 in flight, this thread's CPU time per task.
  n = 0;
  t0 = performance.now();
  const cpu0 = threadCpuUs();
  const lane = async (): Promise<void> => {
    while (performance.now() - t0 < ms) {
      await run();
      n++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  return { dispatchUs: (threadCpuUs() - cpu0) / n, latencyUs };
}

async function workCosts(ms: number): Promise<WorkCostRow[]> {
  const password = 'Passw0rd!';
  const salt = 'sspi-emu/example:alice';
  const key = randomBytes(32);
  const nonce = randomBytes(32);
  const pool = new LsaWorkPool({ threads: 1 });
  try {
    const pbkdf2 = await onPool(pool, 4096, ms);
    const crossing = await onPool(pool, 1, ms);
    const row = (work: string, inline: number, on: { dispatchUs: number; latencyUs: number }): WorkCostRow => ({
      work,
      inlineUs: round(inline, 1),
      dispatchUs: round(on.dispatchUs, 1),
      latencyUs: round(on.latencyUs, 1),
      pays: inline > 2 * on.dispatchUs,
    });
    return [
      row(
        'PBKDF2-SHA256, 4096 iterations (example K)',
        inlineUs(() => pbkdf2Sync(password, salt, 4096, 32, 'sha256'), ms),
        pbkdf2,
      ),
      row(
        'PBKDF2-SHA256, 1 iteration (the crossing alone)',
        inlineUs(() => pbkdf2Sync(password, salt, 1, 32, 'sha256'), ms),
        crossing,
      ),
      row(
        'NT hash: MD4 of the password, in JS (NTLM NTOWFv1)',
        inlineUs(() => ntowfv1(password), ms),
        crossing,
      ),
      row(
        'HMAC-SHA256 of a proof (example P1)',
        inlineUs(() => createHmac('sha256', key).update('hello').update(nonce).update('alice\\SSPI-EMU').digest(), ms),
        crossing,
      ),
    ];
  } finally {
    await pool.close();
  }
}

export function formatPool(report: PoolReport): string[] {
  const out = ['LSA work pool: cheap calls (QuerySecurityPackageInfo, one every 2 ms) while another process keeps example acquires (PBKDF2) in flight'];
  out.push('pool        alone p50/p99 ms    loaded p50/p99 ms   acquires/s  LSA busy  tasks on pool');
  const f = (l: Latency): string => `${l.p50 ?? '-'} / ${l.p99 ?? '-'}`;
  for (const r of report.load)
    out.push(
      `${(r.threads === 0 ? 'off' : `${r.threads} thread${r.threads === 1 ? '' : 's'}`).padEnd(11)} ${f(r.alone).padEnd(19)} ${f(r.loaded).padEnd(19)} ${String(r.acquiresPerSec).padStart(10)}  ${`${Math.round(r.lsaBusy * 100)}%`.padStart(8)}  ${String(r.tasksOnPool).padStart(13)}`,
    );
  out.push(`loaded p99, pool at its default (${report.defaultThreads}) / off: ${report.p99OnOverOff ?? '-'}`);
  out.push('');
  out.push("LSA work pool: the dispatch thread's CPU per operation, inline or handed to the pool (1 thread)");
  out.push('work                                                  inline us  on the pool: dispatch us  latency us  pays');
  for (const c of report.costs)
    out.push(
      `${c.work.padEnd(53)} ${String(c.inlineUs).padStart(9)}  ${String(c.dispatchUs).padStart(24)}  ${String(c.latencyUs).padStart(10)}  ${c.pays ? 'yes' : 'no'}`,
    );
  return out;
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { json: { type: 'string' }, duration: { type: 'string' }, threads: { type: 'string' } } });
  const report = await poolRows({
    account: { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' },
    durationMs: Number(values.duration ?? 2) * 1000,
    threads: values.threads?.split(',').map(Number),
  });
  console.log(formatPool(report).join('\n'));
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2));
}
