// What the machine reads of a socket server app's control messages: an array of events, each
// checked; whatever a process posts that is not that is dropped, and one message is bounded.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HANDSHAKE_TIMES_KEPT, HandshakeTimes, MAX_EVENTS_PER_MESSAGE, decodeSocketAppEvents, type SocketAppEvent } from '../../app-protocols/index.js';

const closed = (connection: number): SocketAppEvent => ({ kind: 'closed', connection, contextDeleted: true });

describe('decodeSocketAppEvents', () => {
  it('reads an array of events, drops the malformed ones, and reads nothing from what is not an array', () => {
    assert.deepEqual(decodeSocketAppEvents([closed(1), { kind: 'closed', connection: -1, contextDeleted: true }, 'x', { kind: 'nonsense' }, closed(2)]), [
      closed(1),
      closed(2),
    ]);
    assert.deepEqual(decodeSocketAppEvents(closed(1)), []);
    assert.deepEqual(decodeSocketAppEvents(null), []);
  });

  it('reads at most MAX_EVENTS_PER_MESSAGE events of one message', () => {
    const many = Array.from({ length: MAX_EVENTS_PER_MESSAGE + 10 }, (_, i) => closed(i));
    assert.equal(decodeSocketAppEvents(many).length, MAX_EVENTS_PER_MESSAGE);
  });
});

describe('HandshakeTimes', () => {
  it('is null before any handshake, then the median of what it kept', () => {
    const times = new HandshakeTimes();
    assert.equal(times.median(), null);
    for (const ms of [5, 1, 3]) times.add(ms);
    assert.equal(times.median(), 3);
    times.add(4);
    assert.equal(times.median(), 3.5);
  });

  it('keeps the latest times only: a long-running server does not keep one per handshake of its life', () => {
    const times = new HandshakeTimes(4);
    for (const ms of [100, 100, 100, 100, 1, 2, 3]) times.add(ms);
    // Kept: 1, 2, 3 and the last 100.
    assert.equal(times.median(), 2.5);
    for (const ms of [1, 2, 3, 4]) times.add(ms);
    assert.equal(times.median(), 2.5);
    assert.ok(HANDSHAKE_TIMES_KEPT >= 10_000, 'the default keeps enough for a stable median');
  });
});
