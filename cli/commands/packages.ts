// `sspi-emu packages`: what the LSA loaded (each package's SecPkgInfo) and what it could not.

import { flagNames, SECPKG_FLAG, hex32 } from '../../headers/index.js';
import { Machine } from '../../machine/index.js';
import { ISOLATION_OPTIONS, lsaIsolation, packageList, parseCommand } from '../options.js';

export async function packages(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, { load: { type: 'string', multiple: true }, json: { type: 'boolean' }, ...ISOLATION_OPTIONS });
  const machine = await Machine.boot({ packages: packageList(values.load, undefined).packages, trace: false, ...lsaIsolation(values['lsa-isolation']) });
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
      return 0;
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
    for (const f of report.failed) process.stdout.write(`failed to load ${f.spec} at ${f.stage}: ${f.reason}\n`);
    return 0;
  } finally {
    await machine.shutdown();
  }
}
