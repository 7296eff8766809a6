// How the HTTP client app trusts an https:// server, run in a client process against node:https
// servers in the test: the system's CAs by default (a self-signed certificate is
// SEC_E_UNTRUSTED_ROOT), a given CA, a pinned fingerprint, or nothing (insecure); a wrong name
// and an expired certificate under Schannel's statuses; and no request, not even the NEGOTIATE,
// reaching a server that is not trusted.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate, type SelfSignedCertificate } from '../../app-protocols/certificate.js';
import type { HttpFetchData } from '../../client-proc/http-app.js';
import { certificateStatus, CertificateRefused, normalizeFingerprint, tlsTrust } from '../../client-proc/tls-client.js';
import { SEC_E_CERT_EXPIRED, SEC_E_UNTRUSTED_ROOT, SEC_E_WRONG_PRINCIPAL } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { SOCKET_APPS } from '../../scenarios/socket-server.js';

/** A node:https server that answers every request 200 without asking for authentication, counting requests. */
async function plainHttps(certificate: SelfSignedCertificate): Promise<{ port: number; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
    requests++;
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('no authentication here\n');
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    requests: () => requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the HTTP client app over TLS: whom it trusts', { timeout: 60_000 }, () => {
  let machine: Machine;
  let client: AppProcess;
  const certificate = selfSignedCertificate();
  let server: Awaited<ReturnType<typeof plainHttps>>;

  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm'], accounts: [], trace: false });
    client = await machine.spawn('client');
    server = await plainHttps(certificate);
  });

  after(async () => {
    await server.close();
    await machine.shutdown();
  });

  const fetch = (port: number, tls: unknown) =>
    client.runApp(SOCKET_APPS.http.client, {
      url: `https://127.0.0.1:${port}/`,
      package: 'NTLM',
      user: 'alice',
      domain: '',
      password: 'x',
      timeoutMs: 10_000,
      ...(tls === undefined ? {} : { tls }),
    });

  it('refuses a self-signed certificate by default with SEC_E_UNTRUSTED_ROOT, before any request is sent', async () => {
    const result = await fetch(server.port, undefined);
    assert.equal(result.statusName, 'SEC_E_UNTRUSTED_ROOT');
    assert.match(result.detail ?? '', /the server's certificate is not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/);
    assert.equal(server.requests(), 0);
  });

  it('trusts the certificate given as the CA, and the server answers', async () => {
    const result = await fetch(server.port, { ca: certificate.certPem });
    assert.equal(result.statusName, 'SEC_E_OK', result.detail);
    const data = result.data as unknown as HttpFetchData;
    assert.equal(data.statusCode, 200);
    assert.equal(data.authenticateSent, false);
    assert.equal(data.tls?.fingerprint256, certificate.fingerprint256);
  });

  it('trusts exactly the pinned fingerprint, and refuses another certificate with SEC_E_UNTRUSTED_ROOT without a request', async () => {
    assert.equal((await fetch(server.port, { fingerprint256: certificate.fingerprint256.toLowerCase().replace(/:/g, '') })).statusName, 'SEC_E_OK');
    const before = server.requests();
    const other = selfSignedCertificate().fingerprint256;
    const refused = await fetch(server.port, { fingerprint256: other });
    assert.equal(refused.statusName, 'SEC_E_UNTRUSTED_ROOT');
    assert.match(refused.detail ?? '', /is not the pinned one/);
    assert.equal(server.requests(), before);
  });

  it('trusts anything when insecure', async () => {
    assert.equal((await fetch(server.port, { insecure: true })).statusName, 'SEC_E_OK');
  });

  it('refuses a certificate for another name (SEC_E_WRONG_PRINCIPAL) and an expired one (SEC_E_CERT_EXPIRED), even from a trusted CA', async () => {
    const elsewhere = selfSignedCertificate({ altNames: ['other.example'] });
    const expired = selfSignedCertificate({ now: new Date(Date.now() - 3 * 86_400_000), days: 1 });
    for (const [made, status] of [
      [elsewhere, 'SEC_E_WRONG_PRINCIPAL'],
      [expired, 'SEC_E_CERT_EXPIRED'],
    ] as const) {
      const s = await plainHttps(made);
      try {
        const result = await fetch(s.port, { ca: made.certPem });
        assert.equal(result.statusName, status, result.detail);
        assert.equal(s.requests(), 0);
      } finally {
        await s.close();
      }
    }
  });

  it('refuses trust settings it cannot use, naming them', async () => {
    for (const [tls, reason] of [
      [{ ca: 'not a certificate' }, /the CA is not PEM certificates/],
      [{ fingerprint256: 'abcd' }, /the fingerprint is not 32 bytes of hex/],
      [{ insecure: true, ca: certificate.certPem }, /choose one of a CA, a fingerprint and insecure/],
      ['insecure', /args\.tls is not an object/],
    ] as const) {
      const result = await fetch(server.port, tls);
      assert.equal(result.statusName, 'SEC_E_INTERNAL_ERROR');
      assert.match(result.detail ?? '', reason);
    }
  });
});

describe('the TLS trust helpers', () => {
  it('normalize a SHA-256 fingerprint given with or without colons, in either case, with a sha256: prefix', () => {
    const upper = 'AB:'.repeat(31) + 'CD';
    assert.equal(normalizeFingerprint('ab'.repeat(31) + 'cd'), upper);
    assert.equal(normalizeFingerprint(`sha256:${upper.toLowerCase()}`), upper);
    assert.equal(normalizeFingerprint('ab'.repeat(31)), undefined);
    assert.equal(normalizeFingerprint('zz'.repeat(32)), undefined);
  });

  it("name OpenSSL's verification failures as Schannel does", () => {
    const coded = (code: string) => Object.assign(new Error(code), { code });
    assert.equal(certificateStatus(coded('SELF_SIGNED_CERT_IN_CHAIN')), SEC_E_UNTRUSTED_ROOT);
    assert.equal(certificateStatus(coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), SEC_E_UNTRUSTED_ROOT);
    assert.equal(certificateStatus(coded('ERR_TLS_CERT_ALTNAME_INVALID')), SEC_E_WRONG_PRINCIPAL);
    assert.equal(certificateStatus(coded('CERT_NOT_YET_VALID')), SEC_E_CERT_EXPIRED);
    assert.equal(certificateStatus(new CertificateRefused(SEC_E_UNTRUSTED_ROOT, 'pinned')), SEC_E_UNTRUSTED_ROOT);
    assert.equal(certificateStatus(coded('ECONNREFUSED')), undefined);
    assert.equal(certificateStatus(null), undefined);
  });

  it('read args.tls: none is the default trust', () => {
    assert.deepEqual(tlsTrust(undefined), { kind: 'default' });
    assert.deepEqual(tlsTrust({}), { kind: 'default' });
    assert.deepEqual(tlsTrust({ insecure: true }), { kind: 'insecure' });
  });
});
