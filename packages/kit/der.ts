// sspi-emu's one DER codec (ITU-T X.690 section 10, over the BER rules of section 8): what SPNEGO,
// Kerberos (RFC 4120 section 5) and X.509 certificates (the HTTPS server's) are written and read
// with. Symmetric pure functions over Uint8Array: `der*` functions write a whole value (tag,
// length, contents), `read*` functions read one value's contents after readTlv/expectTlv located
// it, `*Contents` functions give the contents alone (for an IMPLICIT tag over them).
//
// Reading treats its input as hostile: every tag, length and value is checked against the bytes
// before anything is read, and any problem throws DerError with a code and the byte offset, in
// the outermost buffer, of what is wrong. What DER forbids is refused, not repaired:
// - only definite lengths (0x80, BER's indefinite form, is INDEFINITE_LENGTH);
// - lengths in their shortest form (a long form that fits in fewer bytes is NON_MINIMAL_LENGTH),
//   of at most 4 bytes;
// - single-byte tags: the high-tag-number form (0x1f) is BAD_TAG. No protocol here needs a tag
//   number above 30 (Kerberos' highest is [APPLICATION 30], KRB-ERROR);
// - INTEGER and ENUMERATED in their shortest two's-complement form; BOOLEAN only 0x00 or 0xff;
//   NULL empty; BIT STRING with 0-7 unused bits, all zero;
// - OBJECT IDENTIFIERs with no sub-identifier padded with 0x80, none cut off, each below 2^53;
// - GeneralizedTime only as YYYYMMDDHHMMSSZ (DER 11.7 with no fraction: Kerberos' KerberosTime,
//   RFC 4120 5.2.3, and X.509's, RFC 5280 4.1.2.5.2) and UTCTime only as YYMMDDHHMMSSZ (DER 11.8,
//   RFC 5280 4.1.2.5.1), each a real date and time;
// - UTF8String only valid UTF-8; GeneralString as the caller's charset says (below).
// Nesting is bounded by the caller's schema (each reader reads one level it knows); the one
// generic walker, parseDerTree, takes a depth and a node limit. SEQUENCE OF readers take a count
// limit (TOO_MANY): a small token must not make a reader build a huge array.
//
// GeneralString: X.690 leaves its character set to escape sequences nobody sends. Kerberos
// (RFC 4120 5.2.1) restricts KerberosString to IA5 but lets implementations accept more; MIT and
// Windows put UTF-8 in it (non-ASCII principal names). So a GeneralString is read as UTF-8 by
// default (which reads every IA5 string as itself, and refuses bytes that are not UTF-8 as
// BAD_VALUE so that what reads back re-encodes byte for byte); SPNEGO's hintName, which MS-SPNG
// encodes as Latin-1, asks for 'latin1'.

import { EmuError } from '../../ipc/index.js';

export type DerErrorCode =
  | 'TRUNCATED' // the bytes end before a tag, a length or a value does
  | 'BAD_TAG' // not the tag the structure has here (or a tag form DER does not allow), or a required field missing
  | 'INDEFINITE_LENGTH' // BER's indefinite length (0x80): DER allows only definite ones
  | 'NON_MINIMAL_LENGTH' // a length not in its shortest form
  | 'BAD_LENGTH' // a length past the enclosing value, or one that a value of this type cannot have
  | 'BAD_OID' // an OBJECT IDENTIFIER that is empty, cut off, padded or too large
  | 'BAD_VALUE' // a primitive value DER does not allow (non-minimal integer, out of range, stray bits, a bad time or string)
  | 'TOO_MANY' // more elements in a SEQUENCE OF, or nodes in a tree, than the reader allows
  | 'TOO_DEEP' // values nested deeper than the reader allows
  | 'TRAILING_BYTES'; // bytes after the end of what the structure holds

export const DER_ERROR_CODES: readonly DerErrorCode[] = [
  'TRUNCATED',
  'BAD_TAG',
  'INDEFINITE_LENGTH',
  'NON_MINIMAL_LENGTH',
  'BAD_LENGTH',
  'BAD_OID',
  'BAD_VALUE',
  'TOO_MANY',
  'TOO_DEEP',
  'TRAILING_BYTES',
];

/** A malformed DER structure. `offset` is the byte offset, in the outermost buffer, of the problem. */
export class DerError extends EmuError<DerErrorCode> {
  override readonly name = 'DerError';

  readonly offset: number;

  constructor(code: DerErrorCode, offset: number, message: string) {
    super(code, message);
    this.offset = offset;
  }
}

/** Universal tags (X.690 8.1.2: class in bits 8-7, constructed in bit 6, number below). */
export const DER_TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OBJECT_IDENTIFIER: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  GENERAL_STRING: 0x1b,
  SEQUENCE: 0x30,
  SET: 0x31,
  /** [APPLICATION 0] constructed: GSS-API's InitialContextToken (RFC 2743 3.1). */
  APPLICATION_0: 0x60,
} as const;

const MAX_TAG_NUMBER = 30;

function tagNumber(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_TAG_NUMBER) throw new RangeError(`${what} [${n}] does not fit a single-byte tag`);
  return n;
}

/** [n] constructed, context-specific: an EXPLICIT tag (or an IMPLICIT one over a constructed type). */
export function contextTag(n: number): number {
  return 0xa0 | tagNumber(n, 'context tag');
}

/** [n] primitive, context-specific: an IMPLICIT tag over a primitive type. */
export function implicitTag(n: number): number {
  return 0x80 | tagNumber(n, 'context tag');
}

/** [APPLICATION n] constructed (Kerberos' messages: 1 Ticket, 10 AS-REQ, ..., 30 KRB-ERROR). */
export function applicationTag(n: number): number {
  return 0x60 | tagNumber(n, 'application tag');
}

const HIGH_TAG_NUMBER = 0x1f;
const MAX_LENGTH_OCTETS = 4;

/** One value as read: its tag, where its header starts, where its contents start and end. */
export interface Tlv {
  readonly tag: number;
  /** The offset of the tag byte. */
  readonly start: number;
  /** The offset of the first content byte. */
  readonly contentStart: number;
  /** The offset just past the last content byte. */
  readonly end: number;
}

/**
 * The value at `at`, which must end by `limit`: its tag and length checked, its contents not read.
 * Offsets are in `bytes` (the outermost buffer).
 */
export function readTlv(bytes: Uint8Array, at: number, limit: number): Tlv {
  if (at >= limit) throw new DerError('TRUNCATED', at, 'a value was expected here but the bytes end');
  const tag = bytes[at]!;
  if ((tag & HIGH_TAG_NUMBER) === HIGH_TAG_NUMBER) throw new DerError('BAD_TAG', at, `tag 0x${hex2(tag)} is the high-tag-number form, which is never used here`);
  const lengthAt = at + 1;
  if (lengthAt >= limit) throw new DerError('TRUNCATED', lengthAt, `the length of tag 0x${hex2(tag)} is cut off`);
  const first = bytes[lengthAt]!;
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = lengthAt + 1;
  } else if (first === 0x80) {
    throw new DerError('INDEFINITE_LENGTH', lengthAt, `tag 0x${hex2(tag)} has an indefinite length, which DER does not allow`);
  } else {
    const octets = first & 0x7f;
    if (octets > MAX_LENGTH_OCTETS) throw new DerError('BAD_LENGTH', lengthAt, `a length of ${octets} octets is longer than any value here`);
    if (lengthAt + 1 + octets > limit) throw new DerError('TRUNCATED', lengthAt, `the ${octets}-octet length of tag 0x${hex2(tag)} is cut off`);
    length = 0;
    for (let i = 1; i <= octets; i++) length = length * 256 + bytes[lengthAt + i]!;
    // DER 10.1: the shortest form. A long form needs a value of 128 or more, without leading zero octets.
    if (length < 0x80 || bytes[lengthAt + 1] === 0)
      throw new DerError('NON_MINIMAL_LENGTH', lengthAt, `the length ${length} of tag 0x${hex2(tag)} is not in its shortest form`);
    contentStart = lengthAt + 1 + octets;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('BAD_LENGTH', lengthAt, `tag 0x${hex2(tag)} says ${length} bytes but only ${limit - contentStart} remain`);
  return { tag, start: at, contentStart, end };
}

/** readTlv, and the tag must be `tag`. */
export function expectTlv(bytes: Uint8Array, at: number, limit: number, tag: number, what: string): Tlv {
  if (at < limit && bytes[at] !== tag) throw new DerError('BAD_TAG', at, `${what}: expected tag 0x${hex2(tag)}, found 0x${hex2(bytes[at]!)}`);
  return readTlv(bytes, at, limit);
}

/** Nothing may follow `end` before `limit`. */
export function expectEnd(end: number, limit: number, what: string): void {
  if (end !== limit) throw new DerError('TRAILING_BYTES', end, `${limit - end} bytes follow ${what}`);
}

/** The whole of `bytes` is one value of tag `tag`: its TLV. */
export function expectWhole(bytes: Uint8Array, tag: number, what: string): Tlv {
  const whole = expectTlv(bytes, 0, bytes.length, tag, what);
  expectEnd(whole.end, bytes.length, what);
  return whole;
}

/** The one value inside a constructed value (an EXPLICIT [n] tag's contents), of tag `tag`, filling it. */
export function readExplicit(bytes: Uint8Array, outer: Tlv, tag: number, what: string): Tlv {
  const inner = expectTlv(bytes, outer.contentStart, outer.end, tag, what);
  expectEnd(inner.end, outer.end, what);
  return inner;
}

/** The values inside a constructed value, in order, at most `max` of them (TOO_MANY past it). */
export function readChildren(bytes: Uint8Array, outer: Tlv, max: number, what: string): Tlv[] {
  const children: Tlv[] = [];
  for (let at = outer.contentStart; at < outer.end;) {
    if (children.length === max) throw new DerError('TOO_MANY', at, `${what}: more than ${max} elements`);
    const child = readTlv(bytes, at, outer.end);
    children.push(child);
    at = child.end;
  }
  return children;
}

/**
 * SEQUENCE OF (or SET OF) `tag`: each element checked for its tag and read by `read`, at most `max`
 * of them. SET OF is not re-sorted or checked for DER's order (X.690 11.6): the callers here write
 * SETs of one element.
 */
export function readSequenceOf<T>(bytes: Uint8Array, outer: Tlv, tag: number, max: number, what: string, read: (element: Tlv) => T): T[] {
  const out: T[] = [];
  for (let at = outer.contentStart; at < outer.end;) {
    if (out.length === max) throw new DerError('TOO_MANY', at, `${what}: more than ${max} elements`);
    const element = expectTlv(bytes, at, outer.end, tag, what);
    out.push(read(element));
    at = element.end;
  }
  return out;
}

/**
 * The fields of a SEQUENCE whose fields are all EXPLICIT context tags [n] (the style of RFC 4120,
 * RFC 4178 and most of the RFCs' modules): each [n] once, in increasing order, as DER wants them.
 * Fields numbered above `lastKnown` (extensions added by a later revision) are skipped; a value
 * that is not a constructed context tag is BAD_TAG. The caller reads each field with readExplicit.
 */
export function readFields(bytes: Uint8Array, sequence: Tlv, lastKnown: number, what: string): Map<number, Tlv> {
  const found = new Map<number, Tlv>();
  let previous = -1;
  for (let at = sequence.contentStart; at < sequence.end;) {
    const field = readTlv(bytes, at, sequence.end);
    if ((field.tag & 0xe0) !== 0xa0) throw new DerError('BAD_TAG', at, `${what}: a field with tag 0x${hex2(field.tag)} is not an explicit [n] tag`);
    const n = field.tag & 0x1f;
    if (n <= previous) throw new DerError('BAD_TAG', at, `${what}: field [${n}] out of order or repeated`);
    previous = n;
    if (n <= lastKnown) found.set(n, field);
    at = field.end;
  }
  return found;
}

/** A field readFields found, which the structure requires: BAD_TAG naming it when absent. */
export function requiredField(fields: ReadonlyMap<number, Tlv>, n: number, container: Tlv, what: string): Tlv {
  const field = fields.get(n);
  if (field === undefined) throw new DerError('BAD_TAG', container.contentStart, `${what} [${n}] is missing`);
  return field;
}

// ---------------------------------------------------------------------------------------------
// Primitive values: reading

/**
 * A copy of bytes[from, to) as a plain Uint8Array: never a view (Buffer's slice is one), so what a
 * reader returns cannot alias the caller's buffer, whatever kind of buffer it was.
 */
export function copyOf(bytes: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(bytes.subarray(from, to));
}

function primitiveContents(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return copyOf(bytes, tlv.contentStart, tlv.end);
}

/** OCTET STRING contents (X.690 8.7; DER: primitive only, which the tag checked), a copy. */
export function readOctetString(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return primitiveContents(bytes, tlv);
}

/** BOOLEAN contents (X.690 8.2, DER 11.1): one octet, 0x00 or 0xff. */
export function readBoolean(bytes: Uint8Array, tlv: Tlv): boolean {
  if (tlv.end - tlv.contentStart !== 1) throw new DerError('BAD_LENGTH', tlv.start + 1, `a BOOLEAN of ${tlv.end - tlv.contentStart} octets`);
  const b = bytes[tlv.contentStart]!;
  if (b !== 0x00 && b !== 0xff) throw new DerError('BAD_VALUE', tlv.contentStart, `a BOOLEAN of 0x${hex2(b)}, which DER writes as 0xff`);
  return b === 0xff;
}

/** NULL contents (X.690 8.8): none. */
export function readNull(tlv: Tlv): null {
  if (tlv.end !== tlv.contentStart) throw new DerError('BAD_LENGTH', tlv.start + 1, 'a NULL with contents');
  return null;
}

/** Checks X.690 8.3.2 (the first 9 bits are never all zero or all one) and that there is a first octet. */
function checkIntegerForm(bytes: Uint8Array, tlv: Tlv, what: string): void {
  const { contentStart: from, end } = tlv;
  if (from === end) throw new DerError('BAD_VALUE', tlv.start, `an ${what} with no contents`);
  if (end - from > 1 && ((bytes[from] === 0 && bytes[from + 1]! < 0x80) || (bytes[from] === 0xff && bytes[from + 1]! >= 0x80)))
    throw new DerError('BAD_VALUE', from, `an ${what} not in its shortest form`);
}

/** INTEGER contents (X.690 8.3) of any size, two's complement, shortest form. */
export function readInteger(bytes: Uint8Array, tlv: Tlv): bigint {
  checkIntegerForm(bytes, tlv, 'INTEGER');
  let value = 0n;
  for (let i = tlv.contentStart; i < tlv.end; i++) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes[tlv.contentStart]! >= 0x80) value -= 1n << BigInt(8 * (tlv.end - tlv.contentStart));
  return value;
}

/** An INTEGER that fits `min`..`max` (at most 6 octets, so a JS number): BAD_VALUE otherwise. */
function readBoundedInteger(bytes: Uint8Array, tlv: Tlv, min: number, max: number, what: string): number {
  checkIntegerForm(bytes, tlv, 'INTEGER');
  const length = tlv.end - tlv.contentStart;
  if (length > 6) throw new DerError('BAD_VALUE', tlv.contentStart, `an INTEGER of ${length} octets is out of range for ${what}`);
  return checkRange(signedValue(bytes, tlv), min, max, tlv, what);
}

function signedValue(bytes: Uint8Array, tlv: Tlv): number {
  let value = 0;
  for (let i = tlv.contentStart; i < tlv.end; i++) value = value * 256 + bytes[i]!;
  return bytes[tlv.contentStart]! >= 0x80 ? value - 256 ** (tlv.end - tlv.contentStart) : value;
}

function checkRange(value: number, min: number, max: number, tlv: Tlv, what: string): number {
  if (value < min || value > max) throw new DerError('BAD_VALUE', tlv.contentStart, `${value} is out of range for ${what} (${min}..${max})`);
  return value;
}

/** Kerberos' Int32 (RFC 4120 5.2.4): an INTEGER in -2^31..2^31-1 (etypes, msg-type, error codes, kvno's sign). */
export function readInt32(bytes: Uint8Array, tlv: Tlv): number {
  return readBoundedInteger(bytes, tlv, -0x80000000, 0x7fffffff, 'an Int32');
}

/**
 * Kerberos' UInt32 (RFC 4120 5.2.4): an INTEGER in 0..2^32-1 (nonces, kvno, sequence numbers),
 * which takes five octets from 2^31 (a leading zero). A negative value is BAD_VALUE: some old
 * implementations wrote UInt32 as a signed Int32; accepting that would not re-encode as it came.
 */
export function readUInt32(bytes: Uint8Array, tlv: Tlv): number {
  return readBoundedInteger(bytes, tlv, 0, 0xffffffff, 'a UInt32');
}

/** An INTEGER that must be a JS safe integer (certificate versions, small counters). */
export function readSmallInteger(bytes: Uint8Array, tlv: Tlv, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const value = readInteger(bytes, tlv);
  if (value < BigInt(min) || value > BigInt(max)) throw new DerError('BAD_VALUE', tlv.contentStart, `${value} is out of range (${min}..${max})`);
  return Number(value);
}

/** ENUMERATED contents (X.690 8.4, as INTEGER 8.3): the shortest two's-complement form, a value 0 to 2^31-1. */
export function readEnumerated(bytes: Uint8Array, tlv: Tlv): number {
  checkIntegerForm(bytes, tlv, 'ENUMERATED');
  const length = tlv.end - tlv.contentStart;
  if (length > 4) throw new DerError('BAD_VALUE', tlv.contentStart, `an ENUMERATED of ${length} bytes is out of range`);
  if (bytes[tlv.contentStart]! >= 0x80) throw new DerError('BAD_VALUE', tlv.contentStart, 'a negative ENUMERATED');
  return signedValue(bytes, tlv);
}

/** OBJECT IDENTIFIER contents (X.690 8.19) as dotted text, every sub-identifier checked. */
export function readOid(bytes: Uint8Array, tlv: Tlv): string {
  const { contentStart: from, end } = tlv;
  if (from === end) throw new DerError('BAD_OID', tlv.start, 'an OBJECT IDENTIFIER with no sub-identifiers');
  const arcs: number[] = [];
  let value = 0;
  let startOfArc = from;
  for (let i = from; i < end; i++) {
    const b = bytes[i]!;
    // 8.19.2: a sub-identifier never starts with 0x80 (that would be a padding zero).
    if (i === startOfArc && b === 0x80) throw new DerError('BAD_OID', i, 'a sub-identifier padded with 0x80');
    if (value > (Number.MAX_SAFE_INTEGER - 0x7f) / 128) throw new DerError('BAD_OID', startOfArc, 'a sub-identifier too large to represent');
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0;
      startOfArc = i + 1;
    }
  }
  if (startOfArc !== end) throw new DerError('BAD_OID', startOfArc, 'the last sub-identifier is cut off');
  // 8.19.4: the first sub-identifier holds the first two arcs (X*40 + Y, X in 0..2).
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** A BIT STRING's bits (X.690 8.6, DER 11.2): unused-bit count 0-7, 0 when empty, unused bits zero. */
export interface BitString {
  /** The bits, first bit in the high bit of the first byte. */
  readonly bytes: Uint8Array;
  readonly unusedBits: number;
}

export function readBitString(bytes: Uint8Array, tlv: Tlv): BitString {
  const { contentStart: from, end } = tlv;
  if (from === end) throw new DerError('BAD_VALUE', tlv.start, 'a BIT STRING without its unused-bits octet');
  const unusedBits = bytes[from]!;
  if (unusedBits > 7) throw new DerError('BAD_VALUE', from, `a BIT STRING with ${unusedBits} unused bits`);
  if (from + 1 === end && unusedBits !== 0) throw new DerError('BAD_VALUE', from, 'an empty BIT STRING with unused bits');
  if (end > from + 1 && (bytes[end - 1]! & ((1 << unusedBits) - 1)) !== 0)
    throw new DerError('BAD_VALUE', end - 1, 'a BIT STRING whose unused bits are not zero');
  return { bytes: copyOf(bytes, from + 1, end), unusedBits };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Short contents that are all ASCII as text (what UTF-8 and Latin-1 both read them as), without a decoder: the names and realms of every message. Undefined otherwise. */
function asciiText(bytes: Uint8Array, from: number, to: number): string | undefined {
  if (to - from > 64) return undefined;
  let text = '';
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return undefined;
    text += String.fromCharCode(c);
  }
  return text;
}

function utf8(bytes: Uint8Array, tlv: Tlv, what: string): string {
  const ascii = asciiText(bytes, tlv.contentStart, tlv.end);
  if (ascii !== undefined) return ascii;
  try {
    return UTF8.decode(bytes.subarray(tlv.contentStart, tlv.end));
  } catch {
    throw new DerError('BAD_VALUE', tlv.contentStart, `${what} that is not valid UTF-8`);
  }
}

/** UTF8String contents (X.680 41): valid UTF-8, else BAD_VALUE. */
export function readUtf8String(bytes: Uint8Array, tlv: Tlv): string {
  return utf8(bytes, tlv, 'a UTF8String');
}

/** How a GeneralString's octets are taken as text (see the head of this file). */
export type GeneralStringCharset = 'utf8' | 'latin1';

/** GeneralString contents: UTF-8 (Kerberos' KerberosString, whose IA5 is a subset) or Latin-1 (SPNEGO's hintName). */
export function readGeneralString(bytes: Uint8Array, tlv: Tlv, charset: GeneralStringCharset = 'utf8'): string {
  if (charset === 'latin1') return Buffer.from(bytes.buffer, bytes.byteOffset + tlv.contentStart, tlv.end - tlv.contentStart).toString('latin1');
  return utf8(bytes, tlv, 'a GeneralString');
}

/** IA5String contents: ASCII (0x00-0x7f), else BAD_VALUE. */
export function readIa5String(bytes: Uint8Array, tlv: Tlv): string {
  for (let i = tlv.contentStart; i < tlv.end; i++) if (bytes[i]! > 0x7f) throw new DerError('BAD_VALUE', i, 'an IA5String with a byte above 0x7f');
  return Buffer.from(bytes.buffer, bytes.byteOffset + tlv.contentStart, tlv.end - tlv.contentStart).toString('latin1');
}

/** `digits` decimal digits at `at`, or BAD_VALUE. */
function decimal(bytes: Uint8Array, at: number, digits: number, what: string): number {
  let value = 0;
  for (let i = at; i < at + digits; i++) {
    const c = bytes[i]!;
    if (c < 0x30 || c > 0x39) throw new DerError('BAD_VALUE', i, `${what} with a character that is not a digit`);
    value = value * 10 + (c - 0x30);
  }
  return value;
}

/** MMDDHHMMSSZ at `at`, after a year: the date, every field in range (a real day of that month). */
function timeFields(bytes: Uint8Array, tlv: Tlv, at: number, year: number, what: string): Date {
  if (bytes[tlv.end - 1] !== 0x5a) throw new DerError('BAD_VALUE', tlv.end - 1, `${what} that does not end in Z (DER wants UTC)`);
  const month = decimal(bytes, at, 2, what);
  const day = decimal(bytes, at + 2, 2, what);
  const hour = decimal(bytes, at + 4, 2, what);
  const minute = decimal(bytes, at + 6, 2, what);
  const second = decimal(bytes, at + 8, 2, what);
  // Date.UTC takes years 0-99 as 1900-1999: set the year apart.
  const date = new Date(Date.UTC(2000, 0, 1, hour, minute, second));
  date.setUTCFullYear(year, month - 1, day);
  // Date.UTC rolls over (month 13, day 31 of April, second 60): a date that does not read back as written is not one.
  if (
    month < 1 ||
    month > 12 ||
    date.getUTCDate() !== day ||
    date.getUTCMonth() !== month - 1 ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    date.getUTCFullYear() !== year
  )
    throw new DerError('BAD_VALUE', tlv.contentStart, `${what} that is not a real date and time`);
  return date;
}

/** GeneralizedTime contents as DER and Kerberos write them: YYYYMMDDHHMMSSZ, no fraction (RFC 4120 5.2.3). */
export function readGeneralizedTime(bytes: Uint8Array, tlv: Tlv): Date {
  if (tlv.end - tlv.contentStart !== 15)
    throw new DerError('BAD_VALUE', tlv.contentStart, `a GeneralizedTime of ${tlv.end - tlv.contentStart} characters, not YYYYMMDDHHMMSSZ`);
  const year = decimal(bytes, tlv.contentStart, 4, 'a GeneralizedTime');
  return timeFields(bytes, tlv, tlv.contentStart + 4, year, 'a GeneralizedTime');
}

/** UTCTime contents as DER writes them: YYMMDDHHMMSSZ; YY below 50 is 20YY, else 19YY (RFC 5280 4.1.2.5.1). */
export function readUtcTime(bytes: Uint8Array, tlv: Tlv): Date {
  if (tlv.end - tlv.contentStart !== 13)
    throw new DerError('BAD_VALUE', tlv.contentStart, `a UTCTime of ${tlv.end - tlv.contentStart} characters, not YYMMDDHHMMSSZ`);
  const yy = decimal(bytes, tlv.contentStart, 2, 'a UTCTime');
  return timeFields(bytes, tlv, tlv.contentStart + 2, yy < 50 ? 2000 + yy : 1900 + yy, 'a UTCTime');
}

// ---------------------------------------------------------------------------------------------
// Contents (for IMPLICIT tags, or with tlv())

/** OBJECT IDENTIFIER contents for dotted text; RangeError for text that is not an OID. */
export function oidContents(oid: string): Uint8Array {
  const arcs = oid.split('.').map((arc) => (/^(0|[1-9][0-9]*)$/.test(arc) ? Number(arc) : NaN));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a)) || arcs[0]! > 2 || (arcs[0]! < 2 && arcs[1]! > 39))
    throw new RangeError(`${JSON.stringify(oid)} is not an object identifier`);
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const septets: number[] = [arc % 128];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) septets.unshift((rest % 128) | 0x80);
    out.push(...septets);
  }
  return Uint8Array.from(out);
}

/** INTEGER contents (X.690 8.3): the shortest two's-complement form of any integer. */
export function integerContents(value: number | bigint): Uint8Array {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`INTEGER ${value} is not a safe integer`);
  // The numbers every message carries (nonces, sequence numbers, etypes, microseconds) in 32-bit arithmetic, without BigInt.
  if (typeof value === 'number' && value >= -0x80000000 && value <= 0x7fffffff) return int32Contents(value);
  let v = BigInt(value);
  const out: number[] = [];
  // Emit octets from the low end until the rest is all sign (0 or -1) and the top bit already says so.
  for (;;) {
    const octet = Number(v & 0xffn);
    out.unshift(octet);
    v >>= 8n;
    if ((v === 0n && octet < 0x80) || (v === -1n && octet >= 0x80)) break;
  }
  return Uint8Array.from(out);
}

/** integerContents of a value in -2^31..2^31-1: the same octets. */
function int32Contents(value: number): Uint8Array {
  // The fewest octets whose sign bit matches the value's: 1 for -128..127, 2 for -32768..32767, ...
  const n = value >= -0x80 && value <= 0x7f ? 1 : value >= -0x8000 && value <= 0x7fff ? 2 : value >= -0x800000 && value <= 0x7fffff ? 3 : 4;
  const out = new Uint8Array(n);
  for (let i = n - 1, v = value; i >= 0; i--, v >>= 8) out[i] = v & 0xff;
  return out;
}

/** ENUMERATED contents of a non-negative value, shortest form. */
export function enumeratedContents(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError(`ENUMERATED ${value} is out of range`);
  return integerContents(value);
}

export function bitStringContents(bits: BitString): Uint8Array {
  const { bytes, unusedBits } = bits;
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0))
    throw new RangeError('a malformed BIT STRING');
  if (bytes.length > 0 && (bytes[bytes.length - 1]! & ((1 << unusedBits) - 1)) !== 0) throw new RangeError('a BIT STRING whose unused bits are not zero');
  const out = new Uint8Array(bytes.length + 1);
  out[0] = unusedBits;
  out.set(bytes, 1);
  return out;
}

const ASCII = /^[\x00-\x7f]*$/;
/** A UTF-16 surrogate without its pair: text UTF-8 cannot encode (TextEncoder would write U+FFFD). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** GeneralString contents for text in the charset (RangeError for Latin-1 text above U+00FF). */
export function generalStringContents(text: string, charset: GeneralStringCharset = 'utf8'): Uint8Array {
  if (charset === 'latin1') {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) throw new RangeError('a Latin-1 GeneralString holds U+0000-U+00FF only');
    return Uint8Array.from(Buffer.from(text, 'latin1'));
  }
  const ascii = asciiBytes(text);
  if (ascii !== undefined) return ascii;
  if (LONE_SURROGATE.test(text)) throw new RangeError('a GeneralString of text that is not well-formed UTF-16 (a lone surrogate)');
  return UTF8_ENCODER.encode(text);
}

const UTF8_ENCODER = new TextEncoder();

/** Text that is all ASCII as its bytes (its UTF-8 and Latin-1 alike), without a regexp or an encoder: names and realms in every message; undefined for any other text. */
function asciiBytes(text: string): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return undefined;
    out[i] = c;
  }
  return out;
}

function whole(date: Date, what: string): Date {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`${what} of an invalid Date`);
  if (ms % 1000 !== 0) throw new RangeError(`${what} holds whole seconds only (${date.toISOString()}): floor it first`);
  return date;
}

/** GeneralizedTime contents, YYYYMMDDHHMMSSZ, for a Date of whole seconds in years 0..9999. */
export function generalizedTimeContents(date: Date): Uint8Array {
  whole(date, 'a GeneralizedTime');
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`a GeneralizedTime's year is 0..9999, not ${year}`);
  const out = new Uint8Array(15);
  digits(out, 0, year, 4);
  digits(out, 4, date.getUTCMonth() + 1, 2);
  digits(out, 6, date.getUTCDate(), 2);
  digits(out, 8, date.getUTCHours(), 2);
  digits(out, 10, date.getUTCMinutes(), 2);
  digits(out, 12, date.getUTCSeconds(), 2);
  out[14] = 0x5a; // Z
  return out;
}

/** `value` as `count` ASCII decimal digits at `at`, zero-filled on the left. */
function digits(out: Uint8Array, at: number, value: number, count: number): void {
  for (let i = at + count - 1; i >= at; i--, value = Math.floor(value / 10)) out[i] = 0x30 + (value % 10);
}

/** UTCTime contents, YYMMDDHHMMSSZ, for a Date of whole seconds in 1950..2049. */
export function utcTimeContents(date: Date): Uint8Array {
  whole(date, 'a UTCTime');
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new RangeError(`a UTCTime's year is 1950..2049, not ${year}`);
  return generalizedTimeContents(date).subarray(2);
}

// ---------------------------------------------------------------------------------------------
// Writing whole values

/** A length in DER's shortest form. */
export function lengthOctets(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) throw new RangeError(`length ${length} cannot be encoded`);
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

// Scratch space for the values inside a message. A value is written as its own array, which its
// parent then copies: a message is built inside out, and each value of more than 64 bytes is an
// ArrayBuffer of its own outside V8's heap (about 0.6 us to allocate, and the collector's to
// track), once per nesting level. Inside derScratch the values are views of one scratch buffer
// instead, and only the whole message is copied out, into an array of its own.

const SCRATCH_BYTES = 16 * 1024;
let scratchBuffer: Uint8Array | undefined;
let scratchAt = 0;
let scratchDepth = 0;

/** `length` bytes for a value being written: scratch space inside derScratch while it lasts, else an array of its own. */
function allocate(length: number): Uint8Array {
  if (scratchDepth > 0 && scratchBuffer !== undefined && scratchAt + length <= SCRATCH_BYTES) {
    const out = scratchBuffer.subarray(scratchAt, scratchAt + length);
    scratchAt += length;
    return out;
  }
  return new Uint8Array(length);
}

/**
 * Runs `write` (which builds one message from the der* writers, synchronously) with its inner
 * values in scratch space, and returns the message in an array of its own. Nothing `write` builds
 * may be kept past it but what it returns: the scratch space is zeroed (an Authenticator's subkey
 * passes through it) and reused. Nested calls share the outermost one's space.
 */
export function derScratch(write: () => Uint8Array): Uint8Array {
  if (scratchDepth > 0) return write();
  scratchBuffer ??= new Uint8Array(SCRATCH_BYTES);
  scratchDepth = 1;
  try {
    const value = write();
    return value.buffer === scratchBuffer.buffer ? new Uint8Array(value) : value;
  } finally {
    scratchBuffer.fill(0, 0, scratchAt);
    scratchAt = 0;
    scratchDepth = 0;
  }
}

/** One value: its tag, its length, then `parts` concatenated as its contents. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & HIGH_TAG_NUMBER) === HIGH_TAG_NUMBER)
    throw new RangeError(`tag ${tag} is not a single-byte tag`);
  let length = 0;
  for (const p of parts) length += p.length;
  if (length > 0xffffffff) throw new RangeError(`length ${length} cannot be encoded`);
  // The length in DER's shortest form (lengthOctets), written in place.
  const lengthBytes = length < 0x80 ? 0 : length < 0x100 ? 1 : length < 0x10000 ? 2 : length < 0x1000000 ? 3 : 4;
  // Every byte of it is written below: scratch space needs no zeroing first.
  const out = allocate(2 + lengthBytes + length);
  out[0] = tag;
  if (lengthBytes === 0) out[1] = length;
  else {
    out[1] = 0x80 | lengthBytes;
    for (let i = lengthBytes, rest = length; i >= 1; i--, rest = Math.floor(rest / 256)) out[1 + i] = rest & 0xff;
  }
  let at = 2 + lengthBytes;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** SEQUENCE of the values given, in order (absent OPTIONAL fields are left out by the caller). */
export const derSequence = (...items: Uint8Array[]): Uint8Array => tlv(DER_TAG.SEQUENCE, ...items);
/** SET of the values given, in the order given (DER's sort, X.690 11.6, is the caller's: one element, as here, needs none). */
export const derSet = (...items: Uint8Array[]): Uint8Array => tlv(DER_TAG.SET, ...items);
/** [n] EXPLICIT: a constructed context tag around one whole value. */
export const derExplicit = (n: number, inner: Uint8Array): Uint8Array => tlv(contextTag(n), inner);
/** [n] IMPLICIT over a primitive type: the contents under a primitive context tag. */
export const derImplicit = (n: number, contents: Uint8Array): Uint8Array => tlv(implicitTag(n), contents);
/** [APPLICATION n] around the values given (Kerberos: [APPLICATION n] around one SEQUENCE). */
export const derApplication = (n: number, ...inner: Uint8Array[]): Uint8Array => tlv(applicationTag(n), ...inner);
export const derOctetString = (bytes: Uint8Array): Uint8Array => tlv(DER_TAG.OCTET_STRING, bytes);
export const derBoolean = (value: boolean): Uint8Array => tlv(DER_TAG.BOOLEAN, Uint8Array.of(value ? 0xff : 0x00));
export const derNull = (): Uint8Array => tlv(DER_TAG.NULL);
export const derInteger = (value: number | bigint): Uint8Array => tlv(DER_TAG.INTEGER, integerContents(value));
export const derEnumerated = (value: number): Uint8Array => tlv(DER_TAG.ENUMERATED, enumeratedContents(value));
/** A BIT STRING: bits with their unused-bit count, or whole bytes (keys and signatures). */
export const derBitString = (bits: BitString | Uint8Array): Uint8Array =>
  tlv(DER_TAG.BIT_STRING, bitStringContents(bits instanceof Uint8Array ? { bytes: bits, unusedBits: 0 } : bits));
export const derUtf8String = (text: string): Uint8Array => {
  if (LONE_SURROGATE.test(text)) throw new RangeError('a UTF8String of text that is not well-formed UTF-16 (a lone surrogate)');
  return tlv(DER_TAG.UTF8_STRING, new TextEncoder().encode(text));
};
export const derGeneralString = (text: string, charset: GeneralStringCharset = 'utf8'): Uint8Array => tlv(DER_TAG.GENERAL_STRING, generalStringContents(text, charset));
export const derIa5String = (text: string): Uint8Array => {
  if (!ASCII.test(text)) throw new RangeError('an IA5String holds ASCII only');
  return tlv(DER_TAG.IA5_STRING, Uint8Array.from(Buffer.from(text, 'latin1')));
};
export const derGeneralizedTime = (date: Date): Uint8Array => tlv(DER_TAG.GENERALIZED_TIME, generalizedTimeContents(date));
export const derUtcTime = (date: Date): Uint8Array => tlv(DER_TAG.UTC_TIME, utcTimeContents(date));

/** A non-negative INTEGER from its big-endian magnitude (a certificate serial): leading zeros dropped, a zero added before a high bit. */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  if (trimmed.length === 0) return tlv(DER_TAG.INTEGER, Uint8Array.of(0));
  return trimmed[0]! & 0x80 ? tlv(DER_TAG.INTEGER, Uint8Array.of(0), trimmed) : tlv(DER_TAG.INTEGER, trimmed);
}

/** The encodings of the OIDs this side sends (its handful of mechanisms and algorithms), made once. */
const oidCache = new Map<string, Uint8Array>();
const OID_CACHE_LIMIT = 64;

/** OBJECT IDENTIFIER with its tag and length. A copy: the caller may keep or change it. */
export function derOid(text: string): Uint8Array {
  let encoded = oidCache.get(text);
  if (encoded === undefined) {
    // An array of its own: inside derScratch, tlv's would be scratch space, zeroed after the message.
    encoded = new Uint8Array(tlv(DER_TAG.OBJECT_IDENTIFIER, oidContents(text)));
    if (oidCache.size < OID_CACHE_LIMIT) oidCache.set(text, encoded);
  }
  return encoded.slice();
}

// ---------------------------------------------------------------------------------------------
// A generic walk, for tools that show a structure they have no schema for

/** One value of a tree parseDerTree read: constructed values (bit 6 of the tag) with their children. */
export interface DerNode extends Tlv {
  readonly children?: readonly DerNode[];
}

export interface DerTreeLimits {
  /** How deep constructed values may nest (the outermost value is depth 1); TOO_DEEP past it. Default 32. */
  maxDepth?: number;
  /** How many values in all; TOO_MANY past it. Default 10,000. */
  maxNodes?: number;
}

/** The whole of `bytes` as a tree of TLVs, every header checked, depth and size bounded. */
export function parseDerTree(bytes: Uint8Array, limits: DerTreeLimits = {}): DerNode {
  const maxDepth = limits.maxDepth ?? 32;
  const maxNodes = limits.maxNodes ?? 10_000;
  let nodes = 0;
  const walk = (at: number, limit: number, depth: number): DerNode => {
    if (++nodes > maxNodes) throw new DerError('TOO_MANY', at, `more than ${maxNodes} values`);
    const node = readTlv(bytes, at, limit);
    if ((node.tag & 0x20) === 0) return node;
    if (depth >= maxDepth) throw new DerError('TOO_DEEP', at, `values nested more than ${maxDepth} deep`);
    const children: DerNode[] = [];
    for (let next = node.contentStart; next < node.end;) {
      const child = walk(next, node.end, depth + 1);
      children.push(child);
      next = child.end;
    }
    return { ...node, children };
  };
  const root = walk(0, bytes.length, 1);
  expectEnd(root.end, bytes.length, 'the outermost value');
  return root;
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
