// CallSlots: calls by sequential id, against a Map doing the same operations; collisions that
// make it grow, a call that outlives a million others, and ids a hostile peer might send.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallSlots } from '../../ipc/call-slots.js';

describe('CallSlots', () => {
  it('answers as a Map does through a long run of calls coming and going', () => {
    const slots = new CallSlots<string>();
    const map = new Map<number, string>();
    let seed = 11;
    const next = (): number => (seed = (seed * 48271) % 0x7fffffff);
    let id = 1;
    for (let step = 0; step < 200_000; step++) {
      // Up to a few hundred in flight, settled in any order, some long-lived.
      if (map.size < 300 && next() % 3 !== 0) {
        slots.add(id, `call ${id}`);
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
    const slots = new CallSlots<number>();
    slots.add(1, 1);
    for (let id = 2; id < 5_000; id++) {
      slots.add(id, id);
      assert.equal(slots.get(1), 1);
      slots.delete(id);
    }
    assert.equal(slots.size, 1);
    assert.deepEqual([...slots.entries()], [[1, 1]]);
  });

  it('holds a call past the largest array in its overflow, and finds and deletes it there', () => {
    const slots = new CallSlots<string>();
    slots.add(7, 'old');
    // 2^20 apart: the same slot at every size up to the largest.
    const late = 7 + (1 << 20);
    slots.add(late, 'late');
    assert.equal(slots.get(7), 'old');
    assert.equal(slots.get(late), 'late');
    assert.equal(slots.size, 2);
    assert.deepEqual(new Map(slots.entries()), new Map([[7, 'old'], [late, 'late']]));
    assert.equal(slots.delete(late), true);
    assert.equal(slots.get(late), undefined);
    assert.equal(slots.size, 1);
  });

  it('finds nothing for ids a peer could send that were never added', () => {
    const slots = new CallSlots<string>();
    slots.add(1, 'one');
    slots.add(2 ** 40, 'large');
    for (const id of [0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 40 + 0.5, 2 ** 31, 2 ** 32 + 1, 65])
      assert.equal(slots.get(id), undefined, String(id));
    assert.equal(slots.get(2 ** 40), 'large');
    assert.equal(slots.delete(-1), false);
    assert.equal(slots.delete(NaN), false);
    assert.equal(slots.size, 2);
  });
});
