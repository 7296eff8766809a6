// The Kerberos package's user-mode half (SECPKG_USER_FUNCTION_TABLE), loaded into an application's
// process the first time one of its Kerberos contexts completes there. From the ContextData the LSA
// half handed over (the AP exchange's subkeys and first sequence numbers, never a long-term key or a
// ticket) it makes and reads RFC 4121's per-message tokens, sending no LPC message:
//
// - MakeSignature/VerifySignature: a MIC token (04 04) over every SECBUFFER_DATA buffer, read-only
//   ones included, in order; the SECBUFFER_TOKEN gets the token (cbMaxSignature bytes: 28 for the
//   AES-SHA1 etypes).
// - EncryptMessage/DecryptMessage: a Wrap token (05 04) of the SECBUFFER_DATA buffers that are not
//   read-only, concatenated; laid out as Windows' Kerberos lays it out (MS-KILE 3.4.5.4.1, see
//   message-tokens.ts): SECBUFFER_TOKEN the header and the rotated trailer (cbSecurityTrailer: 60 for
//   AES-SHA1), SECBUFFER_DATA encrypted in place (same length), a SECBUFFER_PADDING, if given, left
//   empty (AES-CTS needs none). fQOP SECQOP_WRAP_NO_ENCRYPT (KERB_WRAP_NO_ENCRYPT) wraps with a
//   checksum and no encryption, and DecryptMessage reports it in pfQOP. DecryptMessage reads the
//   SECBUFFER_TOKEN and the DATA buffers end to end as one token, so a token from MIT's gss_wrap
//   (rotated or not, cut anywhere) reads too, and a SECBUFFER_STREAM holding a whole token
//   (Windows' way to read a gss_wrap token) puts the message into the SECBUFFER_DATA.
// - Sequence numbers run on from the AP exchange; replay and sequence detection as the context's
//   flags say (sequence.ts): SEC_E_OUT_OF_SEQUENCE. A changed token is SEC_E_MESSAGE_ALTERED.
// - A context whose ticket has ended answers SEC_E_CONTEXT_EXPIRED to EncryptMessage and
//   MakeSignature (it sends nothing more); what it receives is still read.
//
// ExportSecurityContext / ImportSecurityContext: the export is where the numbers are (24 bytes: the
// next send number, the next receive number and the replay window); the importer takes keys, flags
// and names from the ContextData the LSA kept, and only numbers from the export.

import {
  SECBUFFER,
  SECBUFFER_READONLY,
  SECBUFFER_READONLY_WITH_CHECKSUM,
  SECPKG_ATTR,
  SECPKG_CONTEXT_EXPORT,
  SECQOP_WRAP_NO_ENCRYPT,
  SEC_E_BUFFER_TOO_SMALL,
  SEC_E_CONTEXT_EXPIRED,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_OK,
  SEC_E_QOP_NOT_SUPPORTED,
  SEC_E_UNSUPPORTED_FUNCTION,
  STATUS_SUCCESS,
  bufferTypeOf,
  dateFromTimeStamp,
  findBuffer,
  type SecBuffer,
  type SecpkgUserFunctionTable,
} from '../../headers/index.js';
import { findToken, HandleMap, standardContextAttribute, unpackImportedContext, UNUSED_USER_MEMBERS } from '../kit/index.js';
import { KerberosContextDataError, unpackContextData, type KerberosContextData } from './context-data.js';
import { packageInfo, sizesFor } from './info.js';
import { concat, HEADER_BYTES, MessageProtection } from './message-tokens.js';
import { SequenceWindow } from './sequence.js';
import { wipeKey } from './crypto/index.js';

interface UserContext {
  readonly data: KerberosContextData;
  readonly protection: MessageProtection;
}

/** Handles of imported contexts start here, clear of the LSA-mode half's numbers (which mapped contexts use). */
const IMPORTED_HANDLE_BASE = 2 ** 40;
const EXPORT_BYTES = 24;

function protectionOf(data: KerberosContextData, state?: { sendSeq: bigint; next: bigint; seen: bigint }): MessageProtection {
  const options = { replay: data.replayDetect, sequence: data.sequenceDetect };
  return new MessageProtection({
    side: data.side,
    initiatorKey: { keytype: data.initiatorKey.keytype, keyvalue: Uint8Array.from(data.initiatorKey.keyvalue) },
    acceptorKey: data.acceptorKey === undefined ? undefined : { keytype: data.acceptorKey.keytype, keyvalue: Uint8Array.from(data.acceptorKey.keyvalue) },
    sendSeq: state?.sendSeq ?? data.sendSeq,
    window: state === undefined ? new SequenceWindow(data.recvSeq, options) : SequenceWindow.resume({ next: state.next, seen: state.seen }, options),
  });
}

class KerberosUserPackage {
  /** Not Map: one per handshake comes and goes (the kit's HandleMap, ipc/handle-map.ts). */
  private readonly contexts = new HandleMap<UserContext>();
  private nextImported = IMPORTED_HANDLE_BASE;

  readonly SpInstanceInit: SecpkgUserFunctionTable['InstanceInit'] = () => STATUS_SUCCESS;

  /** Reads the ContextData the LSA delivered; anything malformed is SEC_E_INVALID_TOKEN. */
  readonly SpInitUserModeContext: SecpkgUserFunctionTable['InitUserModeContext'] = (handle, packed) => {
    try {
      const data = unpackContextData(packed);
      this.contexts.set(handle, { data, protection: protectionOf(data) });
      return STATUS_SUCCESS;
    } catch (error) {
      if (error instanceof KerberosContextDataError) return SEC_E_INVALID_TOKEN;
      throw error;
    }
  };

  /** MakeSignature: a MIC token over the DATA buffers into the SECBUFFER_TOKEN. */
  readonly SpMakeSignature: SecpkgUserFunctionTable['MakeSignature'] = (handle, qop, buffers) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    if (qop !== 0) return SEC_E_QOP_NOT_SUPPORTED;
    if (expired(context)) return SEC_E_CONTEXT_EXPIRED;
    const token = findToken(buffers);
    if (token === undefined) return SEC_E_INVALID_TOKEN;
    if (token.pvBuffer.length < context.protection.micBytes) return SEC_E_BUFFER_TOO_SMALL;
    token.pvBuffer = context.protection.makeMic(dataParts(buffers, true));
    return SEC_E_OK;
  };

  /** VerifySignature: SEC_E_MESSAGE_ALTERED for a changed message, SEC_E_OUT_OF_SEQUENCE for a replayed or reordered one. */
  readonly SpVerifySignature: SecpkgUserFunctionTable['VerifySignature'] = (handle, buffers) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return { status: SEC_E_INVALID_HANDLE };
    const token = findToken(buffers);
    if (token === undefined) return { status: SEC_E_INVALID_TOKEN };
    const status = context.protection.verifyMic(dataParts(buffers, true), token.pvBuffer);
    return status === SEC_E_OK ? { status, QualityOfProtection: 0 } : { status };
  };

  /** EncryptMessage: the trailer into the SECBUFFER_TOKEN, the DATA buffers encrypted in place (or left, with SECQOP_WRAP_NO_ENCRYPT). */
  readonly SpSealMessage: SecpkgUserFunctionTable['SealMessage'] = (handle, qop, buffers) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    if (qop !== 0 && qop >>> 0 !== SECQOP_WRAP_NO_ENCRYPT) return SEC_E_QOP_NOT_SUPPORTED;
    if (expired(context)) return SEC_E_CONTEXT_EXPIRED;
    const sealed = qop === 0;
    const token = findToken(buffers);
    const data = sealable(buffers);
    if (token === undefined || data.length === 0) return SEC_E_INVALID_TOKEN;
    const needed = sealed ? context.protection.wrapOverhead : context.protection.micBytes;
    if (token.pvBuffer.length < needed) return SEC_E_BUFFER_TOO_SMALL;
    const wrapped = context.protection.wrap(concat(data.map((b) => b.pvBuffer)), sealed);
    token.pvBuffer = wrapped.trailer;
    let at = 0;
    for (const b of data) {
      b.pvBuffer.set(wrapped.data.subarray(at, at + b.pvBuffer.length));
      at += b.pvBuffer.length;
    }
    const padding = findBuffer(buffers, SECBUFFER.PADDING);
    if (padding !== undefined) padding.pvBuffer = new Uint8Array(0);
    return SEC_E_OK;
  };

  /**
   * DecryptMessage: the token (SECBUFFER_TOKEN and the DATA buffers end to end, or a SECBUFFER_STREAM)
   * checked and opened; the message into the DATA buffers. Left as they were when it fails.
   */
  readonly SpUnsealMessage: SecpkgUserFunctionTable['UnsealMessage'] = (handle, buffers) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return { status: SEC_E_INVALID_HANDLE };
    const stream = findBuffer(buffers, SECBUFFER.STREAM);
    const data = sealable(buffers);
    // The message goes into a DATA buffer: without one there is nowhere to put it.
    if (data.length === 0) return { status: SEC_E_INVALID_TOKEN };
    let whole: Uint8Array;
    if (stream !== undefined) {
      whole = stream.pvBuffer;
    } else {
      const token = findToken(buffers);
      if (token === undefined || token.pvBuffer.length < HEADER_BYTES) return { status: SEC_E_INVALID_TOKEN };
      whole = concat([token.pvBuffer, ...data.map((b) => b.pvBuffer)]);
    }
    const opened = context.protection.unwrap(whole);
    if (opened.status !== SEC_E_OK || !('message' in opened)) return { status: opened.status };
    const message = opened.message;
    const total = data.reduce((n, b) => n + b.pvBuffer.length, 0);
    if (stream !== undefined || total !== message.length || data.length === 1) {
      // The message in the first DATA buffer (the token was another size than this layout's: gss_wrap's, a stream).
      data[0]!.pvBuffer = message;
      for (const b of data.slice(1)) b.pvBuffer = new Uint8Array(0);
    } else {
      let at = 0;
      for (const b of data) {
        b.pvBuffer = message.slice(at, at + b.pvBuffer.length);
        at += b.pvBuffer.length;
      }
    }
    return { status: SEC_E_OK, QualityOfProtection: opened.sealed ? 0 : SECQOP_WRAP_NO_ENCRYPT };
  };

  /** SpExportSecurityContext: the numbers where they are (or where they started, with RESET_NEW). */
  readonly SpExportSecurityContext: SecpkgUserFunctionTable['ExportContext'] = (handle, flags) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    const reset = (flags & SECPKG_CONTEXT_EXPORT.RESET_NEW) !== 0;
    const window = context.protection.window.state();
    const out = new Uint8Array(EXPORT_BYTES);
    const view = new DataView(out.buffer);
    view.setBigUint64(0, reset ? context.data.sendSeq : context.protection.nextSend, true);
    view.setBigUint64(8, reset ? context.data.recvSeq : window.next, true);
    view.setBigUint64(16, reset ? 0n : window.seen, true);
    return { status: SEC_E_OK, PackedContext: out };
  };

  /** SpImportSecurityContext: keys and names from the ContextData the LSA kept, numbers from the exporter. */
  readonly SpImportSecurityContext: SecpkgUserFunctionTable['ImportContext'] = (packed) => {
    const imported = unpackImportedContext(packed);
    if (imported === undefined || imported.PackedContext.length !== EXPORT_BYTES) return SEC_E_INVALID_TOKEN;
    try {
      const data = unpackContextData(imported.ContextData);
      const view = new DataView(imported.PackedContext.buffer, imported.PackedContext.byteOffset, EXPORT_BYTES);
      const protection = protectionOf(data, { sendSeq: view.getBigUint64(0, true), next: view.getBigUint64(8, true), seen: view.getBigUint64(16, true) });
      while (this.contexts.has(this.nextImported)) this.nextImported++;
      const handle = this.nextImported++;
      this.contexts.set(handle, { data, protection });
      return { status: SEC_E_OK, ContextHandle: handle };
    } catch (error) {
      if (error instanceof KerberosContextDataError) return SEC_E_INVALID_TOKEN;
      throw error;
    } finally {
      imported.ContextData.fill(0);
    }
  };

  readonly SpQueryContextAttributes: SecpkgUserFunctionTable['QueryContextAttributes'] = (handle, attribute) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return { status: SEC_E_INVALID_HANDLE };
    const { data, protection } = context;
    if (attribute === SECPKG_ATTR.LIFESPAN) return { status: SEC_E_OK, Buffer: { tsStart: data.established, tsExpiry: data.expires } };
    return standardContextAttribute(attribute, {
      sizes: sizesFor(protection.sendKey.keytype),
      userName: data.clientName,
      serverName: data.serverName,
      established: data.established,
      sessionKey: protection.sendKey.keyvalue,
      flags: data.attributes,
      packageInfo: packageInfo(),
    });
  };

  readonly SpDeleteUserModeContext: SecpkgUserFunctionTable['DeleteUserModeContext'] = (handle) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    context.protection.wipe();
    wipeKey(context.data.initiatorKey);
    if (context.data.acceptorKey !== undefined) wipeKey(context.data.acceptorKey);
    this.contexts.delete(handle);
    return SEC_E_OK;
  };
}

function expired(context: UserContext): boolean {
  return dateFromTimeStamp(context.data.expires).getTime() <= Date.now();
}

/** What a signature covers: every DATA buffer, read-only ones too. */
function dataParts(buffers: SecBuffer[], includeReadOnly: boolean): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const b of buffers) {
    if (bufferTypeOf(b) !== SECBUFFER.DATA) continue;
    if (!includeReadOnly && (b.BufferType & (SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM)) !== 0) continue;
    parts.push(b.pvBuffer);
  }
  return parts;
}

/** What a seal covers, in place: the DATA buffers that are not read-only. */
function sealable(buffers: SecBuffer[]): SecBuffer[] {
  return buffers.filter((b) => bufferTypeOf(b) === SECBUFFER.DATA && (b.BufferType & (SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM)) === 0);
}

/** SECPKG_USER_FUNCTION_TABLE of a fresh user-mode instance. */
export function createUserModeTable(): SecpkgUserFunctionTable {
  const p = new KerberosUserPackage();
  return {
    ...UNUSED_USER_MEMBERS,
    InstanceInit: p.SpInstanceInit,
    InitUserModeContext: p.SpInitUserModeContext,
    MakeSignature: p.SpMakeSignature,
    VerifySignature: p.SpVerifySignature,
    SealMessage: p.SpSealMessage,
    UnsealMessage: p.SpUnsealMessage,
    QueryContextAttributes: p.SpQueryContextAttributes,
    CompleteAuthToken: () => SEC_E_UNSUPPORTED_FUNCTION, // Kerberos never asks for it
    DeleteUserModeContext: p.SpDeleteUserModeContext,
    ExportContext: p.SpExportSecurityContext,
    ImportContext: p.SpImportSecurityContext,
  };
}
