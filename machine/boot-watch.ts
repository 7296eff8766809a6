// Watching the LSA boot from the machine: its Ready, or why it never came, and what became of
// the packages it was asked to load.
//
// The LSA announces each step of loading its packages before it starts it (lsa/package-loader.ts).
// Each step has a deadline inside the LSA (a module's top level: packageLoadTimeoutMs; a package
// call: packageCallTimeoutMs), so a live LSA always moves on; one that stays on a step past the
// boot deadline is stuck in code that never yields, a module whose top level loops synchronously.
// Nothing can interrupt that code but the end of its thread: the machine terminates the LSA (its
// worker, where V8 stops the loop, or its OS process) and the boot fails naming the module and the step.

import { type BootMessage, SspiEmuError, decodeSerializedError, rebuildError } from '../ipc/index.js';
import type { LsaConfig, PackageLoadFailure } from '../lsa/index.js';
import type { LsaProcess, ProcessHost } from './processes.js';

/** How long a package module's top level may take to settle, by default. */
export const PACKAGE_LOAD_TIMEOUT_MS = 10_000;
/** How long one step of the LSA's boot may take, by default (see bootStepTimeoutMs). */
const BOOT_STEP_TIMEOUT_MS = 15_000;
/** How much longer than the LSA's own deadlines the machine waits on a step, so that they report first. */
const BOOT_STEP_MARGIN_MS = 5_000;

/**
 * The machine's deadline for one step of the LSA's boot: as asked, or the default, lengthened
 * past the deadlines the LSA keeps itself (a module's load, a package call) so that a module that
 * merely waits is reported by the LSA, which goes on, rather than by the machine, which cannot.
 */
export function bootStepTimeoutMs(asked: number | undefined, config: Pick<LsaConfig, 'packageLoadTimeoutMs' | 'packageCallTimeoutMs'>): number {
  if (asked !== undefined) return asked;
  return Math.max(BOOT_STEP_TIMEOUT_MS, config.packageLoadTimeoutMs + BOOT_STEP_MARGIN_MS, config.packageCallTimeoutMs + BOOT_STEP_MARGIN_MS);
}

/**
 * After the LSA's Ready: with 'fail', any package that failed to load ends the LSA and rejects
 * with a PackageLoadError; with 'skip' the machine boots without it.
 */
export async function acceptPackageFailures(lsa: LsaProcess, policy: 'fail' | 'skip'): Promise<void> {
  if (policy === 'skip') return;
  const { failed } = await lsa.packages();
  if (failed.length === 0) return;
  await lsa.host.terminate();
  throw new PackageLoadError(failed);
}

/**
 * Machine.boot's rejection when a package module failed to load (and onPackageFailure is not
 * 'skip'): code PACKAGE_LOAD_FAILED, a message with one line per failure (the entry, the stage,
 * the reason), and the failures as data.
 */
export class PackageLoadError extends SspiEmuError {
  readonly failures: readonly PackageLoadFailure[];

  constructor(failures: readonly PackageLoadFailure[]) {
    super('PACKAGE_LOAD_FAILED', describeFailures(failures));
    this.failures = failures;
  }
}

/** One line per failure: `package module SPEC failed to load at STAGE: REASON`. */
export function describeFailures(failures: readonly PackageLoadFailure[]): string {
  return failures.map((f) => `package module ${f.spec} failed to load at ${f.stage}: ${f.reason}`).join('\n');
}

/**
 * Waits for a process's Ready (the LSA's, or an app process's: `name` says whose). Its boot-failed
 * message, a crash, an exit, or `stepTimeoutMs` with no step finished is an error; the error of a
 * stuck step (the LSA announces each) names the module and the step. An inspected process tells
 * its inspector's URL first (`onInspector`); waiting for a debugger is a step of its own. Anything
 * else a process posts before Ready is ignored.
 */
export function watchBoot(worker: ProcessHost, name: string, stepTimeoutMs: number, onInspector?: (url: string, wait: boolean) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let step: { spec: string; stage: string; since: number } | undefined;
    /** The inspector's URL while the process waits for a debugger before it starts its work. */
    let waitingForDebugger: string | undefined;
    let timer = setTimeout(() => finish(stuck()), stepTimeoutMs);
    const stuck = (): Error =>
      new Error(
        waitingForDebugger !== undefined && step === undefined
          ? `no debugger attached to ${name}'s inspector (${waitingForDebugger}) within ${stepTimeoutMs} ms`
          : step === undefined
            ? `${name} did not report Ready within ${stepTimeoutMs} ms`
            : `${name} stopped at ${step.stage} of package module ${step.spec} for ${Math.round(performance.now() - step.since)} ms ` +
              `(its deadline: ${stepTimeoutMs} ms): code that never yields (a synchronous loop in the module's top level or ` +
              `in its ${step.stage === 'import' ? 'imports' : step.stage}) holds ${name}'s only thread and cannot be interrupted there; ` +
              `the machine terminated ${name}`,
      );
    const onMessage = (message: unknown): void => {
      const m = message as Partial<BootMessage> | null;
      if (m?.kind === 'ready') finish();
      else if (m?.kind === 'boot-failed') finish(rebuildError(decodeSerializedError((m as { error?: unknown }).error)));
      else if (m?.kind === 'inspector' && typeof m.url === 'string') {
        // Waiting for a debugger is a step of its own: the deadline starts again.
        if (m.wait === true) waitingForDebugger = m.url;
        clearTimeout(timer);
        timer = setTimeout(() => finish(stuck()), stepTimeoutMs);
        onInspector?.(m.url, m.wait === true);
      } else if (m?.kind === 'loading' && typeof m.spec === 'string' && typeof m.stage === 'string') {
        // A step begins: the one before it finished, so the deadline starts again.
        step = { spec: m.spec, stage: m.stage, since: performance.now() };
        clearTimeout(timer);
        timer = setTimeout(() => finish(stuck()), stepTimeoutMs);
      }
    };
    const onError = (error: Error): void => finish(error);
    const onExit = (code: number): void =>
      finish(
        new Error(
          `${name} exited with code ${code} before it was ready` +
            (step === undefined ? '' : `, at ${step.stage} of package module ${step.spec}`) +
            // Node's exit code for a thread whose top-level await was left with nothing to wait for.
            (code === 13 ? ' (a top-level await that never settled)' : ''),
        ),
      );
    function finish(error?: Error): void {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (error === undefined) resolve();
      else reject(error);
    }
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
