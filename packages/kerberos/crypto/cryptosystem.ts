// The Kerberos cryptosystem's public operations (RFC 3961 section 3's encryption and checksum
// mechanism interfaces), looked up by etype and cksumtype number. This is the one boundary:
// every argument is checked here, once, and every refusal is a KerberosCryptoError with its code,
// so hostile bytes off the wire (a short ciphertext, a checksum of the wrong size, an etype
// nobody implements) never surface as anything else. Every output is a fresh Uint8Array of its own.

import { randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';
import { KerberosCryptoError } from './errors.js';
import {
  KERB_CHECKSUM_HMAC_SHA1_96_AES128,
  KERB_CHECKSUM_HMAC_SHA1_96_AES256,
  KERB_CHECKSUM_HMAC_SHA256_128_AES128,
  KERB_CHECKSUM_HMAC_SHA384_192_AES256,
  type KerbChecksumType,
  type KerbEtype,
} from './numbers.js';
import { derivedKey } from './key-schedule.js';
import { KC_SUFFIX, KE_SUFFIX, KI_SUFFIX, type ChecksumProfile, type EncryptionProfile, type UsageKeys } from './profile.js';
import { AES128_CTS_HMAC_SHA1_96, AES256_CTS_HMAC_SHA1_96 } from './rfc3962.js';
import { AES128_CTS_HMAC_SHA256_128, AES256_CTS_HMAC_SHA384_192 } from './rfc8009.js';

/** A protocol key: RFC 4120's EncryptionKey, with its field names. */
export interface EncryptionKey {
  /** The encryption type (RFC 4120: "keytype ... actually encryption type"). */
  readonly keytype: number;
  readonly keyvalue: Uint8Array;
}

/** An encryption type's sizes, for callers that lay out messages around its ciphertexts. */
export type EncryptionTypeInfo = Omit<
  EncryptionProfile,
  'deriveUsageKey' | 'encrypt' | 'decrypt' | 'checksum' | 'stringToKey' | 'prf' | 'pbkdf2Hash' | 'pbkdf2Salt' | 'keyFromPbkdf2'
>;

/** A checksum type's sizes and the etype whose keys key it. */
export type ChecksumTypeInfo = ChecksumProfile;

// Maps, so that no number reaches a prototype member.
const ENCRYPTION = new Map<number, EncryptionProfile>(
  [AES128_CTS_HMAC_SHA1_96, AES256_CTS_HMAC_SHA1_96, AES128_CTS_HMAC_SHA256_128, AES256_CTS_HMAC_SHA384_192].map((p) => [p.etype, p]),
);

const CHECKSUMS = new Map<number, ChecksumProfile>(
  (
    [
      { cksumtype: KERB_CHECKSUM_HMAC_SHA1_96_AES128, name: 'hmac-sha1-96-aes128', etype: AES128_CTS_HMAC_SHA1_96.etype, bytes: 12 },
      { cksumtype: KERB_CHECKSUM_HMAC_SHA1_96_AES256, name: 'hmac-sha1-96-aes256', etype: AES256_CTS_HMAC_SHA1_96.etype, bytes: 12 },
      { cksumtype: KERB_CHECKSUM_HMAC_SHA256_128_AES128, name: 'hmac-sha256-128-aes128', etype: AES128_CTS_HMAC_SHA256_128.etype, bytes: 16 },
      { cksumtype: KERB_CHECKSUM_HMAC_SHA384_192_AES256, name: 'hmac-sha384-192-aes256', etype: AES256_CTS_HMAC_SHA384_192.etype, bytes: 24 },
    ] as const
  ).map((c) => [c.cksumtype, c]),
);

/**
 * The highest PBKDF2 iteration count accepted by default: MIT's limit (s2k_pbkdf2.c refuses
 * 0x1000000 and above). The count comes from the KDC's ETYPE-INFO2 before the KDC is
 * authenticated, and RFC 3962 section 4 invites a limit so that a spoofed reply cannot make the
 * client spin for hours; 2^32 (the parameters 00 00 00 00) is always refused.
 */
export const MAX_S2K_ITERATIONS = 0xffffff;

// ---------------------------------------------------------------------------------------------
// Checks at the boundary

function bytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new KerberosCryptoError('BAD_ARGUMENT', `${what} must be a Uint8Array`);
  return value;
}

function textOrBytes(value: unknown, what: string): Uint8Array {
  if (typeof value === 'string') return new TextEncoder().encode(value);
  return bytes(value, `${what} (a string is taken as UTF-8)`);
}

function keyUsage(usage: unknown): number {
  if (typeof usage !== 'number' || !Number.isInteger(usage) || usage < 0 || usage > 0xffffffff)
    throw new KerberosCryptoError('BAD_ARGUMENT', `a key usage is an integer from 0 to 2^32-1, not ${String(usage)}`);
  return usage;
}

function encryptionProfile(etype: unknown): EncryptionProfile {
  const profile = typeof etype === 'number' ? ENCRYPTION.get(etype) : undefined;
  if (profile === undefined)
    throw new KerberosCryptoError('UNKNOWN_ETYPE', `encryption type ${String(etype)} is not supported (supported: ${[...ENCRYPTION.keys()].join(', ')})`);
  return profile;
}

function checksumProfile(cksumtype: unknown): ChecksumProfile {
  const profile = typeof cksumtype === 'number' ? CHECKSUMS.get(cksumtype) : undefined;
  if (profile === undefined)
    throw new KerberosCryptoError('UNKNOWN_CKSUMTYPE', `checksum type ${String(cksumtype)} is not supported (supported: ${[...CHECKSUMS.keys()].join(', ')})`);
  return profile;
}

/** The key's profile and bytes, after checking that the bytes are as long as its etype's keys. */
function keyOf(key: unknown): { profile: EncryptionProfile; value: Uint8Array } {
  if (typeof key !== 'object' || key === null) throw new KerberosCryptoError('BAD_ARGUMENT', 'a key is an object { keytype, keyvalue }');
  const { keytype, keyvalue } = key as { keytype?: unknown; keyvalue?: unknown };
  const profile = encryptionProfile(keytype);
  const value = bytes(keyvalue, 'a key value');
  if (value.length !== profile.keyBytes) throw new KerberosCryptoError('BAD_KEY', `a ${profile.name} key is ${profile.keyBytes} bytes, not ${value.length}`);
  return { profile, value };
}

function sized(value: unknown, length: number, what: string): Uint8Array {
  const checked = bytes(value, what);
  if (checked.length !== length) throw new KerberosCryptoError('BAD_LENGTH', `${what} is ${length} bytes, not ${checked.length}`);
  return checked;
}

/** An options argument: absent is empty; anything but an object is refused. */
function optionsOf<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) throw new KerberosCryptoError('BAD_ARGUMENT', 'options are an object');
  return value;
}

/** The base key's derived key for `usage` and `suffix`, from its schedule (made there the first time). */
function usageKey(profile: EncryptionProfile, value: Uint8Array, usage: number, suffix: number): Uint8Array {
  return derivedKey(value, usage, suffix, profile.deriveUsageKey);
}

/** A copy that is a plain Uint8Array, whatever node:crypto returned (Buffers share pooled memory). */
function own(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

// ---------------------------------------------------------------------------------------------
// Types

/** The encryption types implemented, in MIT's default order of preference (init_ctx.c default_enctype_list). */
export const SUPPORTED_ETYPES: readonly KerbEtype[] = Object.freeze([
  AES256_CTS_HMAC_SHA1_96.etype,
  AES128_CTS_HMAC_SHA1_96.etype,
  AES256_CTS_HMAC_SHA384_192.etype,
  AES128_CTS_HMAC_SHA256_128.etype,
]);

export function isSupportedEtype(etype: number): etype is KerbEtype {
  return ENCRYPTION.has(etype);
}

/** An encryption type's sizes and names (UNKNOWN_ETYPE for one not implemented). */
export function encryptionTypeInfo(etype: number): EncryptionTypeInfo {
  const p = encryptionProfile(etype);
  return {
    etype: p.etype,
    name: p.name,
    keyBytes: p.keyBytes,
    seedBytes: p.seedBytes,
    blockBytes: p.blockBytes,
    macBytes: p.macBytes,
    prfBytes: p.prfBytes,
    requiredChecksum: p.requiredChecksum,
    defaultIterations: p.defaultIterations,
  };
}

/** A checksum type's size and keying etype (UNKNOWN_CKSUMTYPE for one not implemented). */
export function checksumTypeInfo(cksumtype: number): ChecksumTypeInfo {
  return { ...checksumProfile(cksumtype) };
}

/** The ciphertext length for a plaintext of `plaintextLength` bytes: confounder + plaintext + tag. */
export function encryptedLength(etype: number, plaintextLength: number): number {
  const profile = encryptionProfile(etype);
  return profile.blockBytes + plaintextLength + profile.macBytes;
}

// ---------------------------------------------------------------------------------------------
// Keys

/** random-to-key (RFC 3961 3): the identity for AES, given exactly the seed length's bytes. */
export function randomToKey(etype: number, seed: Uint8Array): EncryptionKey {
  const profile = encryptionProfile(etype);
  return { keytype: profile.etype, keyvalue: own(sized(seed, profile.seedBytes, `a ${profile.name} seed`)) };
}

/** A fresh random key (session keys, subkeys). */
export function makeRandomKey(etype: number): EncryptionKey {
  const profile = encryptionProfile(etype);
  return { keytype: profile.etype, keyvalue: own(randomBytes(profile.seedBytes)) };
}

export interface StringToKeyOptions {
  /**
   * Accept iteration counts below the etype's default (4096, or 32768 for RFC 8009). Off by
   * default, as in MIT, so that a spoofed ETYPE-INFO2 cannot weaken a client's key; the RFCs'
   * test vectors need it.
   */
  readonly allowWeakIterations?: boolean;
  /** The highest iteration count accepted (default MAX_S2K_ITERATIONS). */
  readonly maxIterations?: number;
}

/** The iteration count that string-to-key parameters give (RFC 3962 4, RFC 8009 4): four big-endian octets. */
export function s2kIterations(etype: number, params?: Uint8Array, options?: StringToKeyOptions): number {
  const profile = encryptionProfile(etype);
  const { allowWeakIterations, maxIterations = MAX_S2K_ITERATIONS } = optionsOf(options);
  if (typeof maxIterations !== 'number' || !Number.isInteger(maxIterations) || maxIterations < 1)
    throw new KerberosCryptoError('BAD_ARGUMENT', `maxIterations is a positive integer, not ${String(maxIterations)}`);
  if (params === undefined) return profile.defaultIterations;
  const raw = bytes(params, 'string-to-key parameters');
  if (raw.length !== 4) throw new KerberosCryptoError('BAD_S2K_PARAMS', `${profile.name} string-to-key parameters are 4 octets, not ${raw.length}`);
  const iterations = new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0, false);
  if (iterations === 0) throw new KerberosCryptoError('BAD_S2K_PARAMS', 'an iteration count of 00 00 00 00 means 2^32, which is refused');
  if (iterations > maxIterations) throw new KerberosCryptoError('BAD_S2K_PARAMS', `an iteration count of ${iterations} is above the limit of ${maxIterations}`);
  if (iterations < profile.defaultIterations && allowWeakIterations !== true)
    throw new KerberosCryptoError('BAD_S2K_PARAMS', `an iteration count of ${iterations} is below ${profile.name}'s default of ${profile.defaultIterations}`);
  return iterations;
}

/**
 * string-to-key (RFC 3961 3; RFC 3962 4 for 17/18, RFC 8009 4 for 19/20). `password` and `salt`
 * as strings are taken as UTF-8; `params` are the four octets of ETYPE-INFO2's s2kparams, absent
 * for the default count.
 */
export function stringToKey(
  etype: number,
  password: string | Uint8Array,
  salt: string | Uint8Array,
  params?: Uint8Array,
  options?: StringToKeyOptions,
): EncryptionKey {
  const profile = encryptionProfile(etype);
  const iterations = s2kIterations(etype, params, options);
  const key = profile.stringToKey(textOrBytes(password, 'a password'), textOrBytes(salt, 'a salt'), iterations);
  return { keytype: profile.etype, keyvalue: own(key) };
}

/** PBKDF2's inputs for one string-to-key: what stringToKeyPbkdf2 gives and stringToKeyFromPbkdf2 finishes. */
export interface StringToKeyPbkdf2 {
  /** The PRF's hash, by the name BCryptDeriveKeyPBKDF2 takes (the LSA work pool's routine). */
  readonly prf: 'SHA1' | 'SHA256' | 'SHA384';
  readonly password: Uint8Array;
  /** The salt PBKDF2 is given: RFC 8009's has the etype's name before it. */
  readonly salt: Uint8Array;
  readonly iterations: number;
  /** PBKDF2's output length: the etype's key length. */
  readonly keyLength: number;
}

const PRF_NAMES = { sha1: 'SHA1', sha256: 'SHA256', sha384: 'SHA384' } as const;

/**
 * string-to-key's costly step, as parameters: PBKDF2 (RFC 3962 4, RFC 8009 4), thousands of
 * HMACs, which a caller may run elsewhere (the KDC runs it in the LSA's work pool) and then hand
 * to stringToKeyFromPbkdf2. The same checks as stringToKey; stringToKey is the two steps in one.
 */
export function stringToKeyPbkdf2(
  etype: number,
  password: string | Uint8Array,
  salt: string | Uint8Array,
  params?: Uint8Array,
  options?: StringToKeyOptions,
): StringToKeyPbkdf2 {
  const profile = encryptionProfile(etype);
  const iterations = s2kIterations(etype, params, options);
  return {
    prf: PRF_NAMES[profile.pbkdf2Hash],
    password: own(textOrBytes(password, 'a password')),
    salt: own(profile.pbkdf2Salt(textOrBytes(salt, 'a salt'))),
    iterations,
    keyLength: profile.keyBytes,
  };
}

/** string-to-key's last step: the key from PBKDF2's output (DK with "kerberos", or RFC 8009's KDF). */
export function stringToKeyFromPbkdf2(etype: number, derived: Uint8Array): EncryptionKey {
  const profile = encryptionProfile(etype);
  const checked = sized(derived, profile.keyBytes, `PBKDF2's output for a ${profile.name} key`);
  return { keytype: profile.etype, keyvalue: own(profile.keyFromPbkdf2(checked)) };
}

/** Kc, Ke and Ki for one key usage (RFC 3961 5.3 DK, RFC 8009 5 KDF-HMAC-SHA2). */
export function usageKeys(key: EncryptionKey, usage: number): UsageKeys {
  const { profile, value } = keyOf(key);
  const checked = keyUsage(usage);
  return {
    kc: own(usageKey(profile, value, checked, KC_SUFFIX)),
    ke: own(usageKey(profile, value, checked, KE_SUFFIX)),
    ki: own(usageKey(profile, value, checked, KI_SUFFIX)),
  };
}

// ---------------------------------------------------------------------------------------------
// Encryption

export interface EncryptOptions {
  /** The confounder (one cipher block); random when absent. Only tests with published vectors give one. */
  readonly confounder?: Uint8Array;
  /** The cipher state (one block); all zero when absent, as every Kerberos and GSS message uses. */
  readonly cipherState?: Uint8Array;
}

/**
 * Confounders come from a pool of random bytes, refilled 4 KiB at a time: one call into the
 * system's generator per 256 messages instead of one each (randomBytes was 2 to 3% of the LSA's
 * time in a Kerberos handshake). Only confounders: a confounder is random, not secret (it is what
 * makes two encryptions of one plaintext differ, RFC 3961 5.3), while keys (makeRandomKey) are
 * each drawn on their own, so that no future key waits in memory.
 */
const CONFOUNDER_POOL_BYTES = 4096;
const confounderPool = new Uint8Array(CONFOUNDER_POOL_BYTES);
let confounderAt = CONFOUNDER_POOL_BYTES;

function randomConfounder(length: number): Uint8Array {
  if (confounderAt + length > CONFOUNDER_POOL_BYTES) {
    randomFillSync(confounderPool);
    confounderAt = 0;
  }
  const out = confounderPool.slice(confounderAt, confounderAt + length);
  confounderAt += length;
  return out;
}

/** encrypt (RFC 3961 3): confounder, encryption and integrity tag, under the key derived for `usage`. */
export function encrypt(key: EncryptionKey, usage: number, plaintext: Uint8Array, options?: EncryptOptions): Uint8Array {
  const { profile, value } = keyOf(key);
  const checkedUsage = keyUsage(usage);
  const data = bytes(plaintext, 'a plaintext');
  const given = optionsOf(options);
  const confounder = given.confounder === undefined ? randomConfounder(profile.blockBytes) : sized(given.confounder, profile.blockBytes, 'a confounder');
  const cipherState = given.cipherState === undefined ? new Uint8Array(profile.blockBytes) : sized(given.cipherState, profile.blockBytes, 'a cipher state');
  const ke = usageKey(profile, value, checkedUsage, KE_SUFFIX);
  const ki = usageKey(profile, value, checkedUsage, KI_SUFFIX);
  return own(profile.encrypt(ke, ki, data, confounder, cipherState));
}

/**
 * decrypt (RFC 3961 3): checks the integrity tag (in constant time) and returns the plaintext
 * without its confounder. BAD_LENGTH for a ciphertext shorter than confounder plus tag,
 * BAD_INTEGRITY for one that was altered, truncated, or made with another key or usage.
 */
export function decrypt(key: EncryptionKey, usage: number, ciphertext: Uint8Array, options?: Pick<EncryptOptions, 'cipherState'>): Uint8Array {
  const { profile, value } = keyOf(key);
  const checkedUsage = keyUsage(usage);
  const data = bytes(ciphertext, 'a ciphertext');
  const minimum = profile.blockBytes + profile.macBytes;
  if (data.length < minimum)
    throw new KerberosCryptoError('BAD_LENGTH', `a ${profile.name} ciphertext is at least ${minimum} bytes (confounder and HMAC), not ${data.length}`);
  const { cipherState: state } = optionsOf(options);
  const cipherState = state === undefined ? new Uint8Array(profile.blockBytes) : sized(state, profile.blockBytes, 'a cipher state');
  const ke = usageKey(profile, value, checkedUsage, KE_SUFFIX);
  const ki = usageKey(profile, value, checkedUsage, KI_SUFFIX);
  return own(profile.decrypt(ke, ki, data, cipherState));
}

// ---------------------------------------------------------------------------------------------
// Checksums

/** The checksum type's profile, after checking that the key is of its etype. */
function checksumKey(cksumtype: number, key: EncryptionKey): { checksum: ChecksumProfile; profile: EncryptionProfile; value: Uint8Array } {
  const checksum = checksumProfile(cksumtype);
  const { profile, value } = keyOf(key);
  if (profile.etype !== checksum.etype)
    throw new KerberosCryptoError('BAD_KEY', `${checksum.name} is keyed with ${encryptionProfile(checksum.etype).name} keys, not ${profile.name}`);
  return { checksum, profile, value };
}

/** get_mic (RFC 3961 4 and 5.4): the checksum of `data` under the key derived for `usage`. */
export function makeChecksum(cksumtype: number, key: EncryptionKey, usage: number, data: Uint8Array): Uint8Array {
  const { profile, value } = checksumKey(cksumtype, key);
  const checked = keyUsage(usage);
  const message = bytes(data, 'checksummed data');
  return own(profile.checksum(usageKey(profile, value, checked, KC_SUFFIX), message));
}

/**
 * verify_mic (RFC 3961 4): recomputes and compares in constant time. False for a checksum that
 * does not match; BAD_LENGTH for one of the wrong size (as MIT's KRB5_BAD_MSIZE).
 */
export function verifyChecksum(cksumtype: number, key: EncryptionKey, usage: number, data: Uint8Array, checksum: Uint8Array): boolean {
  const { checksum: type, profile, value } = checksumKey(cksumtype, key);
  const given = sized(checksum, type.bytes, `a ${type.name} checksum`);
  const checked = keyUsage(usage);
  const message = bytes(data, 'checksummed data');
  const expected = profile.checksum(usageKey(profile, value, checked, KC_SUFFIX), message);
  return timingSafeEqual(expected, given); // the lengths are equal here, so this cannot throw
}

/** The checksum type every implementation supports for a key of `etype` (RFC 3961 3, "required checksum mechanism"). */
export function requiredChecksumType(etype: number): KerbChecksumType {
  return encryptionProfile(etype).requiredChecksum;
}

// ---------------------------------------------------------------------------------------------
// Pseudo-random function and key combination (for GSS-API and FAST)

/** pseudo-random (RFC 3961 3, 5.3; RFC 8009 5): 16 bytes for 17/18, 32 for 19, 48 for 20. */
export function prf(key: EncryptionKey, input: Uint8Array): Uint8Array {
  const { profile, value } = keyOf(key);
  return own(profile.prf(value, bytes(input, 'a PRF input')));
}

/**
 * PRF+ (RFC 6113 5.1): pseudo-random(key, 1 | input) | pseudo-random(key, 2 | input) | ..., cut
 * to `length`; the counter is one octet, so at most 255 PRF outputs.
 */
export function prfPlus(key: EncryptionKey, input: Uint8Array, length: number): Uint8Array {
  const { profile, value } = keyOf(key);
  const data = bytes(input, 'a PRF+ input');
  if (!Number.isInteger(length) || length < 0 || length > 255 * profile.prfBytes)
    throw new KerberosCryptoError('BAD_ARGUMENT', `PRF+ of a ${profile.name} key gives 0 to ${255 * profile.prfBytes} bytes, not ${length}`);
  const out = new Uint8Array(length);
  const counted = new Uint8Array(1 + data.length);
  counted.set(data, 1);
  for (let counter = 1, at = 0; at < length; counter++, at += profile.prfBytes) {
    counted[0] = counter;
    out.set(profile.prf(value, counted).subarray(0, length - at), at);
  }
  return out;
}

/**
 * KRB-FX-CF2 (RFC 6113 5.1): random-to-key(PRF+(k1, pepper1) XOR PRF+(k2, pepper2)), a key of
 * k1's etype. Used by FAST to combine the armor key with a reply key.
 */
export function cf2(key1: EncryptionKey, key2: EncryptionKey, pepper1: Uint8Array, pepper2: Uint8Array): EncryptionKey {
  const { profile } = keyOf(key1);
  keyOf(key2);
  const a = prfPlus(key1, pepper1, profile.seedBytes);
  const b = prfPlus(key2, pepper2, profile.seedBytes);
  for (let i = 0; i < a.length; i++) a[i] = a[i]! ^ b[i]!;
  return randomToKey(profile.etype, a);
}
