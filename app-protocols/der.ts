// The few pieces of DER (ITU-T X.690) that an X.509 certificate needs: a writer for the
// self-signed certificate `serve --https` makes (certificate.ts), and a strict reader for the one
// field a TLS channel binding needs from any certificate, its signature algorithm (RFC 5929 4.1).
// Strict means DER, not BER: definite lengths in their shortest form, no length past its parent,
// every read checked against the bounds before it happens.

/** A DER encoding problem in bytes someone else made; `offset` is where it was found. */
export class DerError extends Error {
  override readonly name = 'DerError';
  readonly offset: number;
  constructor(offset: number, message: string) {
    super(`DER at offset ${offset}: ${message}`);
    this.offset = offset;
  }
}

/** Universal and context tags used here (X.690 8.1.2; X.509's implicit and explicit tags). */
export const DER_TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

// ---------------------------------------------------------------------------------------------
// Writing

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** One TLV: the tag byte, the length in its shortest form, the contents. */
export function tlv(tag: number, contents: Uint8Array): Uint8Array {
  const length = lengthBytes(contents.length);
  const out = new Uint8Array(1 + length.length + contents.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(contents, 1 + length.length);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export const sequence = (...items: Uint8Array[]): Uint8Array => tlv(DER_TAG.SEQUENCE, concat(items));
export const set = (...items: Uint8Array[]): Uint8Array => tlv(DER_TAG.SET, concat(items));
/** [n] EXPLICIT: a constructed context tag around a whole TLV. */
export const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner);
/** [n] IMPLICIT over a primitive: the contents under a context tag. */
export const implicit = (n: number, contents: Uint8Array): Uint8Array => tlv(0x80 | n, contents);
export const octetString = (bytes: Uint8Array): Uint8Array => tlv(DER_TAG.OCTET_STRING, bytes);
export const utf8String = (text: string): Uint8Array => tlv(DER_TAG.UTF8_STRING, new TextEncoder().encode(text));
export const derNull = (): Uint8Array => tlv(DER_TAG.NULL, new Uint8Array(0));
export const boolean = (value: boolean): Uint8Array => tlv(DER_TAG.BOOLEAN, Uint8Array.of(value ? 0xff : 0x00));
/** A BIT STRING of whole bytes (no unused bits), as keys and signatures are. */
export const bitString = (bytes: Uint8Array): Uint8Array => tlv(DER_TAG.BIT_STRING, concat([Uint8Array.of(0), bytes]));

/** A non-negative INTEGER from its big-endian magnitude: leading zeros dropped, a zero added before a high bit. */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const body = trimmed.length === 0 ? Uint8Array.of(0) : trimmed[0]! & 0x80 ? concat([Uint8Array.of(0), trimmed]) : trimmed;
  return tlv(DER_TAG.INTEGER, body);
}

export const smallInteger = (n: number): Uint8Array => unsignedInteger(Uint8Array.of(n));

/** An OBJECT IDENTIFIER from its dotted form (X.690 8.19). */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => Number(a));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`not an OID: ${dotted}`);
  const body: number[] = [];
  const push = (value: number): void => {
    const groups: number[] = [value & 0x7f];
    for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f));
    body.push(...groups);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(DER_TAG.OID, Uint8Array.from(body));
}

/** X.509's Time (RFC 5280 4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050, to the second, in UTC. */
export function time(date: Date): Uint8Array {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z';
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new Error(`a certificate time must be in 1950..9999, not ${year}`);
  return year < 2050 ? tlv(DER_TAG.UTC_TIME, new TextEncoder().encode(digits.slice(2))) : tlv(DER_TAG.GENERALIZED_TIME, new TextEncoder().encode(digits));
}

// ---------------------------------------------------------------------------------------------
// Reading

/** One TLV read from a buffer: its tag, where its contents are, and where the next TLV starts. */
export interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the contents (also the next TLV's offset). */
  end: number;
}

/** Reads the TLV at `offset`, which must end by `limit`; single-byte tags only (all that X.509 uses). */
export function readTlv(bytes: Uint8Array, offset: number, limit = bytes.length): Tlv {
  if (offset + 2 > limit) throw new DerError(offset, 'a TLV runs past its parent');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(offset, `a multi-byte tag (0x${tag.toString(16)})`);
  const first = bytes[offset + 1]!;
  let length: number;
  let start: number;
  if (first < 0x80) {
    length = first;
    start = offset + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new DerError(offset + 1, 'an indefinite length (BER, not DER)');
    if (count > 4) throw new DerError(offset + 1, `a ${count}-byte length`);
    if (offset + 2 + count > limit) throw new DerError(offset + 1, 'a length runs past its parent');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i]!;
    if (length < 0x80 || bytes[offset + 2] === 0) throw new DerError(offset + 1, 'a length not in its shortest form');
    start = offset + 2 + count;
  }
  const end = start + length;
  if (end > limit) throw new DerError(offset, `contents of ${length} bytes run past their parent (${limit - start} left)`);
  return { tag, start, end };
}

/** Reads a TLV and checks its tag. */
export function expectTlv(bytes: Uint8Array, offset: number, tag: number, what: string, limit = bytes.length): Tlv {
  const t = readTlv(bytes, offset, limit);
  if (t.tag !== tag) throw new DerError(offset, `${what}: tag 0x${t.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return t;
}

/** The dotted form of an OBJECT IDENTIFIER's contents. */
export function readOid(bytes: Uint8Array, t: Tlv): string {
  if (t.end === t.start) throw new DerError(t.start, 'an empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (let i = t.start; i < t.end; i++) {
    const b = bytes[i]!;
    if (value === 0 && b === 0x80) throw new DerError(i, 'an OID arc with a leading 0x80 (not minimal)');
    value = value * 128 + (b & 0x7f);
    if (!Number.isSafeInteger(value)) throw new DerError(i, 'an OID arc too large');
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    } else if (i === t.end - 1) throw new DerError(i, 'an OID that ends inside an arc');
  }
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}
