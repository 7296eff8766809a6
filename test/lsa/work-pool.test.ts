// The LSA's work pool (lsa/work-pool.ts): alone, where a task runs and what it answers when it
// throws or its thread dies; and in a machine, where the pool's threads start with the first task
// and end with the machine.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { threadId } from 'node:worker_threads';
import { SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { LsaWorkPool, type WorkOutcome } from '../../lsa/work-pool.js';
import { Machine } from '../../machine/machine.js';
import { DYING_ITERATIONS } from '../fixtures/workers/dying-work-thread.js';
import { ALICE, establish, withMachine } from '../helpers/machine.js';
import { pbkdf2Task, SCRAM_VECTOR } from '../helpers/work.js';

const DYING_THREAD = new URL('../fixtures/workers/dying-work-thread.js', import.meta.url);

const keyOf = (outcome: WorkOutcome): string => (outcome.ok ? Buffer.from(outcome.output).toString('hex') : `failed: ${outcome.reason}`);

/** The OS threads of this process now (Linux), or undefined where /proc does not list them. */
function osThreads(): number | undefined {
  return existsSync('/proc/self/task') ? readdirSync('/proc/self/task').length : undefined;
}

async function withPool<T>(pool: LsaWorkPool, fn: (pool: LsaWorkPool) => Promise<T>): Promise<T> {
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

describe('the LSA work pool', () => {
  it('runs a task on a pool thread, with the bytes it gives inline on this thread', async () => {
    const inline = await withPool(new LsaWorkPool({ threads: 0 }), (pool) => pool.run(pbkdf2Task()));
    await withPool(new LsaWorkPool({ threads: 2 }), async (pool) => {
      assert.equal(pool.stats().live, 0, 'no thread before the first task');
      const outcomes = await Promise.all([pool.run(pbkdf2Task()), pool.run(pbkdf2Task()), pool.run(pbkdf2Task())]);
      for (const outcome of outcomes) {
        assert.equal(keyOf(outcome), SCRAM_VECTOR.key);
        assert.ok(outcome.ok && outcome.threadId !== threadId, 'on another thread than this one');
      }
      assert.deepEqual(pool.stats(), { threads: 2, live: 2, onPool: 3, inline: 0, failed: 0, poolErrors: 0 });
    });
    assert.equal(keyOf(inline), SCRAM_VECTOR.key);
    assert.ok(inline.ok && inline.threadId === threadId, 'with 0 threads the task runs on the calling thread');
  });

  it('answers STATUS_INTERNAL_ERROR for a task that throws, on the pool and inline, and runs the next one', async () => {
    for (const threads of [0, 1]) {
      await withPool(new LsaWorkPool({ threads }), async (pool) => {
        // Past the check (which would refuse it), as a bug in a routine would be: node:crypto throws on it.
        const bad = pbkdf2Task();
        (bad.parameter as { Iterations: number }).Iterations = -1;
        const outcome = await pool.run(bad);
        assert.ok(!outcome.ok, `${threads} threads`);
        assert.equal(statusName(outcome.status), 'STATUS_INTERNAL_ERROR');
        assert.match(outcome.reason, /^BCryptDeriveKeyPBKDF2 failed.*iterations/);
        assert.equal(keyOf(await pool.run(pbkdf2Task())), SCRAM_VECTOR.key);
        assert.equal(pool.stats().failed, 1);
      });
    }
  });

  it('answers STATUS_INTERNAL_ERROR for a task whose thread dies, and runs the next one on a new thread', async () => {
    await withPool(new LsaWorkPool({ threads: 1 }, DYING_THREAD), async (pool) => {
      const first = await pool.run(pbkdf2Task());
      const died = await pool.run(pbkdf2Task({ Iterations: DYING_ITERATIONS }));
      assert.ok(!died.ok);
      assert.equal(statusName(died.status), 'STATUS_INTERNAL_ERROR');
      assert.match(died.reason, /exited with code: 13/);
      const next = await pool.run(pbkdf2Task());
      assert.equal(keyOf(next), SCRAM_VECTOR.key);
      assert.ok(first.ok && next.ok && next.threadId !== first.threadId, "a new thread took the dead one's place");
    });
  });

  it('ends its threads when closed, and answers later tasks STATUS_INTERNAL_ERROR without starting one', async (t) => {
    const before = osThreads();
    const pool = new LsaWorkPool({ threads: 2 });
    assert.ok((await pool.run(pbkdf2Task())).ok);
    await pool.close();
    assert.equal(pool.stats().live, 0);
    const late = await pool.run(pbkdf2Task());
    assert.ok(!late.ok && statusName(late.status) === 'STATUS_INTERNAL_ERROR' && late.reason === 'the LSA work pool is closed');
    if (before === undefined) return t.skip('/proc/self/task does not list the threads here');
    assert.equal(osThreads(), before, "the pool's threads are gone");
  });
});

describe('the LSA work pool in a machine', () => {
  it('starts its threads with the first task, and the machine leaves none of them when it shuts down', { timeout: 60_000 }, async (t) => {
    const acquire = async (machine: Machine): Promise<void> => {
      const client = await machine.spawn('client');
      const cred = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      assert.equal(statusName(cred.status), 'SEC_E_OK');
    };
    // A first machine, so that what a process starts once for good (libuv's threads) is there before counting.
    await withMachine({ lsaWorkPool: { threads: 2 } }, acquire);
    const before = osThreads();
    const machine = await Machine.boot({ trace: false, lsaWorkPool: { threads: 2 } });
    try {
      assert.equal((await machine.lsa.stats()).workPool.live, 0, 'none before the first task');
      await acquire(machine);
      const stats = (await machine.lsa.stats()).workPool;
      assert.deepEqual([stats.threads, stats.live, stats.onPool, stats.inline, stats.failed], [2, 2, 1, 0, 0]);
    } finally {
      await machine.shutdown();
    }
    if (before === undefined) return t.skip('/proc/self/task does not list the threads here');
    assert.equal(osThreads(), before, 'the LSA, its pool and the client are gone');
  });

  it('runs the work inline on the dispatch thread with 0 threads, and handshakes as with a pool', async () => {
    await withMachine({ lsaWorkPool: { threads: 0 } }, async (machine) => {
      const [client, server] = [await machine.spawn('client'), await machine.spawn('server')];
      const done = await establish(client, server, { authData: ALICE });
      assert.ok(done.ok, JSON.stringify(done.steps));
      const stats = (await machine.lsa.stats()).workPool;
      assert.deepEqual([stats.threads, stats.live, stats.onPool, stats.inline], [0, 0, 0, 2], "the client's K and the server's");
    });
  });

  it('refuses a pool size that is not a whole number from 0 to 64', async () => {
    for (const threads of [-1, 1.5, 65, Number.NaN])
      await assert.rejects(Machine.boot({ lsaWorkPool: { threads } }), { name: 'SspiEmuError', code: 'BAD_OPTION', message: /^lsaWorkPool\.threads must be/ });
  });
});
