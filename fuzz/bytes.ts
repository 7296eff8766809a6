// Byte-level mutations shared by every token generator: truncations, extensions, flips, the
// "interesting" integers written at an offset (0, 1, the maxima, sign edges), splices of another
// message, and a payload field moved to the end of a message with its descriptor re-pointed.
// Each mutation returns a new array and a name that says what it did, for the report.

import type { Rng } from './rng.js';

/** A mutated input and what was done to it. */
export interface Mutated {
  bytes: Uint8Array;
  mutation: string;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function u16le(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >>> 8) & 0xff);
}

export function u32le(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
}

export function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
}

export function readU32(bytes: Uint8Array, at: number): number {
  return (readU16(bytes, at) | (readU16(bytes, at + 2) << 16)) >>> 0;
}

/** A copy with `value` written at `at` (the copy grows if `at` is past its end). */
export function patched(bytes: Uint8Array, at: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(bytes.length, at + value.length));
  out.set(bytes);
  out.set(value, at);
  return out;
}

/** Integers that break parsers: zero, one, all ones, sign edges, and off-by-ones of each. */
export const INTERESTING_U8: readonly number[] = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff];
export const INTERESTING_U16: readonly number[] = [0x0000, 0x0001, 0x0002, 0x0010, 0x00ff, 0x0100, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff];
export const INTERESTING_U32: readonly number[] = [
  0x00000000, 0x00000001, 0x00000002, 0x0000ffff, 0x00010000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
];

/** Cut at a random offset in [0, length]: every prefix of the message is reachable. */
export function truncate(rng: Rng, bytes: Uint8Array): Mutated {
  const at = rng.int(bytes.length + 1);
  return { bytes: bytes.slice(0, at), mutation: `truncate at ${at} of ${bytes.length}` };
}

/** Append zeros, random bytes or a copy of itself, sometimes to just past a maximum token size. */
export function extend(rng: Rng, bytes: Uint8Array, maxToken: number): Mutated {
  const target = rng.pick([bytes.length + 1, bytes.length + rng.range(1, 64), maxToken, maxToken + 1, maxToken * 2, 65536]);
  const extra = Math.max(1, target - bytes.length);
  const kind = rng.pick(['zeros', 'random', 'repeat'] as const);
  const tail = kind === 'zeros' ? new Uint8Array(extra) : kind === 'random' ? rng.bytes(extra) : repeatTo(bytes, extra);
  return { bytes: concatBytes(bytes, tail), mutation: `extend by ${extra} ${kind} bytes to ${bytes.length + extra}` };
}

function repeatTo(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (bytes.length === 0) return out;
  for (let i = 0; i < length; i++) out[i] = bytes[i % bytes.length]!;
  return out;
}

/** 1 to 8 random byte or bit changes. */
export function flip(rng: Rng, bytes: Uint8Array): Mutated {
  if (bytes.length === 0) return { bytes: Uint8Array.of(rng.int(256)), mutation: 'flip: one byte into an empty token' };
  const out = Uint8Array.from(bytes);
  const count = rng.pick([1, 1, 1, 2, 3, 8]);
  const where: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = rng.int(out.length);
    if (rng.chance(0.5)) {
      const bit = rng.int(8);
      out[at] = out[at]! ^ (1 << bit);
      where.push(`bit ${bit}@${at}`);
    } else {
      const value = rng.chance(0.5) ? rng.pick(INTERESTING_U8) : rng.int(256);
      if (out[at] === value) out[at] = value ^ 0xff;
      else out[at] = value;
      where.push(`0x${out[at]!.toString(16)}@${at}`);
    }
  }
  return { bytes: out, mutation: `flip ${where.join(', ')}` };
}

/** An interesting 8-, 16- or 32-bit integer written over the message at a random offset. */
export function interesting(rng: Rng, bytes: Uint8Array): Mutated {
  if (bytes.length === 0) return flip(rng, bytes);
  const width = rng.pick([1, 2, 4] as const);
  const at = rng.int(Math.max(1, bytes.length - width + 1));
  const value = width === 1 ? rng.pick(INTERESTING_U8) : width === 2 ? rng.pick(INTERESTING_U16) : rng.pick(INTERESTING_U32);
  const encoded = width === 1 ? Uint8Array.of(value) : width === 2 ? u16le(value) : u32le(value);
  return { bytes: patched(bytes, at, encoded).slice(0, Math.max(bytes.length, at + width)), mutation: `u${width * 8} 0x${value.toString(16)} at ${at}` };
}

/** A prefix of one message followed by a suffix of another (or of itself, shifted). */
export function splice(rng: Rng, bytes: Uint8Array, other: Uint8Array): Mutated {
  const cut = rng.int(bytes.length + 1);
  const from = rng.int(other.length + 1);
  return { bytes: concatBytes(bytes.subarray(0, cut), other.subarray(from)), mutation: `splice first ${cut} bytes with another message from ${from}` };
}

/** Delete or duplicate a random run of bytes in the middle. */
export function shift(rng: Rng, bytes: Uint8Array): Mutated {
  if (bytes.length < 2) return extend(rng, bytes, 64);
  const at = rng.int(bytes.length);
  const run = rng.range(1, Math.min(16, bytes.length - at));
  if (rng.chance(0.5)) return { bytes: concatBytes(bytes.subarray(0, at), bytes.subarray(at + run)), mutation: `delete ${run} bytes at ${at}` };
  return { bytes: concatBytes(bytes.subarray(0, at + run), bytes.subarray(at)), mutation: `duplicate ${run} bytes at ${at}` };
}

/** Random bytes of a random length, sometimes starting with a given prefix (a magic or signature). */
export function noise(rng: Rng, prefix: Uint8Array, maxToken: number): Mutated {
  const length = rng.length(Math.min(maxToken + 16, 4096));
  const body = rng.bytes(length);
  if (rng.chance(0.5)) return { bytes: body, mutation: `${length} random bytes` };
  return { bytes: concatBytes(prefix, body), mutation: `header then ${length} random bytes` };
}

/** Any of the byte-level mutations, weighted towards the ones that reach deeper code. */
export function anyByteMutation(rng: Rng, bytes: Uint8Array, other: Uint8Array, maxToken: number): Mutated {
  return rng.weighted<() => Mutated>([
    [3, () => flip(rng, bytes)],
    [3, () => interesting(rng, bytes)],
    [2, () => truncate(rng, bytes)],
    [1, () => extend(rng, bytes, maxToken)],
    [1, () => shift(rng, bytes)],
    [1, () => splice(rng, bytes, other)],
  ])();
}

/**
 * A payload field's descriptor (Len u16, MaxLen u16, Offset u32, as NTLM lays them out) pointed at
 * `value`, appended to the end of the message. The old bytes stay where they were, unreferenced.
 */
export function relocateField(message: Uint8Array, descriptorAt: number, value: Uint8Array): Uint8Array {
  const out = concatBytes(message, value);
  out.set(u16le(value.length), descriptorAt);
  out.set(u16le(value.length), descriptorAt + 2);
  out.set(u32le(message.length), descriptorAt + 4);
  return out;
}
