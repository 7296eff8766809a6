#!/usr/bin/env node
// sspi-emu's command line: dispatches to one module per command.

import { describeError } from '../ipc/index.js';
import { bench } from './commands/bench.js';
import { chaos } from './commands/chaos.js';
import { check } from './commands/check.js';
import { connect } from './commands/connect.js';
import { decode } from './commands/decode.js';
import { fetch } from './commands/fetch.js';
import { fuzz } from './commands/fuzz.js';
import { newPackageCommand } from './commands/new-package.js';
import { packages } from './commands/packages.js';
import { run } from './commands/run.js';
import { serve } from './commands/serve.js';
import { soak } from './commands/soak.js';
import { USAGE, UsageError } from './usage.js';

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
  ['check', check],
  ['new-package', newPackageCommand],
]);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.get(name);
  if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`sspi-emu: ${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`sspi-emu: ${describeError(error)}\n`);
      process.exitCode = 1;
    }
  },
);
