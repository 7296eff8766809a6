// `sspi-emu bench`: handshake and message throughput across the isolation boundaries, against
// the raw limit and against a peer, all in one run (these machines are shared and noisy, so every
// figure is reported next to its baselines from the same run, as a ratio).

import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { BUILTIN_PACKAGES, type Account } from '../lsa/index.js';
import { HandshakeBench, PATH_WARM_MS, type HandshakeRun } from './handshakes.js';
import { idealRun } from './ideal.js';
import { inProcessBaseline, inProcessMessageOpsPerSecond } from './in-process.js';
import { httpntlmClientOpsPerSecond, type PeerFigures } from './peer.js';
import { fairnessRows, type FairnessRow } from './fairness.js';
import { poolRows, type PoolReport } from './pool.js';
import { bottleneck, median, pairedRatio, repetitions, round, type RateFigures } from './stats.js';
import { cryptoFloorRow, cryptoTargets, type CryptoFloorRow } from './crypto-floor.js';
import type { MessageFigures } from './apps/messages.js';
import { target, type Target } from './targets.js';
import { hopRow, type HopRow } from './hops.js';
import { httpSocketRows, type SocketRow } from './http-sockets.js';
import { isolationRows, type IsolationRow } from './isolation.js';
import type { LsaIsolation } from '../machine/index.js';
import { kerberosRows, type KerberosReport } from './kerberos.js';
import { domainRows, type DomainReport } from './domain.js';

export interface BenchOptions {
  packages: string[];
  concurrency: number[];
  clients: number[];
  durationMs: number;
  warmupMs: number;
  repetitions: number;
  messageSizes: number[];
  messageDurationMs: number;
  /** Live contexts at which to measure the LSA's heap per context. */
  memoryContexts: number[];
  /** Also hold 1,000,000 established contexts and report the LSA's heap. */
  scale: boolean;
  /** How long each phase of a fairness row runs (default: 3 s, or twice durationMs when longer). */
  fairnessMs?: number;
  /** Load-generator clients of the HTTP socket rows (bench/http-sockets.ts); none: no socket rows. */
  socketClients?: number[];
  /** How long each phase of an LSA work pool row runs (default: 1.5 s, or twice durationMs when longer). */
  poolMs?: number;
  /** Where the LSA of the handshake, message and memory rows runs (default a worker thread); the isolation rows measure both. */
  lsaIsolation?: LsaIsolation;
  /** Handshakes in flight of the Kerberos rows (bench/kerberos.ts), run when Negotiate or Kerberos is measured; none: no Kerberos rows. */
  kerberosConcurrency?: number[];
  progress?: (done: number, total: number, label: string) => void;
  /** Told when a part of the run fails (it is also in the report's `failed`); the run goes on. */
  onFailure?: (section: string, error: string) => void;
  /** Handed the report as soon as it exists; it fills in row by row (an interrupted run writes what it holds). */
  started?: (report: BenchReport) => void;
}

export const QUICK: Omit<BenchOptions, 'packages' | 'progress' | 'scale'> = {
  concurrency: [1, 64],
  clients: [1, 2],
  durationMs: 250,
  warmupMs: 100,
  repetitions: 3,
  messageSizes: [64, 1024, 65536],
  messageDurationMs: 120,
  memoryContexts: [2000],
  socketClients: [1, 32],
  kerberosConcurrency: [8],
};

export const DEFAULTS: Omit<BenchOptions, 'packages' | 'progress' | 'scale'> = {
  concurrency: [1, 8, 64, 256],
  clients: [1, 2, 4],
  durationMs: 1500,
  warmupMs: 400,
  repetitions: 3,
  messageSizes: [64, 1024, 65536],
  messageDurationMs: 500,
  memoryContexts: [10_000, 100_000],
  socketClients: [1, 8, 32],
  kerberosConcurrency: [1, 16],
};

/**
 * The full path's ceiling in the same run: the ideal baseline makes the same hops between the same
 * threads with no package work at all, so the full path, which does the package's work on top of
 * them, reaches at most about what it does unless its hops cost less than bare messages.
 */
function fullPathCeiling(row: HandshakeRow): string | undefined {
  if (!(row.inProcessHsPerSec > 0) || !(row.idealHsPerSec > 0)) return undefined;
  const ideal = Math.round((row.idealHsPerSec / row.inProcessHsPerSec) * 1000) / 1000;
  return (
    `(the ideal raw-message baseline, the same hops with no package work: ${ideal} of NTLM in-process; ` +
    `the full path ${Math.round(row.cpuUsPerHandshake)} us of CPU a handshake on ${row.cpuCores.toFixed(2)} cores, the ideal ${Math.round(row.idealCpuUsPerHandshake)})`
  );
}

export interface HandshakeRow extends RateFigures {
  package: string;
  concurrency: number;
  clients: number;
  /** The ideal baseline: the median of its windows, each right after one of the row's (bench/ideal.ts). */
  idealHsPerSec: number;
  /** The in-process baseline: the median of its windows, each right before one of the row's (bench/in-process.ts). */
  inProcessHsPerSec: number;
  /** The median of each repetition's hs/s over its adjacent ideal window's (pairedRatio). */
  ratioToIdeal: number;
  /** The median of each repetition's hs/s over its adjacent in-process window's. */
  ratioToInProcess: number;
  /**
   * CPU time of the whole OS process (every thread) per handshake, in us, full path and ideal
   * (medians of the repetitions), and the median of the repetitions' ideal / full path: the share
   * of the ideal's cost the full path adds up to, whatever cores the machine's other load left.
   */
  cpuUsPerHandshake: number;
  idealCpuUsPerHandshake: number;
  cpuRatioToIdeal: number;
  bottleneck: string;
  elu: Record<string, number>;
  cpuCores: number;
  failures: number;
}

export interface MessageRow {
  package: string;
  op: 'sign+verify' | 'seal+unseal';
  size: number;
  /** The mapped operation over a window (wall clock). */
  mappedOpsPerSec: number;
  /**
   * The raw baseline: with primitives, interleaved with the mapped operation in batches of the
   * app's thread (bench/stats.ts interleave: a rate of the thread's own time); for a loaded
   * package, a window of its own user-mode functions in this thread.
   */
  rawOpsPerSec: number;
  /**
   * What rawOpsPerSec measured: the package's cryptographic primitives alone (bench/primitives.ts:
   * the built-in packages), or, for a package loaded with --load, its own user-mode functions
   * called directly in one thread (bench/in-process.ts).
   */
  rawBaseline: 'primitives' | 'package in-process';
  /**
   * Mapped over raw: with primitives, the interleaved batches' (the mapped rate there in
   * `interleaved`); for a loaded package, the two windows'.
   */
  mappedOverRaw: number;
  /** With primitives: the mapped operation's rate in the interleaving, the same batches' wall-clock rates, each side's GC share; null without. */
  interleaved: {
    mappedOpsPerSec: number;
    wall: { mappedOpsPerSec: number; rawOpsPerSec: number };
    gcShare: { mapped: number; raw: number };
    batches: number;
  } | null;
  lpcOpsPerSec: number;
  mappedMBps: number;
  mappedOverLpc: number;
}

export interface BenchReport {
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  options: Omit<BenchOptions, 'progress'>;
  handshakes: HandshakeRow[];
  messages: MessageRow[];
  memory: {
    /** LSA heap bytes per live context, by package, at the largest count measured. */
    lsaBytesPerContext: Record<string, number>;
    /** Every measurement: live contexts, bytes per context, the LSA's heap then. */
    measurements: Record<string, Array<{ contexts: number; bytesPerContext: number; lsaHeapBytes: number }>>;
    lsaBytesPerLogonSession: number;
    scale?: { contexts: number; lsaHeapBytes: number };
  };
  peer: Array<PeerFigures | { name: string; skipped: string }>;
  /** A well-behaved process's handshake latency while another floods the LSA (bench/fairness.ts). */
  fairness: FairnessRow[];
  /** One handshake hop by hop, per package, from its row with one handshake in flight (bench/hops.ts). */
  hops: HopRow[];
  /** HTTP NTLM handshakes over loopback sockets against `serve --http`'s app, beside plain node:http (bench/http-sockets.ts). */
  sockets: SocketRow[];
  /** The LSA's work pool off, at 1 and at 2 threads, under PBKDF2 load, when the example package is benchmarked (bench/pool.ts). */
  pool: PoolReport | null;
  /**
   * The domain, when NTLM is benchmarked (bench/domain.ts): the DC's KDC AS and TGS requests/s over
   * TCP with the LSA's work pool off and on, the time to make a DC's keys, and NTLM handshakes
   * passed through to the DC beside the same handshakes checked locally.
   */
  domain: DomainReport | null;
  /** Each package's handshake cryptography alone, in one thread, beside its in-process baseline (bench/crypto-floor.ts). */
  cryptoFloor: CryptoFloorRow[];
  /** Handshakes with the LSA in a worker thread and in its own OS process, side by side (bench/isolation.ts). */
  isolation: IsolationRow[];
  /**
   * Kerberos handshakes against a domain controller's KDC on loopback: a cached service ticket, a
   * TGS exchange each handshake, a new credential each handshake, the LSAs' work pool off and on
   * (bench/kerberos.ts); null when neither Negotiate nor Kerberos is measured.
   */
  kerberos: KerberosReport | null;
  /** Each goal of the performance issue measured in this run (bench/targets.ts). */
  targets: Target[];
  /**
   * The parts of the run that failed, each with its error: the run goes on to the next part, and
   * what the others measured is reported (a run of 25 minutes is not lost to one row that throws).
   */
  failed: Array<{ section: string; error: string }>;
  /** Set when the run was stopped (SIGINT, SIGTERM) before its end: the rows are those measured by then. */
  interrupted?: string;
}

/** The domain rows' pool sizes (off, and the default) and handshakes in flight; one progress step per KDC exchange, per keys row, per pass-through row. */
const DOMAIN_POOL_THREADS = [0, 1];
const DOMAIN_CONCURRENCY = [1, 8];
const DOMAIN_STEPS = 2 + DOMAIN_POOL_THREADS.length + DOMAIN_CONCURRENCY.length;

/** The batches of interleaved single-thread measurements (bench/stats.ts interleave): about a millisecond. */
const BATCH_MS = 1;

const ACCOUNT: Account = { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' };
const MESSAGES_APP = fileURLToPath(new URL('./apps/messages.js', import.meta.url));

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const report: BenchReport = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', node: process.version, platform: `${process.platform} ${process.arch}` },
    options: { ...options, progress: undefined, onFailure: undefined, started: undefined } as Omit<BenchOptions, 'progress'>,
    handshakes: [],
    messages: [],
    memory: { lsaBytesPerContext: {}, measurements: {}, lsaBytesPerLogonSession: 0 },
    peer: [],
    fairness: [],
    hops: [],
    sockets: [],
    pool: null,
    domain: null,
    cryptoFloor: [],
    isolation: [],
    kerberos: null,
    targets: [],
    failed: [],
  };
  options.started?.(report);
  /** Runs one part of the bench; an error is recorded (and said through `onFailure`) and the run goes on. */
  const section = async (name: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      const said = error instanceof Error ? (error.stack ?? error.message) : String(error);
      report.failed.push({ section: name, error: said });
      options.onFailure?.(name, said);
    }
  };
  // Kerberos needs a domain: its handshakes are the Kerberos rows, not the generic ones.
  const generic = options.packages.filter((p) => p.toLowerCase() !== 'kerberos');
  const kerberosConcurrency = options.packages.some((p) => ['kerberos', 'negotiate'].includes(p.toLowerCase())) ? (options.kerberosConcurrency ?? []) : [];
  const kerberosPools = [0, 1];
  const rowsPerPackage = options.concurrency.length * options.clients.length;
  const isolationSpecs = options.packages.filter((p) => p === 'null' || p === 'ntlm');
  const isolationConcurrency = options.concurrency.filter((c) => c === 1 || c === 64);
  const total =
    generic.length * (rowsPerPackage + 3) +
    kerberosConcurrency.length * kerberosPools.length +
    2 +
    (options.socketClients?.length ?? 0) +
    (options.packages.includes('example') ? 1 : 0) +
    (options.packages.includes('ntlm') ? DOMAIN_STEPS : 0) +
    isolationSpecs.length * isolationConcurrency.length;
  let done = 0;
  const step = (label: string): void => options.progress?.(++done, total, label);

  for (const spec of generic) await section(`${spec}: handshakes, messages, memory`, () => packageRows(spec, options, report, step, spec === generic[0]));
  await section('peer', async () => {
    report.peer.push(httpntlmClientOpsPerSecond(Math.max(300, options.messageDurationMs)));
    step('peer');
  });
  const fairSpec = generic.includes('ntlm') ? 'ntlm' : (generic[0] ?? 'ntlm');
  await section('fairness', async () => {
    report.fairness = await fairnessRows({
      spec: fairSpec,
      account: ACCOUNT,
      durationMs: options.fairnessMs ?? Math.max(3_000, options.durationMs * 2),
      ...(options.lsaIsolation === undefined ? {} : { lsaIsolation: options.lsaIsolation }),
    });
    step('fairness');
  });
  await section('HTTP sockets', async () => {
    report.sockets = await httpSocketRows({
      clients: options.socketClients ?? [],
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      repetitions: options.repetitions,
      // 10 s in a default run, 2.5 s with --quick: the NTLM path's compiler settles in about 10 s of load.
      serverWarmMs: 25 * options.warmupMs,
      account: ACCOUNT,
      progress: step,
    });
  });
  await section('LSA isolation', async () => {
    report.isolation = await isolationRows({
      specs: isolationSpecs,
      account: ACCOUNT,
      concurrency: isolationConcurrency,
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      repetitions: options.repetitions,
      progress: step,
    });
  });
  if (kerberosConcurrency.length > 0)
    await section('Kerberos', async () => {
      report.kerberos = await kerberosRows({
        durationMs: options.durationMs,
        warmupMs: options.warmupMs,
        repetitions: options.repetitions,
        concurrency: kerberosConcurrency,
        poolThreads: kerberosPools,
        progress: step,
      });
    });
  if (options.packages.includes('example'))
    await section('LSA work pool', async () => {
      report.pool = await poolRows({ account: ACCOUNT, durationMs: options.poolMs ?? Math.max(1_500, options.durationMs * 2) });
      step('LSA work pool');
    });

  if (options.packages.includes('ntlm'))
    await section('domain', async () => {
      report.domain = await domainRows({
        durationMs: options.durationMs,
        repetitions: options.repetitions,
        kdcLanes: 8,
        poolThreads: DOMAIN_POOL_THREADS,
        users: 20,
        concurrency: DOMAIN_CONCURRENCY,
        progress: step,
      });
    });

  report.targets = targetsOf(report);
  return report;
}

/**
 * One package's rows: its in-process baseline and crypto floor, the handshake rows at each
 * concurrency and client count (each repetition beside its baselines), the message rows, and the
 * LSA's memory per context (and, with --scale, for the package measured first, 500,000 handshakes).
 */
async function packageRows(spec: string, options: BenchOptions, report: BenchReport, step: (label: string) => void, holdAtScale: boolean): Promise<void> {
  // The in-process baseline stays in this thread for the package's rows: measured in windows next to the figures it is a baseline of.
  const inProcess = await inProcessBaseline({ spec, account: ACCOUNT, warmMs: Math.max(300, options.durationMs) });
  const sizes = [0, 1, 2].map((i) => inProcess.legSizes[i] ?? 16) as [number, number, number];
  const floor = await cryptoFloorRow(spec, ACCOUNT, inProcess.handshakes, {
    totalMs: 2 * Math.max(300, options.durationMs),
    batchMs: BATCH_MS,
    warmMs: Math.max(300, options.durationMs),
  });
  if (floor !== undefined) report.cryptoFloor.push(floor);
  step(`${spec}: in-process baseline`);
  const bench = await HandshakeBench.start(spec, ACCOUNT, options.lsaIsolation === undefined ? {} : { lsaIsolation: options.lsaIsolation });
  try {
    // Warm the path first (as the baselines are): the first seconds of handshakes run V8's
    // unoptimized code, and a short row measured then reads a fraction of the path's speed.
    await bench.run(64, 1, Math.max(PATH_WARM_MS, 2 * options.durationMs), 0);
    for (const concurrency of options.concurrency) {
      for (const clients of options.clients) {
        const runs: HandshakeRun[] = [];
        const ideals: HandshakeRun[] = [];
        const inProcessRates: number[] = [];
        // Each repetition: an in-process window, the row, an ideal window. Each baseline is measured
        // next to the row's window, and each ratio is the median of the repetitions' own.
        for (let r = 0; r < options.repetitions; r++) {
          inProcessRates.push(await inProcess.window(options.durationMs));
          runs.push(await bench.run(concurrency, clients, options.durationMs, options.warmupMs));
          ideals.push(await idealRun({ legs: sizes }, concurrency, clients, options.durationMs, options.warmupMs));
        }
        const { mid, ...rate } = repetitions(runs);
        const cpuUs = (x: { cpuCores: number; hsPerSec: number }): number => (x.cpuCores * 1e6) / x.hsPerSec;
        report.handshakes.push({
          package: bench.packageName,
          concurrency,
          clients,
          ...rate,
          idealHsPerSec: round(median(ideals.map((x) => x.hsPerSec))),
          inProcessHsPerSec: round(median(inProcessRates)),
          ratioToIdeal: round(pairedRatio(runs.map((x, i) => [x.hsPerSec, ideals[i]!.hsPerSec])), 3),
          ratioToInProcess: round(pairedRatio(runs.map((x, i) => [x.hsPerSec, inProcessRates[i]!])), 3),
          cpuUsPerHandshake: round(median(runs.map(cpuUs))),
          idealCpuUsPerHandshake: round(median(ideals.map(cpuUs))),
          cpuRatioToIdeal: round(pairedRatio(runs.map((x, i) => [cpuUs(ideals[i]!), cpuUs(x)])), 3),
          bottleneck: bottleneck(mid.elu),
          elu: mid.elu,
          cpuCores: mid.cpuCores,
          failures: runs.reduce((n, x) => n + x.failures, 0),
        });
        if (concurrency === 1 && clients === 1 && mid.hops !== undefined) {
          const hop = hopRow(bench.packageName, mid.hops);
          if (hop !== undefined) report.hops.push(hop);
        }
        step(`${bench.packageName}: ${concurrency} in flight, ${clients} client(s)`);
      }
    }

    const messages = await bench.clients[0]!.runApp(MESSAGES_APP, {
      package: bench.packageName,
      user: ACCOUNT.user,
      domain: ACCOUNT.domain,
      password: ACCOUNT.password,
      sizes: options.messageSizes,
      durationMs: options.messageDurationMs,
      // A module of the user's may call its package by a built-in's name: its raw baseline is its own functions.
      primitives: BUILTIN_PACKAGES.has(spec.toLowerCase()),
    });
    for (const f of (messages.data as { figures?: MessageFigures[] } | undefined)?.figures ?? []) {
      // The built-in packages' primitives ran in the app's thread, interleaved with the mapped
      // operation; a loaded package's own user-mode functions run here, after it.
      const raw =
        f.interleaved === undefined
          ? await inProcessMessageOpsPerSecond({ spec, account: ACCOUNT }, f.op, f.size, options.messageDurationMs)
          : f.interleaved.rawOpsPerSec;
      report.messages.push({
        package: bench.packageName,
        op: f.op,
        size: f.size,
        mappedOpsPerSec: round(f.mappedOpsPerSec),
        rawOpsPerSec: round(raw),
        rawBaseline: f.interleaved === undefined ? 'package in-process' : 'primitives',
        mappedOverRaw: round(f.interleaved === undefined ? f.mappedOpsPerSec / raw : f.interleaved.mappedOverRaw, 3),
        interleaved:
          f.interleaved === undefined
            ? null
            : {
                mappedOpsPerSec: round(f.interleaved.mappedOpsPerSec),
                wall: { mappedOpsPerSec: round(f.interleaved.wall.mappedOpsPerSec), rawOpsPerSec: round(f.interleaved.wall.rawOpsPerSec) },
                gcShare: f.interleaved.gcShare,
                batches: f.interleaved.batches,
              },
        lpcOpsPerSec: round(f.lpcOpsPerSec),
        mappedMBps: round((f.mappedOpsPerSec * f.size) / 1e6, 2),
        mappedOverLpc: round(f.mappedOpsPerSec / f.lpcOpsPerSec, 2),
      });
    }
    step(`${bench.packageName}: messages`);

    const measured: Array<{ contexts: number; bytesPerContext: number; lsaHeapBytes: number }> = [];
    for (const contexts of options.memoryContexts) {
      const filled = await bench.fill(Math.ceil(contexts / 2));
      measured.push({ contexts: filled.contexts, bytesPerContext: round(filled.bytesPerContext), lsaHeapBytes: filled.lsaHeapBytes });
    }
    report.memory.measurements[bench.packageName] = measured;
    if (measured.length > 0) report.memory.lsaBytesPerContext[bench.packageName] = measured.at(-1)!.bytesPerContext;
    if (options.scale && holdAtScale) {
      const filled = await bench.fill(500_000);
      report.memory.scale = { contexts: filled.contexts, lsaHeapBytes: filled.lsaHeapBytes };
    }
    if (report.memory.lsaBytesPerLogonSession === 0) report.memory.lsaBytesPerLogonSession = round(await bench.machine.lsa.logonSessionBytes(10_000));
    step(`${bench.packageName}: memory`);
  } finally {
    await bench.stop();
  }
}

/** The performance issue's targets, from the rows a report holds (a target whose rows are missing is left out). */
export function targetsOf(report: Pick<BenchReport, 'handshakes' | 'fairness' | 'sockets' | 'pool' | 'cryptoFloor' | 'messages' | 'memory'>): Target[] {
  const targets: Target[] = [];
  const at64 = (name: string): HandshakeRow | undefined =>
    report.handshakes.find((r) => r.package === name && r.concurrency === 64 && r.clients === 1) ??
    report.handshakes.find((r) => r.package === name && r.concurrency === 64);
  const nullRow = at64('Null');
  if (nullRow !== undefined) targets.push(target('Null, 64 in flight: hs/s / the ideal raw-message baseline', nullRow.ratioToIdeal, '>=', 0.8));
  for (const fair of report.fairness.filter((r) => r.flood !== 'SSPI acquires, scheduler limits lifted'))
    targets.push(target(`${fair.package}: p99 of a handshake while another process floods (${fair.flood}) / alone`, fair.p99Ratio ?? Infinity, '<=', 3));
  const ntlmRow = at64('NTLM');
  if (ntlmRow !== undefined)
    targets.push(target('NTLM full path, 64 in flight / NTLM in-process', ntlmRow.ratioToInProcess, '>=', 0.7, fullPathCeiling(ntlmRow)));
  const socketRow = report.sockets.filter((r) => r.ratioToPlain !== null).at(-1);
  if (socketRow !== undefined)
    targets.push(target(`HTTP NTLM over sockets / plain node:http, same requests (${socketRow.clients} clients)`, socketRow.ratioToPlain!, '>=', 0.5));
  if (report.pool !== null)
    targets.push(
      target(
        `cheap-call p99 while another process runs PBKDF2-heavy acquires, pool on (${report.pool.defaultThreads}) / off`,
        report.pool.p99OnOverOff ?? Infinity,
        '<=',
        0.5,
      ),
    );
  targets.push(...cryptoTargets(report));
  return targets;
}
