// The acceptor's replay cache (RFC 4120 3.2.3): an authenticator is taken once. It is known by the
// client, its ctime and cusec and a hash of its ciphertext (MIT's "hash extension", so two clients
// cannot collide), and kept for as long as its ctime is within the clock skew: an older one is
// refused by the time check anyway. The cache is bounded; when it is full the oldest entries go
// (and an entry that went would be refused by its time before long).

import { createHash } from 'node:crypto';

export const MAX_REPLAY_ENTRIES = 100_000;

export class ReplayCache {
  /** key -> the time (ms) after which it may be forgotten; Map keeps insertion order, so the oldest are first. */
  private readonly entries = new Map<string, number>();
  private readonly limit: number;

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
    this.prune(nowMs);
    const key = `${client}\u0000${ctimeMs}\u0000${cusec}\u0000${createHash('sha256').update(ciphertext).digest('base64')}`;
    if (this.entries.has(key)) return false;
    while (this.entries.size >= this.limit) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, expiresAt);
    return true;
  }

  private prune(nowMs: number): void {
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt > nowMs) break; // entries were added in roughly time order; stop at the first live one
      this.entries.delete(key);
    }
  }
}
