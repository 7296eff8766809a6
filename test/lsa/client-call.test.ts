// The LSA's current client call (GetClientInfo, GetCallInfo, a NULL PLSA_CLIENT_REQUEST): a plain
// variable while a package entry runs synchronously, carried across awaits only for calls that
// go on after one, and never another process's call.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { callGoesOn, carriedCalls, currentClientCall, runAsClientCall, type ClientCall, type LsaClientProcess } from '../../lsa/client-call.js';

function clientCall(name: string, callId: number): ClientCall {
  return { process: { name } as LsaClientProcess, callId, op: 'SpAcquireCredentialsHandle' };
}

/** An LSA function that answers later (as CopyFromClientBuffer does): it says the call goes on, then answers after a turn. */
async function lsaFunctionAnsweringLater<T>(value: T): Promise<T> {
  callGoesOn();
  await turn();
  return value;
}

describe('the current client call', () => {
  it('is the call while a synchronous entry runs, and nothing outside one', () => {
    const a = clientCall('a', 1);
    assert.equal(currentClientCall(), undefined);
    const seen = runAsClientCall(a, () => currentClientCall(), false);
    assert.equal(seen, a);
    assert.equal(currentClientCall(), undefined);
    assert.equal(carriedCalls(), 0, 'a synchronous entry carries nothing');
  });

  it('carries an entry known to await across its awaits, and lets go when it settles', async () => {
    const a = clientCall('a', 1);
    const seen = await runAsClientCall(
      a,
      async () => {
        await turn();
        await new Promise((resolve) => setTimeout(resolve, 1));
        return currentClientCall();
      },
      true,
    );
    assert.equal(seen, a);
    // The entry settled: what carried it lets go within the same turn.
    await turn();
    assert.equal(carriedCalls(), 0);
    assert.equal(currentClientCall(), undefined);
  });

  it('resumes an entry not known to await as its call after an LSA function that answers later', async () => {
    const a = clientCall('a', 1);
    let learned = false;
    const seen = await runAsClientCall(
      a,
      async () => {
        await lsaFunctionAnsweringLater(1);
        await turn();
        return currentClientCall();
      },
      false,
      () => (learned = true),
    );
    assert.equal(seen, a);
    assert.equal(learned, false, 'an entry that said it goes on is carried, not learned');
    assert.equal(currentClientCall(), undefined, 'the thread is no call once the entry returned');
  });

  it('keeps interleaved calls apart: each resumes as its own', async () => {
    const calls = Array.from({ length: 20 }, (_, i) => clientCall(`p${i}`, i));
    const seen = await Promise.all(
      calls.map((c, i) =>
        runAsClientCall(
          c,
          async () => {
            const before = currentClientCall();
            for (let k = 0; k < (i % 4) + 1; k++) await lsaFunctionAnsweringLater(k);
            return [before, currentClientCall()];
          },
          i % 2 === 0,
        ),
      ),
    );
    seen.forEach(([before, after], i) => {
      assert.equal(before, calls[i]);
      assert.equal(after, calls[i], `call ${i} resumed as another`);
    });
  });

  it('resumes a call that awaits a promise another call made as itself, not as the other', async () => {
    const a = clientCall('a', 1);
    const b = clientCall('b', 2);
    let release!: () => void;
    const shared = new Promise<void>((resolve) => (release = resolve));
    const first = runAsClientCall(
      a,
      async () => {
        await lsaFunctionAnsweringLater(0);
        release();
        return currentClientCall();
      },
      true,
    );
    const second = runAsClientCall(
      b,
      async () => {
        await shared;
        return currentClientCall();
      },
      true,
    );
    assert.equal(await first, a);
    assert.equal(await second, b);
  });

  it('answers no call, never another, to an entry not known to await that awaits something of its own; it is carried from then on', async () => {
    const a = clientCall('a', 1);
    const b = clientCall('b', 2);
    let learned = 0;
    const learn = (): void => void learned++;
    // b is carried meanwhile, so the store is on while a's continuation runs.
    const other = runAsClientCall(
      b,
      async () => {
        await lsaFunctionAnsweringLater(0);
        await turn();
        return currentClientCall();
      },
      true,
    );
    const lost = await runAsClientCall(
      a,
      async () => {
        await turn();
        return currentClientCall();
      },
      false,
      learn,
    );
    assert.equal(lost, undefined);
    assert.equal(learned, 1);
    assert.equal(await other, b);
  });

  it('gives the thread back as it was when an entry throws after saying it goes on', async () => {
    const a = clientCall('a', 1);
    const b = clientCall('b', 2);
    assert.throws(
      () =>
        runAsClientCall(
          a,
          () => {
            callGoesOn();
            throw new Error('the package threw');
          },
          false,
        ),
      /the package threw/,
    );
    assert.equal(currentClientCall(), undefined, 'a throw leaves no call behind');
    const seen = await runAsClientCall(
      b,
      async () => {
        await turn();
        return currentClientCall();
      },
      false,
    );
    assert.notEqual(seen, a, 'a later call never resumes as the one that threw');
  });

  it('lets go of the store by the end of the turn its last carried call settled in: a stray continuation of that call then runs as no call', async () => {
    const a = clientCall('a', 1);
    let stray!: Promise<ClientCall | undefined>;
    await runAsClientCall(
      a,
      async () => {
        // Started by the entry and not awaited by it: it goes on after the call answered.
        stray = (async () => {
          await turn();
          await turn();
          return currentClientCall();
        })();
      },
      true,
    );
    assert.equal(await stray, undefined);
    assert.equal(carriedCalls(), 0);
  });

  it('carries a call only while it is in flight, and none once every one settled or threw', async () => {
    const first = runAsClientCall(clientCall('a', 1), () => lsaFunctionAnsweringLater(0), false);
    const second = runAsClientCall(clientCall('b', 2), async () => turn(), true);
    assert.equal(carriedCalls(), 2, 'both are carried while they wait');
    assert.throws(() =>
      runAsClientCall(
        clientCall('c', 3),
        () => {
          throw new Error('an async-flagged entry that throws before it answers');
        },
        true,
      ),
    );
    assert.equal(carriedCalls(), 2, 'a throw adds nothing carried');
    await Promise.all([first, second]);
    await turn();
    assert.equal(carriedCalls(), 0);
  });
});
