// The user-mode package host (reference section 9.3). The first time a mapped context of a package
// arrives in this process, the host imports the package's module here, calls SpUserModeInitialize
// (the user-mode tables are delivered into this process), then SpInstanceInit(Version,
// dllFunctions) for each table, once per package per process. Each context then gets
// SpInitUserModeContext(ContextHandle, ContextData).
//
// dllFunctions (SECPKG_DLL_FUNCTIONS) is live: AllocateHeap/FreeHeap account for memory handed
// back to the LSA, RegisterCallback makes a function reachable from the package's LSA-mode half
// through ClientCallback (the LSA sends an LPC call into this process), and LocatePackageById
// finds another loaded package's user table.

import {
  SECPKG_INTERFACE_VERSION,
  type LsaCallbackFunction,
  type PackageId,
  type SecpkgDllFunctions,
  type SecpkgUserFunctionTable,
  type SecurityPackageModule,
} from '../headers/ntsecpkg.js';
import { SECBUFFER, type SecBuffer } from '../headers/sspi.js';
import { STATUS_INVALID_PARAMETER, STATUS_SUCCESS, SEC_E_INTERNAL_ERROR, isSuccess, statusName, type Status } from '../headers/status.js';
import { describeError } from '../ipc/errors.js';
import type { MappedContextDelivery } from '../ipc/lpc.js';
import type { Tracer } from '../ipc/trace.js';
import type { UserModeContext } from './handles.js';

/** The user-mode functions a table must have for the host to use it. */
const REQUIRED_USER_MEMBERS = ['InstanceInit', 'InitUserModeContext', 'DeleteUserModeContext'] as const;

interface LoadedUserPackage {
  readonly packageId: PackageId;
  readonly name: string;
  readonly table: SecpkgUserFunctionTable;
}

export interface UserModeStats {
  /** SpUserModeInitialize calls, by module URL. */
  spUserModeInitialize: Record<string, number>;
  /** SpInstanceInit calls, by package name. */
  spInstanceInit: Record<string, number>;
  spInitUserModeContext: number;
  /** Packages whose user-mode half is loaded here. */
  loaded: string[];
  callbacks: number;
  heap: { allocations: number; bytes: number };
}

export class UserModeHost {
  private readonly modules = new Map<string, Promise<{ status: Status; cause?: string }>>();
  private readonly packages = new Map<PackageId, LoadedUserPackage>();
  private readonly callbacks = new Map<string, LsaCallbackFunction>();
  private readonly counts = { spUserModeInitialize: {} as Record<string, number>, spInstanceInit: {} as Record<string, number>, spInitUserModeContext: 0 };
  private readonly heap = { allocations: 0, bytes: 0 };

  constructor(private readonly tracer: Tracer) {}

  /**
   * SpInitUserModeContext for a delivered context, loading the package's user-mode half into this
   * process first if this is its first mapped context here.
   */
  async initContext(delivery: MappedContextDelivery): Promise<{ status: Status; context?: UserModeContext; cause?: string }> {
    const loaded = await this.ensureModule(delivery);
    if (!isSuccess(loaded.status)) return loaded;
    const pkg = this.packages.get(delivery.packageId);
    if (pkg === undefined)
      return { status: SEC_E_INTERNAL_ERROR, cause: `the module of ${delivery.packageName} has no user-mode table ${delivery.tableIndex}` };
    this.counts.spInitUserModeContext++;
    this.tracer.emit('SpInitUserModeContext', 'call', { detail: `${pkg.name}, ContextData ${delivery.contextData.byteLength} bytes` });
    let status: Status;
    try {
      status = await pkg.table.InitUserModeContext(delivery.lsaContextHandle, delivery.contextData);
    } catch (error) {
      this.tracer.emit('SpInitUserModeContext', 'return', { status: 'SEC_E_INTERNAL_ERROR', detail: describeError(error) });
      return { status: SEC_E_INTERNAL_ERROR, cause: `${pkg.name}: SpInitUserModeContext threw: ${describeError(error)}` };
    }
    this.tracer.emit('SpInitUserModeContext', 'return', { status: statusName(status) });
    if (!isSuccess(status)) return { status };
    return { status, context: { table: pkg.table, lsaContextHandle: delivery.lsaContextHandle } };
  }

  /** ClientCallback arriving from the LSA: runs the function the package registered here. */
  async runCallback(
    packageId: PackageId,
    callbackId: number,
    argument1: number,
    argument2: number,
    input: SecBuffer,
  ): Promise<{ status: Status; output?: SecBuffer }> {
    const callback = this.callbacks.get(callbackKey(packageId, callbackId));
    if (callback === undefined) return { status: STATUS_INVALID_PARAMETER };
    this.tracer.emit('LsaCallbackFunction', 'call', { detail: `${this.packages.get(packageId)?.name ?? packageId} callback ${callbackId}` });
    const result = await callback(argument1, argument2, input);
    this.tracer.emit('LsaCallbackFunction', 'return', { status: statusName(result.status) });
    return result.OutputBuffer === undefined ? { status: result.status } : { status: result.status, output: result.OutputBuffer };
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
  private ensureModule(delivery: MappedContextDelivery): Promise<{ status: Status; cause?: string }> {
    let loading = this.modules.get(delivery.moduleUrl);
    if (loading === undefined) {
      loading = this.loadModule(delivery);
      this.modules.set(delivery.moduleUrl, loading);
    }
    return loading;
  }

  private async loadModule(delivery: MappedContextDelivery): Promise<{ status: Status; cause?: string }> {
    const url = delivery.moduleUrl;
    let module: Partial<SecurityPackageModule>;
    try {
      module = (await import(url)) as Partial<SecurityPackageModule>;
    } catch (error) {
      return { status: SEC_E_INTERNAL_ERROR, cause: `cannot import ${url}: ${describeError(error)}` };
    }
    const init = module.SpUserModeInitialize;
    if (typeof init !== 'function') return { status: SEC_E_INTERNAL_ERROR, cause: `${url} does not export SpUserModeInitialize` };

    this.counts.spUserModeInitialize[url] = (this.counts.spUserModeInitialize[url] ?? 0) + 1;
    this.tracer.emit('SpUserModeInitialize', 'call', { detail: delivery.packageName });
    let result: Awaited<ReturnType<typeof init>>;
    try {
      result = await init(SECPKG_INTERFACE_VERSION);
    } catch (error) {
      this.tracer.emit('SpUserModeInitialize', 'return', { status: 'SEC_E_INTERNAL_ERROR', detail: describeError(error) });
      return { status: SEC_E_INTERNAL_ERROR, cause: `SpUserModeInitialize threw: ${describeError(error)}` };
    }
    this.tracer.emit('SpUserModeInitialize', 'return', { status: statusName(result.status), detail: `${result.ppTables?.length ?? 0} tables` });
    if (!isSuccess(result.status) || !Array.isArray(result.ppTables)) return { status: isSuccess(result.status) ? SEC_E_INTERNAL_ERROR : result.status };

    for (const [index, table] of result.ppTables.entries()) {
      const owner = delivery.modulePackages[index];
      if (owner === undefined) continue; // a table whose LSA-mode half did not load
      const missing = REQUIRED_USER_MEMBERS.filter((m) => typeof table?.[m] !== 'function');
      if (missing.length > 0) return { status: SEC_E_INTERNAL_ERROR, cause: `${owner.name}: user table lacks ${missing.join(', ')}` };
      this.counts.spInstanceInit[owner.name] = (this.counts.spInstanceInit[owner.name] ?? 0) + 1;
      this.tracer.emit('SpInstanceInit', 'call', { detail: owner.name });
      let status: Status;
      try {
        status = await table.InstanceInit(SECPKG_INTERFACE_VERSION, this.dllFunctions(owner.packageId));
      } catch (error) {
        status = SEC_E_INTERNAL_ERROR;
        this.tracer.emit('SpInstanceInit', 'return', { status: statusName(status), detail: describeError(error) });
        return { status, cause: `${owner.name}: SpInstanceInit threw: ${describeError(error)}` };
      }
      this.tracer.emit('SpInstanceInit', 'return', { status: statusName(status) });
      if (!isSuccess(status)) return { status };
      this.packages.set(owner.packageId, { packageId: owner.packageId, name: owner.name, table });
    }
    return { status: STATUS_SUCCESS };
  }

  /** SECPKG_DLL_FUNCTIONS for one package: its callbacks are registered under its own id. */
  private dllFunctions(packageId: PackageId): SecpkgDllFunctions {
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
        this.callbacks.set(callbackKey(packageId, CallbackId), Callback);
        return STATUS_SUCCESS;
      },
      LocatePackageById: (PackageId) => this.packages.get(PackageId)?.table ?? null,
    };
  }
}

function callbackKey(packageId: PackageId, callbackId: number): string {
  return `${packageId}:${callbackId}`;
}

/** An empty buffer for a callback that returns nothing. */
export function emptySecBuffer(): SecBuffer {
  return { BufferType: SECBUFFER.EMPTY, pvBuffer: new Uint8Array(0) };
}
