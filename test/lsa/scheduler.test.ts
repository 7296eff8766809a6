// The LSA's call scheduler on its own: jobs start at once when nobody waits, no process runs more
// than its share, a freed slot goes to the next process in turn, a full queue refuses, and a
// dropped process's jobs never run.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallScheduler, Refused } from '../../lsa/scheduler.js';
import { detachRequestBytes } from '../../ipc/lpc.js';

/** A job the test finishes when it chooses, recording when it started. */
function held(log: string[], name: string): { job: () => Promise<string>; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    job: async () => {
      log.push(`start ${name}`);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

describe('CallScheduler', () => {
  it('starts a job at once when nobody waits', async () => {
    const scheduler = new CallScheduler({ concurrent: 2, perProcess: 2, queuedPerProcess: 2, queuedBytesPerProcess: 1 << 20 });
    const log: string[] = [];
    const a = held(log, 'a1');
    const running = scheduler.run(scheduler.queue('a'), a.job);
    assert.deepEqual(log, ['start a1'], 'started synchronously, before any await');
    a.finish();
    assert.equal(await running, 'a1');
    assert.equal(scheduler.runningJobs, 0);
  });

  it('answers a job that starts at once and returns synchronously without a promise, its slot freed at once', async () => {
    const scheduler = new CallScheduler({ concurrent: 1, perProcess: 1, queuedPerProcess: 2, queuedBytesPerProcess: 1 << 20 });
    const q = scheduler.queue('q');
    assert.equal(
      scheduler.run(q, () => 'now'),
      'now',
    );
    assert.equal(scheduler.runningJobs, 0);
    // A job that throws synchronously still rejects (the caller handles it as it does any failure).
    await assert.rejects(
      Promise.resolve(
        scheduler.run(q, () => {
          throw new Error('thrown');
        }),
      ),
      /thrown/,
    );
    assert.equal(scheduler.runningJobs, 0);
    // Queued behind a running job, a synchronous one answers through the promise its caller holds.
    const log: string[] = [];
    const a = held(log, 'a');
    const first = scheduler.run(q, a.job);
    const second = scheduler.run(q, () => 'later');
    assert.ok(second instanceof Promise);
    a.finish();
    assert.deepEqual(await Promise.all([first, second]), ['a', 'later']);
    assert.equal(scheduler.runningJobs, 0);
  });

  it('tells a job it was put in the queue (onQueued), not one that starts at once; and a request queued holds its own bytes, not views of its frame', async () => {
    const scheduler = new CallScheduler({ concurrent: 1, perProcess: 1, queuedPerProcess: 2, queuedBytesPerProcess: 1 << 20 });
    const q = scheduler.queue('q');
    const told: string[] = [];
    const log: string[] = [];
    const a = held(log, 'a');
    const first = scheduler.run(q, a.job, 0, () => told.push('a'));
    // A request as the LSA decodes it: its buffers views into one large frame.
    const frame = new ArrayBuffer(1 << 20);
    const request = {
      input: [{ BufferType: 2, pvBuffer: new Uint8Array(frame, 100, 16) }],
      pvBuffer: new Uint8Array(frame, 200, 8),
      pszTargetName: 'x',
    };
    const second = scheduler.run(q, () => 'b', 24, () => {
      told.push('b');
      detachRequestBytes(request);
    });
    assert.deepEqual(told, ['b']);
    assert.notEqual(request.input[0]!.pvBuffer.buffer, frame);
    assert.equal(request.input[0]!.pvBuffer.buffer.byteLength, 16, 'a buffer of its own, exactly its bytes');
    assert.equal(request.pvBuffer.buffer.byteLength, 8);
    a.finish();
    assert.deepEqual(await Promise.all([first, second]), ['a', 'b']);
  });

  it('runs no more than perProcess jobs of one process, and still starts another process at once', async () => {
    const scheduler = new CallScheduler({ concurrent: 8, perProcess: 2, queuedPerProcess: 10, queuedBytesPerProcess: 1 << 20 });
    const log: string[] = [];
    const a = scheduler.queue('a');
    const b = scheduler.queue('b');
    const jobs = ['a1', 'a2', 'a3'].map((n) => held(log, n));
    const results = jobs.map((j) => scheduler.run(a, j.job));
    assert.deepEqual(log, ['start a1', 'start a2']);
    const b1 = held(log, 'b1');
    const bResult = scheduler.run(b, b1.job);
    assert.deepEqual(log, ['start a1', 'start a2', 'start b1'], 'b is not held up by a');
    jobs[0]!.finish();
    await results[0];
    assert.deepEqual(log.slice(3), ['start a3']);
    for (const j of [...jobs, b1]) j.finish();
    assert.deepEqual(await Promise.all([...results, bResult]), ['a1', 'a2', 'a3', 'b1']);
  });

  it('gives a freed slot to the next process in turn, not to the one with the longest queue', async () => {
    const scheduler = new CallScheduler({ concurrent: 1, perProcess: 1, queuedPerProcess: 100, queuedBytesPerProcess: 1 << 20 });
    const log: string[] = [];
    const flood = scheduler.queue('flood');
    const polite = scheduler.queue('polite');
    const first = held(log, 'flood0');
    const all: unknown[] = [scheduler.run(flood, first.job)];
    const rest = Array.from({ length: 5 }, (_, i) => held(log, `flood${i + 1}`));
    for (const j of rest) all.push(scheduler.run(flood, j.job));
    const p = held(log, 'polite');
    all.push(scheduler.run(polite, p.job));
    first.finish();
    await all[0];
    rest[0]!.finish();
    await all[1];
    p.finish();
    for (const j of rest) j.finish();
    await Promise.all(all);
    assert.deepEqual(log.slice(0, 3), ['start flood0', 'start flood1', 'start polite'], 'polite ran after one more of the flood, not after all five');
  });

  it('refuses a job when its process already has queuedPerProcess waiting, and counts it', async () => {
    const scheduler = new CallScheduler({ concurrent: 1, perProcess: 1, queuedPerProcess: 2, queuedBytesPerProcess: 1 << 20 });
    const log: string[] = [];
    const q = scheduler.queue('q');
    const jobs = Array.from({ length: 4 }, (_, i) => held(log, `j${i}`));
    const results = jobs.map((j) => scheduler.run(q, j.job));
    const refused = await results[3];
    assert.ok(refused instanceof Refused);
    assert.match(refused.why, /q already has 2 calls waiting in the LSA/);
    assert.equal(q.refused, 1);
    for (const j of jobs) j.finish();
    assert.deepEqual(await Promise.all(results.slice(0, 3)), ['j0', 'j1', 'j2']);
  });

  it('refuses the waiting jobs of a dropped process and never starts them', async () => {
    const scheduler = new CallScheduler({ concurrent: 1, perProcess: 1, queuedPerProcess: 10, queuedBytesPerProcess: 1 << 20 });
    const log: string[] = [];
    const q = scheduler.queue('gone');
    const first = held(log, 'first');
    const running = scheduler.run(q, first.job);
    const waiting = scheduler.run(q, held(log, 'never').job);
    scheduler.drop(q);
    assert.ok((await waiting) instanceof Refused);
    first.finish();
    assert.equal(await running, 'first', 'a job already running finishes');
    assert.ok((await scheduler.run(q, held(log, 'later').job)) instanceof Refused);
    assert.deepEqual(log, ['start first']);
  });

  it('gives the slot of a job waiting on its own process to the others, keeping that process to its share', async () => {
    const scheduler = new CallScheduler({ concurrent: 1, perProcess: 1, queuedPerProcess: 10, queuedBytesPerProcess: 1 << 20 });
    const log: string[] = [];
    const rogue = scheduler.queue('rogue');
    let answer!: () => void;
    const never = new Promise<void>((resolve) => (answer = resolve));
    const stalled = scheduler.run(rogue, () => scheduler.whileWaiting(rogue, () => never.then(() => 'rogue answered')));
    const other = held(log, 'victim');
    const victim = scheduler.run(scheduler.queue('victim'), other.job);
    assert.deepEqual(log, ['start victim'], 'the victim did not wait for the rogue');
    const second = held(log, 'rogue2');
    const queued = scheduler.run(rogue, second.job);
    assert.deepEqual(log, ['start victim'], "the rogue's second call still waits for its own share");
    other.finish();
    await victim;
    answer();
    assert.equal(await stalled, 'rogue answered');
    second.finish();
    assert.equal(await queued, 'rogue2');
  });

  it('frees the slot of a job that throws, and passes the error on', async () => {
    const scheduler = new CallScheduler({ concurrent: 1, perProcess: 1, queuedPerProcess: 10, queuedBytesPerProcess: 1 << 20 });
    const q = scheduler.queue('q');
    await assert.rejects(
      scheduler.run(q, () => {
        throw new Error('synchronous');
      }),
      /synchronous/,
    );
    await assert.rejects(
      scheduler.run(q, () => Promise.reject(new Error('asynchronous'))),
      /asynchronous/,
    );
    assert.equal(scheduler.runningJobs, 0);
    assert.equal(await scheduler.run(q, async () => 'after'), 'after');
  });
});
