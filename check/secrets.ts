// Where a secret shows up in tapped channel traffic, in any encoding a package might put it in:
// raw bytes (UTF-8, UTF-16LE), hex in either case, base64, and as text inside byte buffers.

import type { TapRecord } from '../ipc/index.js';

/** The forms a secret (a password, or bytes such as a key) may take on the wire. */
export function encodings(secret: Uint8Array | string): { bytes: Buffer[]; strings: string[] } {
  const raw = typeof secret === 'string' ? [Buffer.from(secret, 'utf8'), Buffer.from(secret, 'utf16le')] : [Buffer.from(secret)];
  const strings = raw.flatMap((b) => [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64')]);
  if (typeof secret === 'string') strings.unshift(secret);
  return { bytes: raw, strings };
}

/** Paths into `value` where any form of `secret` occurs; [] when nowhere. */
export function findSecret(value: unknown, secret: Uint8Array | string): string[] {
  const { bytes, strings } = encodings(secret);
  const hits: string[] = [];
  const seen = new Set<unknown>();
  const visit = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      if (strings.some((s) => v.includes(s))) hits.push(path);
    } else if (v instanceof Uint8Array) {
      const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      if (bytes.some((needle) => b.includes(needle))) hits.push(path);
      else if ([b.toString('latin1'), b.toString('utf8')].some((t) => strings.some((s) => t.includes(s)))) hits.push(`${path} (as text)`);
    } else if (typeof v === 'object' && v !== null && !seen.has(v)) {
      seen.add(v);
      if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${path}[${i}]`));
      else for (const [k, x] of Object.entries(v)) visit(x, `${path}.${k}`);
    }
  };
  visit(value, '');
  return hits;
}

/**
 * Whether a tapped message travelled from an app process into the LSA over its LPC channel: the
 * one way an explicit password may go (the LSA reads it from the caller with CopyFromClientBuffer).
 */
export function intoLsa(t: TapRecord): boolean {
  return t.channel.startsWith('lpc:') && ((t.process !== 'lsa' && t.direction === 'send') || (t.process === 'lsa' && t.direction === 'receive'));
}

/** Each tapped message that carries the secret where it must not go, described. */
export function leaks(taps: readonly TapRecord[], secret: string): string[] {
  const out: string[] = [];
  for (const t of taps) {
    if (intoLsa(t)) continue;
    const hits = findSecret(t.message, secret);
    if (hits.length > 0) {
      const op = (t.message as { op?: unknown } | null)?.op;
      out.push(`${t.process} ${t.direction} on ${t.channel}${typeof op === 'string' ? ` (${op})` : ''} at ${hits.slice(0, 3).join(', ')}`);
    }
  }
  return out;
}
