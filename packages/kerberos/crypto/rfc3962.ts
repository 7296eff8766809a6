// aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96 (18): RFC 3962 over RFC 3961's
// simplified profile. Keys for each usage come from DK (an AES chain from the n-folded constant);
// an encryption is AES-CTS of confounder | plaintext under Ke, followed by HMAC-SHA1 of the same
// plaintext under Ki, cut to 96 bits; string-to-key is PBKDF2-HMAC-SHA1 then DK with "kerberos".

import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { AES_BLOCK_BYTES, aesCbcEncrypt, aesCtsDecrypt, aesCtsEncrypt, ZERO_IV } from './cts.js';
import { KerberosCryptoError } from './errors.js';
import { nfold } from './nfold.js';
import {
  KERB_CHECKSUM_HMAC_SHA1_96_AES128,
  KERB_CHECKSUM_HMAC_SHA1_96_AES256,
  KERB_ETYPE_AES128_CTS_HMAC_SHA1_96,
  KERB_ETYPE_AES256_CTS_HMAC_SHA1_96,
  type KerbChecksumType,
  type KerbEtype,
} from './numbers.js';
import { usageOctets, type EncryptionProfile } from './profile.js';

const MAC_BYTES = 12; // h: HMAC-SHA1 cut to 96 bits (RFC 3962 section 6)
const KERBEROS = new TextEncoder().encode('kerberos');
const PRF_CONSTANT = new TextEncoder().encode('prf');

/**
 * DR (RFC 3961 5.1): K1 = E(Key, n-fold(Constant)), K2 = E(Key, K1), ... cut to `bytes`. With a
 * zero IV that chain is exactly the CBC encryption of n-fold(Constant) followed by zero blocks
 * (each block is XORed with the previous output, which is what the chain feeds back), so one
 * CBC call makes it.
 */
export function deriveRandom(key: Uint8Array, constant: Uint8Array, bytes: number): Uint8Array {
  // A constant longer than a block would have to be shrunk, which RFC 3961 forbids (collisions).
  if (constant.length === 0 || constant.length > AES_BLOCK_BYTES)
    throw new KerberosCryptoError('BAD_ARGUMENT', `a derivation constant is 1 to ${AES_BLOCK_BYTES} bytes, not ${constant.length}`);
  const blocks = Math.ceil(bytes / AES_BLOCK_BYTES);
  const input = new Uint8Array(blocks * AES_BLOCK_BYTES);
  input.set(constant.length === AES_BLOCK_BYTES ? constant : nfold(constant, AES_BLOCK_BYTES));
  return aesCbcEncrypt(key, ZERO_IV, input).subarray(0, bytes);
}

/** DK (RFC 3961 5.1): random-to-key(DR(Key, Constant)); random-to-key is the identity for AES (RFC 3962 4). */
export function deriveKey(key: Uint8Array, constant: Uint8Array): Uint8Array {
  return deriveRandom(key, constant, key.length);
}

/**
 * n-fold(usage | suffix) to a block: the usage constants' n-fold, made once each (they are public
 * numbers, and the same few usages recur in every message); at most USAGE_CONSTANTS_KEPT kept.
 */
const usageConstants = new Map<number, Uint8Array>();
const USAGE_CONSTANTS_KEPT = 1024;

function usageConstant(usage: number, suffix: number): Uint8Array {
  const id = usage * 256 + suffix;
  let folded = usageConstants.get(id);
  if (folded === undefined) {
    folded = nfold(usageOctets(usage, suffix), AES_BLOCK_BYTES);
    if (usageConstants.size < USAGE_CONSTANTS_KEPT) usageConstants.set(id, folded);
  }
  return folded;
}

function hmacSha1(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const hmac = createHmac('sha1', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

function makeProfile(etype: KerbEtype, name: string, keyBytes: number, requiredChecksum: KerbChecksumType): EncryptionProfile {
  return {
    etype,
    name,
    keyBytes,
    seedBytes: keyBytes,
    blockBytes: AES_BLOCK_BYTES,
    macBytes: MAC_BYTES,
    prfBytes: AES_BLOCK_BYTES,
    requiredChecksum,
    defaultIterations: 4096, // RFC 3962 4: parameters 00 00 10 00 when none are given
    deriveUsageKey: (key, usage, suffix) => deriveKey(key, usageConstant(usage, suffix)),

    // RFC 3961 5.3: (C1, newIV) = E(Ke, conf | plaintext | pad, ivec); H1 = HMAC(Ki, conf | plaintext | pad).
    // AES-CTS takes any length (the message block size m is one octet), so there is no pad.
    encrypt(ke, ki, plaintext, confounder, cipherState) {
      const basic = new Uint8Array(confounder.length + plaintext.length);
      basic.set(confounder);
      basic.set(plaintext, confounder.length);
      const c1 = aesCtsEncrypt(ke, cipherState, basic).output;
      const out = new Uint8Array(c1.length + MAC_BYTES);
      out.set(c1);
      out.set(hmacSha1(ki, basic).subarray(0, MAC_BYTES), c1.length);
      return out;
    },

    decrypt(ke, ki, ciphertext, cipherState) {
      const c1 = ciphertext.subarray(0, ciphertext.length - MAC_BYTES);
      const h1 = ciphertext.subarray(ciphertext.length - MAC_BYTES);
      // The MAC is over the plaintext here (MAC-then-encrypt), so the ciphertext must be decrypted first.
      const basic = aesCtsDecrypt(ke, cipherState, c1).output;
      if (!timingSafeEqual(hmacSha1(ki, basic).subarray(0, MAC_BYTES), h1))
        throw new KerberosCryptoError('BAD_INTEGRITY', `${name}: the ciphertext's HMAC does not match (altered, or another key or usage)`);
      return basic.subarray(AES_BLOCK_BYTES);
    },

    // RFC 3961 5.4: get_mic = HMAC(Kc, message)[1..h].
    checksum(kc, data) {
      return hmacSha1(kc, data).subarray(0, MAC_BYTES);
    },

    // RFC 3962 4: tkey = random2key(PBKDF2(passphrase, salt, iter_count, keylength)); key = DK(tkey, "kerberos").
    stringToKey(password, salt, iterations) {
      return deriveKey(pbkdf2Sync(password, salt, iterations, keyBytes, 'sha1'), KERBEROS);
    },
    pbkdf2Hash: 'sha1',
    pbkdf2Salt: (salt) => salt,
    keyFromPbkdf2: (derived) => deriveKey(derived, KERBEROS),

    // RFC 3961 5.3: PRF = E(DK(protocol-key, "prf"), truncate(H(octet-string)), initial-cipher-state).
    // The hash is cut to a whole number of cipher blocks (16 of SHA-1's 20 bytes), as MIT, Heimdal
    // and RFC 6113 Appendix A read it ("aes-ecb(trunc128(sha-1(input)))").
    prf(key, input) {
      const hash = createHash('sha1').update(input).digest().subarray(0, AES_BLOCK_BYTES);
      return aesCbcEncrypt(deriveKey(key, PRF_CONSTANT), ZERO_IV, hash);
    },
  };
}

export const AES128_CTS_HMAC_SHA1_96 = makeProfile(KERB_ETYPE_AES128_CTS_HMAC_SHA1_96, 'aes128-cts-hmac-sha1-96', 16, KERB_CHECKSUM_HMAC_SHA1_96_AES128);
export const AES256_CTS_HMAC_SHA1_96 = makeProfile(KERB_ETYPE_AES256_CTS_HMAC_SHA1_96, 'aes256-cts-hmac-sha1-96', 32, KERB_CHECKSUM_HMAC_SHA1_96_AES256);
