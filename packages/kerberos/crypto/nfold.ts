// n-fold (RFC 3961 section 5.1): stretches or shrinks a constant to the cipher's block size with
// every input bit weighing equally on the output. The input is repeated to the least common
// multiple of the two lengths, each repetition rotated 13 bits further right than the one
// before, and the output-sized chunks are added in ones' complement (end-around carry).

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The byte at `index` of `input` rotated right by `rotation` bits (the bit string as a ring). */
function rotatedByte(input: Uint8Array, index: number, rotation: number): number {
  const bits = input.length * 8;
  let byte = 0;
  for (let k = 0; k < 8; k++) {
    const source = (((index * 8 + k - rotation) % bits) + bits) % bits;
    byte = (byte << 1) | ((input[source >> 3]! >> (7 - (source & 7))) & 1);
  }
  return byte;
}

/** n-fold of `input` to `outBytes` octets (n = 8 * outBytes bits). The input must not be empty. */
export function nfold(input: Uint8Array, outBytes: number): Uint8Array {
  if (input.length === 0 || !Number.isInteger(outBytes) || outBytes <= 0) throw new RangeError('n-fold needs a non-empty input and a positive output size');
  const total = (input.length * outBytes) / gcd(input.length, outBytes);
  // Column sums: each output byte collects the bytes that fall on it, carried afterwards.
  const sums = new Array<number>(outBytes).fill(0);
  for (let i = 0; i < total; i++) {
    const repetition = Math.floor(i / input.length);
    sums[i % outBytes]! += rotatedByte(input, i % input.length, 13 * repetition);
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
  return Uint8Array.from(sums);
}
