// `sspi-emu fuzz`: hostile tokens and messages through the real LSA and app processes, from a seed,
// with the invariants checked per package (fuzz/runner.ts). The built-in packages get their own
// structure-aware generators; a package of a --load module (or a built-in one with --generic, or
// by naming a generic generator) gets the generic ones. Progress on stderr when it is a terminal;
// the report on stdout; --json FILE writes every figure. Exit 0 when every invariant held, 1
// otherwise (the report names the first offending input, its seed and how to replay it), or when a
// --load module does not load.

import { writeFile } from 'node:fs/promises';
import {
  generatorsFor,
  runFuzz,
  SSPI_PACKAGE_NAME,
  type FuzzOptions,
  type FuzzPackage,
  type FuzzSubject,
  type FuzzTarget,
  type GeneratorSet,
  formatFuzzReport,
  fuzzReportJson,
} from '../../fuzz/index.js';
import { DEFAULT_PACKAGES, resolvePackageSpec } from '../../lsa/index.js';
import { Machine, type LsaIsolation } from '../../machine/index.js';
import { flags, ISOLATION_OPTIONS, lsaIsolation, parseCommand, repeated, valued, wholeNumber } from '../options.js';
import { UsageError } from '../usage.js';

const PACKAGES: ReadonlyMap<string, FuzzPackage> = new Map([
  ['ntlm', 'ntlm'],
  ['example', 'example'],
  ['negotiate', 'negotiate'],
  ['kerberos', 'kerberos'],
]);
const TARGETS: ReadonlyMap<string, FuzzTarget[]> = new Map([
  ['tokens', ['tokens']],
  ['messages', ['messages']],
  ['all', ['tokens', 'messages']],
]);

export async function fuzz(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    ...valued('iterations', 'seed', 'target', 'start', 'lanes', 'json'),
    ...repeated('package', 'generator', 'load'),
    ...flags('generic'),
    ...ISOLATION_OPTIONS,
  });
  const targets = TARGETS.get(values.target ?? 'all');
  if (targets === undefined) throw new UsageError(`--target takes tokens, messages or all, not ${JSON.stringify(values.target)}`);
  const iterations = wholeNumber(values.iterations, '--iterations', 10_000, 1);
  const seed = wholeNumber(values.seed, '--seed', 1, 0, 0xffffffff);
  const lanes = wholeNumber(values.lanes, '--lanes', 16, 1, 256);
  const start = wholeNumber(values.start, '--start', 0, 0);
  const isolation = lsaIsolation(values['lsa-isolation']);
  const load = values.load ?? [];
  const named = values.generator ?? [];
  let subjects = await fuzzSubjects(values.package, load, values.generic === true, named, isolation.lsaIsolation);
  for (const name of named) {
    if (!subjects.some((s) => setsOf(s, targets).some((g) => g === name))) {
      const known = [...new Set(subjects.flatMap((s) => setsOf(s, targets)))];
      throw new UsageError(`no generator ${JSON.stringify(name)} for these packages and target (known: ${known.join(', ')})`);
    }
  }
  // Only the subjects (a package with its own generators, or with the generic ones) that have one of the named generators.
  if (named.length > 0) subjects = subjects.filter((s) => setsOf(s, targets, named).length > 0);
  const options: FuzzOptions = { packages: subjects, load, iterations, seed, targets, lanes, start, ...isolation };
  if (named.length > 0) options.generators = named;
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

/** The names of a subject's generators for the targets (narrowed to `only` when given). */
function setsOf(subject: FuzzSubject, targets: readonly FuzzTarget[], only?: readonly string[]): string[] {
  return subject.sets.flatMap((set) => generatorsFor(set, targets, only).map((g) => g.name));
}

/**
 * What --package, --load and --generic name. A built-in package (ntlm, example) gets its own
 * generators, or the generic ones with --generic, or both when --generator names generators of
 * either; a package of a --load module (by its SecPkgInfo Name; every package of those modules
 * without --package) gets the generic ones. The modules are loaded once first, so that one that
 * does not load, or a name none of them has, is said now (a PackageLoadError, a usage error).
 */
async function fuzzSubjects(
  packages: string[] | undefined,
  load: readonly string[],
  generic: boolean,
  named: readonly string[],
  isolation: LsaIsolation | undefined,
): Promise<FuzzSubject[]> {
  // A built-in package's own generators and the generic ones run on machines of their own (NTLM's
  // own run with a fixed challenge, which the generic ones must not meet): one subject for each set.
  // With --generator, both sets, so that a name in neither is told what there is; the caller keeps
  // the subjects whose set has one of the names.
  const builtin = (key: FuzzPackage): FuzzSubject[] => {
    const sets: GeneratorSet[] = generic ? ['generic'] : named.length === 0 ? [key] : [key, 'generic'];
    return sets.map((set) => ({ key, packageName: SSPI_PACKAGE_NAME[key], sets: [set] }));
  };
  if (load.length === 0) {
    return (packages ?? ['ntlm', 'example', 'negotiate', 'kerberos']).flatMap((name) => {
      const key = PACKAGES.get(name.toLowerCase());
      if (key === undefined)
        throw new UsageError(`--package takes ntlm, example, negotiate or kerberos, or with --load a package of the module, not ${JSON.stringify(name)}`);
      return builtin(key);
    });
  }
  const loaded = await packagesOf(load, isolation);
  return (packages ?? loaded).flatMap((name): FuzzSubject[] => {
    const key = PACKAGES.get(name.toLowerCase());
    if (key !== undefined) return builtin(key);
    const found = loaded.find((l) => l.toLowerCase() === name.toLowerCase());
    if (found === undefined) throw new UsageError(`--package ${name}: no such package in ${load.join(', ')} (loaded: ${loaded.join(', ') || 'none'})`);
    return [{ key: found, packageName: found, sets: ['generic'] }];
  });
}

/** The names of the packages the modules give the LSA (a module that fails to load rejects with a PackageLoadError). */
async function packagesOf(load: readonly string[], isolation: LsaIsolation | undefined): Promise<string[]> {
  const machine = await Machine.boot({
    packages: [...DEFAULT_PACKAGES, ...load],
    trace: false,
    ...(isolation === undefined ? {} : { lsaIsolation: isolation }),
  });
  try {
    const modules = new Set(load.map((spec) => resolvePackageSpec(spec).href));
    return (await machine.lsa.packages()).loaded.filter((p) => modules.has(p.module)).map((p) => p.name);
  } finally {
    await machine.shutdown();
  }
}
