// Scans tapped channel traffic for secret bytes in any encoding: raw, hex, base64, UTF-16.

import type { TapRecord } from '../../ipc/trace.js';

/** The forms a secret may take on the wire. */
export function encodings(secret: Uint8Array | string): { bytes: Buffer[]; strings: string[] } {
  const raw = typeof secret === 'string' ? [Buffer.from(secret, 'utf8'), Buffer.from(secret, 'utf16le')] : [Buffer.from(secret)];
  const strings = raw.flatMap((b) => [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64')]);
  if (typeof secret === 'string') strings.push(secret);
  return { bytes: raw, strings };
}

/** Where in `value` any form of `secret` occurs (paths into the message), or [] when nowhere. */
export function findSecret(value: unknown, secret: Uint8Array | string): string[] {
  const { bytes, strings } = encodings(secret);
  const hits: string[] = [];
  const visit = (v: unknown, path: string): void => {
    if (typeof v === 'string') {
      if (strings.some((s) => v.includes(s))) hits.push(path);
    } else if (v instanceof Uint8Array) {
      const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      if (bytes.some((needle) => b.includes(needle))) hits.push(path);
      const asText = [b.toString('latin1'), b.toString('utf8')];
      if (asText.some((t) => strings.some((s) => t.includes(s)))) hits.push(path + ' (as text)');
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, `${path}[${i}]`));
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) visit(x, `${path}.${k}`);
    }
  };
  visit(value, '');
  return hits;
}

/** Whether a tapped message travelled from the LSA into an app process. */
export function lsaToProcess(t: TapRecord): boolean {
  return t.channel.startsWith('lpc:') && ((t.process === 'lsa' && t.direction === 'send') || (t.process !== 'lsa' && t.direction === 'receive'));
}

/** Whether a tapped message travelled between two app processes. */
export function betweenApps(t: TapRecord): boolean {
  return t.channel.startsWith('app:');
}
