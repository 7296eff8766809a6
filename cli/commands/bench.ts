// `sspi-emu bench`: handshake and message throughput across the isolation boundaries, with the
// ideal and in-process baselines and a peer in the same run; a table on stdout, a progress bar on
// stderr when it is a terminal (a line per step otherwise), --json with every figure and --svg a
// chart. A part of the run that throws is said and left out; the others are still reported.

import { writeFile } from 'node:fs/promises';
import { DEFAULTS, QUICK, runBench, targetsOf, type BenchOptions, type BenchReport, formatReport, formatSvg } from '../../bench/index.js';
import { BUILTIN_PACKAGES, resolvePackageSpec } from '../../lsa/index.js';
import { Machine } from '../../machine/index.js';
import { flags, ISOLATION_OPTIONS, lsaIsolation, parseCommand, repeated, seconds, valued } from '../options.js';
import { UsageError } from '../usage.js';

function list(value: string | undefined, name: string): number[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => Number(s.trim()));
  if (items.length === 0 || items.some((n) => !Number.isInteger(n) || n < 1))
    throw new UsageError(`${name} takes whole numbers from 1, separated by commas, not ${JSON.stringify(value)}`);
  return items;
}

/**
 * The packages to measure, as "Security Packages" entries. --package takes built-in names and
 * module paths as before; with --load, a --package that is neither names a package of the loaded
 * modules (its SecPkgInfo Name), and without --package every loaded module is measured. Each
 * module is loaded once first, so that one that does not load says so now, not minutes in.
 */
async function benchSpecs(packages: string[] | undefined, load: string[] | undefined): Promise<string[]> {
  if (load === undefined || load.length === 0) return packages ?? ['null', 'example', 'ntlm', 'negotiate'];
  const isSpec = (p: string): boolean => BUILTIN_PACKAGES.has(p.toLowerCase()) || /[\\/]|\.m?js$/.test(p);
  // Every failure is listed below, the module's own words: the boot itself tolerates them.
  const machine = await Machine.boot({ packages: load, trace: false, onPackageFailure: 'skip' });
  let listing;
  try {
    listing = await machine.lsa.packages();
  } finally {
    await machine.shutdown();
  }
  const failed = listing.failed.filter((f) => load.some((spec) => f.spec === spec || f.spec.startsWith(`${spec}[`)));
  if (failed.length > 0) throw new BenchLoadError(failed.map((f) => `${f.spec} failed to load at ${f.stage}: ${f.reason}`).join('; '));
  const firstOf = new Map<string, string>(); // module spec -> its first package's name (the one a machine of that module measures)
  for (const spec of load) {
    const href = resolvePackageSpec(spec).href;
    const first = listing.loaded.find((p) => p.module === href);
    if (first === undefined) throw new BenchLoadError(`${spec} gave the LSA no package`);
    firstOf.set(spec, first.name);
  }
  if (packages === undefined) return [...load];
  const specs: string[] = [];
  for (const p of packages) {
    if (isSpec(p)) {
      specs.push(p);
      continue;
    }
    const found = listing.loaded.find((l) => l.name.toLowerCase() === p.toLowerCase());
    if (found === undefined)
      throw new UsageError(`--package ${p}: no such package in ${load.join(', ')} (loaded: ${listing.loaded.map((l) => l.name).join(', ')})`);
    const spec = load.find((s) => resolvePackageSpec(s).href === found.module)!;
    if (firstOf.get(spec) !== found.name)
      throw new UsageError(`--package ${p}: bench measures the first package of a module, and ${spec}'s is ${firstOf.get(spec)}`);
    if (!specs.includes(spec)) specs.push(spec);
  }
  return specs;
}

/** A module named with --load that the LSA could not load: said before the bench starts. */
class BenchLoadError extends Error {
  override readonly name = 'BenchLoadError';
}

export async function bench(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    ...valued('concurrency', 'clients', 'duration', 'json', 'svg'),
    ...repeated('package', 'load'),
    ...flags('quick', 'scale'),
    ...ISOLATION_OPTIONS,
  });
  const base = values.quick ? QUICK : DEFAULTS;
  const duration = values.duration === undefined ? undefined : seconds(values.duration, '--duration', 0);
  const clients = list(values.clients, '--clients');
  if (clients !== undefined && clients.some((k) => k > 4))
    throw new UsageError(`--clients takes whole numbers from 1 to 4 (client processes), not ${JSON.stringify(values.clients)}`);
  let packages: string[];
  try {
    packages = await benchSpecs(values.package, values.load);
  } catch (error) {
    if (!(error instanceof BenchLoadError)) throw error;
    process.stderr.write(`sspi-emu bench: ${error.message}\n`);
    return 1;
  }
  const options: BenchOptions = {
    ...base,
    packages,
    concurrency: list(values.concurrency, '--concurrency') ?? base.concurrency,
    clients: clients ?? base.clients,
    durationMs: duration === undefined ? base.durationMs : duration * 1000,
    scale: values.scale === true,
    ...lsaIsolation(values['lsa-isolation']),
  };
  const started = Date.now();
  if (process.stderr.isTTY) {
    options.progress = (done, total, label) => {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} ${label.slice(0, 60).padEnd(60)}`);
      if (done === total) process.stderr.write('\n');
    };
  } else {
    // A log (CI, a file, a pipe): a line per step, with the time so far.
    options.progress = (done, total, label) => process.stderr.write(`bench: ${done}/${total} ${label} (${elapsed(started)})\n`);
  }
  options.onFailure = (section, error) =>
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}bench: ${section} failed, going on without it: ${error.split('\n')[0]}\n`);
  // Stopped before the end (Ctrl-C, SIGTERM): what was measured by then is written as a finished
  // run's would be, with the targets its rows give and the point it stopped at, then exit 130.
  let partial: BenchReport | undefined;
  let lastStep = 'before the first step';
  const progress = options.progress;
  options.progress = (done, total, label) => {
    lastStep = `after step ${done} of ${total} (${label})`;
    progress?.(done, total, label);
  };
  options.started = (report) => (partial = report);
  const interrupted = (signal: NodeJS.Signals): void => {
    void (async () => {
      if (partial !== undefined) {
        partial.interrupted = `${signal} ${lastStep}, ${elapsed(started)} in`;
        partial.targets = targetsOf(partial);
        if (process.stderr.isTTY) process.stderr.write('\n');
        try {
          await write(partial, values.json, values.svg);
        } catch (error) {
          process.stderr.write(`sspi-emu bench: what was measured could not be written: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      }
      process.exit(130);
    })();
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const report = await runBench(options);
  process.off('SIGINT', interrupted);
  process.off('SIGTERM', interrupted);
  await write(report, values.json, values.svg);
  // Everything measured is out (table, --json, --svg); a part that failed still fails the command.
  return report.failed.length === 0 ? 0 : 1;
}

/** The table on stdout, and the JSON and SVG files asked for. */
async function write(report: BenchReport, json: string | undefined, svg: string | undefined): Promise<void> {
  process.stdout.write(formatReport(report) + '\n');
  if (json !== undefined) await writeFile(json, JSON.stringify(report, null, 2) + '\n');
  if (svg !== undefined) await writeFile(svg, formatSvg(report));
}

/** "1m05s" since `started`. */
function elapsed(started: number): string {
  const s = Math.round((Date.now() - started) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
