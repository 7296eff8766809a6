// tls-server-end-point (RFC 5929 4.1) from a certificate's DER: the hash function chosen from the
// signature algorithm (MD5 and SHA-1 upgraded to SHA-256), the application data, the
// SEC_CHANNEL_BINDINGS around it and the MD5 the NTLM package makes of it; and what the server
// passes to AcceptSecurityContext for each Extended Protection setting.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { selfSignedCertificate } from '../../app-protocols/certificate.js';
import { acceptBindings, tlsServerEndPointBindings, tlsServerEndPointData, tlsServerEndPointHash } from '../../app-protocols/channel-bindings.js';
import { ASC_REQ, SECBUFFER } from '../../headers/sspi.js';
import { channelBindingsHash, unpackSecChannelBindings } from '../../packages/ntlm/crypto.js';

const digest = (name: string, data: Uint8Array): Uint8Array => new Uint8Array(createHash(name).update(data).digest());

describe('tls-server-end-point', () => {
  it("hashes the certificate with its signature's hash: SHA-256, SHA-384, SHA-512", () => {
    for (const [keyType, hash] of [
      ['ec-p256', 'sha256'],
      ['ec-p384', 'sha384'],
      ['rsa-2048', 'sha512'],
    ] as const) {
      const der = selfSignedCertificate({ keyType, hash }).der;
      assert.deepEqual(tlsServerEndPointHash(der), { hash, value: digest(hash, der) });
    }
  });

  it('uses SHA-256 for a certificate signed with MD5 or SHA-1 (RFC 5929 4.1)', () => {
    for (const [keyType, hash] of [
      ['rsa-2048', 'md5'],
      ['rsa-2048', 'sha1'],
      ['ec-p256', 'sha1'],
    ] as const) {
      const der = selfSignedCertificate({ keyType, hash }).der;
      assert.deepEqual(tlsServerEndPointHash(der), { hash: 'sha256', value: digest('sha256', der) }, `${keyType} ${hash}`);
    }
  });

  it('is undefined for an Ed25519 certificate, and says so', () => {
    const endPoint = tlsServerEndPointHash(selfSignedCertificate({ keyType: 'ed25519' }).der);
    assert.equal(endPoint.hash, undefined);
    assert.match('reason' in endPoint ? endPoint.reason : '', /^no tls-server-end-point binding is defined: /);
    assert.ok('reason' in tlsServerEndPointBindings(selfSignedCertificate({ keyType: 'ed25519' }).der));
  });

  it('is "tls-server-end-point:" then the hash bytes as application data', () => {
    const hash = Uint8Array.from({ length: 32 }, (_, i) => i);
    assert.equal(
      Buffer.from(tlsServerEndPointData(hash)).toString('hex'),
      Buffer.from('tls-server-end-point:').toString('hex') + Buffer.from(hash).toString('hex'),
    );
  });

  it('goes in a SEC_CHANNEL_BINDINGS with no addresses, whose gss_channel_bindings_struct MD5 is what NTLM sends', () => {
    const der = selfSignedCertificate().der;
    const made = tlsServerEndPointBindings(der);
    assert.ok('bindings' in made);
    const bytes = made.bindings;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const appData = tlsServerEndPointData(digest('sha256', der));
    assert.deepEqual(
      [0, 4, 8, 12, 16, 20].map((at) => view.getUint32(at, true)),
      [0, 0, 0, 0, 0, 0],
      'no initiator or acceptor address',
    );
    assert.equal(view.getUint32(24, true), appData.length);
    assert.equal(view.getUint32(28, true), 32, 'the application data right after the header');
    assert.deepEqual(unpackSecChannelBindings(bytes).applicationData, appData);
    // RFC 4121 4.1.1.2 over the struct: five little-endian ULONGs (types and lengths), then the data.
    const struct = new Uint8Array(20 + appData.length);
    new DataView(struct.buffer).setUint32(16, appData.length, true);
    struct.set(appData, 20);
    assert.deepEqual(channelBindingsHash(bytes), digest('md5', struct));
  });
});

describe('what the server passes for its Extended Protection setting', () => {
  const bindings = Uint8Array.of(1, 2, 3);

  it('none: no bindings and no flag; allowed: the bindings with ASC_REQ_ALLOW_MISSING_BINDINGS; required: the bindings alone', () => {
    assert.deepEqual(acceptBindings('none', bindings), { input: [], contextReq: 0 });
    assert.deepEqual(acceptBindings('allowed', bindings), {
      input: [{ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: bindings }],
      contextReq: ASC_REQ.ALLOW_MISSING_BINDINGS,
    });
    assert.deepEqual(acceptBindings('required', bindings), { input: [{ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: bindings }], contextReq: 0 });
  });

  it('passes nothing when the certificate has no bindings to give', () => {
    assert.deepEqual(acceptBindings('allowed', undefined), { input: [], contextReq: 0 });
  });
});
