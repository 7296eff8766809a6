// MD5 (RFC 1321) and HMAC-MD5 (RFC 2104) in JavaScript, for NTLM's short inputs.
//
// node:crypto has MD5, but every createHash/createHmac builds an OpenSSL context and a Buffer for
// the digest: about 3 to 6 us for a hash of a few dozen bytes, where NTLM hashes a few dozen bytes
// some twenty times per handshake and once per signed message. Here a hash is a few 64-byte blocks
// of 32-bit arithmetic, and an HMAC key keeps its two padded-key states (RFC 2104's
// H(K XOR ipad) and H(K XOR opad) after one block each), so signing a message with a context's
// signing key costs its own blocks plus one. For long inputs OpenSSL's assembly is faster than
// this loop: NATIVE_FROM_BYTES picks node:crypto above it (bench/crypto-floor.ts and the message
// rows measure both sides of that line).

import { createHmac } from 'node:crypto';

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 16;
/** The 64-bit bit length at the end of the last block (RFC 1321 3.2). */
const LENGTH_AT = 56;
/** Above this many message bytes an HMAC runs in node:crypto (measured: its setup no longer dominates). */
export const NATIVE_FROM_BYTES = 4096;

const IPAD = 0x36;
const OPAD = 0x5c;

/**
 * The compression function (RFC 1321 3.4) over `state` (A, B, C, D) and the block at
 * bytes[at..at+64): 64 steps a = b + ((a + F(b,c,d) + X[k] + T[i]) <<< s), written out with the
 * sine table T as signed 32-bit literals and the words in locals, so that V8 keeps every value
 * an int32 (a loop over tables, or a helper per step, runs several times slower).
 */
function compress(state: Int32Array, bytes: Uint8Array, at: number): void {
  const x0 = bytes[at + 0]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
  const x1 = bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16) | (bytes[at + 7]! << 24);
  const x2 = bytes[at + 8]! | (bytes[at + 9]! << 8) | (bytes[at + 10]! << 16) | (bytes[at + 11]! << 24);
  const x3 = bytes[at + 12]! | (bytes[at + 13]! << 8) | (bytes[at + 14]! << 16) | (bytes[at + 15]! << 24);
  const x4 = bytes[at + 16]! | (bytes[at + 17]! << 8) | (bytes[at + 18]! << 16) | (bytes[at + 19]! << 24);
  const x5 = bytes[at + 20]! | (bytes[at + 21]! << 8) | (bytes[at + 22]! << 16) | (bytes[at + 23]! << 24);
  const x6 = bytes[at + 24]! | (bytes[at + 25]! << 8) | (bytes[at + 26]! << 16) | (bytes[at + 27]! << 24);
  const x7 = bytes[at + 28]! | (bytes[at + 29]! << 8) | (bytes[at + 30]! << 16) | (bytes[at + 31]! << 24);
  const x8 = bytes[at + 32]! | (bytes[at + 33]! << 8) | (bytes[at + 34]! << 16) | (bytes[at + 35]! << 24);
  const x9 = bytes[at + 36]! | (bytes[at + 37]! << 8) | (bytes[at + 38]! << 16) | (bytes[at + 39]! << 24);
  const x10 = bytes[at + 40]! | (bytes[at + 41]! << 8) | (bytes[at + 42]! << 16) | (bytes[at + 43]! << 24);
  const x11 = bytes[at + 44]! | (bytes[at + 45]! << 8) | (bytes[at + 46]! << 16) | (bytes[at + 47]! << 24);
  const x12 = bytes[at + 48]! | (bytes[at + 49]! << 8) | (bytes[at + 50]! << 16) | (bytes[at + 51]! << 24);
  const x13 = bytes[at + 52]! | (bytes[at + 53]! << 8) | (bytes[at + 54]! << 16) | (bytes[at + 55]! << 24);
  const x14 = bytes[at + 56]! | (bytes[at + 57]! << 8) | (bytes[at + 58]! << 16) | (bytes[at + 59]! << 24);
  const x15 = bytes[at + 60]! | (bytes[at + 61]! << 8) | (bytes[at + 62]! << 16) | (bytes[at + 63]! << 24);
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;

  a = (a + ((b & c) | (~b & d)) + x0 + -680876936) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + ((a & b) | (~a & c)) + x1 + -389564586) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + ((d & a) | (~d & b)) + x2 + 606105819) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + ((c & d) | (~c & a)) + x3 + -1044525330) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + ((b & c) | (~b & d)) + x4 + -176418897) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + ((a & b) | (~a & c)) + x5 + 1200080426) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + ((d & a) | (~d & b)) + x6 + -1473231341) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + ((c & d) | (~c & a)) + x7 + -45705983) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + ((b & c) | (~b & d)) + x8 + 1770035416) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + ((a & b) | (~a & c)) + x9 + -1958414417) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + ((d & a) | (~d & b)) + x10 + -42063) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + ((c & d) | (~c & a)) + x11 + -1990404162) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;
  a = (a + ((b & c) | (~b & d)) + x12 + 1804603682) | 0;
  a = (((a << 7) | (a >>> 25)) + b) | 0;
  d = (d + ((a & b) | (~a & c)) + x13 + -40341101) | 0;
  d = (((d << 12) | (d >>> 20)) + a) | 0;
  c = (c + ((d & a) | (~d & b)) + x14 + -1502002290) | 0;
  c = (((c << 17) | (c >>> 15)) + d) | 0;
  b = (b + ((c & d) | (~c & a)) + x15 + 1236535329) | 0;
  b = (((b << 22) | (b >>> 10)) + c) | 0;

  a = (a + ((b & d) | (c & ~d)) + x1 + -165796510) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + ((a & c) | (b & ~c)) + x6 + -1069501632) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + ((d & b) | (a & ~b)) + x11 + 643717713) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + ((c & a) | (d & ~a)) + x0 + -373897302) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + ((b & d) | (c & ~d)) + x5 + -701558691) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + ((a & c) | (b & ~c)) + x10 + 38016083) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + ((d & b) | (a & ~b)) + x15 + -660478335) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + ((c & a) | (d & ~a)) + x4 + -405537848) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + ((b & d) | (c & ~d)) + x9 + 568446438) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + ((a & c) | (b & ~c)) + x14 + -1019803690) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + ((d & b) | (a & ~b)) + x3 + -187363961) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + ((c & a) | (d & ~a)) + x8 + 1163531501) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;
  a = (a + ((b & d) | (c & ~d)) + x13 + -1444681467) | 0;
  a = (((a << 5) | (a >>> 27)) + b) | 0;
  d = (d + ((a & c) | (b & ~c)) + x2 + -51403784) | 0;
  d = (((d << 9) | (d >>> 23)) + a) | 0;
  c = (c + ((d & b) | (a & ~b)) + x7 + 1735328473) | 0;
  c = (((c << 14) | (c >>> 18)) + d) | 0;
  b = (b + ((c & a) | (d & ~a)) + x12 + -1926607734) | 0;
  b = (((b << 20) | (b >>> 12)) + c) | 0;

  a = (a + (b ^ c ^ d) + x5 + -378558) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + x8 + -2022574463) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + x11 + 1839030562) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + x14 + -35309556) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + (b ^ c ^ d) + x1 + -1530992060) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + x4 + 1272893353) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + x7 + -155497632) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + x10 + -1094730640) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + (b ^ c ^ d) + x13 + 681279174) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + x0 + -358537222) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + x3 + -722521979) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + x6 + 76029189) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;
  a = (a + (b ^ c ^ d) + x9 + -640364487) | 0;
  a = (((a << 4) | (a >>> 28)) + b) | 0;
  d = (d + (a ^ b ^ c) + x12 + -421815835) | 0;
  d = (((d << 11) | (d >>> 21)) + a) | 0;
  c = (c + (d ^ a ^ b) + x15 + 530742520) | 0;
  c = (((c << 16) | (c >>> 16)) + d) | 0;
  b = (b + (c ^ d ^ a) + x2 + -995338651) | 0;
  b = (((b << 23) | (b >>> 9)) + c) | 0;

  a = (a + (c ^ (b | ~d)) + x0 + -198630844) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + x7 + 1126891415) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + x14 + -1416354905) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + x5 + -57434055) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + (c ^ (b | ~d)) + x12 + 1700485571) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + x3 + -1894986606) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + x10 + -1051523) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + x1 + -2054922799) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + (c ^ (b | ~d)) + x8 + 1873313359) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + x15 + -30611744) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + x6 + -1560198380) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + x13 + 1309151649) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;
  a = (a + (c ^ (b | ~d)) + x4 + -145523070) | 0;
  a = (((a << 6) | (a >>> 26)) + b) | 0;
  d = (d + (b ^ (a | ~c)) + x11 + -1120210379) | 0;
  d = (((d << 10) | (d >>> 22)) + a) | 0;
  c = (c + (a ^ (d | ~b)) + x2 + 718787259) | 0;
  c = (((c << 15) | (c >>> 17)) + d) | 0;
  b = (b + (d ^ (c | ~a)) + x9 + -343485551) | 0;
  b = (((b << 21) | (b >>> 11)) + c) | 0;

  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}

/** A, B, C, D before the first block (RFC 1321 3.3). */
const INITIAL_STATE = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476);

/**
 * An MD5 computation that can be started again (reset) without allocating: the state, the
 * partial block and the length. One instance serves one computation at a time.
 */
export class Md5 {
  readonly #state = new Int32Array(4);
  readonly #block = new Uint8Array(BLOCK_BYTES);
  #buffered = 0;
  #length = 0;

  constructor() {
    this.reset();
  }

  /** Starts a new digest; from `state` (after `length` bytes, a multiple of 64) when given. */
  reset(state: Int32Array = INITIAL_STATE, length = 0): this {
    this.#state.set(state);
    this.#buffered = 0;
    this.#length = length;
    return this;
  }

  update(data: Uint8Array): this {
    const length = data.length;
    const block = this.#block;
    let buffered = this.#buffered;
    let at = 0;
    this.#length += length;
    // Partial blocks are copied byte by byte: NTLM's pieces are short, and a subarray per piece costs more.
    if (buffered > 0) {
      while (buffered < BLOCK_BYTES && at < length) block[buffered++] = data[at++]!;
      if (buffered < BLOCK_BYTES) {
        this.#buffered = buffered;
        return this;
      }
      compress(this.#state, block, 0);
      buffered = 0;
    }
    for (; at + BLOCK_BYTES <= length; at += BLOCK_BYTES) compress(this.#state, data, at);
    while (at < length) block[buffered++] = data[at++]!;
    this.#buffered = buffered;
    return this;
  }

  /** The chaining state after whole blocks only (what an HMAC key keeps of its padded key). */
  stateAfterBlocks(): Int32Array {
    if (this.#buffered !== 0) throw new RangeError('MD5 state is only defined on a block boundary');
    return new Int32Array(this.#state);
  }

  /** Pads (RFC 1321 3.1, 3.2), writes the 16-byte digest at out[offset..] and returns out. */
  digestInto(out: Uint8Array, offset = 0): Uint8Array {
    const block = this.#block;
    const bits = this.#length * 8;
    let at = this.#buffered;
    block[at++] = 0x80;
    if (at > LENGTH_AT) {
      block.fill(0, at);
      compress(this.#state, block, 0);
      at = 0;
    }
    block.fill(0, at, LENGTH_AT);
    const high = Math.floor(this.#length / 0x20000000);
    block[56] = bits;
    block[57] = bits >>> 8;
    block[58] = bits >>> 16;
    block[59] = bits >>> 24;
    block[60] = high;
    block[61] = high >>> 8;
    block[62] = high >>> 16;
    block[63] = high >>> 24;
    compress(this.#state, block, 0);
    const state = this.#state;
    for (let r = 0; r < 4; r++) {
      const v = state[r]!;
      out[offset++] = v;
      out[offset++] = v >>> 8;
      out[offset++] = v >>> 16;
      out[offset++] = v >>> 24;
    }
    this.#buffered = 0;
    return out;
  }
}

/** The one MD5 the functions below share; nothing they call can re-enter them. */
const shared = new Md5();
/** The inner hash of an HMAC, between its two halves. */
const innerDigest = new Uint8Array(DIGEST_BYTES);
/** K XOR ipad and K XOR opad while an HMAC is computed, zeroed after use. */
const scratchPad = new Uint8Array(BLOCK_BYTES);

/** MD5(parts[0] ‖ parts[1] ‖ ...), a new 16-byte array. */
export function md5(...parts: readonly Uint8Array[]): Uint8Array {
  shared.reset();
  for (const part of parts) shared.update(part);
  return shared.digestInto(new Uint8Array(DIGEST_BYTES));
}

/**
 * An HMAC-MD5 key (RFC 2104) ready to use: its inner and outer padded-key states are computed
 * once, so each MAC costs the message's blocks and one more. Keeps the key itself for the
 * node:crypto path of long messages. Secret: wipe() when the key is done with.
 */
export class HmacMd5Key {
  readonly #key: Uint8Array;
  readonly #inner: Int32Array;
  readonly #outer: Int32Array;

  constructor(key: Uint8Array) {
    // Keys longer than a block are hashed first (RFC 2104 2); NTLM's are 16 bytes.
    this.#key = key.length > BLOCK_BYTES ? md5(key) : new Uint8Array(key);
    this.#inner = padState(scratchPad, this.#key, IPAD);
    this.#outer = padState(scratchPad, this.#key, OPAD);
    scratchPad.fill(0);
  }

  /** HMAC_MD5(key, parts[0] ‖ parts[1] ‖ ...), a new 16-byte array. */
  mac(...parts: readonly Uint8Array[]): Uint8Array {
    return this.macInto(new Uint8Array(DIGEST_BYTES), 0, parts);
  }

  /** The MAC of the parts written at out[offset..offset+16); returns out. */
  macInto(out: Uint8Array, offset: number, parts: readonly Uint8Array[]): Uint8Array {
    if (totalLength(parts) >= NATIVE_FROM_BYTES) return nativeHmacInto(this.#key, parts, out, offset);
    shared.reset(this.#inner, BLOCK_BYTES);
    for (const part of parts) shared.update(part);
    shared.digestInto(innerDigest);
    shared.reset(this.#outer, BLOCK_BYTES).update(innerDigest);
    return shared.digestInto(out, offset);
  }

  /** Zeroes the key and its states. */
  wipe(): void {
    this.#key.fill(0);
    this.#inner.fill(0);
    this.#outer.fill(0);
  }
}

function padKey(pad: Uint8Array, key: Uint8Array, byte: number): Uint8Array {
  pad.fill(byte);
  for (let i = 0; i < key.length; i++) pad[i] = pad[i]! ^ key[i]!;
  return pad;
}

function padState(pad: Uint8Array, key: Uint8Array, byte: number): Int32Array {
  return shared
    .reset()
    .update(padKey(pad, key, byte))
    .stateAfterBlocks();
}

function totalLength(parts: readonly Uint8Array[]): number {
  let total = 0;
  for (const part of parts) total += part.length;
  return total;
}

function nativeHmacInto(key: Uint8Array, parts: readonly Uint8Array[], out: Uint8Array, offset: number): Uint8Array {
  const hmac = createHmac('md5', key);
  for (const part of parts) hmac.update(part);
  out.set(hmac.digest(), offset);
  return out;
}

/** HMAC_MD5(key, parts[0] ‖ ...) written at out[offset..offset+16), for a key used once; returns out. */
export function hmacMd5Into(key: Uint8Array, parts: readonly Uint8Array[], out: Uint8Array, offset = 0): Uint8Array {
  if (key.length > BLOCK_BYTES || totalLength(parts) >= NATIVE_FROM_BYTES) return nativeHmacInto(key, parts, out, offset);
  shared.reset().update(padKey(scratchPad, key, IPAD));
  for (const part of parts) shared.update(part);
  shared.digestInto(innerDigest);
  shared
    .reset()
    .update(padKey(scratchPad, key, OPAD))
    .update(innerDigest);
  scratchPad.fill(0);
  return shared.digestInto(out, offset);
}

/** HMAC_MD5(key, parts[0] ‖ ...) for a key used once: a new 16-byte array. */
export function hmacMd5(key: Uint8Array, ...parts: readonly Uint8Array[]): Uint8Array {
  return hmacMd5Into(key, parts, new Uint8Array(DIGEST_BYTES));
}
