// AES in CBC mode with ciphertext stealing, as RFC 3962 section 5 defines it (the "CS3" variant:
// the last two blocks are always swapped, even when the last one is full), over node:crypto's
// AES-CBC and AES-ECB without padding. RFC 8009 uses the same mode. The cipher state carried from
// one message to the next is the next-to-last block of the output (the last block when there is
// only one), which is the CBC encryption of the last plaintext block.

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { KerberosCryptoError } from './errors.js';

export const AES_BLOCK_BYTES = 16;

/** The all-zero initial cipher state (RFC 3961 5.3, "initial cipher state: all bits zero"). */
export const ZERO_IV: Uint8Array = new Uint8Array(AES_BLOCK_BYTES);

function cipherName(key: Uint8Array, mode: 'cbc' | 'ecb'): string {
  if (key.length !== 16 && key.length !== 32) throw new KerberosCryptoError('BAD_KEY', `an AES key is 16 or 32 bytes, not ${key.length}`);
  return `aes-${key.length * 8}-${mode}`;
}

/** Plain AES-CBC over whole blocks (no padding). */
export function aesCbcEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const cipher = createCipheriv(cipherName(key, 'cbc'), key, iv).setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** An AES-ECB decryption without padding: each update gives back exactly the blocks it was given. */
function aesEcbDecipher(key: Uint8Array): { update(data: Uint8Array): Buffer } {
  return createDecipheriv(cipherName(key, 'ecb'), key, null).setAutoPadding(false);
}

export interface CtsResult {
  /** The output, as long as the input. */
  readonly output: Uint8Array;
  /** The cipher state for a following message. */
  readonly nextIv: Uint8Array;
}

function checkLengths(iv: Uint8Array, input: Uint8Array): void {
  if (iv.length !== AES_BLOCK_BYTES) throw new KerberosCryptoError('BAD_LENGTH', `a cipher state is ${AES_BLOCK_BYTES} bytes, not ${iv.length}`);
  // Kerberos always prepends a one-block confounder; RFC 3962 leaves shorter inputs' padding unspecified, and MIT refuses them.
  if (input.length < AES_BLOCK_BYTES) throw new KerberosCryptoError('BAD_LENGTH', `AES-CTS needs at least one block, not ${input.length} bytes`);
}

/** AES-CTS encryption (RFC 3962 section 5). One block is plain CBC (ECB under the zero state). */
export function aesCtsEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): CtsResult {
  checkLengths(iv, plaintext);
  const blocks = Math.ceil(plaintext.length / AES_BLOCK_BYTES);
  const padded = new Uint8Array(blocks * AES_BLOCK_BYTES);
  padded.set(plaintext);
  const cbc = aesCbcEncrypt(key, iv, padded);
  if (blocks === 1) return { output: cbc, nextIv: cbc };
  const lastStart = (blocks - 1) * AES_BLOCK_BYTES;
  const penultimateStart = lastStart - AES_BLOCK_BYTES;
  const tail = plaintext.length - lastStart; // 1..16 bytes of the last block
  const output = new Uint8Array(plaintext.length);
  output.set(cbc.subarray(0, penultimateStart));
  output.set(cbc.subarray(lastStart), penultimateStart); // the last CBC block moves up...
  output.set(cbc.subarray(penultimateStart, penultimateStart + tail), lastStart); // ...and the one before it, cut to the tail, goes last
  return { output, nextIv: cbc.subarray(lastStart) };
}

/**
 * AES-CTS decryption (RFC 3962 section 5): rebuilds the CBC ciphertext, then decrypts it. One ECB
 * decipher does both (the last CBC block's decryption, which gives back the stolen bytes, then every
 * block), and the CBC chaining (P_i = D(C_i) XOR C_{i-1}, C_0 the cipher state) is done here.
 */
export function aesCtsDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): CtsResult {
  checkLengths(iv, ciphertext);
  const ecb = aesEcbDecipher(key);
  const blocks = Math.ceil(ciphertext.length / AES_BLOCK_BYTES);
  if (blocks === 1) return { output: unchain(ecb.update(ciphertext), iv, ciphertext, ciphertext.length), nextIv: new Uint8Array(ciphertext) };
  const lastStart = (blocks - 1) * AES_BLOCK_BYTES;
  const penultimateStart = lastStart - AES_BLOCK_BYTES;
  const tail = ciphertext.length - lastStart;
  const lastCbcBlock = ciphertext.subarray(penultimateStart, lastStart);
  // D(E_n) = P_n (zero-padded) XOR E_{n-1}: where P_n was padding, it shows the stolen bytes of E_{n-1}.
  const decryptedLast = ecb.update(lastCbcBlock);
  const cbc = new Uint8Array(blocks * AES_BLOCK_BYTES);
  cbc.set(ciphertext.subarray(0, penultimateStart));
  cbc.set(ciphertext.subarray(lastStart), penultimateStart);
  cbc.set(decryptedLast.subarray(tail), penultimateStart + tail);
  cbc.set(lastCbcBlock, lastStart);
  return { output: unchain(ecb.update(cbc), iv, cbc, ciphertext.length), nextIv: new Uint8Array(lastCbcBlock) };
}

/** CBC decryption's chaining over the ECB-decrypted blocks: the first `length` bytes of D(C_i) XOR C_{i-1}, C_0 = iv. */
function unchain(decrypted: Uint8Array, iv: Uint8Array, cbc: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = decrypted[i]! ^ (i < AES_BLOCK_BYTES ? iv[i]! : cbc[i - AES_BLOCK_BYTES]!);
  return out;
}
