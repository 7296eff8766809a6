// Unloading a package, and reloading its module, while the LSA runs: the LSA's UnloadPackage, and
// what `Machine.lsa.reloadPackage()`, `run --watch` and `serve --watch` use. lsass loads packages
// at boot only and never unloads one; here a package author edits, builds, and the LSA swaps the
// new version in without a reboot.
//
// A reload, in order:
// 1. The module is imported again as version N (`?v=N`, hosting/module-versions.ts) and each of
//    its tables initialized (SpLsaModeInitialize, SpInitialize, SpGetInfo). A table keeps the
//    package id the table at its place had, so the package keeps its place in the list (and what
//    it stored under its id: AddCredential). Anything failing here leaves the old version
//    running, untouched, and the reload rejects saying why.
// 2. The new version is told of each logon session a process runs in (SpAcceptCredentials), as
//    it would have been had it been loaded before them.
// 3. Credentials of the old version acquired without explicit credentials (a server's inbound
//    credential, a process's own logon) are acquired again from the new version, as their
//    process, and keep their handle. Explicit credentials cannot be: the password was in the
//    process's memory at the time, and the LSA keeps none.
// 4. The new version takes the old one's place in one step: from now on every call naming the
//    package reaches it, and every other handle of the old version answers SEC_E_INVALID_HANDLE.
// 5. The old version is unloaded (what UnloadPackage does): once the calls it was running have
//    returned, each of its contexts and credentials still open is closed through its own table
//    (SpDeleteContext, SpFreeCredentialsHandle), those other packages hold of it too (Negotiate's
//    of NTLM: lsa/package-locator.ts), then SpShutdown. A process's first
//    FreeCredentialsHandle or DeleteSecurityContext on such a handle answers SEC_E_OK.
//
// Contexts mapped into processes live on there: their user-mode half is the old version's, which
// signs and seals until the context is deleted. The first context of the new version that maps
// into a process imports the new user-mode half there. Reloads and unloads run one at a time.

import { type PackageId, SECURITY_LOGON_TYPE, STATUS_NO_SUCH_PACKAGE, STATUS_SUCCESS, statusName, type Status } from '../headers/index.js';
import { callPackage, statusOf, type CallPoints, type PackageHost } from '../hosting/index.js';
import { SspiEmuError, type LsaHandle, type ProcessId } from '../ipc/index.js';
import type { Account } from './accounts.js';
import { runAsClientCall, type LsaClientProcess } from './client-call.js';
import type { CallEpochs } from './call-epochs.js';
import type { LsaConfig } from './config.js';
import type { ContextExports } from './context-exports.js';
import type { LsaServices } from './function-table.js';
import { releaseContext, type HandleEntry, type HandleTables } from './handle-table.js';
import type { LogonSessions } from './logon-sessions.js';
import { bootVersion, loadModule, type LoadedPackage, type PackageLoadFailure } from './package-loader.js';
import { resolvePackageSpec } from './package-import.js';
import { releaseVersion } from './package-locator.js';

/** What a reload did: the new version, and the unload of the old. */
export interface ReloadReport {
  /** The "Security Packages" entry whose module was loaded again. */
  spec: string;
  /** The version now loaded: 2 after the first reload (versions count attempts: a failed one uses its number too). */
  version: number;
  /** The URL the new version was imported from (`?v=N`). */
  module: string;
  /** The new version's packages, each with the id its table had before. */
  loaded: Array<{ name: string; id: number }>;
  /** The old version's packages, unloaded. */
  unloaded: UnloadReport[];
}

export interface UnloadReport {
  name: string;
  id: number;
  version: number;
  /** Contexts and credentials closed through the old version's table. */
  contexts: number;
  credentials: number;
  /** Besides those, the handles other packages held of it (Negotiate's of NTLM: lsa/package-locator.ts), when there were any. */
  nested?: number;
  /** Credentials acquired again from the new version, under the same handle. */
  carried: number;
  /** Calls that began before the swap (any may reach the old version) still running when the unload stopped waiting (their deadline). */
  stillRunning: number;
  /** What SpShutdown answered. */
  shutdown: string;
}

/** What the reloader needs of the LSA. */
export interface ReloadHost {
  readonly config: LsaConfig;
  readonly services: LsaServices;
  readonly host: PackageHost;
  readonly points: CallPoints;
  readonly handles: HandleTables;
  readonly exports: ContextExports;
  readonly sessions: LogonSessions;
  /** The packages loaded now. */
  packages(): readonly LoadedPackage[];
  /** Puts `fresh` where `old` was (names, ids, the list; the failures of `spec` forgotten), in one step. */
  install(old: readonly LoadedPackage[], fresh: readonly LoadedPackage[], spec: string): void;
  /** A package id never given before. */
  newId(): PackageId;
  /** The processes attached now, each with the account it runs as (null for anonymous). */
  processes(): Iterable<{ process: LsaClientProcess; account: Account | null }>;
  processById(pid: ProcessId): LsaClientProcess | undefined;
  /** The calls running, by epoch (lsa/call-epochs.ts). */
  readonly epochs: CallEpochs;
}

/** A credential of the old version acquired again from the new one, waiting for the swap. */
interface Carried {
  pid: ProcessId;
  handle: LsaHandle;
  entry: HandleEntry;
  old: LoadedPackage;
  fresh: LoadedPackage;
  packageHandle: number;
}

/** Loads of one module an LSA makes before it refuses more: each load's code stays in memory until the LSA restarts. */
export const MAX_MODULE_VERSIONS = 1000;

const key = (id: number, version: number): string => `${id}:${version}`;
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

export class PackageReloader {
  private readonly lsa: ReloadHost;
  /** The last version loaded (or tried) of each entry. */
  private readonly versions = new Map<string, number>();
  /** Each entry's package ids, by table index: a table keeps its id across versions. */
  private readonly ids = new Map<string, Map<number, PackageId>>();
  /** Each package name ever loaded, lower-cased, and its entry: a package that unloaded itself can be loaded again by name. */
  private readonly names = new Map<string, string>();
  /** Versions whose unload has begun and not ended: their handles still reach them for a free or a delete. */
  private readonly leaving = new Map<string, LoadedPackage>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(lsa: ReloadHost) {
    this.lsa = lsa;
  }

  /** Notes the packages loaded at boot. */
  booted(loaded: readonly LoadedPackage[]): void {
    for (const spec of this.lsa.config.packages) this.versions.set(spec, bootVersion(this.lsa.config, spec));
    for (const pkg of loaded) this.remember(pkg);
  }

  /** The version of a package being unloaded that `entry` names, if that unload has not finished. */
  leavingPackage(entry: Pick<HandleEntry, 'packageId' | 'packageVersion'>): LoadedPackage | undefined {
    return this.leaving.get(key(entry.packageId, entry.packageVersion));
  }

  /** Loads the module of `nameOrSpec` (a package's name, or an entry of the "Security Packages" list) again. */
  reload(nameOrSpec: string): Promise<ReloadReport> {
    return this.serialized(() => this.reloadNow(nameOrSpec));
  }

  /** UnloadPackage from package `packageId`'s table of `version`: unloads it, after the calls it runs have returned. */
  unload(packageId: PackageId, version: number): Status {
    const pkg = this.lsa.packages().find((p) => p.id === packageId && p.version === version);
    if (pkg === undefined) return STATUS_NO_SUCH_PACKAGE;
    this.event('UnloadPackage', `${pkg.name} v${pkg.version} (package id ${pkg.id}) unloads itself`);
    void this.serialized(async () => {
      // A reload that ran first may have replaced it already.
      if (!this.lsa.packages().includes(pkg)) return;
      this.lsa.install([pkg], [], pkg.spec);
      this.leaving.set(key(pkg.id, pkg.version), pkg);
      await this.retire(pkg, this.lsa.epochs.advance(), [], true);
    });
    return STATUS_SUCCESS;
  }

  private serialized<T>(run: () => Promise<T>): Promise<T> {
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private remember(pkg: LoadedPackage): void {
    let ids = this.ids.get(pkg.spec);
    if (ids === undefined) this.ids.set(pkg.spec, (ids = new Map()));
    ids.set(pkg.tableIndex, pkg.id);
    this.names.set(pkg.name.toLowerCase(), pkg.spec);
  }

  /** The entry of the "Security Packages" list that `nameOrSpec` names, by package name, as written, or by its module. */
  private specOf(nameOrSpec: string): string | undefined {
    const byName = this.lsa.packages().find((p) => p.name.toLowerCase() === nameOrSpec.toLowerCase())?.spec ?? this.names.get(nameOrSpec.toLowerCase());
    if (byName !== undefined) return byName;
    const specs = this.lsa.config.packages;
    const written = specs.find((s) => s === nameOrSpec);
    if (written !== undefined) return written;
    let href: string;
    try {
      href = resolvePackageSpec(nameOrSpec).href;
    } catch {
      return undefined;
    }
    return specs.find((s) => {
      try {
        return resolvePackageSpec(s).href === href;
      } catch {
        return false;
      }
    });
  }

  private async reloadNow(nameOrSpec: string): Promise<ReloadReport> {
    const { lsa } = this;
    const spec = this.specOf(nameOrSpec);
    if (spec === undefined)
      throw new SspiEmuError(
        'PACKAGE_NOT_LOADED',
        `cannot reload ${JSON.stringify(nameOrSpec)}: it names no loaded package and no entry of the Security Packages list (loaded: ${lsa
          .packages()
          .map((p) => p.name)
          .join(', ')}; entries: ${lsa.config.packages.join(', ')})`,
      );
    const version = (this.versions.get(spec) ?? 1) + 1;
    const old = lsa.packages().filter((p) => p.spec === spec);
    const running = old.length === 0 ? 'nothing of it is loaded now' : `version ${old[0]!.version} keeps running`;
    if (version > MAX_MODULE_VERSIONS)
      throw new SspiEmuError(
        'PACKAGE_LOAD_FAILED',
        `package module ${spec} failed to reload: ${MAX_MODULE_VERSIONS} versions loaded in this LSA (each one's code stays in memory); restart the LSA; ${running}`,
      );
    this.versions.set(spec, version);
    const ids = this.ids.get(spec) ?? new Map<number, PackageId>();
    const fresh = await loadModule(lsa.config, lsa.services, lsa.host, () => undefined, {
      spec,
      version,
      idFor: (index) => ids.get(index) ?? lsa.newId(),
      nameTaken: (name) => lsa.packages().some((p) => p.spec !== spec && p.name.toLowerCase() === name.toLowerCase()),
    });
    const failed: PackageLoadFailure[] = [...fresh.failed];
    if (failed.length === 0 && fresh.loaded.length === 0) failed.push({ spec, stage: 'SpLsaModeInitialize', reason: 'returned no tables' });
    if (failed.length > 0) {
      for (const pkg of fresh.loaded) await this.shutdown(pkg);
      const reason = failed.map((f) => `package module ${f.spec} failed to reload at ${f.stage}: ${f.reason}`).join('; ');
      this.event('PackageReloadFailed', `${reason}; ${running}`);
      throw new SspiEmuError('PACKAGE_LOAD_FAILED', `${reason}; ${running}`);
    }

    await this.announceLogons(fresh.loaded);
    const oldByIndex = new Map(old.map((p) => [p.tableIndex, p]));
    const carried = await this.acquireAgain(old, fresh.loaded);

    // The swap: from here every call naming the package reaches the new version.
    lsa.install(old, fresh.loaded, spec);
    const swapped = lsa.epochs.advance();
    for (const pkg of fresh.loaded) this.remember(pkg);
    for (const pkg of old) this.leaving.set(key(pkg.id, pkg.version), pkg);
    const carriedOld = new Map<LoadedPackage, number[]>();
    const carriedCount = new Map<LoadedPackage, number>();
    for (const c of carried) {
      const entry: HandleEntry = { ...c.entry, packageId: c.fresh.id, packageVersion: c.fresh.version, packageHandle: c.packageHandle };
      if (lsa.handles.lookup(c.pid, c.handle, 'credential') === c.entry && lsa.handles.replace(c.pid, c.handle, entry)) {
        carriedOld.set(c.old, [...(carriedOld.get(c.old) ?? []), c.entry.packageHandle]);
        carriedCount.set(c.old, (carriedCount.get(c.old) ?? 0) + 1);
      } else {
        // Freed by its process while the new version acquired it: the new handle goes back.
        await callPackage(lsa.host, { package: c.fresh.name, entry: 'SpFreeCredentialsHandle' }, () => c.fresh.table.FreeCredentialsHandle(c.packageHandle));
      }
    }
    for (const pkg of fresh.loaded) {
      const before = oldByIndex.get(pkg.tableIndex);
      this.event(
        'PackageLoaded',
        `${pkg.name} v${version} (package id ${pkg.id}) from ${pkg.moduleUrl}` +
          (before === undefined ? '' : `: replaces v${before.version}; ${count(carriedCount.get(before) ?? 0, 'credential')} carried over`),
      );
    }

    const unloaded: UnloadReport[] = [];
    for (const pkg of old) unloaded.push(await this.retire(pkg, swapped, carriedOld.get(pkg) ?? [], false, carriedCount.get(pkg) ?? 0));
    return {
      spec,
      version,
      module: fresh.loaded[0]!.moduleUrl,
      loaded: fresh.loaded.map((p) => ({ name: p.name, id: p.id })),
      unloaded,
    };
  }

  /** SpAcceptCredentials of the new version for every process that runs as an account (as at its logon). */
  private async announceLogons(fresh: readonly LoadedPackage[]): Promise<void> {
    const { lsa } = this;
    for (const { process, account } of lsa.processes()) {
      if (account === null) continue;
      const primary = { LogonId: process.logonId, DownlevelName: account.user, DomainName: account.domain, Password: account.password, Flags: 1 };
      for (const pkg of fresh) {
        const accept = pkg.table.AcceptCredentials;
        if (typeof accept !== 'function') continue;
        await callPackage(
          lsa.host,
          { package: pkg.name, entry: 'SpAcceptCredentials', detail: () => `${account.domain}\\${account.user} (${process.name})` },
          () => accept(SECURITY_LOGON_TYPE.Interactive, account.user, primary, null),
        );
      }
    }
  }

  /**
   * Acquires from the new version each credential of the old one that was acquired without
   * explicit credentials, as its process: what the swap then puts under the same handle.
   */
  private async acquireAgain(old: readonly LoadedPackage[], fresh: readonly LoadedPackage[]): Promise<Carried[]> {
    const { lsa } = this;
    const out: Carried[] = [];
    for (const before of old) {
      const after = fresh.find((p) => p.tableIndex === before.tableIndex);
      if (after === undefined) continue;
      const found = lsa.handles.select(
        (e) => e.kind === 'credential' && e.packageId === before.id && e.packageVersion === before.version && e.acquire !== undefined,
      );
      for (const { pid, handle, entry } of found) {
        const process = lsa.processById(pid);
        const how = entry.acquire!;
        if (process === undefined || process.terminated) continue;
        const outcome = await callPackage(
          lsa.host,
          { package: after.name, entry: 'SpAcquireCredentialsHandle', peer: process.name, detail: () => `carried over from v${before.version}` },
          () =>
            runAsClientCall({ process, callId: 0, op: 'SpAcquireCredentialsHandle' }, () =>
              after.table.AcquireCredentialsHandle(how.principal, how.credentialUse, how.logonId, null, null, null),
            ),
        );
        const status = outcome.ok ? statusOf(outcome.value) : undefined;
        const packageHandle = outcome.ok ? outcome.value.CredentialHandle : undefined;
        if (status !== undefined && status >>> 0 < 0x80000000 && typeof packageHandle === 'number')
          out.push({ pid, handle, entry, old: before, fresh: after, packageHandle });
      }
    }
    return out;
  }

  /**
   * Unloads one version, out of the package list since epoch `swapped` ended: waits for the calls
   * that began by then (any may reach it), closes what it still holds through its own table, then
   * SpShutdown. `carried` are its package handles of credentials the new version took over;
   * `plain` (UnloadPackage, no new version) also drops what it stored in logon sessions.
   */
  private async retire(pkg: LoadedPackage, swapped: number, carried: readonly number[], plain: boolean, carriedCount = 0): Promise<UnloadReport> {
    const { lsa } = this;
    const { packageCallTimeoutMs } = lsa.config;
    const stillRunning = await lsa.epochs.settled(swapped, packageCallTimeoutMs > 0 ? packageCallTimeoutMs + 1000 : 30_000);
    const ofThis = (e: { packageId: PackageId; packageVersion: number }): boolean => e.packageId === pkg.id && e.packageVersion === pkg.version;
    // Every handle of it goes at once, before any package call: a process freeing one meanwhile gets SEC_E_OK (retired).
    const held = lsa.handles.select(ofThis).filter(({ pid, handle }) => lsa.handles.retire(pid, handle));
    const dropped = lsa.exports.dropWhere(ofThis);
    const report: UnloadReport = {
      name: pkg.name,
      id: pkg.id,
      version: pkg.version,
      contexts: 0,
      credentials: 0,
      carried: carriedCount,
      stillRunning,
      shutdown: '',
    };
    const call = (entry: string, run: () => Status | Promise<Status>): Promise<unknown> =>
      Promise.resolve(callPackage(lsa.host, { package: pkg.name, entry, detail: () => `unloading v${pkg.version}` }, run));
    for (const pending of dropped)
      if (releaseContext(pending)) {
        report.contexts++;
        await call('SpDeleteContext', () => pkg.table.DeleteContext(pending.packageHandle));
      }
    for (const { entry } of [...held.filter((h) => h.entry.kind === 'context'), ...held.filter((h) => h.entry.kind === 'credential')]) {
      if (entry.kind === 'context') {
        if (!releaseContext(entry)) continue;
        report.contexts++;
        await call('SpDeleteContext', () => pkg.table.DeleteContext(entry.packageHandle));
      } else {
        report.credentials++;
        await call('SpFreeCredentialsHandle', () => pkg.table.FreeCredentialsHandle(entry.packageHandle));
      }
    }
    for (const handle of carried) await call('SpFreeCredentialsHandle', () => pkg.table.FreeCredentialsHandle(handle));
    // What other packages held of it (their later calls with those handles answer SEC_E_INVALID_HANDLE).
    const nested = await releaseVersion(lsa.services.locator, pkg);
    if (nested > 0) report.nested = nested;
    report.shutdown = await this.shutdown(pkg);
    if (plain) lsa.sessions.dropPackageCredentials(pkg.id);
    this.leaving.delete(key(pkg.id, pkg.version));
    this.event(
      'PackageUnloaded',
      `${pkg.name} v${pkg.version} (package id ${pkg.id}): ${count(report.contexts, 'context')} and ${count(report.credentials, 'credential')} closed` +
        `${nested > 0 ? `, ${count(nested, 'handle')} other packages held closed` : ''}` +
        `${carriedCount > 0 ? `, ${count(carriedCount, 'credential')} carried over` : ''}` +
        `${stillRunning > 0 ? `, ${count(stillRunning, 'call')} still running` : ''}; SpShutdown ${report.shutdown}`,
    );
    return report;
  }

  /** SpShutdown of one table (a member it lacks answers nothing to do). */
  private async shutdown(pkg: LoadedPackage): Promise<string> {
    // A table may lack the member at run time whatever its type says.
    const shutdown: unknown = pkg.table.Shutdown;
    if (typeof shutdown !== 'function') return 'no SpShutdown';
    const outcome = await callPackage(this.lsa.host, { package: pkg.name, entry: 'SpShutdown', detail: () => `v${pkg.version}` }, () =>
      (shutdown as () => Status | Promise<Status>).call(pkg.table),
    );
    const status = outcome.ok ? statusOf(outcome.value) : undefined;
    return outcome.ok ? (status === undefined ? 'no status' : statusName(status)) : `SEC_E_INTERNAL_ERROR (${outcome.fault.message})`;
  }

  private event(call: string, detail: string): void {
    this.lsa.points.point(call, 'event', { detail });
  }
}
