// The HTTP NTLM client app in a client process, against the server app in the same machine and
// against small node:http servers in the test that do not play along: one that asks for nothing,
// one that asks for Basic only, one whose challenge is not base64, one that closes the connection
// between the legs.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

  it('leaves no context in the LSA', async () => {
    const stats = await machine.lsa.stats();
    assert.equal(stats.perProcess.find((p) => p.name === 'client')?.contexts, 0);
  });
});
