// Option parsing shared by the commands: node:util parseArgs, with usage errors for anything off.

import { BUILTIN_PACKAGES, DEFAULT_PACKAGES } from '../lsa/index.js';
import { UsageError } from './usage.js';

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
