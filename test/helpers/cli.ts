// The command line as a user runs it: a program (sspi-emu or another) as its own OS process, run
// to its exit (killed past a deadline), with what it printed.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export interface Exited {
  /** The exit status; null when a signal ended it (the deadline's, for one). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Killed after this long (30 s by default). */
  timeoutMs?: number;
  /** Written to its stdin, which is then closed. */
  input?: string;
  /** Its working directory (this one's by default). */
  cwd?: string;
}

/** Runs a program to its end. */
export function runProgram(file: string, args: string[], options: RunOptions = {}): Promise<Exited> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 64 * 1024 * 1024,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        const signal = error === null ? null : ((error as { signal?: NodeJS.Signals }).signal ?? null);
        resolve({ code, signal, stdout, stderr });
      },
    );
    // A program that exits without reading its input (curl given no --data, say) must not fail the
    // test with EPIPE: what it printed and its exit status are what the test reads.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

/**
 * A usage error as the CLI reports it: exit status 2, one line naming the command and what is
 * wrong (matching `message` when given), one line pointing at the command's --help, and not the
 * usage itself.
 */
export function assertUsageError(exited: Exited, command: string | undefined, message?: RegExp): void {
  const who = command === undefined ? 'sspi-emu' : `sspi-emu ${command}`;
  assert.equal(exited.code, 2, exited.stderr);
  const lines = exited.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, exited.stderr);
  assert.ok(lines[0]!.startsWith(`${who}: `), lines[0]);
  if (message !== undefined) assert.match(lines[0]!, message);
  assert.equal(lines[1], `see '${who} --help'`);
  assert.equal(exited.stdout, '');
}

/** `sspi-emu ARGS` to its end. */
export function sspiEmu(args: string[], options: Omit<RunOptions, 'env'> = {}): Promise<Exited> {
  return runProgram(process.execPath, [CLI, ...args], options);
}
