// The calls a peer is waiting on, by call id, in slots that never rehash. Call ids are a counter,
// so id modulo a power of two spreads the calls in flight over an array without collisions until
// a call stays pending while the counter goes once around it; then the array doubles. It never
// shrinks: it stays as large as the calls this peer had in flight at most needed. A call that would
// need more than MAX_SLOTS (one pending while a million others came and went) waits in a Map.
//
// Why not a Map for all: a Map's table is rebuilt as entries come and go (growing, shrinking below
// a quarter, clearing deleted entries), and the table it leaves behind, once promoted to V8's old
// generation, goes on pointing at the entries it held until a full collection. Each of those pins
// a call's promise chain in the young generation through every scavenge (old-to-new pointers are
// roots of a scavenge), which promotes it in turn. With 64 handshakes in flight the client
// process's scavenges kept 23% of what it allocated; with these slots, 5% (README, "Scavenges
// that kept a quarter of everything").

const FIRST_SLOTS = 64;
const MAX_SLOTS = 1 << 20;

export class CallSlots<V> {
  private ids: number[] = new Array<number>(FIRST_SLOTS).fill(-1);
  private values: Array<V | undefined> = new Array<V | undefined>(FIRST_SLOTS).fill(undefined);
  private readonly overflow = new Map<number, V>();
  private count = 0;

  get size(): number {
    return this.count + this.overflow.size;
  }

  /** The call with this id, or undefined (any number a peer sends is safe to look up). */
  get(id: number): V | undefined {
    const i = this.slot(id, this.ids.length);
    if (this.ids[i] === id) return this.values[i];
    return this.overflow.size === 0 ? undefined : this.overflow.get(id);
  }

  /** Adds a call; `id` must be a non-negative integer not in the table. */
  add(id: number, value: V): void {
    let i = this.slot(id, this.ids.length);
    while (this.ids[i] !== -1) {
      if (!this.grow()) {
        this.overflow.set(id, value);
        return;
      }
      i = this.slot(id, this.ids.length);
    }
    this.ids[i] = id;
    this.values[i] = value;
    this.count++;
  }

  delete(id: number): boolean {
    const i = this.slot(id, this.ids.length);
    if (this.ids[i] !== id) return this.overflow.size > 0 && this.overflow.delete(id);
    this.ids[i] = -1;
    this.values[i] = undefined;
    this.count--;
    return true;
  }

  /** Every call, with its id (in no particular order); deleting the one handed out is safe. */
  *entries(): IterableIterator<[number, V]> {
    for (let i = 0; i < this.ids.length; i++) {
      const id = this.ids[i]!;
      if (id !== -1) yield [id, this.values[i]!];
    }
    yield* [...this.overflow];
  }

  /** id modulo size (a power of two): a mask for ids below 2^31, the remainder above (exact for every safe integer). */
  private slot(id: number, size: number): number {
    return id >= 0 && id < 0x80000000 ? id & (size - 1) : Number.isSafeInteger(id) && id > 0 ? id % size : -1;
  }

  /** Doubles the slots (more than once if two calls still share one); false past MAX_SLOTS. */
  private grow(): boolean {
    for (let size = this.ids.length * 2; size <= MAX_SLOTS; size *= 2) {
      const ids = new Array<number>(size).fill(-1);
      const values = new Array<V | undefined>(size).fill(undefined);
      let placed = true;
      for (let i = 0; i < this.ids.length && placed; i++) {
        const id = this.ids[i]!;
        if (id === -1) continue;
        const j = this.slot(id, size);
        if (ids[j] !== -1) placed = false;
        else {
          ids[j] = id;
          values[j] = this.values[i];
        }
      }
      if (placed) {
        this.ids = ids;
        this.values = values;
        return true;
      }
    }
    return false;
  }
}
