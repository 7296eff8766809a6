// NTLM messages spelled out for traces and the CLI: describeNtlmMessage() turns a message into a
// plain JSON-able object field by field, formatNtlmMessage() into indented text. Invalid input
// throws the NtlmParseError of messages.ts, with its offset.

import { filetimeToDate } from './crypto.js';
import { MSV_AV, MSV_AV_STRING_IDS, msvAvFlagNames, msvAvName, ntlmFlagNames } from './flags.js';
import {
  fromUtf16le,
  messageType,
  NtlmParseError,
  unpackAuthenticate,
  unpackAuthenticateNtlmV2Response,
  unpackChallenge,
  unpackNegotiate,
  type AuthenticateMessage,
  type AvPair,
  type NtlmVersion,
} from './messages.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type FlagsDescription = { value: string; names: string[] };

/** Strings as text, MsvAvTimestamp as an ISO date, MsvAvFlags as hex with its bits by name, the rest as hex bytes. */
export type AvPairDescription = { id: string; value: string } | { id: 'MsvAvFlags'; value: string; flags: string[] };

export type NtResponseDescription =
  | { kind: 'none' }
  | { kind: 'NTLMv1'; response: string }
  | {
      kind: 'NTLMv2';
      ntProofStr: string;
      timestamp: string;
      challengeFromClient: string;
      avPairs: AvPairDescription[];
    };

export type NegotiateDescription = {
  type: 'NEGOTIATE_MESSAGE';
  length: number;
  flags: FlagsDescription;
  domainName: string;
  workstation: string;
  version: string | null;
};

export type ChallengeDescription = {
  type: 'CHALLENGE_MESSAGE';
  length: number;
  flags: FlagsDescription;
  targetName: string;
  serverChallenge: string;
  targetInfo: AvPairDescription[] | null;
  version: string | null;
};

export type AuthenticateDescription = {
  type: 'AUTHENTICATE_MESSAGE';
  length: number;
  flags: FlagsDescription;
  domainName: string;
  userName: string;
  workstation: string;
  lmChallengeResponse: string;
  ntChallengeResponse: NtResponseDescription;
  encryptedRandomSessionKey: string;
  version: string | null;
  mic: string | null;
  /** Present when the names are not in the character set the flags name (wget sets UNICODE and sends 8-bit names). */
  namesCharset?: string;
};

export type NtlmMessageDescription = NegotiateDescription | ChallengeDescription | AuthenticateDescription;

export function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function hex32(value: number): string {
  return '0x' + (value >>> 0).toString(16).padStart(8, '0');
}

function describeFlags(flags: number): FlagsDescription {
  return { value: hex32(flags), names: ntlmFlagNames(flags) };
}

/** "6.1 (build 7600), NTLM revision 15". */
export function describeVersion(version: NtlmVersion | undefined): string | null {
  if (!version) return null;
  return `${version.major}.${version.minor} (build ${version.build}), NTLM revision ${version.revision}`;
}

export function describeAvPair(pair: AvPair): AvPairDescription {
  const id = msvAvName(pair.id);
  if (MSV_AV_STRING_IDS.has(pair.id)) {
    const text = fromUtf16le(pair.value);
    return { id, value: text ?? hex(pair.value) };
  }
  if (pair.id === MSV_AV.MsvAvTimestamp) return { id, value: filetimeToDate(pair.value).toISOString() };
  if (pair.id === MSV_AV.MsvAvFlags) {
    const value = new DataView(pair.value.buffer, pair.value.byteOffset, 4).getUint32(0, true);
    return { id: 'MsvAvFlags', value: hex32(value), flags: msvAvFlagNames(value) };
  }
  return { id, value: hex(pair.value) };
}

function describeNegotiate(bytes: Uint8Array): NegotiateDescription {
  const m = unpackNegotiate(bytes);
  return {
    type: 'NEGOTIATE_MESSAGE',
    length: bytes.length,
    flags: describeFlags(m.flags),
    domainName: m.domainName,
    workstation: m.workstation,
    version: describeVersion(m.version),
  };
}

function describeChallenge(bytes: Uint8Array): ChallengeDescription {
  const m = unpackChallenge(bytes);
  return {
    type: 'CHALLENGE_MESSAGE',
    length: bytes.length,
    flags: describeFlags(m.flags),
    targetName: m.targetName,
    serverChallenge: hex(m.serverChallenge),
    targetInfo: m.targetInfo ? m.targetInfo.map(describeAvPair) : null,
    version: describeVersion(m.version),
  };
}

/**
 * The message read by its own UNICODE bit, which is all a message alone tells; when that bit is set
 * and a name is not UTF-16 (wget negotiates OEM, then sets UNICODE and sends 8-bit names), read
 * again as OEM, which is what a server that chose OEM in its CHALLENGE does.
 */
function readAuthenticate(bytes: Uint8Array): { m: AuthenticateMessage; oemFallback: boolean } {
  try {
    return { m: unpackAuthenticate(bytes), oemFallback: false };
  } catch (error) {
    if (!(error instanceof NtlmParseError) || error.code !== 'BAD_STRING') throw error;
    return { m: unpackAuthenticate(bytes, false), oemFallback: true };
  }
}

function describeAuthenticate(bytes: Uint8Array): AuthenticateDescription {
  const { m, oemFallback } = readAuthenticate(bytes);
  const v2 = unpackAuthenticateNtlmV2Response(bytes);
  const nt: NtResponseDescription = v2
    ? {
        kind: 'NTLMv2',
        ntProofStr: hex(v2.ntProofStr),
        timestamp: filetimeToDate(v2.clientChallenge.timestamp).toISOString(),
        challengeFromClient: hex(v2.clientChallenge.challengeFromClient),
        avPairs: v2.clientChallenge.avPairs.map(describeAvPair),
      }
    : m.ntChallengeResponse.length === 0
      ? { kind: 'none' }
      : { kind: 'NTLMv1', response: hex(m.ntChallengeResponse) };
  return {
    type: 'AUTHENTICATE_MESSAGE',
    length: bytes.length,
    flags: describeFlags(m.flags),
    domainName: m.domainName,
    userName: m.userName,
    workstation: m.workstation,
    lmChallengeResponse: hex(m.lmChallengeResponse),
    ntChallengeResponse: nt,
    encryptedRandomSessionKey: hex(m.encryptedRandomSessionKey),
    version: describeVersion(m.version),
    mic: m.mic ? hex(m.mic) : null,
    ...(oemFallback ? { namesCharset: 'OEM (the flags say UNICODE, but the names are not UTF-16LE: read as an OEM server reads them)' } : {}),
  };
}

/** The message field by field, as plain data. */
export function describeNtlmMessage(bytes: Uint8Array): NtlmMessageDescription {
  switch (messageType(bytes)) {
    case 1:
      return describeNegotiate(bytes);
    case 2:
      return describeChallenge(bytes);
    case 3:
      return describeAuthenticate(bytes);
  }
}

const INDENT = '  ';

function isScalar(value: JsonValue): value is string | number | boolean | null {
  return value === null || typeof value !== 'object';
}

function formatScalar(value: string | number | boolean | null): string {
  if (value === null) return '(none)';
  if (value === '') return '""';
  return String(value);
}

function formatLines(value: JsonValue, depth: number): string[] {
  const pad = INDENT.repeat(depth);
  if (isScalar(value)) return [pad + formatScalar(value)];
  if (Array.isArray(value)) {
    if (value.length === 0) return [pad + '(empty)'];
    return value.flatMap((item) => {
      if (isScalar(item)) return [`${pad}- ${formatScalar(item)}`];
      const [first = '', ...rest] = formatLines(item, depth + 1);
      return [`${pad}- ${first.trimStart()}`, ...rest];
    });
  }
  return Object.entries(value).flatMap(([key, item]) =>
    isScalar(item) ? [`${pad}${key}: ${formatScalar(item)}`] : [`${pad}${key}:`, ...formatLines(item, depth + 1)],
  );
}

/** Readable indented text: a title line, then one field per line, nested values indented below. */
export function formatNtlmMessage(description: NtlmMessageDescription): string {
  const { type, length, ...fields } = description;
  return [`${type} (${length} bytes)`, ...formatLines(fields, 1)].join('\n');
}
