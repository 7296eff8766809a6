// A key's derived keys are made once and kept with it (crypto/key-schedule.ts): what a key gives
// must not depend on that. A key whose bytes changed (a wipe, or new bytes in the same array) gives
// what those bytes give, never its old derivations; wipeKey zeroes it; every etype alike.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decrypt,
  encrypt,
  KerberosCryptoError,
  KEY_USAGE,
  makeChecksum,
  makeRandomKey,
  requiredChecksumType,
  SUPPORTED_ETYPES,
  usageKeys,
  verifyChecksum,
  wipeKey,
  type EncryptionKey,
} from '../../../../packages/kerberos/crypto/index.js';

const USAGE = KEY_USAGE.AP_REQ_AUTHENTICATOR;
const copyOf = (key: EncryptionKey): EncryptionKey => ({ keytype: key.keytype, keyvalue: Uint8Array.from(key.keyvalue) });
const badIntegrity = (error: unknown): boolean => error instanceof KerberosCryptoError && error.code === 'BAD_INTEGRITY';

describe('the key schedule', () => {
  for (const etype of SUPPORTED_ETYPES) {
    test(`etype ${etype}: a key used again gives what a fresh copy of it gives`, () => {
      const key = makeRandomKey(etype);
      const message = new TextEncoder().encode('the same key, used twice');
      const first = encrypt(key, USAGE, message);
      // The second use takes the remembered derivations; a copy (another array) derives its own.
      assert.deepEqual(decrypt(key, USAGE, first), message);
      assert.deepEqual(decrypt(copyOf(key), USAGE, encrypt(key, USAGE, message)), message);
      assert.deepEqual(usageKeys(key, USAGE), usageKeys(copyOf(key), USAGE));
      const cksumtype = requiredChecksumType(etype);
      assert.deepEqual(makeChecksum(cksumtype, key, USAGE, message), makeChecksum(cksumtype, copyOf(key), USAGE, message));
      // Another usage of the same key is another key.
      assert.throws(() => decrypt(key, USAGE + 1, first), badIntegrity);
    });

    test(`etype ${etype}: a key whose bytes changed gives what its new bytes give`, () => {
      const key = makeRandomKey(etype);
      const message = new TextEncoder().encode('made before the change');
      const before = encrypt(key, USAGE, message);
      const checksum = makeChecksum(requiredChecksumType(etype), key, USAGE, message);
      const other = makeRandomKey(etype);
      key.keyvalue.set(other.keyvalue);
      assert.throws(() => decrypt(key, USAGE, before), badIntegrity);
      assert.equal(verifyChecksum(requiredChecksumType(etype), key, USAGE, message, checksum), false);
      assert.deepEqual(usageKeys(key, USAGE), usageKeys(other, USAGE));
      assert.deepEqual(decrypt(other, USAGE, encrypt(key, USAGE, message)), message);
    });

    test(`etype ${etype}: wipeKey zeroes the key, and nothing made before opens with it`, () => {
      const key = makeRandomKey(etype);
      const message = new TextEncoder().encode('made before the wipe');
      const before = encrypt(key, USAGE, message);
      wipeKey(key);
      assert.ok(key.keyvalue.every((b) => b === 0));
      assert.throws(() => decrypt(key, USAGE, before), badIntegrity);
      const zero: EncryptionKey = { keytype: etype, keyvalue: new Uint8Array(key.keyvalue.length) };
      assert.deepEqual(usageKeys(key, USAGE), usageKeys(zero, USAGE));
    });

    test(`etype ${etype}: what usageKeys hands out is a copy (changing it changes nothing kept)`, () => {
      const key = makeRandomKey(etype);
      const message = new TextEncoder().encode('kept apart');
      const handed = usageKeys(key, USAGE);
      handed.ke.fill(0);
      handed.ki.fill(0);
      handed.kc.fill(0);
      assert.deepEqual(decrypt(copyOf(key), USAGE, encrypt(key, USAGE, message)), message);
      assert.notDeepEqual(usageKeys(key, USAGE).ke, handed.ke);
    });
  }
});
