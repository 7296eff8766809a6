// The app side of a socket server app's control port: events go up buffered, in order, a turn's
// (or an interval's) together in one message, never more than MAX_EVENTS_PER_MESSAGE in one, and
// nothing posted before close is lost. Messages are awaited, never slept for.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { MAX_EVENTS_PER_MESSAGE, decodeSocketAppEvents, type SocketAppEvent } from '../../app-protocols/index.js';
import { ControlPort } from '../../server-proc/control-port.js';

const closed = (connection: number): SocketAppEvent => ({ kind: 'closed', connection, contextDeleted: true });

/** The next message on the machine's end, as the machine decodes it. */
async function next(port: MessagePort): Promise<SocketAppEvent[]> {
  const [message] = (await once(port, 'message')) as [unknown];
  return decodeSocketAppEvents(message);
}

describe('ControlPort', () => {
  it('posts the events of one turn together, in order, and later ones together again', async () => {
    const { port1, port2 } = new MessageChannel();
    const control = ControlPort.from(port2);
    try {
      control.post(closed(1));
      control.post(closed(2));
      assert.deepEqual(await next(port1), [closed(1), closed(2)]);
      control.post(closed(3));
      control.post(closed(4));
      control.post(closed(5));
      assert.deepEqual(await next(port1), [closed(3), closed(4), closed(5)]);
    } finally {
      control.close();
      port1.close();
    }
  });

  it('posts at once when MAX_EVENTS_PER_MESSAGE are waiting, and the rest after', async () => {
    const { port1, port2 } = new MessageChannel();
    const control = ControlPort.from(port2);
    try {
      for (let i = 0; i <= MAX_EVENTS_PER_MESSAGE; i++) control.post(closed(i));
      const first = await next(port1);
      assert.equal(first.length, MAX_EVENTS_PER_MESSAGE);
      assert.deepEqual(first.at(-1), closed(MAX_EVENTS_PER_MESSAGE - 1));
      assert.deepEqual(await next(port1), [closed(MAX_EVENTS_PER_MESSAGE)]);
    } finally {
      control.close();
      port1.close();
    }
  });

  it('posts what is waiting when it closes, and nothing after', async () => {
    const { port1, port2 } = new MessageChannel();
    const control = ControlPort.from(port2);
    const received: SocketAppEvent[] = [];
    port1.on('message', (message: unknown) => received.push(...decodeSocketAppEvents(message)));
    control.post(closed(7));
    control.close();
    control.post(closed(8));
    await once(port1, 'close');
    assert.deepEqual(received, [closed(7)]);
  });
});
