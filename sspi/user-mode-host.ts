// The user-mode package host (reference section 9.3). The first time a mapped context of a package
// arrives in this process, the host imports the package's module here, calls SpUserModeInitialize
// (the user-mode tables are delivered into this process), then SpInstanceInit(Version,
// dllFunctions) for each table, once per package per process. Each context then gets
// SpInitUserModeContext(ContextHandle, ContextData). Every call into the package, these and the
// message functions Secur32 makes, goes through call(): traced, faults injected, contained, so a
// package that throws here fails its one call with SEC_E_INTERNAL_ERROR and a PackageFault.
//
// dllFunctions (SECPKG_DLL_FUNCTIONS) is live: AllocateHeap/FreeHeap account for memory handed
// back to the LSA, RegisterCallback makes a function reachable from the package's LSA-mode half
// through ClientCallback (the LSA sends an LPC call into this process), and LocatePackageById
// finds another loaded package's user table.
//
// A package reloaded in the LSA (lsa/package-reload.ts) keeps its id and delivers its contexts with
// the new version's module URL (`?v=N`): the first of them imports the new user-mode half here too.
// Contexts mapped before keep the table they were initialized with (the old version's code stays
// loaded); LocatePackageById and ClientCallback reach the newest version.

import {
  SECPKG_INTERFACE_VERSION,
  type Awaitable,
  type LsaCallbackFunction,
  type PackageId,
  type SecpkgDllFunctions,
  type SecpkgUserFunctionTable,
  type SecurityPackageModule,
  type SecBuffer,
  STATUS_INTERNAL_ERROR,
  STATUS_INVALID_PARAMETER,
  STATUS_SUCCESS,
  SEC_E_INTERNAL_ERROR,
  isSuccess,
  type Status,
} from '../headers/index.js';
import { badResult, callPackage, describeThrown, ensureVersionHooks, statusOf, type Outcome, type PackageHost } from '../hosting/index.js';
import { PackageFault, describeError, type ImportedContextDelivery, type MappedContextDelivery, type UserModeStats } from '../ipc/index.js';
import type { UserModeContext } from './handles.js';

/** The user-mode functions a table must have for the host to use it. */
const REQUIRED_USER_MEMBERS = ['InstanceInit', 'InitUserModeContext', 'DeleteUserModeContext'] as const;

interface LoadedUserPackage {
  readonly packageId: PackageId;
  readonly name: string;
  readonly table: SecpkgUserFunctionTable;
}

/** Where a package's user-mode half is, as a mapped context's or an imported context's delivery says. */
type UserModeModule = Pick<MappedContextDelivery, 'packageName' | 'moduleUrl' | 'modulePackages'>;

/** A status the host answers, and the fault behind it when the package failed. */
export interface HostResult {
  status: Status;
  fault?: PackageFault;
}

export class UserModeHost {
  private readonly modules = new Map<string, Promise<HostResult>>();
  /** Modules whose loading succeeded: their tables are in `byModule`. */
  private readonly loaded = new Set<string>();
  /** The newest version's table of each package (LocatePackageById). */
  private readonly packages = new Map<PackageId, LoadedUserPackage>();
  /** Each module version's tables, by table index: a context uses the table of the version that made it. */
  private readonly byModule = new Map<string, LoadedUserPackage[]>();
  private readonly callbacks = new Map<string, { packageName: string; callback: LsaCallbackFunction }>();
  private readonly counts = { spUserModeInitialize: {} as Record<string, number>, spInstanceInit: {} as Record<string, number>, spInitUserModeContext: 0 };
  private readonly heap = { allocations: 0, bytes: 0 };

  private readonly host: PackageHost;

  constructor(host: PackageHost) {
    this.host = host;
  }

  /** One call into a package's user-mode half (message functions, attributes, CompleteAuthToken, delete). */
  call<T>(context: UserModeContext, entry: string, run: (table: SecpkgUserFunctionTable, handle: number) => Awaitable<T>): Outcome<T> | Promise<Outcome<T>> {
    return callPackage(this.host, { package: context.packageName, entry }, () => run(context.table, context.lsaContextHandle));
  }

  /** The package's user-mode table for a delivered context, its module loaded into this process first; or why there is none. */
  private loadedTable(delivery: MappedContextDelivery | ImportedContextDelivery): Awaitable<LoadedUserPackage | HostResult> {
    const missing = (): HostResult => ({
      status: SEC_E_INTERNAL_ERROR,
      fault: badResult({ package: delivery.packageName, entry: 'SpUserModeInitialize' }, `no user-mode table ${delivery.tableIndex}`),
    });
    // Once a module is loaded its tables are here: a context of it is initialized without a promise.
    if (this.loaded.has(delivery.moduleUrl)) return this.byModule.get(delivery.moduleUrl)?.[delivery.tableIndex] ?? missing();
    return this.ensureModule(delivery).then((loaded) =>
      isSuccess(loaded.status) ? (this.byModule.get(delivery.moduleUrl)?.[delivery.tableIndex] ?? missing()) : loaded,
    );
  }

  /**
   * SpInitUserModeContext for a delivered context, loading the package's user-mode half into this
   * process first if this is its first mapped context here. Every handshake that completes maps a
   * context on each side: once the module is here, a package that answers synchronously costs no
   * promise of the host's own.
   */
  initContext(delivery: MappedContextDelivery): Awaitable<HostResult & { context?: UserModeContext }> {
    const pkg = this.loadedTable(delivery);
    return pkg instanceof Promise ? pkg.then((p) => this.initLoaded(delivery, p)) : this.initLoaded(delivery, pkg);
  }

  private initLoaded(delivery: MappedContextDelivery, pkg: LoadedUserPackage | HostResult): Awaitable<HostResult & { context?: UserModeContext }> {
    if (!('table' in pkg)) return pkg;
    this.counts.spInitUserModeContext++;
    const context: UserModeContext = { table: pkg.table, lsaContextHandle: delivery.lsaContextHandle, packageName: pkg.name };
    const outcome = callPackage(
      this.host,
      { package: pkg.name, entry: 'SpInitUserModeContext', detail: () => `ContextData ${delivery.contextData.byteLength} bytes` },
      () => pkg.table.InitUserModeContext(delivery.lsaContextHandle, delivery.contextData),
    );
    const finish = (settled: Outcome<unknown>): HostResult & { context?: UserModeContext } => {
      const result = statusResult(settled, pkg.name, 'SpInitUserModeContext');
      // A success carries no fault: no spread of the result needed.
      return isSuccess(result.status) ? { status: result.status, context } : result;
    };
    return outcome instanceof Promise ? outcome.then(finish) : finish(outcome);
  }

  /**
   * SpImportSecurityContext for a context another process exported, loading the package's
   * user-mode half into this process first if it is not here yet. The package answers the handle
   * its user-mode functions take for the new context.
   */
  async importContext(delivery: ImportedContextDelivery): Promise<HostResult & { context?: UserModeContext }> {
    const pkg = await this.loadedTable(delivery);
    if (!('table' in pkg)) return pkg;
    const entry = 'SpImportSecurityContext';
    const outcome = await callPackage(this.host, { package: pkg.name, entry, detail: () => `PackedContext ${delivery.packedContext.byteLength} bytes` }, () =>
      pkg.table.ImportContext(delivery.packedContext, null),
    );
    delivery.packedContext.fill(0);
    const result = statusResult(outcome, pkg.name, entry);
    if (!isSuccess(result.status) || !outcome.ok) return result;
    const handle = typeof outcome.value === 'object' ? outcome.value.ContextHandle : undefined;
    if (typeof handle !== 'number') return { status: SEC_E_INTERNAL_ERROR, fault: badResult({ package: pkg.name, entry }, 'success without a ContextHandle') };
    return { ...result, context: { table: pkg.table, lsaContextHandle: handle, packageName: pkg.name } };
  }

  /** ClientCallback arriving from the LSA: runs the function the package registered here. */
  async runCallback(
    packageId: PackageId,
    callbackId: number,
    argument1: number,
    argument2: number,
    input: SecBuffer,
  ): Promise<{ status: Status; output?: SecBuffer }> {
    const registered = this.callbacks.get(callbackKey(packageId, callbackId));
    if (registered === undefined) return { status: STATUS_INVALID_PARAMETER };
    const outcome = await callPackage(
      this.host,
      { package: registered.packageName, entry: 'LsaCallbackFunction', detail: () => `callback ${callbackId}` },
      () => registered.callback(argument1, argument2, input),
    );
    if (!outcome.ok) return { status: STATUS_INTERNAL_ERROR };
    const status = statusOf(outcome.value);
    if (status === undefined) return { status: STATUS_INTERNAL_ERROR };
    return outcome.value.OutputBuffer === undefined ? { status } : { status, output: outcome.value.OutputBuffer };
  }

  stats(): UserModeStats {
    return {
      spUserModeInitialize: { ...this.counts.spUserModeInitialize },
      spInstanceInit: { ...this.counts.spInstanceInit },
      spInitUserModeContext: this.counts.spInitUserModeContext,
      loaded: [...this.packages.values()].map((p) => p.name),
      callbacks: this.callbacks.size,
      heap: { ...this.heap },
    };
  }

  /** Imports the module and initializes its user-mode tables, once; concurrent first uses share the work. */
  private ensureModule(delivery: UserModeModule): Promise<HostResult> {
    let loading = this.modules.get(delivery.moduleUrl);
    if (loading === undefined) {
      loading = this.loadModule(delivery).then((result) => {
        if (isSuccess(result.status)) this.loaded.add(delivery.moduleUrl);
        return result;
      });
      this.modules.set(delivery.moduleUrl, loading);
    }
    return loading;
  }

  private async loadModule(delivery: UserModeModule): Promise<HostResult> {
    const url = delivery.moduleUrl;
    let module: Partial<SecurityPackageModule>;
    try {
      // A version past the first reads the package's own files again (hosting/module-versions.ts).
      ensureVersionHooks(url);
      module = (await import(url)) as Partial<SecurityPackageModule>;
    } catch (error) {
      // The module's own code may throw anything: described from what of it can be read (hosting/values.ts).
      const { cause } = describeThrown(error);
      return {
        status: SEC_E_INTERNAL_ERROR,
        fault: new PackageFault('PACKAGE_THREW', `${delivery.packageName}: cannot import ${url}: ${describeError(cause)}`, { cause }),
      };
    }
    const init = module.SpUserModeInitialize;
    if (typeof init !== 'function')
      return {
        status: SEC_E_INTERNAL_ERROR,
        fault: badResult({ package: delivery.packageName, entry: 'SpUserModeInitialize' }, `nothing: ${url} does not export it`),
      };

    this.counts.spUserModeInitialize[url] = (this.counts.spUserModeInitialize[url] ?? 0) + 1;
    const initialized = await callPackage(this.host, { package: delivery.packageName, entry: 'SpUserModeInitialize' }, () => init(SECPKG_INTERFACE_VERSION));
    if (!initialized.ok) return { status: SEC_E_INTERNAL_ERROR, fault: initialized.fault };
    const status = statusOf(initialized.value);
    const tables = (initialized.value as { ppTables?: unknown } | null)?.ppTables;
    if (status === undefined || !Array.isArray(tables))
      return { status: SEC_E_INTERNAL_ERROR, fault: badResult({ package: delivery.packageName, entry: 'SpUserModeInitialize' }, 'no tables') };
    if (!isSuccess(status)) return { status };

    const versionTables: LoadedUserPackage[] = [];
    for (const [index, table] of (tables as SecpkgUserFunctionTable[]).entries()) {
      const owner = delivery.modulePackages[index];
      if (owner === undefined) continue; // a table whose LSA-mode half did not load
      const missing = REQUIRED_USER_MEMBERS.filter((m) => typeof table?.[m] !== 'function');
      if (missing.length > 0)
        return {
          status: SEC_E_INTERNAL_ERROR,
          fault: badResult({ package: owner.name, entry: 'SpUserModeInitialize' }, `a table that lacks ${missing.join(', ')}`),
        };
      this.counts.spInstanceInit[owner.name] = (this.counts.spInstanceInit[owner.name] ?? 0) + 1;
      // A new version of a package loaded here before: the old version's callbacks are not the new one's.
      if (this.packages.has(owner.packageId)) this.dropCallbacks(owner.packageId);
      const instance = await callPackage(this.host, { package: owner.name, entry: 'SpInstanceInit' }, () =>
        table.InstanceInit(SECPKG_INTERFACE_VERSION, this.dllFunctions(owner)),
      );
      const result = statusResult(instance, owner.name, 'SpInstanceInit');
      if (!isSuccess(result.status)) return result;
      const loaded = { packageId: owner.packageId, name: owner.name, table };
      this.packages.set(owner.packageId, loaded);
      versionTables[index] = loaded;
    }
    this.byModule.set(url, versionTables);
    return { status: STATUS_SUCCESS };
  }

  private dropCallbacks(packageId: PackageId): void {
    for (const key of [...this.callbacks.keys()]) if (key.startsWith(`${packageId}:`)) this.callbacks.delete(key);
  }

  /** SECPKG_DLL_FUNCTIONS for one package: its callbacks are registered under its own id. */
  private dllFunctions(owner: { packageId: PackageId; name: string }): SecpkgDllFunctions {
    return {
      AllocateHeap: (Length) => {
        this.heap.allocations++;
        this.heap.bytes += Length;
        return new Uint8Array(Length);
      },
      FreeHeap: (Base) => {
        this.heap.allocations--;
        this.heap.bytes -= Base.byteLength;
        Base.fill(0);
      },
      RegisterCallback: (CallbackId, Callback) => {
        if (typeof Callback !== 'function' || !Number.isInteger(CallbackId)) return STATUS_INVALID_PARAMETER;
        this.callbacks.set(callbackKey(owner.packageId, CallbackId), { packageName: owner.name, callback: Callback });
        return STATUS_SUCCESS;
      },
      LocatePackageById: (PackageId) => this.packages.get(PackageId)?.table ?? null,
    };
  }
}

/** An entry point's outcome as a status: what it answered, or SEC_E_INTERNAL_ERROR with the fault. */
export function statusResult(outcome: Outcome<unknown>, packageName: string, entry: string): HostResult {
  if (!outcome.ok) return { status: SEC_E_INTERNAL_ERROR, fault: outcome.fault };
  const status = statusOf(outcome.value);
  return status === undefined ? { status: SEC_E_INTERNAL_ERROR, fault: badResult({ package: packageName, entry }, 'no status') } : { status: status >>> 0 };
}

function callbackKey(packageId: PackageId, callbackId: number): string {
  return `${packageId}:${callbackId}`;
}
