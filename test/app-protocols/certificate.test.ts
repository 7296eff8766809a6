// The self-signed certificates `serve --https` makes, read back by node's X509Certificate (OpenSSL)
// and by the openssl program when it is installed; and the signature algorithm's hash read from
// any certificate, including RSASSA-PSS ones that only openssl makes here.

import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { selfSignedCertificate, signatureHash } from '../../app-protocols/certificate.js';
import { DerError } from '../../app-protocols/der.js';
import { hasProgram, runProgram } from '../helpers/sockets.js';

const OPENSSL = hasProgram('openssl') ? false : 'openssl not installed (apt-get install openssl)';

describe('a generated self-signed certificate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sspi-emu-cert-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is an X.509 v3 certificate that node reads and that verifies with its own key, for localhost and the loopback addresses', () => {
    const now = new Date('2030-06-01T12:00:00Z');
    const made = selfSignedCertificate({ now, days: 10 });
    const x509 = new X509Certificate(made.certPem);
    assert.equal(x509.subject, 'O=sspi-emu\nCN=localhost');
    assert.equal(x509.issuer, x509.subject);
    assert.equal(x509.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(x509.ca, false);
    assert.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extKeyUsage serverAuth');
    assert.equal(new Date(x509.validFrom).toISOString(), '2030-06-01T11:00:00.000Z', 'an hour before now, for clock skew');
    assert.equal(new Date(x509.validTo).toISOString(), '2030-06-11T12:00:00.000Z');
    assert.ok(x509.verify(x509.publicKey));
    assert.ok(x509.checkPrivateKey(createPrivateKey(made.keyPem)));
    assert.equal(x509.fingerprint256, made.fingerprint256);
    assert.deepEqual(new Uint8Array(x509.raw), made.der);
    assert.equal(x509.checkHost('localhost'), 'localhost');
    assert.equal(x509.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(x509.checkHost('example.com'), undefined);
  });

  it('is new each time: another key, another serial number', () => {
    const a = new X509Certificate(selfSignedCertificate().certPem);
    const b = new X509Certificate(selfSignedCertificate().certPem);
    assert.notEqual(a.serialNumber, b.serialNumber);
    assert.notEqual(a.fingerprint256, b.fingerprint256);
  });

  it('takes other names and keys: RSA with SHA-384, P-384, Ed25519', () => {
    for (const [keyType, hash, algorithm] of [
      ['rsa-2048', 'sha384', '1.2.840.113549.1.1.12'],
      ['ec-p384', 'sha512', '1.2.840.10045.4.3.4'],
      ['ed25519', 'sha256', '1.3.101.112'],
    ] as const) {
      const made = selfSignedCertificate({ keyType, hash, commonName: 'web.example', altNames: ['web.example', '10.1.2.3'] });
      const x509 = new X509Certificate(made.certPem);
      assert.ok(x509.verify(x509.publicKey), keyType);
      assert.equal(x509.subjectAltName, 'DNS:web.example, IP Address:10.1.2.3');
      assert.equal(signatureHash(made.der).algorithm, algorithm);
    }
  });

  it('refuses a name that is neither a DNS name nor an IP address', () => {
    assert.throws(() => selfSignedCertificate({ altNames: ['bad name'] }), /not a DNS name or IP address/);
  });

  it('is read by openssl: the fields, the extensions, and a chain of itself that verifies', async (t) => {
    if (OPENSSL) return t.skip(OPENSSL);
    const made = selfSignedCertificate();
    const file = join(dir, 'cert.pem');
    writeFileSync(file, made.certPem);
    const text = await runProgram('openssl', ['x509', '-in', file, '-noout', '-text', '-fingerprint', '-sha256']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Version: 3 \(0x2\)/);
    assert.match(text.stdout, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text.stdout, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
    assert.match(text.stdout, /X509v3 Subject Alternative Name: \n\s+DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    assert.match(text.stdout, /TLS Web Server Authentication/);
    assert.ok(text.stdout.includes(`sha256 Fingerprint=${made.fingerprint256}`), text.stdout);
    const verified = await runProgram('openssl', ['verify', '-CAfile', file, file]);
    assert.equal(verified.stdout.trim(), `${file}: OK`, verified.stderr);
  });
});

describe("a certificate's signature hash (RFC 5280 signatureAlgorithm)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sspi-emu-pss-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is named for RSA and ECDSA signatures, MD5 and SHA-1 included', () => {
    const cases = [
      ['rsa-2048', 'md5', 'md5'],
      ['rsa-2048', 'sha1', 'sha1'],
      ['rsa-2048', 'sha256', 'sha256'],
      ['ec-p256', 'sha1', 'sha1'],
      ['ec-p256', 'sha384', 'sha384'],
    ] as const;
    for (const [keyType, hash, expected] of cases)
      assert.equal(signatureHash(selfSignedCertificate({ keyType, hash }).der).hash, expected, `${keyType} ${hash}`);
  });

  it('is undefined for Ed25519, which hashes inside the signature, with the reason', () => {
    const result = signatureHash(selfSignedCertificate({ keyType: 'ed25519' }).der);
    assert.equal(result.hash, undefined);
    assert.match('reason' in result ? result.reason : '', /1\.3\.101\.112 names no single hash function/);
  });

  it("is RSASSA-PSS's hashAlgorithm parameter, SHA-1 when absent (openssl-made certificates)", async (t) => {
    if (OPENSSL) return t.skip(OPENSSL);
    for (const [digest, expected] of [
      ['-sha384', 'sha384'],
      ['-sha1', 'sha1'],
    ] as const) {
      const cert = join(dir, `pss${digest}.pem`);
      const made = await runProgram('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-sigopt',
        'rsa_padding_mode:pss',
        digest,
        '-nodes',
        '-subj',
        '/CN=pss',
        '-days',
        '1',
        '-keyout',
        join(dir, 'pss.key'),
        '-out',
        cert,
      ]);
      assert.equal(made.code, 0, made.stderr);
      const der = new Uint8Array(new X509Certificate(readFileSync(cert)).raw);
      assert.deepEqual(signatureHash(der), { algorithm: '1.2.840.113549.1.1.10', hash: expected });
    }
  });

  it('refuses bytes that are not a certificate, a truncated one, and trailing bytes, with DerError', () => {
    const der = selfSignedCertificate().der;
    assert.throws(() => signatureHash(der.subarray(0, der.length - 1)), DerError);
    assert.throws(() => signatureHash(Uint8Array.from([...der, 0])), { name: 'DerError', message: /1 bytes after the certificate/ });
    assert.throws(() => signatureHash(new TextEncoder().encode('-----BEGIN CERTIFICATE-----')), DerError);
    assert.throws(() => signatureHash(new Uint8Array(0)), DerError);
  });
});
