// What an LSA in its own OS process costs (lsaIsolation: 'process'): the same handshakes, same
// package, same processes and load, with the LSA in a worker thread and then in a process of its
// own (LPC over a Unix socket instead of MessagePorts), side by side in one run, as a ratio.
// Alternating the two modes per repetition keeps a drift in the machine's load out of the ratio.

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Account } from '../lsa/index.js';
import type { LsaIsolation } from '../machine/index.js';
import { HandshakeBench, PATH_WARM_MS, type HandshakeRun } from './handshakes.js';
import { bottleneck, repetitions, round, type RateFigures } from './stats.js';

export interface IsolationRow {
  package: string;
  concurrency: number;
  thread: RateFigures & { bottleneck: string };
  process: RateFigures & { bottleneck: string };
  /** hs/s with the LSA in its own process / hs/s with it in a worker thread. */
  processOverThread: number;
}

export interface IsolationOptions {
  specs: string[];
  account: Account;
  concurrency: number[];
  durationMs: number;
  warmupMs: number;
  repetitions: number;
  progress?: (label: string) => void;
}

export async function isolationRows(options: IsolationOptions): Promise<IsolationRow[]> {
  const rows: IsolationRow[] = [];
  for (const spec of options.specs) {
    const benches = {} as Record<LsaIsolation, HandshakeBench>;
    try {
      for (const lsaIsolation of ['thread', 'process'] as const) {
        benches[lsaIsolation] = await HandshakeBench.start(spec, options.account, { lsaIsolation });
        // Warm, as the main rows are: V8's first second of the path is not its speed.
        await benches[lsaIsolation].run(64, 1, Math.max(PATH_WARM_MS, 2 * options.durationMs), 0);
      }
      for (const concurrency of options.concurrency) {
        const runs: Record<LsaIsolation, HandshakeRun[]> = { thread: [], process: [] };
        for (let r = 0; r < options.repetitions; r++)
          for (const mode of ['thread', 'process'] as const) runs[mode].push(await benches[mode].run(concurrency, 1, options.durationMs, options.warmupMs));
        const figures = (mode: LsaIsolation): RateFigures & { bottleneck: string } => {
          const { mid, ...rate } = repetitions(runs[mode]);
          return { ...rate, bottleneck: bottleneck(mid.elu) };
        };
        const thread = figures('thread');
        const process = figures('process');
        rows.push({ package: benches.thread.packageName, concurrency, thread, process, processOverThread: round(process.hsPerSec / thread.hsPerSec, 3) });
        options.progress?.(`${benches.thread.packageName}: LSA isolation, ${concurrency} in flight`);
      }
    } finally {
      await Promise.all(Object.values(benches).map((b) => b.stop()));
    }
  }
  return rows;
}

/** The rows as a table. */
export function formatIsolation(rows: IsolationRow[]): string {
  const out = ['package  in flight  thread hs/s (p50 / p99 ms)   process hs/s (p50 / p99 ms)   process / thread'];
  for (const r of rows)
    out.push(
      `${r.package.padEnd(8)} ${String(r.concurrency).padStart(9)}  ${`${r.thread.hsPerSec} (${r.thread.p50Ms} / ${r.thread.p99Ms})`.padEnd(28)} ${`${r.process.hsPerSec} (${r.process.p50Ms} / ${r.process.p99Ms})`.padEnd(29)} ${r.processOverThread}`,
    );
  return out.join('\n');
}

// Runnable alone: node dist/bench/isolation.js [--package null --package ntlm] [--duration S] [--repetitions N]
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { package: { type: 'string', multiple: true }, duration: { type: 'string' }, repetitions: { type: 'string' } } });
  const rows = await isolationRows({
    specs: values.package ?? ['null', 'ntlm'],
    account: { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' },
    concurrency: [1, 64],
    durationMs: Number(values.duration ?? 2) * 1000,
    warmupMs: 300,
    repetitions: Number(values.repetitions ?? 5),
  });
  console.log(formatIsolation(rows));
}
