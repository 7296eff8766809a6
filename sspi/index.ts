// sspi/: the SSPI library each app process loads (Secur32 of the seed) and the user-mode package host.
export { packAuthIdentity, unpackAuthIdentity } from './auth-identity.js';
export { ClientHeap } from './client-heap.js';
export { type CredHandle, type CtxtHandle } from './handles.js';
export {
  Secur32,
  type ContextResult,
  type ExportSecurityContextOptions,
  type ExportSecurityContextResult,
  type ImportSecurityContextResult,
  type LsaCallAuthenticationPackageResult,
  type LsaConnectionHandle,
  type LsaConnectUntrustedResult,
  type LsaLookupAuthenticationPackageResult,
  type MessageResult,
  type RemoteSecur32,
  type SspiResult,
  type VerifyResult,
} from './secur32.js';
export { UserModeHost } from './user-mode-host.js';
