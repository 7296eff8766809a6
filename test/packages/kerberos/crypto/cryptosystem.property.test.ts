// Properties of encrypt/decrypt and the checksums, checked with fast-check from a fixed seed, for
// every etype: decrypt undoes encrypt for any plaintext of 0 to 2000 bytes under any key usage; a
// single flipped bit anywhere in a ciphertext or a checksum is caught; every truncation, and any
// bytes at all offered as a ciphertext, is refused with a KerberosCryptoError and nothing else.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decrypt,
  encrypt,
  encryptedLength,
  encryptionTypeInfo,
  KerberosCryptoError,
  makeChecksum,
  requiredChecksumType,
  verifyChecksum,
  type EncryptionKey,
} from '../../../../packages/kerberos/crypto/index.js';

const SEED = 0x5eed_3961;
const RUNS = 150;
const ETYPES = [17, 18, 19, 20] as const;

const usage = fc.integer({ min: 0, max: 0xffffffff });
const keyOf = (etype: number): fc.Arbitrary<EncryptionKey> =>
  fc
    .uint8Array({ minLength: encryptionTypeInfo(etype).keyBytes, maxLength: encryptionTypeInfo(etype).keyBytes })
    .map((keyvalue) => ({ keytype: etype, keyvalue }));

/** Runs `call`; true when it threw a KerberosCryptoError with `code`, an assertion failure for anything else thrown. */
function refusedWith(call: () => unknown, codes: readonly string[]): boolean {
  try {
    call();
    return false;
  } catch (error) {
    assert.ok(error instanceof KerberosCryptoError, `only KerberosCryptoError is thrown, not ${String(error)}`);
    assert.ok(codes.includes(error.code), `code ${error.code}: ${error.message}`);
    return true;
  }
}

for (const etype of ETYPES) {
  const { name, blockBytes, macBytes } = encryptionTypeInfo(etype);

  describe(`${name} (${etype})`, () => {
    test('decrypt(encrypt(p)) is p for any plaintext of 0 to 2000 bytes, any key and any key usage', () => {
      fc.assert(
        fc.property(keyOf(etype), usage, fc.uint8Array({ maxLength: 2000 }), (key, keyUsage, plaintext) => {
          const sealed = encrypt(key, keyUsage, plaintext);
          assert.equal(sealed.length, encryptedLength(etype, plaintext.length));
          assert.deepEqual(decrypt(key, keyUsage, sealed), plaintext);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    test('a ciphertext with any one bit flipped fails integrity (BAD_INTEGRITY)', () => {
      fc.assert(
        fc.property(keyOf(etype), usage, fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(7), (key, keyUsage, plaintext, at, bit) => {
          const sealed = encrypt(key, keyUsage, plaintext);
          sealed[at % sealed.length]! ^= 1 << bit;
          assert.ok(refusedWith(() => decrypt(key, keyUsage, sealed), ['BAD_INTEGRITY']));
        }),
        { seed: SEED, numRuns: RUNS * 2 },
      );
    });

    test('every truncation of a ciphertext is refused: BAD_LENGTH below confounder + HMAC, BAD_INTEGRITY above', () => {
      fc.assert(
        fc.property(keyOf(etype), usage, fc.uint8Array({ maxLength: 64 }), (key, keyUsage, plaintext) => {
          const sealed = encrypt(key, keyUsage, plaintext);
          for (let length = 0; length < sealed.length; length++) {
            const expected = length < blockBytes + macBytes ? 'BAD_LENGTH' : 'BAD_INTEGRITY';
            assert.ok(
              refusedWith(() => decrypt(key, keyUsage, sealed.subarray(0, length)), [expected]),
              `length ${length}`,
            );
          }
        }),
        { seed: SEED, numRuns: RUNS / 3 },
      );
    });

    test('any bytes at all offered as a ciphertext are refused with a KerberosCryptoError, never anything else', () => {
      fc.assert(
        fc.property(keyOf(etype), usage, fc.uint8Array({ maxLength: 300 }), (key, keyUsage, bytes) => {
          assert.ok(refusedWith(() => decrypt(key, keyUsage, bytes), ['BAD_LENGTH', 'BAD_INTEGRITY']));
        }),
        { seed: SEED, numRuns: RUNS * 2 },
      );
    });

    test('a checksum with any one bit flipped, or over data with one bit flipped, does not verify', () => {
      const cksumtype = requiredChecksumType(etype);
      fc.assert(
        fc.property(
          keyOf(etype),
          usage,
          fc.uint8Array({ minLength: 1, maxLength: 300 }),
          fc.nat(),
          fc.nat(7),
          fc.boolean(),
          (key, keyUsage, data, at, bit, inData) => {
            const mic = makeChecksum(cksumtype, key, keyUsage, data);
            assert.equal(verifyChecksum(cksumtype, key, keyUsage, data, mic), true);
            const target = inData ? Uint8Array.from(data) : Uint8Array.from(mic);
            target[at % target.length]! ^= 1 << bit;
            assert.equal(inData ? verifyChecksum(cksumtype, key, keyUsage, target, mic) : verifyChecksum(cksumtype, key, keyUsage, data, target), false);
          },
        ),
        { seed: SEED, numRuns: RUNS * 2 },
      );
    });
  });
}
