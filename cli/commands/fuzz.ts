// `sspi-emu fuzz`: hostile tokens and messages through the real LSA and app processes, from a seed,
// with the invariants checked per package (fuzz/runner.ts). Progress on stderr when it is a
// terminal; the report on stdout; --json FILE writes every figure. Exit 0 when every invariant
// held, 1 otherwise (the report names the first offending input, its seed and how to replay it).

import { writeFile } from 'node:fs/promises';
import { generatorsFor, runFuzz, type FuzzOptions, type FuzzPackage, type FuzzTarget, formatFuzzReport, fuzzReportJson } from '../../fuzz/index.js';
import { ISOLATION_OPTIONS, lsaIsolation, parseCommand, repeated, valued, wholeNumber } from '../options.js';
import { UsageError } from '../usage.js';

const PACKAGES: ReadonlyMap<string, FuzzPackage> = new Map([
  ['ntlm', 'ntlm'],
  ['example', 'example'],
]);
const TARGETS: ReadonlyMap<string, FuzzTarget[]> = new Map([
  ['tokens', ['tokens']],
  ['messages', ['messages']],
  ['all', ['tokens', 'messages']],
]);

export async function fuzz(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, { ...valued('iterations', 'seed', 'target', 'start', 'lanes', 'json'), ...repeated('package', 'generator'), ...ISOLATION_OPTIONS });
  const packages = (values.package ?? ['ntlm', 'example']).map((name) => {
    const key = PACKAGES.get(name.toLowerCase());
    if (key === undefined) throw new UsageError(`--package takes ntlm or example, not ${JSON.stringify(name)}`);
    return key;
  });
  const targets = TARGETS.get(values.target ?? 'all');
  if (targets === undefined) throw new UsageError(`--target takes tokens, messages or all, not ${JSON.stringify(values.target)}`);
  const iterations = wholeNumber(values.iterations, '--iterations', 10_000, 1);
  const seed = wholeNumber(values.seed, '--seed', 1, 0, 0xffffffff);
  const lanes = wholeNumber(values.lanes, '--lanes', 16, 1, 256);
  const generators = values.generator ?? [];
  for (const name of generators) {
    if (!packages.some((p) => generatorsFor(p, targets).some((g) => g.name === name))) {
      const known = packages.flatMap((p) => generatorsFor(p, targets).map((g) => g.name));
      throw new UsageError(`no generator ${JSON.stringify(name)} for these packages and target (known: ${known.join(', ')})`);
    }
  }
  const options: FuzzOptions = { packages, iterations, seed, targets, lanes, start: wholeNumber(values.start, '--start', 0, 0), ...lsaIsolation(values['lsa-isolation']) };
  if (generators.length > 0) {
    options.generators = generators;
    // Only the packages that have one of the named generators.
    options.packages = packages.filter((p) => generatorsFor(p, targets, generators).length > 0);
  }
  if (process.stderr.isTTY) {
    options.onProgress = ({ packageKey, done, total }) => {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(`\r${packageKey.padEnd(8)} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`);
      if (done === total) process.stderr.write('\n');
    };
  }
  const report = await runFuzz(options);
  process.stdout.write(formatFuzzReport(report) + '\n');
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(fuzzReportJson(report), null, 2) + '\n');
  return report.ok ? 0 : 1;
}
