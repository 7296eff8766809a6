// RpcPeer over a real MessageChannel in one thread (and, for a real process death, a worker):
// correlation by id, failures rebuilt as coded errors, hostile op names, closing from either
// side, time limits, message and frame counting, and taps.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { SspiEmuError, TransportError } from '../../ipc/errors.js';
import { RpcPeer, transferring, type Handlers, type OpMap, type RpcPeerOptions } from '../../ipc/rpc.js';
import { MAX_FRAME_MESSAGES } from '../../ipc/batching.js';
import { lpcCodec } from '../../ipc/lpc.js';
import type { AnswerThenExitOps } from '../fixtures/workers/answer-then-exit.js';
import { isTransport, within } from '../helpers/ports.js';

type Ops = {
  Echo: { request: { text: string }; reply: { status: number; text: string } };
  Later: { request: { n: number }; reply: { status: number; n: number } };
  Fail: { request: { how: 'throw' | 'reject' | 'coded' }; reply: { status: number } };
};
type None = Record<never, never>;

/** A reply the test settles when it chooses, and a promise that the handler was reached. */
interface Held {
  arrived: Promise<void>;
  calls: Array<{ n: number; answer: () => void }>;
}

function holdLater(expected: number): { held: Held; handler: Handlers<Ops>['Later'] } {
  let arrive!: () => void;
  const held: Held = { arrived: new Promise<void>((r) => (arrive = r)), calls: [] };
  const handler: Handlers<Ops>['Later'] = (body) =>
    new Promise((resolve) => {
      const { n } = body as Ops['Later']['request'];
      held.calls.push({ n, answer: () => resolve({ status: 0, n }) });
      if (held.calls.length === expected) arrive();
    });
  return { held, handler };
}

const defaultHandlers = (): Handlers<Ops> => ({
  // The far side serves bodies as `unknown`, as every RpcPeer does; these trust their test's near side.
  Echo: (body) => ({ status: 0, text: (body as Ops['Echo']['request']).text }),
  Later: () => new Promise(() => {}), // never answers
  Fail: async (body) => {
    const { how } = body as Ops['Fail']['request'];
    if (how === 'reject') await Promise.resolve();
    if (how === 'coded') throw new SspiEmuError('APP_FAILED', 'the far side failed with a code', { cause: new Error('root cause') });
    throw new Error(`far handler failed (${how})`);
  },
});

/** Two peers over one MessageChannel: `near` calls, `far` answers. Both ports are closed after `fn`. */
async function withPair(
  options: { far?: Partial<Handlers<Ops>>; near?: Partial<RpcPeerOptions> },
  fn: (near: RpcPeer<Ops, None>, far: RpcPeer<None, Ops>, ports: { nearPort: MessagePort; farPort: MessagePort }) => Promise<void>,
): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  const near = new RpcPeer<Ops, None>(port1, {}, { name: 'near', ...options.near });
  const far = new RpcPeer<None, Ops>(port2, { ...defaultHandlers(), ...options.far }, { name: 'far' });
  try {
    await within(5000, fn(near, far, { nearPort: port1, farPort: port2 }));
  } finally {
    port1.close();
    port2.close();
  }
}

describe('RpcPeer', { timeout: 10_000 }, () => {
  it('resolves a call with the reply of the far handler', async () => {
    await withPair({}, async (near) => {
      assert.deepEqual(await near.call('Echo', { text: 'hello' }), { status: 0, text: 'hello' });
      assert.equal(near.pendingCount, 0);
    });
  });

  it('resolves several calls in flight each to its own reply, even when the replies come back in reverse order', async () => {
    const { held, handler } = holdLater(3);
    await withPair({ far: { Later: handler } }, async (near) => {
      const calls = [near.call('Later', { n: 1 }), near.call('Later', { n: 2 }), near.call('Later', { n: 3 })];
      await held.arrived;
      assert.equal(near.pendingCount, 3);
      for (const call of [...held.calls].reverse()) call.answer();
      assert.deepEqual(await Promise.all(calls), [
        { status: 0, n: 1 },
        { status: 0, n: 2 },
        { status: 0, n: 3 },
      ]);
    });
  });

  it('rejects with REMOTE_FAILURE whose cause carries the message of an error the far handler threw', async () => {
    await withPair({}, async (near) => {
      for (const how of ['throw', 'reject'] as const) {
        await assert.rejects(near.call('Fail', { how }), (error: unknown) => {
          isTransport('REMOTE_FAILURE', /near: Fail failed in the peer/)(error);
          const cause = (error as Error).cause;
          assert.ok(cause instanceof Error);
          assert.equal(cause.message, `far handler failed (${how})`);
          return true;
        });
      }
    });
  });

  it('rebuilds a coded error the far handler threw with its class, code and own cause', async () => {
    await withPair({}, async (near) => {
      await assert.rejects(near.call('Fail', { how: 'coded' }), (error: unknown) => {
        isTransport('REMOTE_FAILURE')(error);
        const cause = (error as Error).cause;
        assert.ok(cause instanceof SspiEmuError);
        assert.equal(cause.code, 'APP_FAILED');
        assert.equal(cause.message, 'the far side failed with a code');
        assert.equal((cause.cause as Error).message, 'root cause');
        return true;
      });
    });
  });

  it('rejects a call to an op the far side has no handler for with REMOTE_FAILURE caused by BAD_MESSAGE', async () => {
    await withPair({}, async (near) => {
      const loose = near as unknown as RpcPeer<OpMap, None>;
      await assert.rejects(loose.call('SpNoSuchOp', {}), (error: unknown) => {
        isTransport('REMOTE_FAILURE')(error);
        isTransport('BAD_MESSAGE', /no handler for "SpNoSuchOp"/)((error as Error).cause);
        return true;
      });
    });
  });

  it('never lets an op named __proto__, constructor, toString or hasOwnProperty reach an inherited handler', async () => {
    await withPair({}, async (near, far) => {
      const loose = near as unknown as RpcPeer<OpMap, None>;
      for (const op of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        await assert.rejects(loose.call(op, {}), (error: unknown) => {
          isTransport('REMOTE_FAILURE')(error);
          isTransport('BAD_MESSAGE', new RegExp(`no handler for "${op}"`))((error as Error).cause);
          return true;
        });
      }
      assert.equal(far.closed, false);
      assert.deepEqual(await near.call('Echo', { text: 'still serving' }), { status: 0, text: 'still serving' });
    });
  });

  it('rejects pending calls with CHANNEL_CLOSED when this side closes, and later calls at once', async () => {
    const { held, handler } = holdLater(1);
    await withPair({ far: { Later: handler } }, async (near) => {
      const reasons: TransportError[] = [];
      near.onClose((reason) => reasons.push(reason));
      const pending = near.call('Later', { n: 1 });
      await held.arrived;
      near.close();
      await assert.rejects(pending, isTransport('CHANNEL_CLOSED', /Later was pending/));
      assert.equal(near.closed, true);
      assert.equal(near.pendingCount, 0);
      await assert.rejects(near.call('Echo', { text: 'too late' }), isTransport('CHANNEL_CLOSED'));
      assert.deepEqual(
        reasons.map((r) => r.code),
        ['CHANNEL_CLOSED'],
      );
    });
  });

  it('rejects pending calls with PEER_GONE as soon as the far port closes, with no time limit set', async () => {
    const { held, handler } = holdLater(2);
    await withPair({ far: { Later: handler } }, async (near, _far, { farPort }) => {
      const pending = [near.call('Later', { n: 1 }), near.call('Later', { n: 2 })];
      await held.arrived;
      farPort.close();
      for (const call of pending) await assert.rejects(call, isTransport('PEER_GONE', /the peer's channel closed.*Later was pending/));
      await assert.rejects(near.call('Echo', { text: 'anyone?' }), isTransport('PEER_GONE'));
      let late: TransportError | undefined;
      near.onClose((reason) => (late = reason));
      assert.equal(late?.code, 'PEER_GONE', 'a close listener added after the close hears the reason at once');
    });
  });

  it("closes a port its reply would have moved when the caller's channel closed first: the port's other end hears 'close'", async () => {
    // As the machine answers a server's Accept with the server's end of a client's connection: when
    // the server died meanwhile, the client's end must close, not wait for a reply nobody will send.
    const { port1, port2 } = new MessageChannel();
    const moved = new MessageChannel();
    let answer!: () => void;
    let farClosed!: Promise<void>;
    const reached = new Promise<void>((arrived) => {
      const Later: Handlers<Ops>['Later'] = () =>
        new Promise((resolve) => {
          answer = () => resolve(transferring({ status: 0, n: 1 }, [moved.port1]));
          arrived();
        });
      const far = new RpcPeer<None, Ops>(port2, { ...defaultHandlers(), Later }, { name: 'far' });
      farClosed = new Promise<void>((closed) => far.onClose(() => closed()));
    });
    const near = new RpcPeer<Ops, None>(port1, {}, { name: 'near' });
    try {
      const call = near.call('Later', { n: 1 });
      await within(2_000, reached);
      port1.close();
      await assert.rejects(call, (error: unknown) => error instanceof TransportError);
      await within(2_000, farClosed);
      const heard = once(moved.port2, 'close');
      answer();
      await within(2_000, heard);
    } finally {
      port1.close();
      port2.close();
      moved.port2.close();
    }
  });

  it('rejects a call with TIMEOUT when no reply comes within callTimeoutMs', async () => {
    await withPair({ near: { callTimeoutMs: 5 } }, async (near) => {
      await assert.rejects(near.call('Later', { n: 1 }), isTransport('TIMEOUT', /near: Later got no reply within 5 ms/));
      assert.equal(near.pendingCount, 0);
      assert.equal(near.closed, false, 'a timeout fails the call, not the channel');
    });
  });

  it('ignores a reply that arrives after its call timed out, and the next call gets its own reply', async () => {
    const { held, handler } = holdLater(1);
    await withPair({ near: { callTimeoutMs: 5 }, far: { Later: handler } }, async (near) => {
      await assert.rejects(near.call('Later', { n: 1 }), isTransport('TIMEOUT'));
      await held.arrived;
      const lateReplySeen = new Promise<void>((resolve) =>
        near.addTap((direction, message) => direction === 'receive' && (message as { op?: string }).op === 'Later' && resolve()),
      );
      held.calls[0]!.answer();
      await lateReplySeen;
      assert.equal(near.pendingCount, 0);
      assert.deepEqual(await near.call('Echo', { text: 'next' }), { status: 0, text: 'next' });
    });
  });

  it('counts messages, not frames, in sent and received', async () => {
    await withPair({}, async (near, far) => {
      const calls = [near.call('Echo', { text: 'a' }), near.call('Echo', { text: 'b' }), near.call('Echo', { text: 'c' })];
      assert.equal(near.sent, 3, 'counted when queued');
      await Promise.all(calls);
      assert.deepEqual([near.sent, near.received, far.sent, far.received], [3, 3, 3, 3]);
    });
  });

  it('posts the calls issued in one turn as one frame, and the far side answers the batch as one frame', async () => {
    await withPair({}, async (near, far, { nearPort, farPort }) => {
      const framesToFar: unknown[] = [];
      const framesToNear: unknown[] = [];
      farPort.on('message', (frame: unknown) => framesToFar.push(frame));
      nearPort.on('message', (frame: unknown) => framesToNear.push(frame));
      const replies = await Promise.all(['a', 'b', 'c', 'd'].map((text) => near.call('Echo', { text })));
      assert.deepEqual(
        replies.map((r) => r.text),
        ['a', 'b', 'c', 'd'],
      );
      assert.equal(far.received, 4);
      assert.equal(framesToFar.length, 1);
      assert.ok(Array.isArray(framesToFar[0]) && framesToFar[0].length === 4);
      assert.equal(framesToNear.length, 1);
      assert.ok(Array.isArray(framesToNear[0]) && framesToNear[0].length === 4);
    });
  });

  it('posts a full frame of calls at once and the rest of the turn at its end; the far side answers in frames of at most as many', async () => {
    await withPair({}, async (near, far, { nearPort, farPort }) => {
      const framesToFar: number[] = [];
      const framesToNear: number[] = [];
      farPort.on('message', (frame: unknown) => framesToFar.push(Array.isArray(frame) ? frame.length : 1));
      nearPort.on('message', (frame: unknown) => framesToNear.push(Array.isArray(frame) ? frame.length : 1));
      const count = 2 * MAX_FRAME_MESSAGES + 3;
      const texts = Array.from({ length: count }, (_, i) => `t${i}`);
      const replies = await Promise.all(texts.map((text) => near.call('Echo', { text })));
      assert.deepEqual(
        replies.map((r) => r.text),
        texts,
      );
      assert.equal(far.received, count);
      assert.deepEqual(framesToFar, [MAX_FRAME_MESSAGES, MAX_FRAME_MESSAGES, 3]);
      assert.ok(framesToNear.every((n) => n <= MAX_FRAME_MESSAGES));
      assert.equal(
        framesToNear.reduce((x, y) => x + y, 0),
        count,
      );
    });
  });

  it('ignores and counts anything on the port that is not a protocol message', async () => {
    let echoes = 0;
    await withPair({ far: { Echo: (body) => (echoes++, { status: 0, text: (body as Ops['Echo']['request']).text }) } }, async (near, far, { nearPort }) => {
      const garbage: unknown[] = [
        'garbage',
        null,
        42,
        { kind: 'call', op: 'Echo', body: { text: 'no id' } },
        { kind: 'call', id: '7', op: 'Echo', body: { text: 'string id' } },
        { kind: 'call', id: 8, op: 8 },
        { kind: 'bogus', id: 9, op: 'Echo' },
        { kind: 'return', id: 123456, op: 'Echo', body: { status: 0 } },
      ];
      for (const message of garbage) nearPort.postMessage(message);
      nearPort.postMessage(['x', { kind: 'fail' }]);
      // The port keeps order: once this call is answered, everything posted before it was handled.
      assert.deepEqual(await near.call('Echo', { text: 'real' }), { status: 0, text: 'real' });
      assert.equal(far.received, garbage.length + 2 + 1);
      assert.equal(far.sent, 1, 'only the real call was answered');
      assert.equal(echoes, 1, 'no garbage reached the handler');
      assert.equal(far.closed, false);
    });
  });

  it('shows taps every message in both directions, on both sides, until the tap is removed', async () => {
    await withPair({}, async (near, far) => {
      const nearLog: string[] = [];
      const farLog: string[] = [];
      const summary = (direction: string, message: unknown): string => {
        const m = message as { kind: string; op: string };
        return `${direction} ${m.kind} ${m.op}`;
      };
      const removeNear = near.addTap((direction, message) => nearLog.push(summary(direction, message)));
      far.addTap((direction, message) => farLog.push(summary(direction, message)));
      await Promise.all([near.call('Echo', { text: 'x' }), near.call('Fail', { how: 'throw' }).catch(() => undefined)]);
      assert.deepEqual(nearLog, ['send call Echo', 'send call Fail', 'receive return Echo', 'receive fail Fail']);
      // Echo answers synchronously: its reply is sent (queued for the turn's frame) before the next call is read.
      assert.deepEqual(farLog, ['receive call Echo', 'send return Echo', 'receive call Fail', 'send fail Fail']);
      removeNear();
      await near.call('Echo', { text: 'unseen' });
      assert.equal(nearLog.length, 4);
      assert.equal(farLog.length, 6);
    });
  });

  it('cuts off a framed peer that posts a frame past its largest (a MessagePort has no length limit of its own)', async () => {
    const { port1, port2 } = new MessageChannel();
    const peer = new RpcPeer<None, None>(port1, {}, { name: 'lsa-side', codec: lpcCodec('lsa'), maxFrameBytes: 1024 });
    const closed = new Promise<Error>((resolve) => peer.onClose(resolve));
    port2.postMessage(new ArrayBuffer(1025));
    const reason = await within(2000, closed);
    assert.ok(isTransport('FLOODED', /posted a frame of 1025 bytes, past the 1024 this side takes; it is cut off/)(reason));
    port2.close();
  });

  it('rejects the pending calls with PEER_GONE when the worker at the other end exits', async () => {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('../fixtures/workers/answer-then-exit.js', import.meta.url), { workerData: { port: port2 }, transferList: [port2] });
    const exited = once(worker, 'exit');
    const peer = new RpcPeer<AnswerThenExitOps, None>(port1, {}, { name: 'main' });
    try {
      await within(
        5000,
        (async () => {
          assert.deepEqual(await peer.call('Echo', { text: 'once' }), { status: 0, text: 'once' });
          const pending = [peer.call('Hold', {}), peer.call('Hold', {})];
          for (const call of pending) await assert.rejects(call, isTransport('PEER_GONE', /Hold was pending/));
          assert.equal(peer.closed, true);
          assert.deepEqual(await exited, [0]);
        })(),
      );
    } finally {
      port1.close();
      await worker.terminate();
    }
  });
});
