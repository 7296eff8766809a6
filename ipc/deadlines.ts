// One clock for many deadlines: pending calls register when they must be answered by, and a
// single timer, armed for the earliest, expires whatever is due when it fires. A call that
// settles in time costs a heap entry and nothing else (no timer armed and cleared per call, which
// profiles of the LSA and the processes showed on every LPC call and package call).
//
// A cancelled entry leaves the heap at once (each entry knows its place in it). Entries used to be
// only marked, and dropped when they reached the top or at a compaction past 1,024; but an entry's
// expire closure holds its call's reject function, and through the promise the awaiting chain of
// the call (its caller's frames, request and reply), so up to a thousand answered calls stayed
// reachable behind one long-lived deadline. Now an answered call keeps nothing alive.
// A deadline queue is per thread and is driven by its event loop; while
// any deadline is pending its one timer keeps the thread alive, as a timer per call did. When the
// last pending call settles the timer stays armed but unreferenced (it no longer keeps the thread
// alive, and fires to find nothing due), so a thread whose calls come one at a time (an HTTP
// server's, each request's call answered before the next) does not set and clear a timer per call.

import { performance } from 'node:perf_hooks';

/** A registered deadline; `cancel()` it when the call settles in time. */
export interface Deadline {
  cancel(): void;
}

/** A deadline in the heap, and the Deadline its caller holds (one object per call, not three). */
class Entry implements Deadline {
  readonly at: number;
  /** Dropped when the entry leaves the heap, with everything it reaches. */
  expire: (() => void) | null;
  /** Its place in the heap; -1 once it has left (expired or cancelled). */
  index = -1;
  private readonly queue: DeadlineQueue;

  constructor(queue: DeadlineQueue, at: number, expire: () => void) {
    this.queue = queue;
    this.at = at;
    this.expire = expire;
  }

  cancel(): void {
    if (this.index >= 0) this.queue.remove(this);
  }
}

export class DeadlineQueue {
  private readonly heap: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (Infinity: none armed). */
  private armedFor = Infinity;
  /** Whether the armed timer keeps the thread alive: only while a deadline is pending. */
  private referenced = false;

  /** Calls `expire` once `ms` from now, unless cancelled first. */
  after(ms: number, expire: () => void): Deadline {
    const entry = new Entry(this, performance.now() + ms, expire);
    this.push(entry);
    if (entry.at < this.armedFor) this.arm(entry.at);
    else if (!this.referenced) {
      // The timer left armed when the queue went idle fires no later than this deadline: it keeps the thread alive again.
      this.timer!.ref();
      this.referenced = true;
    }
    return entry;
  }

  /** Takes a cancelled entry out of the heap (Entry.cancel, while it is in it). */
  remove(entry: Entry): void {
    this.take(entry.index);
    // Nothing pending: the timer stays armed, unreferenced, for the next call to reuse.
    if (this.heap.length === 0) {
      this.timer?.unref();
      this.referenced = false;
    }
  }

  /** Deadlines registered and neither expired nor cancelled. */
  get pending(): number {
    return this.heap.length;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.fire, Math.max(0, at - performance.now()));
    this.referenced = true;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    this.referenced = false;
    const now = performance.now();
    // Timers may fire a little early on some platforms: what is due within a millisecond goes now.
    for (let top = this.heap[0]; top !== undefined && top.at <= now + 1; top = this.heap[0]) {
      const expire = top.expire!;
      this.take(0);
      expire();
    }
    if (this.heap.length > 0) this.arm(this.heap[0]!.at);
  };

  private push(entry: Entry): void {
    this.heap.push(entry);
    this.up(entry, this.heap.length - 1);
  }

  /** Removes the entry at `i`: the last entry takes its place and moves up or down to where it belongs. */
  private take(i: number): void {
    const heap = this.heap;
    const gone = heap[i]!;
    gone.index = -1;
    gone.expire = null;
    const last = heap.pop()!;
    if (last === gone) return;
    if (i > 0 && heap[(i - 1) >> 1]!.at > last.at) this.up(last, i);
    else this.down(last, i);
  }

  private up(entry: Entry, i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent]!;
      if (above.at <= entry.at) break;
      heap[i] = above;
      above.index = i;
      i = parent;
    }
    heap[i] = entry;
    entry.index = i;
  }

  private down(entry: Entry, i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      const below = heap[child]!;
      if (below.at >= entry.at) break;
      heap[i] = below;
      below.index = i;
      i = child;
    }
    heap[i] = entry;
    entry.index = i;
  }
}

/** This thread's deadline queue, shared by its RPC peers and package calls. */
export const deadlines = new DeadlineQueue();
