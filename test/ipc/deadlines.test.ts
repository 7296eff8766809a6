// One clock for many deadlines: each expires once, in deadline order, unless cancelled; a queue
// with nothing pending arms no timer; cancelled entries do not pile up.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DeadlineQueue } from '../../ipc/deadlines.js';

describe('DeadlineQueue', () => {
  it('expires deadlines in deadline order, whatever order they were registered in', async () => {
    const q = new DeadlineQueue();
    const order: number[] = [];
    // Deadlines are absolute (registration time + ms): the order expected is that of each one's
    // registration time plus its ms, measured here, so that a pause between registrations (a
    // loaded machine, a collection) changes the expectation with the deadlines themselves.
    const due: Array<[number, number]> = [];
    const all = new Promise<void>((resolve) => {
      for (const ms of [120, 30, 90, 60, 0]) {
        due.push([performance.now() + ms, ms]);
        q.after(ms, () => order.push(ms) === 5 && resolve());
      }
    });
    assert.equal(q.pending, 5);
    await all;
    assert.deepEqual(
      order,
      due.sort((a, b) => a[0] - b[0]).map(([, ms]) => ms),
    );
    assert.equal(q.pending, 0);
  });

  it('never expires a cancelled deadline, and expires the others after it', async () => {
    const q = new DeadlineQueue();
    const expired: string[] = [];
    const first = q.after(1, () => expired.push('first'));
    await new Promise<void>((resolve) => q.after(15, () => (expired.push('second'), resolve())));
    first.cancel();
    first.cancel();
    assert.deepEqual(expired, ['first', 'second']);
    const later = q.after(1, () => expired.push('never'));
    later.cancel();
    assert.equal(q.pending, 0);
    await new Promise<void>((resolve) => q.after(10, resolve));
    assert.deepEqual(expired, ['first', 'second']);
  });

  it('keeps the heap small when calls answered in time pile up behind a long-lived one', () => {
    const q = new DeadlineQueue();
    const long = q.after(60_000, () => assert.fail('not this one'));
    for (let i = 0; i < 100_000; i++) q.after(30_000, () => assert.fail('cancelled')).cancel();
    assert.equal(q.pending, 1);
    assert.ok((q as unknown as { heap: unknown[] }).heap.length < 2048);
    long.cancel();
    assert.equal(q.pending, 0);
  });
});
