// The acceptor's replay cache (packages/kerberos/replay-cache.ts): an authenticator is taken once
// within its skew window, entries leave when the window passes, the bound holds, and an entry costs
// about a hundred bytes of heap. That last one is the fuzzer's heap finding (issue 14): a run of
// AP exchanges grew the LSA's heap by some 420 bytes a handshake, all of it this cache's keys (a
// template string of the parts is a chain of cons-strings) and boxed expiries.

import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { ReplayCache } from '../../../packages/kerberos/replay-cache.js';

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const SKEW_MS = 10_000;

function cipher(i: number): Uint8Array {
  const c = new Uint8Array(64);
  new DataView(c.buffer).setUint32(0, i);
  return c;
}

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

describe('ReplayCache', () => {
  it('takes an authenticator once, and tells apart clients, times and ciphertexts', () => {
    const cache = new ReplayCache();
    assert.equal(cache.admit('alice@R', T0, 5, cipher(1), T0 + SKEW_MS, T0), true);
    assert.equal(cache.admit('alice@R', T0, 5, cipher(1), T0 + SKEW_MS, T0 + 1), false);
    assert.equal(cache.admit('bob@R', T0, 5, cipher(1), T0 + SKEW_MS, T0 + 1), true);
    assert.equal(cache.admit('alice@R', T0, 6, cipher(1), T0 + SKEW_MS, T0 + 1), true);
    assert.equal(cache.admit('alice@R', T0 + 1000, 5, cipher(1), T0 + 1000 + SKEW_MS, T0 + 1), true);
    assert.equal(cache.admit('alice@R', T0, 5, cipher(2), T0 + SKEW_MS, T0 + 1), true);
    // The client's length is part of the key: "a" + "1..." cannot pose as "a1" + "...".
    assert.equal(cache.admit('a', 1, 5, cipher(1), T0 + SKEW_MS, T0 + 1), true);
    assert.equal(cache.admit('a1', 0, 5, cipher(1), T0 + SKEW_MS, T0 + 1), true);
    assert.equal(cache.size, 7);
  });

  it('keeps an entry until its window has passed, never less, and forgets it after', () => {
    const cache = new ReplayCache();
    assert.equal(cache.admit('alice@R', T0, 0, cipher(1), T0 + SKEW_MS + 1, T0 + 2), true);
    // A millisecond before its expiry it is still a replay (the stored second is rounded up).
    assert.equal(cache.admit('alice@R', T0, 0, cipher(1), T0 + SKEW_MS + 1, T0 + SKEW_MS), false);
    assert.equal(cache.size, 1);
    // Once the window has passed, the next admit prunes it (the time check would refuse it by now).
    assert.equal(cache.admit('bob@R', T0 + 20_000, 0, cipher(2), T0 + 30_000, T0 + 20_000), true);
    assert.equal(cache.size, 1);
  });

  it('holds at most its bound, dropping the oldest', () => {
    const cache = new ReplayCache(3);
    for (let i = 0; i < 5; i++) assert.equal(cache.admit('alice@R', T0, i, cipher(i), T0 + SKEW_MS, T0), true);
    assert.equal(cache.size, 3);
    assert.equal(cache.admit('alice@R', T0, 4, cipher(4), T0 + SKEW_MS, T0), false, 'the newest is still known');
    assert.equal(cache.admit('alice@R', T0, 0, cipher(0), T0 + SKEW_MS, T0), true, 'the oldest went');
  });

  it('costs about a hundred bytes of heap an entry, not four hundred (the fuzzer heap finding)', () => {
    const n = 20_000;
    const cache = new ReplayCache();
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    // Client names as the acceptor writes them, times a millisecond apart as a busy acceptor sees them, within the default five-minute window.
    for (let i = 0; i < n; i++) cache.admit('fuzzuser@FUZZ.SSPI-EMU.TEST', T0 + i, i % 1000, cipher(i), T0 + i + 300_000, T0 + i);
    collectGarbage();
    const perEntry = (process.memoryUsage().heapUsed - before) / n;
    assert.equal(cache.size, n);
    assert.ok(perEntry < 160, `${perEntry.toFixed(0)} bytes an entry`);
  });
});
