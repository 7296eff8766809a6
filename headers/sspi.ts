// sspi.h [SDK-sspi]: flags, buffer types, package capabilities, context attributes and the
// structures the SSPI API passes, as listed in ../shared/reference/sspi-reference.md sections 1, 5, 6.
// Flag families are `as const` tables so that flagNames() can spell a value out for traces.

/** InitializeSecurityContext fContextReq bits (ISC_REQ_*), section 5.1. */
export const ISC_REQ = {
  DELEGATE: 0x00000001,
  MUTUAL_AUTH: 0x00000002,
  REPLAY_DETECT: 0x00000004,
  SEQUENCE_DETECT: 0x00000008,
  CONFIDENTIALITY: 0x00000010,
  USE_SESSION_KEY: 0x00000020,
  PROMPT_FOR_CREDS: 0x00000040,
  USE_SUPPLIED_CREDS: 0x00000080,
  ALLOCATE_MEMORY: 0x00000100,
  USE_DCE_STYLE: 0x00000200,
  DATAGRAM: 0x00000400,
  CONNECTION: 0x00000800,
  CALL_LEVEL: 0x00001000,
  FRAGMENT_SUPPLIED: 0x00002000,
  EXTENDED_ERROR: 0x00004000,
  STREAM: 0x00008000,
  INTEGRITY: 0x00010000,
  IDENTIFY: 0x00020000,
  NULL_SESSION: 0x00040000,
  MANUAL_CRED_VALIDATION: 0x00080000,
  RESERVED1: 0x00100000,
  FRAGMENT_TO_FIT: 0x00200000,
  FORWARD_CREDENTIALS: 0x00400000,
  NO_INTEGRITY: 0x00800000,
  USE_HTTP_STYLE: 0x01000000,
  UNVERIFIED_TARGET_NAME: 0x20000000,
  CONFIDENTIALITY_ONLY: 0x40000000,
} as const;

/** InitializeSecurityContext pfContextAttr bits (ISC_RET_*), section 5.1. */
export const ISC_RET = {
  DELEGATE: 0x00000001,
  MUTUAL_AUTH: 0x00000002,
  REPLAY_DETECT: 0x00000004,
  SEQUENCE_DETECT: 0x00000008,
  CONFIDENTIALITY: 0x00000010,
  USE_SESSION_KEY: 0x00000020,
  USED_COLLECTED_CREDS: 0x00000040,
  USED_SUPPLIED_CREDS: 0x00000080,
  ALLOCATED_MEMORY: 0x00000100,
  USED_DCE_STYLE: 0x00000200,
  DATAGRAM: 0x00000400,
  CONNECTION: 0x00000800,
  INTERMEDIATE_RETURN: 0x00001000,
  CALL_LEVEL: 0x00002000,
  EXTENDED_ERROR: 0x00004000,
  STREAM: 0x00008000,
  INTEGRITY: 0x00010000,
  IDENTIFY: 0x00020000,
  NULL_SESSION: 0x00040000,
  MANUAL_CRED_VALIDATION: 0x00080000,
  RESERVED1: 0x00100000,
  FRAGMENT_ONLY: 0x00200000,
  FORWARD_CREDENTIALS: 0x00400000,
  USED_HTTP_STYLE: 0x01000000,
  NO_ADDITIONAL_TOKEN: 0x02000000,
  REAUTHENTICATION: 0x08000000,
  CONFIDENTIALITY_ONLY: 0x40000000,
} as const;

/** AcceptSecurityContext fContextReq bits (ASC_REQ_*), section 5.2. Not all share ISC positions. */
export const ASC_REQ = {
  DELEGATE: 0x00000001,
  MUTUAL_AUTH: 0x00000002,
  REPLAY_DETECT: 0x00000004,
  SEQUENCE_DETECT: 0x00000008,
  CONFIDENTIALITY: 0x00000010,
  USE_SESSION_KEY: 0x00000020,
  SESSION_TICKET: 0x00000040,
  ALLOCATE_MEMORY: 0x00000100,
  USE_DCE_STYLE: 0x00000200,
  DATAGRAM: 0x00000400,
  CONNECTION: 0x00000800,
  CALL_LEVEL: 0x00001000,
  FRAGMENT_SUPPLIED: 0x00002000,
  EXTENDED_ERROR: 0x00008000,
  STREAM: 0x00010000,
  INTEGRITY: 0x00020000,
  LICENSING: 0x00040000,
  IDENTIFY: 0x00080000,
  ALLOW_NULL_SESSION: 0x00100000,
  ALLOW_NON_USER_LOGONS: 0x00200000,
  ALLOW_CONTEXT_REPLAY: 0x00400000,
  FRAGMENT_TO_FIT: 0x00800000,
  NO_TOKEN: 0x01000000,
  PROXY_BINDINGS: 0x04000000,
  ALLOW_MISSING_BINDINGS: 0x10000000,
} as const;

/** AcceptSecurityContext pfContextAttr bits (ASC_RET_*), section 5.2. */
export const ASC_RET = {
  DELEGATE: 0x00000001,
  MUTUAL_AUTH: 0x00000002,
  REPLAY_DETECT: 0x00000004,
  SEQUENCE_DETECT: 0x00000008,
  CONFIDENTIALITY: 0x00000010,
  USE_SESSION_KEY: 0x00000020,
  SESSION_TICKET: 0x00000040,
  ALLOCATED_MEMORY: 0x00000100,
  USED_DCE_STYLE: 0x00000200,
  DATAGRAM: 0x00000400,
  CONNECTION: 0x00000800,
  CALL_LEVEL: 0x00002000,
  THIRD_LEG_FAILED: 0x00004000,
  EXTENDED_ERROR: 0x00008000,
  STREAM: 0x00010000,
  INTEGRITY: 0x00020000,
  LICENSING: 0x00040000,
  IDENTIFY: 0x00080000,
  NULL_SESSION: 0x00100000,
  ALLOW_NON_USER_LOGONS: 0x00200000,
  ALLOW_CONTEXT_REPLAY: 0x00400000,
  FRAGMENT_ONLY: 0x00800000,
  NO_TOKEN: 0x01000000,
  NO_ADDITIONAL_TOKEN: 0x02000000,
} as const;

/** fCredentialUse (SECPKG_CRED_*), section 5.3. */
export const SECPKG_CRED = {
  INBOUND: 0x00000001,
  OUTBOUND: 0x00000002,
  BOTH: 0x00000003,
  DEFAULT: 0x00000004,
  AUTOLOGON_RESTRICTED: 0x00000010,
  PROCESS_POLICY_ONLY: 0x00000020,
} as const;

/** SecBuffer.BufferType values (SECBUFFER_*), section 5.4. */
export const SECBUFFER = {
  EMPTY: 0,
  DATA: 1,
  TOKEN: 2,
  PKG_PARAMS: 3,
  MISSING: 4,
  EXTRA: 5,
  STREAM_TRAILER: 6,
  STREAM_HEADER: 7,
  NEGOTIATION_INFO: 8,
  PADDING: 9,
  STREAM: 10,
  MECHLIST: 11,
  MECHLIST_SIGNATURE: 12,
  TARGET: 13,
  CHANNEL_BINDINGS: 14,
  CHANGE_PASS_RESPONSE: 15,
  TARGET_HOST: 16,
  ALERT: 17,
} as const;

/** Attribute bits ORed into BufferType, section 5.4. */
export const SECBUFFER_ATTRMASK = 0xf0000000;
export const SECBUFFER_READONLY = 0x80000000;
export const SECBUFFER_READONLY_WITH_CHECKSUM = 0x10000000;

/** A buffer's type without its attribute bits (SECBUFFER_READONLY, SECBUFFER_READONLY_WITH_CHECKSUM). */
export function bufferTypeOf(buffer: Pick<SecBuffer, 'BufferType'>): number {
  return (buffer.BufferType & ~SECBUFFER_ATTRMASK) >>> 0;
}

/** The first buffer of a type (SECBUFFER.TOKEN, ...), whatever its attribute bits. */
export function findBuffer(buffers: readonly SecBuffer[] | null | undefined, type: number): SecBuffer | undefined {
  return buffers?.find((b) => bufferTypeOf(b) === type);
}

/** The first SECBUFFER_TOKEN, whatever its attribute bits: the token of a call, for every package and app alike. */
export function findToken(buffers: readonly SecBuffer[] | null | undefined): SecBuffer | undefined {
  return findBuffer(buffers, SECBUFFER.TOKEN);
}

/** The bytes of the first SECBUFFER_TOKEN, if there is one. */
export function tokenBytes(buffers: readonly SecBuffer[] | null | undefined): Uint8Array | undefined {
  return findToken(buffers)?.pvBuffer;
}

/**
 * SEC_CHANNEL_BINDINGS (sspi.h; reference section 1.5), what an application passes as a
 * SECBUFFER_CHANNEL_BINDINGS buffer: eight little-endian ULONGs, then the buffers their offsets
 * (counted from the structure's start) point at. The fields are those of GSS-API's
 * gss_channel_bindings_struct (RFC 2744 3.11); a TLS channel's bindings carry only application
 * data, such as "tls-server-end-point:" and the certificate's hash (RFC 5929).
 */
export const SEC_CHANNEL_BINDINGS = {
  INITIATOR_ADDR_TYPE: 0,
  INITIATOR_LENGTH: 4,
  INITIATOR_OFFSET: 8,
  ACCEPTOR_ADDR_TYPE: 12,
  ACCEPTOR_LENGTH: 16,
  ACCEPTOR_OFFSET: 20,
  APPLICATION_DATA_LENGTH: 24,
  APPLICATION_DATA_OFFSET: 28,
  HEADER_BYTES: 32,
} as const;

/** The fields of a SEC_CHANNEL_BINDINGS (and of gss_channel_bindings_struct). */
export interface ChannelBindings {
  initiatorAddrType: number;
  initiatorAddress: Uint8Array;
  acceptorAddrType: number;
  acceptorAddress: Uint8Array;
  applicationData: Uint8Array;
}

/** Builds a SEC_CHANNEL_BINDINGS buffer: the header, then the initiator, acceptor and application data. */
export function packSecChannelBindings(bindings: ChannelBindings): Uint8Array {
  const C = SEC_CHANNEL_BINDINGS;
  const bytes = new Uint8Array(C.HEADER_BYTES + bindings.initiatorAddress.length + bindings.acceptorAddress.length + bindings.applicationData.length);
  const view = new DataView(bytes.buffer);
  let cursor: number = C.HEADER_BYTES;
  const put = (lengthAt: number, offsetAt: number, data: Uint8Array): void => {
    view.setUint32(lengthAt, data.length, true);
    view.setUint32(offsetAt, data.length > 0 ? cursor : 0, true);
    bytes.set(data, cursor);
    cursor += data.length;
  };
  view.setUint32(C.INITIATOR_ADDR_TYPE, bindings.initiatorAddrType >>> 0, true);
  put(C.INITIATOR_LENGTH, C.INITIATOR_OFFSET, bindings.initiatorAddress);
  view.setUint32(C.ACCEPTOR_ADDR_TYPE, bindings.acceptorAddrType >>> 0, true);
  put(C.ACCEPTOR_LENGTH, C.ACCEPTOR_OFFSET, bindings.acceptorAddress);
  put(C.APPLICATION_DATA_LENGTH, C.APPLICATION_DATA_OFFSET, bindings.applicationData);
  return bytes;
}

/** SecPkgInfo.fCapabilities bits (SECPKG_FLAG_*), section 5.5. */
export const SECPKG_FLAG = {
  INTEGRITY: 0x00000001,
  PRIVACY: 0x00000002,
  TOKEN_ONLY: 0x00000004,
  DATAGRAM: 0x00000008,
  CONNECTION: 0x00000010,
  MULTI_REQUIRED: 0x00000020,
  CLIENT_ONLY: 0x00000040,
  EXTENDED_ERROR: 0x00000080,
  IMPERSONATION: 0x00000100,
  ACCEPT_WIN32_NAME: 0x00000200,
  STREAM: 0x00000400,
  NEGOTIABLE: 0x00000800,
  GSS_COMPATIBLE: 0x00001000,
  LOGON: 0x00002000,
  ASCII_BUFFERS: 0x00004000,
  FRAGMENT: 0x00008000,
  MUTUAL_AUTH: 0x00010000,
  DELEGATION: 0x00020000,
  READONLY_WITH_CHECKSUM: 0x00040000,
  RESTRICTED_TOKENS: 0x00080000,
  NEGO_EXTENDER: 0x00100000,
  NEGOTIABLE2: 0x00200000,
  APPCONTAINER_PASSTHROUGH: 0x00400000,
  APPCONTAINER_CHECKS: 0x00800000,
  CREDENTIAL_ISOLATION_ENABLED: 0x01000000,
  APPLY_LOOPBACK: 0x02000000,
} as const;

export const SECPKG_ID_NONE = 0xffff;

/** QueryContextAttributes ulAttribute values (SECPKG_ATTR_*), section 6.1. */
export const SECPKG_ATTR = {
  SIZES: 0,
  NAMES: 1,
  LIFESPAN: 2,
  DCE_INFO: 3,
  STREAM_SIZES: 4,
  KEY_INFO: 5,
  AUTHORITY: 6,
  PROTO_INFO: 7,
  PASSWORD_EXPIRY: 8,
  SESSION_KEY: 9,
  PACKAGE_INFO: 10,
  USER_FLAGS: 11,
  NEGOTIATION_INFO: 12,
  NATIVE_NAMES: 13,
  FLAGS: 14,
  USE_VALIDATED: 15,
  CREDENTIAL_NAME: 16,
  TARGET_INFORMATION: 17,
  ACCESS_TOKEN: 18,
  TARGET: 19,
  AUTHENTICATION_ID: 20,
  LOGOFF_TIME: 21,
  NEGO_KEYS: 22,
  PROMPTING_NEEDED: 24,
  UNIQUE_BINDINGS: 25,
  ENDPOINT_BINDINGS: 26,
  CLIENT_SPECIFIED_TARGET: 27,
  LAST_CLIENT_TOKEN_STATUS: 30,
  NEGO_PKG_INFO: 31,
  NEGO_STATUS: 32,
  CONTEXT_DELETED: 33,
  IS_LOOPBACK: 37,
  /** ntsecpkg.h: as the first thunked level, sends every query to the LSA (section 7.9). */
  THUNK_ALL: 0x00010000,
} as const;

/** Credential attributes (SECPKG_CRED_ATTR_*), section 5.3. */
export const SECPKG_CRED_ATTR = { NAMES: 1 } as const;

/** SECPKG_NEGOTIATION_* states of SecPkgContext_NegotiationInfo, section 5.6. */
export const SECPKG_NEGOTIATION = { COMPLETE: 0, OPTIMISTIC: 1, IN_PROGRESS: 2, DIRECT: 3, TRY_MULTICRED: 4 } as const;

/**
 * ExportSecurityContext's fFlags (SECPKG_CONTEXT_EXPORT_*), section 5: the copy starts again from
 * the context's initial state (sequence numbers and keystreams); the exporting process's handle
 * is deleted; the context goes to the kernel (unsupported on Windows too).
 */
export const SECPKG_CONTEXT_EXPORT = { RESET_NEW: 0x00000001, DELETE_OLD: 0x00000002, TO_KERNEL: 0x00000004 } as const;

export const SECURITY_NATIVE_DREP = 0x00000010;
export const SECURITY_NETWORK_DREP = 0x00000000;
export const SECQOP_WRAP_NO_ENCRYPT = 0x80000001;
export const SECBUFFER_VERSION = 0;
/** SEC_WINNT_AUTH_IDENTITY flags, section 1.4. */
export const SEC_WINNT_AUTH_IDENTITY_ANSI = 0x1;
export const SEC_WINNT_AUTH_IDENTITY_UNICODE = 0x2;
/** A TimeStamp that never expires (section 10.11: the value commonly used). */
export const TIMESTAMP_NEVER = 0x7fffffffffffffffn;

// A TimeStamp is a FILETIME: 100-nanosecond intervals since 1601-01-01 UTC (MS-DTYP 2.3.3), an
// unsigned 64-bit count; on the wire (NTLM's MsvAvTimestamp) its 8 bytes little-endian.

const FILETIME_TICKS_PER_MS = 10_000n;
/** Milliseconds from 1601-01-01 to 1970-01-01. */
const FILETIME_UNIX_EPOCH_MS = 11_644_473_600_000n;
const FILETIME_BYTES = 8;

/** The TimeStamp (FILETIME ticks) of a Date; RangeError for an invalid Date or one before 1601. */
export function timeStampFromDate(date: Date): bigint {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('FILETIME of an invalid Date');
  const ticks = (BigInt(ms) + FILETIME_UNIX_EPOCH_MS) * FILETIME_TICKS_PER_MS;
  if (ticks < 0n) throw new RangeError('FILETIME cannot hold dates before 1601');
  return ticks;
}

/** The Date of a TimeStamp, to the millisecond. */
export function dateFromTimeStamp(ticks: bigint): Date {
  return new Date(Number(ticks / FILETIME_TICKS_PER_MS - FILETIME_UNIX_EPOCH_MS));
}

/** A FILETIME's 8 bytes, little-endian. */
export function filetimeBytes(ticks: bigint): Uint8Array {
  const out = new Uint8Array(FILETIME_BYTES);
  new DataView(out.buffer).setBigUint64(0, ticks, true);
  return out;
}

/** The ticks of a FILETIME's 8 little-endian bytes; RangeError for any other length. */
export function filetimeFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length !== FILETIME_BYTES) throw new RangeError(`FILETIME must be 8 bytes, got ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, FILETIME_BYTES).getBigUint64(0, true);
}

/**
 * SecBuffer: cbBuffer bytes of BufferType at pvBuffer. Here pvBuffer is a Uint8Array whose
 * length is the buffer's size; a package replaces or writes into it, as a DLL writes through
 * the pointer. SECBUFFER_MISSING and SECBUFFER_EXTRA report a count in cbBuffer alone.
 */
export interface SecBuffer {
  BufferType: number;
  pvBuffer: Uint8Array;
  cbBuffer?: number;
}

/** SecPkgInfoW, section 1.3. */
export interface SecPkgInfo {
  fCapabilities: number;
  wVersion: number;
  wRPCID: number;
  cbMaxToken: number;
  Name: string;
  Comment: string;
}

/** SEC_WINNT_AUTH_IDENTITY_W, section 1.4: explicit credentials for AcquireCredentialsHandle. */
export interface SecWinntAuthIdentity {
  User: string;
  Domain: string;
  Password: string;
  Flags?: number;
}

/** SecPkgContext_Sizes, section 6.2. */
export interface SecPkgContextSizes {
  cbMaxToken: number;
  cbMaxSignature: number;
  cbBlockSize: number;
  cbSecurityTrailer: number;
}

/** The result structures of QueryContextAttributes, by level (section 6.2). */
export interface ContextAttributeMap {
  [SECPKG_ATTR.SIZES]: SecPkgContextSizes;
  [SECPKG_ATTR.NAMES]: { sUserName: string };
  [SECPKG_ATTR.LIFESPAN]: { tsStart: bigint; tsExpiry: bigint };
  [SECPKG_ATTR.SESSION_KEY]: { SessionKey: Uint8Array };
  [SECPKG_ATTR.PACKAGE_INFO]: { PackageInfo: SecPkgInfo };
  [SECPKG_ATTR.NEGOTIATION_INFO]: { PackageInfo: SecPkgInfo; NegotiationState: number };
  [SECPKG_ATTR.NATIVE_NAMES]: { sClientName: string; sServerName: string };
  [SECPKG_ATTR.FLAGS]: { Flags: number };
}
export type ContextAttribute = keyof ContextAttributeMap;
/** What a QueryContextAttributes level returns; levels not in the map return package-defined data. */
export type ContextAttributeValue<A extends number> = A extends ContextAttribute ? ContextAttributeMap[A] : unknown;

/** The names of the bits of `value` in `table`, each prefixed (e.g. "ISC_REQ_CONFIDENTIALITY"). */
export function flagNames(value: number, table: Readonly<Record<string, number>>, prefix = ''): string[] {
  const names: string[] = [];
  let rest = value >>> 0;
  for (const [name, bit] of Object.entries(table)) {
    if (bit !== 0 && (rest & bit) >>> 0 === bit) {
      names.push(prefix + name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) names.push('0x' + rest.toString(16).padStart(8, '0'));
  return names;
}

/** The Windows name of a QueryContextAttributes level ("SECPKG_ATTR_SIZES"), or its number. */
export function attributeName(attribute: number): string {
  for (const [name, value] of Object.entries(SECPKG_ATTR)) if (value === attribute) return `SECPKG_ATTR_${name}`;
  return `0x${(attribute >>> 0).toString(16)}`;
}
