// --watch, shared by `run` and `serve`: which modules are watched (each --load, and --package when
// it names a module), the lines a reload prints (what loaded on stdout, what failed to on stderr:
// the old version runs on), and stopping on SIGINT/SIGTERM.

import { describeError } from '../ipc/index.js';
import { describeReload, type PackageWatchHandlers } from '../scenarios/index.js';
import { UsageError } from './usage.js';

/** The package modules --watch watches: each --load, and --package when it is a module path. */
export function watchedModules(load: readonly string[] | undefined, pkg: string | undefined): string[] {
  const modules = [...(load ?? []), ...(pkg !== undefined && /[\\/]|\.m?js$/.test(pkg) ? [pkg] : [])];
  if (modules.length === 0) throw new UsageError('--watch needs a package module to watch: --load MODULE');
  return modules;
}

/** What a reload prints: one line on stdout when the new version runs, one on stderr when it did not load. */
export const RELOAD_LINES: Pick<PackageWatchHandlers, 'reloaded' | 'failed'> = {
  reloaded: (_spec, report) => process.stdout.write(`${describeReload(report)}\n`),
  failed: (spec, error) => process.stderr.write(`sspi-emu: ${reloadFailure(spec, error)}\n`),
};

/** A failed reload in one line: the module, the stage, the reason, and that the old version runs on. */
export function reloadFailure(spec: string, error: unknown): string {
  const message = error instanceof Error ? error.message : describeError(error);
  return message.includes(spec) ? message : `${spec}: ${message}`;
}

/** An AbortSignal that SIGINT or SIGTERM aborts; `release` stops listening. */
export function stopSignal(): { signal: AbortSignal; release: () => void } {
  const stop = new AbortController();
  const abort = (): void => stop.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return {
    signal: stop.signal,
    release: () => {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    },
  };
}
