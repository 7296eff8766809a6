// The NTLM initiator's two legs as functions over bytes, with no LSA in them: the NEGOTIATE_MESSAGE
// (MS-NLMP 3.1.5.1.1) and the AUTHENTICATE_MESSAGE that answers a CHALLENGE_MESSAGE (3.1.5.1.2),
// NTLMv2 only. The LSA half (lsa.ts) supplies the credential's NT hash, the clock, the channel
// bindings and the randoms, and turns the outcome into an SSPI result.

import { ISC_REQ, SEC_E_INVALID_TOKEN } from '../../headers/index.js';
import {
  computeLmV2Response,
  computeMic,
  computeNtlmV2ProofOfTemp,
  encryptRandomSessionKey,
  filetimeFromDate,
  kxkeyV2,
  ntowfv2FromNtHash,
  utf16le,
} from './crypto.js';
import { MSV_AV, MSV_AV_FLAGS, NTLMSSP_NEGOTIATE } from './flags.js';
import { keyExchanged, NTLM_VERSION } from './info.js';
import { AUTHENTICATE_MIC_OFFSET, packAuthenticate, packNegotiate, unpackChallengeToAnswer, findAvPair, type AvPair, type ChallengeMessage } from './messages.js';
import { failure, parseFailure, type Failure } from './outcome.js';
import { randomFromPool } from './random.js';

const N = NTLMSSP_NEGOTIATE;

/** What the client keeps between its NEGOTIATE and the server's CHALLENGE. */
export interface NegotiateState {
  /** The NEGOTIATE_MESSAGE as sent (the MIC covers it). */
  bytes: Uint8Array;
  flags: number;
}

/** Always asked for: both charsets, the target's name, NTLM, extended session security, 128- and 56-bit keys, the Version. */
const BASE_FLAGS = N.UNICODE | N.OEM | N.REQUEST_TARGET | N.NTLM | N.ALWAYS_SIGN | N.EXTENDED_SESSIONSECURITY | N.VERSION | N[128] | N[56];

/**
 * NEGOTIATE NegotiateFlags for ISC_REQ_* bits: SIGN for integrity, replay or sequence detection,
 * SEAL (with SIGN) for confidentiality, and KEY_EXCH whenever either is asked for, so the session
 * keys come from a fresh random key rather than from the password alone.
 */
export function negotiateFlags(contextReq: number): number {
  let flags = BASE_FLAGS;
  if (contextReq & (ISC_REQ.INTEGRITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT)) flags |= N.SIGN;
  if (contextReq & ISC_REQ.CONFIDENTIALITY) flags |= N.SEAL | N.SIGN;
  if (flags & (N.SIGN | N.SEAL)) flags |= N.KEY_EXCH;
  return flags >>> 0;
}

/** Leg 1: the 40-byte NEGOTIATE_MESSAGE Windows sends (no domain or workstation, with Version). */
export function negotiateFor(contextReq: number): NegotiateState {
  const flags = negotiateFlags(contextReq);
  return { bytes: packNegotiate({ flags, domainName: '', workstation: '', version: NTLM_VERSION }), flags };
}

/** Who the client is: the names it authenticates as and its NT hash (the LSA's, never the application's). */
export interface ClientIdentity {
  user: string;
  domain: string;
  ntHash: Uint8Array;
  workstation: string;
}

export interface AuthenticateInput {
  negotiate: NegotiateState;
  challenge: Uint8Array;
  identity: ClientIdentity;
  /** The target the application named (an SPN), sent as MsvAvTargetName. */
  targetName: string | null;
  /** MD5 of the client's gss_channel_bindings_struct, when the application gave bindings. */
  channelBindingsHash: Uint8Array | undefined;
  now: Date;
  /** Where ClientChallenge and the random session key come from (tests fix them). */
  random?: (length: number) => Uint8Array;
}

export interface Authenticated {
  ok: true;
  bytes: Uint8Array;
  flags: number;
  exportedSessionKey: Uint8Array;
  /** The server's NetBIOS domain (the CHALLENGE's TargetName), for a credential that named none. */
  serverDomain: string;
  /** The AUTHENTICATE_MESSAGE carries a MIC: under SPNEGO the mechListMIC is then required (mech-list-mic.ts). */
  mic: boolean;
}

// Values the AUTHENTICATE is packed from (packAuthenticate copies them): read, never written.
const ZERO_CHANNEL_BINDINGS = new Uint8Array(16);
/** Z(24), the LM response beside a MIC (3.1.5.1.2). */
const ZERO_LM_RESPONSE = new Uint8Array(24);
/** The MIC field as packed: zeros, which is what the MIC is computed over, then written in place. */
const ZERO_MIC = new Uint8Array(16);
const NO_BYTES: Uint8Array = new Uint8Array(0);
/** Where ChallengeFromClient sits in temp (2.2.2.7). */
const TEMP_CLIENT_CHALLENGE = 16;

/**
 * Leg 3: the AUTHENTICATE_MESSAGE (3.1.5.1.2), NTLMv2 (3.3.2). When the server's TargetInfo has
 * MsvAvTimestamp the client uses that time, sends Z(24) as its LM response and adds a MIC
 * announced by MsvAvFlags, as modern Windows does; otherwise it uses its own clock and sends LMv2.
 * MsvAvChannelBindings is always sent (zeros without bindings), MsvAvTargetName when there is a
 * target. With KEY_EXCH (and SIGN or SEAL) the exported session key is random, sent RC4-encrypted
 * with KXKEY.
 */
export function authenticateFor(input: AuthenticateInput): Authenticated | Failure {
  let challenge: ChallengeMessage;
  try {
    // Views into the CHALLENGE: what the AUTHENTICATE needs of it is copied into the AUTHENTICATE.
    challenge = unpackChallengeToAnswer(input.challenge);
  } catch (error) {
    return parseFailure('CHALLENGE_MESSAGE', error);
  }
  const random = input.random ?? randomFromPool;
  const { identity } = input;
  const flags = authenticateFlags(input.negotiate.flags, challenge.flags);

  const serverPairs = challenge.targetInfo ?? [];
  const serverTime = findAvPair(serverPairs, MSV_AV.MsvAvTimestamp);
  const withMicField = serverTime !== undefined;
  const responseKeyNT = ntowfv2FromNtHash(identity.ntHash, identity.user, identity.domain);
  let responses: ReturnType<typeof computeNtlmV2ProofOfTemp>;
  try {
    // temp (3.3.2) packed into the NtChallengeResponse after its NTProofStr.
    responses = computeNtlmV2ProofOfTemp({
      responseKeyNT,
      serverChallenge: challenge.serverChallenge,
      timestamp: serverTime ?? filetimeFromDate(input.now),
      clientChallenge: random(8),
      avPairs: clientAvPairs(serverPairs, withMicField, input.channelBindingsHash, input.targetName),
    });
  } catch (error) {
    // A target name longer than an AV_PAIR can hold (AvLen is 16 bits): as for names, it cannot be sent.
    if (error instanceof RangeError) return failure(SEC_E_INVALID_TOKEN, `cannot send the target name: ${error.message}`);
    throw error;
  }
  const { temp } = responses;

  const keyExchangeKey = kxkeyV2(responses.sessionBaseKey);
  let exportedSessionKey = keyExchangeKey;
  let encryptedRandomSessionKey = NO_BYTES;
  if (keyExchanged(flags)) {
    exportedSessionKey = random(16);
    encryptedRandomSessionKey = encryptRandomSessionKey(keyExchangeKey, exportedSessionKey);
  }

  let bytes: Uint8Array;
  try {
    bytes = packAuthenticate({
      flags,
      // LMv2 (ResponseKeyLM is NTOWFv2 too) only when it is sent; the ClientChallenge is temp's.
      lmChallengeResponse: withMicField
        ? ZERO_LM_RESPONSE
        : computeLmV2Response(responseKeyNT, challenge.serverChallenge, temp.subarray(TEMP_CLIENT_CHALLENGE, TEMP_CLIENT_CHALLENGE + 8)),
      ntChallengeResponse: responses.ntChallengeResponse,
      domainName: identity.domain,
      userName: identity.user,
      workstation: identity.workstation,
      encryptedRandomSessionKey,
      version: flags & N.VERSION ? NTLM_VERSION : undefined,
      mic: withMicField ? ZERO_MIC : undefined,
    });
  } catch (error) {
    // The server chose OEM and a name has a character OEM (here Latin-1) cannot carry.
    if (error instanceof RangeError) return failure(SEC_E_INVALID_TOKEN, `cannot send the names: ${error.message}`);
    throw error;
  }
  // The MIC field was packed as zeros, which is what the MIC is computed over; it is then written in place.
  if (withMicField) bytes.set(computeMic(exportedSessionKey, input.negotiate.bytes, input.challenge, bytes, AUTHENTICATE_MIC_OFFSET), AUTHENTICATE_MIC_OFFSET);
  return { ok: true, bytes, flags, exportedSessionKey, serverDomain: challenge.targetName, mic: withMicField };
}

/**
 * The AUTHENTICATE's NegotiateFlags: what both sides offered, in the charset the server chose
 * (UNICODE when it set it, else OEM), with TARGET_INFO when the server sent target info.
 */
export function authenticateFlags(negotiateFlags: number, challengeFlags: number): number {
  let flags = challengeFlags & (negotiateFlags | N.TARGET_INFO) & ~(N.UNICODE | N.OEM);
  flags |= challengeFlags & N.UNICODE ? N.UNICODE : N.OEM;
  return (flags | N.NTLM) >>> 0;
}

/** The pairs the client sets itself, replacing any the server sent. */
const CLIENT_ADDED_PAIRS: ReadonlySet<number> = new Set<number>([MSV_AV.MsvAvFlags, MSV_AV.MsvAvChannelBindings, MSV_AV.MsvAvTargetName]);

/**
 * The AV pairs of the client's NTLMv2_CLIENT_CHALLENGE: the server's TargetInfo, then what the
 * client adds, in the order Windows uses (test-vectors.md 5.1): MsvAvFlags, MsvAvChannelBindings,
 * MsvAvTargetName.
 */
function clientAvPairs(serverPairs: readonly AvPair[], micPresent: boolean, bindingsHash: Uint8Array | undefined, targetName: string | null): AvPair[] {
  const pairs: AvPair[] = [];
  for (const pair of serverPairs) if (!CLIENT_ADDED_PAIRS.has(pair.id)) pairs.push(pair);
  const serverFlags = findAvPair(serverPairs, MSV_AV.MsvAvFlags);
  const avFlags =
    (serverFlags === undefined ? 0 : serverFlags[0]! | (serverFlags[1]! << 8) | (serverFlags[2]! << 16) | (serverFlags[3]! << 24)) |
    (micPresent ? MSV_AV_FLAGS.MIC_PRESENT : 0);
  if (avFlags !== 0) {
    const value = Uint8Array.of(avFlags, avFlags >>> 8, avFlags >>> 16, avFlags >>> 24);
    pairs.push({ id: MSV_AV.MsvAvFlags, value });
  }
  pairs.push({ id: MSV_AV.MsvAvChannelBindings, value: bindingsHash ?? ZERO_CHANNEL_BINDINGS });
  if (targetName !== null && targetName !== '') pairs.push({ id: MSV_AV.MsvAvTargetName, value: utf16le(targetName) });
  return pairs;
}
