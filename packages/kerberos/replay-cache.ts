// The acceptor's replay cache (RFC 4120 3.2.3): an authenticator is taken once. It is known by the
// client, its ctime and cusec and a hash of its ciphertext (MIT's "hash extension", so two clients
// cannot collide), and kept for as long as its ctime is within the clock skew: an older one is
// refused by the time check anyway. The cache is bounded; when it is full the oldest entries go
// (and an entry that went would be refused by its time before long).
//
// It is the one structure of the package that grows with the rate of handshakes: it holds every
// authenticator of the last skew window (at a thousand handshakes a second and the default five
// minutes, up to its bound). So each entry is kept small: its key is one flat SHA-256 digest of the
// client, ctime, cusec and ciphertext (a template string of those parts would be a chain of V8
// cons-strings, four times the size), and its expiry whole seconds since the cache began (a small
// integer, not a boxed double). About 100 bytes an entry (test/packages/kerberos/replay-cache.test.ts).

import { createHash } from 'node:crypto';

export const MAX_REPLAY_ENTRIES = 100_000;

export class ReplayCache {
  /** digest -> the second (since `base`) after which it may be forgotten; Map keeps insertion order, so the oldest are first. */
  private readonly entries = new Map<string, number>();
  private readonly limit: number;
  /** The origin of the stored expiries (ms since 1970), set by the first admit. */
  private base: number | undefined;

  constructor(limit = MAX_REPLAY_ENTRIES) {
    this.limit = limit;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Records the authenticator; false when it was seen before (a replay). `expiresAt` is when its
   * ctime leaves the skew window (ms since 1970), `nowMs` the acceptor's clock.
   */
  admit(client: string, ctimeMs: number, cusec: number, ciphertext: Uint8Array, expiresAt: number, nowMs: number): boolean {
    this.base ??= nowMs;
    this.prune(nowMs);
    const head = Buffer.from(`${client.length}\u0000${client}\u0000${ctimeMs}\u0000${cusec}\u0000`, 'utf8');
    const key = createHash('sha256').update(head).update(ciphertext).digest('base64');
    if (this.entries.has(key)) return false;
    while (this.entries.size >= this.limit) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    // Rounded up: an entry is never forgotten before its time.
    this.entries.set(key, Math.ceil((expiresAt - this.base) / 1000));
    return true;
  }

  private prune(nowMs: number): void {
    const now = (nowMs - this.base!) / 1000;
    for (const [key, expires] of this.entries) {
      if (expires > now) break; // entries were added in roughly time order; stop at the first live one
      this.entries.delete(key);
    }
  }
}
