// MD4 message digest, RFC 1320. NTLM needs it for NTOWFv1 (MS-NLMP 3.3.1) and the NTLMv1
// SessionBaseKey, but Node 20's OpenSSL 3 only offers MD4 through the legacy provider, which a
// worker thread started without --openssl-legacy-provider cannot load. So it lives here, small.

/** Initial chaining values A, B, C, D (RFC 1320 3.3). */
const INITIAL_STATE = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476] as const;

/** Round constants added in rounds 2 and 3 (RFC 1320 3.4): sqrt(2) and sqrt(3) as 2.30 fixed point. */
const ROUND_CONSTANT = [0x00000000, 0x5a827999, 0x6ed9eba1] as const;

/** The order in which each round reads the 16 words of a block (RFC 1320 3.4). */
const WORD_ORDER = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15],
  [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15],
] as const;

/** Left-rotation amounts; each round cycles through its four (RFC 1320 3.4). */
const SHIFTS = [
  [3, 7, 11, 19],
  [3, 5, 9, 13],
  [3, 9, 11, 15],
] as const;

/** Steps update A, D, C, B in turn; the other three registers follow in A, B, C, D order. */
const TARGET_REGISTER = [0, 3, 2, 1] as const;

const BLOCK_BYTES = 64;
const LENGTH_BYTES = 8;

/** F, G, H of RFC 1320 3.4: bitwise selection, majority, parity. */
const ROUND_FUNCTION = [
  (x: number, y: number, z: number): number => (x & y) | (~x & z),
  (x: number, y: number, z: number): number => (x & y) | (x & z) | (y & z),
  (x: number, y: number, z: number): number => x ^ y ^ z,
] as const;

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

/** Pads the message (RFC 1320 3.1, 3.2): a 1 bit, zeros to 56 mod 64, then the bit length as 64-bit LE. */
function pad(data: Uint8Array): Uint8Array {
  const paddedLength = Math.ceil((data.length + 1 + LENGTH_BYTES) / BLOCK_BYTES) * BLOCK_BYTES;
  const padded = new Uint8Array(paddedLength);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(paddedLength - LENGTH_BYTES, (data.length * 8) >>> 0, true);
  view.setUint32(paddedLength - 4, Math.floor(data.length / 0x20000000), true);
  return padded;
}

/** The 16-byte MD4 digest of `data`. */
export function md4(data: Uint8Array): Uint8Array {
  const padded = pad(data);
  const view = new DataView(padded.buffer);
  const state: number[] = [...INITIAL_STATE];
  const words = new Array<number>(16);

  for (let block = 0; block < padded.length; block += BLOCK_BYTES) {
    for (let w = 0; w < 16; w++) words[w] = view.getUint32(block + w * 4, true);
    const h = [...state];
    for (let round = 0; round < 3; round++) {
      const f = ROUND_FUNCTION[round];
      for (let step = 0; step < 16; step++) {
        const t = TARGET_REGISTER[step % 4];
        const mixed = f(h[(t + 1) % 4]!, h[(t + 2) % 4]!, h[(t + 3) % 4]!);
        const sum = (h[t]! + mixed + words[WORD_ORDER[round][step]]! + ROUND_CONSTANT[round]) | 0;
        h[t] = rotateLeft(sum, SHIFTS[round][step % 4]);
      }
    }
    for (let r = 0; r < 4; r++) state[r] = (state[r]! + h[r]!) | 0;
  }

  const digest = new Uint8Array(16);
  const out = new DataView(digest.buffer);
  for (let r = 0; r < 4; r++) out.setUint32(r * 4, state[r]! >>> 0, true);
  return digest;
}
