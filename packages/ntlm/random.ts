// The handshake's random values (ServerChallenge, ClientChallenge, the random ExportedSessionKey of
// KEY_EXCH: 8, 8 and 16 bytes) from node:crypto's CSPRNG, drawn in batches: one randomBytes call
// costs about as much for 4 KiB as for 8 bytes, and a handshake wants three small draws. Each byte
// is handed out once and zeroed in the batch as it goes, so the batch holds only values nobody has
// been given yet (the LSA's own secrets, in the LSA's memory).

import { randomBytes, randomFillSync } from 'node:crypto';

const BATCH_BYTES = 4096;
/** Draws larger than this go straight to node:crypto. */
const LARGEST_POOLED = 256;

const batch = new Uint8Array(BATCH_BYTES);
let next = BATCH_BYTES;

/** `length` fresh random bytes, a new array. */
export function randomFromPool(length: number): Uint8Array {
  if (length > LARGEST_POOLED) return new Uint8Array(randomBytes(length));
  if (next + length > BATCH_BYTES) {
    randomFillSync(batch);
    next = 0;
  }
  const out = batch.slice(next, next + length);
  batch.fill(0, next, next + length);
  next += length;
  return out;
}
