// A strict DER codec (ITU-T X.690 section 10, over the BER rules of section 8) for what SPNEGO
// carries: SEQUENCE, context-specific and APPLICATION tags, OBJECT IDENTIFIER, OCTET STRING,
// ENUMERATED, BIT STRING, GeneralString. Symmetric pure functions over Uint8Array.
//
// Reading treats its input as hostile: every tag, length and value is checked against the bytes
// before anything is read, and any problem throws DerError with a code and the byte offset, in
// the outermost buffer, of what is wrong. What DER forbids is refused, not repaired:
// - only definite lengths (0x80, BER's indefinite form, is INDEFINITE_LENGTH);
// - lengths in their shortest form (a long form that fits in fewer bytes is NON_MINIMAL_LENGTH),
//   of at most 4 bytes;
// - single-byte tags (the high-tag-number form 0x1F is never used by SPNEGO: BAD_TAG);
// - OIDs with no sub-identifier padded with 0x80, none cut off, each below 2^53;
// - ENUMERATED in its shortest two's-complement form; BIT STRING with 0-7 unused bits, all zero.

import { EmuError } from '../kit/index.js';

export type DerErrorCode =
  | 'TRUNCATED' // the bytes end before a tag, a length or a value does
  | 'BAD_TAG' // not the tag the structure has here (or a tag form DER/SPNEGO does not use)
  | 'INDEFINITE_LENGTH' // BER's indefinite length (0x80): DER allows only definite ones
  | 'NON_MINIMAL_LENGTH' // a length not in its shortest form
  | 'BAD_LENGTH' // a length past the enclosing value, or one that a value of this type cannot have
  | 'BAD_OID' // an OBJECT IDENTIFIER that is empty, cut off, padded or too large
  | 'BAD_VALUE' // a primitive value DER does not allow (non-minimal integer, unknown enumeration, stray bits)
  | 'TRAILING_BYTES'; // bytes after the end of what the structure holds

/** A malformed DER structure. `offset` is the byte offset, in the outermost buffer, of the problem. */
export class DerError extends EmuError<DerErrorCode> {
  override readonly name = 'DerError';

  readonly offset: number;

  constructor(code: DerErrorCode, offset: number, message: string) {
    super(code, message);
    this.offset = offset;
  }
}

/** The tags SPNEGO uses (X.690 8.1.2: class in bits 8-7, constructed in bit 6, number below). */
export const TAG = {
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OBJECT_IDENTIFIER: 0x06,
  ENUMERATED: 0x0a,
  GENERAL_STRING: 0x1b,
  SEQUENCE: 0x30,
  /** [APPLICATION 0] constructed: GSS-API's InitialContextToken (RFC 2743 3.1). */
  APPLICATION_0: 0x60,
} as const;

/** [n] constructed, context-specific (EXPLICIT tagging, as SPNEGO's module uses). */
export function contextTag(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`context tag [${n}] does not fit a single-byte tag`);
  return 0xa0 | n;
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
  if ((tag & HIGH_TAG_NUMBER) === HIGH_TAG_NUMBER) throw new DerError('BAD_TAG', at, `tag 0x${hex2(tag)} is the high-tag-number form, which SPNEGO never uses`);
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
    if (octets > MAX_LENGTH_OCTETS) throw new DerError('BAD_LENGTH', lengthAt, `a length of ${octets} octets is longer than any token`);
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

// ---------------------------------------------------------------------------------------------
// Primitive values

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

/** ENUMERATED contents (X.690 8.4, as INTEGER 8.3): the shortest two's-complement form, a value 0 to 2^31-1. */
export function readEnumerated(bytes: Uint8Array, tlv: Tlv): number {
  const { contentStart: from, end } = tlv;
  const length = end - from;
  if (length === 0) throw new DerError('BAD_VALUE', tlv.start, 'an ENUMERATED with no contents');
  if (length > 4) throw new DerError('BAD_VALUE', from, `an ENUMERATED of ${length} bytes is out of range`);
  // 8.3.2: the first 9 bits are never all zero or all one.
  if (length > 1 && ((bytes[from] === 0 && bytes[from + 1]! < 0x80) || (bytes[from] === 0xff && bytes[from + 1]! >= 0x80)))
    throw new DerError('BAD_VALUE', from, 'an ENUMERATED not in its shortest form');
  if (bytes[from]! >= 0x80) throw new DerError('BAD_VALUE', from, 'a negative ENUMERATED');
  let value = 0;
  for (let i = from; i < end; i++) value = value * 256 + bytes[i]!;
  return value;
}

/** ENUMERATED contents of a non-negative value, shortest form. */
export function enumeratedContents(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError(`ENUMERATED ${value} is out of range`);
  const out: number[] = [value & 0xff];
  for (let rest = Math.floor(value / 256); rest > 0; rest = Math.floor(rest / 256)) out.unshift(rest & 0xff);
  if (out[0]! >= 0x80) out.unshift(0);
  return Uint8Array.from(out);
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
  return { bytes: bytes.slice(from + 1, end), unusedBits };
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

// ---------------------------------------------------------------------------------------------
// Writing

/** A length in DER's shortest form. */
export function lengthOctets(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) throw new RangeError(`length ${length} cannot be encoded`);
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

/** One value: its tag, its length, then `parts` concatenated as its contents. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & HIGH_TAG_NUMBER) === HIGH_TAG_NUMBER)
    throw new RangeError(`tag ${tag} is not a single-byte tag`);
  let length = 0;
  for (const p of parts) length += p.length;
  const header = lengthOctets(length);
  const out = new Uint8Array(1 + header.length + length);
  out[0] = tag;
  out.set(header, 1);
  let at = 1 + header.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The encodings of the OIDs this side sends (its handful of mechanisms), made once. */
const oidCache = new Map<string, Uint8Array>();
const OID_CACHE_LIMIT = 64;

/** OBJECT IDENTIFIER with its tag and length. A copy: the caller may keep or change it. */
export function oid(text: string): Uint8Array {
  let encoded = oidCache.get(text);
  if (encoded === undefined) {
    encoded = tlv(TAG.OBJECT_IDENTIFIER, oidContents(text));
    if (oidCache.size < OID_CACHE_LIMIT) oidCache.set(text, encoded);
  }
  return encoded.slice();
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
