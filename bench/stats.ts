// Small statistics for benchmark rows: percentiles, medians over repetitions, event-loop
// utilization of workers, and naming the bottleneck.

import { PerformanceObserver, performance, type EventLoopUtilization } from 'node:perf_hooks';
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

/** One side of an interleaving: runs its operation n times (a batch). */
export type Batch = (n: number) => void | Promise<void>;

/** What an interleaving says of one side. */
export interface InterleavedSide {
  /**
   * Operations per second of the thread's own time: n over the lower quartile of its batches' times
   * without garbage collection, plus the collection this side's batches held on average (their pauses
   * counted at the lower quartile of all pauses, so that a pause a preemption stretched does not
   * count longer); the median of the segments'.
   */
  opsPerSec: number;
  /** Operations per second of wall time over all its batches, every preemption included. */
  wallOpsPerSec: number;
  /** The share of its time the garbage collection above is. */
  gcShare: number;
  /** Operations per batch. */
  perBatch: number;
}

export interface Interleaving {
  a: InterleavedSide;
  b: InterleavedSide;
  /** The median of the segments' own a / b. */
  ratio: number;
  /** Batches of each side. */
  batches: number;
}

/** Batches of each side an interleaving takes at least (unless the machine starves it). */
const MIN_BATCHES = 100;
/** Runs of consecutive batches an interleaving is judged in, each on its own (their median is reported). */
const SEGMENTS = 5;
/**
 * Which batch time stands for a side's work: the lower quartile. A wait for a core only ever
 * lengthens a batch, and on this 2-core machine shared with other suites more than half of a
 * side's batches were sometimes waited in (the median then read 0.3 to 2.3 of the same ratio); the
 * batches that ran through differ by a few percent, the same on both sides.
 */
const BATCH_QUANTILE = 25;

/**
 * Two workloads of this thread measured in batches of about batchMs each, interleaved (A, B, A,
 * B, ...) for totalMs, after each has been warmed for warmMs. On a machine with more runnable
 * threads than cores a thread runs in slices of several ms and waits between them: a window of
 * either side measures as much the waits as the work, and two windows taken apart see different
 * waits (the same code measured 0.13 to 0.99 of itself that way here). A batch of a millisecond
 * mostly runs within one slice, so the lower quartile of the batches is the work alone, on both
 * sides alike; the garbage collection a side causes is added back from the collector's own reports
 * (node:perf_hooks "gc" entries) that fall in its batches. The wall-clock rates are reported
 * beside it.
 */
export async function interleave(a: Batch, b: Batch, options: { totalMs: number; batchMs: number; warmMs: number }): Promise<Interleaving> {
  const warm = async (side: Batch): Promise<void> => {
    const start = performance.now();
    do await side(16);
    while (performance.now() - start < options.warmMs);
  };
  await warm(a);
  await warm(b);
  const perBatch = async (side: Batch): Promise<number> => {
    let n = 1;
    for (;;) {
      const start = performance.now();
      await side(n);
      if (performance.now() - start >= options.batchMs || n >= 1 << 20) return n;
      n *= 2;
    }
  };
  const na = await perBatch(a);
  const nb = await perBatch(b);
  const gcs: Array<{ startTime: number; duration: number }> = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const aSpans: Array<[number, number]> = [];
  const bSpans: Array<[number, number]> = [];
  try {
    const start = performance.now();
    let t = start;
    do {
      await a(na);
      const u = performance.now();
      aSpans.push([t, u]);
      await b(nb);
      t = performance.now();
      bSpans.push([u, t]);
      // Enough batches for the quartile below, unless the machine leaves this thread almost no time.
    } while (t - start < options.totalMs || (aSpans.length < MIN_BATCHES && t - start < 4 * options.totalMs));
    // The collector's entries arrive on a later turn of the event loop.
    await new Promise<void>((resolve) => setImmediate(resolve));
    gcs.push(...observer.takeRecords());
  } finally {
    observer.disconnect();
  }
  // A pause is counted at the lower quartile of all pauses, as a batch is: a scavenge's helper
  // threads wait for cores too (here 0.3 to 0.7 ms a pause, and a tail to 70 ms under load).
  const pauseMs =
    gcs.length === 0
      ? 0
      : percentile(
          gcs.map((g) => g.duration).sort((x, y) => x - y),
          BATCH_QUANTILE,
        );
  /** Each batch's time without the collector's pauses in it, and the pauses counted over all of a side's batches. */
  const withoutPauses = (batches: Array<[number, number]>): { net: number[]; gcPerBatch: number } => {
    let pauses = 0;
    const net = batches.map(([from, to]) => {
      let gc = 0;
      for (const g of gcs)
        if (g.startTime >= from && g.startTime < to) {
          gc += g.duration;
          pauses++;
        }
      return to - from - gc;
    });
    return { net, gcPerBatch: (pauses * pauseMs) / batches.length };
  };
  const aNet = withoutPauses(aSpans);
  const bNet = withoutPauses(bSpans);
  const side = (net: number[], gcPerBatch: number, n: number): { opsPerSec: number; gcShare: number } => {
    const batchMs =
      percentile(
        [...net].sort((x, y) => x - y),
        BATCH_QUANTILE,
      ) + gcPerBatch;
    return { opsPerSec: (n * 1000) / batchMs, gcShare: gcPerBatch / batchMs };
  };
  // Each of SEGMENTS runs of consecutive batches is judged on its own, and the median taken: a
  // stretch where the machine left this thread little time moves one. The collection is counted
  // over the whole run: a few dozen pauses, too few to split (each lands in whichever side's batch
  // filled the young generation, and both sides allocate).
  // Fewer segments when the machine left time for fewer batches than that (an empty one has no rate).
  const segmentCount = Math.min(SEGMENTS, aSpans.length);
  const segments = Array.from({ length: segmentCount }, (_, i) => {
    const from = Math.floor((i * aSpans.length) / segmentCount);
    const to = Math.floor(((i + 1) * aSpans.length) / segmentCount);
    const sa = side(aNet.net.slice(from, to), aNet.gcPerBatch, na);
    const sb = side(bNet.net.slice(from, to), bNet.gcPerBatch, nb);
    return { a: sa, b: sb, ratio: sa.opsPerSec / sb.opsPerSec };
  });
  const wallOf = (batches: Array<[number, number]>, n: number): number => (n * batches.length * 1000) / batches.reduce((sum, [from, to]) => sum + to - from, 0);
  const figures = (
    pick: (s: (typeof segments)[number]) => { opsPerSec: number; gcShare: number },
    batches: Array<[number, number]>,
    n: number,
  ): InterleavedSide => ({
    opsPerSec: median(segments.map((s) => pick(s).opsPerSec)),
    wallOpsPerSec: wallOf(batches, n),
    gcShare: round(median(segments.map((s) => pick(s).gcShare)), 3),
    perBatch: n,
  });
  return {
    a: figures((s) => s.a, aSpans, na),
    b: figures((s) => s.b, bSpans, nb),
    ratio: median(segments.map((s) => s.ratio)),
    batches: aSpans.length,
  };
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
