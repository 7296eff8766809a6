// The NTLM acceptor's two legs as functions over bytes, with no LSA in them: the CHALLENGE_MESSAGE
// that answers a NEGOTIATE_MESSAGE (MS-NLMP 3.2.5.1.1), and the checks of the AUTHENTICATE_MESSAGE
// (3.2.5.1.2). The LSA half (lsa.ts) supplies the account lookup, the clock, the random server
// challenge and the channel bindings, and turns the outcome into an SSPI result.
//
// Outcomes are values, never throws: a malformed message is SEC_E_INVALID_TOKEN with the parser's
// reason (code and offset), a wrong password and an unknown user are both SEC_E_LOGON_DENIED and
// cost the same work, and every failure says why in `reason` (for tests and debugging: SSPI
// itself returns only the status).

import { randomBytes } from 'node:crypto';
import { SEC_E_BAD_BINDINGS, SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, SEC_E_TIME_SKEW } from '../../headers/index.js';
import {
  bytesEqual,
  type BindingsDigest,
  computeMic,
  decryptRandomSessionKey,
  filetimeDistanceSeconds,
  filetimeFromDate,
  kxkeyV2,
  ntowfv2FromNtHash,
  utf16le,
  verifyNtlmV2Response,
  writeFiletime,
} from './crypto.js';
import { MSV_AV, MSV_AV_FLAGS, NTLMSSP_NEGOTIATE } from './flags.js';
import { keyExchanged, NTLM_VERSION } from './info.js';
import {
  challengeAvPairValueOffset,
  CHALLENGE_SERVER_CHALLENGE_OFFSET,
  findAvPair,
  packChallenge,
  unpackAuthenticateToVerify,
  unpackNegotiate,
  type AuthenticateMessage,
  type AvPair,
  type NtlmV2Response,
} from './messages.js';
import { failure, parseFailure, type Failure } from './outcome.js';

/** The server's names, as SECPKG_PARAMETERS gives them: they fill the CHALLENGE's TargetInfo. */
export interface ServerNames {
  computerName: string;
  dnsComputerName: string;
  domainName: string;
  dnsDomainName: string;
}

/** What the server keeps between its CHALLENGE and the client's AUTHENTICATE. */
export interface ChallengeState {
  /** The NEGOTIATE_MESSAGE as received and the CHALLENGE_MESSAGE as sent: the MIC covers both. */
  negotiate: Uint8Array;
  challenge: Uint8Array;
  /** NegotiateFlags of the CHALLENGE: what the server offered. */
  offered: number;
  serverChallenge: Uint8Array;
}

const N = NTLMSSP_NEGOTIATE;

/** Bits the server echoes when the client asks for them (3.2.5.1.1). */
const ECHOED = N.REQUEST_TARGET | N.SIGN | N.SEAL | N.ALWAYS_SIGN | N.EXTENDED_SESSIONSECURITY | N.VERSION | N[128] | N[56] | N.KEY_EXCH;

/**
 * CHALLENGE NegotiateFlags for a NEGOTIATE's flags: UNICODE when offered (else OEM), the echoed
 * bits, NTLM, TARGET_INFO (NTLMv2 needs it) and the target type. LM_KEY is never echoed (it needs
 * DES); extended session security replaces it when both are asked for, as 2.2.2.5 says.
 */
export function challengeFlags(negotiateFlags: number, standalone: boolean): number {
  const charset = negotiateFlags & N.UNICODE ? N.UNICODE : N.OEM;
  const targetType = standalone ? N.TARGET_TYPE_SERVER : N.TARGET_TYPE_DOMAIN;
  return ((negotiateFlags & ECHOED) | charset | N.NTLM | N.TARGET_INFO | N.REQUEST_TARGET | targetType) >>> 0;
}

/**
 * The TargetInfo Windows sends, in Windows' order (test-vectors.md 4: NbDomainName before
 * NbComputerName): NetBIOS domain and computer, DNS domain and computer, and MsvAvTimestamp.
 */
export function serverTargetInfo(names: ServerNames, now: Date): AvPair[] {
  return [
    { id: MSV_AV.MsvAvNbDomainName, value: utf16le(names.domainName) },
    { id: MSV_AV.MsvAvNbComputerName, value: utf16le(names.computerName) },
    { id: MSV_AV.MsvAvDnsDomainName, value: utf16le(names.dnsDomainName) },
    { id: MSV_AV.MsvAvDnsComputerName, value: utf16le(names.dnsComputerName) },
    { id: MSV_AV.MsvAvTimestamp, value: filetimeFromDate(now) },
  ];
}

/**
 * Leg 2, the server's answer to a NEGOTIATE_MESSAGE (3.2.5.1.1). Both forms real clients send are
 * read: 32 bytes without Version and 40 with it, OEM or UNICODE.
 */
export function challengeFor(negotiate: Uint8Array, names: ServerNames, serverChallenge: Uint8Array, now: Date): ({ ok: true } & ChallengeState) | Failure {
  let flags: number;
  try {
    flags = unpackNegotiate(negotiate).flags;
  } catch (error) {
    return parseFailure('NEGOTIATE_MESSAGE', error);
  }
  if (serverChallenge.length !== 8) throw new RangeError(`ServerChallenge must be 8 bytes, got ${serverChallenge.length}`);
  const template = challengeTemplate(names, flags);
  // The server's message differs from one handshake to the next only in ServerChallenge and MsvAvTimestamp.
  const challenge = template.bytes.slice();
  challenge.set(serverChallenge, CHALLENGE_SERVER_CHALLENGE_OFFSET);
  writeFiletime(challenge, template.timestampAt, now);
  // Copies (new Uint8Array, not slice: a Buffer's slice is a view of the caller's bytes).
  return { ok: true, negotiate: new Uint8Array(negotiate), challenge, offered: template.offered, serverChallenge: new Uint8Array(serverChallenge) };
}

/** A server's CHALLENGE_MESSAGE for one NEGOTIATE's flags, packed once, with zeros where ServerChallenge and MsvAvTimestamp go. */
interface ChallengeTemplate {
  readonly bytes: Uint8Array;
  readonly offered: number;
  readonly timestampAt: number;
}

/** Per server (its names, as SpInitialize gave them) and NEGOTIATE flags: a server sees a handful of flag sets. */
const challengeTemplates = new WeakMap<ServerNames, Map<number, ChallengeTemplate>>();
const MAX_TEMPLATES_PER_SERVER = 64;
const ZERO_SERVER_CHALLENGE = new Uint8Array(8);
const ZERO_TIME = new Date(Date.UTC(1601, 0, 1));

function challengeTemplate(names: ServerNames, negotiateFlags: number): ChallengeTemplate {
  let byFlags = challengeTemplates.get(names);
  if (byFlags === undefined) challengeTemplates.set(names, (byFlags = new Map()));
  let template = byFlags.get(negotiateFlags);
  if (template !== undefined) return template;
  // A standalone server (its domain is its own name) is its own authority: TARGET_TYPE_SERVER.
  const standalone = names.domainName.toUpperCase() === names.computerName.toUpperCase();
  const offered = challengeFlags(negotiateFlags, standalone);
  const bytes = packChallenge({
    flags: offered,
    targetName: names.domainName,
    serverChallenge: ZERO_SERVER_CHALLENGE,
    targetInfo: serverTargetInfo(names, ZERO_TIME),
    version: offered & N.VERSION ? NTLM_VERSION : undefined,
  });
  const timestampAt = challengeAvPairValueOffset(bytes, MSV_AV.MsvAvTimestamp)!;
  template = { bytes, offered, timestampAt };
  // Flags come from the client: a client that sends many different ones only ever costs a repack.
  if (byFlags.size < MAX_TEMPLATES_PER_SERVER) byFlags.set(negotiateFlags, template);
  return template;
}

/** An account's NT hash and its name in the account store ("DOMAIN\\user"). */
export interface AccountKey {
  ntHash: Uint8Array;
  name: string;
}

/**
 * What a server checks of the client's MsvAvChannelBindings (Extended Protection for
 * Authentication). The application chooses, as Windows' HTTP.sys, IIS and .NET do: no
 * SECBUFFER_CHANNEL_BINDINGS for "None" (nothing is checked); bindings with
 * ASC_REQ_ALLOW_MISSING_BINDINGS for "Allowed" (a client that sends none passes, one that sends
 * others does not); bindings without it for "Required" (MS-NLMP 3.2.1.2's ApplicationRequiresCBT).
 */
export interface BindingsPolicy {
  /** The package setting requireChannelBindings: every client must send the server's bindings, whatever the application asked. */
  requireChannelBindings: boolean;
  /** ASC_REQ_ALLOW_MISSING_BINDINGS on the call that carries the AUTHENTICATE_MESSAGE. */
  allowMissingBindings: boolean;
}

export interface AcceptPolicy extends BindingsPolicy {
  /** 0: no check. */
  maxClockSkewSeconds: number;
}

export interface Accepted {
  ok: true;
  /** The NegotiateFlags in force: the AUTHENTICATE's, limited to what the CHALLENGE offered. */
  flags: number;
  exportedSessionKey: Uint8Array;
  /** The account the client proved it holds, by its name in the account store. */
  account: string;
  /** The names as the client sent them. */
  userName: string;
  domainName: string;
  /** MsvAvTargetName, when the client sent one. */
  targetName: string | undefined;
  /** The AUTHENTICATE_MESSAGE carried a MIC (MsvAvFlags 0x2): under SPNEGO the mechListMIC is then required (mech-list-mic.ts). */
  mic: boolean;
}

export interface AuthenticateCheck {
  state: ChallengeState;
  authenticate: Uint8Array;
  /** The account of a user name, whatever domain the client gave; undefined when there is none. */
  account: (userName: string) => AccountKey | undefined;
  /** The digest of the server's SEC_CHANNEL_BINDINGS (its SECBUFFER_CHANNEL_BINDINGS), if it has one. */
  bindings: BindingsDigest | undefined;
  policy: AcceptPolicy;
  now: Date;
}

/**
 * The key an unknown user is checked with, so that an unknown user costs the same HMACs as a
 * wrong password and the two answers cannot be told apart by time either.
 */
export const UNKNOWN_ACCOUNT_KEY = randomBytes(16);

/** An AUTHENTICATE_MESSAGE read and found to be an NTLMv2 one with a user: what the proof and the checks after it need. */
export interface ReadAuthenticate {
  ok: true;
  message: AuthenticateMessage;
  response: NtlmV2Response;
  micAt: number | undefined;
}

/**
 * Leg 3's first step (3.2.5.1.2): the AUTHENTICATE_MESSAGE read (its names in the character set
 * the CHALLENGE settled on: UNICODE when the client offered it, else OEM), anonymous and
 * NTLMv1/LM refused. What remains is the proof: against the account's NT hash here
 * (acceptAuthenticate), or by the domain controller (pass-through: passthrough.ts).
 */
export function readAuthenticate(state: ChallengeState, authenticate: Uint8Array): ReadAuthenticate | Failure {
  let message: AuthenticateMessage;
  let response: NtlmV2Response | undefined;
  let micAt: number | undefined;
  try {
    ({ message, ntlmV2: response, micAt } = unpackAuthenticateToVerify(authenticate, (state.offered & N.UNICODE) !== 0));
  } catch (error) {
    return parseFailure('AUTHENTICATE_MESSAGE', error);
  }
  if (message.userName === '' && message.ntChallengeResponse.length === 0) {
    return denied('anonymous authentication is not accepted');
  }
  if (response === undefined) {
    // LmCompatibilityLevel 5 refuses LM and NTLMv1; this package cannot verify them at any level (no DES).
    return denied(`an NTLMv1 or LM response (${message.ntChallengeResponse.length}-byte NtChallengeResponse) is refused: NTLMv2 only`);
  }
  return { ok: true, message, response, micAt };
}

/**
 * Leg 3, the server's checks of an AUTHENTICATE_MESSAGE (3.2.5.1.2), in this order: structure;
 * NTLMv2 only; NTProofStr against the account's NT hash (with the client's domain, then with an
 * empty one, as 3.2.5.1.2 retries); the session key; the MIC when MsvAvFlags announces one; the
 * channel bindings; the timestamp. Everything after NTProofStr is only reached by a client that
 * knows the password, so a guesser learns nothing but SEC_E_LOGON_DENIED.
 */
export function acceptAuthenticate(check: AuthenticateCheck): Accepted | Failure {
  const read = readAuthenticate(check.state, check.authenticate);
  if (!read.ok) return read;
  const account = check.account(read.message.userName);
  const sessionBaseKey = proveNtlmV2(account?.ntHash ?? UNKNOWN_ACCOUNT_KEY, read.message, check.state.serverChallenge);
  if (account === undefined || sessionBaseKey === undefined) return denied('unknown user or wrong password');
  return finishAuthenticate(check, read, sessionBaseKey, account.name);
}

/**
 * The checks after the proof (3.2.5.1.2), once the SessionBaseKey is known (here, or from the
 * domain controller's UserSessionKey): the key exchange, the MIC, the channel bindings, the
 * timestamp. `account` is the name the client proved it holds ("DOMAIN\\user").
 */
export function finishAuthenticate(
  check: Pick<AuthenticateCheck, 'state' | 'authenticate' | 'bindings' | 'policy' | 'now'>,
  read: ReadAuthenticate,
  sessionBaseKey: Uint8Array,
  account: string,
): Accepted | Failure {
  const { state, authenticate } = check;
  const { message, response, micAt } = read;
  const flags = (message.flags & state.offered) >>> 0;
  const keyExchangeKey = kxkeyV2(sessionBaseKey);
  let exportedSessionKey = keyExchangeKey;
  if (keyExchanged(flags)) {
    if (message.encryptedRandomSessionKey.length !== 16) {
      return failure(SEC_E_INVALID_TOKEN, `KEY_EXCH with a ${message.encryptedRandomSessionKey.length}-byte EncryptedRandomSessionKey`);
    }
    exportedSessionKey = decryptRandomSessionKey(keyExchangeKey, message.encryptedRandomSessionKey);
  }

  const pairs = response.clientChallenge.avPairs;
  const micFailure = checkMic(pairs, exportedSessionKey, state, authenticate, message, micAt);
  if (micFailure !== undefined) return micFailure;
  const bindingsFailure = checkBindings(findAvPair(pairs, MSV_AV.MsvAvChannelBindings), check.bindings, check.policy);
  if (bindingsFailure !== undefined) return bindingsFailure;
  const skewFailure = checkTimestamp(response.clientChallenge.timestamp, check.now, check.policy.maxClockSkewSeconds);
  if (skewFailure !== undefined) return skewFailure;

  const targetName = findAvPair(pairs, MSV_AV.MsvAvTargetName);
  return {
    ok: true,
    flags,
    exportedSessionKey,
    account,
    userName: message.userName,
    domainName: message.domainName,
    targetName: targetName === undefined ? undefined : Buffer.from(targetName).toString('utf16le'),
    mic: micAnnounced(pairs),
  };
}

/** MsvAvFlags bit 0x2: the AUTHENTICATE_MESSAGE says it carries a MIC. */
function micAnnounced(pairs: AvPair[]): boolean {
  const avFlags = findAvPair(pairs, MSV_AV.MsvAvFlags);
  return avFlags !== undefined && (u32le(avFlags) & MSV_AV_FLAGS.MIC_PRESENT) !== 0;
}

/**
 * The SessionBaseKey when NTProofStr verifies: ResponseKeyNT = NTOWFv2 with the user and domain
 * exactly as the client sent them, and if that fails with an empty domain (3.2.5.1.2). Both
 * attempts always run, so the time taken does not say which one matched.
 */
export function proveNtlmV2(
  ntHash: Uint8Array,
  message: Pick<AuthenticateMessage, 'userName' | 'domainName' | 'ntChallengeResponse'>,
  serverChallenge: Uint8Array,
): Uint8Array | undefined {
  let sessionBaseKey: Uint8Array | undefined;
  for (const domain of [message.domainName, '']) {
    const responseKeyNT = ntowfv2FromNtHash(ntHash, message.userName, domain);
    const result = verifyNtlmV2Response(responseKeyNT, serverChallenge, message.ntChallengeResponse);
    sessionBaseKey ??= result.sessionBaseKey;
  }
  return sessionBaseKey;
}

/**
 * MsvAvFlags bit 0x2 says the AUTHENTICATE carries a MIC. A message without the MIC field is then
 * malformed (SEC_E_INVALID_TOKEN); a MIC that does not match is "an authentication failure"
 * (3.2.5.1.2), SEC_E_LOGON_DENIED: one of the three messages was altered on the way.
 */
function checkMic(
  pairs: AvPair[],
  exportedSessionKey: Uint8Array,
  state: ChallengeState,
  authenticate: Uint8Array,
  message: AuthenticateMessage,
  micAt: number | undefined,
): Failure | undefined {
  if (!micAnnounced(pairs)) return undefined;
  if (micAt === undefined || message.mic === undefined) {
    return failure(SEC_E_INVALID_TOKEN, 'MsvAvFlags announces a MIC but the AUTHENTICATE_MESSAGE has no MIC field');
  }
  const expected = computeMic(exportedSessionKey, state.negotiate, state.challenge, authenticate, micAt);
  if (!bytesEqual(expected, message.mic)) {
    return failure(SEC_E_LOGON_DENIED, 'the MIC does not match the three messages: one of them was altered');
  }
  return undefined;
}

/**
 * MsvAvChannelBindings against the server's bindings (3.2.5.1.2, Extended Protection). When the
 * application gave no bindings nothing is checked (unless the package setting requires them). A
 * client that sends a hash must send the hash of the server's bindings (SEC_E_BAD_BINDINGS
 * otherwise, whatever the policy: a relayed AUTHENTICATE carries the bindings of another channel).
 * A client that sends none (the pair absent or all zero: SEC_CHANNEL_BINDINGS_RESULT_ABSENT) passes
 * only when the call said ASC_REQ_ALLOW_MISSING_BINDINGS and the package does not require them.
 */
export function checkBindings(clientHash: Uint8Array | undefined, serverBindings: BindingsDigest | undefined, policy: BindingsPolicy): Failure | undefined {
  const bad = (reason: string): Failure => failure(SEC_E_BAD_BINDINGS, reason);
  const clientSentNone = clientHash === undefined || clientHash.every((b) => b === 0);
  const required = policy.requireChannelBindings;
  if (serverBindings === undefined) return required ? bad('channel bindings are required but the server has none to check against') : undefined;
  if ('malformed' in serverBindings) return bad(`the server's SEC_CHANNEL_BINDINGS is malformed: ${serverBindings.malformed}`);
  if (clientSentNone) {
    if (required) return bad('channel bindings are required (requireChannelBindings) and the client sent none');
    if (!policy.allowMissingBindings)
      return bad('the client sent no channel bindings and the server did not allow missing ones (no ASC_REQ_ALLOW_MISSING_BINDINGS)');
    return undefined;
  }
  if (!bytesEqual(clientHash, serverBindings.hash)) return bad("the client's MsvAvChannelBindings is not the hash of the server's channel bindings");
  return undefined;
}

/** The NTLMv2 response's timestamp must be within maxClockSkewSeconds of the server's clock. */
function checkTimestamp(timestamp: Uint8Array, now: Date, maxSkewSeconds: number): Failure | undefined {
  if (maxSkewSeconds === 0) return undefined;
  const seconds = filetimeDistanceSeconds(timestamp, 0, now);
  if (seconds <= maxSkewSeconds) return undefined;
  return failure(SEC_E_TIME_SKEW, `the NTLMv2 response's timestamp is ${Math.round(seconds)} s from the server's clock (at most ${maxSkewSeconds} s)`);
}

/** A 4-byte little-endian value (MsvAvFlags; its length is checked when the pairs are read). */
function u32le(bytes: Uint8Array): number {
  return (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
}

function denied(reason: string): Failure {
  return failure(SEC_E_LOGON_DENIED, reason);
}
