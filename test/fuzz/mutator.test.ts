// The generic mutator: its sweep reaches every length and every 2- and 4-byte offset of every leg's
// token, in both byte orders, whatever the seed; its random strategies do what their names say.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mutate, sweepItem, sweepLength, type Corpus } from '../../fuzz/mutator.js';
import { Rng } from '../../fuzz/rng.js';

const legA = Uint8Array.from([1, 2, 3, 4, 5]);
const legB = Uint8Array.from([9, 8, 7]);

describe('the generic mutator', () => {
  it('sweeps each leg position by position: every truncation, the integer edges in both orders, the length, the top bit', () => {
    const lengths = [legA.length, legB.length];
    const items = Array.from({ length: sweepLength(lengths) }, (_, i) => sweepItem(i, lengths));
    assert.equal(items.length, 2 * 7 * 5);
    const applied = items.flatMap((item) => (item === undefined ? [] : [{ leg: item.leg, ...item.apply(item.leg === 0 ? legA : legB) }]));
    const truncations = (leg: number): number[] => applied.filter((a) => a.leg === leg && a.strategy === 'sweep-truncate').map((a) => a.bytes.length);
    assert.deepEqual(truncations(0), [0, 1, 2, 3, 4], 'every length short of the whole token');
    assert.deepEqual(truncations(1), [0, 1, 2]);
    const at = (leg: number, mutation: RegExp): number[] =>
      applied.filter((a) => a.leg === leg && mutation.test(a.mutation)).map((a) => Number(/ at (\d+)$/.exec(a.mutation)![1]));
    assert.deepEqual(at(0, /u16le 0xffff at/), [0, 1, 2, 3, 4]);
    assert.deepEqual(at(0, /u32be 0xffffffff at/), [0, 1, 2, 3, 4]);
    assert.deepEqual(at(1, /u16le 0x3 \(the token's length\) at/), [0, 1, 2]);
    const be = applied.find((a) => a.leg === 0 && a.mutation === 'sweep: u16be 0xffff at 1')!;
    assert.deepEqual([...be.bytes], [1, 0xff, 0xff, 4, 5]);
    const le32 = applied.find((a) => a.leg === 0 && a.mutation === 'sweep: u32le 0xffffffff at 3')!;
    assert.deepEqual([...le32.bytes], [1, 2, 3, 0xff, 0xff, 0xff, 0xff], 'a write past the end grows the token');
    const bit = applied.find((a) => a.leg === 1 && a.mutation === 'sweep: top bit of byte 2 flipped')!;
    assert.deepEqual([...bit.bytes], [9, 8, 0x87]);
    assert.equal(items.filter((i) => i === undefined).length, 7 * 2, "leg B's positions past its 3 bytes are random inputs");
  });

  it('makes the random strategies: unchanged, empty, past cbMaxToken, another leg’s token, a splice of two', () => {
    const corpus: Corpus = { tokens: [legA, legB], maxToken: 16 };
    const seen = new Map<string, Uint8Array[]>();
    for (let i = 0; i < 3000; i++) {
      const v = mutate(new Rng(i), legA, corpus);
      seen.set(v.strategy, [...(seen.get(v.strategy) ?? []), v.bytes]);
      if (v.unchanged === true) assert.equal(v.bytes, legA);
    }
    assert.deepEqual([...seen.keys()].sort(), [
      'delete',
      'empty',
      'extend',
      'flip',
      'huge',
      'insert',
      'integer',
      'noise',
      'repeat',
      'splice',
      'truncate',
      'valid',
      'wrong-leg',
      'zero',
    ]);
    assert.ok(seen.get('empty')!.every((b) => b.length === 0));
    assert.ok(seen.get('huge')!.every((b) => b.length > corpus.maxToken));
    assert.ok(
      seen.get('wrong-leg')!.some((b) => Buffer.compare(b, legB) === 0),
      'the other leg’s token as it was',
    );
    assert.ok(seen.get('truncate')!.every((b) => b.length <= legA.length));
    assert.ok(seen.get('repeat')!.every((b) => b.length > legA.length));
  });

  it('makes the same variant of the same input from the same seed', () => {
    const corpus: Corpus = { tokens: [legA, legB], maxToken: 16 };
    for (let seed = 0; seed < 50; seed++) assert.deepEqual(mutate(new Rng(seed), legA, corpus), mutate(new Rng(seed), legA, corpus));
  });
});
