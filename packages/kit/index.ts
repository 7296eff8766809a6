// What a package author needs besides the headers: the table members a package leaves
// unimplemented, pointing at one shared function; the marshalled form of explicit credentials
// that AcquireCredentialsHandle hands a package (read it with CopyFromClientBuffer, then unpack);
// the token in and out of a context call; the error base its own errors can extend; the LSA's
// work pool, for work too heavy for the LSA's dispatch thread; the DER codec (der.ts) that SPNEGO,
// Kerberos and X.509 are written and read with; HandleMap (ipc/handle-map.ts), a Map for tables of
// contexts and credentials that come and go without keeping garbage alive.

import {
  SECPKG_ATTR,
  SECPKG_NEGOTIATION,
  SEC_E_OK,
  SEC_E_UNSUPPORTED_FUNCTION,
  TIMESTAMP_NEVER,
  findToken,
  type SecPkgContextSizes,
  type SecPkgInfo,
  type SpQueryAttributesResult,
  type LsaSecpkgFunctionTable,
  type LsaWorkRoutine,
  type LsaWorkRoutines,
  type PackageId,
  type SecBuffer,
  type SecpkgFunctionTable,
  type SecpkgUserFunctionTable,
  type SpExportSecurityContextFn,
  type SpImportSecurityContextFn,
  type SpUnusedFn,
  type Status,
  statusName,
} from '../../headers/index.js';
import { EmuError, registerErrorClass } from '../../ipc/index.js';

export { findBuffer, findToken, tokenBytes, unpackImportedContext, type ImportedContext } from '../../headers/index.js';

/**
 * Writes a context call's output token into the caller's SECBUFFER_TOKEN (the package allocates
 * it, as with ISC_REQ_ALLOCATE_MEMORY). False when the caller gave no output TOKEN buffer: the
 * call then fails with SEC_E_BUFFER_TOO_SMALL, as Windows answers.
 */
export function putToken(output: SecBuffer[], token: Uint8Array): boolean {
  const buffer = findToken(output);
  if (buffer === undefined) return false;
  buffer.pvBuffer = token;
  return true;
}

/**
 * What SpInitialize hands a package (its id and the LSA's function table), kept for the calls
 * after it. Reading either before SpInitialize is the LSA's mistake, and throws saying so.
 */
export class LsaBinding {
  private table: LsaSecpkgFunctionTable | undefined;
  private id: PackageId | undefined;
  private readonly packageName: string;

  constructor(packageName: string) {
    this.packageName = packageName;
  }

  /** Called from SpInitialize with its first and third arguments. */
  bind(id: PackageId, functionTable: LsaSecpkgFunctionTable): void {
    this.id = id;
    this.table = functionTable;
  }

  /** The LSA's functions: the package's only way to reach the LSA. */
  get functions(): LsaSecpkgFunctionTable {
    return this.table ?? this.notInitialized();
  }

  get packageId(): PackageId {
    return this.id ?? this.notInitialized();
  }

  private notInitialized(): never {
    throw new Error(`${this.packageName}: the LSA called the package before SpInitialize`);
  }
}

/** What a complete context knows of itself: the facts the standard attribute levels report. */
export interface ContextFacts {
  sizes: SecPkgContextSizes;
  /** The client's name (SECPKG_ATTR_NAMES), DOMAIN\\user. */
  userName: string;
  /** The server's name for SECPKG_ATTR_NATIVE_NAMES; without it that level is left to the package. */
  serverName?: string;
  /** When the context completed, a TimeStamp (FILETIME). */
  established: bigint;
  sessionKey: Uint8Array;
  /** The context's ISC_RET/ASC_RET attributes (SECPKG_ATTR_FLAGS). */
  flags: number;
  packageInfo: SecPkgInfo;
}

/**
 * The answer of a user-mode QueryContextAttributes for the standard levels (sizes, names,
 * lifespan, session key, flags, package and negotiation info) from the context's facts; any other
 * level is SEC_E_UNSUPPORTED_FUNCTION. Buffers are copies: the caller cannot change the context.
 */
export function standardContextAttribute(attribute: number, facts: ContextFacts): SpQueryAttributesResult {
  switch (attribute) {
    case SECPKG_ATTR.SIZES:
      return { status: SEC_E_OK, Buffer: { ...facts.sizes } };
    case SECPKG_ATTR.NAMES:
      return { status: SEC_E_OK, Buffer: { sUserName: facts.userName } };
    case SECPKG_ATTR.NATIVE_NAMES:
      return facts.serverName === undefined
        ? { status: SEC_E_UNSUPPORTED_FUNCTION }
        : { status: SEC_E_OK, Buffer: { sClientName: facts.userName, sServerName: facts.serverName } };
    case SECPKG_ATTR.LIFESPAN:
      return { status: SEC_E_OK, Buffer: { tsStart: facts.established, tsExpiry: TIMESTAMP_NEVER } };
    case SECPKG_ATTR.SESSION_KEY:
      return { status: SEC_E_OK, Buffer: { SessionKey: Uint8Array.from(facts.sessionKey) } };
    case SECPKG_ATTR.FLAGS:
      return { status: SEC_E_OK, Buffer: { Flags: facts.flags } };
    case SECPKG_ATTR.PACKAGE_INFO:
      return { status: SEC_E_OK, Buffer: { PackageInfo: { ...facts.packageInfo } } };
    case SECPKG_ATTR.NEGOTIATION_INFO:
      return { status: SEC_E_OK, Buffer: { PackageInfo: { ...facts.packageInfo }, NegotiationState: SECPKG_NEGOTIATION.COMPLETE } };
    default:
      return { status: SEC_E_UNSUPPORTED_FUNCTION };
  }
}

/** The one DER codec (X.690): SPNEGO's, Kerberos' and the certificates' ASN.1, strict on reading. */
export {
  applicationTag,
  bitStringContents,
  contextTag,
  copyOf,
  DER_ERROR_CODES,
  DER_TAG,
  derApplication,
  derBitString,
  derBoolean,
  derEnumerated,
  DerError,
  derExplicit,
  derGeneralizedTime,
  derGeneralString,
  derIa5String,
  derImplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derScratch,
  derSequence,
  derSet,
  derUnsignedInteger,
  derUtcTime,
  derUtf8String,
  enumeratedContents,
  expectEnd,
  expectTlv,
  expectWhole,
  generalizedTimeContents,
  generalStringContents,
  implicitTag,
  integerContents,
  lengthOctets,
  oidContents,
  parseDerTree,
  readBitString,
  readBoolean,
  readChildren,
  readEnumerated,
  readExplicit,
  readFields,
  readGeneralizedTime,
  readGeneralString,
  readIa5String,
  readInt32,
  readInteger,
  readNull,
  readOctetString,
  readOid,
  readSequenceOf,
  readSmallInteger,
  readTlv,
  readUInt32,
  readUtcTime,
  readUtf8String,
  requiredField,
  tlv,
  utcTimeContents,
  type BitString,
  type DerErrorCode,
  type DerNode,
  type DerTreeLimits,
  type GeneralStringCharset,
  type Tlv,
} from './der.js';
export { packAuthIdentity, unpackAuthIdentity } from '../../sspi/index.js';
/** The base of sspi-emu's errors: a package's own coded errors can extend it (and register, to cross ports as themselves). */
export { EmuError, registerErrorClass };
export { HandleMap } from '../../ipc/index.js';

/** CreateThread answered a failure: its status says which (a bad parameter, a full queue, a task that failed). */
export class LsaWorkError extends EmuError<'LSA_WORK_FAILED'> {
  override readonly name = 'LsaWorkError';
  readonly status: Status;

  constructor(code: 'LSA_WORK_FAILED', message: string, options?: { cause?: unknown; status?: Status }) {
    super(code, message, options);
    this.status = options?.status ?? 0;
  }
}
registerErrorClass('LsaWorkError', LsaWorkError, ['LSA_WORK_FAILED']);

/**
 * Runs one of the LSA's work routines (CreateThread: BCryptDeriveKeyPBKDF2, ...) on the LSA's work
 * pool, off the dispatch thread that answers every other call, and gives its output. For work
 * that takes milliseconds (a password-to-key derivation): the crossing costs a fraction of one, so
 * an HMAC or an NT hash is faster done where it is. The package resumes as the call it runs for
 * (GetClientInfo and GetUserCredentials answer for it after the await). A failure throws LsaWorkError,
 * which the LSA answers as SEC_E_INTERNAL_ERROR with its message.
 */
export async function runLsaWork<R extends LsaWorkRoutine>(
  functions: LsaSecpkgFunctionTable,
  routine: R,
  parameter: LsaWorkRoutines[R]['parameter'],
): Promise<LsaWorkRoutines[R]['output']> {
  const result = await functions.CreateThread(null, 0, routine, parameter, 0);
  if (result.Output === undefined)
    throw new LsaWorkError('LSA_WORK_FAILED', `CreateThread(${routine}) answered ${statusName(result.status)}`, { status: result.status });
  return result.Output;
}

/**
 * What `unsupported` may stand for: any member whose result carries a status, whether the header
 * types it as a bare status (SpApplyControlToken, SpShutdown, SpMakeSignature, ...) or as an
 * object with its out-parameters (SpQueryContextAttributes, SpInitLsaModeContext, ...).
 */
export type UnsupportedFn = ((...args: unknown[]) => Status) & ((...args: unknown[]) => { status: Status });

/**
 * The one implementation of every member a package does not provide: it answers
 * SEC_E_UNSUPPORTED_FUNCTION, with no out-parameters. It answers `{ status }`, the form sspi-emu
 * reads from every member (a member typed to answer a bare status may answer `{ status }` too:
 * the LSA and the user-mode host read either), so it can stand for any member, out-parameters or not.
 */
export const unsupported: UnsupportedFn = (() => ({ status: SEC_E_UNSUPPORTED_FUNCTION })) as UnsupportedFn;

/** A member that has nothing to do and succeeds (STATUS_SUCCESS), as Windows lets a package answer its optional notifications. */
export const succeedsWithoutWork: () => Status = () => SEC_E_OK;

type UnusedKeys<T> = { [K in keyof T]: T[K] extends SpUnusedFn ? (SpUnusedFn extends T[K] ? K : never) : never }[keyof T];

/**
 * The LSA-mode members this emulation never calls, all `unsupported`, and CallPackage,
 * CallPackageUntrusted and CallPackagePassthrough answering SEC_E_UNSUPPORTED_FUNCTION (a package
 * that answers no LsaCallAuthenticationPackage and takes no pass-through logons); spread it
 * into a table and override what you implement.
 */
export const UNUSED_LSA_MEMBERS: Pick<
  SecpkgFunctionTable,
  UnusedKeys<SecpkgFunctionTable> | 'CallPackage' | 'CallPackageUntrusted' | 'CallPackagePassthrough'
> = {
  InitializePackage: unsupported,
  LogonUser: unsupported,
  CallPackage: unsupported,
  CallPackageUntrusted: unsupported,
  CallPackagePassthrough: unsupported,
  LogonUserEx: unsupported,
  LogonUserEx2: unsupported,
  SaveCredentials: unsupported,
  GetCredentials: unsupported,
  DeleteCredentials: unsupported,
  GetUserInfo: unsupported,
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

/** SpExportSecurityContext of a package that cannot hand its contexts to another process. */
export const unsupportedExport: SpExportSecurityContextFn = () => SEC_E_UNSUPPORTED_FUNCTION;
/** SpImportSecurityContext of a package that cannot take contexts from another process. */
export const unsupportedImport: SpImportSecurityContextFn = () => SEC_E_UNSUPPORTED_FUNCTION;

/**
 * The user-mode members this emulation never calls, all `unsupported`, and ExportContext and
 * ImportContext answering SEC_E_UNSUPPORTED_FUNCTION (ExportSecurityContext and
 * ImportSecurityContext then answer it too); spread it into a table and override what you implement.
 */
export const UNUSED_USER_MEMBERS: Pick<SecpkgUserFunctionTable, UnusedKeys<SecpkgUserFunctionTable> | 'ExportContext' | 'ImportContext'> = {
  GetContextToken: unsupported,
  FormatCredentials: unsupported,
  MarshallSupplementalCreds: unsupported,
  ExportContext: unsupportedExport,
  ImportContext: unsupportedImport,
  MarshalAttributeData: unsupported,
};

/**
 * The LSA-mode members a package may leave out, with what they answer then: the members never
 * called (UNUSED_LSA_MEMBERS), and the optional ones the LSA does call, answering as a package
 * that has nothing to add would:
 * - SpShutdown, SpAcceptCredentials (a logon's credentials, which the package need not keep) and
 *   LsaApLogonTerminated (nothing kept, nothing to drop): success, doing nothing;
 * - SpQueryCredentialsAttributes, SpQueryContextAttributes (LSA mode: a context that is not mapped,
 *   or a thunked level), SpApplyControlToken and SpGetExtendedInformation (no context thunks, no
 *   extra information): SEC_E_UNSUPPORTED_FUNCTION.
 * Spread it first and write the members your package implements after it.
 */
export const DEFAULT_LSA_MEMBERS: Pick<
  SecpkgFunctionTable,
  | keyof typeof UNUSED_LSA_MEMBERS
  | 'Shutdown'
  | 'LogonTerminated'
  | 'AcceptCredentials'
  | 'QueryCredentialsAttributes'
  | 'QueryContextAttributes'
  | 'ApplyControlToken'
  | 'GetExtendedInformation'
> = {
  ...UNUSED_LSA_MEMBERS,
  Shutdown: succeedsWithoutWork,
  LogonTerminated: () => undefined,
  AcceptCredentials: succeedsWithoutWork,
  QueryCredentialsAttributes: unsupported,
  QueryContextAttributes: unsupported,
  ApplyControlToken: unsupported,
  GetExtendedInformation: unsupported,
};

/**
 * The user-mode members a package may leave out: the members never called and the context
 * export and import (UNUSED_USER_MEMBERS), and SpCompleteAuthToken, SEC_E_UNSUPPORTED_FUNCTION:
 * an application calls CompleteAuthToken only when InitializeSecurityContext answered
 * SEC_I_COMPLETE_NEEDED or SEC_I_COMPLETE_AND_CONTINUE, which a package without it never does.
 */
export const DEFAULT_USER_MEMBERS: Pick<SecpkgUserFunctionTable, keyof typeof UNUSED_USER_MEMBERS | 'CompleteAuthToken'> = {
  ...UNUSED_USER_MEMBERS,
  CompleteAuthToken: unsupported,
};
