// LPC frames over a stream socket (an LSA in its own OS process): each frame a 4-byte length and
// its bytes, delivered whole as an ArrayBuffer however the stream cuts them, in order, and only
// once someone listens; a length past the bound or a peer that does not read cuts the connection.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SocketFramePort } from '../../ipc/socket-port.js';

let dir: string;
let server: Server;
let path: string;
const accepted: Socket[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'socket-port-test-'));
  path = join(dir, 's');
  server = createServer((s) => accepted.push(s));
  server.listen(path);
  await once(server, 'listening');
});
after(() => {
  for (const s of accepted) s.destroy();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A connected pair: the raw server-side socket, and a SocketFramePort over the client side. */
async function pair(options: Partial<{ maxFrameBytes: number; maxUnsentBytes: number }> = {}): Promise<{ raw: Socket; port: SocketFramePort }> {
  const count = accepted.length;
  const socket = connect(path);
  await once(socket, 'connect');
  while (accepted.length === count) await once(server, 'connection');
  const port = new SocketFramePort(socket, {
    name: 'test',
    maxFrameBytes: options.maxFrameBytes ?? 1 << 20,
    maxUnsentBytes: options.maxUnsentBytes ?? 1 << 20,
  });
  return { raw: accepted.at(-1)!, port };
}

function framed(bytes: number[]): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(bytes.length, 0);
  return Buffer.concat([header, Buffer.from(bytes)]);
}

/** The next `n` frames the port delivers. */
function frames(port: SocketFramePort, n: number): Promise<number[][]> {
  const got: number[][] = [];
  return new Promise((resolve) =>
    port.on('message', (frame: unknown) => {
      assert.ok(frame instanceof ArrayBuffer, 'a frame arrives as an ArrayBuffer');
      got.push([...new Uint8Array(frame)]);
      if (got.length === n) resolve(got);
    }),
  );
}

describe('SocketFramePort', () => {
  it('delivers frames whole and in order however the stream cuts them, each byte in its own write', async () => {
    const { raw, port } = await pair();
    const sent = [[1, 2, 3], [], [4], Array.from({ length: 300 }, (_, i) => i & 0xff)];
    const wire = Buffer.concat(sent.map(framed));
    const arriving = frames(port, sent.length);
    for (const byte of wire) raw.write(Buffer.from([byte]));
    assert.deepEqual(await arriving, sent);
    port.close();
  });

  it('keeps frames that arrive before anyone listens, and delivers them once someone does', async () => {
    const { raw, port } = await pair();
    raw.write(Buffer.concat([framed([7]), framed([8, 9])]));
    // The bytes are here (or on their way); nothing is lost for want of a listener.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await frames(port, 2), [[7], [8, 9]]);
    port.close();
  });

  it('writes each frame with its length, one ArrayBuffer each, and refuses anything but an ArrayBuffer', async () => {
    const { raw, port } = await pair();
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    port.postMessage(new Uint8Array([5, 6]).buffer);
    port.postMessage(new ArrayBuffer(0));
    assert.throws(() => port.postMessage({ kind: 'call' }), TypeError);
    port.close();
    await once(raw, 'end');
    assert.deepEqual([...Buffer.concat(chunks)], [...framed([5, 6]), ...framed([])]);
  });

  it('cuts the connection on a length past maxFrameBytes before waiting for the bytes', async () => {
    const { raw, port } = await pair({ maxFrameBytes: 1024 });
    const closed = once(port, 'close');
    port.on('message', () => assert.fail('no frame is delivered'));
    raw.write(Buffer.from([0x01, 0x04, 0x00, 0x00])); // 1025
    await closed;
    assert.equal(port.cutOff, 'frame-too-long');
    await once(raw, 'close');
  });

  it('cuts a peer that does not read once maxUnsentBytes wait unread', async () => {
    const { raw, port } = await pair({ maxUnsentBytes: 256 * 1024 });
    raw.pause();
    const closed = once(port, 'close');
    const chunk = new ArrayBuffer(64 * 1024);
    for (let i = 0; i < 1000 && port.cutOff === undefined; i++) port.postMessage(chunk.slice(0));
    await closed;
    assert.equal(port.cutOff, 'not-reading');
  });

  it('emits close once when the peer goes, and tells a close listener added afterwards', async () => {
    const { raw, port } = await pair();
    let closes = 0;
    port.on('close', () => closes++);
    raw.destroy();
    await once(port, 'close');
    const late = new Promise<void>((resolve) => port.on('close', resolve));
    await late;
    assert.equal(closes, 1);
  });
});
