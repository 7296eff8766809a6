// aes128-cts-hmac-sha256-128 and aes256-cts-hmac-sha384-192: every vector of RFC 8009 Appendix A,
// through the public operations, and the KDF's message layout.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { decrypt, encrypt, makeChecksum, prf, stringToKey, usageKeys, verifyChecksum } from '../../../../packages/kerberos/crypto/index.js';
import { kdfHmacSha2 } from '../../../../packages/kerberos/crypto/rfc8009.js';
import {
  ascii,
  fromHex,
  RFC8009_BASE_KEY_19,
  RFC8009_CHECKSUMS,
  RFC8009_ENCRYPTIONS,
  RFC8009_KEY_DERIVATION,
  RFC8009_PRF,
  RFC8009_STRING_TO_KEY,
  toHex,
} from './vectors.js';

describe('RFC 8009 string-to-key (Appendix A)', () => {
  for (const etype of [19, 20] as const)
    test(`etype ${etype}: "password" with the sample salt at 32768 iterations, given as parameters and as the default`, () => {
      const { password, salt, params, keys } = RFC8009_STRING_TO_KEY;
      assert.equal(toHex(stringToKey(etype, password, salt, params).keyvalue), keys[etype]);
      assert.equal(toHex(stringToKey(etype, password, salt).keyvalue), keys[etype]);
    });
});

describe('RFC 8009 key derivation (Appendix A)', () => {
  for (const v of RFC8009_KEY_DERIVATION)
    test(`etype ${v.etype}, usage ${v.usage}: Kc, Ke and Ki (${v.kc.length / 2}, ${v.ke.length / 2} and ${v.ki.length / 2} bytes)`, () => {
      const keys = usageKeys({ keytype: v.etype, keyvalue: v.key }, v.usage);
      assert.deepEqual({ kc: toHex(keys.kc), ke: toHex(keys.ke), ki: toHex(keys.ki) }, { kc: v.kc, ke: v.ke, ki: v.ki });
    });

  test('KDF-HMAC-SHA2 is one HMAC over 00000001 | label | 00 | context | k, cut to k bits', () => {
    const key = RFC8009_BASE_KEY_19;
    const expected = createHmac('sha256', key)
      .update(fromHex('00000001' + '707266' + '00' + '74657374' + '00000100'))
      .digest();
    assert.equal(toHex(kdfHmacSha2('sha256', key, ascii('prf'), ascii('test'), 256)), expected.toString('hex'));
    assert.equal(toHex(kdfHmacSha2('sha256', key, ascii('prf'), ascii('test'), 128)).length, 32);
  });
});

describe('RFC 8009 sample encryptions (Appendix A)', () => {
  for (const v of RFC8009_ENCRYPTIONS) {
    const key = { keytype: v.etype, keyvalue: v.key };
    test(`etype ${v.etype}, ${v.plaintext.length}-byte plaintext: encrypts with the sample confounder to the sample ciphertext`, () => {
      assert.equal(toHex(encrypt(key, v.usage, v.plaintext, { confounder: v.confounder! })), v.ciphertext);
    });
    test(`etype ${v.etype}, ${v.plaintext.length}-byte plaintext: decrypts the sample ciphertext`, () => {
      assert.equal(toHex(decrypt(key, v.usage, fromHex(v.ciphertext))), toHex(v.plaintext));
    });
  }

  test('the HMAC covers the cipher state: a ciphertext made under one state fails integrity under another', () => {
    const v = RFC8009_ENCRYPTIONS[3]!;
    const key = { keytype: v.etype, keyvalue: v.key };
    const state = fromHex('000102030405060708090a0b0c0d0e0f');
    const sealed = encrypt(key, v.usage, v.plaintext, { confounder: v.confounder!, cipherState: state });
    assert.notEqual(toHex(sealed), v.ciphertext);
    assert.equal(toHex(decrypt(key, v.usage, sealed, { cipherState: state })), toHex(v.plaintext));
    assert.throws(() => decrypt(key, v.usage, sealed), { name: 'KerberosCryptoError', code: 'BAD_INTEGRITY' });
  });
});

describe('RFC 8009 sample checksums (Appendix A)', () => {
  for (const v of RFC8009_CHECKSUMS) {
    const key = { keytype: v.etype, keyvalue: v.key };
    test(`cksumtype ${v.cksumtype}: ${v.checksum.length / 2} bytes, verified, and refused under another usage`, () => {
      assert.equal(toHex(makeChecksum(v.cksumtype, key, v.usage, v.data)), v.checksum);
      assert.equal(verifyChecksum(v.cksumtype, key, v.usage, v.data, fromHex(v.checksum)), true);
      assert.equal(verifyChecksum(v.cksumtype, key, v.usage + 1, v.data, fromHex(v.checksum)), false);
    });
  }
});

describe('RFC 8009 PRF (Appendix A)', () => {
  for (const v of RFC8009_PRF)
    test(`etype ${v.etype}: PRF("test") is ${v.output.length / 2} bytes`, () => {
      assert.equal(toHex(prf({ keytype: v.etype, keyvalue: v.key }, v.input)), v.output);
    });
});
