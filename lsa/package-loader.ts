// LSA-mode initialization (reference section 9.2): for each module in the configuration,
// SpLsaModeInitialize; for each table it returns, SpInitialize(PackageId, Parameters,
// FunctionTable), then SpGetInfo. A module or package that fails any step is skipped with a
// diagnostic naming the step; the LSA stays up with the others (whether the machine accepts a boot
// with failures is the machine's choice: MachineOptions.onPackageFailure). Each step is announced
// before it starts, so that a step that never returns (a synchronous loop in a module's top level
// holds the LSA's only thread) can be named by whoever watches the boot from outside.
import {
  SECPKG_EXTENDED_INFORMATION_CLASS,
  SECPKG_INTERFACE_VERSION,
  SECPKG_STATE,
  type PackageId,
  type SecpkgContextThunks,
  type SecpkgFunctionTable,
  type SecurityPackageModule,
  type SecPkgInfo,
  isSuccess,
  statusName,
} from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import { callPackage, ensureVersionHooks, statusOf, versionedUrl, type PackageHost } from '../hosting/index.js';
import type { LsaConfig } from './config.js';
import { createLsaFunctionTable, type LsaServices } from './function-table.js';
import { commonJsReason, importPackageModule, resolvePackageSpec } from './package-import.js';

export interface LoadedPackage {
  readonly id: PackageId;
  readonly name: string;
  readonly info: SecPkgInfo;
  readonly table: SecpkgFunctionTable;
  /** The entry of the "Security Packages" list it came from. */
  readonly spec: string;
  /** Which load of its module this is: 1 at boot, one more per reload (lsa/package-reload.ts). */
  readonly version: number;
  /** The URL it was imported from (with `?v=N` from version 2): where each process imports its user-mode half. */
  readonly moduleUrl: string;
  readonly tableIndex: number;
  /** The packages of the same module, by table index (the user-mode tables come in this order). */
  readonly modulePackages: ReadonlyArray<{ packageId: PackageId; name: string }>;
  /** QueryContextAttributes levels the package runs in LSA mode (SecpkgContextThunks). */
  readonly thunkedLevels: number[];
  /**
   * Entry points known to go on after an await (async functions, and any that once answered with
   * a promise): they run carrying their client call across awaits (lsa/client-call.ts).
   */
  readonly awaitingEntries: Set<string>;
}

export interface PackageLoadFailure {
  /** The "Security Packages" entry (with [table index] for one table of a module). */
  spec: string;
  stage: PackageLoadStage;
  reason: string;
}

/** The steps of loading one entry, in order. */
export type PackageLoadStage = 'resolve' | 'import' | 'SpLsaModeInitialize' | 'SpInitialize' | 'SpGetInfo';

/** Told before each step of loading starts (the LSA worker passes it on to the machine). */
export type PackageLoadProgress = (spec: string, stage: PackageLoadStage) => void;

/** The functions every LSA-mode table must provide for the LSA to dispatch to it. */
const REQUIRED_MEMBERS = [
  'Initialize',
  'GetInfo',
  'AcquireCredentialsHandle',
  'FreeCredentialsHandle',
  'InitLsaModeContext',
  'AcceptLsaModeContext',
  'DeleteContext',
] as const;

export async function loadPackages(
  config: LsaConfig,
  services: LsaServices,
  host: PackageHost,
  progress: PackageLoadProgress = () => undefined,
  ids: { next: number } = { next: 0 },
): Promise<{ loaded: LoadedPackage[]; failed: PackageLoadFailure[] }> {
  const loaded: LoadedPackage[] = [];
  const failed: PackageLoadFailure[] = [];
  for (const spec of config.packages) {
    const module = await loadModule(config, services, host, progress, {
      spec,
      version: bootVersion(config, spec),
      idFor: () => ids.next++ as PackageId,
      nameTaken: (name) => loaded.some((p) => p.name.toLowerCase() === name.toLowerCase()),
    });
    loaded.push(...module.loaded);
    failed.push(...module.failed);
  }
  return { loaded, failed };
}

/** The version of a module an LSA boots with: 1, or the one after the last an earlier LSA of the machine loaded. */
export function bootVersion(config: LsaConfig, spec: string): number {
  return (config.packageVersions?.[spec] ?? 0) + 1;
}

/** One load of one module of the "Security Packages" list: at boot (version 1), or a reload. */
export interface ModuleLoad {
  readonly spec: string;
  /** 1 at boot, one more per reload: the module is imported as `?v=N` from 2 on (hosting/module-versions.ts). */
  readonly version: number;
  /** The package id of the module's table at `tableIndex` (asked only for a table that has the members the LSA needs). */
  idFor(tableIndex: number): PackageId;
  /** Whether another package already has this name (the LSA refuses a second package of a name). */
  nameTaken(name: string): boolean;
}

/**
 * Imports one module and initializes each of its tables: SpLsaModeInitialize, then for each
 * table SpInitialize and SpGetInfo. What loaded is initialized but not yet visible to anyone: the
 * caller installs it (at boot, or in place of the version before).
 */
export async function loadModule(
  config: LsaConfig,
  services: LsaServices,
  host: PackageHost,
  progress: PackageLoadProgress,
  load: ModuleLoad,
): Promise<{ loaded: LoadedPackage[]; failed: PackageLoadFailure[] }> {
  const { spec, version } = load;
  const loaded: LoadedPackage[] = [];
  const failed: PackageLoadFailure[] = [];
  let url: URL;
  try {
    progress(spec, 'resolve');
    url = versionedUrl(resolvePackageSpec(spec), version);
  } catch (error) {
    failed.push({ spec, stage: 'resolve', reason: describeError(error) });
    return { loaded, failed };
  }
  progress(spec, 'import');
  ensureVersionHooks(url.href);
  const imported = await importPackageModule(spec, url, config.packageLoadTimeoutMs);
  if (!imported.ok) {
    failed.push({ spec, ...imported.failure });
    return { loaded, failed };
  }
  const module = imported.module as Partial<SecurityPackageModule>;
  const init = module.SpLsaModeInitialize;
  if (typeof init !== 'function') {
    failed.push({ spec, stage: 'SpLsaModeInitialize', reason: notAPackage(imported.module, url) });
    return { loaded, failed };
  }
  progress(spec, 'SpLsaModeInitialize');
  const outcome = await callPackage(host, { package: spec, entry: 'SpLsaModeInitialize' }, () => init(SECPKG_INTERFACE_VERSION));
  if (!outcome.ok) {
    failed.push({ spec, stage: 'SpLsaModeInitialize', reason: describeError(outcome.fault) });
    return { loaded, failed };
  }
  const status = statusOf(outcome.value);
  const ppTables = (outcome.value as { ppTables?: unknown } | null)?.ppTables;
  if (status === undefined || !isSuccess(status) || !Array.isArray(ppTables)) {
    failed.push({
      spec,
      stage: 'SpLsaModeInitialize',
      reason: status === undefined || isSuccess(status) ? 'returned no tables' : `returned ${statusName(status)}`,
    });
    return { loaded, failed };
  }

  const modulePackages: { packageId: PackageId; name: string }[] = [];
  for (const [tableIndex, table] of (ppTables as SecpkgFunctionTable[]).entries()) {
    const label = `${spec}[${tableIndex}]`;
    const missing = REQUIRED_MEMBERS.filter((m) => typeof table?.[m] !== 'function');
    if (missing.length > 0) {
      failed.push({ spec: label, stage: 'SpLsaModeInitialize', reason: `table lacks ${missing.join(', ')}` });
      continue;
    }
    const id = load.idFor(tableIndex);
    const parameters = {
      Version: SECPKG_INTERFACE_VERSION,
      MachineState: SECPKG_STATE.ENCRYPTION_PERMITTED | SECPKG_STATE.STRONG_ENCRYPTION_PERMITTED | machineRoleState(config),
      SetupMode: 0,
      DomainName: config.domainName,
      DnsDomainName: config.dnsDomainName,
      ComputerName: config.computerName,
      DnsComputerName: config.dnsComputerName,
      PackageSettings: config.packageSettings[spec.toLowerCase()] ?? {},
    };
    progress(label, 'SpInitialize');
    const initialized = await callPackage(host, { package: label, entry: 'SpInitialize' }, () =>
      table.Initialize(id, parameters, createLsaFunctionTable(id, services, version)),
    );
    const initStatus = initialized.ok ? statusOf(initialized.value) : undefined;
    if (initStatus === undefined || !isSuccess(initStatus)) {
      failed.push({
        spec: label,
        stage: 'SpInitialize',
        reason: !initialized.ok ? describeError(initialized.fault) : initStatus === undefined ? 'returned no status' : `returned ${statusName(initStatus)}`,
      });
      continue;
    }
    progress(label, 'SpGetInfo');
    const got = await callPackage(host, { package: label, entry: 'SpGetInfo' }, () => table.GetInfo());
    const gotStatus = got.ok ? statusOf(got.value) : undefined;
    const info = got.ok && gotStatus !== undefined && isSuccess(gotStatus) ? (got.value.PackageInfo as SecPkgInfo | undefined) : undefined;
    if (typeof info !== 'object' || info === null || typeof info.Name !== 'string' || info.Name.length === 0) {
      failed.push({
        spec: label,
        stage: 'SpGetInfo',
        reason: got.ok ? `returned ${gotStatus === undefined ? 'no status' : statusName(gotStatus)} without a package name` : describeError(got.fault),
      });
      continue;
    }
    if (load.nameTaken(info.Name) || loaded.some((p) => p.name.toLowerCase() === info.Name.toLowerCase())) {
      failed.push({ spec: label, stage: 'SpGetInfo', reason: `a package named ${info.Name} is already loaded` });
      continue;
    }
    modulePackages[tableIndex] = { packageId: id, name: info.Name };
    loaded.push({
      id,
      name: info.Name,
      info: { ...info },
      table,
      spec,
      version,
      moduleUrl: url.href,
      tableIndex,
      modulePackages,
      thunkedLevels: await thunkedLevels(host, label, table),
      awaitingEntries: asyncEntries(table),
    });
  }
  return { loaded, failed };
}

/** Why a module that imported is not a package: what it exports instead, and why when it was read as CommonJS. */
function notAPackage(module: Record<string, unknown>, url: URL): string {
  const names = Object.keys(module);
  const exports = names.length === 0 ? 'nothing' : names.slice(0, 8).join(', ') + (names.length > 8 ? ', ...' : '');
  let reason = `not a package: the module exports no SpLsaModeInitialize function (it exports ${exports})`;
  const commonJs = commonJsReason(url);
  if (commonJs !== undefined) reason += `; ${commonJs}`;
  return reason;
}

/** The table's members written as async functions, by entry name (SpInitLsaModeContext for InitLsaModeContext). */
/** The entries of a table written as async functions, by their Sp name: they run carrying their client call across awaits from the start. */
export function asyncEntries(table: SecpkgFunctionTable): Set<string> {
  const entries = new Set<string>();
  for (const [member, value] of Object.entries(table)) if (value instanceof AsyncFunction) entries.add(`Sp${member}`);
  return entries;
}

const AsyncFunction = (async () => undefined).constructor;

async function thunkedLevels(host: PackageHost, label: string, table: SecpkgFunctionTable): Promise<number[]> {
  if (typeof table.GetExtendedInformation !== 'function') return [];
  const outcome = await callPackage(host, { package: label, entry: 'SpGetExtendedInformation' }, () =>
    table.GetExtendedInformation(SECPKG_EXTENDED_INFORMATION_CLASS.SecpkgContextThunks),
  );
  const status = outcome.ok ? statusOf(outcome.value) : undefined;
  if (!outcome.ok || status === undefined || !isSuccess(status)) return [];
  const info = outcome.value.ppInformation?.Info as SecpkgContextThunks | undefined;
  return Array.isArray(info?.Levels) ? info.Levels.filter((l): l is number => typeof l === 'number') : [];
}

/**
 * SECPKG_PARAMETERS.MachineState's role bit: SECPKG_STATE_DOMAIN_CONTROLLER on a domain controller
 * (its LSA runs the KDC or the server side of Netlogon), SECPKG_STATE_WORKSTATION on a domain
 * member (its Netlogon has a DC), SECPKG_STATE_STANDALONE otherwise.
 */
function machineRoleState(config: LsaConfig): number {
  if (config.kdc !== undefined || config.netlogon?.role === 'domain-controller') return SECPKG_STATE.DOMAIN_CONTROLLER;
  if (config.netlogon?.role === 'member') return SECPKG_STATE.WORKSTATION;
  return SECPKG_STATE.STANDALONE;
}
