// The HTTP NTLM server app in a server process of a real machine, driven over real loopback
// sockets from the test with exact bytes (NTLM tokens from httpntlm): the handshake bound to one
// connection, contexts never shared and always deleted, and hostile input that leaves the
// connection, the server and the LSA as they were.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { HttpRequestRecord } from '../../app-protocols/socket-control.js';
import { Machine } from '../../machine/machine.js';
import { SocketServer } from '../../scenarios/socket-server.js';
import { RawHttp, ntlmHandshake, ntlmType1, ntlmType3 } from '../helpers/sockets.js';

const TIMEOUT_MS = 1_500;

describe('the HTTP NTLM server app', { timeout: 120_000 }, () => {
  let machine: Machine;
  let server: SocketServer;
  const records: HttpRequestRecord[] = [];
  const open: RawHttp[] = [];

  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm'], accounts: ['alice:Passw0rd!', 'CORP\\bob:Hunter2hunter2'], trace: true });
    const proc = await machine.spawn('server');
    server = await SocketServer.start(proc, { protocol: 'http', port: 0, package: 'NTLM', timeoutMs: TIMEOUT_MS, keepAliveMs: 30_000 });
    server.on('request', (record) => records.push(record));
  });

  after(async () => {
    for (const conn of open) conn.close();
    await machine.shutdown();
  });

  /** The log record matching `test`, already in or to come (the log travels apart from the response). */
  function record(test: (r: HttpRequestRecord) => boolean): Promise<HttpRequestRecord> {
    const seen = records.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const listener = (r: HttpRequestRecord): void => {
        if (!test(r)) return;
        server.off('request', listener);
        resolve(r);
      };
      server.on('request', listener);
    });
  }

  async function connection(): Promise<RawHttp> {
    const conn = await RawHttp.open(server.port);
    open.push(conn);
    return conn;
  }

  /** Closes `conns` and waits until the server has deleted their contexts; then the LSA's count. */
  async function closeAndCount(...conns: RawHttp[]): Promise<number> {
    const target = server.closedConnections + conns.length;
    for (const conn of conns) conn.close();
    await server.waitClosed(target);
    return (await machine.lsa.stats()).contexts;
  }

  it('answers a request without credentials with 401 and WWW-Authenticate: NTLM, and offers no Negotiate', async () => {
    const conn = await connection();
    const r = await conn.request();
    assert.equal(r?.status, 401);
    assert.equal(r?.headers['www-authenticate'], 'NTLM');
    assert.equal(await closeAndCount(conn), 0);
  });

  it('authenticates with the NTLM token loop on one connection: 200 naming the user and the package, logged with the handshake time', async () => {
    const conn = await connection();
    const { challenge, final } = await ntlmHandshake(conn, 'alice', 'Passw0rd!');
    assert.equal(challenge?.status, 401);
    assert.match(challenge?.headers['www-authenticate'] ?? '', /^NTLM TlRMTVNTUAAC/, 'a CHALLENGE_MESSAGE');
    assert.equal(final?.status, 200);
    assert.equal(final?.body, 'user: SSPI-EMU\\alice\npackage: NTLM\n');
    const log = await record((r) => r.status === 200 && r.user === 'SSPI-EMU\\alice');
    assert.ok(typeof log.handshakeMs === 'number' && log.method === 'GET' && log.path === '/');
    // The connection stays authenticated; another connection is not.
    assert.equal((await conn.request({}, '/again'))?.status, 200);
    const other = await connection();
    assert.equal((await other.request())?.status, 401);
    assert.equal(await closeAndCount(conn, other), 0);
  });

  it('answers a wrong password with a final 401 and a bare challenge, and the same connection then authenticates', async () => {
    const conn = await connection();
    const wrong = await ntlmHandshake(conn, 'alice', 'wrong');
    assert.equal(wrong.final?.status, 401);
    assert.equal(wrong.final?.headers['www-authenticate'], 'NTLM');
    assert.match(wrong.final?.body ?? '', /SEC_E_LOGON_DENIED/);
    const right = await ntlmHandshake(conn, 'bob', 'Hunter2hunter2');
    assert.equal(right.final?.body, 'user: CORP\\bob\npackage: NTLM\n');
    assert.equal(await closeAndCount(conn), 0);
  });

  it('gives each concurrent connection its own context in the LSA, and deletes each when its connection closes', async () => {
    const conns = await Promise.all(Array.from({ length: 12 }, () => connection()));
    const challenges = await Promise.all(conns.map((c) => c.request({ Authorization: ntlmType1() })));
    assert.ok(challenges.every((r) => r?.status === 401));
    assert.equal(new Set(challenges.map((r) => r?.headers['www-authenticate'])).size, 12, 'twelve different challenges');
    assert.equal((await machine.lsa.stats()).contexts, 12, 'one context per connection');
    const finals = await Promise.all(
      conns.map((c, i) => c.request({ Authorization: ntlmType3(challenges[i]!.headers['www-authenticate']!, 'alice', 'Passw0rd!') })),
    );
    assert.ok(finals.every((r) => r?.status === 200));
    assert.equal(await closeAndCount(...conns), 0);
  });

  it('answers garbage and truncated base64 with 400, and the connection goes on to authenticate', async () => {
    const conn = await connection();
    const type1 = ntlmType1();
    for (const value of ['NTLM !!!notbase64***', type1.slice(0, -3), 'NTLM']) {
      const r = await conn.request({ Authorization: value });
      assert.equal(r?.status, 400, value);
      assert.match(r?.body ?? '', /bad Authorization header/);
    }
    // Truncated on a base64 boundary it decodes, and the package finds the NEGOTIATE_MESSAGE short.
    const short = await conn.request({ Authorization: type1.slice(0, 5 + 16) });
    assert.equal(short?.status, 401);
    assert.match(short?.body ?? '', /SEC_E_INVALID_TOKEN/);
    assert.equal((await ntlmHandshake(conn, 'alice', 'Passw0rd!')).final?.status, 200);
    assert.equal(await closeAndCount(conn), 0);
  });

  it('answers an AUTHENTICATE_MESSAGE before any NEGOTIATE_MESSAGE with a final 401, leaving no context', async () => {
    // A type 3 made for another connection's challenge, sent first on a fresh one.
    const donor = await connection();
    const challenge = await donor.request({ Authorization: ntlmType1() });
    const conn = await connection();
    const r = await conn.request({ Authorization: ntlmType3(challenge!.headers['www-authenticate']!, 'alice', 'Passw0rd!') });
    assert.equal(r?.status, 401);
    assert.equal(r?.headers['www-authenticate'], 'NTLM');
    assert.equal((await ntlmHandshake(conn, 'alice', 'Passw0rd!')).final?.status, 200);
    assert.equal(await closeAndCount(conn, donor), 0);
  });

  it('answers another scheme (Basic, Negotiate) with 401 and its NTLM challenge', async () => {
    const conn = await connection();
    for (const value of ['Basic YWxpY2U6UGFzc3cwcmQh', `Negotiate ${ntlmType1().slice(5)}`]) {
      const r = await conn.request({ Authorization: value });
      assert.equal(r?.status, 401, value);
      assert.equal(r?.headers['www-authenticate'], 'NTLM');
    }
    assert.equal(await closeAndCount(conn), 0);
  });

  it('refuses a 1 MiB header with 431 and closes that connection, and keeps serving', async () => {
    const conn = await connection();
    conn.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: NTLM ${'A'.repeat(1024 * 1024)}\r\n\r\n`);
    const r = await conn.response();
    assert.ok(r === null || r.status === 431, `431 or a reset, not ${r?.status}`);
    await conn.closed;
    await record((r) => r.status === 431);
    const next = await connection();
    assert.equal((await ntlmHandshake(next, 'alice', 'Passw0rd!')).final?.status, 200);
    assert.equal(await closeAndCount(next), 0);
  });

  it('deletes the context of a client that disconnects in the middle of the handshake', async () => {
    const conn = await connection();
    assert.equal((await conn.request({ Authorization: ntlmType1() }))?.status, 401);
    assert.equal((await machine.lsa.stats()).contexts, 1);
    const closed = new Promise<boolean>((resolve) => server.once('closed', (_id, deleted) => resolve(deleted)));
    conn.close();
    assert.equal(await closed, true, 'its context was deleted');
    assert.equal((await machine.lsa.stats()).contexts, 0);
  });

  it('closes a slow client that sends one byte a second when its headers do not arrive within the timeout', async () => {
    const socket = connect({ host: '127.0.0.1', port: server.port });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const request = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ntlmType1()}\r\n\r\n`);
    let sent = 0;
    const next = (): void => {
      if (sent < request.byteLength && !socket.destroyed) socket.write(request.subarray(sent, ++sent));
    };
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    next(); // the first byte at once: the server has begun receiving before it closes
    const drip = setInterval(next, 1_000);
    try {
      await closed;
    } finally {
      clearInterval(drip);
    }
    // The order, not the time: the server closed the connection while the client was still sending
    // its headers, and what it said before closing, if anything, was a 408.
    assert.ok(sent >= 1 && sent < request.byteLength, `closed after ${sent} of ${request.byteLength} bytes`);
    assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), answer);
    await record((r) => r.status === 408);
  });

  it('still serves after all of that, and the LSA holds no context', async () => {
    const conn = await connection();
    assert.equal((await ntlmHandshake(conn, 'alice', 'Passw0rd!')).final?.status, 200);
    assert.equal(await closeAndCount(conn), 0);
    const stats = await machine.lsa.stats();
    assert.equal(stats.contexts, 0, JSON.stringify(stats));
    assert.equal(stats.credentials, 1, "only the server's own credential");
  });

  it('records the sockets in the trace: accepted connections, tokens in and out with sizes, and the connection each context belongs to', async () => {
    const events = (await machine.events()).filter((e) => e.process === 'server');
    const calls = new Set(events.map((e) => e.call));
    for (const call of ['HttpListen', 'HttpAccept', 'HttpRequest', 'ContextBound', 'HttpResponse', 'HttpClose']) assert.ok(calls.has(call), call);
    assert.ok(events.some((e) => e.call === 'HttpRequest' && /^conn#\d+ GET \/ Authorization NTLM \d+ B$/.test(e.detail ?? '')));
    assert.ok(events.some((e) => e.call === 'HttpResponse' && /^conn#\d+ 401 WWW-Authenticate NTLM \d+ B$/.test(e.detail ?? '')));
    assert.ok(events.some((e) => e.call === 'ContextBound' && /^conn#\d+ context \d+:\d+$/.test(e.detail ?? '')));
    assert.ok(events.some((e) => e.call === 'HttpClose' && / context deleted$/.test(e.detail ?? '')));
  });

  it('stops: closes a connection in the middle of a handshake, deletes its context, and returns its summary', async () => {
    const conn = await connection();
    assert.equal((await conn.request({ Authorization: ntlmType1() }))?.status, 401);
    const result = await server.stop();
    await conn.closed;
    assert.equal(result.statusName, 'SEC_E_OK');
    const summary = result.data as { connections: number; authenticated: number; failed: number };
    assert.ok(summary.connections >= 20 && summary.authenticated >= 18 && summary.failed >= 2, JSON.stringify(summary));
    const stats = await machine.lsa.stats();
    assert.equal(stats.contexts, 0, JSON.stringify(stats));
    assert.equal(stats.credentials, 0, JSON.stringify(stats));
  });
});
