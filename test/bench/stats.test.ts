// How the bench takes a ratio (bench/stats.ts): from pairs of adjacent windows, the median of the
// pairs' own ratios; and how two workloads of one thread alternate. Pure arithmetic and call order:
// no rate is measured here.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { interleave, pairedRatio } from '../../bench/stats.js';

describe('pairedRatio', () => {
  it('is the median of each pair’s own ratio, not the ratio of the medians', () => {
    // The load moved between pairs: every pair says 0.5, the medians apart say 200 / 300.
    assert.equal(
      pairedRatio([
        [100, 200],
        [200, 400],
        [300, 600],
      ]),
      0.5,
    );
    assert.equal(
      pairedRatio([
        [1, 10],
        [9, 10],
        [5, 10],
      ]),
      0.5,
    );
  });

  it('leaves out a pair without a finite ratio, and is NaN with none', () => {
    assert.equal(
      pairedRatio([
        [1, 0],
        [1, 4],
      ]),
      0.25,
    );
    assert.ok(Number.isNaN(pairedRatio([])));
    assert.ok(Number.isNaN(pairedRatio([[1, 0]])));
  });
});

describe('interleave', () => {
  /** Busy for about `us` microseconds: work whose batches take time. */
  const spin = (us: number): void => {
    const until = performance.now() + us / 1000;
    while (performance.now() < until);
  };

  it('warms each side, sizes its batches, then measures A, B, A, B ... and gives each side a rate and their ratio', async () => {
    const calls: string[] = [];
    const result = await interleave(
      (n) => {
        calls.push(`a${n}`);
        for (let i = 0; i < n; i++) spin(20);
      },
      async (n) => {
        calls.push(`b${n}`);
        for (let i = 0; i < n; i++) spin(10);
      },
      { totalMs: 20, batchMs: 0.5, warmMs: 1 },
    );
    // The measured batches are the last 2 x batches calls, strictly alternating, each side at its own size.
    const measured = calls.slice(-2 * result.batches);
    assert.ok(result.batches >= 1);
    measured.forEach((call, i) => assert.equal(call, i % 2 === 0 ? `a${result.a.perBatch}` : `b${result.b.perBatch}`));
    for (const side of [result.a, result.b]) {
      assert.ok(side.opsPerSec > 0 && side.wallOpsPerSec > 0 && side.gcShare >= 0 && side.gcShare <= 1, JSON.stringify(side));
      assert.equal(Math.log2(side.perBatch) % 1, 0, 'batch sizes double until a batch takes batchMs');
    }
    // The median of the segments' own ratios: a figure between what the sides' rates say, not computed from them.
    assert.ok(Number.isFinite(result.ratio) && result.ratio > 0);
  });
});
