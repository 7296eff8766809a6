// fetch and connect against a peer that is not there or hangs up: a network failure on one line
// of stderr and exit status 3, not SEC_E_INTERNAL_ERROR. Every peer is on the loopback.

import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sspiEmu } from '../helpers/cli.js';

/** A loopback port that nothing listens on: one that was free a moment ago. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const IDENTITY = ['--user', 'alice', '--password', 'Passw0rd!'];

describe('network failures in fetch and connect', { timeout: 120_000 }, () => {
  // A gss-sample server that hangs up as soon as the client's first bytes arrive (mid-handshake),
  // and an HTTP server that hangs up on every request.
  const tcp = createServer((socket) => socket.once('data', () => socket.destroy()));
  const http = createHttpServer((request) => request.socket.destroy());
  let tcpPort: number;
  let httpPort: number;
  before(async () => {
    tcpPort = await listening(tcp);
    httpPort = await listening(http);
  });
  after(() => {
    tcp.close();
    http.close();
  });

  it('connect: a refused connection', async () => {
    const port = await closedPort();
    const { code, stdout, stderr } = await sspiEmu(['connect', '--tcp', `127.0.0.1:${port}`, ...IDENTITY]);
    assert.equal(code, 3, stdout + stderr);
    assert.equal(stderr, `sspi-emu connect: network failure: cannot connect to 127.0.0.1:${port}: connection refused (nothing listens there) (ECONNREFUSED)\n`);
    assert.equal(stdout, '');
  });

  it('fetch: a refused connection', async () => {
    const port = await closedPort();
    const { code, stderr } = await sspiEmu(['fetch', `http://127.0.0.1:${port}/`, ...IDENTITY]);
    assert.equal(code, 3);
    assert.equal(
      stderr,
      `sspi-emu fetch: network failure: the first request to 127.0.0.1:${port}: connection refused (nothing listens there) (ECONNREFUSED)\n`,
    );
  });

  it('connect: a server that hangs up in the middle of the handshake', async () => {
    const { code, stderr } = await sspiEmu(['connect', '--tcp', `127.0.0.1:${tcpPort}`, ...IDENTITY]);
    assert.equal(code, 3, stderr);
    assert.match(stderr, new RegExp(`^sspi-emu connect: network failure: the handshake failed: 127\\.0\\.0\\.1:${tcpPort}: the server hung up \\(.*\\)\\n$`));
    assert.doesNotMatch(stderr, /SEC_E_INTERNAL_ERROR/);
  });

  it('fetch: a server that hangs up on the request', async () => {
    const { code, stderr } = await sspiEmu(['fetch', `http://127.0.0.1:${httpPort}/`, ...IDENTITY]);
    assert.equal(code, 3, stderr);
    assert.equal(stderr, `sspi-emu fetch: network failure: the first request to 127.0.0.1:${httpPort}: the server hung up before it answered (ECONNRESET)\n`);
  });
});
