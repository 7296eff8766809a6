// The HTTP server app over TLS in a server process of a real machine, with the HTTP client app in
// a client process: the certificate's channel bindings (RFC 5929 tls-server-end-point) checked by
// the NTLM package under each Extended Protection setting, and a man in the middle that relays the
// NTLM legs from its own TLS channel to the server, refused with SEC_E_BAD_BINDINGS. The same under
// Negotiate: the bindings pass through Negotiate to NTLM, which refuses the relayed legs too.

import assert from 'node:assert/strict';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '../../app-protocols/certificate.js';
import type { ExtendedProtection } from '../../app-protocols/channel-bindings.js';
import type { HttpRequestRecord } from '../../app-protocols/socket-control.js';
import type { HttpFetchData } from '../../client-proc/http-app.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { SOCKET_APPS, SocketServer, type TlsServerOptions } from '../../scenarios/socket-server.js';
import { RawHttp } from '../helpers/sockets.js';

/** A man in the middle: TLS to the client with its own certificate, the requests passed on to the server over its own TLS connection. */
class Relay {
  readonly fingerprint256: string;
  private readonly server: HttpsServer;
  private readonly upstream = new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  port = 0;

  constructor(target: number) {
    const own = selfSignedCertificate();
    this.fingerprint256 = own.fingerprint256;
    this.server = createHttpsServer({ cert: own.certPem, key: own.keyPem }, (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      const headers: Record<string, string> = {};
      if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
      // One upstream connection (maxSockets 1, kept alive): the NTLM legs stay on one connection to the server.
      const up = httpsRequest({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers, agent: this.upstream }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const passed: Record<string, string> = { 'Content-Type': 'text/plain' };
          const challenge = answer.headers['www-authenticate'];
          if (typeof challenge === 'string') passed['WWW-Authenticate'] = challenge;
          res.writeHead(answer.statusCode ?? 502, passed);
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

describe('the HTTP server app over TLS, with channel bindings', { timeout: 120_000 }, () => {
  let machine: Machine;
  let client: AppProcess;
  const servers = new Map<ExtendedProtection, SocketServer>();
  const records: HttpRequestRecord[] = [];
  /** The highest connection number each server logged a request on: how many of its connections carried requests. */
  const connectionsOf = new Map<SocketServer, number>();

  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm'], accounts: ['alice:Passw0rd!'], trace: false });
    for (const extendedProtection of ['none', 'allowed', 'required'] as const) {
      const server = await SocketServer.start(await machine.spawn('server'), { protocol: 'http', port: 0, package: 'NTLM', tls: { extendedProtection } });
      server.on('request', (record) => {
        records.push(record);
        connectionsOf.set(server, Math.max(connectionsOf.get(server) ?? 0, record.connection));
      });
      servers.set(extendedProtection, server);
    }
    client = await machine.spawn('client');
  });

  after(() => machine.shutdown());

  const server = (policy: ExtendedProtection): SocketServer => servers.get(policy)!;

  /** Waits until every connection that carried a request has closed and its context is deleted. */
  async function quiet(): Promise<void> {
    for (const s of servers.values()) await s.waitClosed(connectionsOf.get(s) ?? 0);
  }

  async function fetch(port: number, extra: Record<string, unknown> = {}): Promise<HttpFetchData & { text: string }> {
    const result = await client.runApp(SOCKET_APPS.http.client, {
      url: `https://127.0.0.1:${port}/bound`,
      package: 'NTLM',
      user: 'alice',
      domain: '',
      password: 'Passw0rd!',
      timeoutMs: 20_000,
      tls: { insecure: true },
      ...extra,
    });
    assert.equal(result.statusName, 'SEC_E_OK', result.detail);
    const data = result.data as unknown as HttpFetchData;
    return { ...data, text: new TextDecoder().decode(data.body) };
  }

  /** The server's log record for the AUTHENTICATE leg on `port` that `test` picks, already in or to come. */
  function finalRecord(port: number, test: (r: HttpRequestRecord) => boolean): Promise<HttpRequestRecord> {
    const target = [...servers.values()].find((s) => s.port === port)!;
    const seen = records.find((r) => r.handshakeMs !== null && test(r));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const listener = (r: HttpRequestRecord): void => {
        if (r.handshakeMs === null || !test(r)) return;
        target.off('request', listener);
        resolve(r);
      };
      target.on('request', listener);
    });
  }

  it('says which certificate it presents: generated, its SHA-256 fingerprint, tls-server-end-point with SHA-256, the policy', () => {
    for (const [policy, s] of servers) {
      assert.equal(s.tls?.generated, true);
      assert.match(s.tls?.fingerprint256 ?? '', /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);
      assert.equal(s.tls?.subject, 'O=sspi-emu\nCN=localhost');
      assert.equal(s.tls?.bindingHash, 'sha256');
      assert.equal(s.tls?.extendedProtection, policy);
    }
    assert.equal(new Set([...servers.values()].map((s) => s.tls?.fingerprint256)).size, 3, 'a certificate of its own for each server');
  });

  it("authenticates a client that sends the bindings of the server's certificate, whatever the setting", async () => {
    for (const [policy, s] of servers) {
      const data = await fetch(s.port);
      assert.equal(data.statusCode, 200, `${policy}: ${data.text}`);
      assert.equal(data.text, 'user: SSPI-EMU\\alice\npackage: NTLM\n');
      assert.equal(data.tls?.protocol, 'TLSv1.3');
      assert.equal(data.tls?.fingerprint256, s.tls?.fingerprint256, 'the bindings of the certificate this server presented');
      assert.equal(data.tls?.bindingHash, 'sha256');
    }
  });

  it('refuses a client without bindings with SEC_E_BAD_BINDINGS when they are required; allowed and none accept it', async () => {
    const refused = await fetch(server('required').port, { channelBindings: false });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.text, 'authentication failed: SEC_E_BAD_BINDINGS\n');
    assert.equal(refused.tls?.bindingHash, null);
    assert.equal((await finalRecord(server('required').port, (r) => r.note === 'SEC_E_BAD_BINDINGS')).status, 401);
    for (const policy of ['allowed', 'none'] as const) assert.equal((await fetch(server(policy).port, { channelBindings: false })).statusCode, 200, policy);
  });

  it('refuses an AUTHENTICATE relayed by a man in the middle with its own certificate (SEC_E_BAD_BINDINGS), unless the setting is none', async () => {
    for (const policy of ['allowed', 'required', 'none'] as const) {
      const relay = await new Relay(server(policy).port).listen();
      try {
        // The victim accepts the relay's certificate (an insecure client, or one that clicked through).
        const data = await fetch(relay.port);
        assert.equal(data.tls?.fingerprint256, relay.fingerprint256, "the client bound its AUTHENTICATE to the relay's certificate");
        assert.equal(data.tls?.bindingHash, 'sha256');
        if (policy === 'none') {
          // Without Extended Protection the relay is logged on as alice: what the bindings prevent.
          assert.equal(data.statusCode, 200);
          assert.equal(data.text, 'user: SSPI-EMU\\alice\npackage: NTLM\n');
        } else {
          assert.equal(data.statusCode, 401, `${policy}: ${data.text}`);
          assert.equal(data.text, 'authentication failed: SEC_E_BAD_BINDINGS\n');
        }
      } finally {
        await relay.close();
      }
    }
  });

  it('gives a client that does not speak TLS nothing, and keeps no context for it', async () => {
    await quiet();
    assert.equal((await machine.lsa.stats()).contexts, 0);
    const raw = await RawHttp.open(server('allowed').port);
    assert.equal(await raw.request({ Authorization: 'NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA=' }), null);
    await raw.closed;
    assert.equal((await machine.lsa.stats()).contexts, 0);
    // The server goes on serving.
    assert.equal((await fetch(server('allowed').port)).statusCode, 200);
  });

  it('serves with a given RSA certificate signed with SHA-384, and both sides hash its bindings with SHA-384', async () => {
    const given = selfSignedCertificate({ keyType: 'rsa-2048', hash: 'sha384', commonName: 'given.test' });
    const tls: TlsServerOptions = { certPem: given.certPem, keyPem: given.keyPem, extendedProtection: 'required' };
    const s = await SocketServer.start(await machine.spawn('server'), { protocol: 'http', port: 0, package: 'NTLM', tls });
    try {
      assert.deepEqual(
        { generated: s.tls?.generated, fingerprint256: s.tls?.fingerprint256, bindingHash: s.tls?.bindingHash },
        { generated: false, fingerprint256: given.fingerprint256, bindingHash: 'sha384' },
      );
      const data = await fetch(s.port);
      assert.equal(data.statusCode, 200, data.text);
      assert.equal(data.tls?.bindingHash, 'sha384');
      assert.equal((await fetch(s.port, { channelBindings: false })).statusCode, 401);
    } finally {
      await s.stop();
    }
  });

  it('with an Ed25519 certificate (no tls-server-end-point): "required" does not start, "allowed" serves and checks no bindings', async () => {
    const ed = selfSignedCertificate({ keyType: 'ed25519' });
    await assert.rejects(
      SocketServer.start(await machine.spawn('server'), {
        protocol: 'http',
        port: 0,
        package: 'NTLM',
        tls: { certPem: ed.certPem, keyPem: ed.keyPem, extendedProtection: 'required' },
      }),
      {
        code: 'APP_FAILED',
        message: /cannot serve HTTPS: Extended Protection "required" needs channel bindings, and no tls-server-end-point binding is defined/,
      },
    );
    const s = await SocketServer.start(await machine.spawn('server'), {
      protocol: 'http',
      port: 0,
      package: 'NTLM',
      tls: { certPem: ed.certPem, keyPem: ed.keyPem, extendedProtection: 'allowed' },
    });
    try {
      assert.equal(s.tls?.bindingHash, null);
      const data = await fetch(s.port);
      assert.equal(data.statusCode, 200);
      assert.equal(data.tls?.bindingHash, null);
      assert.match(data.tls?.noBindings ?? '', /no tls-server-end-point binding is defined/);
    } finally {
      await s.stop();
    }
  });

  it('refuses a certificate with a key that is not its own, before listening', async () => {
    const a = selfSignedCertificate();
    const b = selfSignedCertificate();
    await assert.rejects(
      SocketServer.start(await machine.spawn('server'), { protocol: 'http', port: 0, package: 'NTLM', tls: { certPem: a.certPem, keyPem: b.keyPem } }),
      { code: 'APP_FAILED', message: /cannot serve HTTPS: the key is not the certificate's/ },
    );
  });

  it('stops with every context deleted', async () => {
    for (const s of servers.values()) assert.equal((await s.stop()).statusName, 'SEC_E_OK');
    assert.equal((await machine.lsa.stats()).contexts, 0);
  });
});

describe('Negotiate over TLS, with channel bindings passed through to NTLM', { timeout: 120_000 }, () => {
  let machine: Machine;
  let client: AppProcess;
  const servers = new Map<ExtendedProtection, SocketServer>();

  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm', 'negotiate'], accounts: ['alice:Passw0rd!'], trace: false });
    for (const extendedProtection of ['none', 'allowed', 'required'] as const)
      servers.set(extendedProtection, await SocketServer.start(await machine.spawn('server'), { protocol: 'http', port: 0, package: 'NTLM', tls: { extendedProtection } }));
    client = await machine.spawn('client');
  });

  after(() => machine.shutdown());

  async function fetch(port: number, extra: Record<string, unknown> = {}): Promise<HttpFetchData & { text: string }> {
    const result = await client.runApp(SOCKET_APPS.http.client, {
      url: `https://127.0.0.1:${port}/bound`,
      package: 'Negotiate',
      user: 'alice',
      domain: '',
      password: 'Passw0rd!',
      timeoutMs: 20_000,
      tls: { insecure: true },
      ...extra,
    });
    assert.equal(result.statusName, 'SEC_E_OK', result.detail);
    const data = result.data as unknown as HttpFetchData;
    return { ...data, text: new TextDecoder().decode(data.body) };
  }

  it("authenticates with the bindings of the server's certificate under every setting, the final token verified", async () => {
    for (const [policy, s] of servers) {
      const data = await fetch(s.port);
      assert.equal(data.statusCode, 200, `${policy}: ${data.text}`);
      assert.equal(data.text, 'user: SSPI-EMU\\alice\npackage: Negotiate\nmechanism: NTLM\n');
      assert.equal(data.finalTokenVerified, true);
      assert.equal(data.tls?.bindingHash, 'sha256');
    }
  });

  it('refuses a Negotiate client without bindings with SEC_E_BAD_BINDINGS when they are required; allowed accepts it', async () => {
    const refused = await fetch(servers.get('required')!.port, { channelBindings: false });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.text, 'authentication failed: SEC_E_BAD_BINDINGS\n');
    assert.equal((await fetch(servers.get('allowed')!.port, { channelBindings: false })).statusCode, 200);
  });

  it('refuses Negotiate legs relayed by a man in the middle with its own certificate (SEC_E_BAD_BINDINGS), unless the setting is none', async () => {
    for (const policy of ['allowed', 'required', 'none'] as const) {
      const relay = await new Relay(servers.get(policy)!.port).listen();
      try {
        const data = await fetch(relay.port);
        assert.equal(data.tls?.fingerprint256, relay.fingerprint256);
        if (policy === 'none') {
          assert.equal(data.statusCode, 200);
          assert.equal(data.finalTokenVerified, true, 'the mechListMICs do not cover the channel: only the bindings do');
        } else {
          assert.equal(data.statusCode, 401, `${policy}: ${data.text}`);
          assert.equal(data.text, 'authentication failed: SEC_E_BAD_BINDINGS\n');
        }
      } finally {
        await relay.close();
      }
    }
  });

  it('stops with every context deleted', async () => {
    for (const s of servers.values()) assert.equal((await s.stop()).statusName, 'SEC_E_OK');
    const stats = await machine.lsa.stats();
    assert.equal(stats.contexts, 0);
    assert.equal(stats.credentials, 0, 'both schemes\' credentials freed by each server, the client app\'s by the client');
  });
});
