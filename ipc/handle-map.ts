// HandleMap: a Map from numbers (handles, call ids) to values, for tables whose entries come and go
// all the time, as a package's contexts do (one per handshake, deleted after it) and an RPC peer's
// pending calls (one per call). It answers as a Map does
// (get, set, has, delete, size, iteration) and differs in how it keeps them: open addressing with
// linear probing, deleting by shifting the entries after it back (no tombstones, so it never has to
// be rebuilt to clear them), growing when half full, shrinking only when an eighth full (to a
// quarter of its size: a table that once held a million contexts does not keep their slots, and
// one that goes up and down with the handshakes in flight is not rebuilt over and over), and
// clearing the arrays it leaves.
//
// Why: a Map's table is rebuilt as entries come and go, and the table it leaves behind, once in V8's
// old generation, goes on pointing at the entries it held until a full collection. The young
// objects it points at (a context's keys, its cipher state, whatever they reach) survive every
// scavenge until then, and are promoted, and so on (an RPC call's pending record pins its promise
// and the caller's whole chain of frames): with NTLM at 64 handshakes in flight the app processes'
// scavenges kept a quarter of all they allocated, and V8's helper threads spent a quarter of the
// machine's CPU on it (README, "Scavenges that kept a quarter of everything").

const FIRST_CAPACITY = 16;
/** Tables at or below this size never shrink (a few hundred bytes). */
const SHRINK_FROM = 256;

export class HandleMap<V> implements Iterable<[number, V]> {
  private keysAt: number[] = new Array<number>(FIRST_CAPACITY).fill(0);
  private valuesAt: Array<V | undefined> = new Array<V | undefined>(FIRST_CAPACITY).fill(undefined);
  private used: Uint8Array = new Uint8Array(FIRST_CAPACITY);
  private mask = FIRST_CAPACITY - 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: number): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.valuesAt[i];
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  /** Sets the value of `key` (a number other than NaN). */
  set(key: number, value: V): this {
    if (typeof key !== 'number' || Number.isNaN(key)) throw new TypeError('a HandleMap key is a number other than NaN');
    let i = this.find(key);
    if (i >= 0) {
      this.valuesAt[i] = value;
      return this;
    }
    if (2 * (this.count + 1) > this.used.length) this.grow();
    i = hash(key) & this.mask;
    while (this.used[i] === 1) i = (i + 1) & this.mask;
    this.used[i] = 1;
    this.keysAt[i] = key;
    this.valuesAt[i] = value;
    this.count++;
    return this;
  }

  delete(key: number): boolean {
    let hole = this.find(key);
    if (hole < 0) return false;
    // Knuth's deletion for linear probing: each entry after the hole that could live in it moves back.
    const mask = this.mask;
    for (let i = (hole + 1) & mask; this.used[i] === 1; i = (i + 1) & mask) {
      const home = hash(this.keysAt[i]!) & mask;
      // The entry at i stays unless its home is at or before the hole, going round from i.
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        this.keysAt[hole] = this.keysAt[i]!;
        this.valuesAt[hole] = this.valuesAt[i];
        hole = i;
      }
    }
    this.used[hole] = 0;
    this.keysAt[hole] = 0;
    this.valuesAt[hole] = undefined;
    this.count--;
    if (this.used.length > SHRINK_FROM && 8 * this.count < this.used.length) this.resize(this.used.length / 4);
    return true;
  }

  clear(): void {
    this.used.fill(0);
    this.keysAt.fill(0);
    this.valuesAt.fill(undefined);
    this.count = 0;
  }

  /** The entries as they are now (a deletion moves entries between slots: deleting while iterating is safe, as with a Map). */
  entries(): IterableIterator<[number, V]> {
    const out: Array<[number, V]> = [];
    for (let i = 0; i < this.used.length; i++) if (this.used[i] === 1) out.push([this.keysAt[i]!, this.valuesAt[i]!]);
    return out[Symbol.iterator]();
  }

  *keys(): IterableIterator<number> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }

  /** The slot of `key`, or -1. */
  private find(key: number): number {
    if (this.count === 0) return -1;
    for (let i = hash(key) & this.mask; this.used[i] === 1; i = (i + 1) & this.mask) if (this.keysAt[i] === key) return i;
    return -1;
  }

  private grow(): void {
    this.resize(this.used.length * 2);
  }

  private resize(capacity: number): void {
    const keys = this.keysAt;
    const values = this.valuesAt;
    const used = this.used;
    this.keysAt = new Array<number>(capacity).fill(0);
    this.valuesAt = new Array<V | undefined>(capacity).fill(undefined);
    this.used = new Uint8Array(capacity);
    this.mask = capacity - 1;
    for (let j = 0; j < used.length; j++) {
      if (used[j] !== 1) continue;
      let i = hash(keys[j]!) & this.mask;
      while (this.used[i] === 1) i = (i + 1) & this.mask;
      this.used[i] = 1;
      this.keysAt[i] = keys[j]!;
      this.valuesAt[i] = values[j];
    }
    // The old array is garbage now; cleared, it points at nothing that a scavenge would keep.
    values.fill(undefined);
  }
}

/** Spreads a number's bits (its low and high 32, for handles past 2^32) over the 32 of a slot index. */
function hash(key: number): number {
  const low = key | 0;
  const high = (key / 4294967296) | 0;
  const h = Math.imul(low ^ Math.imul(high, 0x85ebca6b), 0x9e3779b1);
  return h ^ (h >>> 15);
}
