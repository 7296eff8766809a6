// The example package's user-mode half: loaded into an application's process the first time one
// of its contexts completes there (MappedContext), it signs and seals with the session key the
// ContextData brought.
//
// Per direction a signing key and a sealing key (wire.ts), one sequence number per direction
// shared by signatures and seals. Signature (24 bytes): version 1 (4) | seq (4) |
// MAC(sign key, seq | data) truncated to 16. Seal: AES-256-GCM in place, nonce = direction | seq,
// trailer (24 bytes): version 1 (4) | seq (4) | GCM tag (16). A bad MAC is SEC_E_MESSAGE_ALTERED,
// a good MAC on the wrong sequence number (replayed or reordered) SEC_E_OUT_OF_SEQUENCE.
//
// ExportSecurityContext hands over the two sequence numbers and nothing else (zeros with
// SECPKG_CONTEXT_EXPORT_RESET_NEW); ImportSecurityContext rebuilds the context from the ContextData
// the LSA kept (role, flags, session key, name) and continues from those numbers.

import { createCipheriv, createDecipheriv } from 'node:crypto';
import {
  ASC_RET,
  ISC_RET,
  SECBUFFER,
  SECPKG_CONTEXT_EXPORT,
  SECBUFFER_READONLY,
  SECBUFFER_READONLY_WITH_CHECKSUM,
  SEC_E_BUFFER_TOO_SMALL,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_MESSAGE_ALTERED,
  SEC_E_OK,
  SEC_E_OUT_OF_SEQUENCE,
  SEC_E_QOP_NOT_SUPPORTED,
  STATUS_SUCCESS,
  bufferTypeOf,
  type LSA_SEC_HANDLE,
  type SecBuffer,
  type SecpkgUserFunctionTable,
  type Status,
  timeStampFromDate,
  type SpQueryAttributesResult,
} from '../../headers/index.js';
import { DEFAULT_USER_MEMBERS, findToken, HandleMap, standardContextAttribute, unpackImportedContext } from '../kit/index.js';
import { PACKAGE_INFO, SIZES } from './info.js';
import {
  ROLE,
  SIGNATURE_BYTES,
  TRAILER_BYTES,
  directionKeys,
  equal,
  mac,
  packExportedState,
  unpackContextData,
  unpackExportedState,
  type DirectionLabel,
  type Role,
} from './wire.js';

interface Direction {
  signKey: Buffer;
  sealKey: Buffer;
  /** Sequence numbers; one per direction, shared by signatures and seals. */
  seq: number;
  /** The GCM nonce prefix that keeps the two directions' nonces apart. */
  tag: number;
}

interface UserContext {
  role: Role;
  attributes: number;
  sessionKey: Buffer;
  name: string;
  send: Direction;
  receive: Direction;
  /** When the context was established, as a FILETIME. */
  established: bigint;
}

function direction(sessionKey: Uint8Array, label: DirectionLabel): Direction {
  // Named fields rather than a spread of directionKeys' result: a spread of two Buffers costs more than their MACs.
  const { signKey, sealKey } = directionKeys(sessionKey, label);
  return { signKey, sealKey, seq: 0, tag: label === 'client-to-server' ? 1 : 2 };
}

/** Imported contexts are numbered from here, apart from the LSA-mode half's handles (from 1) that mapped ones go by. */
const IMPORTED_HANDLE_BASE = 2 ** 40;

export class ExampleUserPackage {
  /** Not Map: one per handshake comes and goes (the kit's HandleMap: a Map leaves garbage alive through collections when its entries churn). */
  private readonly contexts = new HandleMap<UserContext>();
  private nextImported = IMPORTED_HANDLE_BASE;

  /** The user-mode table, in the header's member order. */
  table(): SecpkgUserFunctionTable {
    return {
      ...DEFAULT_USER_MEMBERS, // CompleteAuthToken: SEC_E_UNSUPPORTED_FUNCTION (the handshake never asks for it)
      InstanceInit: () => STATUS_SUCCESS,
      InitUserModeContext: (handle, packed) => this.initContext(handle, packed),
      MakeSignature: (handle, _qop, buffers) => this.withContext(handle, (c) => makeSignature(c, buffers), SEC_E_INVALID_HANDLE),
      VerifySignature: (handle, buffers) => this.withContext(handle, (c) => verifySignature(c, buffers), { status: SEC_E_INVALID_HANDLE }),
      SealMessage: (handle, _qop, buffers) => this.withContext(handle, (c) => seal(c, buffers), SEC_E_INVALID_HANDLE),
      UnsealMessage: (handle, buffers) => this.withContext(handle, (c) => unseal(c, buffers), { status: SEC_E_INVALID_HANDLE }),
      QueryContextAttributes: (handle, attribute) => this.withContext(handle, (c) => queryAttributes(c, attribute), { status: SEC_E_INVALID_HANDLE }),
      ExportContext: (handle, flags) =>
        this.withContext<{ status: Status; PackedContext?: Uint8Array }>(
          handle,
          (c) => ({
            status: SEC_E_OK,
            PackedContext:
              (flags & SECPKG_CONTEXT_EXPORT.RESET_NEW) !== 0
                ? packExportedState({ sendSeq: 0, receiveSeq: 0 })
                : packExportedState({ sendSeq: c.send.seq, receiveSeq: c.receive.seq }),
          }),
          { status: SEC_E_INVALID_HANDLE },
        ),
      ImportContext: (packed) => this.importContext(packed),
      DeleteUserModeContext: (handle) => {
        const c = this.contexts.get(handle);
        if (c === undefined) return SEC_E_INVALID_HANDLE;
        for (const key of [c.sessionKey, c.send.signKey, c.send.sealKey, c.receive.signKey, c.receive.sealKey]) key.fill(0);
        this.contexts.delete(handle);
        return SEC_E_OK;
      },
    };
  }

  /** Unpacks the ContextData the LSA delivered; each side sends on its own direction. */
  private initContext(handle: LSA_SEC_HANDLE, packed: Uint8Array): Status {
    const context = contextFrom(packed);
    if (context === undefined) return SEC_E_INVALID_TOKEN;
    this.contexts.set(handle, context);
    return STATUS_SUCCESS;
  }

  /** A context another process exported: its ContextData (from the LSA), then its sequence numbers (from the exporter). */
  private importContext(packed: Uint8Array): { status: Status; ContextHandle?: LSA_SEC_HANDLE } {
    const imported = unpackImportedContext(packed);
    const context = imported === undefined ? undefined : contextFrom(imported.ContextData);
    const state = imported === undefined ? undefined : unpackExportedState(imported.PackedContext);
    imported?.ContextData.fill(0);
    if (context === undefined || state === undefined) return { status: SEC_E_INVALID_TOKEN };
    context.send.seq = state.sendSeq;
    context.receive.seq = state.receiveSeq;
    while (this.contexts.has(this.nextImported)) this.nextImported++;
    const handle = this.nextImported++;
    this.contexts.set(handle, context);
    return { status: SEC_E_OK, ContextHandle: handle };
  }

  private withContext<T>(handle: LSA_SEC_HANDLE, run: (c: UserContext) => T, missing: T): T {
    const c = this.contexts.get(handle);
    return c === undefined ? missing : run(c);
  }
}

/** A context as ContextData describes it, at its start; undefined when it is malformed. */
function contextFrom(packed: Uint8Array): UserContext | undefined {
  const data = unpackContextData(packed);
  if (data === undefined) return undefined;
  const sessionKey = Buffer.from(data.sessionKey);
  const c2s = direction(sessionKey, 'client-to-server');
  const s2c = direction(sessionKey, 'server-to-client');
  const client = data.role === ROLE.Client;
  return {
    role: data.role,
    attributes: data.flags,
    sessionKey,
    name: data.name,
    send: client ? c2s : s2c,
    receive: client ? s2c : c2s,
    established: timeStampFromDate(new Date()),
  };
}

function canSign(c: UserContext): boolean {
  const bits =
    c.role === ROLE.Client
      ? ISC_RET.INTEGRITY | ISC_RET.REPLAY_DETECT | ISC_RET.SEQUENCE_DETECT
      : ASC_RET.INTEGRITY | ASC_RET.REPLAY_DETECT | ASC_RET.SEQUENCE_DETECT;
  return (c.attributes & bits) !== 0;
}

function canSeal(c: UserContext): boolean {
  return (c.attributes & (c.role === ROLE.Client ? ISC_RET.CONFIDENTIALITY : ASC_RET.CONFIDENTIALITY)) !== 0;
}

/** The buffers a signature covers: data, but not READONLY_WITH_CHECKSUM ones (as MakeSignature documents). */
function signedParts(buffers: SecBuffer[]): Uint8Array[] {
  return buffers.filter((b) => bufferTypeOf(b) === SECBUFFER.DATA && !(b.BufferType & SECBUFFER_READONLY_WITH_CHECKSUM)).map((b) => b.pvBuffer);
}

/** The buffers a seal encrypts in place: data that is not read-only. */
function sealedBuffers(buffers: SecBuffer[]): SecBuffer[] {
  return buffers.filter((b) => bufferTypeOf(b) === SECBUFFER.DATA && !(b.BufferType & SECBUFFER_READONLY));
}

function signature(d: Direction, seq: number, parts: Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(SIGNATURE_BYTES);
  out.writeUInt32LE(1, 0);
  out.writeUInt32LE(seq, 4);
  mac(d.signKey, out.subarray(4, 8), ...parts).copy(out, 8, 0, 16);
  return out;
}

/** The sequence check every verify and unseal does: MAC first, then order. */
function checkSequence(d: Direction, seq: number): Status {
  if (seq !== d.seq) return SEC_E_OUT_OF_SEQUENCE;
  d.seq++;
  return SEC_E_OK;
}

function gcmNonce(d: Direction, seq: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(d.tag, 0);
  nonce.writeUInt32BE(seq, 8);
  return nonce;
}

function makeSignature(c: UserContext, buffers: SecBuffer[]): Status {
  if (!canSign(c)) return SEC_E_QOP_NOT_SUPPORTED;
  const token = findToken(buffers);
  if (token === undefined) return SEC_E_INVALID_TOKEN;
  if (token.pvBuffer.byteLength < SIGNATURE_BYTES) return SEC_E_BUFFER_TOO_SMALL;
  token.pvBuffer = signature(c.send, c.send.seq++, signedParts(buffers));
  return SEC_E_OK;
}

function verifySignature(c: UserContext, buffers: SecBuffer[]): { status: Status; QualityOfProtection?: number } {
  if (!canSign(c)) return { status: SEC_E_QOP_NOT_SUPPORTED };
  const token = findToken(buffers)?.pvBuffer;
  if (token === undefined || token.byteLength !== SIGNATURE_BYTES) return { status: SEC_E_INVALID_TOKEN };
  const seq = Buffer.from(token.buffer, token.byteOffset, token.byteLength).readUInt32LE(4);
  if (!equal(token, signature(c.receive, seq, signedParts(buffers)))) return { status: SEC_E_MESSAGE_ALTERED };
  return { status: checkSequence(c.receive, seq), QualityOfProtection: 0 };
}

function seal(c: UserContext, buffers: SecBuffer[]): Status {
  if (!canSeal(c)) return SEC_E_QOP_NOT_SUPPORTED;
  const token = findToken(buffers);
  const data = sealedBuffers(buffers);
  if (token === undefined || data.length === 0) return SEC_E_INVALID_TOKEN;
  if (token.pvBuffer.byteLength < TRAILER_BYTES) return SEC_E_BUFFER_TOO_SMALL;
  const seq = c.send.seq++;
  const header = Buffer.alloc(8);
  header.writeUInt32LE(1, 0);
  header.writeUInt32LE(seq, 4);
  const cipher = createCipheriv('aes-256-gcm', c.send.sealKey, gcmNonce(c.send, seq));
  cipher.setAAD(header);
  for (const b of data) b.pvBuffer.set(cipher.update(b.pvBuffer));
  cipher.final();
  token.pvBuffer = Buffer.concat([header, cipher.getAuthTag()]);
  return SEC_E_OK;
}

function unseal(c: UserContext, buffers: SecBuffer[]): { status: Status; QualityOfProtection?: number } {
  if (!canSeal(c)) return { status: SEC_E_QOP_NOT_SUPPORTED };
  const token = findToken(buffers)?.pvBuffer;
  const data = sealedBuffers(buffers);
  if (token === undefined || token.byteLength !== TRAILER_BYTES || data.length === 0) return { status: SEC_E_INVALID_TOKEN };
  const trailer = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
  const seq = trailer.readUInt32LE(4);
  const decipher = createDecipheriv('aes-256-gcm', c.receive.sealKey, gcmNonce(c.receive, seq));
  decipher.setAAD(trailer.subarray(0, 8));
  decipher.setAuthTag(trailer.subarray(8));
  const plain = data.map((b) => decipher.update(b.pvBuffer));
  try {
    decipher.final();
  } catch {
    return { status: SEC_E_MESSAGE_ALTERED }; // nothing was written: the buffers keep the ciphertext
  }
  const order = checkSequence(c.receive, seq);
  if (order !== SEC_E_OK) return { status: order };
  data.forEach((b, i) => b.pvBuffer.set(plain[i]!));
  return { status: SEC_E_OK, QualityOfProtection: 0 };
}

function queryAttributes(c: UserContext, attribute: number): SpQueryAttributesResult {
  return standardContextAttribute(attribute, {
    sizes: SIZES,
    userName: c.name,
    established: c.established,
    sessionKey: c.sessionKey,
    flags: c.attributes,
    packageInfo: PACKAGE_INFO,
  });
}
