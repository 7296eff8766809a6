// The HTTP server app in a server process of a real machine, driven over real loopback sockets
// from the test with exact bytes (NTLM tokens from httpntlm, Negotiate tokens from a client
// process's InitializeSecurityContext): the handshake bound to one connection, contexts never
// shared and always deleted, and hostile input that leaves the connection, the server and the LSA
// as they were. On a machine without the Negotiate package it offers NTLM alone; with it, Negotiate
// then NTLM (RFC 4559), the final 200 carrying Negotiate's last token.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { HttpRequestRecord } from '../../app-protocols/socket-control.js';
import { SECBUFFER, SECPKG_CRED, tokenBytes } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { NEG_STATE, unpackNegotiationToken, type NegTokenResp } from '../../packages/negotiate/wire.js';
import { SocketServer } from '../../scenarios/socket-server.js';
import type { CredHandle, CtxtHandle } from '../../sspi/handles.js';
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

  it('answers a request without credentials with 401 and WWW-Authenticate: NTLM, and offers no Negotiate on a machine without its package', async () => {
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

  it('answers another scheme (Basic; Negotiate, whose package this machine lacks) with 401 and its NTLM challenge', async () => {
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

/** A Negotiate initiator in a client process: the tokens an RFC 4559 client sends, from the real package. */
class NegotiateClient {
  private context: CtxtHandle | undefined;
  private readonly proc: AppProcess;
  private readonly credential: CredHandle;

  private constructor(proc: AppProcess, credential: CredHandle) {
    this.proc = proc;
    this.credential = credential;
  }

  static async start(proc: AppProcess, password: string): Promise<NegotiateClient> {
    const authData = { User: 'alice', Domain: 'WORKGROUP', Password: password };
    const acquired = await proc.sspi.acquireCredentialsHandle({ package: 'Negotiate', credentialUse: SECPKG_CRED.OUTBOUND, authData });
    assert.ok(acquired.credential !== undefined, statusName(acquired.status));
    return new NegotiateClient(proc, acquired.credential);
  }

  /** InitializeSecurityContext on the server's token (none for the first): its status and the Authorization value it makes. */
  async step(serverToken?: string): Promise<{ status: string; authorization: string | undefined }> {
    const input = serverToken === undefined ? null : [{ BufferType: SECBUFFER.TOKEN, pvBuffer: Uint8Array.from(Buffer.from(serverToken, 'base64')) }];
    const r = await this.proc.sspi.initializeSecurityContext({ credential: this.credential, context: this.context ?? null, targetName: 'HTTP/127.0.0.1', contextReq: 0, input });
    this.context = r.context ?? this.context;
    const out = tokenBytes(r.output);
    return { status: statusName(r.status), authorization: out === undefined || out.byteLength === 0 ? undefined : `Negotiate ${Buffer.from(out).toString('base64')}` };
  }

  async close(): Promise<void> {
    if (this.context !== undefined) await this.proc.sspi.deleteSecurityContext(this.context);
    await this.proc.sspi.freeCredentialsHandle(this.credential);
  }
}

/** The token of a "Negotiate <base64>" challenge. */
function negotiateToken(header: string | undefined): string {
  const match = /^Negotiate ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  assert.ok(match !== null, `a Negotiate token, not ${JSON.stringify(header)}`);
  return match[1]!;
}

function negTokenResp(base64: string): NegTokenResp {
  const { token } = unpackNegotiationToken(Uint8Array.from(Buffer.from(base64, 'base64')));
  assert.equal(token.kind, 'NegTokenResp');
  return token as NegTokenResp;
}

describe('the HTTP server app with Negotiate (RFC 4559)', { timeout: 120_000 }, () => {
  let machine: Machine;
  let server: SocketServer;
  let client: AppProcess;
  const records: HttpRequestRecord[] = [];
  const open: RawHttp[] = [];

  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm', 'negotiate'], accounts: ['alice:Passw0rd!'], trace: true });
    server = await SocketServer.start(await machine.spawn('server'), { protocol: 'http', port: 0, package: 'NTLM', timeoutMs: TIMEOUT_MS, keepAliveMs: 30_000 });
    server.on('request', (record) => records.push(record));
    client = await machine.spawn('client');
  });

  after(async () => {
    for (const conn of open) conn.close();
    await machine.shutdown();
  });

  async function connection(): Promise<RawHttp> {
    const conn = await RawHttp.open(server.port);
    open.push(conn);
    return conn;
  }

  async function closeAndCount(...conns: RawHttp[]): Promise<number> {
    const target = server.closedConnections + conns.length;
    for (const conn of conns) conn.close();
    await server.waitClosed(target);
    return (await machine.lsa.stats()).perProcess.find((p) => p.name === 'server')?.contexts ?? -1;
  }

  /** A whole Negotiate handshake on `conn`: the NegTokenInit, the 401, the client's answer, the 200; and the client's last call. */
  async function negotiate(conn: RawHttp, password = 'Passw0rd!') {
    const initiator = await NegotiateClient.start(client, password);
    try {
      const first = await initiator.step();
      const challenge = await conn.request({ Authorization: first.authorization! });
      const second = await initiator.step(negotiateToken(challenge?.headers['www-authenticate']));
      const final = await conn.request({ Authorization: second.authorization! });
      const finalHeader = final?.headers['www-authenticate'];
      const last = final?.status === 200 && finalHeader !== undefined ? await initiator.step(negotiateToken(finalHeader)) : undefined;
      return { first, challenge, second, final, last };
    } finally {
      await initiator.close();
    }
  }

  it('offers Negotiate first, then NTLM, as two WWW-Authenticate headers', async () => {
    const conn = await connection();
    const r = await conn.request();
    assert.equal(r?.status, 401);
    assert.equal(r?.headers['www-authenticate'], 'Negotiate, NTLM', 'Negotiate first, each its own header');
    assert.equal(r?.body, 'Negotiate or NTLM authentication required\n');
    assert.equal(await closeAndCount(conn), 0);
  });

  it("authenticates in two requests: the NegTokenResp in the 401, and the 200 carries the accept-completed token with the server's mechListMIC, which the client accepts", async () => {
    const conn = await connection();
    const { first, challenge, second, final, last } = await negotiate(conn);
    assert.equal(first.status, 'SEC_I_CONTINUE_NEEDED');
    assert.equal(challenge?.status, 401);
    const resp = negTokenResp(negotiateToken(challenge?.headers['www-authenticate']));
    assert.equal(resp.negState, NEG_STATE.ACCEPT_INCOMPLETE);
    assert.equal(Buffer.from(resp.responseToken!).toString('latin1', 0, 8), 'NTLMSSP\0', 'the CHALLENGE_MESSAGE inside');
    assert.equal(second.status, 'SEC_I_CONTINUE_NEEDED', 'the client waits for the server to say accept-completed');
    assert.equal(final?.status, 200);
    assert.equal(final?.body, 'user: SSPI-EMU\\alice\npackage: Negotiate\nmechanism: NTLM\n');
    const done = negTokenResp(negotiateToken(final?.headers['www-authenticate']));
    assert.equal(done.negState, NEG_STATE.ACCEPT_COMPLETED);
    assert.equal(done.mechListMIC?.byteLength, 16, "the server's mechListMIC, an NTLM signature");
    assert.equal(last?.status, 'SEC_E_OK', "the client checked the server's mechListMIC");
    assert.equal(last?.authorization, undefined);
    // The connection stays authenticated, with no token on later answers.
    const again = await conn.request({}, '/again');
    assert.equal(again?.status, 200);
    assert.equal(again?.headers['www-authenticate'], undefined);
    assert.equal(await closeAndCount(conn), 0);
  });

  it('answers a wrong password with a final 401 offering both schemes again', async () => {
    const conn = await connection();
    const { final, last } = await negotiate(conn, 'wrong');
    assert.equal(final?.status, 401);
    assert.equal(final?.headers['www-authenticate'], 'Negotiate, NTLM');
    assert.equal(final?.body, 'authentication failed: SEC_E_LOGON_DENIED\n');
    assert.equal(last, undefined);
    const logged = records.find((r) => r.note === 'SEC_E_LOGON_DENIED');
    assert.ok(logged === undefined || logged.status === 401);
    // The same connection then authenticates.
    assert.equal((await negotiate(conn)).last?.status, 'SEC_E_OK');
    assert.equal(await closeAndCount(conn), 0);
  });

  it('takes raw NTLMSSP under the Negotiate scheme, answering raw NTLM tokens under it, with no final token', async () => {
    const conn = await connection();
    const challenge = await conn.request({ Authorization: `Negotiate ${ntlmType1().slice(5)}` });
    assert.equal(challenge?.status, 401);
    assert.match(challenge?.headers['www-authenticate'] ?? '', /^Negotiate TlRMTVNTUAAC/, 'a raw CHALLENGE_MESSAGE under Negotiate');
    const type3 = ntlmType3(`NTLM ${negotiateToken(challenge?.headers['www-authenticate'])}`, 'alice', 'Passw0rd!');
    const final = await conn.request({ Authorization: `Negotiate ${type3.slice(5)}` });
    assert.equal(final?.status, 200);
    assert.equal(final?.body, 'user: SSPI-EMU\\alice\npackage: Negotiate\nmechanism: NTLM\n');
    assert.equal(final?.headers['www-authenticate'], undefined);
    assert.equal(await closeAndCount(conn), 0);
  });

  it('still speaks NTLM to an NTLM client, on the NTLM package', async () => {
    const conn = await connection();
    const { challenge, final } = await ntlmHandshake(conn, 'alice', 'Passw0rd!');
    assert.match(challenge?.headers['www-authenticate'] ?? '', /^NTLM TlRMTVNTUAAC/);
    assert.equal(final?.body, 'user: SSPI-EMU\\alice\npackage: NTLM\n');
    assert.equal(await closeAndCount(conn), 0);
  });

  it('starts over on the other scheme when a client switches in the middle of a handshake, keeping one context for the connection', async () => {
    const conn = await connection();
    assert.equal((await conn.request({ Authorization: ntlmType1() }))?.status, 401);
    const serverContexts = async () => (await machine.lsa.stats()).perProcess.find((p) => p.name === 'server')?.contexts;
    assert.equal(await serverContexts(), 1);
    const { final, last } = await negotiate(conn);
    assert.equal(final?.status, 200);
    assert.equal(last?.status, 'SEC_E_OK');
    assert.equal(await serverContexts(), 1, 'the NTLM context was deleted when Negotiate started');
    assert.equal(await closeAndCount(conn), 0);
  });

  it('answers a malformed Negotiate token with 400 and a NegTokenResp out of turn with a final 401', async () => {
    const conn = await connection();
    for (const value of ['Negotiate', 'Negotiate ***', 'Negotiate ===='])
      assert.equal((await conn.request({ Authorization: value }))?.status, 400, value);
    // A well-formed NegTokenResp with no NegTokenInit before it: SPNEGO's rules refuse it.
    const outOfTurn = await conn.request({ Authorization: 'Negotiate oQcwBaADCgEB' });
    assert.equal(outOfTurn?.status, 401);
    assert.equal(outOfTurn?.body, 'authentication failed: SEC_E_INVALID_TOKEN\n');
    assert.equal((await negotiate(conn)).last?.status, 'SEC_E_OK');
    assert.equal(await closeAndCount(conn), 0);
  });

  it('traces the scheme of each token in and out', async () => {
    const events = (await machine.events()).filter((e) => e.process === 'server');
    assert.ok(events.some((e) => e.call === 'HttpRequest' && /^conn#\d+ GET \/ Authorization Negotiate \d+ B$/.test(e.detail ?? '')));
    assert.ok(events.some((e) => e.call === 'HttpResponse' && /^conn#\d+ 200 WWW-Authenticate Negotiate \d+ B$/.test(e.detail ?? '')));
  });

  it('offers Negotiate alone when its package is the server\'s, and frees both credentials on stop', async () => {
    const only = await SocketServer.start(await machine.spawn('server'), { protocol: 'http', port: 0, package: 'Negotiate', timeoutMs: TIMEOUT_MS });
    const conn = await RawHttp.open(only.port);
    try {
      assert.equal((await conn.request())?.headers['www-authenticate'], 'Negotiate');
      const ntlm = await conn.request({ Authorization: ntlmType1() });
      assert.equal(ntlm?.status, 401);
      assert.equal(ntlm?.headers['www-authenticate'], 'Negotiate', 'NTLM is not offered');
    } finally {
      conn.close();
      await only.stop();
    }
    assert.equal((await server.stop()).statusName, 'SEC_E_OK');
    const stats = await machine.lsa.stats();
    assert.equal(stats.contexts, 0, JSON.stringify(stats));
    assert.equal(stats.perProcess.filter((p) => p.name === 'server').reduce((n, p) => n + p.credentials, 0), 0, 'no credential left in the server processes');
  });
});
