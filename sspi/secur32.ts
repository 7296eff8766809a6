// The SSPI library each app process loads: Secur32 of the seed. Each function carries the Windows
// name in camelCase and Windows semantics and statuses; its doc names the package entry point it
// reaches (reference section 8.1). Calls that need the LSA go over this process's LPC channel;
// message functions on a mapped context run on the package's user-mode table right here and send
// no LPC message.
//
// No function throws for a protocol outcome or a bad argument: it returns a status. A broken
// channel or a dead LSA is SEC_E_INTERNAL_ERROR with a `cause` naming the transport failure.

import { types } from 'node:util';
import {
  type LUID,
  type SecpkgUserFunctionTable,
  SECBUFFER,
  SECPKG_ATTR,
  SECPKG_CONTEXT_EXPORT,
  flagNames,
  tokenBytes,
  SECURITY_NATIVE_DREP,
  attributeName,
  type ContextAttributeValue,
  type SecBuffer,
  type SecPkgInfo,
  type SecWinntAuthIdentity,
  SEC_E_INTERNAL_ERROR,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_PARAMETER,
  SEC_E_INVALID_TOKEN,
  SEC_E_OK,
  SEC_E_UNSUPPORTED_FUNCTION,
  STATUS_INVALID_HANDLE,
  STATUS_INVALID_PARAMETER,
  STATUS_NO_SUCH_PACKAGE,
  STATUS_SUCCESS,
  type PackageId,
  isSuccess,
  statusName,
  type Status,
} from '../headers/index.js';
import { badResult, describeValue, valueKind, type Outcome, type CallPoints } from '../hosting/index.js';
import {
  TransportError,
  describeError,
  rebuildError,
  serializeError,
  type SerializedError,
  type ContextReply,
  type LsaToProcessOps,
  type ProcessToLsaOps,
  SSPI_METHODS,
  type SspiMethod,
  type RpcPeer,
  toBase64,
} from '../ipc/index.js';
import { packAuthIdentity } from './auth-identity.js';
import type { ClientHeap } from './client-heap.js';
import { LocalHandleTable, type ContextRecord, type CredentialRecord, type CredHandle, type CtxtHandle, type UserModeContext } from './handles.js';
import { statusResult, type UserModeHost } from './user-mode-host.js';

/** Every result carries the status; `cause` explains a SEC_E_INTERNAL_ERROR. */
export interface SspiResult {
  status: Status;
  cause?: SerializedError;
}

export interface AcquireCredentialsHandleArgs {
  /** pszPrincipal: null for the caller's own. */
  principal?: string | null;
  /** pszPackage: the package's name, e.g. "Example". */
  package: string;
  /** fCredentialUse: SECPKG_CRED.INBOUND, OUTBOUND or BOTH. */
  credentialUse: number;
  /** pvLogonId: another logon session (needs TCB; no emulated process has it). */
  logonId?: LUID | null;
  /** pAuthData: explicit credentials; absent for the process's own logon (default credentials). */
  authData?: SecWinntAuthIdentity | null;
}

export interface AcquireCredentialsHandleResult extends SspiResult {
  credential?: CredHandle;
  expiry?: bigint;
}

export interface InitializeSecurityContextArgs {
  credential?: CredHandle | null;
  context?: CtxtHandle | null;
  targetName?: string | null;
  /** fContextReq: ISC_REQ_* bits. */
  contextReq: number;
  targetDataRep?: number;
  /** pInput: the server's token (SECBUFFER_TOKEN), and channel bindings where used. */
  input?: SecBuffer[] | null;
  /** pOutput buffer types; one SECBUFFER_TOKEN when absent. The package allocates the buffers. */
  outputTypes?: number[];
}

export interface AcceptSecurityContextArgs {
  credential?: CredHandle | null;
  context?: CtxtHandle | null;
  /** pInput: the client's token (SECBUFFER_TOKEN), and channel bindings where used. */
  input: SecBuffer[];
  /** fContextReq: ASC_REQ_* bits. */
  contextReq: number;
  targetDataRep?: number;
  outputTypes?: number[];
}

export interface ContextResult extends SspiResult {
  /** phNewContext: the context (the same handle on later calls). */
  context?: CtxtHandle;
  /** pOutput: the token to send to the peer, if any. */
  output: SecBuffer[];
  /** pfContextAttr: ISC_RET_* or ASC_RET_* bits. */
  contextAttr: number;
  expiry: bigint;
}

export interface MessageResult extends SspiResult {
  /** The message buffers, as the package left them (signature or ciphertext written in place). */
  message: SecBuffer[];
}

export interface VerifyResult extends MessageResult {
  qop: number;
}

export interface ExportSecurityContextOptions {
  /**
   * The process id of the one process that may import the context (this emulation's stand-in for
   * duplicating pToken into the importing process); absent: whichever process presents the
   * reference first.
   */
  importingProcess?: number | null;
}

export interface ExportSecurityContextResult extends SspiResult {
  /** pPackedContext: the LSA-issued reference to give the importing process. */
  packedContext?: SecBuffer;
  /** pToken: the context's access token; always null here. */
  token?: null;
}

export interface ImportSecurityContextResult extends SspiResult {
  /** phContext: the imported context, this process's from now on. */
  context?: CtxtHandle;
}

export interface QueryContextAttributesResult<A extends number> extends SspiResult {
  buffer?: ContextAttributeValue<A>;
}

declare const lsaConnectionBrand: unique symbol;
/** The HANDLE LsaConnectUntrusted gives: this process's connection to the LSA, as the application holds it. */
export type LsaConnectionHandle = number & { readonly [lsaConnectionBrand]: 'LsaConnectionHandle' };

export interface LsaConnectUntrustedResult extends SspiResult {
  lsaHandle?: LsaConnectionHandle;
}

export interface LsaLookupAuthenticationPackageResult extends SspiResult {
  /** AuthenticationPackage: the package's id, for LsaCallAuthenticationPackage. */
  authenticationPackage?: PackageId;
}

export interface LsaCallAuthenticationPackageResult extends SspiResult {
  /** ProtocolStatus: the package's answer to the message (when the call itself succeeded). */
  protocolStatus?: Status;
  /** ProtocolReturnBuffer: the package's reply, if it made one (its length is ReturnBufferLength). */
  returnBuffer?: Uint8Array;
}

/** The SECPKG_CONTEXT_EXPORT_* bits ExportSecurityContext knows. */
const EXPORT_FLAGS = SECPKG_CONTEXT_EXPORT.RESET_NEW | SECPKG_CONTEXT_EXPORT.DELETE_OLD | SECPKG_CONTEXT_EXPORT.TO_KERNEL;

/** The SSPI API as another thread calls it (every function is asynchronous there too). */
export type RemoteSecur32 = Omit<Secur32, 'handleCounts' | 'reconnect'>;

// The control channel's list of SSPI functions (ipc/process-control.ts) is exactly RemoteSecur32's:
// the compiler names any function missing from it, and any name in it that is not one.
const everyMethodListed: Record<Exclude<keyof RemoteSecur32, SspiMethod>, never> = {};
const onlyMethodsListed: ReadonlyArray<keyof RemoteSecur32> = SSPI_METHODS;
void everyMethodListed;
void onlyMethodsListed;

/** Where a call is traced and what it sends: one instance per app process. */
export interface Secur32Deps {
  lpc: RpcPeer<ProcessToLsaOps, LsaToProcessOps>;
  heap: ClientHeap;
  host: UserModeHost;
  points: CallPoints;
}

export class Secur32 {
  private readonly handles = new LocalHandleTable();
  /** The connections LsaConnectUntrusted made and LsaDeregisterLogonProcess has not closed, with the LSA generation each is to. */
  private readonly lsaConnections = new Map<number, number>();
  /** Connection handle values start at a random point in each process, as CredHandle values do. */
  private nextLsaConnection = 0x100 + 4 * Math.floor(Math.random() * 0x10000);
  /** The LSAs this library has talked to: one more each time the machine reconnects it to a restarted LSA. */
  private generation = 1;
  private lpc: Secur32Deps['lpc'];
  private readonly heap: ClientHeap;
  private readonly host: UserModeHost;
  private readonly points: CallPoints;

  constructor(deps: Secur32Deps) {
    this.lpc = deps.lpc;
    this.heap = deps.heap;
    this.host = deps.host;
    this.points = deps.points;
  }

  /** EnumerateSecurityPackagesW: every loaded package's SecPkgInfo (the LSA's copies of SpGetInfo). */
  async enumerateSecurityPackages(): Promise<SspiResult & { packages: SecPkgInfo[] }> {
    return this.traced(
      'EnumerateSecurityPackages',
      undefined,
      async () => {
        const reply = await this.lpc.call('EnumerateSecurityPackages', {});
        return { status: reply.status, packages: reply.packages };
      },
      { packages: [] },
    );
  }

  /** QuerySecurityPackageInfoW -> SpGetInfo. SEC_E_SECPKG_NOT_FOUND for an unknown name. */
  async querySecurityPackageInfo(packageName: string): Promise<SspiResult & { info?: SecPkgInfo }> {
    if (typeof packageName !== 'string') return { status: SEC_E_INVALID_PARAMETER };
    return this.traced(
      'QuerySecurityPackageInfo',
      packageName,
      async () => {
        const reply = await this.lpc.call('QuerySecurityPackageInfo', { pszPackageName: packageName });
        return withCause(reply.info === undefined ? { status: reply.status } : { status: reply.status, info: reply.info }, reply.cause);
      },
      {},
    );
  }

  /**
   * AcquireCredentialsHandleW -> SpAcquireCredentialsHandle. Explicit credentials are marshalled
   * into this process's heap for the package to read with CopyFromClientBuffer, and wiped after.
   */
  async acquireCredentialsHandle(args: AcquireCredentialsHandleArgs): Promise<AcquireCredentialsHandleResult> {
    if (typeof args?.package !== 'string' || typeof args.credentialUse !== 'number') return { status: SEC_E_INVALID_PARAMETER };
    const identity = args.authData ?? null;
    if (identity !== null && (typeof identity.User !== 'string' || typeof identity.Domain !== 'string' || typeof identity.Password !== 'string')) {
      return { status: SEC_E_INVALID_PARAMETER };
    }
    return this.traced(
      'AcquireCredentialsHandle',
      args.package,
      async () => {
        const packed = identity === null ? null : packAuthIdentity(identity);
        const address = packed === null ? null : this.heap.place(packed);
        packed?.fill(0);
        const length = packed === null ? 0 : packed.byteLength;
        try {
          const reply = await this.lpc.call('SpAcquireCredentialsHandle', {
            pszPrincipal: args.principal ?? null,
            pszPackage: args.package,
            fCredentialUse: args.credentialUse,
            pvLogonId: args.logonId ?? null,
            pAuthData: address === null ? null : { address, length },
          });
          if (!isSuccess(reply.status) || reply.hCredential === undefined || reply.packageId === undefined)
            return withCause({ status: reply.status }, reply.cause);
          const credential = this.handles.addCredential({
            kind: 'credential',
            packageId: reply.packageId,
            lsa: reply.hCredential,
            generation: this.generation,
          });
          return { status: reply.status, credential, expiry: reply.expiry ?? 0n };
        } finally {
          if (address !== null) this.heap.free(address);
        }
      },
      {},
    );
  }

  /** FreeCredentialsHandle -> SpFreeCredentialsHandle. */
  async freeCredentialsHandle(credential: CredHandle): Promise<SspiResult> {
    const record = this.handles.credential(credential);
    if (record === undefined) return { status: SEC_E_INVALID_HANDLE };
    this.handles.remove(credential);
    // A credential of an LSA that died is gone with it; the new LSA never sees the old value.
    if (this.isStale(record)) return { status: SEC_E_INVALID_HANDLE };
    return this.traced(
      'FreeCredentialsHandle',
      undefined,
      async () => {
        const reply = await this.lpc.call('SpFreeCredentialsHandle', { hCredential: record.lsa });
        return withCause({ status: reply.status }, reply.cause);
      },
      {},
    );
  }

  /**
   * InitializeSecurityContextW -> SpInitLsaModeContext in the LSA; on the call that completes a
   * mapped context, SpInitUserModeContext here (after SpUserModeInitialize and SpInstanceInit the
   * first time the package is used in this process).
   */
  initializeSecurityContext(args: InitializeSecurityContextArgs): Promise<ContextResult> {
    return settled(() => this.initialize(args));
  }

  private initialize(args: InitializeSecurityContextArgs): ContextResult | Promise<ContextResult> {
    const cred = args?.credential == null ? null : this.liveCredential(args.credential);
    const context = args?.context == null ? null : this.liveContext(args.context);
    if (cred === undefined || context === undefined || (cred === null && context === null)) return contextFailure(SEC_E_INVALID_HANDLE);
    if (typeof args.contextReq !== 'number') return contextFailure(SEC_E_INVALID_PARAMETER);
    const input = args.input ?? null;
    if (input !== null && !validBuffers(input)) return contextFailure(SEC_E_INVALID_TOKEN);
    return this.contextCall('InitializeSecurityContext', context === null ? null : { record: context, handle: args.context! }, input, () =>
      this.lpc.call('SpInitLsaModeContext', {
        hCredential: cred?.lsa ?? null,
        hContext: context?.lsa ?? null,
        pszTargetName: args.targetName ?? null,
        fContextReq: args.contextReq >>> 0,
        TargetDataRep: args.targetDataRep ?? SECURITY_NATIVE_DREP,
        input,
        outputTypes: args.outputTypes ?? (TOKEN_OUTPUT as number[]),
      }),
    );
  }

  /** AcceptSecurityContext -> SpAcceptLsaModeContext in the LSA; then as initializeSecurityContext. */
  acceptSecurityContext(args: AcceptSecurityContextArgs): Promise<ContextResult> {
    return settled(() => this.accept(args));
  }

  private accept(args: AcceptSecurityContextArgs): ContextResult | Promise<ContextResult> {
    const cred = args?.credential == null ? null : this.liveCredential(args.credential);
    const context = args?.context == null ? null : this.liveContext(args.context);
    if (cred === undefined || context === undefined || (cred === null && context === null)) return contextFailure(SEC_E_INVALID_HANDLE);
    if (typeof args.contextReq !== 'number') return contextFailure(SEC_E_INVALID_PARAMETER);
    if (!validBuffers(args.input)) return contextFailure(SEC_E_INVALID_TOKEN);
    return this.contextCall('AcceptSecurityContext', context === null ? null : { record: context, handle: args.context! }, args.input, () =>
      this.lpc.call('SpAcceptLsaModeContext', {
        hCredential: cred?.lsa ?? null,
        hContext: context?.lsa ?? null,
        input: args.input,
        fContextReq: args.contextReq >>> 0,
        TargetDataRep: args.targetDataRep ?? SECURITY_NATIVE_DREP,
        outputTypes: args.outputTypes ?? (TOKEN_OUTPUT as number[]),
      }),
    );
  }

  /** CompleteAuthToken -> the user-mode SpCompleteAuthToken (mapped contexts only). */
  async completeAuthToken(context: CtxtHandle, token: SecBuffer[]): Promise<SspiResult> {
    const record = this.handles.context(context);
    if (record === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (record.user === null) return { status: SEC_E_UNSUPPORTED_FUNCTION };
    const user = record.user;
    return this.traced(
      'CompleteAuthToken',
      undefined,
      async () => hostStatus(await this.host.call(user, 'SpCompleteAuthToken', (t, h) => t.CompleteAuthToken(h, token)), user, 'SpCompleteAuthToken'),
      {},
    );
  }

  /**
   * DeleteSecurityContext -> SpDeleteUserModeContext here (if mapped) and SpDeleteContext in the
   * LSA. Deleting a context twice answers SEC_E_OK the second time, as Windows documents.
   */
  async deleteSecurityContext(context: CtxtHandle): Promise<SspiResult> {
    const record = this.handles.context(context);
    if (record === undefined) return { status: this.handles.wasDeleted(context) ? SEC_E_OK : SEC_E_INVALID_HANDLE };
    this.handles.remove(context);
    return this.traced(
      'DeleteSecurityContext',
      undefined,
      async () => {
        // The user-mode half goes whatever it answers: the handle is gone for the application.
        if (record.user !== null) await this.host.call(record.user, 'SpDeleteUserModeContext', (t, h) => t.DeleteUserModeContext(h));
        // The LSA half died with the LSA that held it: the user-mode half is gone now too, and the new LSA never sees the old value.
        if (this.isStale(record)) return { status: SEC_E_INVALID_HANDLE };
        const reply = await this.lpc.call('SpDeleteContext', { hContext: record.lsa });
        return withCause({ status: reply.status }, reply.cause);
      },
      {},
    );
  }

  /** ApplyControlToken -> SpApplyControlToken in the LSA. */
  async applyControlToken(context: CtxtHandle, input: SecBuffer[]): Promise<SspiResult> {
    const record = this.liveContext(context);
    if (record === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (!validBuffers(input)) return { status: SEC_E_INVALID_TOKEN };
    return this.traced(
      'ApplyControlToken',
      undefined,
      async () => {
        const reply = await this.lpc.call('SpApplyControlToken', { hContext: record.lsa, input });
        return withCause({ status: reply.status }, reply.cause);
      },
      {},
    );
  }

  /**
   * QueryContextAttributesW -> the user-mode SpQueryContextAttributes on a mapped context, or
   * SpQueryContextAttributes in the LSA for a context not (yet) mapped and for the levels the
   * package thunks to the LSA (SecpkgContextThunks, reference section 7.9).
   */
  queryContextAttributes<A extends number>(context: CtxtHandle, attribute: A): Promise<QueryContextAttributesResult<A>> {
    const record = this.handles.context(context);
    if (record === undefined) return Promise.resolve({ status: SEC_E_INVALID_HANDLE });
    if (typeof attribute !== 'number') return Promise.resolve({ status: SEC_E_INVALID_PARAMETER });
    const thunked = record.thunkedLevels[0] === SECPKG_ATTR.THUNK_ALL || record.thunkedLevels.includes(attribute);
    const user = record.user;
    const answer = (outcome: Outcome<{ status: Status; Buffer?: unknown }>, user: UserModeContext): QueryContextAttributesResult<A> => {
      const answered = hostStatus(outcome, user, 'SpQueryContextAttributes');
      return outcome.ok && answered.cause === undefined ? { status: answered.status, buffer: outcome.value.Buffer as ContextAttributeValue<A> } : answered;
    };
    if (user !== null && !thunked && !this.points.active) {
      // The user-mode half answers, untraced (a server asks SECPKG_ATTR_NAMES after every handshake): no async function of the library's own.
      const outcome = this.host.call(user, 'SpQueryContextAttributes', (t, h) => t.QueryContextAttributes(h, attribute));
      return outcome instanceof Promise ? outcome.then((o) => answer(o, user)) : Promise.resolve(answer(outcome, user));
    }
    return this.traced<QueryContextAttributesResult<A>>(
      'QueryContextAttributes',
      attributeName(attribute),
      async () => {
        if (user !== null && !thunked) return answer(await this.host.call(user, 'SpQueryContextAttributes', (t, h) => t.QueryContextAttributes(h, attribute)), user);
        if (this.isStale(record)) return { status: SEC_E_INVALID_HANDLE };
        const reply = await this.lpc.call('SpQueryContextAttributes', { hContext: record.lsa, ulAttribute: attribute });
        return withCause({ status: reply.status, buffer: reply.buffer as ContextAttributeValue<A> }, reply.cause);
      },
      {},
    );
  }

  /** QueryCredentialsAttributesW -> SpQueryCredentialsAttributes in the LSA. */
  async queryCredentialsAttributes(credential: CredHandle, attribute: number): Promise<SspiResult & { buffer?: unknown }> {
    const record = this.liveCredential(credential);
    if (record === undefined) return { status: SEC_E_INVALID_HANDLE };
    return this.traced<SspiResult & { buffer?: unknown }>(
      'QueryCredentialsAttributes',
      String(attribute),
      async () => {
        const reply = await this.lpc.call('SpQueryCredentialsAttributes', { hCredential: record.lsa, ulAttribute: attribute });
        return withCause({ status: reply.status, buffer: reply.buffer }, reply.cause);
      },
      {},
    );
  }

  /** MakeSignature -> the user-mode SpMakeSignature, in this process. */
  makeSignature(context: CtxtHandle, qop: number, message: SecBuffer[], sequenceNumber: number): Promise<MessageResult> {
    return this.messageCall('MakeSignature', 'SpMakeSignature', context, message, false, (t, h) =>
      t.MakeSignature(h, qop >>> 0, message, sequenceNumber >>> 0),
    );
  }

  /** VerifySignature -> the user-mode SpVerifySignature, in this process. */
  verifySignature(context: CtxtHandle, message: SecBuffer[], sequenceNumber: number): Promise<VerifyResult> {
    return this.messageCall('VerifySignature', 'SpVerifySignature', context, message, true, (t, h) => t.VerifySignature(h, message, sequenceNumber >>> 0));
  }

  /** EncryptMessage -> the user-mode SpSealMessage, in this process. */
  encryptMessage(context: CtxtHandle, qop: number, message: SecBuffer[], sequenceNumber: number): Promise<MessageResult> {
    return this.messageCall('EncryptMessage', 'SpSealMessage', context, message, false, (t, h) => t.SealMessage(h, qop >>> 0, message, sequenceNumber >>> 0));
  }

  /** DecryptMessage -> the user-mode SpUnsealMessage, in this process. */
  decryptMessage(context: CtxtHandle, message: SecBuffer[], sequenceNumber: number): Promise<VerifyResult> {
    return this.messageCall('DecryptMessage', 'SpUnsealMessage', context, message, true, (t, h) => t.UnsealMessage(h, message, sequenceNumber >>> 0));
  }

  /**
   * ExportSecurityContext -> the user-mode SpExportSecurityContext here (the package's running
   * state), then SpExportSecurityContext in the LSA, which keeps that state and the context and
   * answers the reference that pPackedContext receives (lsa/context-exports.ts: the application
   * never holds the context's keys in a blob). fFlags: SECPKG_CONTEXT_EXPORT_RESET_NEW (the copy
   * starts from the initial state), _DELETE_OLD (this handle is deleted once the LSA holds the
   * export), _TO_KERNEL (SEC_E_UNSUPPORTED_FUNCTION). `importingProcess` (this emulation's, in
   * place of duplicating pToken into the importing process) names the one process that may import
   * it. pToken is always null: there are no access tokens here. A package without the entry point
   * answers SEC_E_UNSUPPORTED_FUNCTION; any refusal changes nothing.
   */
  async exportSecurityContext(context: CtxtHandle, flags: number, options: ExportSecurityContextOptions = {}): Promise<ExportSecurityContextResult> {
    const record = this.liveContext(context);
    // The handle is checked first, as for every function: a foreign handle is invalid, not unsupported.
    if (record === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (typeof flags !== 'number' || (flags & ~EXPORT_FLAGS) !== 0) return { status: SEC_E_INVALID_PARAMETER };
    const importingProcess = options?.importingProcess ?? null;
    if (importingProcess !== null && !Number.isSafeInteger(importingProcess)) return { status: SEC_E_INVALID_PARAMETER };
    if ((flags & SECPKG_CONTEXT_EXPORT.TO_KERNEL) !== 0) return { status: SEC_E_UNSUPPORTED_FUNCTION };
    // A context that is not mapped (not complete) has no user-mode state to hand over.
    if (record.user === null) return { status: SEC_E_INVALID_HANDLE };
    const user = record.user;
    return this.traced<ExportSecurityContextResult>(
      'ExportSecurityContext',
      flags === 0 ? undefined : flagNames(flags, SECPKG_CONTEXT_EXPORT, 'SECPKG_CONTEXT_EXPORT_').join('|'),
      async () => {
        const entry = 'SpExportSecurityContext';
        const outcome = await this.host.call(user, entry, (t, h) => t.ExportContext(h, flags >>> 0));
        const exported = hostStatus(outcome, user, entry);
        if (!isSuccess(exported.status) || exported.cause !== undefined || !outcome.ok) return exported;
        const packed = typeof outcome.value === 'object' ? outcome.value.PackedContext : undefined;
        if (!(packed instanceof Uint8Array))
          return { status: SEC_E_INTERNAL_ERROR, cause: serializeError(badResult({ package: user.packageName, entry }, 'success without a PackedContext')) };
        let reply;
        try {
          reply = await this.lpc.call('SpExportSecurityContext', { hContext: record.lsa, fFlags: flags >>> 0, packedContext: packed, importingProcess });
        } finally {
          packed.fill(0); // the package's state is the LSA's now; this process keeps only its own context
        }
        if (!isSuccess(reply.status) || reply.packedContext === undefined) return withCause({ status: reply.status }, reply.cause);
        if ((flags & SECPKG_CONTEXT_EXPORT.DELETE_OLD) !== 0) {
          // The LSA dropped this process's handle; its user-mode half goes too, whatever it answers.
          this.handles.remove(context);
          await this.host.call(user, 'SpDeleteUserModeContext', (t, h) => t.DeleteUserModeContext(h));
        }
        return { status: reply.status, packedContext: { BufferType: SECBUFFER.TOKEN, pvBuffer: reply.packedContext }, token: null };
      },
      {},
    );
  }

  /**
   * ImportSecurityContextW -> SpImportSecurityContext in the LSA (the reference ExportSecurityContext
   * gave), then the user-mode SpImportSecurityContext here, after SpUserModeInitialize and
   * SpInstanceInit the first time the package is used in this process. The new context continues
   * the exported one's messages where it was (or from the start after RESET_NEW). Token must be
   * null: there are no access tokens here.
   */
  async importSecurityContext(packageName: string, packedContext: SecBuffer, token: null = null): Promise<ImportSecurityContextResult> {
    if (typeof packageName !== 'string' || token !== null) return { status: SEC_E_INVALID_PARAMETER };
    if (typeof packedContext !== 'object' || packedContext === null || !(packedContext.pvBuffer instanceof Uint8Array)) return { status: SEC_E_INVALID_TOKEN };
    return this.traced<ImportSecurityContextResult>(
      'ImportSecurityContext',
      packageName,
      async () => {
        const reply = await this.lpc.call('SpImportSecurityContext', { pszPackage: packageName, packedContext: packedContext.pvBuffer });
        if (!isSuccess(reply.status) || reply.hNewContext === undefined || reply.packageId === undefined || reply.imported === undefined)
          return withCause({ status: reply.status }, reply.cause);
        const imported = await this.host.importContext(reply.imported);
        if (imported.context === undefined) {
          // The package could not take it: the LSA's new handle goes again.
          await this.lpc.call('SpDeleteContext', { hContext: reply.hNewContext });
          return imported.fault === undefined ? { status: imported.status } : { status: imported.status, cause: serializeError(imported.fault) };
        }
        const record: ContextRecord = {
          kind: 'context',
          packageId: reply.packageId,
          lsa: reply.hNewContext,
          generation: this.generation,
          user: imported.context,
          thunkedLevels: reply.imported.thunkedLevels,
        };
        return { status: reply.status, context: this.handles.addContext(record) };
      },
      {},
    );
  }

  /**
   * LsaConnectUntrusted: a connection to the LSA for LsaLookupAuthenticationPackage and
   * LsaCallAuthenticationPackage. It is this process's LPC channel (the LSA knows the caller from
   * it); the handle only names it in this process. Untrusted, as every app process's is.
   */
  async lsaConnectUntrusted(): Promise<LsaConnectUntrustedResult> {
    const lsaHandle = this.nextLsaConnection as LsaConnectionHandle;
    this.nextLsaConnection += 4;
    this.lsaConnections.set(lsaHandle, this.generation);
    if (this.points.active) {
      this.points.point('LsaConnectUntrusted', 'call');
      this.points.point('LsaConnectUntrusted', 'return', { status: statusName(STATUS_SUCCESS) });
    }
    return { status: STATUS_SUCCESS, lsaHandle };
  }

  /** LsaDeregisterLogonProcess: closes a connection; STATUS_INVALID_HANDLE for one that is not open. */
  async lsaDeregisterLogonProcess(lsaHandle: LsaConnectionHandle): Promise<SspiResult> {
    const open = this.lsaConnections.delete(lsaHandle);
    return { status: open ? STATUS_SUCCESS : STATUS_INVALID_HANDLE };
  }

  /**
   * LsaLookupAuthenticationPackage: the id of the package named `packageName` (MICROSOFT_KERBEROS_NAME_A,
   * MSV1_0_PACKAGE_NAME, NEGOSSP_NAME_A, or any loaded package's name); STATUS_NO_SUCH_PACKAGE for
   * an unknown name, STATUS_INVALID_HANDLE for a connection that is not open.
   */
  async lsaLookupAuthenticationPackage(lsaHandle: LsaConnectionHandle, packageName: string): Promise<LsaLookupAuthenticationPackageResult> {
    if (!this.lsaConnectionOpen(lsaHandle)) return { status: STATUS_INVALID_HANDLE };
    if (typeof packageName !== 'string') return { status: STATUS_INVALID_PARAMETER };
    return this.traced<LsaLookupAuthenticationPackageResult>(
      'LsaLookupAuthenticationPackage',
      packageName,
      async () => {
        const reply = await this.lpc.call('LsaLookupAuthenticationPackage', { PackageName: packageName });
        return withCause(
          reply.AuthenticationPackage === undefined || !isSuccess(reply.status)
            ? { status: reply.status }
            : { status: reply.status, authenticationPackage: reply.AuthenticationPackage },
          reply.cause,
        );
      },
      {},
    );
  }

  /**
   * LsaCallAuthenticationPackage -> the package's LsaApCallPackageUntrusted in the LSA, with a copy
   * of `submitBuffer` (its format is the package's: headers/ntsecapi.ts for Kerberos). The result's
   * status is the call's; protocolStatus the package's answer to the message; returnBuffer its reply.
   */
  async lsaCallAuthenticationPackage(
    lsaHandle: LsaConnectionHandle,
    authenticationPackage: number,
    submitBuffer: Uint8Array,
  ): Promise<LsaCallAuthenticationPackageResult> {
    if (!this.lsaConnectionOpen(lsaHandle)) return { status: STATUS_INVALID_HANDLE };
    if (!(submitBuffer instanceof Uint8Array)) return { status: STATUS_INVALID_PARAMETER };
    if (typeof authenticationPackage !== 'number' || !Number.isInteger(authenticationPackage) || authenticationPackage < 0 || authenticationPackage > 0xffff_ffff)
      return { status: STATUS_NO_SUCH_PACKAGE };
    return this.traced<LsaCallAuthenticationPackageResult>(
      'LsaCallAuthenticationPackage',
      `package ${authenticationPackage}, ${submitBuffer.byteLength} bytes`,
      async () => {
        const reply = await this.lpc.call('LsaApCallPackageUntrusted', { AuthenticationPackage: authenticationPackage, ProtocolSubmitBuffer: submitBuffer });
        const result: LsaCallAuthenticationPackageResult = { status: reply.status };
        if (isSuccess(reply.status)) {
          result.protocolStatus = reply.ProtocolStatus ?? STATUS_SUCCESS;
          if (reply.ProtocolReturnBuffer !== undefined) result.returnBuffer = reply.ProtocolReturnBuffer;
        }
        return withCause(result, reply.cause);
      },
      {},
    );
  }

  /** LsaFreeReturnBuffer: a return buffer here is garbage-collected memory, so there is nothing to free. */
  lsaFreeReturnBuffer(_buffer: unknown): Promise<SspiResult> {
    return Promise.resolve({ status: STATUS_SUCCESS });
  }

  /** Whether an LSA connection handle is open, and to the LSA this library talks to now (a restarted LSA never saw it). */
  private lsaConnectionOpen(lsaHandle: unknown): boolean {
    return typeof lsaHandle === 'number' && this.lsaConnections.get(lsaHandle) === this.generation;
  }

  /** FreeContextBuffer: memory here is garbage-collected, so there is nothing to free. */
  freeContextBuffer(_buffer: unknown): Promise<SspiResult> {
    return Promise.resolve({ status: SEC_E_OK });
  }

  /**
   * Talks to a restarted LSA from now on (the machine reattached this process). The handles of
   * the old LSA stay in this process's table, so that a mapped context's user-mode half keeps
   * protecting messages, but every call that would reach the LSA with one answers
   * SEC_E_INVALID_HANDLE without sending it: an old value may name something else in the new LSA.
   */
  reconnect(lpc: Secur32Deps['lpc']): void {
    this.lpc = lpc;
    this.generation++;
  }

  private isStale(record: CredentialRecord | ContextRecord): boolean {
    return record.generation !== this.generation;
  }

  /** A credential of the current LSA, or undefined. */
  private liveCredential(handle: unknown): CredentialRecord | undefined {
    const record = this.handles.credential(handle);
    return record === undefined || this.isStale(record) ? undefined : record;
  }

  /** A context of the current LSA, or undefined. */
  private liveContext(handle: unknown): ContextRecord | undefined {
    const record = this.handles.context(handle);
    return record === undefined || this.isStale(record) ? undefined : record;
  }

  /** Handles this process holds (for stats and leak tests). */
  handleCounts(): { credentials: number; contexts: number } {
    return this.handles.size;
  }

  private async contextCall(
    api: string,
    existing: { record: ContextRecord; handle: CtxtHandle } | null,
    input: SecBuffer[] | null,
    send: () => Promise<ContextReply>,
  ): Promise<ContextResult> {
    const tracing = this.points.active;
    if (tracing) this.points.point(api, 'call', { tokenIn: toBase64(tokenBytes(input)) });
    let reply: ContextReply;
    try {
      reply = await send();
    } catch (error) {
      return this.transportFailure(api, error, contextFailure(SEC_E_INTERNAL_ERROR));
    }
    let status = reply.status;
    let cause = reply.cause;
    let record = existing?.record ?? null;
    if (record === null && reply.hNewContext !== undefined && reply.packageId !== undefined) {
      record = { kind: 'context', packageId: reply.packageId, lsa: reply.hNewContext, generation: this.generation, user: null, thunkedLevels: [] };
    }
    if (reply.mapped !== undefined && record !== null) {
      // MappedContext stops here: the application's result below never carries it.
      // Awaited only when it is a promise: once the package's module is here, it is not.
      const initialized = this.host.initContext(reply.mapped);
      const mapped = initialized instanceof Promise ? await initialized : initialized;
      if (mapped.context !== undefined) {
        record.user = mapped.context;
        record.thunkedLevels = reply.mapped.thunkedLevels;
      } else {
        status = mapped.status;
        if (mapped.fault !== undefined) cause = serializeError(mapped.fault);
      }
    }
    const result: ContextResult = { status, output: reply.output, contextAttr: reply.contextAttr, expiry: reply.expiry };
    if (cause !== undefined) result.cause = cause;
    if (existing !== null) result.context = existing.handle;
    else if (record !== null) result.context = this.handles.addContext(record);
    if (tracing)
      this.points.point(api, 'return', {
        status: statusName(status),
        tokenOut: toBase64(tokenBytes(result.output)),
        ...(cause === undefined ? {} : { detail: describeError(rebuildError(cause)) }),
      });
    return result;
  }

  /**
   * A message function on a mapped context: the package's user-mode entry point, right here. It is
   * on every message an application protects, so a package that answers at once costs one promise
   * (the API's own) and no more: no async function, no deadline. VerifySignature and
   * DecryptMessage (`withQop`) also answer the quality of protection the package found.
   */
  private messageCall<R extends MessageResult>(
    api: string,
    entry: string,
    context: CtxtHandle,
    message: SecBuffer[],
    withQop: R extends VerifyResult ? true : false,
    run: (table: SecpkgUserFunctionTable, handle: number) => MessageAnswer | Promise<MessageAnswer>,
  ): Promise<R> {
    const user = this.handles.context(context)?.user ?? null;
    // A context that is not mapped has no user-mode half to sign or seal with (Wine answers the same).
    if (user === null) return Promise.resolve(messageResult(SEC_E_INVALID_HANDLE, undefined, message, withQop, 0) as R);
    if (!validBuffers(message)) return Promise.resolve(messageResult(SEC_E_INVALID_TOKEN, undefined, message, withQop, 0) as R);
    const count = message.length;
    const tracing = this.points.active;
    if (tracing) this.points.point(api, 'call');
    const outcome = this.host.call(user, entry, run);
    return outcome instanceof Promise
      ? outcome.then((o) => this.messageDone(api, tracing, user, entry, message, count, withQop, o) as R)
      : Promise.resolve(this.messageDone(api, tracing, user, entry, message, count, withQop, outcome) as R);
  }

  /**
   * A message function's answer as the API's result. The package writes into the application's
   * buffers: what it leaves is checked as the application's buffers were before the call (`count`
   * of them, each a SecBuffer), and a package that leaves anything else has failed the call
   * (SEC_E_INTERNAL_ERROR, PACKAGE_BAD_RESULT naming the buffer), whatever it answered: a success
   * would hand the application a message the peer cannot read. None of what it left is handed on.
   */
  private messageDone(
    api: string,
    tracing: boolean,
    user: UserModeContext,
    entry: string,
    message: SecBuffer[],
    count: number,
    withQop: boolean,
    outcome: Outcome<MessageAnswer>,
  ): MessageResult | VerifyResult {
    let result = statusResult(outcome, user.packageName, entry);
    const left = bufferProblem(message, count);
    if (left !== undefined && result.fault === undefined)
      result = { status: SEC_E_INTERNAL_ERROR, fault: badResult({ package: user.packageName, entry }, `${statusName(result.status)} with ${left}`) };
    const cause = result.fault === undefined ? undefined : serializeError(result.fault);
    if (tracing)
      this.points.point(
        api,
        'return',
        cause === undefined ? { status: statusName(result.status) } : { status: statusName(result.status), detail: cause.message },
      );
    const qop = cause === undefined && outcome.ok ? qualityOf(outcome.value) : 0;
    return messageResult(result.status, cause, left === undefined ? message : [], withQop, qop);
  }

  /** Runs an LPC-backed API call, tracing it and turning a transport failure into SEC_E_INTERNAL_ERROR. */
  private async traced<T extends SspiResult>(api: string, detail: string | undefined, run: () => Promise<T>, onFailure: Omit<T, 'status'>): Promise<T> {
    if (this.points.active) this.points.point(api, 'call', detail === undefined ? undefined : { detail });
    let result: T;
    try {
      result = await run();
    } catch (error) {
      return this.transportFailure(api, error, { ...onFailure, status: SEC_E_INTERNAL_ERROR } as T);
    }
    if (this.points.active)
      this.points.point(
        api,
        'return',
        result.cause === undefined
          ? { status: statusName(result.status) }
          : { status: statusName(result.status), detail: describeError(rebuildError(result.cause)) },
      );
    return result;
  }

  private transportFailure<T extends SspiResult>(api: string, error: unknown, result: T): T {
    const cause = error instanceof TransportError ? error : new TransportError('REMOTE_FAILURE', `${api}: ${describeValue(error)}`, { cause: error });
    this.points.point(api, 'return', { status: 'SEC_E_INTERNAL_ERROR', detail: cause.message });
    return { ...result, cause: serializeError(cause) };
  }
}

/** What a package's user-mode message function answers: a status, or (verify, unseal) a status and the quality of protection. */
type MessageAnswer = Status | { status: Status; QualityOfProtection?: number };

function messageResult(status: Status, cause: SerializedError | undefined, message: SecBuffer[], withQop: boolean, qop: number): MessageResult | VerifyResult {
  if (withQop) return cause === undefined ? { status, message, qop } : { status, cause, message, qop };
  return cause === undefined ? { status, message } : { status, cause, message };
}

function contextFailure(status: Status): ContextResult {
  return { status, output: [], contextAttr: 0, expiry: 0n };
}

function withCause<T extends SspiResult>(result: T, cause: SerializedError | undefined): T {
  if (cause !== undefined) result.cause = cause;
  return result;
}

/** Whether an application's buffers are SecBuffers (an array, no Proxy, each as bufferProblem checks). */
function validBuffers(buffers: unknown): buffers is SecBuffer[] {
  return typeof buffers === 'object' && buffers !== null && !types.isProxy(buffers) && Array.isArray(buffers) && bufferProblem(buffers) === undefined;
}

/**
 * What is wrong with message buffers, naming the first wrong one ("message buffer 1 whose pvBuffer
 * is a string, not a Uint8Array"), or undefined: each is a SecBuffer (an object, not a Proxy, with
 * a number for BufferType and a Uint8Array for pvBuffer), and there are `count` of them when that
 * is given. They are read without trusting them: a getter that throws (of an index, of a field)
 * makes a problem, never an exception.
 */
function bufferProblem(buffers: readonly unknown[], count?: number): string | undefined {
  const length = buffers.length;
  if (count !== undefined && length !== count) return `${length} message buffer${length === 1 ? '' : 's'} where it was given ${count}`;
  for (let i = 0; i < length; i++) {
    // Each read on its own (no object made for it: this runs twice on every message).
    let b: unknown;
    try {
      b = buffers[i];
    } catch {
      return `message buffer ${i} that cannot be read`;
    }
    if (typeof b !== 'object' || b === null || types.isProxy(b)) return `message buffer ${i} that is ${valueKind(b)}, not a SecBuffer`;
    let type: unknown;
    try {
      type = (b as { BufferType?: unknown }).BufferType;
    } catch {
      return `message buffer ${i} whose BufferType cannot be read`;
    }
    if (typeof type !== 'number') return `message buffer ${i} whose BufferType is ${valueKind(type)}, not a number`;
    let data: unknown;
    try {
      data = (b as { pvBuffer?: unknown }).pvBuffer;
    } catch {
      return `message buffer ${i} whose pvBuffer cannot be read`;
    }
    if (!isBytes(data)) return `message buffer ${i} whose pvBuffer is ${valueKind(data)}, not a Uint8Array`;
  }
  return undefined;
}

/** Whether a value is a Uint8Array, and no Proxy of one (instanceof would run its traps; neither clones nor works as bytes). */
function isBytes(value: unknown): value is Uint8Array {
  if (!ArrayBuffer.isView(value)) return false;
  try {
    return value instanceof Uint8Array;
  } catch {
    return false; // a Proxy on its prototype chain
  }
}

/** The quality of protection a verify or unseal answered (0 when it answered none, or its getter throws). */
function qualityOf(answer: MessageAnswer): number {
  if (typeof answer !== 'object' || answer === null) return 0;
  try {
    return answer.QualityOfProtection ?? 0;
  } catch {
    return 0;
  }
}

/** A user-mode call's outcome as an API result: its status, or SEC_E_INTERNAL_ERROR with the package's fault as the cause. */
function hostStatus(outcome: Outcome<unknown>, user: UserModeContext, entry: string): SspiResult {
  const result = statusResult(outcome, user.packageName, entry);
  return result.fault === undefined ? { status: result.status } : { status: result.status, cause: serializeError(result.fault) };
}

/** The output buffers asked for when the caller names none: one token (read by the frame encoder, never written). */
const TOKEN_OUTPUT: readonly number[] = Object.freeze([SECBUFFER.TOKEN]);

/**
 * `run`'s answer as a promise, as an async function would give it (a throw rejects), without being
 * one: InitializeSecurityContext and AcceptSecurityContext return their call's own promise rather
 * than a second one that waits for it.
 */
function settled<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    const value = run();
    return value instanceof Promise ? value : Promise.resolve(value);
  } catch (error) {
    return Promise.reject(error);
  }
}
