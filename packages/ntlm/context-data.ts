// ContextData: what the NTLM package's LSA half hands the LSA when a context completes
// (MappedContext = TRUE), and what SpInitUserModeContext reads in the application's process.
//
// It carries what the user-mode half needs and nothing more: the side, the negotiated flags, the
// context attributes, when the context was established, the ExportedSessionKey (for
// SECPKG_ATTR_SESSION_KEY, and the key the user-mode half derives its signing and sealing keys
// from: SIGNKEY and SEALKEY need only it and the flags), and the names QueryContextAttributes
// reports. No password or NT hash is ever in it: those stay in the LSA. (Format 1 also carried
// the two directions' keys and RC4 states, 570 bytes the LSA computed and the process re-imported.)
//
//    0  magic "NTCD"          4  format (u8)            5  side (u8: 0 client, 1 server)
//    6  mechListMICs (u16: bit 0 one was sent, bit 1 one was received; mech-list-mic.ts)
//                             8  negotiated flags (u32) 12 context attributes (u32)
//   16  established (u64, FILETIME ticks)               24 ExportedSessionKey (16)
//   40  fields, each a u16 length then its bytes: user name (UTF-8), server name (UTF-8);
//       nothing may follow the last one.

import type { NtlmSide } from './crypto.js';
import type { MechListMics } from './mech-list-mic.js';
import { NtlmParseError } from './messages.js';

export interface ContextData {
  side: NtlmSide;
  /** The NegotiateFlags both sides settled on. */
  flags: number;
  /** ISC_RET_* (client) or ASC_RET_* (server). */
  attributes: number;
  /** FILETIME ticks of the moment the context completed. */
  established: bigint;
  exportedSessionKey: Uint8Array;
  /** "DOMAIN\\user": who authenticated (SECPKG_ATTR_NAMES). */
  userName: string;
  /** The target the client named, or "" (the server side of SECPKG_ATTR_NATIVE_NAMES). */
  serverName: string;
  /** The SPNEGO mechListMICs made under Negotiate: where the user-mode half's sequence numbers start. */
  mechListMics: MechListMics;
}

const LAYOUT = {
  MAGIC: 0,
  FORMAT: 4,
  SIDE: 5,
  MECH_LIST_MICS: 6,
  FLAGS: 8,
  ATTRIBUTES: 12,
  ESTABLISHED: 16,
  SESSION_KEY: 24,
  FIELDS: 40,
} as const;
const MAGIC = Uint8Array.of(0x4e, 0x54, 0x43, 0x44); // "NTCD"
const FORMAT = 2;
const SESSION_KEY_BYTES = 16;
const FIELD_LENGTH_BYTES = 2;
const MIC_SENT = 0x1;
const MIC_RECEIVED = 0x2;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * A name's UTF-8 when it is not ASCII; undefined for ASCII (the usual case), which packContextData
 * writes straight into the ContextData, one byte a character, rather than into an array of its own.
 */
function nonAsciiUtf8(text: string): Uint8Array | undefined {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return utf8Encoder.encode(text);
  return undefined;
}

/** bytes[start..end) as text, or a TypeError when they are not UTF-8 (ASCII decoded here, the rest by the fatal decoder). */
function utf8Text(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte > 0x7f) return utf8.decode(bytes.subarray(start, end));
    text += String.fromCharCode(byte);
  }
  return text;
}

/** Writes field `text` at bytes[at..]: its length, then its UTF-8 (`encoded`, or the ASCII itself when undefined). */
function putText(bytes: Uint8Array, at: number, text: string, encoded: Uint8Array | undefined): number {
  const length = encoded?.length ?? text.length;
  if (length > 0xffff) throw new RangeError('a ContextData field exceeds 65535 bytes');
  putU16(bytes, at, length);
  at += FIELD_LENGTH_BYTES;
  if (encoded !== undefined) bytes.set(encoded, at);
  else for (let i = 0; i < length; i++) bytes[at + i] = text.charCodeAt(i);
  return at + length;
}

// Fields are written and read byte by byte: ContextData is small enough to live in V8's heap,
// where a DataView (which needs the array's ArrayBuffer) would first move it out.
function putU16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value;
  bytes[at + 1] = value >>> 8;
}

function putU32(bytes: Uint8Array, at: number, value: number): void {
  putU16(bytes, at, value & 0xffff);
  putU16(bytes, at + 2, value >>> 16);
}

function getU16(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8);
}

function getU32(bytes: Uint8Array, at: number): number {
  return (getU16(bytes, at) | (getU16(bytes, at + 2) << 16)) >>> 0;
}

export function packContextData(data: ContextData): Uint8Array {
  if (data.exportedSessionKey.length !== SESSION_KEY_BYTES) throw new RangeError(`ExportedSessionKey must be ${SESSION_KEY_BYTES} bytes`);
  const userName = nonAsciiUtf8(data.userName);
  const serverName = nonAsciiUtf8(data.serverName);
  const bytes = new Uint8Array(
    LAYOUT.FIELDS + 2 * FIELD_LENGTH_BYTES + (userName?.length ?? data.userName.length) + (serverName?.length ?? data.serverName.length),
  );
  bytes.set(MAGIC, LAYOUT.MAGIC);
  bytes[LAYOUT.FORMAT] = FORMAT;
  bytes[LAYOUT.SIDE] = data.side === 'client' ? 0 : 1;
  const mics = data.mechListMics;
  putU16(bytes, LAYOUT.MECH_LIST_MICS, (mics.sent ? MIC_SENT : 0) | (mics.received ? MIC_RECEIVED : 0));
  putU32(bytes, LAYOUT.FLAGS, data.flags >>> 0);
  putU32(bytes, LAYOUT.ATTRIBUTES, data.attributes >>> 0);
  putU32(bytes, LAYOUT.ESTABLISHED, Number(BigInt.asUintN(32, data.established)));
  putU32(bytes, LAYOUT.ESTABLISHED + 4, Number(BigInt.asUintN(32, data.established >> 32n)));
  bytes.set(data.exportedSessionKey, LAYOUT.SESSION_KEY);
  putText(bytes, putText(bytes, LAYOUT.FIELDS, data.userName, userName), data.serverName, serverName);
  return bytes;
}

/** Reads ContextData, checking every length; NtlmParseError BAD_STATE when it is not such. */
export function unpackContextData(bytes: Uint8Array): ContextData {
  const bad = (offset: number, why: string): NtlmParseError => new NtlmParseError('BAD_STATE', offset, `NTLM ContextData: ${why}`);
  if (bytes.length < LAYOUT.FIELDS) throw bad(bytes.length, `is ${bytes.length} bytes; its header needs ${LAYOUT.FIELDS}`);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[LAYOUT.MAGIC + i] !== MAGIC[i]) throw bad(LAYOUT.MAGIC + i, 'bad magic');
  if (bytes[LAYOUT.FORMAT] !== FORMAT) throw bad(LAYOUT.FORMAT, `unknown format ${bytes[LAYOUT.FORMAT]}`);
  const side = bytes[LAYOUT.SIDE];
  if (side !== 0 && side !== 1) throw bad(LAYOUT.SIDE, `unknown side ${side}`);
  const mics = getU16(bytes, LAYOUT.MECH_LIST_MICS);
  if ((mics & ~(MIC_SENT | MIC_RECEIVED)) !== 0) throw bad(LAYOUT.MECH_LIST_MICS, `unknown mechListMIC bits 0x${mics.toString(16)}`);

  let at: number = LAYOUT.FIELDS;
  const text = (): string => {
    if (at + FIELD_LENGTH_BYTES > bytes.length) throw bad(at, 'a field length runs past the end');
    const fieldAt = at;
    const length = getU16(bytes, at);
    const start = at + FIELD_LENGTH_BYTES;
    if (start + length > bytes.length) throw bad(at, `a ${length}-byte field runs past the end`);
    at = start + length;
    try {
      return utf8Text(bytes, start, at);
    } catch {
      throw bad(fieldAt, 'a name is not valid UTF-8');
    }
  };
  const userName = text();
  const serverName = text();
  if (at !== bytes.length) throw bad(at, `${bytes.length - at} bytes follow the last field`);
  const sessionKey = new Uint8Array(SESSION_KEY_BYTES);
  for (let i = 0; i < SESSION_KEY_BYTES; i++) sessionKey[i] = bytes[LAYOUT.SESSION_KEY + i]!;
  return {
    side: side === 0 ? 'client' : 'server',
    flags: getU32(bytes, LAYOUT.FLAGS),
    attributes: getU32(bytes, LAYOUT.ATTRIBUTES),
    established: (BigInt(getU32(bytes, LAYOUT.ESTABLISHED + 4)) << 32n) | BigInt(getU32(bytes, LAYOUT.ESTABLISHED)),
    exportedSessionKey: sessionKey,
    userName,
    serverName,
    mechListMics: { sent: (mics & MIC_SENT) !== 0, received: (mics & MIC_RECEIVED) !== 0 },
  };
}
