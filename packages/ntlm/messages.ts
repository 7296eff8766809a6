// NTLM messages as symmetric pure functions over Uint8Array: NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1),
// CHALLENGE_MESSAGE (2.2.1.2), AUTHENTICATE_MESSAGE (2.2.1.3), AV_PAIR lists (2.2.2.1),
// NTLMv2_CLIENT_CHALLENGE (2.2.2.7), NTLMv2_RESPONSE (2.2.2.8) and VERSION (2.2.2.10).
//
// Unpack treats its input as hostile: it checks the signature, the message type, the fixed header
// length and every (Len, MaxLen, BufferOffset) field against the buffer before reading, and throws
// NtlmParseError with a code, the byte offset of the problem and the field's name.
//
// Layout decisions the specification leaves open:
// - Whether a message carries the optional Version (and, in AUTHENTICATE, the MIC) is read from where
//   its payload starts: Version is there when the first non-empty payload field (or the end of the
//   message, when all are empty) leaves room for it, whatever the VERSION flag says. Pack writes
//   Version when given one, so unpack(pack(m)) gives m back.
// - Pack lays the payload out in the order Windows does (the 4.2.x examples and captures): NEGOTIATE
//   domain, workstation; CHALLENGE target name, target info; AUTHENTICATE domain, user, workstation,
//   LM response, NT response, session key. An empty field points at where it would have started.
// - MaxLen is written equal to Len and ignored when reading.

import { MSV_AV, MSV_AV_FIXED_LENGTH, MSV_AV_STRING_IDS, msvAvName, NTLMSSP_NEGOTIATE } from './flags.js';
import { EmuError } from '../kit/index.js';

export type NtlmParseErrorCode =
  | 'TRUNCATED' // the bytes end before a fixed-size part does
  | 'BAD_SIGNATURE' // not "NTLMSSP\0"
  | 'BAD_TYPE' // MessageType is not the one expected (or not 1, 2, 3)
  | 'FIELD_OUT_OF_RANGE' // a payload field points into the header or past the end
  | 'BAD_AV_PAIRS' // an AV_PAIR list overruns, lacks MsvAvEOL, or has a value of the wrong size
  | 'BAD_STRING' // a name is not valid UTF-16LE
  | 'BAD_RESPONSE' // an NTLMv2 response whose structure is wrong
  | 'NO_MIC' // an AUTHENTICATE_MESSAGE without room for a MIC where one is required
  | 'BAD_CHANNEL_BINDINGS' // a SEC_CHANNEL_BINDINGS buffer whose lengths or offsets are wrong
  | 'BAD_STATE'; // exported security-context state that cannot be imported

/** A malformed NTLM structure. `offset` is the byte offset, in the outermost buffer, of the problem. */
export class NtlmParseError extends EmuError<NtlmParseErrorCode> {
  override readonly name = 'NtlmParseError';

  readonly offset: number;

  constructor(code: NtlmParseErrorCode, offset: number, message: string) {
    super(code, message);
    this.offset = offset;
  }
}

// ---------------------------------------------------------------------------------------------
// Common header and field layouts

/** "NTLMSSP\0", the Signature of every message (2.2.1.1). */
export const NTLMSSP_SIGNATURE: Uint8Array = Uint8Array.of(0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00);

/** MessageType values (2.2.1.1-2.2.1.3). */
export const NTLM_MESSAGE_TYPE = { NEGOTIATE: 1, CHALLENGE: 2, AUTHENTICATE: 3 } as const;
export type NtlmMessageType = (typeof NTLM_MESSAGE_TYPE)[keyof typeof NTLM_MESSAGE_TYPE];

const MESSAGE_TYPE_NAMES: Readonly<Record<NtlmMessageType, string>> = {
  1: 'NEGOTIATE_MESSAGE',
  2: 'CHALLENGE_MESSAGE',
  3: 'AUTHENTICATE_MESSAGE',
};

/** Signature (8 bytes), then MessageType (4 bytes LE). */
const MESSAGE_TYPE_OFFSET = 8;
const COMMON_HEADER_BYTES = 12;

/** A payload field descriptor (e.g. DomainNameFields, 2.2.1.1): Len u16, MaxLen u16, BufferOffset u32. */
const FIELD_LEN = 0;
const FIELD_MAX_LEN = 2;
const FIELD_BUFFER_OFFSET = 4;
const FIELD_MAX_BYTES = 0xffff;

/** VERSION (2.2.2.10): ProductMajorVersion, ProductMinorVersion, ProductBuild (LE), Reserved(3), NTLMRevisionCurrent. */
const VERSION_MAJOR = 0;
const VERSION_MINOR = 1;
const VERSION_BUILD = 2;
const VERSION_REVISION = 7;
const VERSION_BYTES = 8;

/** NTLMSSP_REVISION_W2K3, the NTLMRevisionCurrent every current Windows sends (2.2.2.10). */
export const NTLMSSP_REVISION_W2K3 = 0x0f;

/** NEGOTIATE_MESSAGE, 2.2.1.1: 32 fixed bytes, then the optional Version. */
const NEGOTIATE = {
  NEGOTIATE_FLAGS: 12,
  DOMAIN_NAME_FIELDS: 16,
  WORKSTATION_FIELDS: 24,
  VERSION: 32,
  FIXED_BYTES: 32,
} as const;

/** CHALLENGE_MESSAGE, 2.2.1.2: 48 fixed bytes, then the optional Version. */
const CHALLENGE = {
  TARGET_NAME_FIELDS: 12,
  NEGOTIATE_FLAGS: 20,
  SERVER_CHALLENGE: 24,
  RESERVED: 32,
  TARGET_INFO_FIELDS: 40,
  VERSION: 48,
  FIXED_BYTES: 48,
} as const;

/** AUTHENTICATE_MESSAGE, 2.2.1.3: 64 fixed bytes, then the optional Version and MIC. */
const AUTHENTICATE = {
  LM_CHALLENGE_RESPONSE_FIELDS: 12,
  NT_CHALLENGE_RESPONSE_FIELDS: 20,
  DOMAIN_NAME_FIELDS: 28,
  USER_NAME_FIELDS: 36,
  WORKSTATION_FIELDS: 44,
  ENCRYPTED_RANDOM_SESSION_KEY_FIELDS: 52,
  NEGOTIATE_FLAGS: 60,
  VERSION: 64,
  MIC: 72,
  FIXED_BYTES: 64,
} as const;

/** Where ServerChallenge sits in a CHALLENGE_MESSAGE (2.2.1.2). */
export const CHALLENGE_SERVER_CHALLENGE_OFFSET = CHALLENGE.SERVER_CHALLENGE;

/** Where the MIC sits in an AUTHENTICATE_MESSAGE that has one (2.2.1.3), and its size. */
export const AUTHENTICATE_MIC_OFFSET = AUTHENTICATE.MIC;
export const MIC_BYTES = 16;

const SERVER_CHALLENGE_BYTES = 8;

// ---------------------------------------------------------------------------------------------
// Shared value types

/** VERSION (2.2.2.10), e.g. 6.1 build 7600 revision 15 for Windows 7. */
export interface NtlmVersion {
  major: number;
  minor: number;
  build: number;
  revision: number;
}

/** One AV_PAIR (2.2.2.1). Lists never hold MsvAvEOL: pack appends it and unpack stops at it. */
export interface AvPair {
  id: number;
  value: Uint8Array;
}

export interface NegotiateMessage {
  flags: number;
  /** OEM-encoded; meaningful when NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED is set. */
  domainName: string;
  /** OEM-encoded; meaningful when NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED is set. */
  workstation: string;
  version?: NtlmVersion | undefined;
}

export interface ChallengeMessage {
  flags: number;
  /** UNICODE or OEM per flags. */
  targetName: string;
  /** 8 bytes. */
  serverChallenge: Uint8Array;
  /** undefined when the TargetInfo field is empty; [] when it holds only MsvAvEOL. */
  targetInfo?: AvPair[] | undefined;
  version?: NtlmVersion | undefined;
}

export interface AuthenticateMessage {
  flags: number;
  lmChallengeResponse: Uint8Array;
  ntChallengeResponse: Uint8Array;
  /** UNICODE or OEM per flags. */
  domainName: string;
  userName: string;
  workstation: string;
  encryptedRandomSessionKey: Uint8Array;
  version?: NtlmVersion | undefined;
  /** 16 bytes at offset 72. Pack writes Version (zeros if none is given) before it. */
  mic?: Uint8Array | undefined;
}

/** NTLMv2_CLIENT_CHALLENGE (2.2.2.7), the "temp" of 3.3.2. RespType and HiRespType are always 1. */
export interface NtlmV2ClientChallenge {
  /** FILETIME, 8 bytes LE. */
  timestamp: Uint8Array;
  /** 8 bytes. */
  challengeFromClient: Uint8Array;
  avPairs: AvPair[];
  /** The bytes after MsvAvEOL: Z(4) in 3.3.2's temp. */
  trailing: Uint8Array;
}

/** NTLMv2_RESPONSE (2.2.2.8): the NTProofStr, then the client challenge it proves. */
export interface NtlmV2Response {
  ntProofStr: Uint8Array;
  clientChallenge: NtlmV2ClientChallenge;
}

// ---------------------------------------------------------------------------------------------
// Text

const utf16Decoder = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true });

/** UTF-16LE code units of `text`, as Windows stores names and passwords (lone surrogates kept). */
export function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[i * 2] = unit & 0xff;
    out[i * 2 + 1] = unit >>> 8;
  }
  return out;
}

/** Names are short: up to this many units are decoded here, longer ones by TextDecoder. */
const SHORT_TEXT_UNITS = 128;

/**
 * Decodes UTF-16LE (bytes[start..end), all of them when not given), or returns undefined when the
 * bytes are not valid UTF-16 (odd length, lone surrogate).
 */
export function fromUtf16le(bytes: Uint8Array, start = 0, end = bytes.length): string | undefined {
  if ((end - start) % 2 !== 0) return undefined;
  if (end - start > SHORT_TEXT_UNITS * 2) {
    try {
      return utf16Decoder.decode(bytes.subarray(start, end));
    } catch {
      return undefined;
    }
  }
  // The same checks as the fatal decoder: a high surrogate only before a low one, no low one alone.
  let text = '';
  for (let i = start; i < end; i += 2) {
    const unit = bytes[i]! | (bytes[i + 1]! << 8);
    if (unit >= 0xd800 && unit <= 0xdfff) {
      if (unit >= 0xdc00 || i + 2 >= end) return undefined;
      const low = bytes[i + 2]! | (bytes[i + 3]! << 8);
      if (low < 0xdc00 || low > 0xdfff) return undefined;
      text += String.fromCharCode(unit, low);
      i += 2;
    } else text += String.fromCharCode(unit);
  }
  return text;
}

/**
 * OEM strings are in the machine's OEM code page; this emulation uses ISO-8859-1 (each byte one
 * character), which agrees with every code page on ASCII.
 */
function oemEncode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0xff) throw new RangeError(`"${text}" cannot be sent as an OEM string (character ${i})`);
    out[i] = unit;
  }
  return out;
}

function oemDecode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}

function encodeName(text: string, flags: number): Uint8Array {
  return (flags & NTLMSSP_NEGOTIATE.UNICODE) !== 0 ? utf16le(text) : oemEncode(text);
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Little-endian reads and writes at offsets in a Uint8Array, checked as DataView checks them
 * (RangeError outside it). NTLM is little-endian throughout; a DataView per message costs more
 * to create than the few fields read through it.
 */
class ByteView {
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  #at(offset: number, size: number): number {
    if (offset < 0 || offset + size > this.#bytes.length) throw new RangeError(`offset ${offset} is outside the ${this.#bytes.length}-byte buffer`);
    return offset;
  }

  getUint8(offset: number): number {
    return this.#bytes[this.#at(offset, 1)]!;
  }

  getUint16(offset: number, _littleEndian: true): number {
    const b = this.#bytes;
    const at = this.#at(offset, 2);
    return b[at]! | (b[at + 1]! << 8);
  }

  getUint32(offset: number, _littleEndian: true): number {
    const b = this.#bytes;
    const at = this.#at(offset, 4);
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  }

  setUint8(offset: number, value: number): void {
    this.#bytes[this.#at(offset, 1)] = value;
  }

  setUint16(offset: number, value: number, _littleEndian: true): void {
    const b = this.#bytes;
    const at = this.#at(offset, 2);
    b[at] = value;
    b[at + 1] = value >>> 8;
  }

  setUint32(offset: number, value: number, _littleEndian: true): void {
    const b = this.#bytes;
    const at = this.#at(offset, 4);
    b[at] = value;
    b[at + 1] = value >>> 8;
    b[at + 2] = value >>> 16;
    b[at + 3] = value >>> 24;
  }
}

function viewOf(bytes: Uint8Array): ByteView {
  return new ByteView(bytes);
}

/** A payload field descriptor as read, with `at` the offset of the descriptor itself. */
interface FieldRef {
  readonly name: string;
  readonly at: number;
  readonly length: number;
  readonly offset: number;
}

function readField(view: ByteView, name: string, at: number): FieldRef {
  return {
    name,
    at,
    length: view.getUint16(at + FIELD_LEN, true),
    offset: view.getUint32(at + FIELD_BUFFER_OFFSET, true),
  };
}

/**
 * A non-empty field must lie after the fixed header and inside the message. An empty field's
 * offset is not used, so it is not checked (Windows points it at the payload end, the 4.2.2.3
 * example at 0).
 */
function checkField(field: FieldRef, fixedBytes: number, total: number): void {
  if (field.length === 0) return;
  if (field.offset < fixedBytes) {
    throw new NtlmParseError('FIELD_OUT_OF_RANGE', field.at, `${field.name} offset ${field.offset} points into the ${fixedBytes}-byte fixed header`);
  }
  if (field.offset + field.length > total) {
    throw new NtlmParseError(
      'FIELD_OUT_OF_RANGE',
      field.at,
      `${field.name} (offset ${field.offset}, length ${field.length}) runs past the end of the ${total}-byte message`,
    );
  }
}

/** Reads and checks every field, in order; returns them and where the payload starts. */
function readFields(
  bytes: Uint8Array,
  fixedBytes: number,
  descriptors: readonly (readonly [name: string, at: number])[],
): { fields: FieldRef[]; payloadStart: number } {
  const view = viewOf(bytes);
  const fields = descriptors.map(([name, at]) => readField(view, name, at));
  let payloadStart = bytes.length;
  for (const field of fields) {
    checkField(field, fixedBytes, bytes.length);
    if (field.length > 0) payloadStart = Math.min(payloadStart, field.offset);
  }
  return { fields, payloadStart };
}

function fieldBytes(bytes: Uint8Array, field: FieldRef): Uint8Array {
  return copyOf(bytes, field.offset, field.offset + field.length);
}

/**
 * A copy of bytes[start..end). Short values (V8 keeps typed arrays of up to 64 bytes in its heap)
 * are copied byte by byte: slice() of a view costs several times more for them.
 */
function copyOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  if (end - start > 64) return bytes.slice(start, end);
  const out = new Uint8Array(end - start);
  for (let i = start; i < end; i++) out[i - start] = bytes[i]!;
  return out;
}

function fieldName(bytes: Uint8Array, field: FieldRef, unicode: boolean): string {
  // Decoded where it lies: a copy of the field first cost more than the decoding.
  const end = field.offset + field.length;
  if (!unicode) return oemDecode(bytes, field.offset, end);
  const text = fromUtf16le(bytes, field.offset, end);
  if (text === undefined) {
    throw new NtlmParseError('BAD_STRING', field.at, `${field.name} (${field.length} bytes) is not valid UTF-16LE`);
  }
  return text;
}

/** How a reader takes bytes[start..end): as a copy (what callers keep), or as a view (for a check that keeps none of them). */
type Take = (bytes: Uint8Array, start: number, end: number) => Uint8Array;

const viewAt: Take = (bytes, start, end) => bytes.subarray(start, end);

/** Checks Signature and MessageType; returns the type. */
function readMessageType(bytes: Uint8Array): number {
  const signatureBytes = Math.min(bytes.length, NTLMSSP_SIGNATURE.length);
  for (let i = 0; i < signatureBytes; i++) {
    if (bytes[i] !== NTLMSSP_SIGNATURE[i]) {
      throw new NtlmParseError('BAD_SIGNATURE', i, `Signature is not "NTLMSSP\\0" (byte ${i} is 0x${hexByte(bytes[i]!)})`);
    }
  }
  if (bytes.length < COMMON_HEADER_BYTES) {
    throw new NtlmParseError('TRUNCATED', bytes.length, `message is ${bytes.length} bytes; Signature and MessageType need ${COMMON_HEADER_BYTES}`);
  }
  return viewOf(bytes).getUint32(MESSAGE_TYPE_OFFSET, true);
}

function checkHeader(bytes: Uint8Array, expected: NtlmMessageType, fixedBytes: number): ByteView {
  const type = readMessageType(bytes);
  if (type !== expected) {
    throw new NtlmParseError('BAD_TYPE', MESSAGE_TYPE_OFFSET, `MessageType is ${type}; a ${MESSAGE_TYPE_NAMES[expected]} has ${expected}`);
  }
  if (bytes.length < fixedBytes) {
    throw new NtlmParseError('TRUNCATED', bytes.length, `${MESSAGE_TYPE_NAMES[expected]} is ${bytes.length} bytes; its fixed header needs ${fixedBytes}`);
  }
  return viewOf(bytes);
}

function hexByte(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function readVersion(view: ByteView, at: number): NtlmVersion {
  return {
    major: view.getUint8(at + VERSION_MAJOR),
    minor: view.getUint8(at + VERSION_MINOR),
    build: view.getUint16(at + VERSION_BUILD, true),
    revision: view.getUint8(at + VERSION_REVISION),
  };
}

/** The MessageType of an NTLM message, after checking its signature. */
export function messageType(bytes: Uint8Array): NtlmMessageType {
  const type = readMessageType(bytes);
  if (type !== 1 && type !== 2 && type !== 3) {
    throw new NtlmParseError('BAD_TYPE', MESSAGE_TYPE_OFFSET, `MessageType is ${type}; NTLM defines 1, 2 and 3`);
  }
  return type;
}

// ---------------------------------------------------------------------------------------------
// Writing

function writeVersion(view: ByteView, at: number, version: NtlmVersion): void {
  view.setUint8(at + VERSION_MAJOR, version.major);
  view.setUint8(at + VERSION_MINOR, version.minor);
  view.setUint16(at + VERSION_BUILD, version.build, true);
  view.setUint8(at + VERSION_REVISION, version.revision);
}

/** A payload field to write: its descriptor position and its bytes, in payload order. */
interface FieldSlot {
  readonly name: string;
  readonly at: number;
  readonly data: Uint8Array;
}

/**
 * Writes Signature, MessageType, and the payload fields after `headerBytes`, each descriptor
 * pointing at its data; the caller then fills in the rest of the fixed header.
 */
function packMessage(
  type: NtlmMessageType,
  headerBytes: number,
  slots: readonly FieldSlot[],
): {
  bytes: Uint8Array;
  view: ByteView;
} {
  let total = headerBytes;
  for (const slot of slots) {
    if (slot.data.length > FIELD_MAX_BYTES) {
      throw new RangeError(`${slot.name} is ${slot.data.length} bytes; a field holds at most ${FIELD_MAX_BYTES}`);
    }
    total += slot.data.length;
  }
  const bytes = new Uint8Array(total);
  const view = viewOf(bytes);
  bytes.set(NTLMSSP_SIGNATURE);
  view.setUint32(MESSAGE_TYPE_OFFSET, type, true);
  let cursor = headerBytes;
  for (const slot of slots) {
    view.setUint16(slot.at + FIELD_LEN, slot.data.length, true);
    view.setUint16(slot.at + FIELD_MAX_LEN, slot.data.length, true);
    view.setUint32(slot.at + FIELD_BUFFER_OFFSET, cursor, true);
    bytes.set(slot.data, cursor);
    cursor += slot.data.length;
  }
  return { bytes, view };
}

function requireLength(name: string, value: Uint8Array, length: number): void {
  if (value.length !== length) throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
}

// ---------------------------------------------------------------------------------------------
// NEGOTIATE_MESSAGE (2.2.1.1)

export function packNegotiate(message: NegotiateMessage): Uint8Array {
  const headerBytes = NEGOTIATE.FIXED_BYTES + (message.version ? VERSION_BYTES : 0);
  const { bytes, view } = packMessage(NTLM_MESSAGE_TYPE.NEGOTIATE, headerBytes, [
    { name: 'DomainNameFields', at: NEGOTIATE.DOMAIN_NAME_FIELDS, data: oemEncode(message.domainName) },
    { name: 'WorkstationFields', at: NEGOTIATE.WORKSTATION_FIELDS, data: oemEncode(message.workstation) },
  ]);
  view.setUint32(NEGOTIATE.NEGOTIATE_FLAGS, message.flags >>> 0, true);
  if (message.version) writeVersion(view, NEGOTIATE.VERSION, message.version);
  return bytes;
}

export function unpackNegotiate(bytes: Uint8Array): NegotiateMessage {
  const view = checkHeader(bytes, NTLM_MESSAGE_TYPE.NEGOTIATE, NEGOTIATE.FIXED_BYTES);
  const { fields, payloadStart } = readFields(bytes, NEGOTIATE.FIXED_BYTES, [
    ['DomainNameFields', NEGOTIATE.DOMAIN_NAME_FIELDS],
    ['WorkstationFields', NEGOTIATE.WORKSTATION_FIELDS],
  ]);
  const [domain, workstation] = fields as [FieldRef, FieldRef];
  return {
    flags: view.getUint32(NEGOTIATE.NEGOTIATE_FLAGS, true),
    domainName: fieldName(bytes, domain, false),
    workstation: fieldName(bytes, workstation, false),
    version: payloadStart >= NEGOTIATE.VERSION + VERSION_BYTES ? readVersion(view, NEGOTIATE.VERSION) : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// CHALLENGE_MESSAGE (2.2.1.2)

export function packChallenge(message: ChallengeMessage): Uint8Array {
  requireLength('ServerChallenge', message.serverChallenge, SERVER_CHALLENGE_BYTES);
  const headerBytes = CHALLENGE.FIXED_BYTES + (message.version ? VERSION_BYTES : 0);
  const { bytes, view } = packMessage(NTLM_MESSAGE_TYPE.CHALLENGE, headerBytes, [
    { name: 'TargetNameFields', at: CHALLENGE.TARGET_NAME_FIELDS, data: encodeName(message.targetName, message.flags) },
    {
      name: 'TargetInfoFields',
      at: CHALLENGE.TARGET_INFO_FIELDS,
      data: message.targetInfo ? packAvPairs(message.targetInfo) : new Uint8Array(0),
    },
  ]);
  view.setUint32(CHALLENGE.NEGOTIATE_FLAGS, message.flags >>> 0, true);
  bytes.set(message.serverChallenge, CHALLENGE.SERVER_CHALLENGE);
  if (message.version) writeVersion(view, CHALLENGE.VERSION, message.version);
  return bytes;
}

export function unpackChallenge(bytes: Uint8Array): ChallengeMessage {
  return challengeFrom(bytes, copyOf);
}

/**
 * unpackChallenge for a client that answers the message at once: its ServerChallenge and AV pair
 * values are views into `bytes` (valid while the message is), not copies.
 */
export function unpackChallengeToAnswer(bytes: Uint8Array): ChallengeMessage {
  return challengeFrom(bytes, viewAt);
}

function challengeFrom(bytes: Uint8Array, take: Take): ChallengeMessage {
  const view = checkHeader(bytes, NTLM_MESSAGE_TYPE.CHALLENGE, CHALLENGE.FIXED_BYTES);
  const { fields, payloadStart } = readFields(bytes, CHALLENGE.FIXED_BYTES, [
    ['TargetNameFields', CHALLENGE.TARGET_NAME_FIELDS],
    ['TargetInfoFields', CHALLENGE.TARGET_INFO_FIELDS],
  ]);
  const [targetName, targetInfo] = fields as [FieldRef, FieldRef];
  const flags = view.getUint32(CHALLENGE.NEGOTIATE_FLAGS, true);
  return {
    flags,
    targetName: fieldName(bytes, targetName, (flags & NTLMSSP_NEGOTIATE.UNICODE) !== 0),
    serverChallenge: take(bytes, CHALLENGE.SERVER_CHALLENGE, CHALLENGE.SERVER_CHALLENGE + SERVER_CHALLENGE_BYTES),
    targetInfo:
      targetInfo.length > 0 ? readAvPairList(bytes.subarray(targetInfo.offset, targetInfo.offset + targetInfo.length), targetInfo.offset, take).pairs : undefined,
    version: payloadStart >= CHALLENGE.VERSION + VERSION_BYTES ? readVersion(view, CHALLENGE.VERSION) : undefined,
  };
}

/**
 * The offset, in a CHALLENGE_MESSAGE, of the value of the first AV pair `id` of its TargetInfo, or
 * undefined when there is none (for a server that fills in a message it packed once).
 */
export function challengeAvPairValueOffset(bytes: Uint8Array, id: number): number | undefined {
  checkHeader(bytes, NTLM_MESSAGE_TYPE.CHALLENGE, CHALLENGE.FIXED_BYTES);
  const { fields } = readFields(bytes, CHALLENGE.FIXED_BYTES, [['TargetInfoFields', CHALLENGE.TARGET_INFO_FIELDS]]);
  const targetInfo = fields[0]!;
  const view = viewOf(bytes);
  const end = targetInfo.offset + targetInfo.length;
  for (let pos = targetInfo.offset; pos + AV_HEADER_BYTES <= end;) {
    const pairId = view.getUint16(pos + AV_ID, true);
    if (pairId === MSV_AV.MsvAvEOL) return undefined;
    if (pairId === id) return pos + AV_HEADER_BYTES;
    pos += AV_HEADER_BYTES + view.getUint16(pos + AV_LEN, true);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// AUTHENTICATE_MESSAGE (2.2.1.3)

const AUTHENTICATE_FIELDS = [
  ['LmChallengeResponseFields', AUTHENTICATE.LM_CHALLENGE_RESPONSE_FIELDS],
  ['NtChallengeResponseFields', AUTHENTICATE.NT_CHALLENGE_RESPONSE_FIELDS],
  ['DomainNameFields', AUTHENTICATE.DOMAIN_NAME_FIELDS],
  ['UserNameFields', AUTHENTICATE.USER_NAME_FIELDS],
  ['WorkstationFields', AUTHENTICATE.WORKSTATION_FIELDS],
  ['EncryptedRandomSessionKeyFields', AUTHENTICATE.ENCRYPTED_RANDOM_SESSION_KEY_FIELDS],
] as const;

export function packAuthenticate(message: AuthenticateMessage): Uint8Array {
  if (message.mic) requireLength('MIC', message.mic, MIC_BYTES);
  const headerBytes = message.mic ? AUTHENTICATE.MIC + MIC_BYTES : AUTHENTICATE.FIXED_BYTES + (message.version ? VERSION_BYTES : 0);
  const { bytes, view } = packMessage(NTLM_MESSAGE_TYPE.AUTHENTICATE, headerBytes, [
    { name: 'DomainNameFields', at: AUTHENTICATE.DOMAIN_NAME_FIELDS, data: encodeName(message.domainName, message.flags) },
    { name: 'UserNameFields', at: AUTHENTICATE.USER_NAME_FIELDS, data: encodeName(message.userName, message.flags) },
    { name: 'WorkstationFields', at: AUTHENTICATE.WORKSTATION_FIELDS, data: encodeName(message.workstation, message.flags) },
    { name: 'LmChallengeResponseFields', at: AUTHENTICATE.LM_CHALLENGE_RESPONSE_FIELDS, data: message.lmChallengeResponse },
    { name: 'NtChallengeResponseFields', at: AUTHENTICATE.NT_CHALLENGE_RESPONSE_FIELDS, data: message.ntChallengeResponse },
    {
      name: 'EncryptedRandomSessionKeyFields',
      at: AUTHENTICATE.ENCRYPTED_RANDOM_SESSION_KEY_FIELDS,
      data: message.encryptedRandomSessionKey,
    },
  ]);
  view.setUint32(AUTHENTICATE.NEGOTIATE_FLAGS, message.flags >>> 0, true);
  if (message.version) writeVersion(view, AUTHENTICATE.VERSION, message.version);
  if (message.mic) bytes.set(message.mic, AUTHENTICATE.MIC);
  return bytes;
}

/** The checked fields of an AUTHENTICATE_MESSAGE, shared by the functions that read one. */
function readAuthenticate(bytes: Uint8Array): {
  view: ByteView;
  fields: Record<(typeof AUTHENTICATE_FIELDS)[number][0], FieldRef>;
  payloadStart: number;
} {
  const view = checkHeader(bytes, NTLM_MESSAGE_TYPE.AUTHENTICATE, AUTHENTICATE.FIXED_BYTES);
  const { fields, payloadStart } = readFields(bytes, AUTHENTICATE.FIXED_BYTES, AUTHENTICATE_FIELDS);
  const [lm, nt, domain, user, workstation, key] = fields as [FieldRef, FieldRef, FieldRef, FieldRef, FieldRef, FieldRef];
  return {
    view,
    fields: {
      LmChallengeResponseFields: lm,
      NtChallengeResponseFields: nt,
      DomainNameFields: domain,
      UserNameFields: user,
      WorkstationFields: workstation,
      EncryptedRandomSessionKeyFields: key,
    },
    payloadStart,
  };
}

/**
 * An AUTHENTICATE_MESSAGE's fields. Its names are read as UNICODE or OEM per `unicode`, or, when
 * that is not given, per the message's own NTLMSSP_NEGOTIATE_UNICODE (all a reader without the
 * handshake, such as `decode`, can go by).
 */
export function unpackAuthenticate(bytes: Uint8Array, unicode?: boolean): AuthenticateMessage {
  return authenticateFrom(bytes, readAuthenticate(bytes), fieldBytes, unicode);
}

/** A field's bytes as a view into the message (valid while the message is). */
function fieldView(bytes: Uint8Array, field: FieldRef): Uint8Array {
  return bytes.subarray(field.offset, field.offset + field.length);
}

function authenticateFrom(
  bytes: Uint8Array,
  read: ReturnType<typeof readAuthenticate>,
  take: (bytes: Uint8Array, field: FieldRef) => Uint8Array,
  negotiatedUnicode: boolean | undefined,
): AuthenticateMessage {
  const { view, fields, payloadStart } = read;
  const flags = view.getUint32(AUTHENTICATE.NEGOTIATE_FLAGS, true);
  const unicode = negotiatedUnicode ?? (flags & NTLMSSP_NEGOTIATE.UNICODE) !== 0;
  return {
    flags,
    lmChallengeResponse: take(bytes, fields.LmChallengeResponseFields),
    ntChallengeResponse: take(bytes, fields.NtChallengeResponseFields),
    domainName: fieldName(bytes, fields.DomainNameFields, unicode),
    userName: fieldName(bytes, fields.UserNameFields, unicode),
    workstation: fieldName(bytes, fields.WorkstationFields, unicode),
    encryptedRandomSessionKey: take(bytes, fields.EncryptedRandomSessionKeyFields),
    version: payloadStart >= AUTHENTICATE.VERSION + VERSION_BYTES ? readVersion(view, AUTHENTICATE.VERSION) : undefined,
    mic:
      payloadStart >= AUTHENTICATE.MIC + MIC_BYTES
        ? take(bytes, { name: 'MIC', at: AUTHENTICATE.MIC, length: MIC_BYTES, offset: AUTHENTICATE.MIC })
        : undefined,
  };
}

/**
 * What a server reads of an AUTHENTICATE_MESSAGE, from one pass over its header: the message
 * (unpackAuthenticate, but its byte fields are views into `bytes`, for a check that keeps none
 * of them), its NTLMv2_RESPONSE (unpackAuthenticateNtlmV2Response) and where its MIC field is
 * (micOffset). The names are read in the character set the server chose in its CHALLENGE
 * (`unicode`), not by the AUTHENTICATE's own UNICODE bit, as Samba's server reads them: wget
 * negotiates OEM, then sets UNICODE in its AUTHENTICATE while sending 8-bit names.
 */
export function unpackAuthenticateToVerify(
  bytes: Uint8Array,
  unicode: boolean,
): { message: AuthenticateMessage; ntlmV2: NtlmV2Response | undefined; micAt: number | undefined } {
  const read = readAuthenticate(bytes);
  return { message: authenticateFrom(bytes, read, fieldView, unicode), ntlmV2: ntlmV2From(bytes, read), micAt: micFrom(read) };
}

/**
 * The NTLMv2_RESPONSE inside an AUTHENTICATE_MESSAGE, checked, with error offsets in the message;
 * undefined when the NtChallengeResponse is not NTLMv2 (24 bytes or fewer: NTLMv1 or anonymous).
 */
export function unpackAuthenticateNtlmV2Response(bytes: Uint8Array): NtlmV2Response | undefined {
  return ntlmV2From(bytes, readAuthenticate(bytes));
}

function ntlmV2From(bytes: Uint8Array, read: ReturnType<typeof readAuthenticate>): NtlmV2Response | undefined {
  const nt = read.fields.NtChallengeResponseFields;
  if (!isNtlmV2Response(nt.length)) return undefined;
  return ntlmV2ResponseFrom(bytes.subarray(nt.offset, nt.offset + nt.length), nt.offset, viewAt);
}

/** 72 when this AUTHENTICATE_MESSAGE's payload leaves room for a MIC, else undefined. */
export function micOffset(authenticate: Uint8Array): number | undefined {
  return micFrom(readAuthenticate(authenticate));
}

function micFrom(read: ReturnType<typeof readAuthenticate>): number | undefined {
  return read.payloadStart >= AUTHENTICATE.MIC + MIC_BYTES ? AUTHENTICATE.MIC : undefined;
}

/** The MIC field's offset; NtlmParseError NO_MIC when the message has no such field. */
export function micFieldOffset(authenticate: Uint8Array): number {
  const at = micOffset(authenticate);
  if (at === undefined) {
    throw new NtlmParseError('NO_MIC', AUTHENTICATE.MIC, 'AUTHENTICATE_MESSAGE payload starts before offset 88: there is no MIC field');
  }
  return at;
}

/** A copy of the AUTHENTICATE_MESSAGE with its MIC zeroed, as the MIC is computed over (3.1.5.1.2). */
export function withMicZeroed(authenticate: Uint8Array): Uint8Array {
  return withMic(authenticate, new Uint8Array(MIC_BYTES));
}

/** A copy of the AUTHENTICATE_MESSAGE with `mic` written into its MIC field. */
export function withMic(authenticate: Uint8Array, mic: Uint8Array): Uint8Array {
  requireLength('MIC', mic, MIC_BYTES);
  const at = micFieldOffset(authenticate);
  const copy = new Uint8Array(authenticate);
  copy.set(mic, at);
  return copy;
}

// ---------------------------------------------------------------------------------------------
// AV_PAIR lists (2.2.2.1): AvId u16, AvLen u16, Value[AvLen]; MsvAvEOL ends the list.

const AV_ID = 0;
const AV_LEN = 2;
const AV_HEADER_BYTES = 4;

/** Reads pairs up to and including MsvAvEOL; `end` is the offset just after it. */
function readAvPairList(bytes: Uint8Array, baseOffset: number, take: Take = copyOf): { pairs: AvPair[]; end: number } {
  const view = viewOf(bytes);
  const pairs: AvPair[] = [];
  let pos = 0;
  for (;;) {
    if (pos + AV_HEADER_BYTES > bytes.length) {
      throw new NtlmParseError(
        'BAD_AV_PAIRS',
        baseOffset + pos,
        pos === bytes.length
          ? `AV_PAIR list ends at offset ${baseOffset + pos} without MsvAvEOL`
          : `AV_PAIR at offset ${baseOffset + pos} is cut off: ${bytes.length - pos} of its 4 header bytes remain`,
      );
    }
    const id = view.getUint16(pos + AV_ID, true);
    const length = view.getUint16(pos + AV_LEN, true);
    const valueAt = pos + AV_HEADER_BYTES;
    if (valueAt + length > bytes.length) {
      throw new NtlmParseError(
        'BAD_AV_PAIRS',
        baseOffset + pos + AV_LEN,
        `${msvAvName(id)} at offset ${baseOffset + pos} claims ${length} value bytes; ${bytes.length - valueAt} remain`,
      );
    }
    const fixed = MSV_AV_FIXED_LENGTH.get(id);
    if ((fixed !== undefined && length !== fixed) || (MSV_AV_STRING_IDS.has(id) && length % 2 !== 0)) {
      throw new NtlmParseError(
        'BAD_AV_PAIRS',
        baseOffset + pos + AV_LEN,
        `${msvAvName(id)} at offset ${baseOffset + pos} has a ${length}-byte value; it must be ${
          fixed !== undefined ? `${fixed} bytes` : 'an even number of bytes (UTF-16LE)'
        }`,
      );
    }
    if (id === MSV_AV.MsvAvEOL) return { pairs, end: valueAt };
    pairs.push({ id, value: take(bytes, valueAt, valueAt + length) });
    pos = valueAt + length;
  }
}

/**
 * The pairs before MsvAvEOL; bytes after it are ignored. `baseOffset` is where `bytes` sits in the
 * enclosing message, so that errors report offsets in it.
 */
export function unpackAvPairs(bytes: Uint8Array, baseOffset = 0): AvPair[] {
  return readAvPairList(bytes, baseOffset).pairs;
}

/** The pairs, then MsvAvEOL. */
export function packAvPairs(pairs: readonly AvPair[]): Uint8Array {
  const bytes = new Uint8Array(avPairsLength(pairs));
  writeAvPairs(bytes, 0, pairs);
  return bytes; // the trailing four zero bytes are MsvAvEOL
}

/** The packed length of the pairs and MsvAvEOL; RangeError for a pair that cannot be packed. */
function avPairsLength(pairs: readonly AvPair[]): number {
  let total = AV_HEADER_BYTES;
  for (const pair of pairs) {
    if (pair.id === MSV_AV.MsvAvEOL) throw new RangeError('MsvAvEOL is appended by packAvPairs, not passed to it');
    if (pair.value.length > FIELD_MAX_BYTES) throw new RangeError(`${msvAvName(pair.id)} value exceeds 65535 bytes`);
    total += AV_HEADER_BYTES + pair.value.length;
  }
  return total;
}

/** Writes the pairs at bytes[at..]; the MsvAvEOL after them is the four zero bytes already there. */
function writeAvPairs(bytes: Uint8Array, at: number, pairs: readonly AvPair[]): void {
  const view = viewOf(bytes);
  let pos = at;
  for (const pair of pairs) {
    view.setUint16(pos + AV_ID, pair.id, true);
    view.setUint16(pos + AV_LEN, pair.value.length, true);
    bytes.set(pair.value, pos + AV_HEADER_BYTES);
    pos += AV_HEADER_BYTES + pair.value.length;
  }
}

/** The value of the first pair with this AvId. */
export function findAvPair(pairs: readonly AvPair[], id: number): Uint8Array | undefined {
  return pairs.find((pair) => pair.id === id)?.value;
}

// ---------------------------------------------------------------------------------------------
// NTLMv2_CLIENT_CHALLENGE (2.2.2.7) and NTLMv2_RESPONSE (2.2.2.8)

const CLIENT_CHALLENGE = {
  RESP_TYPE: 0,
  HI_RESP_TYPE: 1,
  RESERVED1: 2, // 2 bytes
  RESERVED2: 4, // 4 bytes
  TIMESTAMP: 8,
  CHALLENGE_FROM_CLIENT: 16,
  RESERVED3: 24, // 4 bytes
  AV_PAIRS: 28,
  FIXED_BYTES: 28,
} as const;

/** RespType and HiRespType, both "MUST be set to 0x01" (2.2.2.7). */
const CLIENT_CHALLENGE_RESP_TYPE = 1;
const TIMESTAMP_BYTES = 8;
const CHALLENGE_FROM_CLIENT_BYTES = 8;
const NT_PROOF_STR_BYTES = 16;
/** An NTLMv1 NtChallengeResponse is 24 bytes (2.2.2.6); anything longer is NTLMv2 (3.3.2). */
const NTLMV1_RESPONSE_BYTES = 24;

/** True when an NtChallengeResponse of this length is an NTLMv2_RESPONSE. */
export function isNtlmV2Response(ntChallengeResponseLength: number): boolean {
  return ntChallengeResponseLength > NTLMV1_RESPONSE_BYTES;
}

export function packNtlmV2ClientChallenge(challenge: NtlmV2ClientChallenge): Uint8Array {
  return packNtlmV2ClientChallengeAfter(challenge, 0);
}

/**
 * The NTLMv2_CLIENT_CHALLENGE packed `before` bytes into a new array (bytes[0..before) zero): the
 * client's NTLMv2_RESPONSE is its NTProofStr, then this, in one array without a copy of it.
 */
export function packNtlmV2ClientChallengeAfter(challenge: NtlmV2ClientChallenge, before: number): Uint8Array {
  requireLength('TimeStamp', challenge.timestamp, TIMESTAMP_BYTES);
  requireLength('ChallengeFromClient', challenge.challengeFromClient, CHALLENGE_FROM_CLIENT_BYTES);
  const avPairsBytes = avPairsLength(challenge.avPairs);
  const bytes = new Uint8Array(before + CLIENT_CHALLENGE.FIXED_BYTES + avPairsBytes + challenge.trailing.length);
  bytes[before + CLIENT_CHALLENGE.RESP_TYPE] = CLIENT_CHALLENGE_RESP_TYPE;
  bytes[before + CLIENT_CHALLENGE.HI_RESP_TYPE] = CLIENT_CHALLENGE_RESP_TYPE;
  bytes.set(challenge.timestamp, before + CLIENT_CHALLENGE.TIMESTAMP);
  bytes.set(challenge.challengeFromClient, before + CLIENT_CHALLENGE.CHALLENGE_FROM_CLIENT);
  writeAvPairs(bytes, before + CLIENT_CHALLENGE.AV_PAIRS, challenge.avPairs);
  bytes.set(challenge.trailing, before + CLIENT_CHALLENGE.AV_PAIRS + avPairsBytes);
  return bytes;
}

/** `baseOffset`: where `bytes` sits in the enclosing message, for error offsets. */
export function unpackNtlmV2ClientChallenge(bytes: Uint8Array, baseOffset = 0): NtlmV2ClientChallenge {
  return ntlmV2ClientChallengeFrom(bytes, baseOffset, copyOf);
}

function ntlmV2ClientChallengeFrom(bytes: Uint8Array, baseOffset: number, take: Take): NtlmV2ClientChallenge {
  if (bytes.length < CLIENT_CHALLENGE.FIXED_BYTES) {
    throw new NtlmParseError(
      'TRUNCATED',
      baseOffset + bytes.length,
      `NTLMv2_CLIENT_CHALLENGE is ${bytes.length} bytes; its fixed part needs ${CLIENT_CHALLENGE.FIXED_BYTES}`,
    );
  }
  for (const [name, at] of [
    ['RespType', CLIENT_CHALLENGE.RESP_TYPE],
    ['HiRespType', CLIENT_CHALLENGE.HI_RESP_TYPE],
  ] as const) {
    if (bytes[at] !== CLIENT_CHALLENGE_RESP_TYPE) {
      throw new NtlmParseError('BAD_RESPONSE', baseOffset + at, `NTLMv2_CLIENT_CHALLENGE ${name} is ${bytes[at]}; it must be 1`);
    }
  }
  const { pairs, end } = readAvPairList(bytes.subarray(CLIENT_CHALLENGE.AV_PAIRS), baseOffset + CLIENT_CHALLENGE.AV_PAIRS, take);
  return {
    timestamp: take(bytes, CLIENT_CHALLENGE.TIMESTAMP, CLIENT_CHALLENGE.TIMESTAMP + TIMESTAMP_BYTES),
    challengeFromClient: take(bytes, CLIENT_CHALLENGE.CHALLENGE_FROM_CLIENT, CLIENT_CHALLENGE.CHALLENGE_FROM_CLIENT + CHALLENGE_FROM_CLIENT_BYTES),
    avPairs: pairs,
    trailing: take(bytes, CLIENT_CHALLENGE.AV_PAIRS + end, bytes.length),
  };
}

export function packNtlmV2Response(response: NtlmV2Response): Uint8Array {
  requireLength('NTProofStr', response.ntProofStr, NT_PROOF_STR_BYTES);
  const challenge = packNtlmV2ClientChallenge(response.clientChallenge);
  const bytes = new Uint8Array(NT_PROOF_STR_BYTES + challenge.length);
  bytes.set(response.ntProofStr);
  bytes.set(challenge, NT_PROOF_STR_BYTES);
  return bytes;
}

/** `baseOffset`: where `bytes` sits in the enclosing message, for error offsets. */
export function unpackNtlmV2Response(bytes: Uint8Array, baseOffset = 0): NtlmV2Response {
  return ntlmV2ResponseFrom(bytes, baseOffset, copyOf);
}

function ntlmV2ResponseFrom(bytes: Uint8Array, baseOffset: number, take: Take): NtlmV2Response {
  if (bytes.length < NT_PROOF_STR_BYTES) {
    throw new NtlmParseError(
      'TRUNCATED',
      baseOffset + bytes.length,
      `NTLMv2_RESPONSE is ${bytes.length} bytes; its NTProofStr alone needs ${NT_PROOF_STR_BYTES}`,
    );
  }
  return {
    ntProofStr: take(bytes, 0, NT_PROOF_STR_BYTES),
    clientChallenge: ntlmV2ClientChallengeFrom(bytes.subarray(NT_PROOF_STR_BYTES), baseOffset + NT_PROOF_STR_BYTES, take),
  };
}
