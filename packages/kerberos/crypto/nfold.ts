// n-fold (RFC 3961 section 5.1): stretches or shrinks a constant to the cipher's block size with
// every input bit weighing equally on the output. The input is repeated to the least common
// multiple of the two lengths, each repetition rotated 13 bits further right than the one
// before, and the output-sized chunks are added in ones' complement (end-around carry).

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const rest = a % b;
    a = b;
    b = rest;
  }
  return a;
}

/**
 * The byte at `index` of `input` rotated right by `rotation` bits (the bit string as a ring): the
 * eight bits from source bit s = 8 * index - rotation, which span at most two source bytes; as
 * the ring is a whole number of bytes, the byte after the last is the first.
 */
function rotatedByte(input: Uint8Array, index: number, rotation: number): number {
  const bits = input.length * 8;
  const source = (((index * 8 - rotation) % bits) + bits) % bits;
  const at = source >> 3;
  const pair = (input[at]! << 8) | input[(at + 1) % input.length]!;
  return (pair >> (8 - (source & 7))) & 0xff;
}

/** n-fold of `input` to `outBytes` octets (n = 8 * outBytes bits). The input must not be empty. */
export function nfold(input: Uint8Array, outBytes: number): Uint8Array {
  if (input.length === 0 || !Number.isInteger(outBytes) || outBytes <= 0) throw new RangeError('n-fold needs a non-empty input and a positive output size');
  const total = (input.length * outBytes) / gcd(input.length, outBytes);
  // Column sums: each output byte collects the bytes that fall on it, carried afterwards.
  const sums = new Uint32Array(outBytes);
  for (let i = 0; i < total; i++) {
    const repetition = Math.floor(i / input.length);
    sums[i % outBytes] += rotatedByte(input, i % input.length, 13 * repetition);
  }
  // Ones' complement addition: a carry out of the most significant byte comes back in at the least.
  let carry = 0;
  do {
    for (let p = outBytes - 1; p >= 0; p--) {
      const value = sums[p]! + carry;
      sums[p] = value & 0xff;
      carry = value >>> 8;
    }
  } while (carry !== 0);
  return new Uint8Array(sums);
}
