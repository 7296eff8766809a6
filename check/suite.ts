// `sspi-emu check`: a conformance suite run against any package through the real LSA and
// processes. The machine loads the default packages and the modules named, as `sspi-emu run`
// does (so a name or an RPC id that collides with a built-in package shows here too); each
// package checked gets a machine of its own and an account whose password is made for the run
// (check/package.ts has the checks).

import { randomBytes } from 'node:crypto';
import { describeError } from '../ipc/index.js';
import { BUILTIN_PACKAGES, DEFAULT_PACKAGES, resolvePackageSpec, type Account, type PackageLoadFailure } from '../lsa/index.js';
import { Machine, type LsaIsolation, type MachineOptions } from '../machine/index.js';
import { CHECKS } from './catalogue.js';
import type { LoadedInfo } from './info.js';
import { checkPackage, type PackageCheck } from './package.js';

export interface CheckOptions {
  /** Package modules (paths) or built-in names to load besides the default packages, as `run --load` loads them. */
  load: string[];
  /** The package to check, by its SecPkgInfo Name (any case); default: every package the `load` modules provide. */
  package?: string;
  /** How long a package entry point may take before it fails with SEC_E_INTERNAL_ERROR (default 10 s). */
  packageCallTimeoutMs?: number;
  /** Where the LSA runs (MachineOptions.lsaIsolation); default a worker thread. */
  lsaIsolation?: LsaIsolation;
  /**
   * Processes whose own inspector opens in each machine the suite boots (MachineOptions.inspect),
   * and who is told their URLs. Package calls then have the machine's debugging deadline unless
   * packageCallTimeoutMs says otherwise; the suite's own waits (an application's for its peer) do not change.
   */
  inspect?: MachineOptions['inspect'];
  onInspector?: MachineOptions['onInspector'];
}

export interface CheckReport {
  /** Every check of every package passed or was skipped, and at least one package was checked. */
  ok: boolean;
  /** "Package: check" of every failed check. */
  failed: string[];
  packages: PackageCheck[];
}

/** Runs the suite against each package asked for. A package's failures are in the report; this throws only for options that name nothing. */
export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  if (options.load.length === 0 && options.package === undefined) throw new Error('check: name a module to load or a package to check');
  const specs = [...DEFAULT_PACKAGES];
  for (const spec of options.load) if (!specs.some((s) => s.toLowerCase() === spec.toLowerCase())) specs.push(spec);
  const builtin = options.package?.toLowerCase();
  if (builtin !== undefined && BUILTIN_PACKAGES.has(builtin) && !specs.includes(builtin)) specs.push(builtin);

  const account: Account = { user: 'checker', domain: 'SSPI-EMU', password: `Ck-${randomBytes(12).toString('base64url')}` };
  const boot = (): Promise<Machine> =>
    // A module that fails to load is the `load` check's to report, with its stage and reason: the boot tolerates it.
    Machine.boot({
      packages: specs,
      accounts: [account],
      trace: true,
      ...(options.packageCallTimeoutMs !== undefined || options.inspect === undefined ? { packageCallTimeoutMs: options.packageCallTimeoutMs ?? 10_000 } : {}),
      onPackageFailure: 'skip',
      ...(options.lsaIsolation === undefined ? {} : { lsaIsolation: options.lsaIsolation }),
      ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
      ...(options.onInspector === undefined ? {} : { onInspector: options.onInspector }),
    });
  const packages: PackageCheck[] = [];
  let machine: Machine;
  try {
    machine = await boot();
  } catch (error) {
    // A machine that refuses to boot with a module that fails to load, or cannot boot at all.
    packages.push(notLoaded(options.load.join(', ') || options.package!, `the machine did not boot: ${describeError(error)}`));
    return report(packages);
  }
  try {
    const listing = await machine.lsa.packages();
    const targets = targetsOf(listing.loaded, listing.failed, options, packages);
    for (const [i, target] of targets.entries()) {
      if (i > 0) {
        await machine.shutdown();
        machine = await boot();
      }
      packages.push(
        await checkPackage(
          machine,
          target,
          listing.loaded.filter((p) => p.name !== target.name),
          account,
        ),
      );
    }
  } finally {
    await machine.shutdown();
  }
  return report(packages);
}

/** The loaded packages to check; a failed `load` entry goes to `out` for each module or name that gave none. */
function targetsOf(loaded: LoadedInfo[], failed: PackageLoadFailure[], options: CheckOptions, out: PackageCheck[]): LoadedInfo[] {
  const failuresOf = (spec: string): PackageLoadFailure[] => failed.filter((f) => f.spec === spec || f.spec.startsWith(`${spec}[`));
  for (const spec of options.load) for (const f of failuresOf(spec)) out.push(notLoaded(f.spec, `failed at ${f.stage}: ${f.reason}`));
  if (options.package !== undefined) {
    const wanted = options.package.toLowerCase();
    const found = loaded.find((p) => p.name.toLowerCase() === wanted);
    if (found === undefined && out.length === 0)
      out.push(notLoaded(options.package, `no package named ${options.package} is loaded (loaded: ${loaded.map((p) => p.name).join(', ')})`));
    return found === undefined ? [] : [found];
  }
  const targets: LoadedInfo[] = [];
  for (const spec of options.load) {
    const href = hrefOf(spec);
    const mine = loaded.filter((p) => p.module === href);
    if (mine.length === 0 && failuresOf(spec).length === 0) out.push(notLoaded(spec, 'the module gave the LSA no package'));
    targets.push(...mine.filter((p) => !targets.includes(p)));
  }
  return targets;
}

function hrefOf(spec: string): string | undefined {
  try {
    return resolvePackageSpec(spec).href;
  } catch {
    return undefined;
  }
}

function notLoaded(name: string, detail: string): PackageCheck {
  return {
    name,
    module: name,
    ok: false,
    checks: CHECKS.map((c) =>
      c.name === 'load'
        ? { name: c.name, outcome: 'fail', why: c.why, detail }
        : { name: c.name, outcome: 'skip', why: c.why, detail: 'not run: the package did not load' },
    ),
  };
}

function report(packages: PackageCheck[]): CheckReport {
  const failed = packages.flatMap((p) => p.checks.filter((c) => c.outcome === 'fail').map((c) => `${p.name}: ${c.name}`));
  return { ok: failed.length === 0 && packages.length > 0, failed, packages };
}
