// How the LSA shares itself among processes. Every LPC call a process makes becomes a job on that
// process's queue; the LSA runs at most `concurrent` jobs at once, at most `perProcess` of them
// for any one process, and when a slot frees it goes to the next process in turn (round-robin
// over the processes that have work waiting). A process that floods the LSA fills only its own
// queue, which is bounded: a call beyond it is refused at once (the caller answers it with
// SEC_E_INSUFFICIENT_MEMORY), so one process can neither starve another nor make the LSA hold
// its whole backlog.
//
// What waits is bounded in bytes too (a waiting call keeps its buffers and strings). A job that
// waits on its own process (a client buffer call, a ClientCallback) gives its slot back to the
// others meanwhile, keeping only its process's share: a process that never answers stalls its
// own calls, never everyone's. A job that never finishes (a package that hangs) keeps its slot
// until its deadline frees it; perProcess bounds how many one process can have stuck that way.

export interface SchedulerLimits {
  /** Jobs the LSA runs at once, all processes together. */
  concurrent: number;
  /** Jobs one process may have running at once. */
  perProcess: number;
  /** Jobs one process may have waiting to run; more are refused. */
  queuedPerProcess: number;
  /** Bytes (buffers and strings) one process's waiting jobs may hold; more are refused. */
  queuedBytesPerProcess: number;
}

/** The job was refused (its process's queue was full) or dropped (its process is gone). */
export class Refused {
  readonly why: string;

  constructor(why: string) {
    this.why = why;
  }
}

/** One process's queue. */
export class ProcessQueue {
  running = 0;
  /** Jobs refused because the queue was full, for stats. */
  refused = 0;
  readonly jobs: Array<() => void> = [];
  /** Bytes the waiting jobs hold. */
  bytes = 0;
  /** In the scheduler's rotation (it has jobs waiting and may run one). */
  queued = false;
  dropped = false;

  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }
}

export class CallScheduler {
  private running = 0;
  /** Processes with jobs waiting, in the order their turn comes. */
  private readonly rotation: ProcessQueue[] = [];

  private readonly limits: SchedulerLimits;

  constructor(limits: SchedulerLimits) {
    this.limits = limits;
  }

  /** A new process's queue. */
  queue(name: string): ProcessQueue {
    return new ProcessQueue(name);
  }

  /**
   * Runs `job` for `queue`'s process when its turn comes, and resolves with its result; resolves
   * with a Refused when the process's queue is full or the process is dropped before its turn. A
   * job that starts at once and answers synchronously (most package calls do) is answered
   * synchronously: no promise between the call's arrival and its reply. `onQueued` runs when the
   * job is put in the queue instead (not when it starts at once).
   */
  run<T>(queue: ProcessQueue, job: () => T | Promise<T>, bytes = 0, onQueued?: () => void): T | Promise<T | Refused> {
    if (queue.dropped) return Promise.resolve(new Refused(`${queue.name} is gone`));
    // Nobody waits: the job starts now, with no queueing at all.
    if (this.rotation.length === 0 && this.running < this.limits.concurrent && queue.running < this.limits.perProcess) return this.start(queue, job);
    if (queue.jobs.length >= this.limits.queuedPerProcess) {
      queue.refused++;
      return Promise.resolve(new Refused(`${queue.name} already has ${this.limits.queuedPerProcess} calls waiting in the LSA, the most one process may`));
    }
    if (queue.bytes + bytes > this.limits.queuedBytesPerProcess) {
      queue.refused++;
      return Promise.resolve(
        new Refused(
          `${queue.name}'s waiting calls already hold ${queue.bytes} bytes; this one would pass the ${this.limits.queuedBytesPerProcess} one process may`,
        ),
      );
    }
    queue.bytes += bytes;
    // What waits holds only its own bytes (its request's views into the frame it came in, copied).
    onQueued?.();
    return new Promise<T | Refused>((resolve, reject) => {
      queue.jobs.push(() => {
        queue.bytes -= bytes;
        if (queue.dropped) resolve(new Refused(`${queue.name} is gone`));
        else {
          let started: T | Promise<T>;
          try {
            started = this.start(queue, job);
          } catch (error) {
            reject(error);
            return;
          }
          if (started instanceof Promise) started.then(resolve, reject);
          else resolve(started);
        }
      });
      this.enqueue(queue);
      this.pump();
    });
  }

  /** The process is gone: its waiting jobs are refused, and it leaves the rotation. */
  drop(queue: ProcessQueue): void {
    queue.dropped = true;
    for (const job of queue.jobs.splice(0)) job();
    const at = this.rotation.indexOf(queue);
    if (at >= 0) this.rotation.splice(at, 1);
    queue.queued = false;
  }

  get runningJobs(): number {
    return this.running;
  }

  /**
   * Runs `wait` (a call into the job's own process) with the job's slot given back to the others:
   * the job still counts against its process's share, not against everyone's.
   */
  async whileWaiting<T>(queue: ProcessQueue, wait: () => Promise<T>): Promise<T> {
    // Only a running job of this process has a slot to give (an LSA call outside any job has none).
    if (queue.running === 0) return wait();
    this.running--;
    this.pump();
    try {
      return await wait();
    } finally {
      // Back in its slot (the LSA may run one job more than `concurrent` for a moment: it was admitted already).
      this.running++;
    }
  }

  private start<T>(queue: ProcessQueue, job: () => T | Promise<T>): T | Promise<T> {
    this.running++;
    queue.running++;
    let result: T | Promise<T>;
    try {
      result = job();
    } catch (error) {
      this.finish(queue);
      return Promise.reject(error);
    }
    if (!(result instanceof Promise)) {
      this.finish(queue);
      return result;
    }
    return result.finally(() => this.finish(queue));
  }

  /** A job of `queue` ended: its slot goes to the next waiting one. */
  private finish(queue: ProcessQueue): void {
    this.running--;
    queue.running--;
    if (queue.jobs.length > 0) this.enqueue(queue);
    this.pump();
  }

  private enqueue(queue: ProcessQueue): void {
    if (!queue.queued && !queue.dropped) {
      queue.queued = true;
      this.rotation.push(queue);
    }
  }

  /** Starts waiting jobs while slots are free, one per process in turn. */
  private pump(): void {
    let skipped = 0;
    while (this.running < this.limits.concurrent && this.rotation.length > 0 && skipped < this.rotation.length) {
      const queue = this.rotation.shift()!;
      queue.queued = false;
      if (queue.jobs.length === 0) continue;
      if (queue.running >= this.limits.perProcess) {
        // Its turn comes again when one of its own jobs finishes.
        skipped++;
        this.rotation.push(queue);
        queue.queued = true;
        continue;
      }
      skipped = 0;
      queue.jobs.shift()!();
      if (queue.jobs.length > 0) this.enqueue(queue);
    }
  }
}
