// `sspi-emu packages`: what the LSA loaded (each package's SecPkgInfo) and what it could not. This
// command is where failures are looked at, so it boots with them (onPackageFailure: 'skip'),
// lists them (on stderr, one line each; in --json under `failed`), and exits 1 when there is one.

import { flagNames, SECPKG_FLAG, hex32 } from '../../headers/index.js';
import { describeFailures, Machine } from '../../machine/index.js';
import { ISOLATION_OPTIONS, lsaIsolation, packageList, parseCommand } from '../options.js';

export async function packages(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, { load: { type: 'string', multiple: true }, json: { type: 'boolean' }, ...ISOLATION_OPTIONS });
  const machine = await Machine.boot({
    packages: packageList(values.load, undefined).packages,
    trace: false,
    onPackageFailure: 'skip',
    ...lsaIsolation(values['lsa-isolation']),
  });
  try {
    const report = await machine.lsa.packages();
    if (values.json) {
      process.stdout.write(
        JSON.stringify(
          { ...report, loaded: report.loaded.map((p) => ({ ...p, capabilities: flagNames(p.fCapabilities, SECPKG_FLAG, 'SECPKG_FLAG_') })) },
          null,
          2,
        ) + '\n',
      );
      return report.failed.length === 0 ? 0 : 1;
    }
    for (const p of report.loaded) {
      process.stdout.write(`${p.name} (package id ${p.id})\n`);
      process.stdout.write(`  Comment        ${p.comment}\n`);
      process.stdout.write(`  fCapabilities  ${hex32(p.fCapabilities)} ${flagNames(p.fCapabilities, SECPKG_FLAG, 'SECPKG_FLAG_').join(' | ')}\n`);
      process.stdout.write(
        `  wVersion       ${p.wVersion}\n  wRPCID         ${p.wRPCID === 0xffff ? 'SECPKG_ID_NONE (0xFFFF)' : p.wRPCID}\n  cbMaxToken     ${p.cbMaxToken}\n`,
      );
      process.stdout.write(`  module         ${p.module}\n`);
    }
    if (report.failed.length === 0) return 0;
    for (const line of describeFailures(report.failed).split('\n')) process.stderr.write(`sspi-emu packages: ${line}\n`);
    return 1;
  } finally {
    await machine.shutdown();
  }
}
