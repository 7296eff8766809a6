// Connection over a real MessageChannel in one thread: queueing in both orders, a receive time
// limit, and a peer that goes away while receives wait or after it sent its last messages.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { MAX_FRAME_MESSAGES } from '../../ipc/batching.js';
import { Connection } from '../../ipc/connection.js';
import { Tracer } from '../../ipc/trace.js';
import { isTransport, within } from '../helpers/ports.js';

const tracer = new Tracer(null, 'test', 1, false);

async function withConnection(fn: (a: Connection<string>, b: Connection<string>, ports: { a: MessagePort; b: MessagePort }) => Promise<void>): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  const a = new Connection<string>(port1, 'conn:a', tracer);
  const b = new Connection<string>(port2, 'conn:b', tracer);
  try {
    await within(5000, fn(a, b, { a: port1, b: port2 }));
  } finally {
    port1.close();
    port2.close();
  }
}

describe('Connection', { timeout: 10_000 }, () => {
  it('queues messages that arrive before anyone receives, and hands them out in order', async () => {
    await withConnection(async (a, b) => {
      a.send('one');
      a.send('two');
      a.send('three');
      assert.deepEqual([await b.receive(), await b.receive(), await b.receive()], ['one', 'two', 'three']);
      assert.deepEqual([a.sent, a.received, b.sent, b.received], [3, 0, 0, 3]);
    });
  });

  it("sends a turn's messages as one frame, in order, when the turn ends", async () => {
    await withConnection(async (a, b, ports) => {
      let frames = 0;
      ports.b.on('message', () => frames++);
      for (let i = 0; i < 10; i++) a.send(`m${i}`);
      const got: string[] = [];
      for (let i = 0; i < 10; i++) got.push(await b.receive());
      assert.deepEqual(
        got,
        Array.from({ length: 10 }, (_, i) => `m${i}`),
      );
      assert.equal(frames, 1);
    });
  });

  it('sends a full frame at once, before its turn ends, and the rest of the turn when it ends', async () => {
    await withConnection(async (a, b, ports) => {
      const sizes: number[] = [];
      ports.b.on('message', (frame: unknown) => sizes.push(Array.isArray(frame) ? frame.length : 1));
      for (let i = 0; i < MAX_FRAME_MESSAGES; i++) a.send(`m${i}`);
      // Posted in this same turn: the peer's port holds the full frame before the sender yields
      // (taken off the port here, so the peer's Connection never sees it).
      const early = receiveMessageOnPort(ports.b);
      assert.ok(early !== undefined && Array.isArray(early.message));
      assert.deepEqual(early.message, Array.from({ length: MAX_FRAME_MESSAGES }, (_, i) => `m${i}`));
      for (let i = 0; i < 5; i++) a.send(`n${i}`);
      assert.equal(receiveMessageOnPort(ports.b), undefined, 'the rest waits for the turn to end');
      const got: string[] = [];
      for (let i = 0; i < 5; i++) got.push(await b.receive());
      assert.deepEqual(got, ['n0', 'n1', 'n2', 'n3', 'n4']);
      assert.deepEqual(sizes, [5]);
    });
  });

  it('sends each turn its own frame: a message waits for the end of its turn, never for a later one', async () => {
    await withConnection(async (a, b, ports) => {
      let frames = 0;
      ports.b.on('message', () => frames++);
      a.send('first');
      assert.equal(await b.receive(), 'first');
      a.send('second');
      a.send('third');
      assert.deepEqual([await b.receive(), await b.receive()], ['second', 'third']);
      assert.equal(frames, 2);
    });
  });

  it('takes a message posted on its own, outside a frame, as one message', async () => {
    await withConnection(async (_a, b, ports) => {
      ports.a.postMessage('raw');
      assert.equal(await b.receive(), 'raw');
    });
  });

  it('ends the connection with BAD_MESSAGE when a message cannot be cloned, after the ones before it went', async () => {
    const { port1, port2 } = new MessageChannel();
    const a = new Connection<unknown>(port1, 'conn:a', tracer);
    const b = new Connection<unknown>(port2, 'conn:b', tracer);
    a.send('before');
    a.send(() => 'a function');
    assert.equal(await within(5000, b.receive()), 'before');
    await assert.rejects(within(5000, b.receive()), isTransport('PEER_GONE'));
    assert.throws(() => a.send('after'), isTransport('BAD_MESSAGE'));
  });

  it('resolves receives that wait before the messages arrive, first waiter first', async () => {
    await withConnection(async (a, b) => {
      const first = b.receive();
      const second = b.receive();
      a.send('hello');
      a.send('world');
      assert.deepEqual(await Promise.all([first, second]), ['hello', 'world']);
    });
  });

  it('adds to the process-wide totals it is given', async () => {
    const { port1, port2 } = new MessageChannel();
    const totals = { sent: 10, received: 20 };
    const a = new Connection<string>(port1, 'conn:a', tracer, totals);
    const b = new Connection<string>(port2, 'conn:b', tracer, totals);
    try {
      a.send('ping');
      await within(5000, b.receive());
      b.send('pong');
      await within(5000, a.receive());
      assert.deepEqual(totals, { sent: 12, received: 22 });
    } finally {
      port1.close();
      port2.close();
    }
  });

  it('rejects a receive with TIMEOUT when nothing comes in time, and gives the next message to the next receive', async () => {
    await withConnection(async (a, b) => {
      await assert.rejects(b.receive(5), isTransport('TIMEOUT', /conn:b: no message within 5 ms/));
      a.send('late');
      assert.equal(await b.receive(), 'late');
      assert.equal(b.closed, false, 'a timeout fails the receive, not the connection');
    });
  });

  it('rejects a waiting receive with PEER_GONE when the peer closes', async () => {
    await withConnection(async (a, b) => {
      const waiting = b.receive();
      a.close();
      await assert.rejects(waiting, isTransport('PEER_GONE', /conn:b: the peer closed the connection/));
      assert.equal(b.closed, true);
    });
  });

  it('drains the messages the peer sent before it closed, then answers PEER_GONE to every later receive', async () => {
    await withConnection(async (a, b, ports) => {
      const closed = once(ports.b, 'close');
      a.send('last words');
      a.send('really last');
      a.close();
      await closed;
      assert.equal(b.closed, true);
      assert.equal(await b.receive(), 'last words');
      assert.equal(await b.receive(), 'really last');
      await assert.rejects(b.receive(), isTransport('PEER_GONE'));
      await assert.rejects(b.receive(1000), isTransport('PEER_GONE'), 'at once, not after the time limit');
    });
  });

  it('throws from send once the peer is gone, and CHANNEL_CLOSED once this side closed', async () => {
    await withConnection(async (a, b, ports) => {
      const closed = once(ports.b, 'close');
      a.close();
      assert.throws(() => a.send('after my close'), isTransport('CHANNEL_CLOSED', /conn:a: closed by this side/));
      await closed;
      assert.throws(() => b.send('to nobody'), isTransport('PEER_GONE'));
      assert.equal(b.sent, 0);
    });
  });

  it('rejects its own waiting receive with CHANNEL_CLOSED when this side closes', async () => {
    await withConnection(async (_a, b) => {
      const waiting = b.receive();
      b.close();
      await assert.rejects(waiting, isTransport('CHANNEL_CLOSED'));
    });
  });
});
