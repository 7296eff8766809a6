// The socket where an LSA in its own OS process takes app processes' LPC: a connection is the
// process's the machine expected with that secret, once; anything else is closed and counted.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HELLO_MAGIC } from '../../ipc/socket-port.js';
import { DEFAULT_LISTENER_OPTIONS, LpcListener, type LpcListenerOptions } from '../../lsa/lpc-listener.js';

let dir: string;
let listener: LpcListener;

async function listen(options: Partial<LpcListenerOptions> = {}): Promise<LpcListener> {
  listener = await LpcListener.listen(join(dir, 'lpc'), { ...DEFAULT_LISTENER_OPTIONS, ...options });
  return listener;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lpc-listener-test-'));
});
afterEach(() => {
  listener?.close();
  rmSync(dir, { recursive: true, force: true });
});

const secret = (): Uint8Array => new Uint8Array(randomBytes(32));

/** Connects and writes `bytes`; `closed` resolves when the listener closes the connection. */
async function present(bytes: Uint8Array): Promise<{ closed: Promise<void>; socket: ReturnType<typeof connect> }> {
  const socket = connect(listener.path);
  // A connection the listener closes at once may see EPIPE or ECONNRESET: its close is what counts.
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  if (bytes.byteLength > 0) socket.write(bytes);
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  return { socket, closed };
}

const hello = (s: Uint8Array): Uint8Array => Buffer.concat([HELLO_MAGIC, s]);

describe('LpcListener', () => {
  it('binds a connection with an expected secret, and frames go both ways on it', async () => {
    await listen();
    const s = secret();
    const bound = listener.expect(s, 'client', 5_000);
    const header = Buffer.from([1, 0, 0, 0]);
    const { socket } = await present(Buffer.concat([hello(s), header, Buffer.from([42])]));
    const port = await bound;
    const [frame] = (await once(port, 'message')) as [ArrayBuffer];
    assert.deepEqual([...new Uint8Array(frame)], [42], 'bytes written right after the hello are the first frame');
    const back = once(socket, 'data');
    port.postMessage(new Uint8Array([7]).buffer);
    assert.deepEqual([...((await back)[0] as Buffer)], [1, 0, 0, 0, 7]);
    assert.equal(listener.stats().accepted, 1);
    socket.destroy();
  });

  it('closes a connection with a secret nobody expected, one already spent, or a wrong magic, and counts each', async () => {
    await listen();
    const s = secret();
    const bound = listener.expect(s, 'client', 5_000);
    const first = await present(hello(s));
    await bound;
    await (
      await present(hello(s))
    ).closed;
    await (
      await present(hello(secret()))
    ).closed;
    await (
      await present(Buffer.concat([Buffer.from('SSPI-EMU RPC'), secret()]))
    ).closed;
    assert.deepEqual(listener.stats().refused, { badHello: 1, helloTimeout: 0, tooManyHellos: 0, spentSecret: 1, unknownSecret: 1 });
    first.socket.destroy();
  });

  it('closes a connection that sends no hello in time, and the one that waited longest when one past the places comes', async () => {
    await listen({ helloTimeoutMs: 200, maxHellos: 2 });
    const silent = await present(new Uint8Array(0));
    const another = await present(HELLO_MAGIC.subarray(0, 3));
    const third = await present(new Uint8Array(0));
    await silent.closed; // the oldest, closed for the third's place
    await Promise.all([another.closed, third.closed]);
    assert.deepEqual(listener.stats().refused, { badHello: 0, helloTimeout: 2, tooManyHellos: 1, spentSecret: 0, unknownSecret: 0 });
  });

  it('binds a process whose hello comes while connections that never say theirs hold every place', async () => {
    await listen({ maxHellos: 4 });
    // Squatters: each says part of the magic and nothing more, and takes its place back as soon as it loses it.
    let squatting = true;
    const squatters = new Set<ReturnType<typeof connect>>();
    const squat = (): void => {
      if (!squatting) return;
      const socket = connect(listener.path);
      squatters.add(socket);
      socket.on('error', () => undefined);
      socket.on('connect', () => socket.write(HELLO_MAGIC.subarray(0, 1)));
      socket.on('close', () => {
        squatters.delete(socket);
        squat();
      });
    };
    for (let i = 0; i < 8; i++) squat();
    try {
      for (let i = 0; i < 5; i++) {
        const s = secret();
        const bound = listener.expect(s, `client${i}`, 5_000);
        const { socket } = await present(hello(s));
        (await bound).close();
        socket.destroy();
      }
      assert.equal(listener.stats().accepted, 5);
      assert.ok(listener.stats().refused.tooManyHellos > 0);
    } finally {
      squatting = false;
      for (const socket of squatters) socket.destroy();
    }
  });

  it('rejects an expectation whose process never connects, or was cancelled, and spends its secret', async () => {
    await listen();
    const late = secret();
    await assert.rejects(listener.expect(late, 'slow', 50), { code: 'SPAWN_FAILED', message: /slow did not connect to the LSA within 50 ms/ });
    await (
      await present(hello(late))
    ).closed;
    const cancelled = secret();
    const waiting = listener.expect(cancelled, 'gone', 5_000);
    listener.cancel(cancelled);
    await assert.rejects(waiting, { code: 'SPAWN_FAILED', message: /gone went away/ });
    await assert.rejects(listener.expect(cancelled, 'again', 5_000), { code: 'SPAWN_FAILED', message: /used already/ });
    assert.equal(listener.stats().refused.spentSecret, 1);
  });
});
