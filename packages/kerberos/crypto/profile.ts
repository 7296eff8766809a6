// What an encryption type is to the rest of the cryptosystem: its sizes and its operations over
// raw key bytes. The two families (RFC 3962's aes-sha1 over RFC 3961's simplified profile, and
// RFC 8009's aes-sha2) each build their two profiles; cryptosystem.ts validates every argument
// and then calls these, which take their inputs as already checked.

import type { KerbChecksumType, KerbEtype } from './numbers.js';

/** The three keys derived from a base key for one key usage (RFC 3961 5.3, RFC 8009 5). */
export interface UsageKeys {
  /** Kc: keys the checksum mechanism (get_mic). */
  readonly kc: Uint8Array;
  /** Ke: keys the encryption. */
  readonly ke: Uint8Array;
  /** Ki: keys the integrity HMAC of an encryption. */
  readonly ki: Uint8Array;
}

export interface EncryptionProfile {
  readonly etype: KerbEtype;
  /** The IANA name, as MIT spells it in krb5.conf ("aes256-cts-hmac-sha1-96"). */
  readonly name: string;
  /** The protocol key's length. */
  readonly keyBytes: number;
  /** The key-generation seed length: random-to-key's input. */
  readonly seedBytes: number;
  /** The cipher block size: the confounder's and the cipher state's length. */
  readonly blockBytes: number;
  /** The integrity tag an encryption appends (h). */
  readonly macBytes: number;
  /** The pseudo-random function's output length. */
  readonly prfBytes: number;
  /** The checksum type every implementation must support with this etype's keys. */
  readonly requiredChecksum: KerbChecksumType;
  /** The string-to-key iteration count when no parameters are given. */
  readonly defaultIterations: number;

  /**
   * One key derived from the base key for a usage: Kc, Ke or Ki by the constant's last octet
   * (KC_SUFFIX, KE_SUFFIX, KI_SUFFIX). cryptosystem.ts keeps what it gives with the base key
   * (key-schedule.ts), so the operations below take the derived keys.
   */
  deriveUsageKey(key: Uint8Array, usage: number, suffix: number): Uint8Array;
  /** `ke` and `ki` are the usage's keys. */
  encrypt(ke: Uint8Array, ki: Uint8Array, plaintext: Uint8Array, confounder: Uint8Array, cipherState: Uint8Array): Uint8Array;
  /** Throws KerberosCryptoError BAD_INTEGRITY when the tag does not match; the length is already checked. */
  decrypt(ke: Uint8Array, ki: Uint8Array, ciphertext: Uint8Array, cipherState: Uint8Array): Uint8Array;
  /** The required checksum mechanism's get_mic: the truncated HMAC under the usage's Kc. */
  checksum(kc: Uint8Array, data: Uint8Array): Uint8Array;
  stringToKey(password: Uint8Array, salt: Uint8Array, iterations: number): Uint8Array;
  /**
   * string-to-key in its two steps, so that the costly one (PBKDF2, thousands of HMACs) can run
   * elsewhere, in the LSA's work pool: the hash PBKDF2 uses and the salt it is given (RFC 8009
   * prefixes the etype's name), then what turns PBKDF2's output into the key (DK or the KDF).
   */
  readonly pbkdf2Hash: 'sha1' | 'sha256' | 'sha384';
  pbkdf2Salt(salt: Uint8Array): Uint8Array;
  keyFromPbkdf2(derived: Uint8Array): Uint8Array;
  prf(key: Uint8Array, input: Uint8Array): Uint8Array;
}

export interface ChecksumProfile {
  readonly cksumtype: KerbChecksumType;
  /** The IANA name ("hmac-sha1-96-aes256"). */
  readonly name: string;
  /** The encryption type whose keys key it (its "associated cryptosystem", RFC 3961 5.4). */
  readonly etype: KerbEtype;
  /** The checksum's length. */
  readonly bytes: number;
}

/** The key usage as the four big-endian octets that start every derivation constant. */
export function usageOctets(usage: number, suffix: number): Uint8Array {
  const out = new Uint8Array(5);
  new DataView(out.buffer).setUint32(0, usage >>> 0, false);
  out[4] = suffix;
  return out;
}

/** The derivation constants' last octet (RFC 3961 5.3). */
export const KC_SUFFIX = 0x99;
export const KE_SUFFIX = 0xaa;
export const KI_SUFFIX = 0x55;
