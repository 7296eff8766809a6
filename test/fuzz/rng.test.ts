// The fuzzer's random numbers: input #i of a generator depends only on the run seed, the
// generator's name and i, so any input can be replayed alone.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inputSeed, Rng } from '../../fuzz/rng.js';

describe('the fuzzer random number generator', () => {
  test('gives the same sequence for the same seed and another for another seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const first = Array.from({ length: 64 }, () => a.next());
    assert.deepEqual(
      Array.from({ length: 64 }, () => b.next()),
      first,
    );
    assert.notDeepEqual(
      Array.from({ length: 64 }, () => c.next()),
      first,
    );
  });

  test('derives an input seed from the run seed, the generator and the index alone', () => {
    assert.equal(inputSeed(1, 'ntlm/authenticate', 4711), inputSeed(1, 'ntlm/authenticate', 4711));
    const seeds = new Set([
      inputSeed(1, 'ntlm/authenticate', 4711),
      inputSeed(2, 'ntlm/authenticate', 4711),
      inputSeed(1, 'ntlm/negotiate', 4711),
      inputSeed(1, 'ntlm/authenticate', 4712),
    ]);
    assert.equal(seeds.size, 4, 'changing any of the three changes the seed');
  });

  test('keeps int(n) within [0, n) and spreads it over the whole range', () => {
    const rng = new Rng(7);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const v = rng.int(10);
      assert.ok(Number.isInteger(v) && v >= 0 && v < 10, `int(10) gave ${v}`);
      counts[v]!++;
    }
    for (const count of counts) assert.ok(count > 850 && count < 1150, `a value came ${count} times in 10,000 draws of 10`);
  });

  test('returns byte arrays of exactly the asked length', () => {
    const rng = new Rng(9);
    for (const length of [0, 1, 3, 4, 5, 17, 1000]) assert.equal(rng.bytes(length).length, length);
  });
});
