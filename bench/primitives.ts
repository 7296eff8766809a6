// The limit for message protection: each package's own primitives called directly in one
// thread, without SSPI (no buffers to check, no handle lookups, no sequence bookkeeping beyond
// what the primitive needs). Example: HMAC-SHA256 and AES-256-GCM from node:crypto. NTLM: the
// fastest HMAC-MD5 and RC4 there are here, the package's own (md5.ts: a prepared key's HMAC costs
// its message's blocks and one more, where node:crypto sets up a context per call; rc4.ts, which
// node:crypto refuses without the legacy provider), the checksum computed and RC4-encrypted by
// each side and compared, as a signature and its check are. Null: nothing but the 8-byte stamp.

import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HmacMd5Key, Rc4 } from '../packages/ntlm/wire.js';

type Pair = { 'sign+verify': () => void; 'seal+unseal': () => void };

function examplePrimitives(data: Uint8Array): Pair {
  const key = randomBytes(32);
  const seq = Buffer.alloc(4);
  const gcmKey = randomBytes(32);
  let n = 0;
  return {
    'sign+verify': () => {
      const mac = createHmac('sha256', key).update(seq).update(data).digest().subarray(0, 16);
      const again = createHmac('sha256', key).update(seq).update(data).digest().subarray(0, 16);
      if (!timingSafeEqual(mac, again)) throw new Error('mismatch');
    },
    'seal+unseal': () => {
      const iv = Buffer.alloc(12);
      iv.writeUInt32BE(n++, 8);
      const c = createCipheriv('aes-256-gcm', gcmKey, iv);
      const sealed = c.update(data);
      c.final();
      const tag = c.getAuthTag();
      const d = createDecipheriv('aes-256-gcm', gcmKey, iv);
      d.setAuthTag(tag);
      d.update(sealed);
      d.final();
    },
  };
}

function ntlmPrimitives(data: Uint8Array): Pair {
  const signKey = new HmacMd5Key(randomBytes(16));
  const sealKey = randomBytes(16);
  const out = new Rc4(sealKey);
  const inn = new Rc4(sealKey);
  const seq = new Uint8Array(4);
  const sent = new Uint8Array(16);
  const expected = new Uint8Array(16);
  const checksum = (into: Uint8Array): Uint8Array => signKey.macInto(into, 0, [seq, data]);
  const check = (): void => {
    for (let i = 0; i < 8; i++) if (sent[i] !== expected[i]) throw new Error('mismatch');
  };
  return {
    'sign+verify': () => {
      out.processInPlace(checksum(sent), 0, 8);
      inn.processInPlace(checksum(expected), 0, 8);
      check();
    },
    'seal+unseal': () => {
      checksum(sent);
      out.processInPlace(data);
      out.processInPlace(sent, 0, 8);
      inn.processInPlace(data);
      inn.processInPlace(checksum(expected), 0, 8);
      check();
    },
  };
}

function nullPrimitives(): Pair {
  const token = new Uint8Array(8);
  const view = new DataView(token.buffer);
  let n = 0;
  const stamp = (): void => {
    view.setUint32(4, n++, true);
    if (view.getUint32(4, true) !== n - 1) throw new Error('mismatch');
  };
  return { 'sign+verify': stamp, 'seal+unseal': stamp };
}

/** The packages whose primitives this module knows, by SecPkgInfo Name. */
const KNOWN = new Set(['Example', 'NTLM', 'Null', 'Negotiate']);

export function hasPrimitives(packageName: string): boolean {
  return KNOWN.has(packageName);
}

/**
 * One operation (both ends: make and verify, or seal and unseal) of the package's primitives on a
 * message of `size` bytes, to be called again and again: bench/apps/messages.ts measures it
 * interleaved with the same operation on a mapped context, in the same thread.
 */
export function rawOperation(packageName: string, op: keyof Pair, size: number): () => void {
  const data = new Uint8Array(size).fill(7);
  if (!hasPrimitives(packageName)) throw new Error(`no primitives are written for ${packageName}`);
  // A Negotiate context signs and seals with its mechanism's (NTLM's) user-mode half.
  const pair =
    packageName === 'Example' ? examplePrimitives(data) : packageName === 'NTLM' || packageName === 'Negotiate' ? ntlmPrimitives(data) : nullPrimitives();
  return pair[op];
}
