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
  const parsed = asUsage(() => parseArgs({ args: argv, options, allowPositionals: true, strict: true }));
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  return parsed;
}

/** Runs an argument parse (node:util parseArgs), turning its complaints into usage errors. */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number, not ${JSON.stringify(value)}`);
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
