// Structure-aware generators for the NTLM package's three messages (MS-NLMP 2.2.1), each fed to
// the real LSA at the leg that reads it:
//
//   ntlm/negotiate     NEGOTIATE_MESSAGE    -> AcceptSecurityContext, first call (challengeLeg)
//   ntlm/challenge     CHALLENGE_MESSAGE    -> InitializeSecurityContext, second call (authenticateLeg)
//   ntlm/authenticate  AUTHENTICATE_MESSAGE -> AcceptSecurityContext, second call (verifyLeg)
//
// Each starts from the messages a real handshake of this run produced (the machine runs NTLM with
// fixedServerChallenge and fixedTime, so every server context sends the same CHALLENGE and a
// captured AUTHENTICATE verifies against any of them), and builds variants field by field with
// packages/ntlm/messages.ts: flags, names, versions, payload descriptors at the edges (0, 1, the
// message length and one past it, 0xFFFF, 0xFFFFFFFF, into the fixed header, overlapping another
// field), AV_PAIR lists (no MsvAvEOL, duplicates, hundreds of pairs, wrong sizes for the fixed-size
// ids, odd-length strings, unknown ids), truncations at every offset and byte flips. Because the
// fuzzer knows the run account's password, it also forges AUTHENTICATE messages whose NTProofStr
// and MIC are right, so that hostile structure inside a cryptographically valid message reaches the
// checks after the proof (MIC, channel bindings, timestamp, key exchange).

import { randomBytes } from 'node:crypto';
import {
  SECBUFFER,
  SEC_E_INVALID_TOKEN,
  SEC_E_LOGON_DENIED,
  SEC_E_OK,
  SEC_E_TIME_SKEW,
  SEC_I_CONTINUE_NEEDED,
  statusName,
  type Status,
} from '../headers/index.js';
import {
  computeMic,
  computeNtlmV2Response,
  encryptRandomSessionKey,
  filetimeFromDate,
  kxkeyV2,
  ntlmV2Temp,
  ntowfv1,
  ntowfv2FromNtHash,
  packSecChannelBindings,
  utf16le,
  MSV_AV,
  MSV_AV_FLAGS,
  MSV_AV_STRING_IDS,
  NTLMSSP_NEGOTIATE,
  keyExchanged,
  NTLM_MAX_TOKEN,
  NTLM_VERSION,
  packAuthenticate,
  packAvPairs,
  packChallenge,
  packNegotiate,
  unpackChallenge,
  withMic,
  type AvPair,
  type NtlmVersion,
} from '../packages/ntlm/wire.js';
import {
  anyByteMutation,
  concatBytes,
  INTERESTING_U16,
  INTERESTING_U32,
  noise,
  patched,
  readU16,
  readU32,
  relocateField,
  u16le,
  u32le,
  type Mutated,
} from './bytes.js';
import { CLIENT_REQ, dropContext, firstClientLeg, outputToken, SERVER_REQ, tokenBuffer, type FuzzEnv, type GeneratorSpec, type Trial } from './generator.js';
import type { Rng } from './rng.js';
import { feedVariant, firstLeg, tokenGenerators, type Leg, type TokenVariant } from './token-leg.js';

/** The NTLM settings the fuzz machine boots with: a fixed challenge and clock, so captured messages stay valid. */
export const NTLM_FUZZ_SETTINGS = { fixedServerChallenge: '0123456789abcdef', fixedTime: '2024-05-01T12:00:00.000Z' } as const;
const FIXED_TIME = new Date(NTLM_FUZZ_SETTINGS.fixedTime);
/** The package's default maxClockSkewSeconds (36 hours). */
const MAX_SKEW_SECONDS = 36 * 60 * 60;

/** Descriptor positions (MS-NLMP 2.2.1.1-2.2.1.3): Len u16, MaxLen u16, BufferOffset u32. */
const NEGOTIATE_FIELDS: ReadonlyArray<readonly [string, number]> = [
  ['DomainNameFields', 16],
  ['WorkstationFields', 24],
];
const CHALLENGE_FIELDS: ReadonlyArray<readonly [string, number]> = [
  ['TargetNameFields', 12],
  ['TargetInfoFields', 40],
];
const AUTHENTICATE_FIELDS: ReadonlyArray<readonly [string, number]> = [
  ['LmChallengeResponseFields', 12],
  ['NtChallengeResponseFields', 20],
  ['DomainNameFields', 28],
  ['UserNameFields', 36],
  ['WorkstationFields', 44],
  ['EncryptedRandomSessionKeyFields', 52],
];
const MESSAGE_TYPE_OFFSET = 8;
const SIGNATURE = Uint8Array.from(Buffer.from('NTLMSSP\0', 'latin1'));

/** Flags by name, for combinations that mean something. */
const NAMED_FLAGS: readonly number[] = Object.values(NTLMSSP_NEGOTIATE);

function randomFlags(rng: Rng): number {
  return rng.weighted<() => number>([
    [2, () => rng.next()],
    [3, () => NAMED_FLAGS.reduce((f, bit) => (rng.chance(0.4) ? f | bit : f), 0) >>> 0],
    [1, () => rng.pick([0, 0xffffffff, NTLMSSP_NEGOTIATE.UNICODE, NTLMSSP_NEGOTIATE.OEM, NTLMSSP_NEGOTIATE.DATAGRAM, NTLMSSP_NEGOTIATE.LM_KEY])],
  ])();
}

/**
 * A name: ASCII and Latin-1 for OEM; any BMP character but the surrogates for UTF-16; and, for
 * "utf16-lone", any code unit at all, lone surrogates included (not valid UTF-16).
 */
function randomName(rng: Rng, charset: 'oem' | 'utf16' | 'utf16-lone', max = 40): string {
  const length = rng.length(max);
  let text = '';
  for (let i = 0; i < length; i++) {
    let unit = rng.weighted<() => number>([
      [6, () => rng.range(0x20, 0x7e)],
      [2, () => rng.range(0, 0xff)],
      [charset === 'oem' ? 0 : 2, () => rng.int(0x10000)],
    ])();
    if (charset === 'utf16' && unit >= 0xd800 && unit <= 0xdfff) unit = 0x4e2d;
    text += String.fromCharCode(unit);
  }
  return text;
}

function randomVersion(rng: Rng): NtlmVersion | undefined {
  return rng.weighted<() => NtlmVersion | undefined>([
    [2, () => NTLM_VERSION],
    [1, () => undefined],
    [1, () => ({ major: rng.int(256), minor: rng.int(256), build: rng.int(0x10000), revision: rng.int(256) })],
  ])();
}

// ---------------------------------------------------------------------------------------------
// AV_PAIR lists

/** The AvIds whose value is a string, as the package knows them. */
const STRING_IDS: readonly number[] = [...MSV_AV_STRING_IDS];

/** A well-formed pair: a string id, MsvAvFlags, MsvAvTimestamp, MsvAvSingleHost, MsvAvChannelBindings or an unknown id. */
function wellFormedPair(rng: Rng): AvPair {
  const kind = rng.int(6);
  switch (kind) {
    case 0:
      return { id: rng.pick(STRING_IDS), value: utf16le(randomName(rng, rng.chance(0.8) ? 'utf16' : 'utf16-lone', 24)) };
    case 1:
      return { id: MSV_AV.MsvAvFlags, value: u32le(rng.pick([0, 1, 2, 3, 4, 7, 0xffffffff, rng.next()])) };
    case 2:
      return { id: MSV_AV.MsvAvTimestamp, value: rng.chance(0.5) ? filetimeFromDate(FIXED_TIME) : rng.bytes(8) };
    case 3:
      return { id: MSV_AV.MsvAvSingleHost, value: rng.bytes(rng.pick([0, 8, 48, 64])) };
    case 4:
      return { id: MSV_AV.MsvAvChannelBindings, value: rng.chance(0.5) ? new Uint8Array(16) : rng.bytes(16) };
    default:
      return { id: rng.range(0x000b, 0xffff), value: rng.bytes(rng.length(32)) };
  }
}

export function wellFormedPairs(rng: Rng, max = 8): AvPair[] {
  return Array.from({ length: rng.int(max + 1) }, () => wellFormedPair(rng));
}

/** One raw AV_PAIR: AvId, AvLen (which may lie), value. */
function rawPair(id: number, value: Uint8Array, claimedLength = value.length): Uint8Array {
  return concatBytes(u16le(id), u16le(claimedLength), value);
}

/**
 * An AV_PAIR list as raw bytes, hostile in one way: no MsvAvEOL, a pair cut off, a length past the
 * end, duplicates, hundreds of pairs, a fixed-size id with the wrong size, an odd-length string,
 * MsvAvEOL with a value, or bytes after MsvAvEOL.
 */
export function hostileAvList(rng: Rng): { bytes: Uint8Array; how: string } {
  const good = wellFormedPairs(rng, 4);
  const body = packAvPairs(good).subarray(0, -4); // the pairs without their MsvAvEOL
  const eol = new Uint8Array(4);
  const kind = rng.int(10);
  switch (kind) {
    case 0:
      return { bytes: body, how: 'no MsvAvEOL' };
    case 1: {
      const cut = rng.int(body.length + 4);
      return { bytes: concatBytes(body, eol).subarray(0, cut), how: `cut at ${cut}` };
    }
    case 2: {
      const claimed = rng.pick(INTERESTING_U16);
      return {
        bytes: concatBytes(body, rawPair(rng.pick([MSV_AV.MsvAvNbComputerName, MSV_AV.MsvAvTimestamp, 0x55]), rng.bytes(4), claimed), eol),
        how: `AvLen ${claimed} past the end`,
      };
    }
    case 3: {
      const pair = wellFormedPair(rng);
      const copies = rng.range(2, 5);
      return {
        bytes: concatBytes(body, ...Array.from({ length: copies }, () => rawPair(pair.id, pair.value)), eol),
        how: `${copies} copies of AvId ${pair.id}`,
      };
    }
    case 4: {
      const count = rng.pick([100, 300, 600, 700]);
      const id = rng.chance(0.5) ? rng.range(0x000b, 0xffff) : MSV_AV.MsvAvFlags;
      const value = id === MSV_AV.MsvAvFlags ? u32le(2) : new Uint8Array(0);
      return { bytes: concatBytes(...Array.from({ length: count }, () => rawPair(id, value)), eol), how: `${count} pairs of AvId ${id}` };
    }
    case 5: {
      const [id, right] = rng.pick([
        [MSV_AV.MsvAvFlags, 4],
        [MSV_AV.MsvAvTimestamp, 8],
        [MSV_AV.MsvAvChannelBindings, 16],
      ] as const);
      const size = rng.pick([0, 1, right - 1, right + 1, right * 2]);
      return { bytes: concatBytes(body, rawPair(id, rng.bytes(size)), eol), how: `AvId ${id} with ${size} bytes (must be ${right})` };
    }
    case 6:
      return { bytes: concatBytes(body, rawPair(rng.pick(STRING_IDS), rng.bytes(rng.pick([1, 3, 5, 15]))), eol), how: 'odd-length string' };
    case 7: {
      const size = rng.range(1, 8);
      return { bytes: concatBytes(body, rawPair(MSV_AV.MsvAvEOL, rng.bytes(size))), how: `MsvAvEOL with ${size} value bytes` };
    }
    case 8:
      return { bytes: concatBytes(body, eol, rng.bytes(rng.range(1, 32))), how: 'bytes after MsvAvEOL' };
    default:
      return { bytes: concatBytes(body, rawPair(rng.range(0x000b, 0xffff), rng.bytes(rng.length(64))), eol), how: 'unknown AvId' };
  }
}

// ---------------------------------------------------------------------------------------------
// Shared message mutations

/** One payload descriptor of `message` set to edge values: Len, MaxLen or BufferOffset, or all three. */
function editDescriptor(rng: Rng, message: Uint8Array, fields: ReadonlyArray<readonly [string, number]>): Mutated {
  const [name, at] = rng.pick(fields);
  const [, otherAt] = rng.pick(fields);
  const total = message.length;
  const offset = readU32(message, at + 4);
  const length = readU16(message, at);
  const part = rng.pick(['Len', 'MaxLen', 'BufferOffset', 'all'] as const);
  const offsets = [0, 1, 8, 12, 31, 32, 47, 48, 63, 64, total - 1, total, total + 1, readU32(message, otherAt + 4), ...INTERESTING_U32];
  const lengths = [0, 1, 2, 3, total - offset, total - offset + 1, length + 1, length - 1, readU16(message, otherAt), ...INTERESTING_U16];
  let out: Uint8Array = Uint8Array.from(message);
  let what: string;
  if (part === 'BufferOffset') {
    const value = rng.pick(offsets) >>> 0;
    out = patched(out, at + 4, u32le(value));
    what = `${name}.BufferOffset = ${value}`;
  } else if (part === 'Len' || part === 'MaxLen') {
    const value = rng.pick(lengths) & 0xffff;
    out = patched(out, at + (part === 'Len' ? 0 : 2), u16le(value));
    what = `${name}.${part} = ${value}`;
  } else {
    const value = rng.pick(lengths) & 0xffff;
    const where = rng.pick(offsets) >>> 0;
    out = patched(patched(patched(out, at, u16le(value)), at + 2, u16le(value)), at + 4, u32le(where));
    what = `${name} = (Len ${value}, Offset ${where})`;
  }
  return { bytes: out, mutation: `field ${what}` };
}

/** The Signature or MessageType changed. */
function editHeader(rng: Rng, message: Uint8Array): Mutated {
  if (rng.chance(0.4)) {
    const at = rng.int(SIGNATURE.length);
    return { bytes: patched(message, at, Uint8Array.of(message[at]! ^ (1 << rng.int(8)))), mutation: `header: Signature byte ${at} changed` };
  }
  const type = rng.pick([0, 1, 2, 3, 4, 0x100, 0x80000001, 0xffffffff]);
  return { bytes: patched(message, MESSAGE_TYPE_OFFSET, u32le(type)), mutation: `header: MessageType ${type}` };
}

/** A well-formed SEC_CHANNEL_BINDINGS, or one whose lengths and offsets are wrong. */
function channelBindings(rng: Rng): Uint8Array {
  const good = packSecChannelBindings({
    initiatorAddrType: rng.int(3),
    initiatorAddress: rng.bytes(rng.length(8)),
    acceptorAddrType: rng.int(3),
    acceptorAddress: rng.bytes(rng.length(8)),
    applicationData: concatBytes(Uint8Array.from(Buffer.from('tls-server-end-point:')), rng.bytes(32)),
  });
  return rng.weighted<() => Uint8Array>([
    [3, () => good],
    [1, () => good.subarray(0, rng.int(good.length))],
    [2, () => patched(good, rng.pick([4, 8, 16, 20, 24, 28]), u32le(rng.pick(INTERESTING_U32)))],
    [1, () => rng.bytes(rng.length(64))],
  ])();
}

// ---------------------------------------------------------------------------------------------
// What every NTLM generator starts from

interface Captured {
  negotiate: Uint8Array;
  challenge: Uint8Array;
  authenticate: Uint8Array;
  /** NegotiateFlags of the CHALLENGE: what the server offers for `negotiate`. */
  offered: number;
  serverChallenge: Uint8Array;
  ntHash: Uint8Array;
}

/** Runs real handshakes of this run's account and keeps one message of each kind. */
async function capture(env: FuzzEnv): Promise<Captured> {
  const { sspi } = env;
  const problems: string[] = [];
  const c1 = await firstClientLeg(env);
  const negotiate = outputToken(c1);
  const s1 = await sspi.acceptSecurityContext({ credential: env.serverCredential, input: tokenBuffer(negotiate ?? new Uint8Array(0)), contextReq: SERVER_REQ });
  const challenge = outputToken(s1);
  const c2 = await sspi.initializeSecurityContext({
    credential: env.clientCredential,
    context: c1.context ?? null,
    contextReq: CLIENT_REQ,
    input: tokenBuffer(challenge ?? new Uint8Array(0)),
  });
  const authenticate = outputToken(c2);
  const s2 = await sspi.acceptSecurityContext({
    credential: env.serverCredential,
    context: s1.context ?? null,
    input: tokenBuffer(authenticate ?? new Uint8Array(0)),
    contextReq: SERVER_REQ,
  });
  // A second server context must send the very same CHALLENGE, or captured messages would not verify.
  const s1b = await sspi.acceptSecurityContext({
    credential: env.serverCredential,
    input: tokenBuffer(negotiate ?? new Uint8Array(0)),
    contextReq: SERVER_REQ,
  });
  const again = outputToken(s1b);
  for (const [context, what] of [
    [c1.context, 'client'],
    [s1.context, 'server'],
    [s1b.context, 'second server'],
  ] as const)
    await dropContext(sspi, context, problems, what);
  if (negotiate === undefined || challenge === undefined || authenticate === undefined || s2.status !== SEC_E_OK || again === undefined) {
    throw new Error(`NTLM capture handshake failed: ${[c1, s1, c2, s2].map((r) => statusName(r.status)).join(', ')}`);
  }
  if (Buffer.compare(challenge, again) !== 0)
    throw new Error('NTLM fuzzing needs fixedServerChallenge and fixedTime: two server contexts sent different CHALLENGE messages');
  if (problems.length > 0) throw new Error(problems.join('; '));
  const parsed = unpackChallenge(challenge);
  return { negotiate, challenge, authenticate, offered: parsed.flags, serverChallenge: parsed.serverChallenge, ntHash: ntowfv1(env.account.password) };
}

// ---------------------------------------------------------------------------------------------
// ntlm/negotiate

function negotiateVariant(rng: Rng, base: Captured): TokenVariant {
  const packed = (): Uint8Array =>
    packNegotiate({ flags: randomFlags(rng), domainName: randomName(rng, 'oem'), workstation: randomName(rng, 'oem'), version: randomVersion(rng) });
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [3, 'packed'],
    [3, 'field'],
    [1, 'header'],
    [5, 'bytes'],
    [1, 'noise'],
  ]);
  switch (strategy) {
    case 'valid':
      return { bytes: base.negotiate, mutation: 'the captured NEGOTIATE_MESSAGE', strategy, expected: SEC_I_CONTINUE_NEEDED };
    case 'packed': {
      const bytes = packed();
      return { bytes, mutation: 'packNegotiate with random flags, names and version', strategy, expected: SEC_I_CONTINUE_NEEDED };
    }
    case 'field':
      return { ...editDescriptor(rng, rng.chance(0.5) ? base.negotiate : packed(), NEGOTIATE_FIELDS), strategy };
    case 'header':
      return { ...editHeader(rng, base.negotiate), strategy };
    case 'noise':
      return { ...noise(rng, SIGNATURE, NTLM_MAX_TOKEN), strategy };
    default:
      return { ...anyByteMutation(rng, rng.chance(0.7) ? base.negotiate : packed(), base.challenge, NTLM_MAX_TOKEN), strategy };
  }
}

async function negotiateInput(env: FuzzEnv, base: Captured, rng: Rng, trial: Trial): Promise<void> {
  const leg: Leg = { fn: 'AcceptSecurityContext', what: 'a well-formed NEGOTIATE_MESSAGE', bindings: () => channelBindings(rng) };
  await feedVariant(env, rng, trial, leg, negotiateVariant(rng, base));
}

// ---------------------------------------------------------------------------------------------
// ntlm/challenge

function challengeVariant(rng: Rng, base: Captured): TokenVariant {
  const packed = (): { bytes: Uint8Array; how: string } => {
    const flags = randomFlags(rng);
    const unicode = (flags & NTLMSSP_NEGOTIATE.UNICODE) !== 0;
    const bytes = packChallenge({
      flags,
      targetName: randomName(rng, unicode ? 'utf16' : 'oem'),
      serverChallenge: rng.bytes(8),
      targetInfo: rng.chance(0.8) ? wellFormedPairs(rng) : undefined,
      version: randomVersion(rng),
    });
    return { bytes, how: `packChallenge with flags 0x${flags.toString(16)}` };
  };
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [3, 'packed'],
    [3, 'av-pairs'],
    [3, 'field'],
    [1, 'header'],
    [5, 'bytes'],
    [1, 'noise'],
  ]);
  switch (strategy) {
    case 'valid':
      return { bytes: base.challenge, mutation: 'the captured CHALLENGE_MESSAGE', strategy, expected: SEC_E_OK };
    case 'packed': {
      const { bytes, how } = packed();
      return { bytes, mutation: how, strategy, expected: bytes.length > NTLM_MAX_TOKEN ? SEC_E_INVALID_TOKEN : SEC_E_OK };
    }
    case 'av-pairs': {
      const list = hostileAvList(rng);
      return { bytes: relocateField(base.challenge, 40, list.bytes), mutation: `TargetInfo: ${list.how}`, strategy };
    }
    case 'field':
      return { ...editDescriptor(rng, rng.chance(0.6) ? base.challenge : packed().bytes, CHALLENGE_FIELDS), strategy };
    case 'header':
      return { ...editHeader(rng, base.challenge), strategy };
    case 'noise':
      return { ...noise(rng, SIGNATURE, NTLM_MAX_TOKEN), strategy };
    default:
      return { ...anyByteMutation(rng, rng.chance(0.7) ? base.challenge : packed().bytes, base.authenticate, NTLM_MAX_TOKEN), strategy };
  }
}

async function challengeInput(env: FuzzEnv, base: Captured, rng: Rng, trial: Trial): Promise<void> {
  const variant = challengeVariant(rng, base);
  // Channel bindings may also come with the first call, to be used by the second.
  const firstInput = rng.chance(0.05) ? [{ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: channelBindings(rng) }] : null;
  const first = await firstLeg(
    env,
    trial,
    'InitializeSecurityContext',
    await firstClientLeg(env, CLIENT_REQ, firstInput),
    new Uint8Array(0),
    'first InitializeSecurityContext',
  );
  if (first === undefined) return;
  const leg: Leg = {
    fn: 'InitializeSecurityContext',
    context: first.context,
    what: 'a well-formed CHALLENGE_MESSAGE',
    bindings: () => channelBindings(rng),
    ...(firstInput === null ? {} : { note: ' [bindings on the first call]' }),
  };
  await feedVariant(env, rng, trial, leg, variant);
}

// ---------------------------------------------------------------------------------------------
// ntlm/authenticate

interface Forgery {
  user: string;
  domain: string;
  workstation: string;
  flags: number;
  /** The NTLMv2_CLIENT_CHALLENGE ("temp") exactly as sent: well-formed or hostile. */
  temp: Uint8Array;
  ntHash: Uint8Array;
  mic: 'right' | 'wrong' | 'none';
  version: NtlmVersion | undefined;
  lm: 'zeros' | 'lmv2' | 'empty';
  /** An EncryptedRandomSessionKey of the wrong size when KEY_EXCH is in force. */
  badKeyLength?: number;
}

/** An AUTHENTICATE_MESSAGE computed as a client that knows `ntHash` would, from the given parts. */
function forgeAuthenticate(base: Captured, f: Forgery): Uint8Array {
  const responseKeyNT = ntowfv2FromNtHash(f.ntHash, f.user, f.domain);
  const responses = computeNtlmV2Response({ responseKeyNT, responseKeyLM: responseKeyNT, serverChallenge: base.serverChallenge, temp: f.temp });
  const keyExchangeKey = kxkeyV2(responses.sessionBaseKey);
  let exportedSessionKey = keyExchangeKey;
  let encrypted: Uint8Array = new Uint8Array(0);
  if (keyExchanged((f.flags & base.offered) >>> 0)) {
    exportedSessionKey = new Uint8Array(randomBytes(16));
    encrypted = f.badKeyLength === undefined ? encryptRandomSessionKey(keyExchangeKey, exportedSessionKey) : new Uint8Array(f.badKeyLength);
  }
  const bytes = packAuthenticate({
    flags: f.flags,
    lmChallengeResponse: f.lm === 'zeros' ? new Uint8Array(24) : f.lm === 'lmv2' ? responses.lmChallengeResponse : new Uint8Array(0),
    ntChallengeResponse: responses.ntChallengeResponse,
    domainName: f.domain,
    userName: f.user,
    workstation: f.workstation,
    encryptedRandomSessionKey: encrypted,
    version: f.version,
    mic: f.mic === 'none' ? undefined : new Uint8Array(16),
  });
  if (f.mic === 'none') return bytes;
  return withMic(bytes, f.mic === 'right' ? computeMic(exportedSessionKey, base.negotiate, base.challenge, bytes) : new Uint8Array(randomBytes(16)));
}

/** A hostile NTLMv2_CLIENT_CHALLENGE: wrong RespType, cut short, a hostile AV list, or trailing bytes. */
function hostileTemp(rng: Rng): { temp: Uint8Array; how: string } {
  const good = ntlmV2Temp(filetimeFromDate(FIXED_TIME), rng.bytes(8), wellFormedPairs(rng, 4));
  switch (rng.int(4)) {
    case 0: {
      const at = rng.int(2);
      const value = rng.pick([0, 2, 0xff]);
      return { temp: patched(good, at, Uint8Array.of(value)), how: `${at === 0 ? 'RespType' : 'HiRespType'} ${value}` };
    }
    case 1: {
      const cut = rng.int(Math.min(good.length, 40));
      return { temp: good.subarray(0, cut), how: `NTLMv2_CLIENT_CHALLENGE cut to ${cut} bytes` };
    }
    case 2: {
      const list = hostileAvList(rng);
      return { temp: concatBytes(good.subarray(0, 28), list.bytes), how: `client AV pairs: ${list.how}` };
    }
    default:
      return { temp: concatBytes(good, rng.bytes(rng.range(1, 64))), how: 'bytes after Z(4)' };
  }
}

const USER_SPELLINGS = (user: string): string[] => [user, user.toUpperCase(), user[0]!.toUpperCase() + user.slice(1)];

/** A forged AUTHENTICATE_MESSAGE with random but meaningful fields, and what the server must answer. */
function forged(rng: Rng, base: Captured, env: FuzzEnv): { bytes: Uint8Array; mutation: string; expected?: Status } {
  const known = rng.chance(0.85);
  const user = known ? rng.pick(USER_SPELLINGS(env.account.user)) : rng.pick(['', 'mallory', randomName(rng, 'utf16', 20)]);
  const rightPassword = rng.chance(0.9);
  const domain = rng.pick([env.account.domain, '', 'SSPI-EMU', 'sspi-emu.local', randomName(rng, 'utf16', 16)]);
  const skewSeconds = rng.weighted<number>([
    [8, 0],
    [1, rng.pick([-1, 1]) * rng.range(0, MAX_SKEW_SECONDS)],
    [1, rng.pick([-1, 1]) * rng.range(MAX_SKEW_SECONDS + 1, MAX_SKEW_SECONDS * 1000)],
  ]);
  const timestamp = filetimeFromDate(new Date(FIXED_TIME.getTime() + skewSeconds * 1000));
  const pairs = wellFormedPairs(rng, 5).filter((p) => p.id !== MSV_AV.MsvAvFlags && p.id !== MSV_AV.MsvAvTimestamp);
  const micFlag = rng.chance(0.8);
  const avFlags = (micFlag ? MSV_AV_FLAGS.MIC_PRESENT : 0) | (rng.chance(0.2) ? rng.pick([1, 4, 5]) : 0);
  if (avFlags !== 0 || rng.chance(0.5)) pairs.push({ id: MSV_AV.MsvAvFlags, value: u32le(avFlags) });
  const mic = rng.weighted<Forgery['mic']>([
    [6, micFlag ? 'right' : 'none'],
    [1, 'wrong'],
    [1, 'none'],
    [1, 'right'],
  ]);
  const unicode = rng.chance(0.9);
  let flags = rng.chance(0.7) ? base.offered : randomFlags(rng);
  flags = unicode ? flags | NTLMSSP_NEGOTIATE.UNICODE : (flags & ~NTLMSSP_NEGOTIATE.UNICODE) | NTLMSSP_NEGOTIATE.OEM;
  const badKeyLength = rng.chance(0.05) ? rng.pick([0, 1, 15, 17, 32]) : undefined;
  const forgery: Forgery = {
    user,
    domain: unicode ? domain : latin1(domain),
    workstation: randomName(rng, unicode ? 'utf16' : 'oem', 15),
    flags: flags >>> 0,
    temp: ntlmV2Temp(timestamp, rng.bytes(8), pairs),
    ntHash: rightPassword ? base.ntHash : ntowfv1('not the password'),
    mic,
    version: randomVersion(rng),
    lm: rng.pick(['zeros', 'lmv2', 'empty'] as const),
    ...(badKeyLength === undefined ? {} : { badKeyLength }),
  };
  if (!unicode) forgery.user = latin1(forgery.user);
  const bytes = forgeAuthenticate(base, forgery);
  const mutation = `forged: user ${JSON.stringify(forgery.user)}, domain ${JSON.stringify(forgery.domain)}, ${rightPassword ? 'right' : 'wrong'} password, flags 0x${forgery.flags.toString(16)}, skew ${skewSeconds} s, MsvAvFlags ${avFlags}, MIC ${mic}${badKeyLength === undefined ? '' : `, ${badKeyLength}-byte session key`}`;
  // What the server must answer, in the order it checks (acceptor.ts): proof, key, MIC, bindings, time.
  let expected: Status | undefined;
  if (bytes.length > NTLM_MAX_TOKEN) expected = SEC_E_INVALID_TOKEN;
  else if (forgery.user === '' || !known || !rightPassword || !USER_SPELLINGS(env.account.user).includes(forgery.user)) expected = SEC_E_LOGON_DENIED;
  else if (badKeyLength !== undefined && keyExchanged((forgery.flags & base.offered) >>> 0)) expected = SEC_E_INVALID_TOKEN;
  else if (micFlag && mic === 'none') expected = SEC_E_INVALID_TOKEN;
  else if (micFlag && mic === 'wrong') expected = SEC_E_LOGON_DENIED;
  else if (Math.abs(skewSeconds) > MAX_SKEW_SECONDS) expected = SEC_E_TIME_SKEW;
  else expected = SEC_E_OK;
  return { bytes, mutation, expected };
}

function latin1(text: string): string {
  return text.replace(/[^\u0000-\u00ff]/g, '?');
}

function authenticateVariant(rng: Rng, base: Captured, env: FuzzEnv): TokenVariant {
  const strategy = rng.weighted<string>([
    [1, 'valid'],
    [4, 'forged'],
    [2, 'blob'],
    [3, 'field'],
    [1, 'header'],
    [5, 'bytes'],
    [1, 'noise'],
  ]);
  switch (strategy) {
    case 'valid':
      return { bytes: base.authenticate, mutation: 'the captured AUTHENTICATE_MESSAGE', strategy, expected: SEC_E_OK };
    case 'forged':
      return { ...forged(rng, base, env), strategy };
    case 'blob': {
      // A valid NTProofStr and MIC over a hostile NTLMv2_CLIENT_CHALLENGE: the parser, not the proof, must refuse it.
      const { temp, how } = hostileTemp(rng);
      const bytes = forgeAuthenticate(base, {
        user: env.account.user,
        domain: env.account.domain,
        workstation: 'FUZZ',
        flags: base.offered,
        temp,
        ntHash: base.ntHash,
        mic: rng.chance(0.8) ? 'right' : 'none',
        version: NTLM_VERSION,
        lm: 'zeros',
      });
      return { bytes, mutation: `blob: ${how}`, strategy };
    }
    case 'field':
      return { ...editDescriptor(rng, base.authenticate, AUTHENTICATE_FIELDS), strategy };
    case 'header':
      return { ...editHeader(rng, base.authenticate), strategy };
    case 'noise':
      return { ...noise(rng, SIGNATURE, NTLM_MAX_TOKEN), strategy };
    default:
      return { ...anyByteMutation(rng, base.authenticate, base.negotiate, NTLM_MAX_TOKEN), strategy };
  }
}

async function authenticateInput(env: FuzzEnv, base: Captured, rng: Rng, trial: Trial): Promise<void> {
  const variant = authenticateVariant(rng, base, env);
  const accepted = await env.sspi.acceptSecurityContext({ credential: env.serverCredential, input: tokenBuffer(base.negotiate), contextReq: SERVER_REQ });
  const first = await firstLeg(
    env,
    trial,
    'AcceptSecurityContext',
    accepted,
    base.negotiate,
    'first AcceptSecurityContext with the captured NEGOTIATE_MESSAGE',
  );
  if (first === undefined) return;
  const leg: Leg = { fn: 'AcceptSecurityContext', context: first.context, what: 'the AUTHENTICATE_MESSAGE', bindings: () => channelBindings(rng) };
  await feedVariant(env, rng, trial, leg, variant);
}

// ---------------------------------------------------------------------------------------------

export const NTLM_TOKEN_GENERATORS: readonly GeneratorSpec[] = tokenGenerators('ntlm', capture, [
  { name: 'ntlm/negotiate', fn: 'AcceptSecurityContext', describe: 'NEGOTIATE_MESSAGE variants to a new server context', run: negotiateInput },
  {
    name: 'ntlm/challenge',
    fn: 'InitializeSecurityContext',
    describe: 'CHALLENGE_MESSAGE variants to a client context that sent NEGOTIATE',
    run: challengeInput,
  },
  {
    name: 'ntlm/authenticate',
    fn: 'AcceptSecurityContext',
    describe: 'AUTHENTICATE_MESSAGE variants (captured, forged with the password, mutated) to a server context that sent CHALLENGE',
    run: authenticateInput,
  },
]);
