// MIT's keytab file format, version 0x0502 (MIT krb5 src/lib/krb5/keytab/kt_file.c and its
// doc/formats/keytab_file_format.rst), which Heimdal, Java, Samba and Windows' ktpass also write:
// what `sspi-emu dc --export-keytab` writes for MIT acceptors, and what the tests read from
// MIT's ktutil. Big-endian throughout:
//
//   file       ::= 0x05 0x02, then records until the end
//   record     ::= int32 size, then `size` bytes of entry (a negative size is a hole of -size bytes
//                  left by a deleted entry, skipped)
//   entry      ::= uint16 count of components, counted realm, `count` counted components,
//                  uint32 name type, uint32 timestamp (seconds since 1970), uint8 kvno (its low
//                  8 bits), uint16 key type (the etype), counted key bytes, then optionally a
//                  uint32 kvno (the whole of it, which wins when present and not zero)
//   counted    ::= uint16 length, `length` bytes
//
// Version 0x0501 (the component count included the realm; no name type; native byte order) is
// refused: nothing has written it since the 1990s. Strings are read as UTF-8 (MIT stores bytes;
// principal names are ASCII or UTF-8 in practice). Bytes past the 32-bit kvno inside an entry,
// which later versions might add, are skipped, as MIT skips them. Every length is checked against
// the bytes before it is read; a problem is a KeytabError with a code and the byte offset.

import { copyOf, EmuError } from '../kit/index.js';

export type KeytabErrorCode = 'BAD_VERSION' | 'TRUNCATED' | 'BAD_ENTRY';

export class KeytabError extends EmuError<KeytabErrorCode> {
  override readonly name = 'KeytabError';
  readonly offset: number;

  constructor(code: KeytabErrorCode, offset: number, message: string) {
    super(code, message);
    this.offset = offset;
  }
}

export const KEYTAB_VERSION = 0x0502;

/** Bounds an entry must keep: a small file must not make the reader build a huge one. */
const MAX_COMPONENTS = 32;

export interface KeytabPrincipal {
  realm: string;
  /** "host", "localhost" for host/localhost. */
  components: string[];
  /** KRB_NT_PRINCIPAL (1), KRB_NT_SRV_HST (3), ... */
  nameType: number;
}

export interface KeytabEntry {
  principal: KeytabPrincipal;
  /** When the key was written, in seconds since 1970 (uint32). */
  timestamp: number;
  /** The key version number (uint32; the 8-bit field holds its low byte). */
  kvno: number;
  /** The key: its etype (keytype) and bytes, as RFC 4120's EncryptionKey. */
  key: { keytype: number; keyvalue: Uint8Array };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function counted(text: string | Uint8Array, what: string): Uint8Array {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  if (bytes.length > 0xffff) throw new RangeError(`${what} of ${bytes.length} bytes does not fit a keytab's 16-bit length`);
  const out = new Uint8Array(2 + bytes.length);
  out[0] = bytes.length >> 8;
  out[1] = bytes.length & 0xff;
  out.set(bytes, 2);
  return out;
}

function uint(value: number, bytes: 1 | 2 | 4, what: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** (8 * bytes)) throw new RangeError(`${what} ${value} does not fit ${bytes * 8} bits`);
  const out = new Uint8Array(bytes);
  for (let i = bytes - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  return out;
}

function packEntry(entry: KeytabEntry): Uint8Array {
  const { principal, key } = entry;
  if (principal.components.length === 0 || principal.components.length > MAX_COMPONENTS)
    throw new RangeError(`a principal of ${principal.components.length} components (1 to ${MAX_COMPONENTS})`);
  const parts = [
    uint(principal.components.length, 2, 'the component count'),
    counted(principal.realm, 'the realm'),
    ...principal.components.map((c) => counted(c, 'a component')),
    uint(principal.nameType >>> 0, 4, 'the name type'),
    uint(entry.timestamp, 4, 'the timestamp'),
    uint(entry.kvno & 0xff, 1, 'the 8-bit kvno'),
    uint(key.keytype, 2, 'the key type'),
    counted(key.keyvalue, 'the key'),
    uint(entry.kvno, 4, 'the kvno'),
  ];
  return Buffer.concat(parts);
}

/** A keytab file holding `entries`, in order. */
export function packKeytab(entries: readonly KeytabEntry[]): Uint8Array {
  const records: Uint8Array[] = [uint(KEYTAB_VERSION, 2, 'the version')];
  for (const entry of entries) {
    const body = packEntry(entry);
    records.push(uint(body.length, 4, 'the entry size'), body);
  }
  return new Uint8Array(Buffer.concat(records));
}

/** The entries of a keytab file, holes skipped. */
export function unpackKeytab(bytes: Uint8Array): KeytabEntry[] {
  if (bytes.length < 2) throw new KeytabError('TRUNCATED', 0, 'a keytab shorter than its version');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(0);
  if (version !== KEYTAB_VERSION)
    throw new KeytabError('BAD_VERSION', 0, `keytab version 0x${version.toString(16).padStart(4, '0')}, not 0x0502${version === 0x0501 ? ' (0x0501 is not read here)' : ''}`);
  const entries: KeytabEntry[] = [];
  let at = 2;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new KeytabError('TRUNCATED', at, 'a record size is cut off');
    const size = view.getInt32(at);
    at += 4;
    if (size === 0) throw new KeytabError('BAD_ENTRY', at - 4, 'a record of size 0');
    const length = Math.abs(size);
    if (at + length > bytes.length) throw new KeytabError('TRUNCATED', at - 4, `a record of ${length} bytes but ${bytes.length - at} remain`);
    if (size > 0) entries.push(readEntry(bytes, view, at, at + length));
    at += length;
  }
  return entries;
}

function readEntry(bytes: Uint8Array, view: DataView, start: number, end: number): KeytabEntry {
  let at = start;
  const need = (n: number, what: string): void => {
    if (at + n > end) throw new KeytabError('BAD_ENTRY', at, `${what} runs past the end of its entry`);
  };
  const u16 = (what: string): number => {
    need(2, what);
    const v = view.getUint16(at);
    at += 2;
    return v;
  };
  const u32 = (what: string): number => {
    need(4, what);
    const v = view.getUint32(at);
    at += 4;
    return v;
  };
  const data = (what: string): Uint8Array => {
    const length = u16(`the length of ${what}`);
    need(length, what);
    const out = copyOf(bytes, at, at + length);
    at += length;
    return out;
  };
  const text = (what: string): string => {
    const from = at;
    try {
      return UTF8.decode(data(what));
    } catch (error) {
      if (error instanceof KeytabError) throw error;
      throw new KeytabError('BAD_ENTRY', from, `${what} is not UTF-8`);
    }
  };
  const countAt = at;
  const count = u16('the component count');
  if (count === 0 || count > MAX_COMPONENTS) throw new KeytabError('BAD_ENTRY', countAt, `a principal of ${count} components (1 to ${MAX_COMPONENTS})`);
  const realm = text('the realm');
  const components: string[] = [];
  for (let i = 0; i < count; i++) components.push(text(`component ${i + 1}`));
  const nameType = u32('the name type') | 0; // an Int32 in RFC 4120: Windows' own types are negative
  const timestamp = u32('the timestamp');
  need(1, 'the 8-bit kvno');
  const kvno8 = bytes[at]!;
  at += 1;
  const keytype = u16('the key type');
  const keyvalue = data('the key');
  // The 32-bit kvno, when the entry has room for it; MIT uses it unless it is zero.
  const kvno32 = at + 4 <= end ? u32('the 32-bit kvno') : 0;
  return { principal: { realm, components, nameType }, timestamp, kvno: kvno32 !== 0 ? kvno32 : kvno8, key: { keytype, keyvalue } };
}
