// The gss-sample TCP server and client apps in the server and client processes of one machine,
// over real loopback TCP: the handshake, the sealed message and the signature back; and hostile
// streams (a huge length prefix, the v1 format, no context, garbage tokens, a client that leaves
// mid-handshake or drips bytes) that end only their own connection and leave no context behind.

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TOKEN, packFrame } from '../../app-protocols/gss-framing.js';
import type { TcpConnectionRecord } from '../../app-protocols/socket-control.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { SOCKET_APPS, SocketServer } from '../../scenarios/socket-server.js';
import { ntlmType1 } from '../helpers/sockets.js';

const TIMEOUT_MS = 1_500;

describe('the gss-sample TCP apps', { timeout: 120_000 }, () => {
  let machine: Machine;
  let server: SocketServer;
  let client: AppProcess;
  const records: TcpConnectionRecord[] = [];

  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm'], accounts: ['alice:Passw0rd!'], trace: true });
    server = await SocketServer.start(await machine.spawn('server'), { protocol: 'tcp', port: 0, package: 'NTLM', timeoutMs: TIMEOUT_MS });
    server.on('connection', (record) => records.push(record));
    client = await machine.spawn('client');
  });

  after(() => machine.shutdown());

  /** The record of the next connection to end. */
  function nextRecord(): Promise<TcpConnectionRecord> {
    return new Promise((resolve) => server.once('connection', (record) => resolve(record)));
  }

  function fetchClient(password: string, message = 'hello from the client process') {
    return client.runApp(SOCKET_APPS.tcp.client, {
      host: '127.0.0.1',
      port: server.port,
      package: 'NTLM',
      user: 'alice',
      domain: 'WORKGROUP',
      password,
      message,
    });
  }

  /** A raw connection: writes `bytes`, then waits until the server closes it; what the server sent. */
  async function raw(write: (socket: Socket) => void): Promise<Buffer> {
    const socket = connect({ host: '127.0.0.1', port: server.port });
    socket.on('error', () => undefined);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    write(socket);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    return Buffer.concat(chunks);
  }

  it('authenticates the client, unseals its message, and signs it back; the client verifies the signature', async () => {
    const logged = nextRecord();
    const result = await fetchClient('Passw0rd!');
    assert.equal(result.statusName, 'SEC_E_OK', result.detail);
    assert.match(
      result.detail ?? '',
      /authenticated to 127\.0\.0\.1:\d+ as WORKGROUP\\alice in 3 tokens; sealed message sent \(29 B\), the server's signature over it verified/,
    );
    const record = await logged;
    assert.equal(record.user, 'SSPI-EMU\\alice');
    assert.equal(record.status, 'SEC_E_OK');
    assert.deepEqual(record.messages, ['hello from the client process']);
    assert.equal(typeof record.handshakeMs, 'number');
  });

  it('refuses a wrong password: the server logs SEC_E_LOGON_DENIED and closes, and the client says the server closed', async () => {
    const logged = nextRecord();
    const result = await fetchClient('wrong');
    assert.notEqual(result.statusName, 'SEC_E_OK');
    assert.match(result.detail ?? '', /the server closed the connection/);
    assert.equal((await logged).status, 'SEC_E_LOGON_DENIED');
  });

  it("a message whose sealed token is over the server's limit: the server refuses the token, and the client's error names its size beside a wrong password", async () => {
    const logged = nextRecord();
    const result = await fetchClient('Passw0rd!', 'M'.repeat(70_000));
    assert.equal(result.statusName, 'SEC_E_INTERNAL_ERROR');
    assert.match(
      result.detail ?? '',
      /the server closed the connection before the server's signature: .*\(a wrong password\?\) or a token over their limit \(the sealed message went as 70016 bytes; sspi-emu serve --tcp takes up to 65536\)/,
    );
    // The server refused the token by its length prefix, as it arrived: whether its last
    // AcceptSecurityContext had answered by then is a race (the client sends the message as soon as
    // its own side is done), so the record says the refusal, and the user only when it had.
    const record = await logged;
    assert.equal(record.status, 'TOKEN_TOO_LARGE');
    // A wrong password's refusal names no size (the test above): only a token over the limit does.
  });

  it('refuses a length prefix of 4 GiB without allocating it, and closes that connection', async () => {
    const logged = nextRecord();
    const answer = await raw((s) => s.write(Buffer.from([TOKEN.NOOP | TOKEN.CONTEXT_NEXT, 0xff, 0xff, 0xff, 0xff])));
    assert.equal(answer.byteLength, 0);
    const record = await logged;
    assert.equal(record.status, 'TOKEN_TOO_LARGE');
    assert.match(record.note ?? '', /4294967295 bytes is over the limit/);
  });

  it('refuses the v1 format, a connection without a context, and a first token that is not NOOP', async () => {
    const cases: Array<[Uint8Array, string]> = [
      [Uint8Array.from([0, 0, 0, 4, 1, 2, 3, 4]), 'BAD_FLAGS'],
      [packFrame(TOKEN.NOOP), 'PROTOCOL'],
      [packFrame(TOKEN.CONTEXT, Uint8Array.from([1, 2, 3])), 'PROTOCOL'],
    ];
    for (const [bytes, status] of cases) {
      const logged = nextRecord();
      await raw((s) => s.write(bytes));
      assert.equal((await logged).status, status);
    }
  });

  it('ends a connection whose CONTEXT token is not an NTLM message with SEC_E_INVALID_TOKEN', async () => {
    const logged = nextRecord();
    await raw((s) => s.write(Buffer.concat([packFrame(TOKEN.NOOP | TOKEN.CONTEXT_NEXT), packFrame(TOKEN.CONTEXT, Buffer.from('garbage, not NTLMSSP'))])));
    assert.equal((await logged).status, 'SEC_E_INVALID_TOKEN');
  });

  it('deletes the context of a client that disconnects after its NEGOTIATE_MESSAGE', async () => {
    const negotiate = Buffer.from(ntlmType1().slice(5), 'base64');
    const closed = new Promise<boolean>((resolve) => server.once('closed', (_id, deleted) => resolve(deleted)));
    await raw((s) => {
      s.write(Buffer.concat([packFrame(TOKEN.NOOP | TOKEN.CONTEXT_NEXT), packFrame(TOKEN.CONTEXT, negotiate)]));
      s.once('data', () => s.destroy()); // the CHALLENGE came: leave
    });
    assert.equal(await closed, true);
    assert.equal((await machine.lsa.stats()).contexts, 0);
  });

  it('cuts a client that sends one byte a second when a token does not arrive within the timeout', async () => {
    const logged = nextRecord();
    const frame = Buffer.concat([packFrame(TOKEN.NOOP | TOKEN.CONTEXT_NEXT), packFrame(TOKEN.CONTEXT, new Uint8Array(40))]);
    let sent = 0;
    let drip: NodeJS.Timeout | undefined;
    try {
      await raw((s) => {
        const next = (): void => {
          if (sent < frame.byteLength && !s.destroyed) s.write(frame.subarray(sent, ++sent));
        };
        next(); // the first byte at once: the server has begun receiving before it cuts
        drip = setInterval(next, 1_000);
      });
    } finally {
      clearInterval(drip);
    }
    // The order, not the time: the server cut the connection while the client was still sending the
    // token (an idle timeout, reset by each byte, would have waited for all of its bytes).
    assert.ok(sent >= 1 && sent < frame.byteLength, `cut after ${sent} of ${frame.byteLength} bytes`);
    const record = await logged;
    assert.equal(record.status, 'TIMEOUT');
    assert.match(record.note ?? '', new RegExp(`no complete token within ${TIMEOUT_MS} ms`), 'the deadline the server was given');
  });

  it('still serves afterwards, and the LSA holds no context', async () => {
    const closed = new Promise<boolean>((resolve) => server.once('closed', (_id, deleted) => resolve(deleted)));
    assert.equal((await fetchClient('Passw0rd!')).statusName, 'SEC_E_OK');
    assert.equal(await closed, true);
    assert.equal((await machine.lsa.stats()).contexts, 0);
  });

  it('records the sockets in the trace: accepted connections, tokens in and out with flags and sizes, the context of each connection', async () => {
    const events = await machine.events();
    const onServer = events.filter((e) => e.process === 'server');
    assert.ok(onServer.some((e) => e.call === 'TcpAccept' && /^conn#\d+ from 127\.0\.0\.1:\d+$/.test(e.detail ?? '')));
    assert.ok(onServer.some((e) => e.call === 'TcpReceive' && /^conn#\d+ CONTEXT \d+ B$/.test(e.detail ?? '')));
    assert.ok(onServer.some((e) => e.call === 'TcpSend' && /^conn#\d+ MIC 16 B$/.test(e.detail ?? '')));
    assert.ok(onServer.some((e) => e.call === 'ContextBound'));
    const onClient = events.filter((e) => e.process === 'client');
    assert.ok(onClient.some((e) => e.call === 'TcpSend' && e.detail === 'DATA|WRAPPED|ENCRYPTED|SEND_MIC 45 B'));
  });

  it('stops: cuts an open connection and deletes its context', async () => {
    const socket = connect({ host: '127.0.0.1', port: server.port });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const negotiate = Buffer.from(ntlmType1().slice(5), 'base64');
    const challenged = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write(Buffer.concat([packFrame(TOKEN.NOOP | TOKEN.CONTEXT_NEXT), packFrame(TOKEN.CONTEXT, negotiate)]));
    await challenged;
    assert.equal((await machine.lsa.stats()).contexts, 1);
    const result = await server.stop();
    await closed;
    assert.equal(result.statusName, 'SEC_E_OK');
    const stats = await machine.lsa.stats();
    assert.equal(stats.contexts, 0);
  });
});
