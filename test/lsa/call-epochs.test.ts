// The calls running in the LSA by epoch: an unload waits for those that began before it, and only those.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallEpochs } from '../../lsa/call-epochs.js';

describe('CallEpochs', () => {
  it('settles at once when no call of the epoch or before runs', async () => {
    const epochs = new CallEpochs();
    const swapped = epochs.advance();
    assert.equal(await epochs.settled(swapped, 60_000), 0);
  });

  it('waits for the calls that began by the epoch, not for those that began after', async () => {
    const epochs = new CallEpochs();
    const first = epochs.begin();
    const second = epochs.begin();
    const swapped = epochs.advance();
    const later = epochs.begin();
    let settled = false;
    const waiting = epochs.settled(swapped, 60_000).then((left) => {
      settled = true;
      return left;
    });
    first();
    first(); // ending twice counts once
    await Promise.resolve();
    assert.equal(settled, false, 'one call of the old epoch still runs');
    second();
    assert.equal(await waiting, 0);
    later();
  });

  it('counts calls entered and left by epoch number across several advances, as begin() does', async () => {
    const epochs = new CallEpochs();
    const a = epochs.enter();
    const first = epochs.advance();
    const b = epochs.enter();
    const c = epochs.enter();
    const second = epochs.advance();
    const d = epochs.enter();
    assert.deepEqual([a, b, c, d], [0, 1, 1, 2]);
    assert.equal(await epochs.settled(first, 1), 1, 'the call of epoch 0');
    assert.equal(await epochs.settled(second, 1), 3, 'epochs 0 and 1, not the call begun after');
    epochs.leave(a);
    const waiting = epochs.settled(second, 60_000);
    epochs.leave(b);
    epochs.leave(d);
    epochs.leave(c);
    assert.equal(await waiting, 0);
    assert.equal(await epochs.settled(epochs.advance(), 1), 0, 'nothing runs');
  });

  it('stops waiting at its deadline and says how many still run', async () => {
    const epochs = new CallEpochs();
    const stuck = epochs.begin();
    assert.equal(await epochs.settled(epochs.advance(), 1), 1);
    stuck();
  });
});
