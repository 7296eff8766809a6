#!/usr/bin/env node
// sspi-emu's command line: dispatches to one module per command. `--help` (or -h) on any command
// prints that command's usage; `--version` the package's version. A usage error is one line and
// a hint (exit 2); a package module that failed to load is one line per failure (exit 1). A
// command started by another program over an IPC channel ends when that program goes away; one
// whose output's reader went away (`sspi-emu run | head -1`) ends at once, quietly.

import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { describeError } from '../ipc/index.js';
import { PackageLoadError } from '../machine/index.js';
import { bench } from './commands/bench.js';
import { chaos } from './commands/chaos.js';
import { check } from './commands/check.js';
import { connect } from './commands/connect.js';
import { dc } from './commands/dc.js';
import { decode } from './commands/decode.js';
import { fetch } from './commands/fetch.js';
import { fuzz } from './commands/fuzz.js';
import { newPackageCommand } from './commands/new-package.js';
import { packages } from './commands/packages.js';
import { run } from './commands/run.js';
import { serve } from './commands/serve.js';
import { soak } from './commands/soak.js';
import { commandUsage, USAGE, USAGE_OVERVIEW, UsageError } from './usage.js';

const COMMANDS: ReadonlyMap<string, (argv: string[]) => Promise<number>> = new Map([
  ['run', run],
  ['packages', packages],
  ['decode', decode],
  ['bench', bench],
  ['fuzz', fuzz],
  ['chaos', chaos],
  ['soak', soak],
  ['serve', serve],
  ['connect', connect],
  ['fetch', fetch],
  ['dc', dc],
  ['check', check],
  ['new-package', newPackageCommand],
]);

const HELP = new Set(['--help', '-h']);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(USAGE_OVERVIEW + '\n');
    return 2;
  }
  if (HELP.has(name) || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    process.stdout.write((topic !== undefined && COMMANDS.has(topic) ? commandUsage(topic) : USAGE) + '\n');
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`sspi-emu ${version()}\n`);
    return 0;
  }
  const command = COMMANDS.get(name);
  if (command === undefined) return usageError(undefined, new UsageError(`unknown command ${JSON.stringify(name)}`));
  // Help is asked for before anything else is read: `run --messages -3 --help` prints the usage.
  if (rest.some((arg) => HELP.has(arg))) {
    process.stdout.write(commandUsage(name) + '\n');
    return 0;
  }
  try {
    return await command(rest);
  } catch (error) {
    if (error instanceof UsageError) return usageError(name, error);
    throw error;
  }
}

/** One line saying what is wrong and one saying where the usage is; exit status 2. */
function usageError(command: string | undefined, error: UsageError): number {
  const who = command === undefined ? 'sspi-emu' : `sspi-emu ${command}`;
  process.stderr.write(`${who}: ${error.message}\nsee '${who} --help'\n`);
  return 2;
}

/** The version in the package.json beside dist/ (this file is dist/cli/main.js). */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

/**
 * A command started with an IPC channel (child_process.fork, or spawn with an 'ipc' stdio entry,
 * as `run --domain` starts its machines) belongs to the program that started it: when the channel
 * closes, that program has gone (ended, crashed, killed with SIGKILL), and the command ends as on
 * SIGTERM (dc and serve stop cleanly; the others end at once), so that no machine is left running
 * without it. The channel alone does not keep the command alive.
 */
function followParent(): void {
  if (process.channel === undefined) return;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

/** The exit status of a command whose reader went away: 128 + SIGPIPE's number, as shells report a tool SIGPIPE ended. */
const READER_GONE_EXIT = 128 + constants.signals.SIGPIPE;

/**
 * A write to a pipe whose reader has gone (`sspi-emu packages | head -1`) fails with EPIPE, which
 * Node reports as an 'error' event on process.stdout (or stderr) and, with no listener, as a stack
 * trace. Node ignores SIGPIPE, which ends other Unix tools there quietly; the command does the
 * same: no one reads what it would print, so it ends now, its machine's worker threads with this
 * OS process (an LSA or a machine in an OS process of its own ends when its IPC channel closes).
 * Any other error on the streams is thrown, as before.
 */
function endWhenReaderGoes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(READER_GONE_EXIT);
      throw error;
    });
  }
}

/**
 * Node exits when nothing is left to wait for, even while the command's own promise is pending: a
 * promise that can never settle (a package entry point that never answers, called where no
 * deadline watches it, as the benchmarks' in-process baselines call the package directly) would
 * end the command with status 0 and nothing printed. It ends it with a line saying so, and 1.
 */
let commandSettled = false;
process.on('beforeExit', () => {
  if (commandSettled) return;
  commandSettled = true;
  process.stderr.write(
    'sspi-emu: the command stopped before it finished: nothing it waits for can happen any more (a promise that never settles, ' +
      'such as a package entry point that never answers where no deadline watches it: bench calls the package directly for its in-process baselines)\n',
  );
  process.exitCode = 1;
});

followParent();
endWhenReaderGoes();
main(process.argv.slice(2)).then(
  (code) => {
    commandSettled = true;
    process.exitCode = code;
  },
  (error: unknown) => {
    commandSettled = true;
    if (error instanceof PackageLoadError) {
      for (const line of error.message.split('\n')) process.stderr.write(`sspi-emu: ${line}\n`);
    } else {
      process.stderr.write(`sspi-emu: ${describeError(error)}\n`);
    }
    process.exitCode = 1;
  },
);
