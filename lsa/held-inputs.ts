// What packages keep of what the LSA hands them. Every input buffer of a call is a private copy
// of exactly its length (a token that arrived as a view into a larger buffer would otherwise pin
// all of it), and the larger copies are watched through weak references: after a full garbage
// collection, one still alive is held by some package's state (a context that kept a caller's
// buffer instead of what it needed of it), and lsa.stats() says how many and how many bytes.

/** Inputs smaller than this are not watched: keeping a token's few bytes is what contexts do. */
export const WATCHED_INPUT_BYTES = 1024;

export class HeldInputs {
  private watched: Array<WeakRef<Uint8Array>> = [];
  /** The list is swept of collected entries whenever it grows past this. */
  private sweepAt = 1024;

  /** A private copy of `bytes` for a package, watched when it is large. */
  copy(bytes: Uint8Array): Uint8Array {
    const copy = new Uint8Array(bytes);
    if (copy.byteLength >= WATCHED_INPUT_BYTES) {
      this.watched.push(new WeakRef(copy));
      if (this.watched.length >= this.sweepAt) {
        this.sweep();
        this.sweepAt = Math.max(1024, this.watched.length * 2);
      }
    }
    return copy;
  }

  /** Watched inputs still alive (after a garbage collection: still held by package state). */
  count(): { buffers: number; bytes: number } {
    this.sweep();
    let bytes = 0;
    for (const ref of this.watched) bytes += ref.deref()?.byteLength ?? 0;
    return { buffers: this.watched.length, bytes };
  }

  private sweep(): void {
    this.watched = this.watched.filter((ref) => ref.deref() !== undefined);
  }
}
