// One clock for many deadlines: pending calls register when they must be answered by, and a
// single timer, armed for the earliest, expires whatever is due when it fires. A call that
// settles in time costs a heap entry and nothing else (no timer armed and cleared per call, which
// profiles of the LSA and the processes showed on every LPC call and package call).
//
// Entries are cancelled lazily: settling a call only marks it, and the heap drops marked entries
// when they reach the top. A deadline queue is per thread and is driven by its event loop; while
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
  readonly expire: () => void;
  cancelled = false;
  private readonly queue: DeadlineQueue;

  constructor(queue: DeadlineQueue, at: number, expire: () => void) {
    this.queue = queue;
    this.at = at;
    this.expire = expire;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.queue.cancelled();
  }
}

export class DeadlineQueue {
  private readonly heap: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (Infinity: none armed). */
  private armedFor = Infinity;
  /** Whether the armed timer keeps the thread alive: only while a deadline is pending. */
  private referenced = false;
  private live = 0;

  /** Calls `expire` once `ms` from now, unless cancelled first. */
  after(ms: number, expire: () => void): Deadline {
    const entry = new Entry(this, performance.now() + ms, expire);
    this.push(entry);
    this.live++;
    if (entry.at < this.armedFor) this.arm(entry.at);
    else if (!this.referenced) {
      // The timer left armed when the queue went idle fires no later than this deadline: it keeps the thread alive again.
      this.timer!.ref();
      this.referenced = true;
    }
    return entry;
  }

  /** One of this queue's entries was cancelled (Entry.cancel, once). */
  cancelled(): void {
    if (--this.live === 0) this.idle();
    else if (this.heap.length > 1024 && this.heap.length > 4 * this.live) this.compact();
  }

  /** Deadlines registered and neither expired nor cancelled. */
  get pending(): number {
    return this.live;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.fire, Math.max(0, at - performance.now()));
    this.referenced = true;
  }

  /** Nothing pending: every entry left is cancelled; the timer stays armed, unreferenced, for the next call to reuse. */
  private idle(): void {
    this.heap.length = 0;
    this.timer?.unref();
    this.referenced = false;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    this.referenced = false;
    const now = performance.now();
    // Timers may fire a little early on some platforms: what is due within a millisecond goes now.
    for (let top = this.heap[0]; top !== undefined && (top.cancelled || top.at <= now + 1); top = this.heap[0]) {
      this.pop();
      if (top.cancelled) continue;
      top.cancelled = true;
      this.live--;
      top.expire();
    }
    const next = this.nextLive();
    if (next !== undefined) this.arm(next.at);
  };

  /** The earliest entry not cancelled, dropping cancelled ones from the top. */
  private nextLive(): Entry | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0];
  }

  /** Drops the cancelled entries (calls answered in time pile up behind a long-lived one). */
  private compact(): void {
    const kept = this.heap.filter((e) => !e.cancelled);
    this.heap.length = 0;
    for (const e of kept) this.push(e);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

/** This thread's deadline queue, shared by its RPC peers and package calls. */
export const deadlines = new DeadlineQueue();
