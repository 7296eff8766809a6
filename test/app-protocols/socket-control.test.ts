// What the machine reads of a socket server app's control messages: an array of events, each
// checked; whatever a process posts that is not that is dropped, and one message is bounded.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_EVENTS_PER_MESSAGE, decodeSocketAppEvents, type SocketAppEvent } from '../../app-protocols/index.js';

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
