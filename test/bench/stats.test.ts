// How the bench takes a ratio (bench/stats.ts): from pairs of adjacent windows, the median of the
// pairs' own ratios; and how two workloads of one thread alternate. Pure arithmetic and call order:
// no rate is measured here.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alternate, pairedRatio, syncRate } from '../../bench/stats.js';

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

describe('alternate', () => {
  it('warms each side once, then measures A, B, A, B ... and reports each side’s median and the rounds’ ratio', async () => {
    const calls: string[] = [];
    let a = 0;
    const rates = [10, 20, 30];
    const result = await alternate(
      (ms) => {
        calls.push(`a${ms}`);
        return ms === 5 ? 1 : rates[a++]!;
      },
      async (ms) => {
        calls.push(`b${ms}`);
        return ms === 5 ? 1 : 10;
      },
      { rounds: 3, windowMs: 2, warmMs: 5 },
    );
    assert.deepEqual(calls, ['a5', 'b5', 'a2', 'b2', 'a2', 'b2', 'a2', 'b2']);
    assert.deepEqual(result.rounds, [
      [10, 10],
      [20, 10],
      [30, 10],
    ]);
    assert.equal(result.a, 20);
    assert.equal(result.b, 10);
    assert.equal(result.ratio, 2);
  });

  it('counts a synchronous operation by the batch, for at least its window', () => {
    let n = 0;
    const rate = syncRate(() => n++, 1, 4);
    assert.ok(n >= 4 && n % 4 === 0);
    assert.ok(rate > 0);
  });
});
