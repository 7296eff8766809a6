// NTLM key and response computations: NTOWFv1/v2 (MS-NLMP 3.3.1, 3.3.2), the NTLMv2 responses and
// SessionBaseKey (3.3.2), KXKEY (3.4.5.1), SIGNKEY (3.4.5.2), SEALKEY (3.4.5.3), the MIC (3.1.5.1.2),
// the encrypted random session key (3.1.5.1.2), the channel bindings hash (3.1.5.1.2 via RFC 4121
// 4.1.1.2), and FILETIME helpers for MsvAvTimestamp and the NTLMv2 client challenge.
//
// MD5, HMAC-MD5 (md5.ts), MD4 (md4.ts) and RC4 (rc4.ts) are local: node:crypto's per-call setup costs
// more than NTLM's short inputs, and Node 20's OpenSSL 3 refuses MD4 and RC4. Not here:
// DES, hence LMOWFv1, the NTLMv1 responses (DESL) and the KXKEY of NTLMSSP_NEGOTIATE_LM_KEY and
// NTLMSSP_REQUEST_NON_NT_SESSION_KEY without extended session security.

import { dateFromTimeStamp, filetimeFromBytes, SEC_CHANNEL_BINDINGS, timeStampFromDate, type ChannelBindings } from '../../headers/index.js';
import { NTLMSSP_NEGOTIATE } from './flags.js';
import { md4 } from './md4.js';
import { hmacMd5, hmacMd5Into, md5 } from './md5.js';
import { micFieldOffset, MIC_BYTES, NtlmParseError, packNtlmV2ClientChallenge, packNtlmV2ClientChallengeAfter, utf16le, type AvPair } from './messages.js';
import { Rc4 } from './rc4.js';
import { EmuError } from '../kit/index.js';

export { utf16le } from './messages.js';
export { hmacMd5, HmacMd5Key, md5 } from './md5.js';

export type NtlmSide = 'client' | 'server';

/** Something NTLM needs that this package does not implement (the DES-based NTLMv1 keys). */
export class NtlmUnsupportedError extends EmuError<'UNSUPPORTED'> {
  override readonly name = 'NtlmUnsupportedError';
  constructor(message: string) {
    super('UNSUPPORTED', message);
  }
}

// ---------------------------------------------------------------------------------------------
// Primitives

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Equality that reads every byte whatever it finds (as timingSafeEqual, without a call into C++
 * for 16 bytes); false for different lengths, which are not secret.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

function u32le(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

// ---------------------------------------------------------------------------------------------
// One-way functions (3.3.1, 3.3.2)

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * Windows upcases names with RtlUpcaseUnicodeString, one UTF-16 unit to one; JavaScript's
 * toUpperCase can lengthen a string ("ß" to "SS"), so such characters are left as they are.
 */
function upcaseLikeWindows(text: string): string {
  if (ASCII_ONLY.test(text)) return text.toUpperCase(); // one unit to one unit, the common case
  let out = '';
  for (const ch of text) {
    const upper = ch.toUpperCase();
    out += upper.length === ch.length ? upper : ch;
  }
  return out;
}

/** NTOWFv1(Passwd) = MD4(UNICODE(Passwd)), the NT hash (3.3.1). */
export function ntowfv1(password: string): Uint8Array {
  return md4(utf16le(password));
}

/** NTOWFv2 from an NT hash: HMAC_MD5(NTOWFv1, UNICODE(ConcatenationOf(Uppercase(User), UserDom))) (3.3.2). */
export function ntowfv2FromNtHash(ntHash: Uint8Array, user: string, domain: string): Uint8Array {
  return hmacMd5(ntHash, utf16le(upcaseLikeWindows(user) + domain));
}

/** NTOWFv2(Passwd, User, UserDom) (3.3.2); ResponseKeyNT. */
export function ntowfv2(password: string, user: string, domain: string): Uint8Array {
  return ntowfv2FromNtHash(ntowfv1(password), user, domain);
}

/** LMOWFv2 is defined as NTOWFv2 (3.3.2); ResponseKeyLM. */
export function lmowfv2(password: string, user: string, domain: string): Uint8Array {
  return ntowfv2(password, user, domain);
}

/** NTLMv1 SessionBaseKey = MD4(NTOWFv1) (3.3.1). */
export function sessionBaseKeyV1(ntHash: Uint8Array): Uint8Array {
  return md4(ntHash);
}

// ---------------------------------------------------------------------------------------------
// NTLMv2 responses (3.3.2)

/** temp's Z(4) after the AV pairs (3.3.2): read, never written (packNtlmV2ClientChallenge copies it). */
const TEMP_TRAILING = new Uint8Array(4);
/** Where ChallengeFromClient sits in temp (2.2.2.7). */
const TEMP_CHALLENGE_FROM_CLIENT = 16;
const CLIENT_CHALLENGE_BYTES = 8;
const NT_PROOF_STR_BYTES = 16;

/**
 * temp = Responserversion, HiResponserversion, Z(6), Time, ClientChallenge, Z(4), ServerName, Z(4)
 * (3.3.2), where ServerName is the AV pair list the client sends (the server's TargetInfo plus what
 * the client adds: MsvAvFlags, MsvAvTimestamp, MsvAvChannelBindings, MsvAvTargetName).
 */
export function ntlmV2Temp(timestamp: Uint8Array, clientChallenge: Uint8Array, avPairs: readonly AvPair[]): Uint8Array {
  // The pairs as given (packed, not kept) and a shared Z(4): temp is one allocation.
  return packNtlmV2ClientChallenge({ timestamp, challengeFromClient: clientChallenge, avPairs: avPairs as AvPair[], trailing: TEMP_TRAILING });
}

export interface NtlmV2Responses {
  ntProofStr: Uint8Array;
  /** NTProofStr ‖ temp. */
  ntChallengeResponse: Uint8Array;
  /** LMv2: HMAC_MD5(ResponseKeyLM, ServerChallenge ‖ ClientChallenge) ‖ ClientChallenge. */
  lmChallengeResponse: Uint8Array;
  /** HMAC_MD5(ResponseKeyNT, NTProofStr); for NTLMv2 also the KeyExchangeKey. */
  sessionBaseKey: Uint8Array;
}

/**
 * computeNtlmV2Proof over the temp ntlmV2Temp would pack from the same arguments, packed in place
 * after the NTProofStr it is proved by (one array, where ntlmV2Temp and computeNtlmV2Proof make
 * two and copy one into the other): the client's leg. `temp` is a view of the response.
 */
export function computeNtlmV2ProofOfTemp(args: {
  responseKeyNT: Uint8Array;
  serverChallenge: Uint8Array;
  timestamp: Uint8Array;
  clientChallenge: Uint8Array;
  avPairs: readonly AvPair[];
}): Omit<NtlmV2Responses, 'lmChallengeResponse'> & { temp: Uint8Array } {
  const { responseKeyNT, serverChallenge } = args;
  const ntChallengeResponse = packNtlmV2ClientChallengeAfter(
    { timestamp: args.timestamp, challengeFromClient: args.clientChallenge, avPairs: args.avPairs as AvPair[], trailing: TEMP_TRAILING },
    NT_PROOF_STR_BYTES,
  );
  const temp = ntChallengeResponse.subarray(NT_PROOF_STR_BYTES);
  hmacMd5Into(responseKeyNT, [serverChallenge, temp], ntChallengeResponse, 0);
  const ntProofStr = ntChallengeResponse.subarray(0, NT_PROOF_STR_BYTES);
  return { ntProofStr, ntChallengeResponse, sessionBaseKey: hmacMd5(responseKeyNT, ntProofStr), temp };
}

/** The NT half of ComputeResponse for NTLMv2 (3.3.2): what an AUTHENTICATE that carries a MIC needs. */
export function computeNtlmV2Proof(args: {
  responseKeyNT: Uint8Array;
  serverChallenge: Uint8Array;
  temp: Uint8Array;
}): Omit<NtlmV2Responses, 'lmChallengeResponse'> {
  const { responseKeyNT, serverChallenge, temp } = args;
  const ntChallengeResponse = new Uint8Array(NT_PROOF_STR_BYTES + temp.length);
  hmacMd5Into(responseKeyNT, [serverChallenge, temp], ntChallengeResponse, 0);
  ntChallengeResponse.set(temp, NT_PROOF_STR_BYTES);
  // A view of the response's first bytes: a slice of an array this long would be a second allocation outside V8's heap.
  const ntProofStr = ntChallengeResponse.subarray(0, NT_PROOF_STR_BYTES);
  return { ntProofStr, ntChallengeResponse, sessionBaseKey: hmacMd5(responseKeyNT, ntProofStr) };
}

/** LMv2: HMAC_MD5(ResponseKeyLM, ServerChallenge ‖ ClientChallenge) ‖ ClientChallenge (3.3.2). */
export function computeLmV2Response(responseKeyLM: Uint8Array, serverChallenge: Uint8Array, clientChallenge: Uint8Array): Uint8Array {
  const out = new Uint8Array(NT_PROOF_STR_BYTES + clientChallenge.length);
  hmacMd5Into(responseKeyLM, [serverChallenge, clientChallenge], out, 0);
  out.set(clientChallenge, NT_PROOF_STR_BYTES);
  return out;
}

/**
 * ComputeResponse for NTLMv2 (3.3.2). The ClientChallenge used for LMv2 is the one inside temp.
 * (When the server's TargetInfo has MsvAvTimestamp the client sends Z(24) as its LM response
 * instead, 3.1.5.1.2, and needs only computeNtlmV2Proof; that choice belongs to the caller.)
 */
export function computeNtlmV2Response(args: {
  responseKeyNT: Uint8Array;
  responseKeyLM: Uint8Array;
  serverChallenge: Uint8Array;
  temp: Uint8Array;
}): NtlmV2Responses {
  const { responseKeyLM, serverChallenge, temp } = args;
  const clientChallenge = temp.subarray(TEMP_CHALLENGE_FROM_CLIENT, TEMP_CHALLENGE_FROM_CLIENT + CLIENT_CHALLENGE_BYTES);
  return { ...computeNtlmV2Proof(args), lmChallengeResponse: computeLmV2Response(responseKeyLM, serverChallenge, clientChallenge) };
}

/**
 * The server's check of an NTLMv2 NtChallengeResponse (3.3.2 as used by 3.2.5.1.2): recomputes
 * NTProofStr over the temp the client sent. sessionBaseKey is set only when the proof matches.
 */
export function verifyNtlmV2Response(
  responseKeyNT: Uint8Array,
  serverChallenge: Uint8Array,
  ntChallengeResponse: Uint8Array,
): { ok: boolean; sessionBaseKey: Uint8Array | undefined } {
  if (ntChallengeResponse.length <= NT_PROOF_STR_BYTES) return { ok: false, sessionBaseKey: undefined };
  const received = ntChallengeResponse.subarray(0, NT_PROOF_STR_BYTES);
  const temp = ntChallengeResponse.subarray(NT_PROOF_STR_BYTES);
  const ntProofStr = hmacMd5(responseKeyNT, serverChallenge, temp);
  const ok = bytesEqual(received, ntProofStr);
  return { ok, sessionBaseKey: ok ? hmacMd5(responseKeyNT, ntProofStr) : undefined };
}

/** The server's check of an LMv2 response (24 bytes: 16-byte proof, 8-byte client challenge). */
export function verifyLmV2Response(responseKeyLM: Uint8Array, serverChallenge: Uint8Array, lmChallengeResponse: Uint8Array): boolean {
  if (lmChallengeResponse.length !== 24) return false;
  const clientChallenge = lmChallengeResponse.subarray(16, 24);
  return bytesEqual(lmChallengeResponse.subarray(0, 16), hmacMd5(responseKeyLM, serverChallenge, clientChallenge));
}

// ---------------------------------------------------------------------------------------------
// Key exchange (3.4.5.1) and the random session key (3.1.5.1.2, 3.2.5.1.2)

/** KXKEY for NTLMv2: the SessionBaseKey itself (3.4.5.1). */
export function kxkeyV2(sessionBaseKey: Uint8Array): Uint8Array {
  return new Uint8Array(sessionBaseKey);
}

/**
 * KXKEY for NTLMv1 (3.4.5.1). With extended session security:
 * HMAC_MD5(SessionBaseKey, ServerChallenge ‖ LmChallengeResponse[0..7]); otherwise the
 * SessionBaseKey, unless LM_KEY or REQUEST_NON_NT_SESSION_KEY ask for the DES-based keys, which
 * are not implemented.
 */
export function kxkeyV1(args: { flags: number; sessionBaseKey: Uint8Array; serverChallenge: Uint8Array; lmChallengeResponse: Uint8Array }): Uint8Array {
  const { flags, sessionBaseKey, serverChallenge, lmChallengeResponse } = args;
  if ((flags & NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) !== 0) {
    return hmacMd5(sessionBaseKey, serverChallenge, lmChallengeResponse.subarray(0, 8));
  }
  if ((flags & (NTLMSSP_NEGOTIATE.LM_KEY | NTLMSSP_NEGOTIATE.REQUEST_NON_NT_SESSION_KEY)) !== 0) {
    throw new NtlmUnsupportedError('KXKEY with NTLMSSP_NEGOTIATE_LM_KEY or NON_NT_SESSION_KEY needs DES/LMOWFv1');
  }
  return new Uint8Array(sessionBaseKey);
}

/**
 * EncryptedRandomSessionKey = RC4K(KeyExchangeKey, ExportedSessionKey) when KEY_EXCH is negotiated
 * (3.1.5.1.2). RC4 is its own inverse, so the server decrypts with the same call.
 */
export function encryptRandomSessionKey(keyExchangeKey: Uint8Array, randomSessionKey: Uint8Array): Uint8Array {
  return new Rc4(keyExchangeKey).process(randomSessionKey);
}

export const decryptRandomSessionKey = encryptRandomSessionKey;

// ---------------------------------------------------------------------------------------------
// SIGNKEY and SEALKEY (3.4.5.2, 3.4.5.3). The magic constants include their terminating NUL.

/** The constants as bytes, built once (each is hashed with a session key per direction, per context). */
const MAGIC = {
  clientSign: ascii('session key to client-to-server signing key magic constant\0'),
  serverSign: ascii('session key to server-to-client signing key magic constant\0'),
  clientSeal: ascii('session key to client-to-server sealing key magic constant\0'),
  serverSeal: ascii('session key to server-to-client sealing key magic constant\0'),
} as const;

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

/**
 * SIGNKEY with extended session security: MD5(ExportedSessionKey ‖ magic) for the side that
 * signs with it (the client's key signs client-to-server messages). Without extended session
 * security there is no signing key (3.4.5.2).
 */
export function signKey(exportedSessionKey: Uint8Array, side: NtlmSide): Uint8Array {
  return md5(exportedSessionKey, side === 'client' ? MAGIC.clientSign : MAGIC.serverSign);
}

/** The 56-bit and 40-bit non-ESS sealing keys' fixed tails (3.4.5.3). */
const SEALKEY_56_SUFFIX = Uint8Array.of(0xa0);
const SEALKEY_40_SUFFIX = Uint8Array.of(0xe5, 0x38, 0xb0);

/** SEALKEY(NegFlg, ExportedSessionKey, Mode) (3.4.5.3). */
export function sealKey(flags: number, exportedSessionKey: Uint8Array, side: NtlmSide): Uint8Array {
  const has = (bit: number): boolean => (flags & bit) !== 0;
  if (has(NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY)) {
    const keyBytes = has(NTLMSSP_NEGOTIATE[128]) ? 16 : has(NTLMSSP_NEGOTIATE[56]) ? 7 : 5;
    const magic = side === 'client' ? MAGIC.clientSeal : MAGIC.serverSeal;
    // (A subarray of a 16-byte array costs more than the hash of it: only the weaker keys take one.)
    return md5(keyBytes === exportedSessionKey.length ? exportedSessionKey : exportedSessionKey.subarray(0, keyBytes), magic);
  }
  if (has(NTLMSSP_NEGOTIATE.LM_KEY) || has(NTLMSSP_NEGOTIATE.DATAGRAM)) {
    return has(NTLMSSP_NEGOTIATE[56])
      ? concat(exportedSessionKey.subarray(0, 7), SEALKEY_56_SUFFIX)
      : concat(exportedSessionKey.subarray(0, 5), SEALKEY_40_SUFFIX);
  }
  return new Uint8Array(exportedSessionKey);
}

// ---------------------------------------------------------------------------------------------
// MIC (3.1.5.1.2, 3.2.5.1.2)

/**
 * MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE_MESSAGE ‖ CHALLENGE_MESSAGE ‖ AUTHENTICATE_MESSAGE),
 * the AUTHENTICATE_MESSAGE taken with its MIC field zeroed (whatever it holds now). Throws
 * NtlmParseError NO_MIC when the AUTHENTICATE_MESSAGE has no MIC field. `micAt`: the MIC field's
 * offset when the caller has already read it (the message is then not parsed again).
 */
export function computeMic(
  exportedSessionKey: Uint8Array,
  negotiate: Uint8Array,
  challenge: Uint8Array,
  authenticate: Uint8Array,
  micAt: number = micFieldOffset(authenticate),
): Uint8Array {
  // The AUTHENTICATE_MESSAGE as three pieces around a zero MIC, rather than a zeroed copy.
  const at = micAt;
  const pieces = [negotiate, challenge, authenticate.subarray(0, at), ZERO_MIC, authenticate.subarray(at + MIC_BYTES)];
  return hmacMd5(exportedSessionKey, ...pieces);
}

const ZERO_MIC = new Uint8Array(MIC_BYTES);

/** Constant-time check of a received MIC. */
export function verifyMic(exportedSessionKey: Uint8Array, negotiate: Uint8Array, challenge: Uint8Array, authenticate: Uint8Array, mic: Uint8Array): boolean {
  return bytesEqual(mic, computeMic(exportedSessionKey, negotiate, challenge, authenticate));
}

// ---------------------------------------------------------------------------------------------
// Channel bindings (3.1.5.1.2: MsvAvChannelBindings = MD5 of gss_channel_bindings_struct, RFC 4121
// 4.1.1.2 / RFC 2744 3.11)

// SEC_CHANNEL_BINDINGS's layout and its packing are the headers' (an sspi.h structure that every
// application and package shares); reading it is here, where a malformed one is an NtlmParseError.
export { packSecChannelBindings, type ChannelBindings } from '../../headers/index.js';

/** Reads a SEC_CHANNEL_BINDINGS buffer, checking each (length, offset) against it. */
export function unpackSecChannelBindings(bytes: Uint8Array): ChannelBindings {
  const C = SEC_CHANNEL_BINDINGS;
  if (bytes.length < C.HEADER_BYTES) {
    throw new NtlmParseError('BAD_CHANNEL_BINDINGS', bytes.length, `SEC_CHANNEL_BINDINGS is ${bytes.length} bytes; its header needs ${C.HEADER_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const buffer = (name: string, lengthAt: number, offsetAt: number): Uint8Array => {
    const length = view.getUint32(lengthAt, true);
    const offset = view.getUint32(offsetAt, true);
    if (length === 0) return new Uint8Array(0);
    if (offset < C.HEADER_BYTES || offset + length > bytes.length) {
      throw new NtlmParseError(
        'BAD_CHANNEL_BINDINGS',
        lengthAt,
        `SEC_CHANNEL_BINDINGS ${name} (offset ${offset}, length ${length}) is outside the ${bytes.length}-byte buffer's data`,
      );
    }
    return bytes.slice(offset, offset + length);
  };
  return {
    initiatorAddrType: view.getUint32(C.INITIATOR_ADDR_TYPE, true),
    initiatorAddress: buffer('initiator address', C.INITIATOR_LENGTH, C.INITIATOR_OFFSET),
    acceptorAddrType: view.getUint32(C.ACCEPTOR_ADDR_TYPE, true),
    acceptorAddress: buffer('acceptor address', C.ACCEPTOR_LENGTH, C.ACCEPTOR_OFFSET),
    applicationData: buffer('application data', C.APPLICATION_DATA_LENGTH, C.APPLICATION_DATA_OFFSET),
  };
}

/**
 * MD5 over initiator_addrtype, initiator_address.length, initiator_address, acceptor_addrtype,
 * acceptor_address.length, acceptor_address, application_data.length, application_data, every
 * integer 4 bytes little-endian (RFC 4121 4.1.1.2).
 */
export function gssChannelBindingsHash(bindings: ChannelBindings): Uint8Array {
  return md5(
    u32le(bindings.initiatorAddrType),
    u32le(bindings.initiatorAddress.length),
    bindings.initiatorAddress,
    u32le(bindings.acceptorAddrType),
    u32le(bindings.acceptorAddress.length),
    bindings.acceptorAddress,
    u32le(bindings.applicationData.length),
    bindings.applicationData,
  );
}

/** The MsvAvChannelBindings value for a SEC_CHANNEL_BINDINGS buffer (SECBUFFER_CHANNEL_BINDINGS). */
export function channelBindingsHash(secChannelBindings: Uint8Array): Uint8Array {
  return gssChannelBindingsHash(unpackSecChannelBindings(secChannelBindings));
}

/**
 * What a context keeps of an application's SECBUFFER_CHANNEL_BINDINGS: its 16-byte hash, or why
 * it is malformed; never the buffer itself, which may be large and belongs to the call.
 */
export type BindingsDigest = { readonly hash: Uint8Array } | { readonly malformed: string };

export function digestBindings(secChannelBindings: Uint8Array): BindingsDigest {
  try {
    return { hash: channelBindingsHash(secChannelBindings) };
  } catch (error) {
    if (error instanceof NtlmParseError) return { malformed: error.message };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// FILETIME as NTLM carries it (MsvAvTimestamp, the NTLMv2 client challenge): 8 bytes. A TimeStamp
// is a FILETIME: the headers convert BigInt ticks; the handshake's own conversions are written here
// in double arithmetic to the same values.

export function filetimeFromDate(date: Date): Uint8Array {
  const out = new Uint8Array(FILETIME_BYTES);
  writeFiletime(out, 0, date);
  return out;
}

const FILETIME_BYTES = 8;
/** Milliseconds from 1601-01-01 to 1970-01-01, and FILETIME ticks (100 ns) per millisecond. */
const UNIX_EPOCH_MS = 11_644_473_600_000;
const TICKS_PER_MS = 10_000;
const TWO_32 = 2 ** 32;
const TWO_21 = 2 ** 21;
const TWO_11 = 2 ** 11;

/**
 * The FILETIME of a Date as two 32-bit halves, in exact double arithmetic rather than BigInt
 * (each handshake converts its clock on both sides): the same value as the headers'
 * timeStampFromDate, and the same RangeErrors.
 */
function filetimeHalves(date: Date): { low: number; high: number } {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('FILETIME of an invalid Date');
  const t = ms + UNIX_EPOCH_MS; // below 2^53, exact
  if (t < 0) throw new RangeError('FILETIME cannot hold dates before 1601');
  // ticks = t * 10^4 = (th * 2^21 + tl) * 10^4, with th * 10^4 below 2^46 and tl * 10^4 below 2^35.
  const th = Math.floor(t / TWO_21);
  const a = th * TICKS_PER_MS;
  const b = (t - th * TWO_21) * TICKS_PER_MS;
  // a * 2^21 = ah * 2^32 + al * 2^21.
  const ah = Math.floor(a / TWO_11);
  const low = (a - ah * TWO_11) * TWO_21 + b;
  const carry = Math.floor(low / TWO_32);
  // A Date past FILETIME's range (year 30828) wraps, as a 64-bit store of the BigInt does.
  return { low: low - carry * TWO_32, high: (ah + carry) % TWO_32 };
}

/** Writes `date` as an 8-byte little-endian FILETIME at out[at..at + 8). */
export function writeFiletime(out: Uint8Array, at: number, date: Date): void {
  const { low, high } = filetimeHalves(date);
  putU32(out, at, low);
  putU32(out, at + 4, high);
}

/**
 * |the FILETIME at bytes[at..at + 8) - `date`'s|, in seconds. Exact within 2^53 ticks (28 years)
 * of each other; beyond that (a timestamp nobody's clock is near) through BigInt.
 */
export function filetimeDistanceSeconds(bytes: Uint8Array, at: number, date: Date): number {
  const { low, high } = filetimeHalves(date);
  const highs = getU32(bytes, at + 4) - high;
  if (Math.abs(highs) >= TWO_21) {
    const difference = filetimeFromBytes(bytes.subarray(at, at + FILETIME_BYTES)) - timeStampFromDate(date);
    return Number(difference < 0n ? -difference : difference) / 10_000_000;
  }
  return Math.abs(highs * TWO_32 + (getU32(bytes, at) - low)) / 10_000_000;
}

function putU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value;
  bytes[at + 1] = value >>> 8;
  bytes[at + 2] = value >>> 16;
  bytes[at + 3] = value >>> 24;
}

function getU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** The current time as an 8-byte FILETIME. */
export function filetimeNow(): Uint8Array {
  return filetimeFromDate(new Date());
}

/** The FILETIME's ticks as an unsigned 64-bit integer. */
export function filetimeTicks(filetime: Uint8Array): bigint {
  return filetimeFromBytes(filetime);
}

/** The Date of a FILETIME, to the millisecond. */
export function filetimeToDate(filetime: Uint8Array): Date {
  return dateFromTimeStamp(filetimeFromBytes(filetime));
}
