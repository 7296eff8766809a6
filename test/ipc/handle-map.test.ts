// HandleMap against a Map doing the same operations: handles that collide, deletions that shift
// entries back across the end of the array, growth and shrinking, iteration while deleting, its key
// rule, and an RPC peer's pending calls (sequential ids, long-pending calls, ids a peer could send).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandleMap } from '../../ipc/handle-map.js';

function same<V>(h: HandleMap<V>, m: Map<number, V>): void {
  assert.equal(h.size, m.size);
  for (const [k, v] of m) {
    assert.equal(h.get(k), v);
    assert.equal(h.has(k), true);
  }
  assert.deepEqual(new Map(h), m);
  assert.deepEqual(new Set(h.keys()), new Set(m.keys()));
  assert.deepEqual([...h.values()].length, m.size);
}

describe('HandleMap', () => {
  it('answers as a Map does through a long run of sets and deletes, with keys that crowd a few slots', () => {
    const h = new HandleMap<string>();
    const m = new Map<number, string>();
    let seed = 3;
    const next = (): number => (seed = (seed * 48271) % 0x7fffffff);
    // Keys of every kind a package hands out: small counters, multiples of 16 (the slots they
    // share), random 32-bit values, values past 2^32.
    const key = (): number => [next() % 64, (next() % 64) * 16, next() >>> 0, 2 ** 40 + (next() % 100)][next() % 4]!;
    for (let step = 0; step < 100_000; step++) {
      const k = key();
      if (next() % 5 < 3) {
        h.set(k, `v${step}`);
        m.set(k, `v${step}`);
      } else assert.equal(h.delete(k), m.delete(k));
      if (m.size > 400) for (const victim of [...m.keys()].slice(0, 200)) assert.equal(h.delete(victim), m.delete(victim));
      if (step % 1009 === 0) same(h, m);
    }
    same(h, m);
    h.clear();
    assert.equal(h.size, 0);
    assert.equal(h.get(1), undefined);
  });

  it('deletes entries whose probe ran past the end of the array and back to its start', () => {
    const h = new HandleMap<number>();
    const m = new Map<number, number>();
    // Keys landing near the end of the first array (found by trying): their probes wrap around.
    const tail: number[] = [];
    for (let k = 1; tail.length < 6; k++) {
      const probe = new HandleMap<number>();
      probe.set(k, 0);
      const internal = probe as unknown as { used: Uint8Array };
      if (internal.used[15] === 1) tail.push(k);
    }
    for (const k of tail) {
      h.set(k, k);
      m.set(k, k);
    }
    for (const k of [tail[0]!, tail[3]!, tail[1]!]) {
      assert.equal(h.delete(k), m.delete(k));
      same(h, m);
    }
  });

  it('lets every entry be deleted while iterating, as a Map does', () => {
    const h = new HandleMap<number>();
    for (let k = 0; k < 500; k++) h.set(k * 7, k);
    let seen = 0;
    for (const [k] of h) {
      seen++;
      assert.equal(h.delete(k), true);
    }
    assert.equal(seen, 500);
    assert.equal(h.size, 0);
  });

  it('gives back the room of a spike once it is gone, and keeps it while it comes and goes', () => {
    const h = new HandleMap<number>();
    const capacity = (): number => (h as unknown as { used: Uint8Array }).used.length;
    for (let k = 0; k < 100_000; k++) h.set(k, k);
    const peak = capacity();
    assert.ok(peak >= 200_000);
    for (let k = 0; k < 99_990; k++) h.delete(k);
    assert.ok(capacity() <= 256, `capacity ${capacity()} after the spike`);
    for (let k = 99_990; k < 100_000; k++) assert.equal(h.get(k), k);
    // 64 in flight, coming and going: the size it settles at stays.
    for (let k = 0; k < 64; k++) h.set(1_000_000 + k, k);
    const settled = capacity();
    for (let round = 0; round < 1_000; round++) {
      for (let k = 0; k < 64; k++) h.delete(1_000_000 + round * 64 + k);
      for (let k = 0; k < 64; k++) h.set(1_000_000 + (round + 1) * 64 + k, k);
      assert.equal(capacity(), settled);
    }
    assert.equal(h.size, 74);
  });

  it('takes any number but NaN as a key, and finds nothing it was not given', () => {
    const h = new HandleMap<string>();
    assert.throws(() => h.set(NaN, 'x'), TypeError);
    h.set(-1, 'minus one').set(0.5, 'half').set(2 ** 53, 'big').set(0, 'zero');
    assert.equal(h.get(-0), 'zero');
    assert.equal(h.get(-1), 'minus one');
    assert.equal(h.get(0.5), 'half');
    assert.equal(h.get(2 ** 53), 'big');
    for (const k of [NaN, 1, 0.25, 2 ** 53 - 2, Infinity]) assert.equal(h.get(k), undefined);
    assert.equal(h.delete(NaN), false);
    assert.equal(h.size, 4);
  });

  // An RPC peer's pending calls by call id (ipc/rpc.ts).
  it('answers as a Map does for an RPC peer\'s pending calls: ids from a counter, settled in any order', () => {
    const slots = new HandleMap<string>();
    const map = new Map<number, string>();
    let seed = 11;
    const next = (): number => (seed = (seed * 48271) % 0x7fffffff);
    let id = 1;
    for (let step = 0; step < 200_000; step++) {
      // Up to a few hundred in flight, settled in any order, some long-lived.
      if (map.size < 300 && next() % 3 !== 0) {
        slots.set(id, `call ${id}`);
        map.set(id, `call ${id}`);
        id++;
      } else if (map.size > 0) {
        const keys = [...map.keys()];
        const victim = keys[next() % Math.min(keys.length, next() % 7 === 0 ? keys.length : 8)]!;
        assert.equal(slots.delete(victim), true);
        map.delete(victim);
      }
      if (step % 997 === 0) {
        assert.equal(slots.size, map.size);
        for (const [k, v] of map) assert.equal(slots.get(k), v);
        assert.deepEqual(new Map(slots.entries()), map);
      }
    }
    assert.equal(slots.delete(id + 5), false);
    assert.equal(slots.get(id + 5), undefined);
  });

  it('keeps a call that stays pending while the counter goes round the slots many times', () => {
    const slots = new HandleMap<number>();
    slots.set(1, 1);
    for (let id = 2; id < 5_000; id++) {
      slots.set(id, id);
      assert.equal(slots.get(1), 1);
      slots.delete(id);
    }
    assert.equal(slots.size, 1);
    assert.deepEqual([...slots.entries()], [[1, 1]]);
  });

  it('holds two calls whose ids are 2^20 apart (a call pending while a million others came and went)', () => {
    const slots = new HandleMap<string>();
    slots.set(7, 'old');
    const late = 7 + (1 << 20);
    slots.set(late, 'late');
    assert.equal(slots.get(7), 'old');
    assert.equal(slots.get(late), 'late');
    assert.equal(slots.size, 2);
    assert.deepEqual(new Map(slots.entries()), new Map([[7, 'old'], [late, 'late']]));
    assert.equal(slots.delete(late), true);
    assert.equal(slots.get(late), undefined);
    assert.equal(slots.size, 1);
  });

  it('finds nothing for ids a peer could send that were never added', () => {
    const slots = new HandleMap<string>();
    slots.set(1, 'one');
    slots.set(2 ** 40, 'large');
    for (const id of [0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 40 + 0.5, 2 ** 31, 2 ** 32 + 1, 65])
      assert.equal(slots.get(id), undefined, String(id));
    assert.equal(slots.get(2 ** 40), 'large');
    assert.equal(slots.delete(-1), false);
    assert.equal(slots.delete(NaN), false);
    assert.equal(slots.size, 2);
  });
});
