// The smallest bench run that still measures every row a test looks at: windows of 150 ms, one
// repetition, one message size, a hundred contexts for the memory row, no socket rows.

import type { BenchOptions } from '../../bench/index.js';

export function smallBench(packages: string[], overrides: Partial<BenchOptions> = {}): BenchOptions {
  return {
    packages,
    concurrency: [1],
    clients: [1],
    durationMs: 150,
    warmupMs: 50,
    repetitions: 1,
    messageSizes: [64],
    messageDurationMs: 50,
    memoryContexts: [100],
    scale: false,
    fairnessMs: 300,
    socketClients: [],
    ...overrides,
  };
}
