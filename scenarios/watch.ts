// `run --watch`: the demo run of `sspi-emu run`, then again after each reload of the watched
// package modules, on one machine that stays up: the LSA loads each new version without a reboot
// (scenarios/package-watch.ts, lsa/package-reload.ts). Each run's timeline starts after the
// previous run's processes were reaped, so it shows the reload (PackageLoaded, PackageUnloaded)
// and then the run.

import { Machine } from '../machine/index.js';
import { runDemoOn, type DemoOptions, type DemoReport } from './demo.js';
import { PackageWatcher, type PackageWatchHandlers, type PackageWatchOptions } from './package-watch.js';

/** What a watch reports: each run, each reload (describeReload says it in a line), each failure (a reload's, or a run that could not be made). */
export interface WatchHooks extends Pick<PackageWatchHandlers, 'reloaded' | 'failed'> {
  /** Each run's report: the first, then one after each reload. */
  ran(report: DemoReport): Promise<void> | void;
}

/**
 * Boots the machine, runs the demo, and runs it again after each reload of `modules` (entries of
 * `options.packages`) until `stop` aborts. Answers the status of the last run (SEC_E_OK is 0).
 */
export async function runWatching(
  options: DemoOptions,
  modules: readonly string[],
  hooks: WatchHooks,
  stop: AbortSignal,
  watchOptions: PackageWatchOptions = {},
): Promise<number> {
  const machine = await Machine.boot(options);
  let watcher: PackageWatcher | undefined;
  try {
    let last = 0;
    // Runs one at a time: a reload that comes during a run waits for it, and a burst makes one run.
    let queued: Promise<void> = Promise.resolve();
    let pending = false;
    const rerun = (): void => {
      if (pending) return;
      pending = true;
      queued = queued.then(async () => {
        pending = false;
        if (stop.aborted) return;
        try {
          last = await runOnce(machine, options, hooks);
        } catch (error) {
          // A run that could not be made (the LSA died, say) is reported; the watch goes on.
          hooks.failed('run', error);
        }
      });
    };
    watcher = new PackageWatcher(
      modules,
      // A reload waits for the run in progress to end (its processes reaped and its trace cleared),
      // so that the reload's events start the next run's timeline instead of being cleared with
      // the last one's (seen under load: the second run had no PackageLoaded).
      (spec) => queued.then(() => machine.lsa.reloadPackage(spec)),
      {
        reloaded: (spec, report) => {
          hooks.reloaded(spec, report);
          rerun();
        },
        failed: (spec, error) => hooks.failed(spec, error),
      },
      watchOptions,
    );
    // Watching from before the first run: a change made while it runs is a reload, then a run.
    const first = runOnce(machine, options, hooks);
    queued = first.then(
      () => undefined,
      () => undefined,
    );
    last = await first;
    await new Promise<void>((resolve) => {
      if (stop.aborted) resolve();
      else stop.addEventListener('abort', () => resolve(), { once: true });
    });
    watcher.close();
    await queued;
    return last;
  } finally {
    watcher?.close();
    await machine.shutdown();
  }
}

/** One demo run; its processes are killed and the trace cleared afterwards, so the next run's timeline is its own. */
async function runOnce(machine: Machine, options: DemoOptions, hooks: WatchHooks): Promise<number> {
  const { report, processes } = await runDemoOn(machine, options);
  await hooks.ran(report);
  for (const proc of processes) await machine.kill(proc);
  await machine.events();
  machine.trace.clear();
  return report.status;
}
