// One clock for many deadlines: each expires once, in deadline order, unless cancelled; a queue
// with nothing pending keeps no thread alive (its timer, left armed for the next call, is
// unreferenced); cancelled entries do not pile up.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
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

  it('expires a deadline registered after the queue went idle, before or after the timer it left armed', async () => {
    const q = new DeadlineQueue();
    q.after(40, () => assert.fail('cancelled')).cancel();
    // Later than the timer left armed for 40 ms: that timer fires first and arms for this one.
    const start = performance.now();
    await new Promise<void>((resolve) => q.after(80, resolve));
    assert.ok(performance.now() - start >= 79, 'not before its time');
    q.after(10_000, () => assert.fail('cancelled')).cancel();
    // Earlier than the timer left armed (10 s): armed anew for it.
    const again = performance.now();
    await new Promise<void>((resolve) => q.after(5, resolve));
    assert.ok(performance.now() - again < 5_000, 'not at the old timer');
    assert.equal(q.pending, 0);
  });

  it('keeps no thread alive once nothing is pending: a worker whose one call settled exits, its timer still armed', { timeout: 30_000 }, async () => {
    const url = new URL('../../ipc/deadlines.js', import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(url)}).then(({ DeadlineQueue }) => { const q = new DeadlineQueue(); q.after(600000, () => {}).cancel(); q.after(600000, () => {}).cancel(); });`,
      { eval: true },
    );
    const code = await new Promise<number>((resolve, reject) => {
      worker.once('exit', resolve);
      worker.once('error', reject);
    });
    assert.equal(code, 0);
  });

  it('takes a cancelled deadline out wherever it is in the heap, and expires the rest in deadline order', async () => {
    const q = new DeadlineQueue();
    // A fixed pseudo-random order of deadlines (1 to 40 ms) and of which are cancelled.
    let seed = 7;
    const next = (): number => (seed = (seed * 48271) % 0x7fffffff);
    const fired: number[] = [];
    let allFired: () => void = () => {};
    const entries = Array.from({ length: 300 }, () => {
      const ms = 1 + (next() % 40);
      return { ms, deadline: q.after(ms, () => fired.push(ms) === kept.length && allFired()) };
    });
    const kept = entries.filter(() => next() % 2 === 0);
    for (const e of entries) if (!kept.includes(e)) e.deadline.cancel();
    assert.equal(q.pending, kept.length);
    assert.equal((q as unknown as { heap: unknown[] }).heap.length, kept.length, 'nothing cancelled stays in the heap');
    await new Promise<void>((resolve) => (allFired = resolve));
    // The last of them expired in the same timer callback as any cancelled one due with it would have.
    assert.equal(fired.length, kept.length);
    assert.deepEqual(
      fired,
      [...fired].sort((a, b) => a - b),
    );
    assert.deepEqual(
      [...fired].sort((a, b) => a - b),
      kept.map((e) => e.ms).sort((a, b) => a - b),
    );
    assert.equal(q.pending, 0);
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
