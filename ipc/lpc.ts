// The LPC vocabulary between an app process's SSPI library and the LSA, in both directions.
// Each operation is named after the Windows function the receiving side runs, so a raw dump of
// the channel reads like the seed: SpAcquireCredentialsHandle, SpInitLsaModeContext, ...
// The LSA learns who is calling from the port a message came in on, never from its body: no
// request here carries a process id.

import {
  type ClientBufferRef,
  type LUID,
  type PackageId,
  type SecBuffer,
  type SecPkgInfo,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_PARAMETER,
  SEC_E_INVALID_TOKEN,
  SEC_E_SECPKG_NOT_FOUND,
  STATUS_INVALID_PARAMETER,
  STATUS_NO_SUCH_PACKAGE,
  type Status,
} from '../headers/index.js';
import { bytes, finite, integer, record } from './decode.js';
import type { SerializedError } from './errors.js';
import { FrameCodec, UNTRUSTED_VALUE_BUDGET, type FrameVocabulary } from './frame.js';
import { asLsaHandle, type LsaHandle } from './ids.js';

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

/**
 * What the LSA delivers to a process that imports an exported context: where the package's
 * user-mode half is (as for a mapped context) and what SpImportSecurityContext receives
 * (packImportedContext: the ContextData the LSA kept, then the exporter's PackedContext).
 */
export interface ImportedContextDelivery extends Omit<MappedContextDelivery, 'contextData'> {
  packedContext: Uint8Array;
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
  /**
   * ExportSecurityContext, after the package's user-mode SpExportSecurityContext ran in the
   * process: the LSA keeps the context and the package's state, and answers the reference the
   * application gets as pPackedContext. importingProcess: the one process that may import it (null: any one).
   */
  SpExportSecurityContext: {
    request: { hContext: LsaHandle; fFlags: number; packedContext: Uint8Array; importingProcess: number | null };
    reply: LpcReplyBase & { packedContext?: Uint8Array };
  };
  /** ImportSecurityContextW: the reference ExportSecurityContext gave, for the context and what SpImportSecurityContext needs. */
  SpImportSecurityContext: {
    request: { pszPackage: string; packedContext: Uint8Array };
    reply: LpcReplyBase & { hNewContext?: LsaHandle; packageId?: PackageId; imported?: ImportedContextDelivery };
  };
  /** LsaLookupAuthenticationPackage: a package's id (AuthenticationPackage) by its name; the status is an NTSTATUS. */
  LsaLookupAuthenticationPackage: { request: { PackageName: string }; reply: LpcReplyBase & { AuthenticationPackage?: PackageId } };
  /**
   * LsaCallAuthenticationPackage on the process's (untrusted) connection: the package's
   * LsaApCallPackageUntrusted with a copy of the submit buffer. `status` is the call's NTSTATUS;
   * ProtocolStatus the package's answer to the message; ProtocolReturnBuffer its reply.
   */
  LsaApCallPackageUntrusted: {
    request: { AuthenticationPackage: number; ProtocolSubmitBuffer: Uint8Array };
    reply: LpcReplyBase & { ProtocolStatus?: Status; ProtocolReturnBuffer?: Uint8Array };
  };
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

// ---------------------------------------------------------------------------------------------
// Decoding what a process sends. The LSA serves bodies that arrive as `unknown` (a process's code
// can post anything): each op has one decoder that returns its typed request, or the status that
// refuses it. A malformed message is refused before anything is looked up for it.

/** Largest input buffer the LSA takes at all; packages check their own cbMaxToken. */
export const MAX_INPUT_BYTES = 1 << 20;
/** Most bytes in all the input buffers of one call. */
export const MAX_CALL_INPUT_BYTES = 2 << 20;
/** Most buffers in one SecBufferDesc. */
export const MAX_BUFFERS = 16;
/** Longest package name (pszPackage), principal and target name a call may carry, in characters. */
export const MAX_PACKAGE_NAME = 256;
export const MAX_PRINCIPAL = 32 * 1024;
/** A target name is a UNICODE_STRING to the package on Windows: 32,767 UTF-16 units at most (its byte lengths are USHORTs). */
export const MAX_TARGET_NAME = 32_767;
/**
 * Most bytes of a package's exported state (SpExportSecurityContext's PackedContext) and of an
 * export reference. The LSA keeps exported state until it is imported: NTLM's is 570 bytes.
 */
export const MAX_PACKED_CONTEXT = 16 * 1024;

/** Most bytes of a submit buffer LsaCallAuthenticationPackage carries, and of the return buffer a package answers. */
export const MAX_PROTOCOL_BUFFER = 64 * 1024;

type Request<K extends LpcOp> = ProcessToLsaOps[K]['request'];
/** A typed request, or the status that refuses the message. */
export type Decoded<T> = T | Status;

export function isRefusal<T extends object>(decoded: Decoded<T>): decoded is Status {
  return typeof decoded === 'number';
}

function fields(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

/** A handle value: only a number can name a handle; null where the field may be absent. */
function handleField(value: unknown, optional: boolean): LsaHandle | null | undefined {
  if (value === null || value === undefined) return optional ? null : undefined;
  return typeof value === 'number' ? asLsaHandle(value) : undefined;
}

/** A handle the call cannot do without. */
function requiredHandle(value: unknown): LsaHandle | undefined {
  return handleField(value, false) ?? undefined;
}

/** A handle and an attribute number, as the two Query...Attributes calls carry them. */
function handleAndAttribute<K extends string>(f: Record<string, unknown>, key: K): Decoded<Record<K, LsaHandle> & { ulAttribute: number }> {
  const handle = requiredHandle(f[key]);
  if (handle === undefined) return SEC_E_INVALID_HANDLE;
  if (typeof f.ulAttribute !== 'number') return SEC_E_INVALID_PARAMETER;
  return { [key]: handle, ulAttribute: f.ulAttribute >>> 0 } as Record<K, LsaHandle> & { ulAttribute: number };
}

/**
 * What both handshake calls carry besides their input: the credential and the context (either may
 * be null), the ISC/ASC_REQ bits, the data representation and the output buffer types. Checked
 * field by field: each handshake call's request is then built as one object literal (no spread),
 * as these two run for every leg of every handshake. Answers the output types, or the refusal.
 */
function handshakeFields(f: Record<string, unknown>): Status | number[] {
  const hCredential = handleField(f.hCredential, true);
  const hContext = handleField(f.hContext, true);
  if (hCredential === undefined || hContext === undefined) return SEC_E_INVALID_HANDLE;
  if (typeof f.fContextReq !== 'number') return SEC_E_INVALID_PARAMETER;
  return decodeTypeList(f.outputTypes) ?? SEC_E_INVALID_PARAMETER;
}

/** A SecBufferDesc off the wire: at most MAX_BUFFERS of { BufferType: number, pvBuffer: Uint8Array }, within the byte limits. */
export function decodeBuffers(value: unknown): SecBuffer[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_BUFFERS) return undefined;
  const out: SecBuffer[] = [];
  let total = 0;
  for (const b of value as unknown[]) {
    if (typeof b !== 'object' || b === null) return undefined;
    const { BufferType, pvBuffer } = b as { BufferType?: unknown; pvBuffer?: unknown };
    if (typeof BufferType !== 'number' || !(pvBuffer instanceof Uint8Array) || pvBuffer.byteLength > MAX_INPUT_BYTES) return undefined;
    total += pvBuffer.byteLength;
    if (total > MAX_CALL_INPUT_BYTES) return undefined;
    out.push({ BufferType: BufferType >>> 0, pvBuffer });
  }
  return out;
}

/** About how many bytes a decoded request holds while it waits for its turn (its buffers and strings). */
export function requestBytes(request: object): number {
  let total = 64;
  const fields = request as Record<string, unknown>;
  for (const key in fields) {
    const value = fields[key];
    if (typeof value === 'string') total += value.length * 2;
    else if (Array.isArray(value)) for (const b of value as unknown[]) total += (b as Partial<SecBuffer>)?.pvBuffer?.byteLength ?? 8;
  }
  return total;
}

/**
 * Replaces the bytes of a decoded request that are views into the frame it came in (the LSA's
 * codec decodes them so: ipc/frame.ts viewBytes) with copies of their own: for a call that waits
 * in the LSA's queue, which would otherwise keep its whole frame alive (up to 128 MiB) while it is
 * charged only its own bytes (requestBytes).
 */
export function detachRequestBytes(request: object): void {
  const fields = request as Record<string, unknown>;
  for (const key in fields) {
    const value = fields[key];
    if (value instanceof Uint8Array) fields[key] = value.slice();
    else if (Array.isArray(value))
      for (let i = 0; i < value.length; i++) {
        const b = value[i] as Partial<SecBuffer> | null;
        if (b?.pvBuffer instanceof Uint8Array) value[i] = { ...b, pvBuffer: b.pvBuffer.slice() };
      }
  }
}

function decodeTypeList(value: unknown): number[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_BUFFERS) return undefined;
  const types = new Array<number>(value.length);
  for (let i = 0; i < value.length; i++) {
    const t: unknown = value[i];
    if (typeof t !== 'number') return undefined;
    types[i] = t >>> 0;
  }
  return types;
}

function decodeClientBufferRef(value: unknown): ClientBufferRef | null {
  const { address, length } = fields(value);
  return typeof address === 'number' && typeof length === 'number' && length >= 0 && length <= MAX_INPUT_BYTES ? { address, length } : null;
}

/** A string of at most `max` characters; null when absent; undefined when it is not one or too long. */
const string = (value: unknown, max: number): string | null | undefined =>
  value === null || value === undefined ? null : typeof value === 'string' && value.length <= max ? value : undefined;

export const decodeLpcRequest: { [K in LpcOp]: (body: unknown) => Decoded<Request<K>> } = {
  EnumerateSecurityPackages: () => ({}),
  QuerySecurityPackageInfo: (body) => {
    const name = string(fields(body).pszPackageName, MAX_PACKAGE_NAME);
    return typeof name !== 'string' ? SEC_E_SECPKG_NOT_FOUND : { pszPackageName: name };
  },
  SpAcquireCredentialsHandle: (body) => {
    const f = fields(body);
    if (typeof f.pszPackage === 'string' && f.pszPackage.length > MAX_PACKAGE_NAME) return SEC_E_SECPKG_NOT_FOUND;
    const pszPackage = string(f.pszPackage, MAX_PACKAGE_NAME);
    const pszPrincipal = string(f.pszPrincipal, MAX_PRINCIPAL);
    if (typeof pszPackage !== 'string' || typeof f.fCredentialUse !== 'number' || pszPrincipal === undefined) return SEC_E_INVALID_PARAMETER;
    return {
      pszPrincipal,
      pszPackage,
      fCredentialUse: f.fCredentialUse >>> 0,
      pvLogonId: typeof f.pvLogonId === 'bigint' ? f.pvLogonId : null,
      pAuthData: decodeClientBufferRef(f.pAuthData),
    };
  },
  SpFreeCredentialsHandle: (body) => {
    const hCredential = requiredHandle(fields(body).hCredential);
    return hCredential === undefined ? SEC_E_INVALID_HANDLE : { hCredential };
  },
  SpQueryCredentialsAttributes: (body) => handleAndAttribute(fields(body), 'hCredential'),
  SpInitLsaModeContext: (body) => {
    const f = fields(body);
    const outputTypes = handshakeFields(f);
    if (isRefusal(outputTypes)) return outputTypes;
    const input = f.input === null || f.input === undefined ? null : decodeBuffers(f.input);
    if (input === undefined) return SEC_E_INVALID_TOKEN;
    const pszTargetName = string(f.pszTargetName, MAX_TARGET_NAME);
    if (pszTargetName === undefined) return SEC_E_INVALID_TOKEN;
    return {
      hCredential: handleField(f.hCredential, true)!,
      hContext: handleField(f.hContext, true)!,
      pszTargetName,
      fContextReq: (f.fContextReq as number) >>> 0,
      TargetDataRep: typeof f.TargetDataRep === 'number' ? f.TargetDataRep : 0,
      input,
      outputTypes,
    };
  },
  SpAcceptLsaModeContext: (body) => {
    const f = fields(body);
    const outputTypes = handshakeFields(f);
    if (isRefusal(outputTypes)) return outputTypes;
    const input = decodeBuffers(f.input);
    if (input === undefined) return SEC_E_INVALID_TOKEN;
    return {
      hCredential: handleField(f.hCredential, true)!,
      hContext: handleField(f.hContext, true)!,
      input,
      fContextReq: (f.fContextReq as number) >>> 0,
      TargetDataRep: typeof f.TargetDataRep === 'number' ? f.TargetDataRep : 0,
      outputTypes,
    };
  },
  SpDeleteContext: (body) => {
    const hContext = requiredHandle(fields(body).hContext);
    return hContext === undefined ? SEC_E_INVALID_HANDLE : { hContext };
  },
  SpQueryContextAttributes: (body) => handleAndAttribute(fields(body), 'hContext'),
  SpApplyControlToken: (body) => {
    const f = fields(body);
    const hContext = requiredHandle(f.hContext);
    if (hContext === undefined) return SEC_E_INVALID_HANDLE;
    const input = decodeBuffers(f.input);
    return input === undefined ? SEC_E_INVALID_TOKEN : { hContext, input };
  },
  SpExportSecurityContext: (body) => {
    const f = fields(body);
    const hContext = requiredHandle(f.hContext);
    if (hContext === undefined) return SEC_E_INVALID_HANDLE;
    const importingProcess = f.importingProcess === null || f.importingProcess === undefined ? null : f.importingProcess;
    if (typeof f.fFlags !== 'number' || (importingProcess !== null && (typeof importingProcess !== 'number' || !Number.isSafeInteger(importingProcess))))
      return SEC_E_INVALID_PARAMETER;
    const packedContext = packedBytes(f.packedContext);
    return packedContext === undefined ? SEC_E_INVALID_TOKEN : { hContext, fFlags: f.fFlags >>> 0, packedContext, importingProcess };
  },
  SpImportSecurityContext: (body) => {
    const f = fields(body);
    const pszPackage = string(f.pszPackage, MAX_PACKAGE_NAME);
    if (typeof pszPackage !== 'string') return SEC_E_SECPKG_NOT_FOUND;
    const packedContext = packedBytes(f.packedContext);
    return packedContext === undefined ? SEC_E_INVALID_TOKEN : { pszPackage, packedContext };
  },
  LsaLookupAuthenticationPackage: (body) => {
    const f = fields(body);
    if (typeof f.PackageName !== 'string') return STATUS_INVALID_PARAMETER;
    // No package has a name that long: nothing to look up.
    return f.PackageName.length > MAX_PACKAGE_NAME ? STATUS_NO_SUCH_PACKAGE : { PackageName: f.PackageName };
  },
  LsaApCallPackageUntrusted: (body) => {
    const f = fields(body);
    const AuthenticationPackage = ulong(f.AuthenticationPackage);
    if (AuthenticationPackage === undefined) return STATUS_NO_SUCH_PACKAGE;
    const submit = f.ProtocolSubmitBuffer;
    if (!(submit instanceof Uint8Array) || submit.byteLength > MAX_PROTOCOL_BUFFER) return STATUS_INVALID_PARAMETER;
    return { AuthenticationPackage, ProtocolSubmitBuffer: submit };
  },
};

/** A package id as LsaCallAuthenticationPackage's ULONG AuthenticationPackage carries it; undefined for anything else. */
function ulong(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff ? value : undefined;
}

/** A packed context's bytes: a Uint8Array of at most MAX_PACKED_CONTEXT bytes. */
function packedBytes(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array && value.byteLength <= MAX_PACKED_CONTEXT ? value : undefined;
}

/**
 * The LSA's calls into a process, decoded on the process's side (the LSA is trusted, but a body
 * is read only through its decoder all the same): a malformed one is BAD_MESSAGE.
 */
export const decodeLsaCall: { [K in LsaCallbackOp]: (body: unknown) => LsaToProcessOps[K]['request'] } = {
  AllocateClientBuffer: (body) => ({ length: integer(record(body, 'the call').length, 'length', 0, MAX_CALL_INPUT_BYTES) }),
  FreeClientBuffer: (body) => ({ address: integer(record(body, 'the call').address, 'address', 0, Number.MAX_SAFE_INTEGER) }),
  CopyToClientBuffer: (body) => {
    const r = record(body, 'the call');
    return { address: integer(r.address, 'address', 0, Number.MAX_SAFE_INTEGER), bytes: bytes(r.bytes, 'bytes', MAX_CALL_INPUT_BYTES) };
  },
  CopyFromClientBuffer: (body) => {
    const r = record(body, 'the call');
    return { address: integer(r.address, 'address', 0, Number.MAX_SAFE_INTEGER), length: integer(r.length, 'length', 0, MAX_CALL_INPUT_BYTES) };
  },
  ClientCallback: (body) => {
    const r = record(body, 'the call');
    const input = record(r.input, 'input');
    return {
      packageId: integer(r.packageId, 'packageId', 0, 0xffff) as PackageId,
      callbackId: integer(r.callbackId, 'callbackId', -0x8000_0000, 0xffff_ffff),
      argument1: finite(r.argument1, 'argument1'),
      argument2: finite(r.argument2, 'argument2'),
      input: {
        BufferType: integer(input.BufferType, 'input.BufferType', 0, 0xffff_ffff),
        pvBuffer: bytes(input.pvBuffer, 'input.pvBuffer', MAX_CALL_INPUT_BYTES),
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// The wire schema (ipc/frame.ts): each op's fields in the order they are written, and the keys of
// the objects nested in them. Typed against the ops above, so a field renamed there must be
// renamed here; a field missing here still arrives (after the schema's, with its name).

type FieldsOf<T> = ReadonlyArray<keyof T & string>;
type Schema<M extends Record<string, { request: object; reply: object }>> = {
  [K in keyof M]: { request: FieldsOf<M[K]['request']>; reply: FieldsOf<M[K]['reply']> };
};

const REPLY = ['status', 'cause'] as const;
const CONTEXT_REPLY: FieldsOf<ContextReply> = [...REPLY, 'hNewContext', 'packageId', 'output', 'contextAttr', 'expiry', 'mapped'];

const PROCESS_TO_LSA_SCHEMA: Schema<ProcessToLsaOps> = {
  EnumerateSecurityPackages: { request: [], reply: [...REPLY, 'packages'] },
  QuerySecurityPackageInfo: { request: ['pszPackageName'], reply: [...REPLY, 'info'] },
  SpAcquireCredentialsHandle: {
    request: ['pszPrincipal', 'pszPackage', 'fCredentialUse', 'pvLogonId', 'pAuthData'],
    reply: [...REPLY, 'hCredential', 'packageId', 'expiry'],
  },
  SpFreeCredentialsHandle: { request: ['hCredential'], reply: REPLY },
  SpQueryCredentialsAttributes: { request: ['hCredential', 'ulAttribute'], reply: [...REPLY, 'buffer'] },
  SpInitLsaModeContext: {
    request: ['hCredential', 'hContext', 'pszTargetName', 'fContextReq', 'TargetDataRep', 'input', 'outputTypes'],
    reply: CONTEXT_REPLY,
  },
  SpAcceptLsaModeContext: { request: ['hCredential', 'hContext', 'input', 'fContextReq', 'TargetDataRep', 'outputTypes'], reply: CONTEXT_REPLY },
  SpDeleteContext: { request: ['hContext'], reply: REPLY },
  SpQueryContextAttributes: { request: ['hContext', 'ulAttribute'], reply: [...REPLY, 'buffer'] },
  SpApplyControlToken: { request: ['hContext', 'input'], reply: REPLY },
  SpExportSecurityContext: { request: ['hContext', 'fFlags', 'packedContext', 'importingProcess'], reply: [...REPLY, 'packedContext'] },
  SpImportSecurityContext: { request: ['pszPackage', 'packedContext'], reply: [...REPLY, 'hNewContext', 'packageId', 'imported'] },
  LsaLookupAuthenticationPackage: { request: ['PackageName'], reply: [...REPLY, 'AuthenticationPackage'] },
  LsaApCallPackageUntrusted: { request: ['AuthenticationPackage', 'ProtocolSubmitBuffer'], reply: [...REPLY, 'ProtocolStatus', 'ProtocolReturnBuffer'] },
};

const LSA_TO_PROCESS_SCHEMA: Schema<LsaToProcessOps> = {
  AllocateClientBuffer: { request: ['length'], reply: [...REPLY, 'address'] },
  FreeClientBuffer: { request: ['address'], reply: REPLY },
  CopyToClientBuffer: { request: ['address', 'bytes'], reply: REPLY },
  CopyFromClientBuffer: { request: ['address', 'length'], reply: [...REPLY, 'bytes'] },
  ClientCallback: { request: ['packageId', 'callbackId', 'argument1', 'argument2', 'input'], reply: [...REPLY, 'output'] },
};

/** Keys of the objects nested in LPC bodies, written as one byte each. */
const NESTED_KEYS: ReadonlyArray<
  keyof SecPkgInfo | keyof MappedContextDelivery | keyof ImportedContextDelivery | keyof SerializedError | keyof ClientBufferRef | 'name'
> = [
  // SecPkgInfo
  'fCapabilities',
  'wVersion',
  'wRPCID',
  'cbMaxToken',
  'Name',
  'Comment',
  // MappedContextDelivery and its modulePackages
  'packageId',
  'packageName',
  'moduleUrl',
  'tableIndex',
  'modulePackages',
  'lsaContextHandle',
  'contextData',
  'thunkedLevels',
  'name',
  // ImportedContextDelivery (the rest as MappedContextDelivery)
  'packedContext',
  // SerializedError
  'code',
  'message',
  'stack',
  'cause',
  // ClientBufferRef
  'address',
  'length',
];

/** The LPC channel's frame vocabulary: both directions' ops on the one port. */
export const LPC_VOCABULARY: FrameVocabulary = {
  ops: { ...PROCESS_TO_LSA_SCHEMA, ...LSA_TO_PROCESS_SCHEMA },
  keys: [...NESTED_KEYS, 'BufferType', 'pvBuffer', 'cbMaxSignature', 'cbBlockSize', 'cbSecurityTrailer', 'sUserName', 'sAuthorityName'],
};

/**
 * The codec of one end of an LPC channel. The LSA decodes what a process posts and takes no
 * STRUCTURED values from it; a process takes them from the LSA (a package's attribute buffer may
 * hold a Date). The LSA reads bytes as views of the frame, since it copies every buffer it keeps or
 * hands a package (dispatch's inputs, CopyFromClientBuffer's answer); a process reads copies, since
 * its application keeps the tokens it is given.
 */
export function lpcCodec(end: 'lsa' | 'process'): FrameCodec {
  return new FrameCodec(LPC_VOCABULARY, {
    acceptStructured: end === 'process',
    viewBytes: end === 'lsa',
    // A process's frame of more values than any calls need is not decoded further, and the RpcPeer
    // cuts the process off: decoding is the one cost its frames impose before any limit is checked.
    ...(end === 'lsa' ? { valueBudget: UNTRUSTED_VALUE_BUDGET } : {}),
  });
}
