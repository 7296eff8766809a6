// `sspi-emu soak`: a long load with faults. Four client processes keep 256 handshakes in flight
// each, with sign and seal traffic after every handshake; first a stretch without faults, then one
// where about 1% of calls are hit (LPC messages dropped, duplicated, delayed or reordered; package
// entry points throwing). Afterwards every process is killed and reaped: the LSA's handles must be
// back at the baseline and its heap must not have grown, and the p99 latency of the healthy
// handshakes under faults is compared with the run without them.

import type { Account } from '../lsa/index.js';
import { HandshakeBench, percentile } from '../bench/index.js';
import type { LsaIsolation } from '../machine/index.js';

export interface SoakOptions {
  /** Where the LSA runs (MachineOptions.lsaIsolation); default a worker thread. */
  lsaIsolation?: LsaIsolation;
  spec: string;
  durationMs: number;
  clients: number;
  inFlightPerClient: number;
  /** Share of calls hit by an injected fault (0.01: 1%). */
  faultRate: number;
  seed: number;
}

export interface SoakPhase {
  hsPerSec: number;
  completed: number;
  failed: number;
  byStatus: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
}

export interface SoakReport {
  package: string;
  options: SoakOptions;
  withoutFaults: SoakPhase;
  withFaults: SoakPhase;
  faultsInjected: Record<string, number>;
  p99Ratio: number;
  lsaBefore: { contexts: number; credentials: number; logonSessions: number; heapUsed: number };
  lsaAfter: { contexts: number; credentials: number; logonSessions: number; heapUsed: number };
  /** What every figure had to show: handles back at the baseline, heap not grown, p99 within 2x. */
  verdict: { handlesBack: boolean; heapFlat: boolean; p99Within2x: boolean };
}

const ACCOUNT: Account = { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' };
/** A heap "that does not grow": within this much of the baseline after a full collection. */
const HEAP_TOLERANCE_BYTES = 4 * 1024 * 1024;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const bench = await HandshakeBench.start(options.spec, ACCOUNT, {
    lpcTimeoutMs: 2_000,
    packageCallTimeoutMs: 1_000,
    ...(options.lsaIsolation === undefined ? {} : { lsaIsolation: options.lsaIsolation }),
  });
  try {
    const snapshot = async () => {
      const s = await bench.machine.lsa.stats({ gc: true });
      return { contexts: s.contexts, credentials: s.credentials, logonSessions: s.logonSessions, heapUsed: s.heapUsed };
    };
    const lsaBefore = await snapshot();
    const concurrency = options.clients * options.inFlightPerClient;
    const phaseMs = Math.max(1_000, options.durationMs / 2);
    const phase = async (): Promise<SoakPhase> => {
      const r = await bench.run(concurrency, options.clients, phaseMs, Math.min(2_000, phaseMs / 5), 2);
      const sorted = [...r.latencies].sort((a, b) => a - b);
      return {
        hsPerSec: Math.round(r.hsPerSec),
        completed: r.latencies.length,
        failed: r.failures,
        byStatus: r.byStatus,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      };
    };
    const withoutFaults = await phase();

    // About faultRate of the calls: half of it on the LPC messages of every process, half in the package.
    const link = options.faultRate / 2 / 4;
    const lpc = (seed: number) => ({ seed, drop: link, duplicate: link, delay: link, delayMs: 20, reorder: link });
    await bench.machine.lsa.injectFaults({
      lpc: lpc(options.seed),
      packageFault: { package: bench.packageName, entry: '*', kind: 'throw', probability: options.faultRate / 2, seed: options.seed + 1 },
    });
    const processes = [bench.server, ...bench.clients];
    for (const [i, p] of processes.entries()) await p.injectFaults({ lpc: lpc(options.seed + 10 + i) });
    const withFaults = await phase();
    const faultsInjected: Record<string, number> = {};
    const add = (counts: Record<string, number>): void => {
      for (const [k, v] of Object.entries(counts)) faultsInjected[k] = (faultsInjected[k] ?? 0) + v;
    };
    add(await bench.machine.lsa.injectFaults(null));
    for (const p of processes) add(await p.injectFaults(null));

    // Every app process goes; the LSA reaps what they held, orphans of duplicated calls included.
    for (const p of processes) await bench.machine.kill(p);
    const lsaAfter = await snapshot();
    const p99Ratio = withFaults.p99Ms / withoutFaults.p99Ms;
    return {
      package: bench.packageName,
      options,
      withoutFaults,
      withFaults,
      faultsInjected,
      p99Ratio: Math.round(p99Ratio * 100) / 100,
      lsaBefore,
      lsaAfter,
      verdict: {
        handlesBack:
          lsaAfter.contexts === lsaBefore.contexts && lsaAfter.credentials === lsaBefore.credentials && lsaAfter.logonSessions === lsaBefore.logonSessions,
        heapFlat: lsaAfter.heapUsed - lsaBefore.heapUsed < HEAP_TOLERANCE_BYTES,
        p99Within2x: p99Ratio <= 2,
      },
    };
  } finally {
    await bench.stop();
  }
}
