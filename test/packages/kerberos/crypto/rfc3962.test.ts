// aes128-cts-hmac-sha1-96 and aes256-cts-hmac-sha1-96: RFC 3962 Appendix B and MIT krb5's vectors,
// through the public operations (cryptosystem.ts) and the DK/DR functions they rest on.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aesCtsDecrypt, ZERO_IV } from '../../../../packages/kerberos/crypto/cts.js';
import { decrypt, encrypt, makeChecksum, prf, stringToKey, usageKeys, verifyChecksum } from '../../../../packages/kerberos/crypto/index.js';
import { deriveKey, deriveRandom } from '../../../../packages/kerberos/crypto/rfc3962.js';
import { ascii, fromHex, MIT_CHECKSUMS, MIT_DECRYPTIONS, MIT_KEY_DERIVATION, MIT_PRF, RFC3962_STRING_TO_KEY, toHex } from './vectors.js';

const params = (iterations: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, iterations, false);
  return out;
};
const WEAK_OK = { allowWeakIterations: true };

describe('RFC 3962 string-to-key (Appendix B)', () => {
  for (const [index, v] of RFC3962_STRING_TO_KEY.entries()) {
    test(`vector ${index + 1} (${v.iterations} iterations, ${v.password.length}-byte pass phrase): the aes128 and aes256 keys`, () => {
      assert.equal(toHex(stringToKey(17, v.password, v.salt, params(v.iterations), WEAK_OK).keyvalue), v.key128);
      assert.equal(toHex(stringToKey(18, v.password, v.salt, params(v.iterations), WEAK_OK).keyvalue), v.key256);
    });
    test(`vector ${index + 1}: DK(PBKDF2 output, "kerberos") is the key, for both sizes`, () => {
      assert.equal(toHex(deriveKey(fromHex(v.pbkdf2_128), ascii('kerberos'))), v.key128);
      assert.equal(toHex(deriveKey(fromHex(v.pbkdf2_256), ascii('kerberos'))), v.key256);
    });
  }

  test('takes a string pass phrase as UTF-8 (the G clef vector)', () => {
    const clef = RFC3962_STRING_TO_KEY[6]!;
    assert.equal(toHex(stringToKey(18, '\u{1D11E}', 'EXAMPLE.COMpianist', params(50), WEAK_OK).keyvalue), clef.key256);
  });
});

describe('RFC 3961 DK and DR for AES', () => {
  for (const v of MIT_KEY_DERIVATION)
    test(`gives MIT t_derive.c's Kc, Ke and Ki for usage ${v.usage} of an etype ${v.etype} key`, () => {
      const keys = usageKeys({ keytype: v.etype, keyvalue: v.key }, v.usage);
      assert.deepEqual({ kc: toHex(keys.kc), ke: toHex(keys.ke), ki: toHex(keys.ki) }, { kc: v.kc, ke: v.ke, ki: v.ki });
    });

  test('DR chains AES blocks: the second block of a 32-byte DR is the AES of the first', () => {
    const key = fromHex(MIT_KEY_DERIVATION[0]!.ke);
    const two = deriveRandom(key, ascii('kerberos'), 32);
    assert.equal(toHex(deriveRandom(key, two.subarray(0, 16), 16)), toHex(two.subarray(16, 32)));
  });

  test('DR refuses a constant longer than a block (RFC 3961 5.1 forbids shrinking it)', () => {
    assert.throws(() => deriveRandom(new Uint8Array(16), new Uint8Array(17), 16), { name: 'KerberosCryptoError', code: 'BAD_ARGUMENT' });
  });
});

describe('RFC 3962 encryption: MIT t_decrypt.c ciphertexts', () => {
  for (const v of MIT_DECRYPTIONS) {
    const key = { keytype: v.etype, keyvalue: v.key };
    test(`etype ${v.etype}, usage ${v.usage}: decrypts to ${JSON.stringify(new TextDecoder().decode(v.plaintext))}`, () => {
      assert.equal(toHex(decrypt(key, v.usage, fromHex(v.ciphertext))), toHex(v.plaintext));
    });
    test(`etype ${v.etype}, usage ${v.usage}: re-encrypting with the ciphertext's own confounder gives the ciphertext`, () => {
      // The confounder is the first block of the decrypted basic plaintext: recover it from Ke.
      const { ke } = usageKeys(key, v.usage);
      const basic = aesCtsDecrypt(ke, ZERO_IV, fromHex(v.ciphertext).subarray(0, -12)).output;
      assert.equal(toHex(encrypt(key, v.usage, v.plaintext, { confounder: basic.subarray(0, 16) })), v.ciphertext);
    });
    test(`etype ${v.etype}, usage ${v.usage}: another usage does not decrypt it`, () => {
      assert.throws(() => decrypt(key, v.usage + 1, fromHex(v.ciphertext)), { name: 'KerberosCryptoError', code: 'BAD_INTEGRITY' });
    });
  }
});

describe('RFC 3962 checksums: MIT t_cksums.c', () => {
  for (const v of MIT_CHECKSUMS) {
    const key = { keytype: v.etype, keyvalue: v.key };
    test(`cksumtype ${v.cksumtype} over ${JSON.stringify(new TextDecoder().decode(v.data))}, usage ${v.usage}`, () => {
      assert.equal(toHex(makeChecksum(v.cksumtype, key, v.usage, v.data)), v.checksum);
      assert.equal(verifyChecksum(v.cksumtype, key, v.usage, v.data, fromHex(v.checksum)), true);
      assert.equal(verifyChecksum(v.cksumtype, key, v.usage + 1, v.data, fromHex(v.checksum)), false);
    });
  }
});

describe('RFC 3961 PRF for AES: MIT t_prf.c', () => {
  for (const v of MIT_PRF)
    test(`etype ${v.etype}, input ${toHex(v.input)}: 16 bytes`, () => {
      assert.equal(toHex(prf({ keytype: v.etype, keyvalue: v.key }, v.input)), v.output);
    });
});
