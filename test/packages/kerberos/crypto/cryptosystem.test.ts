// The cryptosystem's public operations by etype and cksumtype number: what they accept, what they
// refuse (every refusal a KerberosCryptoError with its code), and the key-combining functions
// against RFC 6113's and MIT's KRB-FX-CF2 vectors.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cf2,
  checksumTypeInfo,
  decrypt,
  encrypt,
  encryptedLength,
  encryptionTypeInfo,
  isSupportedEtype,
  KERB_CHECKSUM_HMAC_SHA1_96_AES128,
  KERB_CHECKSUM_HMAC_SHA1_96_AES256,
  KERB_CHECKSUM_HMAC_SHA256_128_AES128,
  KERB_CHECKSUM_HMAC_SHA384_192_AES256,
  KERB_ETYPE_AES128_CTS_HMAC_SHA1_96,
  KERB_ETYPE_AES128_CTS_HMAC_SHA256_128,
  KERB_ETYPE_AES256_CTS_HMAC_SHA1_96,
  KERB_ETYPE_AES256_CTS_HMAC_SHA384_192,
  KerberosCryptoError,
  KEY_USAGE,
  makeChecksum,
  makeRandomKey,
  MAX_S2K_ITERATIONS,
  prf,
  prfPlus,
  randomToKey,
  requiredChecksumType,
  s2kIterations,
  stringToKey,
  SUPPORTED_ETYPES,
  usageKeys,
  verifyChecksum,
  type EncryptionKey,
  type KerberosCryptoErrorCode,
} from '../../../../packages/kerberos/crypto/index.js';
import { rebuildError, serializeError } from '../../../../ipc/index.js';
import { ascii, CF2, fromHex, RFC8009_STRING_TO_KEY, toHex } from './vectors.js';

const ETYPES = [17, 18, 19, 20] as const;

function refuses(call: () => unknown, code: KerberosCryptoErrorCode, message?: RegExp): void {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof KerberosCryptoError, `a KerberosCryptoError, not ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

describe('the numbers', () => {
  test('are the IANA (and, for 17, 18, 15 and 16, Windows ntsecapi.h) values', () => {
    assert.deepEqual(
      [KERB_ETYPE_AES128_CTS_HMAC_SHA1_96, KERB_ETYPE_AES256_CTS_HMAC_SHA1_96, KERB_ETYPE_AES128_CTS_HMAC_SHA256_128, KERB_ETYPE_AES256_CTS_HMAC_SHA384_192],
      [17, 18, 19, 20],
    );
    assert.deepEqual(
      [KERB_CHECKSUM_HMAC_SHA1_96_AES128, KERB_CHECKSUM_HMAC_SHA1_96_AES256, KERB_CHECKSUM_HMAC_SHA256_128_AES128, KERB_CHECKSUM_HMAC_SHA384_192_AES256],
      [15, 16, 19, 20],
    );
  });

  test('name the key usages of RFC 4120 7.5.1, RFC 4121 2 and RFC 6113', () => {
    assert.equal(KEY_USAGE.AS_REQ_PA_ENC_TIMESTAMP, 1);
    assert.equal(KEY_USAGE.KDC_REP_TICKET, 2);
    assert.equal(KEY_USAGE.AS_REP_ENC_PART, 3);
    assert.equal(KEY_USAGE.TGS_REQ_AUTHENTICATOR_CKSUM, 6);
    assert.equal(KEY_USAGE.TGS_REQ_AUTHENTICATOR, 7);
    assert.equal(KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY, 8);
    assert.equal(KEY_USAGE.AP_REQ_AUTHENTICATOR_CKSUM, 10);
    assert.equal(KEY_USAGE.AP_REQ_AUTHENTICATOR, 11);
    assert.equal(KEY_USAGE.AP_REP_ENC_PART, 12);
    assert.deepEqual(
      [KEY_USAGE.KG_USAGE_ACCEPTOR_SEAL, KEY_USAGE.KG_USAGE_ACCEPTOR_SIGN, KEY_USAGE.KG_USAGE_INITIATOR_SEAL, KEY_USAGE.KG_USAGE_INITIATOR_SIGN],
      [22, 23, 24, 25],
    );
    assert.deepEqual([KEY_USAGE.FAST_REQ_CHKSUM, KEY_USAGE.ENC_CHALLENGE_KDC], [50, 55]);
    assert.equal(new Set(Object.values(KEY_USAGE)).size, Object.keys(KEY_USAGE).length, 'no number named twice');
  });
});

describe('encryption and checksum types', () => {
  test('are the four AES etypes, in MIT default order, with their sizes', () => {
    assert.deepEqual(SUPPORTED_ETYPES, [18, 17, 20, 19]);
    const sizes = ETYPES.map((etype) => {
      const info = encryptionTypeInfo(etype);
      return [info.name, info.keyBytes, info.macBytes, info.prfBytes, info.requiredChecksum, info.defaultIterations];
    });
    assert.deepEqual(sizes, [
      ['aes128-cts-hmac-sha1-96', 16, 12, 16, 15, 4096],
      ['aes256-cts-hmac-sha1-96', 32, 12, 16, 16, 4096],
      ['aes128-cts-hmac-sha256-128', 16, 16, 32, 19, 32768],
      ['aes256-cts-hmac-sha384-192', 32, 24, 48, 20, 32768],
    ]);
    assert.deepEqual(
      [15, 16, 19, 20].map((c) => [checksumTypeInfo(c).name, checksumTypeInfo(c).etype, checksumTypeInfo(c).bytes]),
      [
        ['hmac-sha1-96-aes128', 17, 12],
        ['hmac-sha1-96-aes256', 18, 12],
        ['hmac-sha256-128-aes128', 19, 16],
        ['hmac-sha384-192-aes256', 20, 24],
      ],
    );
    assert.deepEqual(ETYPES.map(requiredChecksumType), [15, 16, 19, 20]);
  });

  test('encryptedLength is confounder + plaintext + tag, as encrypt makes it', () => {
    for (const etype of ETYPES) {
      const key = makeRandomKey(etype);
      for (const length of [0, 1, 15, 16, 17, 100]) assert.equal(encrypt(key, 1, new Uint8Array(length)).length, encryptedLength(etype, length));
    }
  });

  test('refuse unknown etypes (RC4-HMAC 23, DES 3, 0, -1, names, prototype members) with UNKNOWN_ETYPE, naming the supported ones', () => {
    for (const etype of [23, 3, 16, 0, -1, 17.5, Number.NaN])
      refuses(() => encryptionTypeInfo(etype), 'UNKNOWN_ETYPE', /not supported \(supported: 17, 18, 19, 20\)/);
    refuses(() => makeRandomKey('17' as unknown as number), 'UNKNOWN_ETYPE');
    refuses(() => encrypt({ keytype: 23, keyvalue: new Uint8Array(16) }, 1, new Uint8Array(1)), 'UNKNOWN_ETYPE');
    refuses(() => decrypt({ keytype: 'constructor', keyvalue: new Uint8Array(16) } as unknown as EncryptionKey, 1, new Uint8Array(64)), 'UNKNOWN_ETYPE');
    assert.equal(isSupportedEtype(23), false);
    assert.equal(isSupportedEtype(18), true);
  });

  test('refuse unknown checksum types (HMAC-MD5 -138, CRC32 1, RSA-MD5 7, 0) with UNKNOWN_CKSUMTYPE', () => {
    const key = makeRandomKey(17);
    for (const cksumtype of [-138, 1, 7, 0, 17]) {
      refuses(() => checksumTypeInfo(cksumtype), 'UNKNOWN_CKSUMTYPE');
      refuses(() => makeChecksum(cksumtype, key, 1, new Uint8Array(1)), 'UNKNOWN_CKSUMTYPE');
      refuses(() => verifyChecksum(cksumtype, key, 1, new Uint8Array(1), new Uint8Array(12)), 'UNKNOWN_CKSUMTYPE');
    }
  });
});

describe('keys', () => {
  test('random-to-key is the identity on a seed of the key size, and refuses other sizes with BAD_LENGTH', () => {
    const seed = fromHex('000102030405060708090a0b0c0d0e0f');
    const key = randomToKey(17, seed);
    assert.deepEqual(key, { keytype: 17, keyvalue: seed });
    assert.notEqual(key.keyvalue, seed, 'a copy');
    refuses(() => randomToKey(18, seed), 'BAD_LENGTH', /32 bytes, not 16/);
  });

  test("makeRandomKey gives a key of the etype's size, a different one each time", () => {
    for (const etype of ETYPES) {
      const a = makeRandomKey(etype);
      const b = makeRandomKey(etype);
      assert.equal(a.keytype, etype);
      assert.equal(a.keyvalue.length, encryptionTypeInfo(etype).keyBytes);
      assert.notEqual(toHex(a.keyvalue), toHex(b.keyvalue));
    }
  });

  test('a key of the wrong length for its etype is refused by every operation with BAD_KEY', () => {
    const short = { keytype: 18, keyvalue: new Uint8Array(16) };
    refuses(() => encrypt(short, 1, new Uint8Array(1)), 'BAD_KEY', /aes256-cts-hmac-sha1-96 key is 32 bytes, not 16/);
    refuses(() => decrypt(short, 1, new Uint8Array(64)), 'BAD_KEY');
    refuses(() => makeChecksum(16, short, 1, new Uint8Array(1)), 'BAD_KEY');
    refuses(() => verifyChecksum(16, short, 1, new Uint8Array(1), new Uint8Array(12)), 'BAD_KEY');
    refuses(() => prf(short, new Uint8Array(1)), 'BAD_KEY');
    refuses(() => usageKeys(short, 1), 'BAD_KEY');
  });

  test('a key that is not { keytype, keyvalue: Uint8Array } is refused with BAD_ARGUMENT', () => {
    for (const key of [null, undefined, 17, 'key', { keytype: 17 }, { keytype: 17, keyvalue: [1, 2, 3] }])
      refuses(() => encrypt(key as unknown as EncryptionKey, 1, new Uint8Array(1)), 'BAD_ARGUMENT');
  });
});

describe('string-to-key parameters', () => {
  const { password, salt } = RFC8009_STRING_TO_KEY;

  test("absent parameters mean the etype's default count (4096 for RFC 3962, 32768 for RFC 8009)", () => {
    assert.deepEqual(
      ETYPES.map((etype) => s2kIterations(etype)),
      [4096, 4096, 32768, 32768],
    );
    assert.equal(toHex(stringToKey(17, 'password', 'salt').keyvalue), toHex(stringToKey(17, 'password', 'salt', fromHex('00001000')).keyvalue));
  });

  test('a count below the default is refused unless allowed, as MIT refuses it (a spoofed ETYPE-INFO2 must not weaken the key)', () => {
    refuses(() => stringToKey(17, password, salt, fromHex('00000fff')), 'BAD_S2K_PARAMS', /4095 is below aes128-cts-hmac-sha1-96's default of 4096/);
    refuses(() => stringToKey(19, password, salt, fromHex('00001000')), 'BAD_S2K_PARAMS', /below .* default of 32768/);
    assert.equal(s2kIterations(17, fromHex('00000001'), { allowWeakIterations: true }), 1);
  });

  test('00 00 00 00 (2^32) and counts above the limit are refused; the limit can be lowered', () => {
    refuses(() => s2kIterations(18, fromHex('00000000'), { allowWeakIterations: true }), 'BAD_S2K_PARAMS', /2\^32/);
    refuses(() => s2kIterations(18, fromHex('01000000')), 'BAD_S2K_PARAMS', /16777216 is above the limit of 16777215/);
    assert.equal(s2kIterations(18, fromHex('00ffffff')), MAX_S2K_ITERATIONS);
    refuses(() => s2kIterations(18, fromHex('00010000'), { maxIterations: 50000 }), 'BAD_S2K_PARAMS', /65536 is above the limit of 50000/);
    refuses(() => s2kIterations(18, undefined, { maxIterations: 0 }), 'BAD_ARGUMENT');
  });

  test('parameters that are not four octets are refused', () => {
    for (const params of [new Uint8Array(0), fromHex('001000'), fromHex('0000100000')])
      refuses(() => stringToKey(17, 'p', 's', params), 'BAD_S2K_PARAMS', /4 octets/);
    refuses(() => stringToKey(17, 'p', 's', null as unknown as Uint8Array), 'BAD_ARGUMENT');
  });

  test('password and salt are strings (UTF-8) or bytes, the same key either way; anything else is BAD_ARGUMENT', () => {
    assert.equal(
      toHex(stringToKey(18, 'pässwörd', 'EXAMPLE.TESTalice').keyvalue),
      toHex(stringToKey(18, ascii('pässwörd'), ascii('EXAMPLE.TESTalice')).keyvalue),
    );
    refuses(() => stringToKey(18, 42 as unknown as string, 'salt'), 'BAD_ARGUMENT');
    refuses(() => stringToKey(18, 'password', [1, 2] as unknown as string), 'BAD_ARGUMENT');
  });

  test('RFC 8009 salts with the etype name: the same inputs give unrelated keys for 19 and 17', () => {
    assert.notEqual(toHex(stringToKey(19, password, salt).keyvalue), toHex(stringToKey(17, password, salt, fromHex('00008000')).keyvalue));
  });
});

describe('encrypt and decrypt', () => {
  test('refuse a ciphertext shorter than confounder plus HMAC with BAD_LENGTH, naming the minimum', () => {
    for (const [etype, minimum] of [
      [17, 28],
      [18, 28],
      [19, 32],
      [20, 40],
    ] as const) {
      const key = makeRandomKey(etype);
      for (const length of [0, 1, 16, minimum - 1])
        refuses(() => decrypt(key, 1, new Uint8Array(length)), 'BAD_LENGTH', new RegExp(`at least ${minimum} bytes .*not ${length}`));
      refuses(() => decrypt(key, 1, new Uint8Array(minimum)), 'BAD_INTEGRITY');
    }
  });

  test('refuse a confounder or cipher state that is not one block with BAD_LENGTH', () => {
    const key = makeRandomKey(18);
    refuses(() => encrypt(key, 1, new Uint8Array(1), { confounder: new Uint8Array(15) }), 'BAD_LENGTH', /confounder is 16 bytes, not 15/);
    refuses(() => encrypt(key, 1, new Uint8Array(1), { cipherState: new Uint8Array(8) }), 'BAD_LENGTH', /cipher state is 16 bytes, not 8/);
    refuses(() => decrypt(key, 1, new Uint8Array(64), { cipherState: new Uint8Array(0) }), 'BAD_LENGTH');
  });

  test('refuse key usages outside 0..2^32-1 and non-integers with BAD_ARGUMENT; accept both ends', () => {
    const key = makeRandomKey(17);
    for (const usage of [-1, 2 ** 32, 1.5, Number.NaN, '1']) refuses(() => encrypt(key, usage as number, new Uint8Array(1)), 'BAD_ARGUMENT', /key usage/);
    for (const usage of [0, 0xffffffff]) assert.equal(toHex(decrypt(key, usage, encrypt(key, usage, ascii('edge')))), toHex(ascii('edge')));
  });

  test('refuse plaintexts, ciphertexts and options that are not what they should be with BAD_ARGUMENT', () => {
    const key = makeRandomKey(19);
    refuses(() => encrypt(key, 1, 'text' as unknown as Uint8Array), 'BAD_ARGUMENT');
    refuses(() => decrypt(key, 1, [1, 2, 3] as unknown as Uint8Array), 'BAD_ARGUMENT');
    refuses(() => encrypt(key, 1, new Uint8Array(1), null as unknown as undefined), 'BAD_ARGUMENT');
    refuses(() => decrypt(key, 1, new Uint8Array(64), 7 as unknown as undefined), 'BAD_ARGUMENT');
  });

  test('use a fresh random confounder: the same plaintext encrypts differently each time', () => {
    for (const etype of ETYPES) {
      const key = makeRandomKey(etype);
      assert.notEqual(toHex(encrypt(key, 3, ascii('same'))), toHex(encrypt(key, 3, ascii('same'))));
    }
  });

  test('return plain Uint8Arrays that share nothing with the inputs', () => {
    const key = makeRandomKey(18);
    const plaintext = ascii('not shared');
    const sealed = encrypt(key, 7, plaintext);
    const opened = decrypt(key, 7, sealed);
    assert.equal(Object.getPrototypeOf(sealed), Uint8Array.prototype);
    assert.equal(Object.getPrototypeOf(opened), Uint8Array.prototype);
    opened.fill(0);
    assert.equal(toHex(decrypt(key, 7, sealed)), toHex(plaintext));
  });

  test('a key of another etype, or another key, fails integrity', () => {
    const key = makeRandomKey(17);
    const sealed = encrypt(key, 11, ascii('for one key only'));
    refuses(() => decrypt(makeRandomKey(17), 11, sealed), 'BAD_INTEGRITY');
    refuses(() => decrypt({ keytype: 19, keyvalue: key.keyvalue }, 11, sealed), 'BAD_INTEGRITY');
  });
});

describe('checksums', () => {
  test("are keyed only with their own etype's keys (BAD_KEY otherwise)", () => {
    refuses(
      () => makeChecksum(15, makeRandomKey(19), 1, new Uint8Array(1)),
      'BAD_KEY',
      /hmac-sha1-96-aes128 is keyed with aes128-cts-hmac-sha1-96 keys, not aes128-cts-hmac-sha256-128/,
    );
    refuses(() => makeChecksum(16, makeRandomKey(17), 1, new Uint8Array(1)), 'BAD_KEY');
  });

  test('verifyChecksum refuses a checksum of the wrong size with BAD_LENGTH, and answers false for a wrong one', () => {
    for (const [cksumtype, etype, bytes] of [
      [15, 17, 12],
      [16, 18, 12],
      [19, 19, 16],
      [20, 20, 24],
    ] as const) {
      const key = makeRandomKey(etype);
      const data = ascii('checksummed');
      const mic = makeChecksum(cksumtype, key, KEY_USAGE.KG_USAGE_INITIATOR_SIGN, data);
      assert.equal(mic.length, bytes);
      assert.equal(verifyChecksum(cksumtype, key, KEY_USAGE.KG_USAGE_INITIATOR_SIGN, data, mic), true);
      assert.equal(verifyChecksum(cksumtype, key, KEY_USAGE.KG_USAGE_ACCEPTOR_SIGN, data, mic), false);
      assert.equal(verifyChecksum(cksumtype, key, KEY_USAGE.KG_USAGE_INITIATOR_SIGN, ascii('checksummeD'), mic), false);
      refuses(
        () => verifyChecksum(cksumtype, key, KEY_USAGE.KG_USAGE_INITIATOR_SIGN, data, mic.subarray(1)),
        'BAD_LENGTH',
        new RegExp(`is ${bytes} bytes, not ${bytes - 1}`),
      );
      refuses(() => verifyChecksum(cksumtype, key, KEY_USAGE.KG_USAGE_INITIATOR_SIGN, data, new Uint8Array(bytes + 1)), 'BAD_LENGTH');
    }
  });
});

describe('PRF+ and KRB-FX-CF2 (RFC 6113 5.1)', () => {
  for (const v of CF2)
    test(`KRB-FX-CF2 of string-to-key("key1","key1") and ("key2","key2") with peppers "a" and "b", etype ${v.etype} (${v.source})`, () => {
      const k1 = stringToKey(v.etype, 'key1', 'key1');
      const k2 = stringToKey(v.etype, 'key2', 'key2');
      const combined = cf2(k1, k2, ascii('a'), ascii('b'));
      assert.equal(combined.keytype, v.etype);
      assert.equal(toHex(combined.keyvalue), v.output);
    });

  test('PRF+ is PRF(1 | input) | PRF(2 | input) | ... cut to the length asked', () => {
    const key = makeRandomKey(17);
    const out = prfPlus(key, ascii('info'), 40);
    assert.equal(
      toHex(out),
      toHex(new Uint8Array([...prf(key, ascii('\x01info')), ...prf(key, ascii('\x02info')), ...prf(key, ascii('\x03info')).subarray(0, 8)])),
    );
    assert.equal(prfPlus(key, ascii('info'), 0).length, 0);
    assert.equal(prfPlus(key, ascii('info'), 255 * 16).length, 255 * 16);
    refuses(() => prfPlus(key, ascii('info'), 255 * 16 + 1), 'BAD_ARGUMENT', /0 to 4080 bytes/);
  });
});

describe('KerberosCryptoError', () => {
  test('crosses a port as itself, with its code (registered with the error family)', () => {
    let caught: unknown;
    try {
      decrypt(makeRandomKey(18), 1, new Uint8Array(28));
    } catch (error) {
      caught = error;
    }
    const rebuilt = rebuildError(structuredClone(serializeError(caught)));
    assert.ok(rebuilt instanceof KerberosCryptoError);
    assert.equal(rebuilt.code, 'BAD_INTEGRITY');
    assert.match(rebuilt.message, /HMAC does not match/);
  });
});
