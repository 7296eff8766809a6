// Option parsing shared by the commands: node:util parseArgs, with usage errors for anything off.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BUILTIN_PACKAGES, DEFAULT_PACKAGES } from '../lsa/index.js';
import type { LsaIsolation } from '../machine/index.js';
import { UsageError } from './usage.js';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** Options that take a value, declared by name. */
export function valued<const K extends string>(...names: K[]): Record<K, { type: 'string' }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'string' }])) as Record<K, { type: 'string' }>;
}

/** Options that may be given more than once, each a value. */
export function repeated<const K extends string>(...names: K[]): Record<K, { type: 'string'; multiple: true }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'string', multiple: true }])) as Record<K, { type: 'string'; multiple: true }>;
}

/** Options that are present or not. */
export function flags<const K extends string>(...names: K[]): Record<K, { type: 'boolean' }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'boolean' }])) as Record<K, { type: 'boolean' }>;
}

/** --package and --load: which package a command uses and which modules the LSA loads besides. */
export const PACKAGE_OPTIONS = { ...valued('package'), ...repeated('load') };

/** --lsa-isolation thread|process: where the LSA of the machine a command boots runs (MachineOptions.lsaIsolation). */
export const ISOLATION_OPTIONS = valued('lsa-isolation');

/** The machine option --lsa-isolation asks for, to spread into MachineOptions (nothing when absent). */
export function lsaIsolation(value: string | undefined): { lsaIsolation?: LsaIsolation } {
  if (value === undefined) return {};
  if (value !== 'thread' && value !== 'process') throw new UsageError(`--lsa-isolation takes thread or process, not ${JSON.stringify(value)}`);
  return { lsaIsolation: value };
}

/** --user, --domain, --password: the identity a client authenticates as. */
export const IDENTITY_OPTIONS = valued('user', 'domain', 'password');

/**
 * A command's arguments: strict parseArgs (unknown options are usage errors), at most
 * `maxPositionals` positionals, and every complaint a UsageError.
 */
export function parseCommand<const O extends OptionSpecs>(
  argv: string[],
  options: O,
  maxPositionals = 0,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  const parsed = asUsage(() => parseArgs({ args: withNegativeValues(argv, options), allowPositionals: true, options, strict: true }));
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  return parsed;
}

/**
 * `--messages -3` as `--messages=-3`: parseArgs takes a value that starts with a dash for an
 * option of its own and refuses it as ambiguous, where the user meant a (bad) number, which the
 * option's own check then refuses with its range.
 */
function withNegativeValues(argv: string[], options: OptionSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Runs an argument parse (node:util parseArgs), turning its complaints into usage errors (their first line: the rest is parseArgs' advice). */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    // parseArgs' own advice (how to pass a positional that starts with a dash) is left out.
    throw new UsageError((error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/\. To specify .*$/, ''));
  }
}

/**
 * A whole-number option from `min` to `max` (the fallback when absent); anything else is a usage
 * error naming the range.
 */
export function wholeNumber(value: string | undefined, name: string, fallback: number, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(
      `${name} takes a whole number ${max === Number.MAX_SAFE_INTEGER ? `from ${min}` : `from ${min} to ${max}`}, not ${JSON.stringify(value)}`,
    );
  return n;
}

/** A whole-number option from 0 (see wholeNumber for a range of its own). */
export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  return wholeNumber(value, name, fallback, 0);
}

/** A duration in seconds: a number greater than 0 (fractions allowed), or the fallback when absent. */
export function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${name} takes seconds, a number greater than 0, not ${JSON.stringify(value)}`);
  return n;
}

/** Package module paths from --load, and --package when it names a module rather than a package. */
export function packageList(load: string[] | undefined, pkg: string | undefined): { packages: string[]; packageName: string | undefined } {
  const packages = [...DEFAULT_PACKAGES, ...(load ?? [])];
  if (pkg !== undefined && /[\\/]|\.m?js$/.test(pkg)) return { packages: [...packages, pkg], packageName: undefined };
  // A built-in package named by --package is loaded too, as if it were in the Security Packages list.
  if (pkg !== undefined && BUILTIN_PACKAGES.has(pkg.toLowerCase()) && !packages.some((p) => p.toLowerCase() === pkg.toLowerCase()))
    packages.push(pkg.toLowerCase());
  return { packages, packageName: pkg };
}
