// ntsecpkg.h [SDK-pkg]: the SSP/AP package interface, as listed in
// ../shared/reference/sspi-reference.md section 7. A package is a module that exports
// SpLsaModeInitialize and SpUserModeInitialize, like a DLL; everything else it offers is reached
// through the tables those two return, member by member in the header's order.
//
// How C becomes TypeScript here:
// - out parameters become fields of the returned object, next to `status` (the NTSTATUS);
// - in/out SecBufferDesc parameters are SecBuffer arrays the function may write into;
// - functions may answer synchronously or with a Promise (`Awaitable`): LSA functions that reach
//   into the calling process (AllocateClientBuffer, CopyFromClientBuffer, ClientCallback) cross a
//   thread boundary and are always asynchronous.

import type { SecBuffer, SecPkgInfo } from './sspi.js';
import type { Status } from './status.js';

export type Awaitable<T> = T | Promise<T>;

declare const packageIdBrand: unique symbol;
/** The id the LSA gives a package in SpInitialize; unique until the LSA restarts. */
export type PackageId = number & { readonly [packageIdBrand]: 'PackageId' };

/** LSA_SEC_HANDLE: a handle value the package chooses for a credential or context; opaque to the LSA. */
export type LSA_SEC_HANDLE = number;

/** LUID, as a bigint (HighPart << 32 | LowPart). */
export type LUID = bigint;

/** SECPKG_INTERFACE_VERSION*, section 7.1: what SpLsaModeInitialize and SpUserModeInitialize report. */
export const SECPKG_INTERFACE_VERSION = 0x00010000;
export const SECPKG_INTERFACE_VERSION_2 = 0x00020000;
export const SECPKG_INTERFACE_VERSION_3 = 0x00040000;

/** SECURITY_LOGON_TYPE, section 2.6. */
export const SECURITY_LOGON_TYPE = {
  UndefinedLogonType: 0,
  Interactive: 2,
  Network: 3,
  Batch: 4,
  Service: 5,
  Proxy: 6,
  Unlock: 7,
  NetworkCleartext: 8,
  NewCredentials: 9,
} as const;

/** SECPKG_STATE_* bits of SECPKG_PARAMETERS.MachineState, section 7.7. */
export const SECPKG_STATE = {
  ENCRYPTION_PERMITTED: 0x01,
  STRONG_ENCRYPTION_PERMITTED: 0x02,
  DOMAIN_CONTROLLER: 0x04,
  WORKSTATION: 0x08,
  STANDALONE: 0x10,
} as const;

/** SECPKG_NAME_TYPE, section 7.7: how OpenSamUser reads its Name. */
export const SECPKG_NAME_TYPE = { SecNameSamCompatible: 0, SecNameAlternateId: 1, SecNameFlat: 2, SecNameDN: 3, SecNameSPN: 4 } as const;

/** SECPKG_EXTENDED_INFORMATION_CLASS, section 7.7. */
export const SECPKG_EXTENDED_INFORMATION_CLASS = {
  SecpkgGssInfo: 1,
  SecpkgContextThunks: 2,
  SecpkgMutualAuthLevel: 3,
  SecpkgWowClientDll: 4,
  SecpkgExtraOids: 5,
  SecpkgMaxInfo: 6,
  SecpkgNego2Info: 7,
} as const;

/** SECPKG_CLIENT_INFO.ClientFlags, section 7.7. */
export const SECPKG_CLIENT_PROCESS_TERMINATED = 0x01;
export const SECPKG_CLIENT_THREAD_TERMINATED = 0x02;

/** SECPKG_CALL_* attribute bits of SECPKG_CALL_INFO, section 7.7. */
export const SECPKG_CALL = { KERNEL_MODE: 0x1, ANSI: 0x2, URGENT: 0x4, RECURSIVE: 0x8, IN_PROC: 0x10, CLEANUP: 0x20 } as const;

/** SECPKG_PARAMETERS, given to SpInitialize. */
export interface SecpkgParameters {
  Version: number;
  MachineState: number;
  SetupMode: number;
  DomainName: string;
  DnsDomainName: string;
  /** Not in the header: the emulated machine's NetBIOS and DNS computer names, which NTLM needs. */
  ComputerName: string;
  DnsComputerName: string;
  /** Not in the header: package-specific settings from the LSA configuration (the registry's place). */
  PackageSettings: Readonly<Record<string, unknown>>;
}

/** SECPKG_CLIENT_INFO, from GetClientInfo. */
export interface SecpkgClientInfo {
  LogonId: LUID;
  ProcessID: number;
  ThreadID: number;
  HasTcbPrivilege: boolean;
  Impersonating: boolean;
  Restricted: boolean;
  ClientFlags: number;
  ImpersonationLevel: number;
}

/** SECPKG_CALL_INFO, from GetCallInfo. */
export interface SecpkgCallInfo {
  ProcessId: number;
  ThreadId: number;
  Attributes: number;
  CallCount: number;
}

/** SECPKG_PRIMARY_CRED (the fields this emulation fills), given to SpAcceptCredentials. */
export interface SecpkgPrimaryCred {
  LogonId: LUID;
  DownlevelName: string;
  DomainName: string;
  /** The clear password, as Windows hands it to packages at an interactive logon (PRIMARY_CRED_CLEAR_PASSWORD). */
  Password: string;
  Flags: number;
}
export const PRIMARY_CRED_CLEAR_PASSWORD = 0x1;

/** SECPKG_SUPPLEMENTAL_CRED. */
export interface SecpkgSupplementalCred {
  PackageName: string;
  Credentials: Uint8Array;
}

/**
 * A pointer into the calling process's address space, as the LSA sees one: the address of a
 * buffer in the client's heap and its length. Only CopyFromClientBuffer reads through it.
 */
export interface ClientBufferRef {
  address: number;
  length: number;
}

/** PLSA_CLIENT_REQUEST: the call a client buffer function acts for; null means the current call. */
export type LsaClientRequest = { readonly processId: number; readonly callId: number } | null;

// ---------------------------------------------------------------------------------------------
// SECPKG_FUNCTION_TABLE (LSA mode), section 7.2
// ---------------------------------------------------------------------------------------------

export interface SpAcquireCredentialsHandleResult {
  status: Status;
  CredentialHandle?: LSA_SEC_HANDLE;
  ExpirationTime?: bigint;
}

export interface SpContextResult {
  status: Status;
  NewContextHandle?: LSA_SEC_HANDLE;
  /** ISC_RET_* or ASC_RET_* bits. */
  ContextAttributes?: number;
  ExpirationTime?: bigint;
  /** TRUE when the package implements the user-mode functions and the context is complete. */
  MappedContext?: boolean;
  /** What the LSA copies into the caller's process for SpInitUserModeContext. */
  ContextData?: Uint8Array;
  /**
   * Not in the header (sspi-emu's own): the context mapped into the process is another package's,
   * one this package drives through the LSA (LocatePackageById), as Negotiate's mechanism is. The
   * LSA checks that this package holds that context, then delivers that package's user-mode half
   * with ContextData (the mechanism's own) for that handle; the application's handle still names
   * this package.
   */
  MappedPackage?: { PackageId: PackageId; ContextHandle: LSA_SEC_HANDLE };
}

export interface SpQueryAttributesResult {
  status: Status;
  Buffer?: unknown;
}

export interface SpGetInfoResult {
  status: Status;
  PackageInfo?: SecPkgInfo;
}

export interface SecpkgContextThunks {
  InfoLevelCount: number;
  Levels: number[];
}

export interface SpGetExtendedInformationResult {
  status: Status;
  ppInformation?: { Class: number; Info: SecpkgContextThunks | Readonly<Record<string, unknown>> };
}

/** LSA_AP_LOGON_TERMINATED: the logon session is gone (its process exited); drop what it held. */
export type LsaApLogonTerminatedFn = (LogonId: LUID) => Awaitable<void>;
export type SpInitializeFn = (PackageId: PackageId, Parameters: SecpkgParameters, FunctionTable: LsaSecpkgFunctionTable) => Awaitable<Status>;
export type SpShutdownFn = () => Awaitable<Status>;
export type SpGetInfoFn = () => Awaitable<SpGetInfoResult>;
export type SpAcceptCredentialsFn = (
  LogonType: number,
  AccountName: string,
  PrimaryCredentials: SecpkgPrimaryCred | null,
  SupplementalCredentials: SecpkgSupplementalCred | null,
) => Awaitable<Status>;
export type SpAcquireCredentialsHandleFn = (
  PrincipalName: string | null,
  CredentialUseFlags: number,
  LogonId: LUID | null,
  AuthorizationData: ClientBufferRef | null,
  GetKeyFunction: null,
  GetKeyArgument: null,
) => Awaitable<SpAcquireCredentialsHandleResult>;
export type SpQueryCredentialsAttributesFn = (CredentialHandle: LSA_SEC_HANDLE, CredentialAttribute: number) => Awaitable<SpQueryAttributesResult>;
export type SpFreeCredentialsHandleFn = (CredentialHandle: LSA_SEC_HANDLE) => Awaitable<Status>;
export type SpInitLsaModeContextFn = (
  CredentialHandle: LSA_SEC_HANDLE | null,
  ContextHandle: LSA_SEC_HANDLE | null,
  TargetName: string | null,
  ContextRequirements: number,
  TargetDataRep: number,
  InputBuffers: SecBuffer[] | null,
  OutputBuffers: SecBuffer[],
) => Awaitable<SpContextResult>;
export type SpAcceptLsaModeContextFn = (
  CredentialHandle: LSA_SEC_HANDLE | null,
  ContextHandle: LSA_SEC_HANDLE | null,
  InputBuffer: SecBuffer[],
  ContextRequirements: number,
  TargetDataRep: number,
  OutputBuffer: SecBuffer[],
) => Awaitable<SpContextResult>;
export type SpDeleteContextFn = (ContextHandle: LSA_SEC_HANDLE) => Awaitable<Status>;
export type SpApplyControlTokenFn = (ContextHandle: LSA_SEC_HANDLE, ControlToken: SecBuffer[]) => Awaitable<Status>;
export type SpQueryContextAttributesFn = (ContextHandle: LSA_SEC_HANDLE, ContextAttribute: number) => Awaitable<SpQueryAttributesResult>;
export type SpGetExtendedInformationFn = (Class: number) => Awaitable<SpGetExtendedInformationResult>;
/** What LsaApCallPackagePassthrough answers: the call's status and the package's reply (ProtocolReturnBuffer) with its own status. */
export interface LsaApCallPackageResult {
  status: Status;
  ProtocolReturnBuffer?: Uint8Array;
  ReturnBufferLength?: number;
  ProtocolStatus?: Status;
}
/**
 * LsaApCallPackagePassthrough (section 7.2, #6): a pass-through request for the package. Here it
 * is what reaches a domain controller's package from a member's (the LSA function
 * CallPackagePassthrough, through Netlogon), with a null ClientRequest: the caller is the member's
 * LSA, not a process of this machine.
 */
export type LsaApCallPackagePassthroughFn = (
  ClientRequest: LsaClientRequest,
  ProtocolSubmitBuffer: Uint8Array,
  ClientBufferBase: number | null,
  SubmitBufferLength: number,
) => Awaitable<LsaApCallPackageResult>;
/**
 * LsaApCallPackage and LsaApCallPackageUntrusted (section 7.2, #3 and #5): what an application's
 * LsaCallAuthenticationPackage reaches. The LSA calls CallPackageUntrusted for every app process
 * (none holds SeTcbPrivilege, so none has a trusted connection; LsaRegisterLogonProcess is not
 * offered), with a null ClientRequest: the current call, whose caller GetClientInfo names (its
 * LogonId from its connection, never from the buffer). ProtocolSubmitBuffer is the LSA's private
 * copy; ClientBufferBase is 0 (the submit buffer's pointers are offsets into it, headers/ntsecapi.ts).
 * The return is the call's status (the LSA's answer to the application); ProtocolStatus the
 * message's own outcome, and ProtocolReturnBuffer what the application gets (the LSA copies it into
 * the caller's process, as AllocateClientBuffer and CopyToClientBuffer would).
 */
export type LsaApCallPackageFn = (
  ClientRequest: LsaClientRequest,
  ProtocolSubmitBuffer: Uint8Array,
  ClientBufferBase: number | null,
  SubmitBufferLength: number,
) => Awaitable<LsaApCallPackageResult>;
/** A member this emulation never calls; its type only keeps the table's shape. */
export type SpUnusedFn = (...args: never[]) => Awaitable<Status | { status: Status }>;

/** SECPKG_FUNCTION_TABLE, every member in the header's order (section 7.2, #1 to #43). */
export interface SecpkgFunctionTable {
  InitializePackage: SpUnusedFn;
  LogonUser: SpUnusedFn;
  CallPackage: LsaApCallPackageFn;
  LogonTerminated: LsaApLogonTerminatedFn;
  CallPackageUntrusted: LsaApCallPackageFn;
  CallPackagePassthrough: LsaApCallPackagePassthroughFn;
  LogonUserEx: SpUnusedFn;
  LogonUserEx2: SpUnusedFn;
  Initialize: SpInitializeFn;
  Shutdown: SpShutdownFn;
  GetInfo: SpGetInfoFn;
  AcceptCredentials: SpAcceptCredentialsFn;
  AcquireCredentialsHandle: SpAcquireCredentialsHandleFn;
  QueryCredentialsAttributes: SpQueryCredentialsAttributesFn;
  FreeCredentialsHandle: SpFreeCredentialsHandleFn;
  SaveCredentials: SpUnusedFn;
  GetCredentials: SpUnusedFn;
  DeleteCredentials: SpUnusedFn;
  InitLsaModeContext: SpInitLsaModeContextFn;
  AcceptLsaModeContext: SpAcceptLsaModeContextFn;
  DeleteContext: SpDeleteContextFn;
  ApplyControlToken: SpApplyControlTokenFn;
  GetUserInfo: SpUnusedFn;
  GetExtendedInformation: SpGetExtendedInformationFn;
  QueryContextAttributes: SpQueryContextAttributesFn;
  AddCredentials: SpUnusedFn;
  SetExtendedInformation: SpUnusedFn;
  SetContextAttributes: SpUnusedFn;
  SetCredentialsAttributes: SpUnusedFn;
  ChangeAccountPassword: SpUnusedFn;
  QueryMetaData: SpUnusedFn;
  ExchangeMetaData: SpUnusedFn;
  GetCredUIContext: SpUnusedFn;
  UpdateCredentials: SpUnusedFn;
  ValidateTargetInfo: SpUnusedFn;
  PostLogonUser: SpUnusedFn;
  GetRemoteCredGuardLogonBuffer: SpUnusedFn;
  GetRemoteCredGuardSupplementalCreds: SpUnusedFn;
  GetTbalSupplementalCreds: SpUnusedFn;
  LogonUserEx3: SpUnusedFn;
  PreLogonUserSurrogate: SpUnusedFn;
  PostLogonUserSurrogate: SpUnusedFn;
  ExtractTargetInfo: SpUnusedFn;
}

export interface SpLsaModeInitializeResult {
  status: Status;
  PackageVersion: number;
  ppTables: SecpkgFunctionTable[];
}
export type SpLsaModeInitializeFn = (LsaVersion: number) => Awaitable<SpLsaModeInitializeResult>;

// ---------------------------------------------------------------------------------------------
// SECPKG_USER_FUNCTION_TABLE (user mode, in the application's process), section 7.4
// ---------------------------------------------------------------------------------------------

export interface SpVerifyResult {
  status: Status;
  QualityOfProtection?: number;
}

export type SpInstanceInitFn = (Version: number, FunctionTable: SecpkgDllFunctions) => Awaitable<Status>;
export type SpInitUserModeContextFn = (ContextHandle: LSA_SEC_HANDLE, PackedContext: Uint8Array) => Awaitable<Status>;
export type SpMakeSignatureFn = (
  ContextHandle: LSA_SEC_HANDLE,
  QualityOfProtection: number,
  MessageBuffers: SecBuffer[],
  MessageSequenceNumber: number,
) => Awaitable<Status>;
export type SpVerifySignatureFn = (ContextHandle: LSA_SEC_HANDLE, MessageBuffers: SecBuffer[], MessageSequenceNumber: number) => Awaitable<SpVerifyResult>;
export type SpSealMessageFn = SpMakeSignatureFn;
export type SpUnsealMessageFn = SpVerifySignatureFn;
export type SpCompleteAuthTokenFn = (ContextHandle: LSA_SEC_HANDLE, InputBuffer: SecBuffer[]) => Awaitable<Status>;
export type SpDeleteUserModeContextFn = (ContextHandle: LSA_SEC_HANDLE) => Awaitable<Status>;

/** SpExportSecurityContext's out-parameters. */
export interface SpExportSecurityContextResult {
  status: Status;
  /**
   * pPackedContext: the package's own form of the context's running state, what another process
   * needs to continue it where it is (sequence numbers, keystreams). The LSA keeps it; the
   * application gets an LSA-issued reference in its place (README, ExportSecurityContext).
   */
  PackedContext?: Uint8Array;
}

/** SpImportSecurityContext's out-parameter. */
export interface SpImportSecurityContextResult {
  status: Status;
  /** phContext: the handle the package's user-mode functions will be called with for the new context. */
  ContextHandle?: LSA_SEC_HANDLE;
}

/**
 * SpExportSecurityContextFn (user mode): the context's state for another process. fFlags are
 * SECPKG_CONTEXT_EXPORT_*; with RESET_NEW the state is the context's initial one. pToken is not
 * given: this emulation has no access tokens. A bare status (SEC_E_UNSUPPORTED_FUNCTION) is a refusal.
 */
export type SpExportSecurityContextFn = (phContext: LSA_SEC_HANDLE, fFlags: number) => Awaitable<SpExportSecurityContextResult | Status>;

/**
 * SpImportSecurityContextFn (user mode), in the importing process. pPackedContext is what the LSA
 * delivers (unpackImportedContext reads it): the ContextData the LSA kept from the handshake, the
 * facts it vouches for, as a mapped context gets them, and the exporting package's PackedContext,
 * which its own process produced. Token is null (no access tokens here).
 */
export type SpImportSecurityContextFn = (pPackedContext: Uint8Array, Token: null) => Awaitable<SpImportSecurityContextResult | Status>;

/**
 * What SpImportSecurityContext receives, as the LSA lays it out: magic "SXIC", format 1, three
 * reserved bytes, the ContextData length (u32 LE), the PackedContext length (u32 LE), then the two.
 */
export interface ImportedContext {
  /** The ContextData the package's LSA-mode half returned when the context completed, kept by the LSA. */
  ContextData: Uint8Array;
  /** What SpExportSecurityContext returned in the exporting process. */
  PackedContext: Uint8Array;
}

const IMPORTED_MAGIC = [0x53, 0x58, 0x49, 0x43]; // "SXIC"
const IMPORTED_FORMAT = 1;
const IMPORTED_HEADER_BYTES = 16;

/** The LSA's side: lays out what SpImportSecurityContext receives. */
export function packImportedContext(imported: ImportedContext): Uint8Array {
  const { ContextData, PackedContext } = imported;
  const bytes = new Uint8Array(IMPORTED_HEADER_BYTES + ContextData.byteLength + PackedContext.byteLength);
  const view = new DataView(bytes.buffer);
  bytes.set(IMPORTED_MAGIC, 0);
  bytes[4] = IMPORTED_FORMAT;
  view.setUint32(8, ContextData.byteLength, true);
  view.setUint32(12, PackedContext.byteLength, true);
  bytes.set(ContextData, IMPORTED_HEADER_BYTES);
  bytes.set(PackedContext, IMPORTED_HEADER_BYTES + ContextData.byteLength);
  return bytes;
}

/** The package's side: the two parts of pPackedContext (copies), or undefined when it is not laid out so. */
export function unpackImportedContext(packed: Uint8Array): ImportedContext | undefined {
  if (!(packed instanceof Uint8Array) || packed.byteLength < IMPORTED_HEADER_BYTES) return undefined;
  if (IMPORTED_MAGIC.some((b, i) => packed[i] !== b) || packed[4] !== IMPORTED_FORMAT || packed[5] !== 0 || packed[6] !== 0 || packed[7] !== 0)
    return undefined;
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const contextBytes = view.getUint32(8, true);
  const packedBytes = view.getUint32(12, true);
  if (IMPORTED_HEADER_BYTES + contextBytes + packedBytes !== packed.byteLength) return undefined;
  const at = IMPORTED_HEADER_BYTES + contextBytes;
  return { ContextData: packed.slice(IMPORTED_HEADER_BYTES, at), PackedContext: packed.slice(at) };
}

/** SECPKG_USER_FUNCTION_TABLE, every member in the header's order (section 7.4, #1 to #15). */
export interface SecpkgUserFunctionTable {
  InstanceInit: SpInstanceInitFn;
  InitUserModeContext: SpInitUserModeContextFn;
  MakeSignature: SpMakeSignatureFn;
  VerifySignature: SpVerifySignatureFn;
  SealMessage: SpSealMessageFn;
  UnsealMessage: SpUnsealMessageFn;
  GetContextToken: SpUnusedFn;
  QueryContextAttributes: SpQueryContextAttributesFn;
  CompleteAuthToken: SpCompleteAuthTokenFn;
  DeleteUserModeContext: SpDeleteUserModeContextFn;
  FormatCredentials: SpUnusedFn;
  MarshallSupplementalCreds: SpUnusedFn;
  ExportContext: SpExportSecurityContextFn;
  ImportContext: SpImportSecurityContextFn;
  MarshalAttributeData: SpUnusedFn;
}

export interface SpUserModeInitializeResult {
  status: Status;
  PackageVersion: number;
  ppTables: SecpkgUserFunctionTable[];
}
export type SpUserModeInitializeFn = (LsaVersion: number) => Awaitable<SpUserModeInitializeResult>;

/** LSA_CALLBACK_FUNCTION: what RegisterCallback registers and ClientCallback reaches. */
export type LsaCallbackFunction = (Argument1: number, Argument2: number, InputBuffer: SecBuffer) => Awaitable<{ status: Status; OutputBuffer?: SecBuffer }>;

/** SECPKG_DLL_FUNCTIONS, given to SpInstanceInit (section 7.5). */
export interface SecpkgDllFunctions {
  AllocateHeap(Length: number): Uint8Array;
  FreeHeap(Base: Uint8Array): void;
  RegisterCallback(CallbackId: number, Callback: LsaCallbackFunction): Status;
  LocatePackageById(PackageId: PackageId): SecpkgUserFunctionTable | null;
}

/** What a package module exports: the two initializers and nothing else, like a DLL. */
export interface SecurityPackageModule {
  SpLsaModeInitialize: SpLsaModeInitializeFn;
  SpUserModeInitialize?: SpUserModeInitializeFn;
}

// ---------------------------------------------------------------------------------------------
// LSA_SECPKG_FUNCTION_TABLE (given to SpInitialize), section 7.6
// ---------------------------------------------------------------------------------------------

/** An LSA function this emulation does not provide: it answers STATUS_NOT_IMPLEMENTED. */
export type LsaNotImplementedFn = (...args: unknown[]) => Status;

/** BCryptDeriveKeyPBKDF2's parameters (bcrypt.h): the PRF is HMAC over the named hash (its BCRYPT_*_ALGORITHM name). */
export interface Pbkdf2Parameters {
  Prf: 'SHA1' | 'SHA256' | 'SHA384' | 'SHA512';
  Password: Uint8Array;
  Salt: Uint8Array;
  Iterations: number;
  DerivedKeyLength: number;
}

/**
 * The work routines CreateThread runs, by name (the StartFunction), with what each takes (the
 * ThreadParameter) and gives back. In lsass a package's thread runs the package's own code; here
 * the LSA's threads run only these pure functions of their parameter, so that a package passes
 * data, never code, and package state stays on the LSA's dispatch thread.
 */
export interface LsaWorkRoutines {
  BCryptDeriveKeyPBKDF2: { parameter: Pbkdf2Parameters; output: Uint8Array };
}
export type LsaWorkRoutine = keyof LsaWorkRoutines;

/** How a CreateThread ended: the status, the thread that ran the routine (the LSA's own when the pool is off) and its output. */
export interface LsaThreadResult<T> {
  status: Status;
  ThreadId?: number;
  Output?: T;
}

/**
 * LSA_SECPKG_FUNCTION_TABLE, every member in the header's order (#1 to #66). The members a
 * package of this project uses are implemented; the rest are LsaNotImplementedFn and are listed
 * in the README.
 */
export interface LsaSecpkgFunctionTable {
  CreateLogonSession(LogonId?: LUID | null): { status: Status; LogonId: LUID };
  DeleteLogonSession(LogonId: LUID): Status;
  AddCredential(LogonId: LUID, AuthenticationPackage: PackageId, PrimaryKeyValue: string, Credentials: Uint8Array): Status;
  GetCredentials(
    LogonId: LUID,
    AuthenticationPackage: PackageId,
    QueryContext: number,
    RetrieveAllCredentials: boolean,
    PrimaryKeyValue: string,
  ): { status: Status; QueryContext: number; PrimaryKeyValue?: string; Credentials?: Uint8Array };
  DeleteCredential(LogonId: LUID, AuthenticationPackage: PackageId, PrimaryKeyValue: string): Status;
  AllocateLsaHeap(Length: number): Uint8Array;
  FreeLsaHeap(Base: Uint8Array): void;
  AllocateClientBuffer(ClientRequest: LsaClientRequest, LengthRequired: number): Promise<{ status: Status; ClientBaseAddress?: number }>;
  FreeClientBuffer(ClientRequest: LsaClientRequest, ClientBaseAddress: number): Promise<Status>;
  CopyToClientBuffer(ClientRequest: LsaClientRequest, Length: number, ClientBaseAddress: number, BufferToCopy: Uint8Array): Promise<Status>;
  CopyFromClientBuffer(ClientRequest: LsaClientRequest, Length: number, ClientBaseAddress: number): Promise<{ status: Status; BufferToCopy?: Uint8Array }>;
  ImpersonateClient: LsaNotImplementedFn;
  /**
   * Unloads the calling package: its credentials and contexts are closed through its own table
   * (SpFreeCredentialsHandle, SpDeleteContext), once the calls it is running have returned, then
   * SpShutdown. STATUS_SUCCESS when the unload has started.
   */
  UnloadPackage(): Status;
  DuplicateHandle: LsaNotImplementedFn;
  SaveSupplementalCredentials: LsaNotImplementedFn;
  /**
   * Runs a work routine off the LSA's dispatch thread, on the LSA's pool (inline when the pool is
   * off); the promise settles when the routine ends, as waiting on the thread's handle would.
   * SecurityAttributes must be null and CreationFlags 0; StackSize is ignored.
   */
  CreateThread<R extends LsaWorkRoutine>(
    SecurityAttributes: null,
    StackSize: number,
    StartFunction: R,
    ThreadParameter: LsaWorkRoutines[R]['parameter'],
    CreationFlags: number,
  ): Promise<LsaThreadResult<LsaWorkRoutines[R]['output']>>;
  GetClientInfo(): { status: Status; ClientInfo?: SecpkgClientInfo };
  RegisterNotification: LsaNotImplementedFn;
  CancelNotification: LsaNotImplementedFn;
  MapBuffer: LsaNotImplementedFn;
  CreateToken: LsaNotImplementedFn;
  AuditLogon: LsaNotImplementedFn;
  CallPackage: LsaNotImplementedFn;
  FreeReturnBuffer: LsaNotImplementedFn;
  GetCallInfo(): SecpkgCallInfo | null;
  CallPackageEx: LsaNotImplementedFn;
  CreateSharedMemory: LsaNotImplementedFn;
  AllocateSharedMemory: LsaNotImplementedFn;
  FreeSharedMemory: LsaNotImplementedFn;
  DeleteSharedMemory: LsaNotImplementedFn;
  OpenSamUser(Name: string, NameType: number, Prefix: string | null, AllowGuest: boolean, Reserved: number): { status: Status; UserHandle?: number };
  GetUserCredentials(UserHandle: number): { status: Status; PrimaryCreds?: SecpkgPrimaryCred; SupplementalCreds?: SecpkgSupplementalCred[] };
  GetUserAuthData: LsaNotImplementedFn;
  CloseSamUser(UserHandle: number): Status;
  ConvertAuthDataToToken: LsaNotImplementedFn;
  ClientCallback(Callback: number, Argument1: number, Argument2: number, Input: SecBuffer): Promise<{ status: Status; Output?: SecBuffer }>;
  UpdateCredentials: LsaNotImplementedFn;
  GetAuthDataForUser: LsaNotImplementedFn;
  CrackSingleName: LsaNotImplementedFn;
  AuditAccountLogon: LsaNotImplementedFn;
  /**
   * Calls package AuthenticationPackage's LsaApCallPackagePassthrough with the buffer, on the
   * machine that holds the domain's accounts: on a domain member, its domain controller (through
   * the LSA's Netlogon secure channel, as MSV1_0's pass-through authentication goes: MS-APDS 3.1);
   * on a domain controller or a machine in no domain, this one. The status is the call's
   * (STATUS_NO_LOGON_SERVERS when no DC answers in time, STATUS_TRUSTED_RELATIONSHIP_FAILURE
   * 0xC000018D when the DC refuses this machine's account, STATUS_NO_SUCH_PACKAGE); on
   * STATUS_SUCCESS, ProtocolStatus and ProtocolReturnBuffer are the package's answer.
   * ClientBufferBase must be null: the buffer is the calling package's, in the LSA.
   */
  CallPackagePassthrough(
    AuthenticationPackage: string,
    ClientBufferBase: null,
    ProtocolSubmitBuffer: Uint8Array,
    SubmitBufferLength: number,
  ): Promise<LsaApCallPackageResult>;
  CrediRead: LsaNotImplementedFn;
  CrediReadDomainCredentials: LsaNotImplementedFn;
  CrediFreeCredentials: LsaNotImplementedFn;
  LsaProtectMemory: LsaNotImplementedFn;
  LsaUnprotectMemory: LsaNotImplementedFn;
  OpenTokenByLogonId: LsaNotImplementedFn;
  ExpandAuthDataForDomain: LsaNotImplementedFn;
  AllocatePrivateHeap(Length: number): Uint8Array;
  FreePrivateHeap(Base: Uint8Array): void;
  CreateTokenEx: LsaNotImplementedFn;
  CrediWrite: LsaNotImplementedFn;
  CrediUnmarshalandDecodeString: LsaNotImplementedFn;
  DummyFunction6: LsaNotImplementedFn;
  GetExtendedCallFlags: LsaNotImplementedFn;
  DuplicateTokenHandle: LsaNotImplementedFn;
  GetServiceAccountPassword: LsaNotImplementedFn;
  DummyFunction7: LsaNotImplementedFn;
  AuditLogonEx: LsaNotImplementedFn;
  CheckProtectedUserByToken: LsaNotImplementedFn;
  QueryClientRequest: LsaNotImplementedFn;
  GetAppModeInfo: LsaNotImplementedFn;
  SetAppModeInfo: LsaNotImplementedFn;
  GetClientInfoEx: LsaNotImplementedFn;
  GetSecpkgFailureReason: LsaNotImplementedFn;
  SetSecpkgFailureReason: LsaNotImplementedFn;

  // sspi-emu's own, past the header's 66 members (the table has grown at its end from one Windows
  // version to the next): how one package reaches another in the LSA. lsasrv's Negotiate drives
  // its mechanisms with routines internal to lsasrv; a package here does it through these.

  /**
   * Another loaded package by name (case-insensitive): its id and SecPkgInfo, or
   * STATUS_NO_SUCH_PACKAGE.
   */
  LookupPackage(Name: string): { status: Status; PackageId?: PackageId; PackageInfo?: SecPkgInfo };
  /**
   * The LSA-mode counterpart of SECPKG_DLL_FUNCTIONS.LocatePackageById: another package's
   * LSA-mode table as the calling package may use it, or null for an unknown id or the caller's
   * own. Every call through it goes through the LSA: traced as a call of that package for the
   * caller, faults injected, its deadline, run as the current client call (CopyFromClientBuffer
   * reads the same process), a throw contained as SEC_E_INTERNAL_ERROR. Handles it creates belong
   * to the calling package (using another's is SEC_E_INVALID_HANDLE) and to the process the call
   * ran for: the LSA releases those the caller leaves behind when that process goes. Members
   * other than the SSPI ones answer SEC_E_UNSUPPORTED_FUNCTION.
   */
  LocatePackageById(PackageId: PackageId): SecpkgFunctionTable | null;
}
