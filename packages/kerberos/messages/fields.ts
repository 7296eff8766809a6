// RFC 4120's ASN.1 style, on the kit's DER codec: every structure is a SEQUENCE of EXPLICIT
// context-tagged fields [n], some OPTIONAL, and the primitive types are Int32, UInt32,
// Microseconds, KerberosString, KerberosTime, OCTET STRING and KerberosFlags (section 5.2).
// FieldReader reads such a SEQUENCE (fields in order, each once, the required ones present, every
// value's tag checked before it is read); the write helpers make one.
//
// Unknown fields: RFC 4120's module has no extension markers, yet later RFCs added fields at the
// end of its SEQUENCEs (RFC 6806's encrypted-pa-data [12] in EncKDCRepPart), and section 5.1
// asks implementations to be liberal in what they accept. So a field numbered past the last one a
// structure defines is skipped (it is not re-encoded: such a message does not round-trip byte for
// byte, which only matters to a signature over it, and Kerberos signs no structure it would have
// to re-encode); a field numbered below the first one is BAD_TAG.

import {
  DER_TAG,
  DerError,
  derBitString,
  derExplicit,
  derGeneralizedTime,
  derGeneralString,
  derInteger,
  derOctetString,
  derSequence,
  readBitString,
  readExplicit,
  readFields,
  readGeneralizedTime,
  readGeneralString,
  readInt32,
  readOctetString,
  readSequenceOf,
  readUInt32,
  type Tlv,
} from '../../kit/index.js';

export class FieldReader {
  private readonly found: Map<number, Tlv>;
  private readonly bytes: Uint8Array;
  private readonly sequence: Tlv;
  private readonly what: string;

  /** The fields of `sequence` (a SEQUENCE's TLV), numbered `first` to `last`. */
  constructor(bytes: Uint8Array, sequence: Tlv, first: number, last: number, what: string) {
    this.bytes = bytes;
    this.sequence = sequence;
    this.what = what;
    this.found = readFields(bytes, sequence, last, what);
    for (const [n, field] of this.found) if (n < first) throw new DerError('BAD_TAG', field.start, `${what} has no field [${n}]`);
  }

  /** The value inside [n], of tag `tag`; undefined when the field is absent. */
  optional(n: number, tag: number, name: string): Tlv | undefined {
    const field = this.found.get(n);
    return field === undefined ? undefined : readExplicit(this.bytes, field, tag, `${this.what}.${name}`);
  }

  /** The value inside [n], of tag `tag`; BAD_TAG when the field is absent. */
  required(n: number, tag: number, name: string): Tlv {
    const value = this.optional(n, tag, name);
    if (value === undefined) throw new DerError('BAD_TAG', this.sequence.contentStart, `${this.what}.${name} [${n}] is missing`);
    return value;
  }

  int32(n: number, name: string): number {
    return readInt32(this.bytes, this.required(n, DER_TAG.INTEGER, name));
  }

  optionalInt32(n: number, name: string): number | undefined {
    const t = this.optional(n, DER_TAG.INTEGER, name);
    return t === undefined ? undefined : readInt32(this.bytes, t);
  }

  uint32(n: number, name: string): number {
    return readUInt32(this.bytes, this.required(n, DER_TAG.INTEGER, name));
  }

  optionalUInt32(n: number, name: string): number | undefined {
    const t = this.optional(n, DER_TAG.INTEGER, name);
    return t === undefined ? undefined : readUInt32(this.bytes, t);
  }

  /** An Int32 that must be `expected` (pvno 5, a message's own msg-type): BAD_VALUE otherwise. */
  constant(n: number, name: string, expected: number): number {
    const t = this.required(n, DER_TAG.INTEGER, name);
    const value = readInt32(this.bytes, t);
    if (value !== expected) throw new DerError('BAD_VALUE', t.contentStart, `${this.what}.${name} is ${value}, not ${expected}`);
    return value;
  }

  microseconds(n: number, name: string): number {
    return checkMicroseconds(this.bytes, this.required(n, DER_TAG.INTEGER, name), `${this.what}.${name}`);
  }

  optionalMicroseconds(n: number, name: string): number | undefined {
    const t = this.optional(n, DER_TAG.INTEGER, name);
    return t === undefined ? undefined : checkMicroseconds(this.bytes, t, `${this.what}.${name}`);
  }

  string(n: number, name: string): string {
    return readGeneralString(this.bytes, this.required(n, DER_TAG.GENERAL_STRING, name));
  }

  optionalString(n: number, name: string): string | undefined {
    const t = this.optional(n, DER_TAG.GENERAL_STRING, name);
    return t === undefined ? undefined : readGeneralString(this.bytes, t);
  }

  time(n: number, name: string): Date {
    return readGeneralizedTime(this.bytes, this.required(n, DER_TAG.GENERALIZED_TIME, name));
  }

  optionalTime(n: number, name: string): Date | undefined {
    const t = this.optional(n, DER_TAG.GENERALIZED_TIME, name);
    return t === undefined ? undefined : readGeneralizedTime(this.bytes, t);
  }

  octets(n: number, name: string): Uint8Array {
    return readOctetString(this.bytes, this.required(n, DER_TAG.OCTET_STRING, name));
  }

  optionalOctets(n: number, name: string): Uint8Array | undefined {
    const t = this.optional(n, DER_TAG.OCTET_STRING, name);
    return t === undefined ? undefined : readOctetString(this.bytes, t);
  }

  flags(n: number, name: string): number {
    return readKerberosFlags(this.bytes, this.required(n, DER_TAG.BIT_STRING, name), `${this.what}.${name}`);
  }

  optionalFlags(n: number, name: string): number | undefined {
    const t = this.optional(n, DER_TAG.BIT_STRING, name);
    return t === undefined ? undefined : readKerberosFlags(this.bytes, t, `${this.what}.${name}`);
  }

  /** A SEQUENCE OF `tag` inside [n], at most `max` elements, each read by `read`. */
  list<T>(n: number, name: string, tag: number, max: number, read: (element: Tlv) => T): T[] {
    return readSequenceOf(this.bytes, this.required(n, DER_TAG.SEQUENCE, name), tag, max, `${this.what}.${name}`, read);
  }

  optionalList<T>(n: number, name: string, tag: number, max: number, read: (element: Tlv) => T): T[] | undefined {
    const t = this.optional(n, DER_TAG.SEQUENCE, name);
    return t === undefined ? undefined : readSequenceOf(this.bytes, t, tag, max, `${this.what}.${name}`, read);
  }
}

function checkMicroseconds(bytes: Uint8Array, t: Tlv, what: string): number {
  const value = readInt32(bytes, t);
  if (value < 0 || value > 999_999) throw new DerError('BAD_VALUE', t.contentStart, `${what} is ${value}, not a Microseconds (0..999999)`);
  return value;
}

/**
 * KerberosFlags (RFC 4120 5.2.8): a BIT STRING of at least 32 bits, which every implementation
 * writes as exactly 32 (not DER's minimal form, which would drop trailing zero bits). Read as
 * exactly that: 32 bits, no unused bits, as a uint32 whose bit 0 is 0x80000000. Anything else
 * (fewer bits, more bits) is BAD_VALUE, since it would not re-encode as it came.
 */
export function readKerberosFlags(bytes: Uint8Array, t: Tlv, what: string): number {
  const bits = readBitString(bytes, t);
  if (bits.unusedBits !== 0 || bits.bytes.length !== 4)
    throw new DerError('BAD_VALUE', t.contentStart, `${what}: KerberosFlags of ${bits.bytes.length * 8 - bits.unusedBits} bits, not 32`);
  return ((bits.bytes[0]! << 24) | (bits.bytes[1]! << 16) | (bits.bytes[2]! << 8) | bits.bytes[3]!) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** A SEQUENCE of the fields given, absent (undefined) OPTIONAL ones left out. */
export function fields(...items: Array<Uint8Array | undefined>): Uint8Array {
  return derSequence(...items.filter((item): item is Uint8Array => item !== undefined));
}

/** [n] EXPLICIT around an encoded value. */
export const field = (n: number, value: Uint8Array): Uint8Array => derExplicit(n, value);

/** [n] EXPLICIT around `encode(value)`, or nothing when the value is absent. */
export function optionalField<T>(n: number, value: T | undefined, encode: (v: T) => Uint8Array): Uint8Array | undefined {
  return value === undefined ? undefined : derExplicit(n, encode(value));
}

export function int32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`${value} is not an Int32`);
  return derInteger(value);
}

export function uint32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${value} is not a UInt32`);
  return derInteger(value);
}

export function microseconds(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 999_999) throw new RangeError(`${value} is not a Microseconds (0..999999)`);
  return derInteger(value);
}

/** KerberosString: a GeneralString of UTF-8 (IA5 in the RFC; see the kit's DER codec). */
export const kerberosString = (text: string): Uint8Array => derGeneralString(text, 'utf8');

/** KerberosTime: GeneralizedTime YYYYMMDDHHMMSSZ, whole seconds (the microseconds travel apart, in cusec/susec). */
export const kerberosTime = (date: Date): Uint8Array => derGeneralizedTime(date);

export const octets = (bytes: Uint8Array): Uint8Array => derOctetString(bytes);

/** KerberosFlags as 32 bits (see readKerberosFlags). */
export function kerberosFlags(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`KerberosFlags ${value} is not a uint32`);
  return derBitString(Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff));
}

/** SEQUENCE OF the encoded elements. */
export const sequenceOf = <T>(items: readonly T[], encode: (item: T) => Uint8Array): Uint8Array => derSequence(...items.map(encode));
