// The Netlogon secure channel's cryptography, MS-NRPC's AES variant (the one Windows requires
// since the CVE-2020-1472 "Zerologon" enforcement):
//
// - the session key (3.1.4.3.1): HMAC-SHA256 keyed with the machine account's NT hash (its
//   password's MD4, MS-NRPC's "OWF of the shared secret") over ClientChallenge and ServerChallenge,
//   cut to 16 bytes;
// - the Netlogon credential (3.1.4.4.1): AES-128 in CFB8 mode with a zero IV over 8 bytes: each
//   side proves it holds the session key (and so the secret) by the credential of its own
//   challenge, and the other checks it;
// - the checks the Zerologon fix added (3.1.4.1, 3.5.4.4.2): a ClientChallenge whose first five
//   bytes are all one value is refused (it makes a zero credential likely under CFB8 with a zero
//   IV), and so is a ClientCredential equal to the ClientChallenge;
// - the per-message protection of the sealed calls (3.3.4.2.1 and 3.3.4.2.2, the
//   NL_AUTH_SHA2_SIGNATURE token of 2.2.1.3.3): HMAC-SHA256 of the token's first 8 bytes, the
//   confounder and the message, cut to 8 bytes (the Checksum); the confounder and message sealed
//   with AES-128-CFB8 under the session key XOR 0xF0 with the sequence number twice as IV; the
//   sequence number sealed with AES-128-CFB8 under the session key with the Checksum twice as IV.
//   The client's sequence numbers carry 0x80 in their fifth byte, the server's do not, so that a
//   message cannot be reflected back to its sender.
//
// The values agree with impacket's dcerpc.v5.nrpc (ComputeSessionKeyAES,
// ComputeNetlogonCredentialAES, SEAL, UNSEAL), cross-checked in the tests.

import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { ntowfv1 } from '../crypto.js';

export const CHALLENGE_BYTES = 8;
export const SESSION_KEY_BYTES = 16;
export const CREDENTIAL_BYTES = 8;
/** NL_AUTH_SHA2_SIGNATURE with a confounder (2.2.1.3.3): 8 header bytes, SequenceNumber 8, Checksum 32, Confounder 8. */
export const SIGNATURE_BYTES = 56;

/** NL_AUTH_SHA2_SIGNATURE's SignatureAlgorithm (HMAC-SHA256) and SealAlgorithm (AES-128), little-endian as on the wire. */
const NL_SIGNATURE_HMAC_SHA256 = 0x0013;
const NL_SEAL_AES128 = 0x001a;

const ZERO_IV = new Uint8Array(16);

/** The machine account's shared secret as MS-NRPC uses it: the NT hash of its password. */
export function sharedSecretOf(machinePassword: string): Uint8Array {
  return ntowfv1(machinePassword);
}

/** ComputeSessionKey for AES (3.1.4.3.1): HMAC-SHA256(NT hash, ClientChallenge || ServerChallenge), the first 16 bytes. */
export function computeSessionKey(sharedSecret: Uint8Array, clientChallenge: Uint8Array, serverChallenge: Uint8Array): Uint8Array {
  const hmac = createHmac('sha256', sharedSecret);
  hmac.update(clientChallenge);
  hmac.update(serverChallenge);
  return new Uint8Array(hmac.digest().subarray(0, SESSION_KEY_BYTES));
}

function cfb8(key: Uint8Array, iv: Uint8Array, data: Uint8Array, decrypt = false): Uint8Array {
  const cipher = decrypt ? createDecipheriv('aes-128-cfb8', key, iv) : createCipheriv('aes-128-cfb8', key, iv);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

/** ComputeNetlogonCredential for AES (3.1.4.4.1): AES-128-CFB8 with a zero IV over the 8 input bytes. */
export function computeCredential(input: Uint8Array, sessionKey: Uint8Array): Uint8Array {
  return cfb8(sessionKey, ZERO_IV, input);
}

/**
 * Whether a ClientChallenge may be used: not when its first five bytes are all one value (3.1.4.1,
 * after CVE-2020-1472). Such a challenge is the attacker's tool: with CFB8 and a zero IV, an
 * all-zero challenge has an all-zero credential for one key in 256.
 */
export function acceptableClientChallenge(challenge: Uint8Array): boolean {
  if (challenge.length !== CHALLENGE_BYTES) return false;
  for (let i = 1; i < 5; i++) if (challenge[i] !== challenge[0]) return true;
  return false;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Who sends a sealed message: the client's sequence numbers are marked (3.3.4.2.1 step 5). */
export type NetlogonSide = 'client' | 'server';

/** The 8-byte CopySeqNumber of a sequence number (3.3.4.2.1): both halves big-endian, 0x80 in byte 4 for the client. */
export function sequenceBytes(sequence: bigint, side: NetlogonSide): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeUInt32BE(Number(sequence & 0xffffffffn), 0);
  out.writeUInt32BE((Number((sequence >> 32n) & 0x7fffffffn) | (side === 'client' ? 0x80000000 : 0)) >>> 0, 4);
  return new Uint8Array(out);
}

function signatureHeader(): Uint8Array {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(NL_SIGNATURE_HMAC_SHA256, 0);
  header.writeUInt16LE(NL_SEAL_AES128, 2);
  header.writeUInt16LE(0xffff, 4); // Pad
  header.writeUInt16LE(0, 6); // Flags
  return new Uint8Array(header);
}

function checksumOf(sessionKey: Uint8Array, header: Uint8Array, confounder: Uint8Array, message: Uint8Array): Uint8Array {
  const hmac = createHmac('sha256', sessionKey);
  hmac.update(header);
  hmac.update(confounder);
  hmac.update(message);
  return new Uint8Array(hmac.digest().subarray(0, 8));
}

function sealingKey(sessionKey: Uint8Array): Uint8Array {
  return sessionKey.map((b) => b ^ 0xf0);
}

/**
 * A message sealed as a Netlogon signature token with confidentiality (3.3.4.2.1, AES): the
 * NL_AUTH_SHA2_SIGNATURE (56 bytes) and the encrypted message after it.
 */
export function sealMessage(sessionKey: Uint8Array, sequence: bigint, side: NetlogonSide, message: Uint8Array, confounder: Uint8Array): Uint8Array {
  if (confounder.length !== 8) throw new RangeError('a Netlogon confounder is 8 bytes');
  const header = signatureHeader();
  const seq = sequenceBytes(sequence, side);
  const checksum = checksumOf(sessionKey, header, confounder, message);
  const sealed = cfb8(sealingKey(sessionKey), concat(seq, seq), concat(confounder, message));
  const out = new Uint8Array(SIGNATURE_BYTES + message.length);
  out.set(header, 0);
  out.set(cfb8(sessionKey, concat(checksum, checksum), seq), 8);
  out.set(checksum, 16); // Checksum: its first 8 bytes; the other 24 stay zero
  out.set(sealed.subarray(0, 8), 48); // the Confounder, sealed
  out.set(sealed.subarray(8), SIGNATURE_BYTES);
  return out;
}

export type Unsealed = { ok: true; message: Uint8Array } | { ok: false; reason: string };

/**
 * Opens a sealed message (3.3.4.2.2): the algorithms must be HMAC-SHA256 and AES-128, the sequence
 * number the one expected from `side`, and the Checksum must verify. Anything else is refused with
 * its reason; the caller drops the channel (a forged, replayed or reordered message).
 */
export function unsealMessage(sessionKey: Uint8Array, expected: bigint, side: NetlogonSide, sealed: Uint8Array): Unsealed {
  if (sealed.length < SIGNATURE_BYTES) return { ok: false, reason: `a sealed message of ${sealed.length} bytes is shorter than its signature` };
  const header = sealed.subarray(0, 8);
  if (!equalBytes(header, signatureHeader())) return { ok: false, reason: 'the signature does not name HMAC-SHA256 and AES-128' };
  const checksum = sealed.subarray(16, 24);
  if (sealed.subarray(24, 48).some((b) => b !== 0)) return { ok: false, reason: "the Checksum's last 24 bytes are not zero" };
  const seq = cfb8(sessionKey, concat(checksum, checksum), sealed.subarray(8, 16), true);
  if (!equalBytes(seq, sequenceBytes(expected, side))) return { ok: false, reason: `not the sequence number expected (${expected} from the ${side})` };
  const opened = cfb8(sealingKey(sessionKey), concat(seq, seq), concat(sealed.subarray(48, SIGNATURE_BYTES), sealed.subarray(SIGNATURE_BYTES)), true);
  const confounder = opened.subarray(0, 8);
  const message = opened.subarray(8);
  if (!equalBytes(checksumOf(sessionKey, header, confounder, message), checksum)) return { ok: false, reason: 'the Checksum does not verify' };
  return { ok: true, message: new Uint8Array(message) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
