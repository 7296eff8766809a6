// One package calling another in the LSA (DESIGN.md, "One package calling another"). lsasrv's
// Negotiate drives the mechanism it selects with routines internal to lsasrv; here a package
// finds another with LookupPackage and gets its LSA-mode table from LocatePackageById (both
// sspi-emu's own members of the LSA function table). That table is not the package's object: each
// member goes through the LSA, which
//
// - calls the package with callPackage (traced as that package's entry point "for" the caller,
//   faults injected, its deadline, a throw or a malformed result contained as SEC_E_INTERNAL_ERROR),
//   as the current client call, so that GetClientInfo and CopyFromClientBuffer inside it reach
//   the same process as the caller's own call;
// - keeps the handles it creates as the caller's (NestedHandles): another package's handle values,
//   or the caller's own for the wrong package, are SEC_E_INVALID_HANDLE and reach nothing;
// - deletes the context a failed first call leaves behind, as dispatch does for processes;
// - passes MappedContext and ContextData back untouched: nothing is mapped until the caller's own
//   result names this context (SpContextResult.MappedPackage, lsa/dispatch.ts).
//
// Each nested handle also records the process its call ran for: the caller releases its nested
// handles when its own are released, and the LSA releases whatever a caller left behind when that
// process is reaped (releaseForProcess). And the version of the package that made it: a call with
// it reaches that version while it is loaded (or being unloaded), new handles come from the version
// loaded now, and when a version is unloaded its nested handles are closed through its own table
// (releaseVersion), the caller's later calls with them answering SEC_E_INVALID_HANDLE.

import {
  type Awaitable,
  findToken,
  type LSA_SEC_HANDLE,
  type PackageId,
  type SecBuffer,
  type SecpkgFunctionTable,
  type SecPkgInfo,
  type SpContextResult,
  type SpUnusedFn,
  SEC_E_INTERNAL_ERROR,
  SEC_E_INVALID_HANDLE,
  SEC_E_OK,
  SEC_E_SECPKG_NOT_FOUND,
  SEC_E_UNSUPPORTED_FUNCTION,
  STATUS_NO_SUCH_PACKAGE,
  STATUS_SUCCESS,
  isSuccess,
  type Status,
} from '../headers/index.js';
import { badResult, callPackage, statusOf, type Outcome, type PackageHost } from '../hosting/index.js';
import { HandleMap, type ProcessId } from '../ipc/index.js';
import { callGoesOn, currentClientCall, runAsClientCall } from './client-call.js';

export type NestedKind = 'credential' | 'context';

/** A handle one package holds of another's, made through LocatePackageById. */
export interface NestedHandle {
  readonly owner: PackageId;
  readonly packageId: PackageId;
  readonly kind: NestedKind;
  readonly handle: LSA_SEC_HANDLE;
  /** The version of the package that made it (LoadedPackage.version). */
  readonly version: number;
  /** The process whose call created it (undefined: no client call, such as a reap; or disowned). */
  pid: ProcessId | undefined;
}

/** The nested handles of the whole LSA. */
export class NestedHandles {
  /**
   * By package and kind (packageId * 2, + 1 for contexts), then by handle: numbers all the way, as
   * a Negotiate handshake looks its mechanism's handles up several times a leg (a string key made
   * per lookup was 3% of its time). Each entry keeps when it was added: listings come oldest first.
   */
  private readonly tables = new Map<number, HandleMap<{ entry: NestedHandle; order: number }>>();
  private added = 0;
  private readonly counts = { credentials: 0, contexts: 0 };

  private static table(packageId: PackageId, kind: NestedKind): number {
    return packageId * 2 + (kind === 'context' ? 1 : 0);
  }

  private find(packageId: PackageId, kind: NestedKind, handle: LSA_SEC_HANDLE): NestedHandle | undefined {
    return this.tables.get(NestedHandles.table(packageId, kind))?.get(handle)?.entry;
  }

  add(entry: NestedHandle): void {
    // A handle that is not a number a table can key (NaN) is not kept: calls with it reach nothing.
    if (typeof entry.handle !== 'number' || Number.isNaN(entry.handle)) return;
    const key = NestedHandles.table(entry.packageId, entry.kind);
    let table = this.tables.get(key);
    if (table === undefined) this.tables.set(key, (table = new HandleMap()));
    if (table.has(entry.handle)) return;
    table.set(entry.handle, { entry, order: this.added++ });
    this.counts[entry.kind === 'context' ? 'contexts' : 'credentials']++;
  }

  /** Whether `owner` holds this handle of `packageId`. */
  owns(owner: PackageId, packageId: PackageId, kind: NestedKind, handle: LSA_SEC_HANDLE): boolean {
    return this.find(packageId, kind, handle)?.owner === owner;
  }

  /** The handle `owner` holds of `packageId`, if it does. */
  get(owner: PackageId, packageId: PackageId, kind: NestedKind, handle: LSA_SEC_HANDLE): NestedHandle | undefined {
    const entry = this.find(packageId, kind, handle);
    return entry?.owner === owner ? entry : undefined;
  }

  /** Every entry that `keep` keeps, contexts first, each kind oldest first. */
  private select(keep: (entry: NestedHandle) => boolean): NestedHandle[] {
    const found: Array<{ entry: NestedHandle; order: number }> = [];
    for (const table of this.tables.values()) for (const [, held] of table) if (keep(held.entry)) found.push(held);
    found.sort((a, b) => a.order - b.order);
    const entries = found.map((held) => held.entry);
    return [...entries.filter((e) => e.kind === 'context'), ...entries.filter((e) => e.kind === 'credential')];
  }

  /** Every nested handle of one version of a package, contexts first. */
  ofVersion(packageId: PackageId, version: number): NestedHandle[] {
    return this.select((e) => e.packageId === packageId && e.version === version);
  }

  /** Removes a handle `owner` holds (the LSA itself, when it reaps, passes null); false when it holds no such handle. */
  remove(owner: PackageId | null, packageId: PackageId, kind: NestedKind, handle: LSA_SEC_HANDLE): boolean {
    const table = this.tables.get(NestedHandles.table(packageId, kind));
    const entry = table?.get(handle)?.entry;
    if (table === undefined || entry === undefined || (owner !== null && entry.owner !== owner)) return false;
    table.delete(handle);
    this.counts[kind === 'context' ? 'contexts' : 'credentials']--;
    return true;
  }

  /** Every nested handle a call of `pid` made and its owner has not released, contexts first. */
  ofProcess(pid: ProcessId): NestedHandle[] {
    return this.select((e) => e.pid === pid);
  }

  /**
   * The handles `pid`'s calls made no longer go with that process: it exported a context, which may
   * live on in another process, and the handles its package holds for it may be among these. They
   * go with their owners' contexts alone (the safety net no longer covers that process's leaks).
   */
  disownProcess(pid: ProcessId): number {
    let disowned = 0;
    for (const table of this.tables.values())
      for (const [, { entry }] of table)
        if (entry.pid === pid) {
          entry.pid = undefined;
          disowned++;
        }
    return disowned;
  }

  count(): { credentials: number; contexts: number } {
    return { ...this.counts };
  }
}

/** A loaded package as the locator needs it. */
export interface LocatablePackage {
  readonly id: PackageId;
  /** Which load of its module (1 at boot, then one more per reload). */
  readonly version: number;
  readonly name: string;
  readonly info: SecPkgInfo;
  readonly table: SecpkgFunctionTable;
  readonly awaitingEntries: Set<string>;
}

export interface PackageDirectory {
  byName(name: string): LocatablePackage | undefined;
  /** The version loaded now. */
  byId(id: number): LocatablePackage | undefined;
  /** That version of the package, while it is loaded or being unloaded. */
  version(id: number, version: number): LocatablePackage | undefined;
}

/** What the locator needs from the LSA. */
export interface LocatorServices {
  readonly packages: PackageDirectory;
  readonly host: PackageHost;
  readonly nested: NestedHandles;
}

/** LookupPackage for any caller. */
export function lookupPackage(services: LocatorServices, name: unknown): { status: Status; PackageId?: PackageId; PackageInfo?: SecPkgInfo } {
  const pkg = typeof name === 'string' && name.length <= 256 ? services.packages.byName(name) : undefined;
  return pkg === undefined ? { status: STATUS_NO_SUCH_PACKAGE } : { status: STATUS_SUCCESS, PackageId: pkg.id, PackageInfo: { ...pkg.info } };
}

const unsupported: SpUnusedFn = () => SEC_E_UNSUPPORTED_FUNCTION;

type Result<T> = T | { status: Status };

/**
 * The table `owner` gets from LocatePackageById(target): target's SSPI members, each reached
 * through the LSA as the header above says. null for an unknown id or the owner itself.
 */
export function locatedTable(services: LocatorServices, owner: { id: PackageId; name: string }, targetId: unknown): SecpkgFunctionTable | null {
  const found = typeof targetId === 'number' ? services.packages.byId(targetId) : undefined;
  if (found === undefined || found.id === owner.id) return null;
  const id = found.id;
  const { nested, host } = services;
  /** The version loaded now: where new handles come from. */
  const current = (): LocatablePackage | undefined => services.packages.byId(id);
  /**
   * The version that made a handle the owner holds (null: no handle given); undefined when the
   * owner holds no such handle or that version is gone.
   */
  const maker = (kind: NestedKind, handle: LSA_SEC_HANDLE | null): LocatablePackage | null | undefined => {
    if (handle === null) return null;
    const entry = nested.get(owner.id, id, kind, handle);
    return entry === undefined ? undefined : services.packages.version(id, entry.version);
  };
  /** The version a context call reaches: its handles' (which must agree), or the one loaded now. */
  const contextTarget = (credHandle: LSA_SEC_HANDLE | null, ctxHandle: LSA_SEC_HANDLE | null): LocatablePackage | undefined => {
    if (credHandle === null && ctxHandle === null) return undefined;
    const cred = maker('credential', credHandle);
    const ctx = maker('context', ctxHandle);
    if (cred === undefined || ctx === undefined || (cred !== null && ctx !== null && cred !== ctx)) return undefined;
    return ctx ?? cred ?? undefined;
  };

  /** One entry point of a version of the target, for the owner, as the current client call. */
  function call<T>(target: LocatablePackage, entry: string, run: () => Awaitable<T>, detail?: () => string): Outcome<T> | Promise<Outcome<T>> {
    const client = currentClientCall();
    const awaits = target.awaitingEntries.has(entry);
    const outcome = callPackage(
      host,
      {
        package: target.name,
        entry,
        ...(client === undefined ? {} : { peer: client.process.name }),
        detail: () => (detail === undefined ? `for ${owner.name}` : `for ${owner.name}, ${detail()}`),
      },
      () => (client === undefined ? run() : runAsClientCall(client, run, awaits, () => target.awaitingEntries.add(entry))),
    );
    // The owner awaits this answer: it must resume as the call it runs for.
    if (outcome instanceof Promise) callGoesOn();
    return outcome;
  }

  /** An outcome whose value must be an object with a status: the value, or SEC_E_INTERNAL_ERROR. */
  function checked<T extends { status: Status }>(target: LocatablePackage, entry: string, outcome: Outcome<unknown>): Result<T> {
    if (!outcome.ok) return { status: SEC_E_INTERNAL_ERROR };
    if (statusOf(outcome.value) === undefined || typeof outcome.value !== 'object') {
      host.point('NestedCallRefused', 'call', { detail: badResult({ package: target.name, entry }, 'a malformed result').message });
      return { status: SEC_E_INTERNAL_ERROR };
    }
    return outcome.value as T;
  }

  function settle<T, R>(outcome: Outcome<T> | Promise<Outcome<T>>, then: (o: Outcome<T>) => R | Promise<R>): R | Promise<R> {
    return outcome instanceof Promise ? outcome.then(then) : then(outcome);
  }

  function bareStatus(outcome: Outcome<unknown>): Status {
    if (!outcome.ok) return SEC_E_INTERNAL_ERROR;
    const status = statusOf(outcome.value);
    return status === undefined ? SEC_E_INTERNAL_ERROR : status >>> 0;
  }

  const pid = (): ProcessId | undefined => currentClientCall()?.process.pid;

  /** A context call's result: a new context is the owner's; the one a failed first call left is deleted. */
  function contextResult(
    target: LocatablePackage,
    entry: string,
    first: boolean,
    outcome: Outcome<SpContextResult>,
  ): SpContextResult | Promise<SpContextResult> {
    const result = checked<SpContextResult>(target, entry, outcome);
    const status = result.status >>> 0;
    const made = (result as SpContextResult).NewContextHandle;
    if (!first || typeof made !== 'number') return result;
    if (isSuccess(status)) {
      nested.add({ owner: owner.id, packageId: id, kind: 'context', handle: made, version: target.version, pid: pid() });
      return result;
    }
    return settle(
      call(target, 'SpDeleteContext', () => target.table.DeleteContext(made)),
      () => result,
    );
  }

  /** Frees or deletes a handle the owner holds, through the version that made it (SEC_E_OK when that version is gone: unloading closed it). */
  function release(kind: NestedKind, handle: LSA_SEC_HANDLE): Status | Promise<Status> {
    const entry = nested.get(owner.id, id, kind, handle);
    if (entry === undefined) return SEC_E_INVALID_HANDLE;
    const target = services.packages.version(id, entry.version);
    nested.remove(owner.id, id, kind, handle);
    if (target === undefined) return SEC_E_OK;
    return kind === 'context'
      ? settle(
          call(target, 'SpDeleteContext', () => target.table.DeleteContext(handle)),
          bareStatus,
        )
      : settle(
          call(target, 'SpFreeCredentialsHandle', () => target.table.FreeCredentialsHandle(handle)),
          bareStatus,
        );
  }

  const table: SecpkgFunctionTable = {
    InitializePackage: unsupported,
    LogonUser: unsupported,
    CallPackage: () => ({ status: SEC_E_UNSUPPORTED_FUNCTION }),
    LogonTerminated: () => undefined,
    CallPackageUntrusted: () => ({ status: SEC_E_UNSUPPORTED_FUNCTION }),
    CallPackagePassthrough: () => ({ status: SEC_E_UNSUPPORTED_FUNCTION }),
    LogonUserEx: unsupported,
    LogonUserEx2: unsupported,
    Initialize: () => SEC_E_UNSUPPORTED_FUNCTION,
    Shutdown: () => SEC_E_UNSUPPORTED_FUNCTION,
    GetInfo: () => {
      const target = current();
      return target === undefined ? { status: STATUS_NO_SUCH_PACKAGE } : { status: STATUS_SUCCESS, PackageInfo: { ...target.info } };
    },
    AcceptCredentials: () => SEC_E_UNSUPPORTED_FUNCTION,
    AcquireCredentialsHandle: (principal, use, logonId, authData, getKey, getKeyArgument) => {
      const target = current();
      if (target === undefined) return { status: SEC_E_SECPKG_NOT_FOUND };
      return settle(
        call(target, 'SpAcquireCredentialsHandle', () => target.table.AcquireCredentialsHandle(principal, use, logonId, authData, getKey, getKeyArgument)),
        (outcome) => {
          const result = checked<{ status: Status; CredentialHandle?: LSA_SEC_HANDLE; ExpirationTime?: bigint }>(target, 'SpAcquireCredentialsHandle', outcome);
          const made = 'CredentialHandle' in result ? result.CredentialHandle : undefined;
          if (isSuccess(result.status) && typeof made === 'number')
            nested.add({ owner: owner.id, packageId: id, kind: 'credential', handle: made, version: target.version, pid: pid() });
          return result;
        },
      );
    },
    QueryCredentialsAttributes: (handle, attribute) => {
      const target = maker('credential', handle);
      if (target == null) return { status: SEC_E_INVALID_HANDLE };
      return settle(
        call(target, 'SpQueryCredentialsAttributes', () => target.table.QueryCredentialsAttributes(handle, attribute)),
        (o) => checked(target, 'SpQueryCredentialsAttributes', o),
      );
    },
    FreeCredentialsHandle: (handle) => release('credential', handle),
    SaveCredentials: unsupported,
    GetCredentials: unsupported,
    DeleteCredentials: unsupported,
    InitLsaModeContext: (credHandle, ctxHandle, targetName, requirements, drep, input, output) => {
      const target = contextTarget(credHandle, ctxHandle);
      if (target === undefined) return { status: SEC_E_INVALID_HANDLE };
      return settle(
        call(
          target,
          'SpInitLsaModeContext',
          () => target.table.InitLsaModeContext(credHandle, ctxHandle, targetName, requirements, drep, input, output),
          () => `token in ${tokenLength(input)} bytes`,
        ),
        (o) => contextResult(target, 'SpInitLsaModeContext', ctxHandle === null, o),
      );
    },
    AcceptLsaModeContext: (credHandle, ctxHandle, input, requirements, drep, output) => {
      const target = contextTarget(credHandle, ctxHandle);
      if (target === undefined) return { status: SEC_E_INVALID_HANDLE };
      return settle(
        call(
          target,
          'SpAcceptLsaModeContext',
          () => target.table.AcceptLsaModeContext(credHandle, ctxHandle, input, requirements, drep, output),
          () => `token in ${tokenLength(input)} bytes`,
        ),
        (o) => contextResult(target, 'SpAcceptLsaModeContext', ctxHandle === null, o),
      );
    },
    DeleteContext: (handle) => release('context', handle),
    ApplyControlToken: (handle, token) => {
      const target = maker('context', handle);
      if (target == null) return SEC_E_INVALID_HANDLE;
      return settle(
        call(target, 'SpApplyControlToken', () => target.table.ApplyControlToken(handle, token)),
        bareStatus,
      );
    },
    GetUserInfo: unsupported,
    GetExtendedInformation: () => ({ status: SEC_E_UNSUPPORTED_FUNCTION }),
    QueryContextAttributes: (handle, attribute) => {
      const target = maker('context', handle);
      if (target == null) return { status: SEC_E_INVALID_HANDLE };
      return settle(
        call(target, 'SpQueryContextAttributes', () => target.table.QueryContextAttributes(handle, attribute)),
        (o) => checked(target, 'SpQueryContextAttributes', o),
      );
    },
    AddCredentials: unsupported,
    SetExtendedInformation: unsupported,
    SetContextAttributes: unsupported,
    SetCredentialsAttributes: unsupported,
    ChangeAccountPassword: unsupported,
    QueryMetaData: unsupported,
    ExchangeMetaData: unsupported,
    GetCredUIContext: unsupported,
    UpdateCredentials: unsupported,
    ValidateTargetInfo: unsupported,
    PostLogonUser: unsupported,
    GetRemoteCredGuardLogonBuffer: unsupported,
    GetRemoteCredGuardSupplementalCreds: unsupported,
    GetTbalSupplementalCreds: unsupported,
    LogonUserEx3: unsupported,
    PreLogonUserSurrogate: unsupported,
    PostLogonUserSurrogate: unsupported,
    ExtractTargetInfo: unsupported,
  };
  return table;
}

/**
 * Releases what `pid`'s calls made through located tables and their owners did not release:
 * each context with the package's SpDeleteContext, then each credential with its
 * SpFreeCredentialsHandle. Returns how many it released.
 */
export async function releaseForProcess(services: LocatorServices, pid: ProcessId, peer: string): Promise<number> {
  let released = 0;
  for (const entry of services.nested.ofProcess(pid)) {
    const pkg = services.packages.version(entry.packageId, entry.version);
    if (!services.nested.remove(null, entry.packageId, entry.kind, entry.handle) || pkg === undefined) continue;
    released++;
    if (entry.kind === 'context')
      await callPackage(services.host, { package: pkg.name, entry: 'SpDeleteContext', peer }, () => pkg.table.DeleteContext(entry.handle));
    else await callPackage(services.host, { package: pkg.name, entry: 'SpFreeCredentialsHandle', peer }, () => pkg.table.FreeCredentialsHandle(entry.handle));
  }
  return released;
}

/**
 * Closes the nested handles one version of a package made, through that version's table, as it is
 * unloaded: contexts with SpDeleteContext, then credentials with SpFreeCredentialsHandle. Their
 * owners' later calls with them answer SEC_E_INVALID_HANDLE (a free or a delete, SEC_E_OK). Returns
 * how many it closed.
 */
export async function releaseVersion(services: LocatorServices, pkg: LocatablePackage): Promise<number> {
  let released = 0;
  for (const entry of services.nested.ofVersion(pkg.id, pkg.version)) {
    if (!services.nested.remove(null, entry.packageId, entry.kind, entry.handle)) continue;
    released++;
    const detail = (): string => `unloading v${pkg.version}, held by package ${entry.owner}`;
    if (entry.kind === 'context')
      await callPackage(services.host, { package: pkg.name, entry: 'SpDeleteContext', detail }, () => pkg.table.DeleteContext(entry.handle));
    else await callPackage(services.host, { package: pkg.name, entry: 'SpFreeCredentialsHandle', detail }, () => pkg.table.FreeCredentialsHandle(entry.handle));
  }
  return released;
}

function tokenLength(buffers: SecBuffer[] | null): number {
  return (buffers === null ? undefined : findToken(buffers))?.pvBuffer.byteLength ?? 0;
}
