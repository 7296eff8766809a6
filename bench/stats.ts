// Small statistics for benchmark rows: percentiles, medians over repetitions, event-loop
// utilization of workers, and naming the bottleneck.

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/**
 * Whose event loop a meter reads: a worker (read at once), or a process of the machine (an LSA in
 * its own OS process answers over its control channel).
 */
export type EluSource = Worker | { eventLoopUtilization(): Promise<EventLoopUtilization> };

function readElu(source: EluSource): EventLoopUtilization | Promise<EventLoopUtilization> {
  return 'performance' in source ? source.performance.eventLoopUtilization() : source.eventLoopUtilization();
}

/** Event-loop utilization of named workers over an interval: `await eluMeter(...)` starts it, `await stop()` -> fractions. */
export async function eluMeter(sources: ReadonlyArray<[string, EluSource]>): Promise<() => Promise<Record<string, number>>> {
  const before = await Promise.all(sources.map(([, s]) => readElu(s)));
  return async () => {
    const after = await Promise.all(sources.map(([, s]) => readElu(s)));
    const out: Record<string, number> = {};
    sources.forEach(([name], i) => {
      const u = performance.eventLoopUtilization(after[i], before[i]);
      out[name] = Math.round(u.utilization * 1000) / 1000;
    });
    return out;
  };
}

/** CPU of the whole process (all threads) over an interval, in cores. */
export function cpuMeter(): () => number {
  const cpu = process.cpuUsage();
  const t = process.hrtime.bigint();
  return () => {
    const used = process.cpuUsage(cpu);
    const wallUs = Number(process.hrtime.bigint() - t) / 1000;
    return Math.round(((used.user + used.system) / wallUs) * 100) / 100;
  };
}

/** The busiest worker of a row: the thread that limits throughput. */
export function bottleneck(elu: Record<string, number>): string {
  let best = '';
  let max = -1;
  for (const [name, u] of Object.entries(elu)) if (u > max) [best, max] = [name, u];
  return `${best} (${Math.round(max * 100)}% busy)`;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** What every throughput row reports of its repetitions: the median rate with its range, and latency percentiles. */
export interface RateFigures {
  hsPerSec: number;
  hsPerSecMin: number;
  hsPerSecMax: number;
  p50Ms: number;
  p99Ms: number;
}

/** A row's repetitions summed up: its RateFigures, and the median run itself. */
export function repetitions<R extends { hsPerSec: number; latencies: number[] }>(runs: readonly R[]): RateFigures & { mid: R } {
  const rates = runs.map((r) => r.hsPerSec);
  const hsPerSec = median(rates);
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return {
    hsPerSec: round(hsPerSec),
    hsPerSecMin: round(Math.min(...rates)),
    hsPerSecMax: round(Math.max(...rates)),
    p50Ms: round(percentile(latencies, 50), 3),
    p99Ms: round(percentile(latencies, 99), 3),
    mid: runs[rates.indexOf(hsPerSec)] ?? runs[0]!,
  };
}

/**
 * The ratio of two figures measured in pairs of adjacent windows (A then B, again and again): the
 * median of each pair's own ratio. Each pair shares its moment's load (on a shared machine the
 * cores another process takes come and go within seconds), so the ratio is steadier than the ratio
 * of two medians taken apart. NaN when no pair has a finite ratio.
 */
export function pairedRatio(pairs: ReadonlyArray<readonly [number, number]>): number {
  const ratios = pairs.map(([a, b]) => a / b).filter((r) => Number.isFinite(r));
  return ratios.length === 0 ? NaN : median(ratios);
}

/** One side of an alternation: measures itself for one window and answers its rate (ops/s). */
export type RateWindow = (windowMs: number) => number | Promise<number>;

export interface Alternation {
  /** Median rate of each side over its windows. */
  a: number;
  b: number;
  /** The median of the rounds' a/b (pairedRatio). */
  ratio: number;
  /** Each round's [a, b]. */
  rounds: Array<[number, number]>;
}

/**
 * Two workloads of this thread measured in alternating windows, A B A B ..., after each has been
 * warmed for warmMs: both sides see the same moments of the machine's load, and the ratio is the
 * median of the rounds' own ratios.
 */
export async function alternate(a: RateWindow, b: RateWindow, options: { rounds: number; windowMs: number; warmMs: number }): Promise<Alternation> {
  await a(options.warmMs);
  await b(options.warmMs);
  const rounds: Array<[number, number]> = [];
  for (let i = 0; i < options.rounds; i++) rounds.push([await a(options.windowMs), await b(options.windowMs)]);
  return { a: median(rounds.map((r) => r[0])), b: median(rounds.map((r) => r[1])), ratio: pairedRatio(rounds), rounds };
}

/** A synchronous operation's rate for one window: calls it in batches of `batch` until windowMs has passed. */
export function syncRate(work: () => void, windowMs: number, batch = 16): number {
  let count = 0;
  const start = performance.now();
  let now = start;
  do {
    for (let i = 0; i < batch; i++) work();
    count += batch;
    now = performance.now();
  } while (now - start < windowMs);
  return count / ((now - start) / 1000);
}

/** An asynchronous operation's rate for one window: awaited one after another until windowMs has passed. */
export async function asyncRate(work: () => Promise<unknown>, windowMs: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  let now = start;
  do {
    await work();
    count++;
    now = performance.now();
  } while (now - start < windowMs);
  return count / ((now - start) / 1000);
}
