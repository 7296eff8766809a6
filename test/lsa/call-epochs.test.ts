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

  it('stops waiting at its deadline and says how many still run', async () => {
    const epochs = new CallEpochs();
    const stuck = epochs.begin();
    assert.equal(await epochs.settled(epochs.advance(), 1), 1);
    stuck();
  });
});
