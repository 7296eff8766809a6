// The LPC vocabulary between an app process's SSPI library and the LSA, in both directions.
// Each operation is named after the Windows function the receiving side runs, so a raw dump of
// the channel reads like the seed: SpAcquireCredentialsHandle, SpInitLsaModeContext, ...
// The LSA learns who is calling from the port a message came in on, never from its body: no
// request here carries a process id.

import type { ClientBufferRef, LUID, PackageId } from '../headers/ntsecpkg.js';
import type { SecBuffer, SecPkgInfo } from '../headers/sspi.js';
import type { Status } from '../headers/status.js';
import type { SerializedError } from './errors.js';
import type { LsaHandle } from './ids.js';

/** Every LPC reply carries a status; `cause` explains a SEC_E_INTERNAL_ERROR the LSA produced itself. */
export interface LpcReplyBase {
  status: Status;
  cause?: SerializedError;
}

/**
 * What the LSA delivers to the calling process when a package returned MappedContext = TRUE.
 * The application's API result never sees it: the SSPI library consumes it to initialize the
 * package's user-mode half (SpUserModeInitialize, SpInstanceInit, SpInitUserModeContext).
 */
export interface MappedContextDelivery {
  packageId: PackageId;
  packageName: string;
  /** The module the package was loaded from, so the process can import its user-mode half. */
  moduleUrl: string;
  /** Which of the module's tables this package is (SpUserModeInitialize returns them in the same order). */
  tableIndex: number;
  /** Every package of that module by table index, so each user table gets its own PackageId. */
  modulePackages: Array<{ packageId: PackageId; name: string }>;
  /** The package's own LSA_SEC_HANDLE for the context, given to SpInitUserModeContext. */
  lsaContextHandle: number;
  contextData: Uint8Array;
  /** QueryContextAttributes levels the package runs in the LSA (SecpkgContextThunks). */
  thunkedLevels: number[];
}

export interface ContextReply extends LpcReplyBase {
  hNewContext?: LsaHandle;
  packageId?: PackageId;
  output: SecBuffer[];
  contextAttr: number;
  expiry: bigint;
  mapped?: MappedContextDelivery;
}

/** Calls from an app process to the LSA. */
export type ProcessToLsaOps = {
  EnumerateSecurityPackages: { request: Record<string, never>; reply: LpcReplyBase & { packages: SecPkgInfo[] } };
  QuerySecurityPackageInfo: { request: { pszPackageName: string }; reply: LpcReplyBase & { info?: SecPkgInfo } };
  SpAcquireCredentialsHandle: {
    request: { pszPrincipal: string | null; pszPackage: string; fCredentialUse: number; pvLogonId: LUID | null; pAuthData: ClientBufferRef | null };
    reply: LpcReplyBase & { hCredential?: LsaHandle; packageId?: PackageId; expiry?: bigint };
  };
  SpFreeCredentialsHandle: { request: { hCredential: LsaHandle }; reply: LpcReplyBase };
  SpQueryCredentialsAttributes: { request: { hCredential: LsaHandle; ulAttribute: number }; reply: LpcReplyBase & { buffer?: unknown } };
  SpInitLsaModeContext: {
    request: {
      hCredential: LsaHandle | null;
      hContext: LsaHandle | null;
      pszTargetName: string | null;
      fContextReq: number;
      TargetDataRep: number;
      input: SecBuffer[] | null;
      /** The shapes (types) of the output buffers the caller provides. */
      outputTypes: number[];
    };
    reply: ContextReply;
  };
  SpAcceptLsaModeContext: {
    request: {
      hCredential: LsaHandle | null;
      hContext: LsaHandle | null;
      input: SecBuffer[];
      fContextReq: number;
      TargetDataRep: number;
      outputTypes: number[];
    };
    reply: ContextReply;
  };
  SpDeleteContext: { request: { hContext: LsaHandle }; reply: LpcReplyBase };
  SpQueryContextAttributes: { request: { hContext: LsaHandle; ulAttribute: number }; reply: LpcReplyBase & { buffer?: unknown } };
  SpApplyControlToken: { request: { hContext: LsaHandle; input: SecBuffer[] }; reply: LpcReplyBase };
};

/** Calls from the LSA into an app process: its address space and its registered callbacks. */
export type LsaToProcessOps = {
  AllocateClientBuffer: { request: { length: number }; reply: LpcReplyBase & { address?: number } };
  FreeClientBuffer: { request: { address: number }; reply: LpcReplyBase };
  CopyToClientBuffer: { request: { address: number; bytes: Uint8Array }; reply: LpcReplyBase };
  CopyFromClientBuffer: { request: { address: number; length: number }; reply: LpcReplyBase & { bytes?: Uint8Array } };
  ClientCallback: {
    request: { packageId: PackageId; callbackId: number; argument1: number; argument2: number; input: SecBuffer };
    reply: LpcReplyBase & { output?: SecBuffer };
  };
};

export type LpcOp = keyof ProcessToLsaOps;
export type LsaCallbackOp = keyof LsaToProcessOps;
