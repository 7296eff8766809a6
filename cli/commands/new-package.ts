// `sspi-emu new-package NAME [DIR]`: a package project made from the example package (scaffold/).

import { newPackage, ScaffoldError, type NewPackageOptions } from '../../scaffold/index.js';
import { parseCommand, valued } from '../options.js';
import { UsageError } from '../usage.js';

export async function newPackageCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, valued('sspi-emu'), 2);
  const [name, dir] = positionals;
  if (name === undefined) throw new UsageError('new-package needs a NAME');
  const options: NewPackageOptions = { name };
  if (dir !== undefined) options.dir = dir;
  if (values['sspi-emu'] !== undefined) options.sspiEmu = values['sspi-emu'];
  try {
    const made = newPackage(options);
    process.stdout.write(
      [
        `wrote ${made.dir} (package ${name}, sspi-emu ${made.sspiEmuSpec}):`,
        ...made.files.map((f) => `  ${f}`),
        'next:',
        `  cd ${made.dir}`,
        '  npm install',
        '  npm test            # builds, then runs sspi-emu check on the package',
        '',
      ].join('\n'),
    );
    return 0;
  } catch (error) {
    if (!(error instanceof ScaffoldError)) throw error;
    process.stderr.write(`sspi-emu new-package: ${error.message}\n`);
    return 1;
  }
}
