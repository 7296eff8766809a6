// The field codec of the Netlogon messages (messages.ts) and of NTLM's pass-through logon
// (passthrough.ts): little-endian integers, fixed byte fields, byte fields with a u32 count, and
// strings as UTF-16LE with a u32 byte count. Writers are checked against the same bounds readers
// enforce, so that nothing this side sends is refused by the other; readers check every length
// before they read, and refuse with a NetlogonWireError naming the field and its offset.

import { EmuError } from '../../kit/index.js';

/** The longest string field, in characters (a NetBIOS or DNS name, a user or package name). */
export const MAX_STRING_CHARS = 256;
/** The longest byte field (LogonData, ValidationData, an NTLMv2 response). */
export const MAX_BLOB_BYTES = 32 * 1024;

export type NetlogonWireErrorCode = 'TRUNCATED' | 'BAD_VERSION' | 'BAD_KIND' | 'UNKNOWN_OPNUM' | 'TOO_LONG' | 'BAD_STRING' | 'BAD_VALUE' | 'TRAILING_BYTES';

/** Bytes that are not a Netlogon message (or pass-through logon): which field, and where. */
export class NetlogonWireError extends EmuError<NetlogonWireErrorCode> {
  override readonly name = 'NetlogonWireError';
  readonly offset: number;

  constructor(code: NetlogonWireErrorCode, message: string, offset: number) {
    super(code, `${message} (at offset ${offset})`);
    this.offset = offset;
  }
}

export class FieldWriter {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.length += bytes.length;
    return this;
  }

  u8(value: number): this {
    return this.push(Uint8Array.of(value & 0xff));
  }

  u16(value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(value & 0xffff, 0);
    return this.push(b);
  }

  u32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0, 0);
    return this.push(b);
  }

  fixed(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new RangeError(`a field of ${length} bytes was given ${bytes.length}`);
    return this.push(new Uint8Array(bytes));
  }

  blob(bytes: Uint8Array, max = MAX_BLOB_BYTES): this {
    if (bytes.length > max) throw new RangeError(`a field of ${bytes.length} bytes is longer than ${max}`);
    return this.u32(bytes.length).push(new Uint8Array(bytes));
  }

  string(text: string): this {
    if (text.length > MAX_STRING_CHARS) throw new RangeError(`a name of ${text.length} characters is longer than ${MAX_STRING_CHARS}`);
    return this.blob(new Uint8Array(Buffer.from(text, 'utf16le')));
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

export class FieldReader {
  private at = 0;
  private readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  get offset(): number {
    return this.at;
  }

  private need(n: number, what: string): void {
    if (this.at + n > this.bytes.length) throw new NetlogonWireError('TRUNCATED', `${what} runs past the end of a ${this.bytes.length}-byte message`, this.at);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.at++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.bytes[this.at]! | (this.bytes[this.at + 1]! << 8);
    this.at += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = (this.bytes[this.at]! | (this.bytes[this.at + 1]! << 8) | (this.bytes[this.at + 2]! << 16) | (this.bytes[this.at + 3]! << 24)) >>> 0;
    this.at += 4;
    return v;
  }

  fixed(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  blob(what: string, max = MAX_BLOB_BYTES): Uint8Array {
    const start = this.at;
    const n = this.u32(`${what}'s length`);
    if (n > max) throw new NetlogonWireError('TOO_LONG', `${what} of ${n} bytes is longer than ${max}`, start);
    return this.fixed(n, what);
  }

  string(what: string): string {
    const start = this.at;
    const bytes = this.blob(what, 2 * MAX_STRING_CHARS);
    if (bytes.length % 2 !== 0) throw new NetlogonWireError('BAD_STRING', `${what} has an odd number of bytes (${bytes.length}) for UTF-16`, start);
    const text = Buffer.from(bytes).toString('utf16le');
    // A string that does not survive a round trip (a lone surrogate) is not a name.
    if (Buffer.from(text, 'utf16le').compare(Buffer.from(bytes)) !== 0) throw new NetlogonWireError('BAD_STRING', `${what} is not valid UTF-16`, start);
    return text;
  }

  rest(): Uint8Array {
    const out = this.bytes.slice(this.at);
    this.at = this.bytes.length;
    return out;
  }

  end(): void {
    if (this.at !== this.bytes.length)
      throw new NetlogonWireError('TRAILING_BYTES', `${this.bytes.length - this.at} bytes after the message's last field`, this.at);
  }
}
