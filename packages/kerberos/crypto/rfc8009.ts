// aes128-cts-hmac-sha256-128 (19) and aes256-cts-hmac-sha384-192 (20): RFC 8009. Keys for each
// usage come from KDF-HMAC-SHA2 (SP 800-108 counter mode, one block); an encryption is AES-CTS of
// confounder | plaintext under Ke, then an HMAC over the cipher state and that ciphertext under Ki
// (encrypt-then-MAC, so a tampered message is refused before anything is decrypted); string-to-key
// is PBKDF2 with the same hash, salted with the etype's name, then the KDF with "kerberos".

import { createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { AES_BLOCK_BYTES, aesCtsDecrypt, aesCtsEncrypt } from './cts.js';
import { KerberosCryptoError } from './errors.js';
import {
  KERB_CHECKSUM_HMAC_SHA256_128_AES128,
  KERB_CHECKSUM_HMAC_SHA384_192_AES256,
  KERB_ETYPE_AES128_CTS_HMAC_SHA256_128,
  KERB_ETYPE_AES256_CTS_HMAC_SHA384_192,
  type KerbChecksumType,
  type KerbEtype,
} from './numbers.js';
import { KC_SUFFIX, KE_SUFFIX, KI_SUFFIX, usageOctets, type EncryptionProfile } from './profile.js';

const EMPTY = new Uint8Array(0);
const KERBEROS = new TextEncoder().encode('kerberos');
const PRF_LABEL = new TextEncoder().encode('prf');

function hmac(hash: 'sha256' | 'sha384', key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const mac = createHmac(hash, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/**
 * KDF-HMAC-SHA2(key, label, [context,] k) (RFC 8009 section 3): k-truncate(HMAC(key,
 * 0x00000001 | label | 0x00 | context | k)), k in bits as four big-endian octets. One block of
 * SP 800-108's counter mode: k never exceeds the hash's output.
 */
export function kdfHmacSha2(hash: 'sha256' | 'sha384', key: Uint8Array, label: Uint8Array, context: Uint8Array, bits: number): Uint8Array {
  const framing = new Uint8Array(4);
  new DataView(framing.buffer).setUint32(0, 1, false);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, bits, false);
  return hmac(hash, key, framing, label, new Uint8Array(1), context, length).subarray(0, bits / 8);
}

interface Sha2Sizes {
  readonly hash: 'sha256' | 'sha384';
  readonly keyBytes: number;
  /** Kc and Ki are 128 or 192 bits (the tag's length), Ke the AES key's (RFC 8009 section 5). */
  readonly kcBits: number;
  readonly kiBits: number;
  /** h: the HMAC cut to 128 or 192 bits. */
  readonly macBytes: number;
  /** The PRF is one whole hash output: 256 or 384 bits. */
  readonly prfBits: number;
}

function makeProfile(etype: KerbEtype, name: string, requiredChecksum: KerbChecksumType, sizes: Sha2Sizes): EncryptionProfile {
  const { hash, keyBytes, kcBits, kiBits, macBytes, prfBits } = sizes;
  // RFC 8009 5: Kc = KDF(base, usage | 0x99, kcBits), Ke = KDF(base, usage | 0xAA, the AES key's bits), Ki = KDF(base, usage | 0x55, kiBits).
  const bitsOf = (suffix: number): number => {
    if (suffix === KE_SUFFIX) return keyBytes * 8;
    if (suffix === KI_SUFFIX) return kiBits;
    if (suffix === KC_SUFFIX) return kcBits;
    throw new KerberosCryptoError('BAD_ARGUMENT', `a key usage's constant ends in 0x99, 0xaa or 0x55, not ${suffix}`);
  };
  const saltPrefix = new TextEncoder().encode(`${name}\0`); // RFC 8009 4: saltp = enctype-name | 0x00 | salt
  return {
    etype,
    name,
    keyBytes,
    seedBytes: keyBytes,
    blockBytes: AES_BLOCK_BYTES,
    macBytes,
    prfBytes: prfBits / 8,
    requiredChecksum,
    defaultIterations: 32768, // RFC 8009 4: parameters 00 00 80 00 when none are given
    deriveUsageKey: (key, usage, suffix) => kdfHmacSha2(hash, key, usageOctets(usage, suffix), EMPTY, bitsOf(suffix)),

    // RFC 8009 5: C = E(Ke, N | plaintext, IV); H = HMAC(Ki, IV | C) cut to h; ciphertext = C | H.
    encrypt(ke, ki, plaintext, confounder, cipherState) {
      const basic = new Uint8Array(confounder.length + plaintext.length);
      basic.set(confounder);
      basic.set(plaintext, confounder.length);
      const c = aesCtsEncrypt(ke, cipherState, basic).output;
      const out = new Uint8Array(c.length + macBytes);
      out.set(c);
      out.set(hmac(hash, ki, cipherState, c).subarray(0, macBytes), c.length);
      return out;
    },

    decrypt(ke, ki, ciphertext, cipherState) {
      const c = ciphertext.subarray(0, ciphertext.length - macBytes);
      const h = ciphertext.subarray(ciphertext.length - macBytes);
      if (!timingSafeEqual(hmac(hash, ki, cipherState, c).subarray(0, macBytes), h))
        throw new KerberosCryptoError('BAD_INTEGRITY', `${name}: the ciphertext's HMAC does not match (altered, or another key or usage)`);
      return aesCtsDecrypt(ke, cipherState, c).output.subarray(AES_BLOCK_BYTES);
    },

    // RFC 8009 5: the checksum is HMAC(Kc, message) cut to h.
    checksum(kc, data) {
      return hmac(hash, kc, data).subarray(0, macBytes);
    },

    // RFC 8009 4: tkey = random2key(PBKDF2(passphrase, saltp, iter_count, keylength)); key = KDF-HMAC-SHA2(tkey, "kerberos", keylength).
    stringToKey(password, salt, iterations) {
      return this.keyFromPbkdf2(pbkdf2Sync(password, this.pbkdf2Salt(salt), iterations, keyBytes, hash));
    },
    pbkdf2Hash: hash,
    pbkdf2Salt(salt) {
      const saltp = new Uint8Array(saltPrefix.length + salt.length);
      saltp.set(saltPrefix);
      saltp.set(salt, saltPrefix.length);
      return saltp;
    },
    keyFromPbkdf2: (derived) => kdfHmacSha2(hash, derived, KERBEROS, EMPTY, keyBytes * 8),

    // RFC 8009 5: PRF = KDF-HMAC-SHA2(input-key, "prf", octet-string, 256 or 384).
    prf(key, input) {
      return kdfHmacSha2(hash, key, PRF_LABEL, input, prfBits);
    },
  };
}

export const AES128_CTS_HMAC_SHA256_128 = makeProfile(
  KERB_ETYPE_AES128_CTS_HMAC_SHA256_128,
  'aes128-cts-hmac-sha256-128',
  KERB_CHECKSUM_HMAC_SHA256_128_AES128,
  {
    hash: 'sha256',
    keyBytes: 16,
    kcBits: 128,
    kiBits: 128,
    macBytes: 16,
    prfBits: 256,
  },
);

export const AES256_CTS_HMAC_SHA384_192 = makeProfile(
  KERB_ETYPE_AES256_CTS_HMAC_SHA384_192,
  'aes256-cts-hmac-sha384-192',
  KERB_CHECKSUM_HMAC_SHA384_192_AES256,
  {
    hash: 'sha384',
    keyBytes: 32,
    kcBits: 192,
    kiBits: 192,
    macBytes: 24,
    prfBits: 384,
  },
);
