import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { aesCtsDecrypt, aesCtsEncrypt, ZERO_IV } from '../../../../packages/kerberos/crypto/cts.js';
import { KerberosCryptoError } from '../../../../packages/kerberos/crypto/errors.js';
import { RFC3962_CTS, RFC3962_CTS_INPUT, RFC3962_CTS_KEY, toHex } from './vectors.js';

describe('AES-CTS (RFC 3962 section 5)', () => {
  for (const vector of RFC3962_CTS) {
    const input = RFC3962_CTS_INPUT.subarray(0, vector.length);
    test(`encrypts RFC 3962 Appendix B's ${vector.length}-byte input to its output and next IV`, () => {
      const { output, nextIv } = aesCtsEncrypt(RFC3962_CTS_KEY, ZERO_IV, input);
      assert.equal(toHex(output), vector.output);
      assert.equal(toHex(nextIv), vector.nextIv);
    });
    test(`decrypts RFC 3962 Appendix B's ${vector.length}-byte output back, carrying the same next IV`, () => {
      const { output, nextIv } = aesCtsDecrypt(RFC3962_CTS_KEY, ZERO_IV, Buffer.from(vector.output, 'hex'));
      assert.deepEqual(toHex(output), toHex(input));
      assert.equal(toHex(nextIv), vector.nextIv);
    });
  }

  test('encrypts exactly one block as CBC (ECB under the zero IV), carrying that block as the next IV', () => {
    const { output, nextIv } = aesCtsEncrypt(RFC3962_CTS_KEY, ZERO_IV, RFC3962_CTS_INPUT.subarray(0, 16));
    assert.equal(output.length, 16);
    assert.deepEqual(toHex(nextIv), toHex(output));
    assert.equal(toHex(aesCtsDecrypt(RFC3962_CTS_KEY, ZERO_IV, output).output), toHex(RFC3962_CTS_INPUT.subarray(0, 16)));
  });

  test('round-trips every length from one to eight blocks, for both key sizes and a non-zero IV', () => {
    for (const keyBytes of [16, 32]) {
      const key = randomBytes(keyBytes);
      const iv = randomBytes(16);
      for (let length = 16; length <= 128; length++) {
        const plaintext = randomBytes(length);
        const sealed = aesCtsEncrypt(key, iv, plaintext);
        assert.equal(sealed.output.length, length);
        const opened = aesCtsDecrypt(key, iv, sealed.output);
        assert.equal(toHex(opened.output), toHex(plaintext), `length ${length}`);
        assert.equal(toHex(opened.nextIv), toHex(sealed.nextIv), `next IV, length ${length}`);
      }
    }
  });

  test('chains: the next IV of one message, used for the next, is what encrypting both in one CBC run would give', () => {
    const first = RFC3962_CTS_INPUT.subarray(0, 32);
    const second = RFC3962_CTS_INPUT.subarray(32, 64);
    const whole = aesCtsEncrypt(RFC3962_CTS_KEY, ZERO_IV, RFC3962_CTS_INPUT).output; // E1 E2 E4 E3: swapped at its end only
    const a = aesCtsEncrypt(RFC3962_CTS_KEY, ZERO_IV, first); // E2 E1
    const b = aesCtsEncrypt(RFC3962_CTS_KEY, a.nextIv, second); // E4 E3, chained from E2
    assert.equal(toHex(a.output.subarray(16, 32)) + toHex(a.output.subarray(0, 16)), toHex(whole.subarray(0, 32)));
    assert.equal(toHex(b.output), toHex(whole.subarray(32, 64)));
  });

  test('refuses less than one block and a cipher state that is not one block, with BAD_LENGTH', () => {
    for (const call of [
      () => aesCtsEncrypt(RFC3962_CTS_KEY, ZERO_IV, new Uint8Array(15)),
      () => aesCtsDecrypt(RFC3962_CTS_KEY, ZERO_IV, new Uint8Array(0)),
      () => aesCtsEncrypt(RFC3962_CTS_KEY, new Uint8Array(8), new Uint8Array(32)),
      () => aesCtsDecrypt(RFC3962_CTS_KEY, new Uint8Array(17), new Uint8Array(32)),
    ])
      assert.throws(call, (error: unknown) => error instanceof KerberosCryptoError && error.code === 'BAD_LENGTH');
  });

  test('refuses a key that is neither 16 nor 32 bytes with BAD_KEY', () => {
    assert.throws(
      () => aesCtsEncrypt(new Uint8Array(24), ZERO_IV, new Uint8Array(32)),
      (error: unknown) => error instanceof KerberosCryptoError && error.code === 'BAD_KEY' && /16 or 32 bytes, not 24/.test(error.message),
    );
  });
});
