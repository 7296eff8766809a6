// Dispatch of LPC calls to the packages' LSA-mode tables (reference section 8.1). Every body
// arrives as `unknown` and goes through its op's decoder (ipc/lpc.ts) before anything is looked
// up for it; handles are looked up in the calling process's own table; each package call goes
// through callPackage (traced, faults injected, deadline, contained); the package's status goes
// back unchanged. MappedContext is intercepted: it never reaches the application; the
// ContextData goes to the calling process's SSPI library as a MappedContextDelivery.

import { performance } from 'node:perf_hooks';
import { types } from 'node:util';
import {
  type LSA_SEC_HANDLE,
  type SpContextResult,
  SECPKG_CONTEXT_EXPORT,
  SECPKG_CRED,
  findToken,
  type SecBuffer,
  type SecpkgFunctionTable,
  SEC_E_CONTEXT_EXPIRED,
  SEC_E_INSUFFICIENT_MEMORY,
  SEC_E_INTERNAL_ERROR,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_PARAMETER,
  SEC_E_INVALID_TOKEN,
  SEC_E_NOT_OWNER,
  SEC_E_OK,
  SEC_E_SECPKG_NOT_FOUND,
  SEC_E_UNSUPPORTED_FUNCTION,
  MSV1_0_PACKAGE_NAME,
  STATUS_INTERNAL_ERROR,
  STATUS_NO_SUCH_PACKAGE,
  STATUS_SUCCESS,
  type LsaApCallPackageResult,
  flagNames,
  isSuccess,
  packImportedContext,
  statusName,
  type Status,
  type Awaitable,
} from '../headers/index.js';
import { badResult, callPackage, statusOf, valueKind, type CallPoints, type Outcome, type PackageHost } from '../hosting/index.js';
import {
  SspiEmuError,
  serializeError,
  type LsaHandle,
  decodeLpcRequest,
  isRefusal,
  requestBytes,
  detachRequestBytes,
  asProcessId,
  MAX_PROTOCOL_BUFFER,
  type ContextReply,
  type ImportedContextDelivery,
  type LpcOp,
  type LpcReplyBase,
  type MappedContextDelivery,
  type ProcessToLsaOps,
  type Handlers,
} from '../ipc/index.js';
import { runAsClientCall, type ClientCall, type LsaClientProcess } from './client-call.js';
import type { CallEpochs } from './call-epochs.js';
import type { ProcessQuota } from './config.js';
import { MAX_EXPORTS_PER_PROCESS, type ContextExports } from './context-exports.js';
import { releaseContext, shareContext, type HandleEntry, type HandleTables, type MappedModule } from './handle-table.js';
import type { HeldInputs } from './held-inputs.js';
import type { LoadedPackage } from './package-loader.js';
import type { NestedHandles } from './package-locator.js';
import { Refused, type CallScheduler } from './scheduler.js';

/** What the dispatcher needs from the LSA. */
export interface DispatchContext {
  readonly handles: HandleTables;
  readonly points: CallPoints;
  /** How package calls are made (traced, faulted, timed): the LSA's PackageHost. */
  readonly host: PackageHost;
  packageByName(name: string): LoadedPackage | undefined;
  packageById(id: number): LoadedPackage | undefined;
  /** The package a handle entry names, if the version that made it is the one loaded now (a reload closes the old one's). */
  packageOf(entry: Pick<HandleEntry, 'packageId' | 'packageVersion'>): LoadedPackage | undefined;
  /** The version a handle entry names while that version is being unloaded: a free or a delete still reaches it. */
  leavingPackageOf(entry: Pick<HandleEntry, 'packageId' | 'packageVersion'>): LoadedPackage | undefined;
  allPackages(): readonly LoadedPackage[];
  /** Why no package of this name is loaded: the cause of SEC_E_SECPKG_NOT_FOUND (the loaded names, the modules that failed to load). */
  packageNotFound(name: string): Error;
  /** Where every input buffer handed to a package is copied (and, when large, watched). */
  readonly inputs: HeldInputs;
  /** Whose call runs when (lsa/scheduler.ts). */
  readonly scheduler: CallScheduler;
  readonly quota: ProcessQuota;
  /** Where the time of every call goes, added up (lsa.stats().calls; the bench's per-hop rows). */
  readonly timing: CallTiming;
  /** Handles one package holds of another: a MappedPackage must be one of them. */
  readonly nested: NestedHandles;
  /** Contexts exported and not yet imported (lsa/context-exports.ts). */
  readonly exports: ContextExports;
  /** Whether a process of that id is attached now (a named importer must be). */
  processAttached(pid: number): boolean;
  /** The calls running, by epoch: an unload waits for the ones that began before it (lsa/call-epochs.ts). */
  readonly epochs: CallEpochs;
}

/** The SECPKG_CONTEXT_EXPORT_* bits ExportSecurityContext knows. */
const EXPORT_FLAGS = SECPKG_CONTEXT_EXPORT.RESET_NEW | SECPKG_CONTEXT_EXPORT.DELETE_OLD | SECPKG_CONTEXT_EXPORT.TO_KERNEL;

/**
 * Milliseconds all calls spent in each stage inside the LSA, added up: decoding the body, waiting
 * for the scheduler, in package entry points, and the whole of it (arrival to reply).
 */
export interface CallTiming {
  calls: number;
  decodeMs: number;
  queuedMs: number;
  packageMs: number;
  handledMs: number;
}

export function newCallTiming(): CallTiming {
  return { calls: 0, decodeMs: 0, queuedMs: 0, packageMs: 0, handledMs: 0 };
}

let nextCallId = 1;

/**
 * The pvBuffer of every output buffer a package is handed: empty, as the caller's, which the package
 * replaces with what it writes (ISC_REQ_ALLOCATE_MEMORY's way). One frozen array for all of them:
 * an empty array has nothing to write into, and a typed array per buffer per call was a tenth of
 * what a handshake allocated in the LSA.
 */
const NO_OUTPUT: Uint8Array = Object.freeze(new Uint8Array(0));

/** The LPC handlers for one process: every call runs as that process's client call. */
export function createDispatch(ctx: DispatchContext, process: LsaClientProcess): Handlers<ProcessToLsaOps> {
  const { handles, points } = ctx;
  const pid = process.pid;

  /**
   * One op of this process: its body decoded (a malformed one is refused with the decoder's
   * status), then run when the scheduler gives it its turn, as this process's client call (which
   * the package entries it makes run as). A call the scheduler refuses (the process's queue is
   * full) is SEC_E_INSUFFICIENT_MEMORY.
   */
  function serve<K extends LpcOp>(
    op: K,
    failure: (status: Status, cause?: Error) => ProcessToLsaOps[K]['reply'],
    run: (request: ProcessToLsaOps[K]['request'], client: ClientCall) => Awaitable<ProcessToLsaOps[K]['reply']>,
  ): (body: unknown) => Awaitable<ProcessToLsaOps[K]['reply']> {
    const decode = decodeLpcRequest[op] as (body: unknown) => ProcessToLsaOps[K]['request'] | Status;
    const timing = ctx.timing;
    return (body) => {
      process.callCount++;
      const arrived = performance.now();
      const request = decode(body);
      const decoded = performance.now();
      timing.calls++;
      timing.decodeMs += decoded - arrived;
      if (isRefusal(request)) return failure(request);
      // From its lookups to the handles it makes: a package version unloaded meanwhile waits for it.
      const epoch = ctx.epochs.enter();
      let result: ProcessToLsaOps[K]['reply'] | Promise<ProcessToLsaOps[K]['reply'] | Refused>;
      try {
        result = ctx.scheduler.run(
          process.queue,
          () => {
            timing.queuedMs += performance.now() - decoded;
            return run(request, { process, callId: nextCallId++, op });
          },
          requestBytes(request),
          () => detachRequestBytes(request),
        );
      } catch (error) {
        ctx.epochs.leave(epoch);
        throw error;
      }
      if (result instanceof Promise) return result.then((settled) => answered(op, failure, settled, arrived)).finally(() => ctx.epochs.leave(epoch));
      try {
        return answered(op, failure, result, arrived);
      } finally {
        ctx.epochs.leave(epoch);
      }
    };
  }

  /** A call's reply once it ran (or was refused a turn), its time in the LSA added up. */
  function answered<R>(op: LpcOp, failure: (status: Status, cause?: Error) => R, settled: R | Refused, arrived: number): R {
    ctx.timing.handledMs += performance.now() - arrived;
    return settled instanceof Refused ? failure(SEC_E_INSUFFICIENT_MEMORY, new SspiEmuError('QUOTA_EXCEEDED', `${op}: ${settled.why}`)) : settled;
  }

  /** The reply of an op whose reply is a status and nothing else. */
  const statusReply = (status: Status, cause?: Error): LpcReplyBase => (cause === undefined ? { status } : { status, cause: serializeError(cause) });

  const contextFailure = (status: Status, cause?: Error): ContextReply => ({
    ...statusReply(status, cause),
    output: [],
    contextAttr: 0,
    expiry: 0n,
  });

  /** Whether this process may hold one more handle of `kind`; the quota error if not. Its exports waiting count as contexts. */
  function overQuota(kind: 'credential' | 'context'): Error | undefined {
    const held = handles.count(pid);
    const [count, limit] = kind === 'credential' ? [held.credentials, ctx.quota.credentials] : [held.contexts + ctx.exports.count(pid), ctx.quota.contexts];
    return count < limit ? undefined : new SspiEmuError('QUOTA_EXCEEDED', `${process.name} holds ${count} ${kind}s, the most one process may (processQuota)`);
  }

  /** One package entry point for this process, run as its client call. */
  function call<T>(client: ClientCall, pkg: LoadedPackage, entry: string, run: () => T | Promise<T>, detail?: () => string): Outcome<T> | Promise<Outcome<T>> {
    const awaits = pkg.awaitingEntries.has(entry);
    const started = performance.now();
    const outcome = callPackage(
      ctx.host,
      detail === undefined ? { package: pkg.name, entry, peer: process.name } : { package: pkg.name, entry, peer: process.name, detail },
      () => runAsClientCall(client, run, awaits, () => pkg.awaitingEntries.add(entry)),
    );
    if (!(outcome instanceof Promise)) {
      ctx.timing.packageMs += performance.now() - started;
      return outcome;
    }
    return outcome.then((settled) => {
      ctx.timing.packageMs += performance.now() - started;
      return settled;
    });
  }

  /** An entry point that answers a bare status: the status, or SEC_E_INTERNAL_ERROR with the fault. */
  function statusCall(client: ClientCall, pkg: LoadedPackage, entry: string, run: () => Status | Promise<Status>): Awaitable<LpcReplyBase> {
    return whenReady(call(client, pkg, entry, run), (outcome) => {
      if (!outcome.ok) return statusReply(SEC_E_INTERNAL_ERROR, outcome.fault);
      const status = statusOf(outcome.value);
      return status === undefined ? statusReply(SEC_E_INTERNAL_ERROR, badResult({ package: pkg.name, entry }, 'no status')) : { status: status >>> 0 };
    });
  }

  /** The calling process's own handle of this kind, with its package; undefined for anything else. */
  function owned(handle: LsaHandle, kind: 'credential' | 'context', leaving = false): { entry: HandleEntry; pkg: LoadedPackage } | undefined {
    const entry = handles.lookup(pid, handle, kind);
    const pkg = entry === undefined ? undefined : (ctx.packageOf(entry) ?? (leaving ? ctx.leavingPackageOf(entry) : undefined));
    return entry === undefined || pkg === undefined ? undefined : { entry, pkg };
  }

  /** The input buffers as the package gets them: private copies of exactly their length. */
  const copied = (buffers: SecBuffer[]): SecBuffer[] => buffers.map((b) => ({ BufferType: b.BufferType, pvBuffer: ctx.inputs.copy(b.pvBuffer) }));

  /** Runs SpInitLsaModeContext or SpAcceptLsaModeContext and turns its result into the LPC reply (synchronously when the package answers so). */
  function contextCall(
    client: ClientCall,
    entry: 'SpInitLsaModeContext' | 'SpAcceptLsaModeContext',
    request: { hCredential: LsaHandle | null; hContext: LsaHandle | null; outputTypes: number[] },
    input: SecBuffer[] | null,
    run: (
      pkg: LoadedPackage,
      cred: HandleEntry | undefined,
      context: HandleEntry | undefined,
      output: SecBuffer[],
    ) => SpContextResult | Promise<SpContextResult>,
  ): Awaitable<ContextReply> {
    const { hCredential, hContext } = request;
    const cred = hCredential === null ? undefined : handles.lookup(pid, hCredential, 'credential');
    const context = hContext === null ? undefined : handles.lookup(pid, hContext, 'context');
    if ((hCredential !== null && cred === undefined) || (hContext !== null && context === undefined) || (cred === undefined && context === undefined)) {
      return contextFailure(SEC_E_INVALID_HANDLE);
    }
    if (cred !== undefined && context !== undefined && (cred.packageId !== context.packageId || cred.packageVersion !== context.packageVersion))
      return contextFailure(SEC_E_INVALID_HANDLE);
    const pkg = ctx.packageOf((context ?? cred)!);
    if (pkg === undefined) return contextFailure(SEC_E_INVALID_HANDLE);
    const quota = context === undefined ? overQuota('context') : undefined;
    if (quota !== undefined) return contextFailure(SEC_E_INSUFFICIENT_MEMORY, quota);
    // What the package may keep of this call's inputs is charged to the process once the call succeeds.
    const carried = contextInputBytes(input, request);
    const held = handles.contextBytes(pid);
    if (held + carried > ctx.quota.contextBytes)
      return contextFailure(
        SEC_E_INSUFFICIENT_MEMORY,
        new SspiEmuError(
          'QUOTA_EXCEEDED',
          `${process.name}'s live contexts carried ${held} bytes of input; this call's ${carried} would pass the ${ctx.quota.contextBytes} one process may (processQuota.contextBytes)`,
        ),
      );

    const output: SecBuffer[] = request.outputTypes.map((BufferType) => ({ BufferType, pvBuffer: NO_OUTPUT }));
    const answered = call(
      client,
      pkg,
      entry,
      () => run(pkg, cred, context, output),
      // Built only for a trace: a closure per call otherwise.
      points.active ? () => `token in ${(input === null ? undefined : findToken(input))?.pvBuffer.byteLength ?? 0} bytes` : undefined,
    );
    return whenReady(answered, (outcome) => {
      if (!outcome.ok) return contextFailure(SEC_E_INTERNAL_ERROR, outcome.fault);
      // Read once, every field checked, before anything is made of it: from here on, plain values.
      const read = readContextResult(outcome.value, output, request.outputTypes.length);
      if (!read.ok) {
        const failure = contextFailure(SEC_E_INTERNAL_ERROR, badResult({ package: pkg.name, entry }, read.what));
        // A first call's context the package made goes again, as a failed first call's does.
        if (context !== undefined || read.orphan === undefined) return failure;
        const orphan = read.orphan;
        return whenReady(
          call(client, pkg, 'SpDeleteContext', () => pkg.table.DeleteContext(orphan)),
          () => failure,
        );
      }
      const result = read.result;

      const status = result.status;
      let hNewContext = context === undefined ? undefined : (hContext as LsaHandle);
      let holder = context;
      if (isSuccess(status)) {
        if (context === undefined) {
          if (typeof result.NewContextHandle !== 'number')
            return contextFailure(SEC_E_INTERNAL_ERROR, badResult({ package: pkg.name, entry }, 'success without a NewContextHandle'));
          if (process.terminated) {
            // The process was reaped while the package worked: no handle for it; the package's context goes again.
            const orphan = result.NewContextHandle;
            return whenReady(
              call(client, pkg, 'SpDeleteContext', () => pkg.table.DeleteContext(orphan)),
              () => contextFailure(SEC_E_INVALID_HANDLE),
            );
          }
          // Every field named now, the later ones undefined, so that setting them keeps the entry one object (no property array).
          holder = {
            kind: 'context',
            packageId: pkg.id,
            packageVersion: pkg.version,
            packageHandle: result.NewContextHandle,
            complete: status === SEC_E_OK,
            mapped: undefined,
            shared: undefined,
            charged: 0,
          };
          hNewContext = handles.create(pid, holder);
        } else if (status === SEC_E_OK) {
          context.complete = true;
        }
        handles.charge(pid, holder!, carried);
      } else if (context === undefined && typeof result.NewContextHandle === 'number') {
        // A failed first call leaves no handle behind, in the LSA or in the package.
        const orphan = result.NewContextHandle;
        return whenReady(
          call(client, pkg, 'SpDeleteContext', () => pkg.table.DeleteContext(orphan)),
          () => contextReply(pkg, result, context, holder, hNewContext),
        );
      }
      return contextReply(pkg, result, context, holder, hNewContext);
    });
  }

  /** The LPC reply of a handshake call the package answered (its result as read and checked); a completed mapped context's delivery goes with it. */
  function contextReply(
    pkg: LoadedPackage,
    result: ContextResultRead,
    context: HandleEntry | undefined,
    holder: HandleEntry | undefined,
    hNewContext: LsaHandle | undefined,
  ): ContextReply {
    const { status } = result;
    const reply: ContextReply = {
      status,
      packageId: pkg.id,
      output: result.output,
      contextAttr: result.ContextAttributes,
      expiry: result.ExpirationTime,
    };
    if (hNewContext !== undefined) reply.hNewContext = hNewContext;
    const packageHandle = context?.packageHandle ?? result.NewContextHandle;
    if (status === SEC_E_OK && result.MappedContext && typeof packageHandle === 'number') {
      const mapped = mappedPackage(pkg, result.MappedPackage, packageHandle);
      if (mapped instanceof Error)
        return { ...contextFailure(SEC_E_INTERNAL_ERROR, mapped), ...(hNewContext === undefined ? {} : { hNewContext }), packageId: pkg.id };
      const module = mappedModule(mapped.pkg);
      reply.mapped = mappedDelivery(module, mapped.handle, result.ContextData);
      // The LSA's own copy, for a process that imports this context later (ExportSecurityContext).
      if (holder !== undefined) holder.mapped = { module, lsaContextHandle: mapped.handle, contextData: new Uint8Array(reply.mapped.contextData) };
      if (points.tracing)
        points.point('MappedContext', 'event', {
          peer: process.name,
          detail:
            mapped.pkg === pkg
              ? `intercepted; ContextData ${reply.mapped.contextData.byteLength} bytes to ${process.name}`
              : `intercepted; ${mapped.pkg.name}'s ContextData ${reply.mapped.contextData.byteLength} bytes to ${process.name} for its ${pkg.name} context`,
        });
    }
    return reply;
  }

  /**
   * Whose user-mode half a completed context maps to: the package's own, or the one its result
   * names (SpContextResult.MappedPackage), which must be a context the package holds of that
   * package through LocatePackageById.
   */
  function mappedPackage(
    pkg: LoadedPackage,
    named: ContextResultRead['MappedPackage'],
    ownHandle: LSA_SEC_HANDLE,
  ): { pkg: LoadedPackage; handle: LSA_SEC_HANDLE } | Error {
    if (named === undefined) return { pkg, handle: ownHandle };
    const inner = named === null || typeof named.PackageId !== 'number' ? undefined : ctx.packageById(named.PackageId);
    if (inner === undefined || named === null || typeof named.ContextHandle !== 'number' || !ctx.nested.owns(pkg.id, inner.id, 'context', named.ContextHandle))
      return badResult({ package: pkg.name, entry: 'SpContextResult' }, 'a MappedPackage that is not a context it holds of another package');
    return { pkg: inner, handle: named.ContextHandle };
  }

  return {
    EnumerateSecurityPackages: serve(
      'EnumerateSecurityPackages',
      (status, cause) => ({ ...statusReply(status, cause), packages: [] }),
      async () => ({ status: SEC_E_OK, packages: ctx.allPackages().map((p) => ({ ...p.info })) }),
    ),

    QuerySecurityPackageInfo: serve('QuerySecurityPackageInfo', statusReply, async ({ pszPackageName }) => {
      const pkg = ctx.packageByName(pszPackageName);
      return pkg === undefined ? statusReply(SEC_E_SECPKG_NOT_FOUND, ctx.packageNotFound(pszPackageName)) : { status: SEC_E_OK, info: { ...pkg.info } };
    }),

    SpAcquireCredentialsHandle: serve('SpAcquireCredentialsHandle', statusReply, async (request, client) => {
      const pkg = ctx.packageByName(request.pszPackage);
      if (pkg === undefined) return statusReply(SEC_E_SECPKG_NOT_FOUND, ctx.packageNotFound(request.pszPackage));
      if ((request.fCredentialUse & SECPKG_CRED.BOTH) === 0) return { status: SEC_E_INVALID_PARAMETER };
      // Only a TCB caller may name another logon session; no emulated process has TCB.
      if (request.pvLogonId !== null && request.pvLogonId !== process.logonId) return { status: SEC_E_NOT_OWNER };
      const quota = overQuota('credential');
      if (quota !== undefined) return statusReply(SEC_E_INSUFFICIENT_MEMORY, quota);
      const entry = 'SpAcquireCredentialsHandle';
      const outcome = await call(client, pkg, entry, () =>
        pkg.table.AcquireCredentialsHandle(request.pszPrincipal, request.fCredentialUse, request.pvLogonId, request.pAuthData, null, null),
      );
      if (!outcome.ok) return statusReply(SEC_E_INTERNAL_ERROR, outcome.fault);
      const status = statusOf(outcome.value);
      if (status === undefined) return statusReply(SEC_E_INTERNAL_ERROR, badResult({ package: pkg.name, entry }, 'a malformed result'));
      if (!isSuccess(status)) return { status: status >>> 0 };
      const { CredentialHandle, ExpirationTime } = outcome.value;
      if (typeof CredentialHandle !== 'number')
        return statusReply(SEC_E_INTERNAL_ERROR, badResult({ package: pkg.name, entry }, 'success without a CredentialHandle'));
      if (process.terminated) {
        // The process was reaped while the package worked: no handle for it; the package's credential goes again.
        await call(client, pkg, 'SpFreeCredentialsHandle', () => pkg.table.FreeCredentialsHandle(CredentialHandle));
        return { status: SEC_E_INVALID_HANDLE };
      }
      const hCredential = handles.create(pid, {
        kind: 'credential',
        packageId: pkg.id,
        packageVersion: pkg.version,
        packageHandle: CredentialHandle,
        complete: true,
        // Without explicit credentials, a reload can acquire it again from the new version (lsa/package-reload.ts).
        ...(request.pAuthData === null
          ? { acquire: { principal: request.pszPrincipal, credentialUse: request.fCredentialUse, logonId: request.pvLogonId } }
          : {}),
      });
      return { status: status >>> 0, hCredential, packageId: pkg.id, expiry: typeof ExpirationTime === 'bigint' ? ExpirationTime : 0n };
    }),

    SpFreeCredentialsHandle: serve('SpFreeCredentialsHandle', statusReply, ({ hCredential }, client) =>
      release(client, hCredential, 'credential', 'SpFreeCredentialsHandle', (table) => table.FreeCredentialsHandle),
    ),

    SpQueryCredentialsAttributes: serve('SpQueryCredentialsAttributes', statusReply, ({ hCredential, ulAttribute }, client) =>
      query(client, hCredential, 'credential', 'SpQueryCredentialsAttributes', ulAttribute, (table) => table.QueryCredentialsAttributes),
    ),

    SpInitLsaModeContext: serve('SpInitLsaModeContext', contextFailure, (request, client) => {
      const input = request.input === null ? null : copied(request.input);
      return contextCall(client, 'SpInitLsaModeContext', request, input, (pkg, cred, context, output) =>
        pkg.table.InitLsaModeContext(
          cred?.packageHandle ?? null,
          context?.packageHandle ?? null,
          request.pszTargetName,
          request.fContextReq,
          request.TargetDataRep,
          input,
          output,
        ),
      );
    }),

    SpAcceptLsaModeContext: serve('SpAcceptLsaModeContext', contextFailure, (request, client) => {
      const input = copied(request.input);
      return contextCall(client, 'SpAcceptLsaModeContext', request, input, (pkg, cred, context, output) =>
        pkg.table.AcceptLsaModeContext(cred?.packageHandle ?? null, context?.packageHandle ?? null, input, request.fContextReq, request.TargetDataRep, output),
      );
    }),

    SpDeleteContext: serve('SpDeleteContext', statusReply, ({ hContext }, client) =>
      release(client, hContext, 'context', 'SpDeleteContext', (table) => table.DeleteContext),
    ),

    SpQueryContextAttributes: serve('SpQueryContextAttributes', statusReply, ({ hContext, ulAttribute }, client) =>
      query(client, hContext, 'context', 'SpQueryContextAttributes', ulAttribute, (table) => table.QueryContextAttributes),
    ),

    SpApplyControlToken: serve('SpApplyControlToken', statusReply, async ({ hContext, input }, client) => {
      const found = owned(hContext, 'context');
      if (found === undefined) return { status: SEC_E_INVALID_HANDLE };
      const buffers = copied(input);
      return statusCall(client, found.pkg, 'SpApplyControlToken', () => found.pkg.table.ApplyControlToken(found.entry.packageHandle, buffers));
    }),

    /**
     * ExportSecurityContext: the package's user-mode SpExportSecurityContext has run in the
     * process and `packedContext` is its state. The LSA keeps that state and the context (a holder
     * of the package context like a handle), and answers a reference (lsa/context-exports.ts).
     * DELETE_OLD: the process's handle goes now, its hold passing to the export; otherwise it keeps
     * it. Nothing changes on a refusal.
     */
    SpExportSecurityContext: serve('SpExportSecurityContext', statusReply, async ({ hContext, fFlags, packedContext, importingProcess }) => {
      const found = owned(hContext, 'context');
      if (found === undefined) return { status: SEC_E_INVALID_HANDLE };
      const { entry } = found;
      // Only a context that completed mapped has what an importer needs (its ContextData); one in the middle of a handshake has nothing to hand over.
      if (!entry.complete || entry.mapped === undefined) return { status: SEC_E_INVALID_HANDLE };
      if ((fFlags & ~EXPORT_FLAGS) !== 0) return { status: SEC_E_INVALID_PARAMETER };
      // To the kernel: Windows no longer supports it, and this emulation has no kernel.
      if ((fFlags & SECPKG_CONTEXT_EXPORT.TO_KERNEL) !== 0) return { status: SEC_E_UNSUPPORTED_FUNCTION };
      if (importingProcess !== null && !ctx.processAttached(importingProcess)) return { status: SEC_E_INVALID_PARAMETER };
      const deleteOld = (fFlags & SECPKG_CONTEXT_EXPORT.DELETE_OLD) !== 0;
      if (ctx.exports.count(pid) >= MAX_EXPORTS_PER_PROCESS)
        return statusReply(
          SEC_E_INSUFFICIENT_MEMORY,
          new SspiEmuError('QUOTA_EXCEEDED', `${process.name} has ${MAX_EXPORTS_PER_PROCESS} exports waiting for their importers, the most one process may`),
        );
      const quota = deleteOld ? undefined : overQuota('context');
      if (quota !== undefined) return statusReply(SEC_E_INSUFFICIENT_MEMORY, quota);

      let shared;
      if (deleteOld) {
        // The process's hold on the package context passes to the export.
        handles.remove(pid, hContext);
        shared = entry.shared ?? { count: 1 };
      } else {
        shared = shareContext(entry);
      }
      const reference = ctx.exports.issue({
        exporter: pid,
        importer: importingProcess === null ? null : asProcessId(importingProcess),
        packageId: entry.packageId,
        packageVersion: entry.packageVersion,
        packageHandle: entry.packageHandle,
        mapped: entry.mapped,
        shared,
        packedContext: Uint8Array.from(packedContext),
        flags: fFlags,
      });
      // What packages made through other packages during this process's calls may now belong to a
      // context another process holds (Negotiate's NTLM context): they no longer go with this process
      // when it exits, only with their owners' contexts (lsa/package-locator.ts).
      ctx.nested.disownProcess(pid);
      if (points.tracing)
        points.point('ContextExported', 'event', {
          peer: process.name,
          detail: `${found.pkg.name} context, ${packedContext.byteLength} bytes of package state, for ${importingProcess === null ? 'any process' : `process ${importingProcess}`}${fFlags === 0 ? '' : `; ${flagNames(fFlags, SECPKG_CONTEXT_EXPORT, 'SECPKG_CONTEXT_EXPORT_').join('|')}`}`,
        });
      return { status: SEC_E_OK, packedContext: reference };
    }),

    /**
     * ImportSecurityContextW: the reference an export gave. Refused, with nothing changed: one that
     * is not a reference, or not this LSA's (SEC_E_INVALID_TOKEN); one of another package
     * (SEC_E_INVALID_TOKEN); one already imported, or whose exporter or importer exited
     * (SEC_E_CONTEXT_EXPIRED); one meant for another process (SEC_E_NOT_OWNER). Accepted: the
     * context becomes this process's, and the reply carries what SpImportSecurityContext needs.
     */
    SpImportSecurityContext: serve('SpImportSecurityContext', statusReply, async ({ pszPackage, packedContext }) => {
      const pkg = ctx.packageByName(pszPackage);
      if (pkg === undefined) return { status: SEC_E_SECPKG_NOT_FOUND };
      const found = ctx.exports.lookup(packedContext);
      if (found.kind === 'malformed' || found.kind === 'forged') return { status: SEC_E_INVALID_TOKEN };
      if (found.kind === 'gone') return { status: SEC_E_CONTEXT_EXPIRED };
      const { id, pending } = found;
      if (pending.packageId !== pkg.id) return { status: SEC_E_INVALID_TOKEN };
      // Exported from a version of the package that has been replaced since: its context is being closed.
      if (pending.packageVersion !== pkg.version) return { status: SEC_E_CONTEXT_EXPIRED };
      if (pending.importer !== null && pending.importer !== pid) return { status: SEC_E_NOT_OWNER };
      const quota = overQuota('context');
      if (quota !== undefined) return statusReply(SEC_E_INSUFFICIENT_MEMORY, quota);

      ctx.exports.take(id);
      // The export's hold on the package context passes to this process's new handle.
      const hNewContext = handles.create(pid, {
        kind: 'context',
        packageId: pending.packageId,
        packageVersion: pending.packageVersion,
        packageHandle: pending.packageHandle,
        complete: true,
        mapped: pending.mapped,
        shared: pending.shared,
      });
      const { module, lsaContextHandle, contextData } = pending.mapped;
      const imported: ImportedContextDelivery = {
        ...module,
        lsaContextHandle,
        packedContext: packImportedContext({ ContextData: contextData, PackedContext: pending.packedContext }),
      };
      pending.packedContext.fill(0);
      if (points.tracing)
        points.point('ContextImported', 'event', {
          peer: process.name,
          detail: `${pkg.name} context from process ${pending.exporter}; SpImportSecurityContext gets ${imported.packedContext.byteLength} bytes`,
        });
      return { status: SEC_E_OK, hNewContext, packageId: pending.packageId, imported };
    }),

    /**
     * LsaLookupAuthenticationPackage: the AuthenticationPackage id of a loaded package by its name
     * (without regard to case, as package names are looked up everywhere here); MSV1_0_PACKAGE_NAME
     * is the NTLM package's, as msv1_0 is NTLM on Windows. STATUS_NO_SUCH_PACKAGE for any other name.
     */
    LsaLookupAuthenticationPackage: serve('LsaLookupAuthenticationPackage', statusReply, ({ PackageName }) => {
      const name = PackageName.toLowerCase() === MSV1_0_PACKAGE_NAME.toLowerCase() ? 'NTLM' : PackageName;
      const pkg = ctx.packageByName(name);
      return pkg === undefined ? { status: STATUS_NO_SUCH_PACKAGE } : { status: STATUS_SUCCESS, AuthenticationPackage: pkg.id };
    }),

    /**
     * LsaCallAuthenticationPackage: every app process's connection is untrusted (none holds
     * SeTcbPrivilege), so the call goes to the package's LsaApCallPackageUntrusted, as this
     * process's client call (GetClientInfo names its logon: the package learns who asks from the
     * connection, not the buffer), with a private copy of the submit buffer. A package id that
     * names no loaded package is STATUS_NO_SUCH_PACKAGE; a package without the entry point answers
     * SEC_E_UNSUPPORTED_FUNCTION (Wine's secur32 answers the same), through its `unsupported` member.
     */
    LsaApCallPackageUntrusted: serve('LsaApCallPackageUntrusted', statusReply, ({ AuthenticationPackage, ProtocolSubmitBuffer }, client) => {
      const pkg = ctx.packageById(AuthenticationPackage);
      if (pkg === undefined) return { status: STATUS_NO_SUCH_PACKAGE };
      const member = pkg.table.CallPackageUntrusted;
      if (typeof member !== 'function') return { status: SEC_E_UNSUPPORTED_FUNCTION };
      const submit = ctx.inputs.copy(ProtocolSubmitBuffer);
      const entry = 'LsaApCallPackageUntrusted';
      return whenReady(
        call(
          client,
          pkg,
          entry,
          () => member.call(pkg.table, null, submit, 0, submit.byteLength),
          points.active ? () => `${submit.byteLength} bytes` : undefined,
        ),
        (outcome) => callPackageReply(pkg, entry, outcome),
      );
    }),
  };

  /**
   * LsaCallAuthenticationPackage's outcome as its reply: the package's status, its ProtocolStatus,
   * and (when the call succeeded) a copy of its return buffer. A package that threw, answered no
   * status or a return buffer that is not bytes or is larger than MAX_PROTOCOL_BUFFER is
   * STATUS_INTERNAL_ERROR with the cause, and nothing of what it answered goes to the caller.
   */
  function callPackageReply(
    pkg: LoadedPackage,
    entry: string,
    outcome: Outcome<LsaApCallPackageResult>,
  ): ProcessToLsaOps['LsaApCallPackageUntrusted']['reply'] {
    if (!outcome.ok) return statusReply(STATUS_INTERNAL_ERROR, outcome.fault);
    const result: unknown = outcome.value;
    const fields = typeof result === 'object' && result !== null ? (result as Partial<Record<keyof LsaApCallPackageResult, unknown>>) : {};
    const status = ntStatus(fields.status);
    if (status === undefined) return statusReply(STATUS_INTERNAL_ERROR, badResult({ package: pkg.name, entry }, 'no status'));
    const returned = fields.ProtocolReturnBuffer;
    const protocolStatus = fields.ProtocolStatus === undefined ? STATUS_SUCCESS : ntStatus(fields.ProtocolStatus);
    if ((returned !== undefined && (!(returned instanceof Uint8Array) || returned.byteLength > MAX_PROTOCOL_BUFFER)) || protocolStatus === undefined)
      return statusReply(STATUS_INTERNAL_ERROR, badResult({ package: pkg.name, entry }, 'a malformed ProtocolStatus or ProtocolReturnBuffer'));
    if (!isSuccess(status)) return { status };
    const reply: ProcessToLsaOps['LsaApCallPackageUntrusted']['reply'] = { status, ProtocolStatus: protocolStatus };
    // A copy: the package may go on using (or wiping) its own buffer after the reply is queued.
    if (returned !== undefined) reply.ProtocolReturnBuffer = Uint8Array.from(returned as Uint8Array);
    return reply;
  }

  /**
   * SpFreeCredentialsHandle and SpDeleteContext: the process's handle goes first (a second call
   * with it is SEC_E_INVALID_HANDLE whatever the package answers), then the package frees its own.
   */
  function release(
    client: ClientCall,
    handle: LsaHandle,
    kind: 'credential' | 'context',
    entry: string,
    member: (table: SecpkgFunctionTable) => (packageHandle: LSA_SEC_HANDLE) => Status | Promise<Status>,
  ): Awaitable<LpcReplyBase> {
    // A handle of a version being unloaded is freed through that version; one the unload closed already answers SEC_E_OK once.
    const found = owned(handle, kind, true);
    if (found === undefined) return { status: handles.takeRetired(pid, handle, kind) ? SEC_E_OK : SEC_E_INVALID_HANDLE };
    handles.remove(pid, handle);
    // A context another process imported (or an export still holds) stays in the package until its last holder lets go.
    if (kind === 'context' && !releaseContext(found.entry)) return { status: SEC_E_OK };
    const free = member(found.pkg.table);
    // Called as a method of the table: a package's table may be an object whose members use `this`.
    return statusCall(client, found.pkg, entry, () => free.call(found.pkg.table, found.entry.packageHandle));
  }

  /** SpQueryCredentialsAttributes and SpQueryContextAttributes: the package's answer and buffer (absent member: SEC_E_UNSUPPORTED_FUNCTION). */
  async function query(
    client: ClientCall,
    handle: LsaHandle,
    kind: 'credential' | 'context',
    entry: string,
    ulAttribute: number,
    member: (table: SecpkgFunctionTable) => ((packageHandle: LSA_SEC_HANDLE, attribute: number) => QueryResult | Promise<QueryResult>) | undefined,
  ): Promise<LpcReplyBase & { buffer?: unknown }> {
    const found = owned(handle, kind);
    if (found === undefined) return { status: SEC_E_INVALID_HANDLE };
    const ask = member(found.pkg.table);
    if (typeof ask !== 'function') return { status: SEC_E_UNSUPPORTED_FUNCTION };
    return queryReply(found.pkg, entry, await call(client, found.pkg, entry, () => ask.call(found.pkg.table, found.entry.packageHandle, ulAttribute)));
  }

  /** A Query...Attributes outcome as its reply: the status and the package's buffer. */
  function queryReply(pkg: LoadedPackage, entry: string, outcome: Outcome<QueryResult>): LpcReplyBase & { buffer?: unknown } {
    if (!outcome.ok) return statusReply(SEC_E_INTERNAL_ERROR, outcome.fault);
    const status = statusOf(outcome.value);
    if (status === undefined) return statusReply(SEC_E_INTERNAL_ERROR, badResult({ package: pkg.name, entry }, 'a malformed result'));
    return { status: status >>> 0, buffer: outcome.value.Buffer };
  }
}

/** What the package's Query...Attributes members answer. */
type QueryResult = { status: Status; Buffer?: unknown };

/** Each package load's MappedModule, made the first time one of its contexts completes mapped. */
const mappedModules = new WeakMap<LoadedPackage, MappedModule>();

/** The package's part of a mapped context's delivery: one frozen object per package load, kept by every context that maps into it. */
function mappedModule(pkg: LoadedPackage): MappedModule {
  let module = mappedModules.get(pkg);
  if (module === undefined) {
    module = Object.freeze({
      packageId: pkg.id,
      packageName: pkg.name,
      moduleUrl: pkg.moduleUrl,
      tableIndex: pkg.tableIndex,
      modulePackages: Object.freeze(pkg.modulePackages.map((p) => Object.freeze({ ...p }))) as MappedModule['modulePackages'],
      thunkedLevels: Object.freeze([...pkg.thunkedLevels]) as MappedModule['thunkedLevels'],
    });
    mappedModules.set(pkg, module);
  }
  return module;
}

/** What the calling process is delivered (the LPC frame copies it: the module's frozen arrays are read, never handed over). */
function mappedDelivery(module: MappedModule, lsaContextHandle: LSA_SEC_HANDLE, contextData: Uint8Array): MappedContextDelivery {
  return {
    packageId: module.packageId,
    packageName: module.packageName,
    moduleUrl: module.moduleUrl,
    tableIndex: module.tableIndex,
    modulePackages: module.modulePackages,
    lsaContextHandle,
    contextData,
    thunkedLevels: module.thunkedLevels,
  };
}

/** The bytes of a handshake call's inputs a package may keep: its buffers and its target name (UTF-16, as Windows holds it). */
function contextInputBytes(input: SecBuffer[] | null, request: object): number {
  let bytes = 0;
  if (input !== null) for (const b of input) bytes += b.pvBuffer.byteLength;
  const target = (request as { pszTargetName?: unknown }).pszTargetName;
  if (typeof target === 'string') bytes += target.length * 2;
  return bytes;
}

/**
 * The most bytes of ContextData the LSA delivers to a process for SpInitUserModeContext (1 MiB).
 * A mapped context's data is what its user-mode half needs to protect messages: session keys,
 * flags, sequence numbers, names. The example's and NTLM's are under 100 bytes, Kerberos' some
 * 200 (keys and names, never a ticket). It crosses to the process in the reply to the handshake's
 * last call, and the LSA keeps a copy for as long as the context lives (for
 * ExportSecurityContext): a package that answered megabytes there would cost the LSA, and every
 * process it maps a context into, that much per context. The bound is the one a process's input
 * buffers have (MAX_INPUT_BYTES): thousands of times what a package needs; past it the package
 * has a bug, and its caller learns it as the package's bad result.
 */
export const MAX_CONTEXT_DATA = 1 << 20;

/**
 * A handshake result as the LSA read it from the package's, once: every field checked, plain
 * values from here on (a getter or a Proxy of the package's is not read again).
 */
interface ContextResultRead {
  status: Status;
  NewContextHandle: LSA_SEC_HANDLE | undefined;
  ContextAttributes: number;
  ExpirationTime: bigint;
  /** Only true when the status is SEC_E_OK: a mapped context is one that completed. */
  MappedContext: boolean;
  /** What the process gets when MappedContext: the package's bytes, or a copy of them when they were not a plain Uint8Array. */
  ContextData: Uint8Array;
  /** Absent; or the package's MappedPackage fields (checked by mappedPackage); null for one that is not an object. */
  MappedPackage: { PackageId: unknown; ContextHandle: unknown } | null | undefined;
  /** The output buffers the package filled, as the reply carries them. */
  output: SecBuffer[];
}

/** A result read, or what was wrong with it (and the context handle it named, which a first call leaves to be deleted). */
type ContextResultReading = { ok: true; result: ContextResultRead } | { ok: false; what: string; orphan: LSA_SEC_HANDLE | undefined };

/** The length of a Uint8Array as its internal slot has it, whatever getter the object itself has. */
const byteLengthOf = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, 'byteLength')!.get! as (this: Uint8Array) => number;

/**
 * The bytes a package answered, as the reply may carry them: a plain Uint8Array as it is (the LPC
 * frame copies it), anything else that is one (a Buffer, a subclass, one with getters of its own)
 * copied through its internal slots, so that no code of the package's runs when it is sent.
 */
function plainBytes(value: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(value) === Uint8Array.prototype && !Object.hasOwn(value, 'byteLength') ? value : new Uint8Array(value);
}

/** Whether a value is a SecBuffer's BufferType: a 32-bit unsigned integer (SECBUFFER_* with its attribute bits). */
const isBufferType = (value: unknown): value is number => typeof value === 'number' && value >>> 0 === value;

/**
 * Reads a package's SpInitLsaModeContext/SpAcceptLsaModeContext result and the output buffers it
 * filled, once, checking each: the status, the handle, ContextAttributes (a number), each output
 * buffer (a SecBuffer: BufferType a number, pvBuffer a Uint8Array; as many as the caller gave) and,
 * on SEC_E_OK with MappedContext, ContextData (a Uint8Array of at most MAX_CONTEXT_DATA bytes, or
 * absent: none). Whatever the package's objects do when read (a getter that throws, a Proxy) is
 * contained here: it is what was wrong, never a throw out of the LSA's handler.
 */
function readContextResult(value: unknown, output: readonly unknown[], given: number): ContextResultReading {
  let orphan: LSA_SEC_HANDLE | undefined;
  // What is being read, and the status once it is known, for a read that throws.
  let reading = 'NewContextHandle';
  let status: Status | undefined;
  const wrong = (what: string): ContextResultReading => ({ ok: false, what, orphan });
  // The status by name, for a message only (a bad result is rare; a call's result is read on every call).
  const named = (): string => statusName(status!);
  try {
    if (typeof value !== 'object' || value === null) return wrong('a malformed result');
    const fields = value as Partial<Record<keyof SpContextResult, unknown>>;
    // The handle first: whatever else is wrong, a first call's context it names is deleted.
    const handle = fields.NewContextHandle;
    if (typeof handle === 'number') orphan = handle;
    reading = 'status';
    const answered = statusOf(value);
    if (answered === undefined) return wrong('a malformed result');
    status = answered >>> 0;
    reading = 'ContextAttributes';
    const attributes = fields.ContextAttributes;
    if (attributes !== undefined && attributes !== null && typeof attributes !== 'number')
      return wrong(`${named()} with a ContextAttributes that is ${valueKind(attributes)}, not a number`);
    reading = 'ExpirationTime';
    const expiry = fields.ExpirationTime;
    reading = 'MappedContext';
    const mappedContext = status === SEC_E_OK && fields.MappedContext === true;

    const buffers = readOutputBuffers(output, given);
    if (typeof buffers === 'string') return wrong(`${named()} with ${buffers}`);

    let contextData: Uint8Array = NO_OUTPUT;
    let mappedPackage: ContextResultRead['MappedPackage'];
    if (mappedContext) {
      reading = 'ContextData';
      const data = fields.ContextData;
      if (data !== undefined && data !== null) {
        if (!types.isUint8Array(data)) return wrong(`${named()} with a ContextData that is ${valueKind(data)}, not a Uint8Array`);
        const length = byteLengthOf.call(data);
        if (length > MAX_CONTEXT_DATA)
          return wrong(`${named()} with a ContextData of ${length} bytes, more than the ${MAX_CONTEXT_DATA} the LSA delivers to a process (MAX_CONTEXT_DATA)`);
        contextData = plainBytes(data);
      }
      reading = 'MappedPackage';
      const inner = fields.MappedPackage;
      if (inner !== undefined)
        mappedPackage =
          typeof inner === 'object' && inner !== null
            ? { PackageId: (inner as { PackageId?: unknown }).PackageId, ContextHandle: (inner as { ContextHandle?: unknown }).ContextHandle }
            : null;
    }
    return {
      ok: true,
      result: {
        status,
        NewContextHandle: orphan,
        ContextAttributes: typeof attributes === 'number' ? attributes >>> 0 : 0,
        ExpirationTime: typeof expiry === 'bigint' ? expiry : 0n,
        MappedContext: mappedContext,
        ContextData: contextData,
        MappedPackage: mappedPackage,
        output: buffers,
      },
    };
  } catch {
    // What the package's getter threw is its own; that its result cannot be read is the fault.
    return wrong(status === undefined ? `a result whose ${reading} cannot be read` : `${named()} with a ${reading} that cannot be read`);
  }
}

/**
 * The output buffers as the package left them, read once and checked; or what was wrong, in the
 * words a bad result's message uses ("output buffer 0 whose pvBuffer is a string, not a Uint8Array").
 */
function readOutputBuffers(output: readonly unknown[], given: number): SecBuffer[] | string {
  // The array is the LSA's own: its length is a plain value, whatever the package pushed or cut.
  if (output.length !== given) return `${output.length} output buffer${output.length === 1 ? '' : 's'} where it was given ${given}`;
  const out: SecBuffer[] = [];
  for (let i = 0; i < given; i++) {
    const at = `output buffer ${i}`;
    try {
      const buffer = output[i];
      if (typeof buffer !== 'object' || buffer === null || types.isProxy(buffer) || Array.isArray(buffer))
        return `${at} that is ${valueKind(buffer)}, not a SecBuffer`;
      const { BufferType, pvBuffer } = buffer as { BufferType?: unknown; pvBuffer?: unknown };
      if (!isBufferType(BufferType))
        return typeof BufferType === 'number'
          ? `${at} whose BufferType ${BufferType} is not a buffer type`
          : `${at} whose BufferType is ${valueKind(BufferType)}, not a number`;
      if (!types.isUint8Array(pvBuffer)) return `${at} whose pvBuffer is ${valueKind(pvBuffer)}, not a Uint8Array`;
      out.push({ BufferType, pvBuffer: plainBytes(pvBuffer) });
    } catch {
      return `${at} that cannot be read`;
    }
  }
  return out;
}

/** An NTSTATUS a package answered, as an unsigned 32-bit value; undefined for anything that is not one (NaN, 1.5, 2^40). */
function ntStatus(value: unknown): Status | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= -0x8000_0000 && value <= 0xffff_ffff ? value >>> 0 : undefined;
}

/** `then` without a promise when the value is already there: a call a package answers synchronously is answered in the same turn. */
function whenReady<T, R>(value: T | Promise<T>, next: (value: T) => Awaitable<R>): Awaitable<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
