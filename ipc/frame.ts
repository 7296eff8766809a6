// The LPC channel's wire format: every message a turn sends, encoded into one ArrayBuffer that is
// transferred, not cloned. Measured here (reference/ipc-costs.md, and `node --cpu-prof` of the
// LSA during `bench --package null`): structured clone of the nested message objects (SecBuffer
// arrays, bigints, objects with a dozen keys) was about 40% of the LSA thread; writing the same
// messages by a schema costs about a quarter of that on both ends.
//
// A message is still the typed union of ipc/rpc.ts ({ kind, id, op, body }) on both sides: the
// encoder takes it and the decoder gives it back, so taps, traces, fault filters and the op
// decoders of ipc/lpc.ts see exactly the objects they saw before. What changes is only the bytes:
//
//   frame   := message*
//   message := u32 length, u8 kind, f64 id, u8 op (255: the op's name as a string follows), body
//   body    := u8 form; form 0: the op's schema fields in order, each a value (ABSENT when the
//              field is missing), then u16 count of other fields, each a key and a value;
//              form 1: one value (a body that is not a plain object, or a failure's error)
//   value   := u8 tag, then what the tag says (see Tag)
//
// Each message carries its own length, so one malformed message is dropped and the rest of its
// frame still read. The decoder trusts no length, count or tag: every read is bounds-checked,
// nesting is capped, and a side that decodes what untrusted code posts (the LSA) refuses the one
// tag that would hand bytes to v8's deserializer (STRUCTURED, used only for values the schema
// cannot say, like a Date in a package's QueryContextAttributes buffer going to a process).

import { deserialize, serialize } from 'node:v8';

/** The vocabulary's names, in an order both ends share: ops by index, object keys by index. */
export interface FrameVocabulary {
  /** Each op's request and reply fields, in the order they are written. */
  readonly ops: Readonly<Record<string, { readonly request: readonly string[]; readonly reply: readonly string[] }>>;
  /** Keys of nested objects written as one byte (SecBuffer, SecPkgInfo, MappedContextDelivery, errors, ...). */
  readonly keys: readonly string[];
}

export interface FrameCodecOptions {
  /**
   * Whether values the schema cannot say (STRUCTURED: v8-serialized) are accepted when decoding.
   * Only for frames from a trusted sender: the LSA decodes what processes post with this off.
   */
  acceptStructured: boolean;
  /**
   * How many values (each tag read: a number, a string, a buffer, an array or object with its
   * items) a frame may hold, and one message of it; a frame past either is not read further and
   * is reported `overBudget`. Off (Infinity) unless given: the LSA gives them for what processes
   * post, since a few bytes a value decode into tens of bytes of heap each (an array of empty
   * objects: three bytes each, twenty-odd times that on the heap) and no request needs more than a
   * few dozen values.
   */
  valueBudget?: { perFrame: number; perMessage: number };
  /**
   * Whether decoded bytes (SecBuffers, byte fields) are views into the frame rather than copies:
   * for a receiver that copies whatever it keeps (the LSA: dispatch copies every buffer it hands a
   * package, the function table what a process answers), so a buffer is copied once, not twice.
   * The frame is the receiver's alone (transferred, or read fresh from a socket): its sender can no
   * longer write into it. A view keeps its whole frame alive while it lives.
   */
  viewBytes?: boolean;
}

/** What the receiving side gets from one frame. */
export interface DecodedFrame {
  messages: unknown[];
  /** The encoded size of each message, for the inbox's byte limit. */
  sizes: number[];
  /** Messages that could not be read and were dropped. */
  malformed: number;
  /** The frame held more values than the codec's budget (valueBudget): reading it stopped there. */
  overBudget?: true;
}

/** The LSA's value budget for what a process posts (FrameCodecOptions.valueBudget). */
export const UNTRUSTED_VALUE_BUDGET = { perFrame: 1 << 16, perMessage: 4096 } as const;

/** A frame or message past the codec's value budget. */
class OverBudget extends RangeError {}

/** Value tags. */
const Tag = {
  ABSENT: 0,
  NULL: 1,
  FALSE: 2,
  TRUE: 3,
  U32: 4,
  F64: 5,
  STRING: 6,
  BIGINT64: 7,
  BIGINT_TEXT: 8,
  BYTES: 9,
  ARRAY: 10,
  OBJECT: 11,
  SECBUFFER: 12,
  STRUCTURED: 13,
} as const;

const KIND_NAMES = ['call', 'return', 'fail'] as const;
const KIND_CODES: Readonly<Record<string, number>> = { call: 0, return: 1, fail: 2 };
const OTHER = 255;
/** Deepest nesting a decoder follows (a SecBuffer array in a body is 3). */
const MAX_DEPTH = 32;
/** Strings this long and longer are written and read through Buffer's UTF-16 codec. */
const LONG_STRING = 48;

/** A message that could not be encoded (it holds a function, a symbol, a cycle): its own call fails. */
export class UnencodableMessage extends Error {
  override readonly name = 'DataCloneError';
}

export class FrameCodec {
  private readonly opNames: string[];
  private readonly opCodes = new Map<string, number>();
  private readonly requestFields: Array<readonly string[]>;
  private readonly replyFields: Array<readonly string[]>;
  private readonly requestSets: Array<ReadonlySet<string>>;
  private readonly replySets: Array<ReadonlySet<string>>;
  private readonly keyNames: readonly string[];
  private readonly keyCodes = new Map<string, number>();
  private readonly acceptStructured: boolean;
  private readonly viewBytes: boolean;
  private readonly writer = new Writer();
  /** Recent strings, for a codec that decodes a trusted sender's frames (StringCache). */
  private readonly strings: StringCache | undefined;
  private readonly valueBudget: { perFrame: number; perMessage: number };

  constructor(vocabulary: FrameVocabulary, options: FrameCodecOptions) {
    this.opNames = Object.keys(vocabulary.ops);
    if (this.opNames.length >= OTHER || vocabulary.keys.length >= OTHER) throw new RangeError('a frame vocabulary holds at most 254 ops and 254 keys');
    this.opNames.forEach((op, i) => this.opCodes.set(op, i));
    this.requestFields = this.opNames.map((op) => vocabulary.ops[op]!.request);
    this.replyFields = this.opNames.map((op) => vocabulary.ops[op]!.reply);
    this.requestSets = this.requestFields.map((f) => new Set(f));
    this.replySets = this.replyFields.map((f) => new Set(f));
    this.keyNames = vocabulary.keys;
    vocabulary.keys.forEach((k, i) => this.keyCodes.set(k, i));
    this.acceptStructured = options.acceptStructured;
    this.viewBytes = options.viewBytes === true;
    this.strings = options.acceptStructured ? new StringCache() : undefined;
    this.valueBudget = options.valueBudget ?? { perFrame: Infinity, perMessage: Infinity };
  }

  /**
   * One frame of `messages`. A message that cannot be encoded is left out and handed to
   * `unencodable` (which may answer for it); the others go.
   */
  encode(messages: readonly unknown[], unencodable: (message: unknown, error: Error) => void): ArrayBuffer {
    const w = this.writer;
    w.reset();
    for (const message of messages) {
      const start = w.offset;
      try {
        this.writeMessage(message);
      } catch (error) {
        w.offset = start;
        unencodable(message, error instanceof Error ? error : new UnencodableMessage(String(error)));
      }
    }
    return w.take();
  }

  /** The messages of a frame; anything that is not one is reported as one malformed message. */
  decode(frame: unknown): DecodedFrame {
    const out: DecodedFrame = { messages: [], sizes: [], malformed: 0 };
    if (!(frame instanceof ArrayBuffer)) {
      out.malformed = 1;
      return out;
    }
    const r = new Reader(new Uint8Array(frame), this.acceptStructured, this.keyNames, this.strings, this.viewBytes);
    const budget = this.valueBudget;
    r.frameValues = budget.perFrame;
    while (r.offset < r.end) {
      if (r.end - r.offset < 4) {
        out.malformed++;
        break;
      }
      const length = r.u32();
      const start = r.offset;
      if (length > r.end - start) {
        out.malformed++;
        break;
      }
      const end = start + length;
      try {
        r.limit = end;
        r.messageValues = budget.perMessage;
        const message = this.readMessage(r);
        if (r.offset !== end) throw new RangeError('message longer than its contents');
        out.messages.push(message);
        out.sizes.push(length + 4);
      } catch (error) {
        out.malformed++;
        if (error instanceof OverBudget) {
          out.overBudget = true;
          break;
        }
      }
      r.offset = end;
      r.limit = r.end;
    }
    return out;
  }

  private writeMessage(message: unknown): void {
    if (typeof message !== 'object' || message === null) throw new UnencodableMessage('not a message');
    const m = message as { kind?: unknown; id?: unknown; op?: unknown; body?: unknown; error?: unknown };
    const kind = typeof m.kind === 'string' ? KIND_CODES[m.kind] : undefined;
    if (kind === undefined || typeof m.id !== 'number' || typeof m.op !== 'string') throw new UnencodableMessage('not an RPC message');
    const w = this.writer;
    const lengthAt = w.reserve(4);
    w.u8(kind);
    w.f64(m.id);
    const code = this.opCodes.get(m.op);
    if (code === undefined) {
      w.u8(OTHER);
      w.string(m.op);
    } else w.u8(code);
    const body = kind === 2 ? m.error : m.body;
    const fields = code === undefined ? undefined : kind === 0 ? this.requestFields[code] : kind === 1 ? this.replyFields[code] : undefined;
    if (fields !== undefined && isPlainRecord(body)) {
      w.u8(0);
      for (const field of fields) this.writeValue(body[field], 0);
      const known = kind === 0 ? this.requestSets[code!]! : this.replySets[code!]!;
      const countAt = w.reserve(2);
      let extras = 0;
      for (const key in body) {
        if (known.has(key) || body[key] === undefined) continue;
        this.writeKey(key);
        this.writeValue(body[key], 0);
        extras++;
      }
      w.setU16(countAt, extras);
    } else {
      w.u8(1);
      this.writeValue(body, 0);
    }
    w.setU32(lengthAt, w.offset - lengthAt - 4);
  }

  private writeKey(key: string): void {
    const code = this.keyCodes.get(key);
    if (code === undefined) {
      this.writer.u8(OTHER);
      this.writer.string(key);
    } else this.writer.u8(code);
  }

  private writeValue(value: unknown, depth: number): void {
    const w = this.writer;
    switch (typeof value) {
      case 'undefined':
        w.u8(Tag.ABSENT);
        return;
      case 'boolean':
        w.u8(value ? Tag.TRUE : Tag.FALSE);
        return;
      case 'number':
        // -0 is a double (structured clone keeps its sign).
        if (value >>> 0 === value && (value !== 0 || 1 / value > 0)) {
          w.u8(Tag.U32);
          w.u32(value);
        } else {
          w.u8(Tag.F64);
          w.f64(value);
        }
        return;
      case 'string':
        w.u8(Tag.STRING);
        w.string(value);
        return;
      case 'bigint':
        if (BigInt.asIntN(64, value) === value) {
          w.u8(Tag.BIGINT64);
          w.bigint64(value);
        } else {
          w.u8(Tag.BIGINT_TEXT);
          w.string(value.toString());
        }
        return;
      case 'object':
        break;
      default:
        throw new UnencodableMessage(`a ${typeof value} cannot be sent`);
    }
    if (value === null) {
      w.u8(Tag.NULL);
      return;
    }
    if (depth >= MAX_DEPTH) throw new UnencodableMessage(`nested deeper than ${MAX_DEPTH}`);
    if (value instanceof Uint8Array) {
      w.u8(Tag.BYTES);
      w.bytes(value);
      return;
    }
    if (Array.isArray(value)) {
      w.u8(Tag.ARRAY);
      w.u32(value.length);
      for (const item of value as unknown[]) this.writeValue(item, depth + 1);
      return;
    }
    if (!isPlainRecord(value)) {
      // Dates, Maps, other typed arrays, Errors: what structured clone would have sent.
      w.u8(Tag.STRUCTURED);
      let bytes: Uint8Array;
      try {
        bytes = serialize(value);
      } catch (error) {
        throw new UnencodableMessage(error instanceof Error ? error.message : String(error));
      }
      w.bytes(bytes);
      return;
    }
    if (isSecBuffer(value)) {
      w.u8(Tag.SECBUFFER);
      w.u32(value.BufferType);
      w.bytes(value.pvBuffer);
      return;
    }
    w.u8(Tag.OBJECT);
    const countAt = w.reserve(2);
    let count = 0;
    for (const key in value) {
      const item = value[key];
      if (item === undefined) continue;
      if (++count > 0xffff) throw new UnencodableMessage('an object with more than 65535 fields');
      this.writeKey(key);
      this.writeValue(item, depth + 1);
    }
    w.setU16(countAt, count);
  }

  private readMessage(r: Reader): unknown {
    const kind = KIND_NAMES[r.u8()];
    if (kind === undefined) throw new RangeError('unknown kind');
    const id = r.f64();
    const code = r.u8();
    const op = code === OTHER ? r.string() : this.opNames[code];
    if (op === undefined) throw new RangeError('unknown op');
    const form = r.u8();
    let body: unknown;
    if (form === 0) {
      const fields = code === OTHER ? undefined : kind === 'call' ? this.requestFields[code] : kind === 'return' ? this.replyFields[code] : undefined;
      if (fields === undefined) throw new RangeError('a schema body for an op without one');
      const record: Record<string, unknown> = {};
      for (const field of fields) {
        const value = r.value(0);
        if (value !== undefined) record[field] = value;
      }
      const extras = r.u16();
      for (let i = 0; i < extras; i++) {
        setOwn(record, r.key(), r.value(0));
      }
      body = record;
    } else if (form === 1) body = r.value(0);
    else throw new RangeError('unknown body form');
    return kind === 'fail' ? { kind, id, op, error: body } : { kind, id, op, body };
  }
}

/** Sets a field as an own property: a key named __proto__ stays data, as structured clone keeps it. */
function setOwn(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Exactly { BufferType: u32, pvBuffer: Uint8Array } (in either order): the one shape every LPC call carries. */
function isSecBuffer(value: Record<string, unknown>): value is { BufferType: number; pvBuffer: Uint8Array } {
  let keys = 0;
  for (const _ in value) keys++;
  const type = value.BufferType;
  return keys === 2 && typeof type === 'number' && type >>> 0 === type && value.pvBuffer instanceof Uint8Array;
}

/** A growing buffer the encoder writes into; one per codec, reused frame after frame. */
class Writer {
  offset = 0;
  private buf = new Uint8Array(16 * 1024);
  private view = new DataView(this.buf.buffer);

  reset(): void {
    this.offset = 0;
  }

  /** The frame written so far, as an ArrayBuffer of exactly its length (the one the port transfers). */
  take(): ArrayBuffer {
    const frame = this.buf.buffer.slice(0, this.offset);
    // A frame that needed a very large buffer does not keep it for every later one.
    if (this.buf.byteLength > 1 << 20) {
      this.buf = new Uint8Array(16 * 1024);
      this.view = new DataView(this.buf.buffer);
    }
    return frame;
  }

  /** Room for n more bytes: a comparison on every write, so the growing is a function of its own (kept out of the inlined path). */
  private need(n: number): void {
    if (this.offset + n > this.buf.byteLength) this.grow(n);
  }

  private grow(n: number): void {
    const grown = new Uint8Array(Math.max(this.buf.byteLength * 2, this.offset + n));
    grown.set(this.buf.subarray(0, this.offset));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  reserve(n: number): number {
    this.need(n);
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(v: number): void {
    this.need(1);
    this.buf[this.offset++] = v;
  }

  u32(v: number): void {
    this.need(4);
    this.view.setUint32(this.offset, v, true);
    this.offset += 4;
  }

  setU32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  setU16(at: number, v: number): void {
    this.view.setUint16(at, v, true);
  }

  f64(v: number): void {
    this.need(8);
    this.view.setFloat64(this.offset, v, true);
    this.offset += 8;
  }

  bigint64(v: bigint): void {
    this.need(8);
    this.view.setBigInt64(this.offset, v, true);
    this.offset += 8;
  }

  /** UTF-16 code units as they are (a lone surrogate survives, as it does structured clone). */
  string(s: string): void {
    const n = s.length;
    this.need(4 + 2 * n);
    this.view.setUint32(this.offset, n, true);
    let o = this.offset + 4;
    if (n >= LONG_STRING) {
      Buffer.from(this.buf.buffer, this.buf.byteOffset + o, 2 * n).write(s, 'utf16le');
      o += 2 * n;
    } else {
      const b = this.buf;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        b[o++] = c & 0xff;
        b[o++] = c >>> 8;
      }
    }
    this.offset = o;
  }

  bytes(v: Uint8Array): void {
    const n = v.byteLength;
    this.need(4 + n);
    this.view.setUint32(this.offset, n, true);
    this.buf.set(v, this.offset + 4);
    this.offset += 4 + n;
  }
}

/** Strings this long and shorter are looked up in (and kept in) the decoder's cache of recent strings. */
const MAX_CACHED_STRING = 256;

/**
 * The strings frames carried lately, by a hash of their UTF-16 code units: one slot per hash
 * bucket, the last string that fell in it. A hit is checked unit by unit against the bytes, so a
 * collision costs a decode, never a wrong string. Only a codec that decodes a trusted sender's
 * frames keeps one (a process reading the LSA's replies): the LSA decodes every process's frames
 * with one codec, and a shared cache would let one process time whether another sent a string.
 */
class StringCache {
  private readonly slots: Array<string | undefined> = new Array<string | undefined>(256).fill(undefined);

  private static hash(b: Uint8Array, at: number, n: number): number {
    let h = n;
    for (let i = 0, o = at; i < n; i++, o += 2) h = (Math.imul(h, 31) + (b[o]! | (b[o + 1]! << 8))) | 0;
    return h & 255;
  }

  find(b: Uint8Array, at: number, n: number): string | undefined {
    const s = this.slots[StringCache.hash(b, at, n)];
    if (s === undefined || s.length !== n) return undefined;
    for (let i = 0, o = at; i < n; i++, o += 2) if (s.charCodeAt(i) !== (b[o]! | (b[o + 1]! << 8))) return undefined;
    return s;
  }

  remember(b: Uint8Array, at: number, n: number, s: string): void {
    this.slots[StringCache.hash(b, at, n)] = s;
  }
}

/** Reads one frame; every read checks the bounds of the message it is in. */
class Reader {
  offset = 0;
  readonly end: number;
  /** The end of the message being read. */
  limit: number;
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private readonly acceptStructured: boolean;
  private readonly keyNames: readonly string[];
  private readonly strings: StringCache | undefined;
  private readonly viewBytes: boolean;
  /** Values the frame, and the message being read, may still hold (FrameCodecOptions.valueBudget). */
  frameValues = Infinity;
  messageValues = Infinity;

  constructor(buf: Uint8Array, acceptStructured: boolean, keyNames: readonly string[], strings: StringCache | undefined, viewBytes: boolean) {
    this.buf = buf;
    this.viewBytes = viewBytes;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.end = buf.byteLength;
    this.limit = this.end;
    this.acceptStructured = acceptStructured;
    this.keyNames = keyNames;
    this.strings = strings;
  }

  private check(n: number): void {
    if (n > this.limit - this.offset) throw new RangeError('past the end of the message');
  }

  u8(): number {
    this.check(1);
    return this.buf[this.offset++]!;
  }

  u16(): number {
    this.check(2);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.check(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  f64(): number {
    this.check(8);
    const v = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return v;
  }

  string(): string {
    const n = this.u32();
    this.check(2 * n);
    const b = this.buf;
    const o = this.offset;
    this.offset = o + 2 * n;
    // The same few strings come again and again (a package's name and module URL in every mapped
    // context's delivery): one seen before is answered from the cache, its code units compared.
    const cache = n <= MAX_CACHED_STRING ? this.strings : undefined;
    const cached = cache?.find(b, o, n);
    if (cached !== undefined) return cached;
    let s = '';
    if (n >= LONG_STRING) s = Buffer.from(b.buffer, b.byteOffset + o, 2 * n).toString('utf16le');
    else for (let i = 0, at = o; i < n; i++, at += 2) s += String.fromCharCode(b[at]! | (b[at + 1]! << 8));
    cache?.remember(b, o, n, s);
    return s;
  }

  /** A private copy of exactly the bytes (nothing keeps the frame alive), or for a codec with viewBytes a view of them in the frame. */
  bytes(): Uint8Array {
    const n = this.u32();
    this.check(n);
    const out = this.viewBytes ? this.buf.subarray(this.offset, this.offset + n) : this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  key(): string {
    const code = this.u8();
    if (code === OTHER) return this.string();
    const key = this.keyNames[code];
    if (key === undefined) throw new RangeError('unknown key');
    return key;
  }

  value(depth: number): unknown {
    if (--this.frameValues < 0 || --this.messageValues < 0) throw new OverBudget('more values than the frame may hold');
    const tag = this.u8();
    switch (tag) {
      case Tag.ABSENT:
        return undefined;
      case Tag.NULL:
        return null;
      case Tag.FALSE:
        return false;
      case Tag.TRUE:
        return true;
      case Tag.U32:
        return this.u32();
      case Tag.F64:
        return this.f64();
      case Tag.STRING:
        return this.string();
      case Tag.BIGINT64: {
        this.check(8);
        const v = this.view.getBigInt64(this.offset, true);
        this.offset += 8;
        return v;
      }
      case Tag.BIGINT_TEXT: {
        // Wider than 64 bits. No request needs one, but a hostile one may carry one where a LUID
        // goes, and its call is answered (the op's decoder refuses it): read, but no wider than 40
        // digits from a sender that is not trusted (2^128 has 39), since thousands of digits cost far
        // more a byte to parse than anything else a frame holds.
        const text = this.string();
        if (!(this.acceptStructured ? /^-?[0-9]{1,4096}$/ : /^-?[0-9]{1,40}$/).test(text)) throw new RangeError('not a bigint');
        return BigInt(text);
      }
      case Tag.BYTES:
        return this.bytes();
      case Tag.SECBUFFER: {
        const BufferType = this.u32();
        return { BufferType, pvBuffer: this.bytes() };
      }
      case Tag.ARRAY: {
        if (depth >= MAX_DEPTH) throw new RangeError('nested too deep');
        const n = this.u32();
        // Every item takes at least one byte: a count larger than what is left is a lie.
        this.check(n);
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
        return out;
      }
      case Tag.OBJECT: {
        if (depth >= MAX_DEPTH) throw new RangeError('nested too deep');
        const n = this.u16();
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const key = this.key();
          setOwn(out, key, this.value(depth + 1));
        }
        return out;
      }
      case Tag.STRUCTURED: {
        if (!this.acceptStructured) throw new RangeError('a structured value from a sender that may not send one');
        return deserialize(this.bytes());
      }
      default:
        throw new RangeError(`unknown tag ${tag}`);
    }
  }
}
