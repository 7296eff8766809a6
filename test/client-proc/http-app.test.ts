// The HTTP client app in a client process, against the server app in the same machine and
// against small node:http servers in the test that do not play along: one that asks for nothing,
// one that asks for Basic only, one whose challenge is not base64, one that closes the connection
// between the legs. With the Negotiate package (RFC 4559): the final token of the 200 verified
// before the 200 is accepted, and a relay in the middle that alters it or drops it is refused.

import assert from 'node:assert/strict';
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { HttpFetchData } from '../../client-proc/http-app.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { SOCKET_APPS, SocketServer } from '../../scenarios/socket-server.js';
import { RawHttp, ntlmType1 } from '../helpers/sockets.js';

describe('the HTTP NTLM client app', { timeout: 60_000 }, () => {
  let machine: Machine;
  let client: AppProcess;
  let ntlmServer: SocketServer;

  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm'], accounts: ['alice:Passw0rd!'], trace: false });
    ntlmServer = await SocketServer.start(await machine.spawn('server'), { protocol: 'http', port: 0, package: 'NTLM' });
    client = await machine.spawn('client');
  });

  after(() => machine.shutdown());

  const fetchWith = (url: string, password = 'Passw0rd!') =>
    client.runApp(SOCKET_APPS.http.client, { url, package: 'NTLM', user: 'alice', domain: 'WORKGROUP', password, timeoutMs: 10_000 });

  /** A node:http server in the test, for one test's duration. */
  async function withServer(handler: (req: IncomingMessage, res: ServerResponse) => void, fn: (url: string) => Promise<void>): Promise<void> {
    const server: Server = createServer(handler);
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
    const address = server.address();
    try {
      await fn(`http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/path?q=1`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  it('authenticates to the server app in two requests on one connection and returns its 200', async () => {
    const result = await fetchWith(`http://127.0.0.1:${ntlmServer.port}/hello`);
    assert.equal(result.statusName, 'SEC_E_OK', result.detail);
    const data = result.data as unknown as HttpFetchData;
    assert.equal(data.statusCode, 200);
    assert.equal(new TextDecoder().decode(data.body), 'user: SSPI-EMU\\alice\npackage: NTLM\n');
    assert.equal(data.requests, 2);
    assert.equal(data.authenticateSent, true);
  });

  it('returns the final 401 for a wrong password', async () => {
    const data = (await fetchWith(`http://127.0.0.1:${ntlmServer.port}/`, 'wrong')).data as unknown as HttpFetchData;
    assert.equal(data.statusCode, 401);
    assert.match(new TextDecoder().decode(data.body), /SEC_E_LOGON_DENIED/);
  });

  it("returns a server's answer as it is when it asks for no authentication or only for Basic", async () => {
    await withServer(
      (req, res) => res.end(`no auth needed; you sent ${req.headers.authorization?.slice(0, 4)}`),
      async (url) => {
        const data = (await fetchWith(url)).data as unknown as HttpFetchData;
        assert.equal(data.statusCode, 200);
        assert.equal(data.requests, 1);
        assert.equal(data.authenticateSent, false);
        assert.equal(new TextDecoder().decode(data.body), 'no auth needed; you sent NTLM');
      },
    );
    await withServer(
      (_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"' }).end(),
      async (url) => {
        const data = (await fetchWith(url)).data as unknown as HttpFetchData;
        assert.equal(data.statusCode, 401);
        assert.equal(data.authenticateSent, false);
      },
    );
  });

  it('fails with SEC_E_INVALID_TOKEN on a challenge that is not base64', async () => {
    await withServer(
      (_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'NTLM ***' }).end(),
      async (url) => {
        const result = await fetchWith(url);
        assert.equal(result.statusName, 'SEC_E_INVALID_TOKEN');
        assert.match(result.detail ?? '', /malformed/);
      },
    );
  });

  it('fails clearly when the server closes the connection between the legs', async () => {
    // A real CHALLENGE_MESSAGE, from the server app.
    const conn = await RawHttp.open(ntlmServer.port);
    const challenge = (await conn.request({ Authorization: ntlmType1() }))?.headers['www-authenticate']?.slice(5);
    conn.close();
    assert.ok(challenge !== undefined);
    await withServer(
      (_req, res) => res.writeHead(401, { 'WWW-Authenticate': `NTLM ${challenge}`, Connection: 'close' }).end(),
      async (url) => {
        const result = await fetchWith(url);
        assert.equal(result.statusName, 'SEC_E_INTERNAL_ERROR');
        assert.match(result.detail ?? '', /closed the connection between the NTLM legs/);
      },
    );
  });

  it('says a server that never answers, or does not speak TLS on an https:// URL, is a network failure', async () => {
    // A listener that takes the connection and says nothing: the app's own time limit runs out.
    const silent = createNetServer((socket) => socket.on('error', () => undefined).resume());
    await new Promise<void>((resolve) => silent.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
    const { port } = silent.address() as AddressInfo;
    try {
      const fetchQuickly = (url: string) =>
        client.runApp(SOCKET_APPS.http.client, { url, package: 'NTLM', user: 'alice', domain: 'WORKGROUP', password: 'Passw0rd!', timeoutMs: 300, tls: { insecure: true } });
      const plain = await fetchQuickly(`http://127.0.0.1:${port}/`);
      assert.match(plain.networkFailure ?? '', /^the first request to 127\.0\.0\.1:\d+: the server did not answer \(no complete response within the time limit\)$/, plain.detail);
      const overTls = await fetchQuickly(`https://127.0.0.1:${port}/`);
      assert.match(overTls.networkFailure ?? '', /the server did not answer \(no TLS connection within the time limit\)$/, overTls.detail);
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    await withServer(
      (_req, res) => res.end('plain'),
      async (url) => {
        const result = await client.runApp(SOCKET_APPS.http.client, { url: url.replace('http:', 'https:'), package: 'NTLM', user: 'alice', password: 'x', tls: { insecure: true } });
        assert.match(result.networkFailure ?? '', /the server does not speak TLS there \(an http:\/\/ port\?\) \(ERR_SSL_WRONG_VERSION_NUMBER\)$/, result.detail);
      },
    );
  });

  it('leaves no context in the LSA', async () => {
    const stats = await machine.lsa.stats();
    assert.equal(stats.perProcess.find((p) => p.name === 'client')?.contexts, 0);
  });
});

/** A plain HTTP relay in the middle: requests passed on over one kept-alive connection, the server's challenges rewritten by `rewrite`. */
class Relay {
  private readonly server: Server;
  private readonly upstream = new Agent({ keepAlive: true, maxSockets: 1 });
  port = 0;

  constructor(target: number, rewrite: (status: number, challenge: string | undefined) => string | undefined) {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      const headers: Record<string, string> = {};
      if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
      const up = request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers, agent: this.upstream }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const status = answer.statusCode ?? 502;
          const challenge = rewrite(status, answer.headers['www-authenticate']);
          res.writeHead(status, challenge === undefined ? {} : { 'WWW-Authenticate': challenge });
          res.end(Buffer.concat(chunks));
        });
      });
      up.on('error', () => res.destroy());
      up.end();
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this;
  }

  async close(): Promise<void> {
    this.upstream.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('the HTTP client app with Negotiate', { timeout: 60_000 }, () => {
  let machine: Machine;
  let client: AppProcess;
  let server: SocketServer;

  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm', 'negotiate'], accounts: ['alice:Passw0rd!'], trace: true });
    server = await SocketServer.start(await machine.spawn('server'), { protocol: 'http', port: 0, package: 'NTLM' });
    client = await machine.spawn('client');
  });

  after(() => machine.shutdown());

  const fetchWith = (url: string, password = 'Passw0rd!') =>
    client.runApp(SOCKET_APPS.http.client, { url, package: 'Negotiate', user: 'alice', domain: 'WORKGROUP', password, timeoutMs: 10_000 });

  async function throughRelay(rewrite: (status: number, challenge: string | undefined) => string | undefined) {
    const relay = await new Relay(server.port, rewrite).listen();
    try {
      return await fetchWith(`http://127.0.0.1:${relay.port}/relayed`);
    } finally {
      await relay.close();
    }
  }

  it("sends Authorization: Negotiate <NegTokenInit> first and accepts the 200 once the server's final token verified", async () => {
    const result = await fetchWith(`http://127.0.0.1:${server.port}/hello`);
    assert.equal(result.statusName, 'SEC_E_OK', result.detail);
    const data = result.data as unknown as HttpFetchData;
    assert.equal(data.statusCode, 200);
    assert.equal(new TextDecoder().decode(data.body), 'user: SSPI-EMU\\alice\npackage: Negotiate\nmechanism: NTLM\n');
    assert.deepEqual([data.scheme, data.requests, data.authenticateSent, data.finalTokenVerified], ['Negotiate', 2, true, true]);
    assert.match(result.detail ?? '', /Negotiate handshake sent, the server's final token verified/);
    const sent = (await machine.events()).filter((e) => e.process === 'client' && e.call === 'HttpRequest').map((e) => e.detail ?? '');
    assert.ok(sent.some((d) => /^GET \/hello Authorization Negotiate \d+ B$/.test(d)), sent.join('; '));
  });

  it('returns the final 401 for a wrong password', async () => {
    const result = await fetchWith(`http://127.0.0.1:${server.port}/`, 'wrong');
    const data = result.data as unknown as HttpFetchData;
    assert.equal(data.statusCode, 401);
    assert.equal(data.finalTokenVerified, false);
    assert.match(new TextDecoder().decode(data.body), /SEC_E_LOGON_DENIED/);
  });

  it("refuses the 200 with SEC_E_MESSAGE_ALTERED when a relay alters the server's mechListMIC in the final token", async () => {
    const result = await throughRelay((status, challenge) => {
      if (status !== 200 || challenge === undefined) return challenge;
      const token = Buffer.from(challenge.slice('Negotiate '.length), 'base64');
      token[token.byteLength - 6]! ^= 0x01; // inside the MIC's checksum, the token's last field
      return `Negotiate ${token.toString('base64')}`;
    });
    assert.equal(result.statusName, 'SEC_E_MESSAGE_ALTERED', result.detail);
    assert.match(result.detail ?? '', /the server's final Negotiate token with its 200 did not complete the context/);
  });

  it('refuses a 200 without the final token (SEC_E_INVALID_TOKEN): the exchange did not complete', async () => {
    const result = await throughRelay((status, challenge) => (status === 200 ? undefined : challenge));
    assert.equal(result.statusName, 'SEC_E_INVALID_TOKEN', result.detail);
    assert.match(result.detail ?? '', /without its final Negotiate token/);
  });

  it('returns the 401 as it is from a server that offers NTLM alone', async () => {
    const result = await throughRelay(() => 'NTLM');
    const data = result.data as unknown as HttpFetchData;
    assert.equal(data.statusCode, 401);
    assert.equal(data.authenticateSent, false);
  });

  it('leaves no context in the LSA', async () => {
    const stats = await machine.lsa.stats();
    assert.equal(stats.perProcess.find((p) => p.name === 'client')?.contexts, 0);
  });
});
