// CPU time of each thread of this OS process, by name, read from Linux's /proc/self/task. On a
// shared machine with more busy threads than cores, event-loop utilization counts the time a thread
// waits for a core as busy; CPU time does not, so it says what each thread's work costs. A thread is
// named by starting it: the one thread that appeared while `start` ran. Elsewhere than Linux, or
// when a start added more than one thread, the figures are left out rather than guessed.

import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in ticks of 10 ms on every mainstream build. */
const TICK_MS = 10;
const TASKS = '/proc/self/task';

function tasks(): Set<string> {
  try {
    return new Set(readdirSync(TASKS));
  } catch {
    return new Set();
  }
}

/** utime + stime of one thread, in ms (0 once it has gone). */
function cpuMs(tid: string): number {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces: utime is the 12th, stime the 13th.
    const fields = readFileSync(`${TASKS}/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

export class ThreadCpu {
  /** tid -> name. The main thread's tid is the process id. */
  private readonly names = new Map<string, string>([[String(process.pid), 'main']]);

  /** Runs `start` and names the thread it started. */
  async name<T>(name: string, start: () => Promise<T>): Promise<T> {
    const before = tasks();
    const result = await start();
    const added = [...tasks()].filter((tid) => !before.has(tid));
    if (added.length === 1) this.names.set(added[0]!, name);
    return result;
  }

  /**
   * Starts a measurement; its stop gives CPU ms per named thread, and as "platform" every other
   * thread's (V8's helpers that collect garbage and compile for every isolate, libuv's pool).
   * Empty when /proc cannot be read.
   */
  meter(): () => Record<string, number> {
    const before = new Map([...tasks()].map((tid) => [tid, cpuMs(tid)]));
    return () => {
      const out: Record<string, number> = {};
      for (const tid of tasks()) {
        const name = this.names.get(tid) ?? 'platform';
        out[name] = (out[name] ?? 0) + cpuMs(tid) - (before.get(tid) ?? 0);
      }
      return out;
    };
  }
}
