// Found while building HTTPS: the HTTP client app read the server's certificate from the socket
// after the first response (the CHALLENGE), to make the AUTHENTICATE's channel bindings; but node
// (20) answers getPeerX509Certificate() with undefined once a kept-alive TLS 1.3 socket has gone
// back to its agent, so the client sent no bindings and a server requiring them refused it
// (SEC_E_BAD_BINDINGS). The agent now keeps the certificate each connection presented at its
// handshake.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpFetchData } from '../../client-proc/http-app.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { SOCKET_APPS, SocketServer } from '../../scenarios/socket-server.js';

describe('HTTPS channel bindings on the kept-alive connection of the AUTHENTICATE', { timeout: 60_000 }, () => {
  let machine: Machine;
  let client: AppProcess;
  let server: SocketServer;

  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm'], accounts: ['alice:Passw0rd!'], trace: false });
    server = await SocketServer.start(await machine.spawn('server'), { protocol: 'http', port: 0, package: 'NTLM', tls: { extendedProtection: 'required' } });
    client = await machine.spawn('client');
  });

  after(() => machine.shutdown());

  it('are those of the certificate presented at the handshake, and a server that requires them accepts the client', async () => {
    for (let i = 0; i < 3; i++) {
      const result = await client.runApp(SOCKET_APPS.http.client, {
        url: `https://127.0.0.1:${server.port}/`,
        package: 'NTLM',
        user: 'alice',
        domain: '',
        password: 'Passw0rd!',
        tls: { fingerprint256: server.tls!.fingerprint256 },
      });
      const data = result.data as unknown as HttpFetchData;
      assert.equal(data.requests, 2, 'two requests on one kept-alive TLS connection');
      assert.equal(data.tls?.protocol, 'TLSv1.3');
      assert.equal(data.tls?.bindingHash, 'sha256', data.tls?.noBindings);
      assert.equal(data.statusCode, 200, new TextDecoder().decode(data.body));
    }
  });
});
