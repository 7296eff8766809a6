// The LSA's work pool: a piscina pool of threads owned by the LSA worker, where CreateThread runs
// the work routines (lsa/work-routines.ts) so that the dispatch thread, which owns every table and
// all package state, keeps answering cheap calls while a key is derived. The threads start with
// the first task (most machines never need them) and end with the LSA: the machine terminates the
// LSA's worker, which takes its pool's threads with it. With 0 threads the pool is off and each
// task runs inline on the dispatch thread, as before the pool existed.
//
// A task never hangs and never ends the LSA: one that throws, or whose thread dies (a crash, its
// memory limit), settles as a failure, piscina starts a new thread for the next, and an error
// the pool reports outside any task is counted, not thrown.

import { threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { STATUS_INSUFFICIENT_RESOURCES, STATUS_INTERNAL_ERROR, type Status } from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import { runWorkTask, wipeWorkTask, type WorkTask } from './work-routines.js';

/** The pool's size: `threads` threads, 0 for off (every task inline on the dispatch thread). */
export interface WorkPoolConfig {
  threads: number;
}

export type WorkOutcome = { ok: true; output: Uint8Array; threadId: number } | { ok: false; status: Status; reason: string };

export interface WorkPoolStats {
  /** The configured size (0: off). */
  threads: number;
  /** Threads alive now (0 until the first task). */
  live: number;
  /** Tasks that ran on the pool, inline, and that failed (threw, lost their thread, found the queue full). */
  onPool: number;
  inline: number;
  failed: number;
  /** Errors the pool reported outside any task. */
  poolErrors: number;
}

const WORK_THREAD_LOADER = new URL('./work-thread-loader.cjs', import.meta.url);

/** Tasks waiting for a thread beyond which a new one is refused (STATUS_INSUFFICIENT_RESOURCES). */
const MAX_QUEUED_TASKS = 4096;

/**
 * A pool thread's heap: the routines need little, and a thread that would grow past this dies
 * (its task fails) instead of taking the LSA's memory.
 */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 };

/** What a pool thread answers: the routine's output and which thread made it. */
export interface WorkThreadReply {
  output: Uint8Array;
  threadId: number;
}

export class LsaWorkPool {
  readonly threads: number;
  private readonly threadModule: URL;
  private pool: Piscina<WorkTask, WorkThreadReply> | null = null;
  private closed = false;
  private readonly counts = { onPool: 0, inline: 0, failed: 0, poolErrors: 0 };

  /** `threadModule` is what the pool's threads run: the LSA's work thread, or a test's stand-in that crashes. */
  constructor(config: WorkPoolConfig, threadModule: URL = new URL('./work-thread.js', import.meta.url)) {
    this.threads = config.threads;
    this.threadModule = threadModule;
  }

  /** Runs a checked task: on a pool thread when the pool is on, else here; never rejects. */
  async run(task: WorkTask): Promise<WorkOutcome> {
    if (this.closed) return this.failed(STATUS_INTERNAL_ERROR, 'the LSA work pool is closed');
    if (this.threads === 0) {
      try {
        const output = runWorkTask(task);
        this.counts.inline++;
        return { ok: true, output, threadId };
      } catch (error) {
        return this.failed(STATUS_INTERNAL_ERROR, `${task.routine} failed: ${describeError(error)}`);
      } finally {
        wipeWorkTask(task);
      }
    }
    const pool = this.started();
    if (pool.queueSize >= MAX_QUEUED_TASKS) return this.failed(STATUS_INSUFFICIENT_RESOURCES, `${MAX_QUEUED_TASKS} tasks already wait for the LSA work pool`);
    try {
      const reply = await pool.run(task);
      this.counts.onPool++;
      return { ok: true, output: reply.output, threadId: reply.threadId };
    } catch (error) {
      return this.failed(STATUS_INTERNAL_ERROR, `${task.routine} failed on the LSA work pool: ${describeError(error)}`);
    } finally {
      // A queued task is cloned to its thread only when one is free: its password stays until then.
      wipeWorkTask(task);
    }
  }

  stats(): WorkPoolStats {
    return { threads: this.threads, live: this.pool?.threads.length ?? 0, ...this.counts };
  }

  /** Ends the pool's threads; tasks still running fail, later ones are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }

  private started(): Piscina<WorkTask, WorkThreadReply> {
    if (this.pool !== null) return this.pool;
    const pool = new Piscina<WorkTask, WorkThreadReply>({
      // A CommonJS loader that imports the thread module (lsa/work-thread-loader.cts says why).
      filename: WORK_THREAD_LOADER.href,
      workerData: { threadModule: this.threadModule.href },
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: MAX_QUEUED_TASKS,
      resourceLimits: THREAD_LIMITS,
      recordTiming: false,
    });
    pool.on('error', () => this.counts.poolErrors++);
    this.pool = pool;
    return pool;
  }

  private failed(status: Status, reason: string): WorkOutcome {
    this.counts.failed++;
    return { ok: false, status, reason };
  }
}
