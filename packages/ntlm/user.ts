// The NTLM package's user-mode half (SECPKG_USER_FUNCTION_TABLE), loaded into an application's
// process the first time one of its NTLM contexts completes there. It derives the signing and
// sealing keys from the ExportedSessionKey the LSA half handed over in ContextData (SIGNKEY and
// SEALKEY, 3.4.5.2-3: the key schedule runs here, not on the LSA's dispatch thread), signs,
// verifies, seals and unseals (MS-NLMP 3.4) sending no LPC message, and answers
// QueryContextAttributes for the mapped context.
//
// Buffers, as Windows' NTLM reads them:
// - MakeSignature/VerifySignature cover every SECBUFFER_DATA buffer, read-only ones included,
//   concatenated in order (hashed where they lie, not copied together); the 16-byte
//   NTLMSSP_MESSAGE_SIGNATURE is written into the SECBUFFER_TOKEN, whose length becomes 16.
// - EncryptMessage/DecryptMessage seal the SECBUFFER_DATA buffers that are not read-only, in place,
//   concatenated in order (RC4 runs on from one buffer to the next); the SECBUFFER_TOKEN carries the
//   16-byte signature as the trailer. DecryptMessage leaves them sealed when the signature fails. Read-only DATA buffers are left as they are and, unlike
//   Windows (which checksums them), are not covered by the seal's signature: NtlmSecurityContext
//   seals and signs the same bytes.
// - The RC4 state and sequence number of each direction run on from message to message; the
//   MessageSeqNo argument is ignored, as it is for connection-oriented NTLM.
//
// ExportSecurityContext / ImportSecurityContext: the export is the context's NtlmSecurityContext
// state (sequence numbers, RC4 states, signing keys, flags, side; a fresh one for
// SECPKG_CONTEXT_EXPORT_RESET_NEW), which the LSA keeps. The importing process gets it back beside
// the ContextData the LSA kept from the handshake: names, flags and the session key come from the
// ContextData, and the state must be of that session (NtlmSecurityContext.resume), so a process
// that exports cannot make its importer believe in another user or other keys.

import {
  type SecpkgUserFunctionTable,
  SECBUFFER,
  SECPKG_CONTEXT_EXPORT,
  bufferTypeOf,
  SECBUFFER_READONLY,
  SECBUFFER_READONLY_WITH_CHECKSUM,
  type SecBuffer,
  SEC_E_BUFFER_TOO_SMALL,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_OK,
  SEC_E_QOP_NOT_SUPPORTED,
  SEC_E_UNSUPPORTED_FUNCTION,
  STATUS_SUCCESS,
} from '../../headers/index.js';
import { findToken, HandleMap, standardContextAttribute, unpackImportedContext, UNUSED_USER_MEMBERS } from '../kit/index.js';
import { unpackContextData, type ContextData } from './context-data.js';
import { NtlmUnsupportedError } from './crypto.js';
import { packageInfo, SIZES } from './info.js';
import { sequenceAfter } from './mech-list-mic.js';
import { NtlmParseError } from './messages.js';
import { NTLM_SIGNATURE_BYTES, NtlmSecurityContext } from './security.js';

/**
 * A context mapped into (or imported by) this process: its ContextData, and the signing and sealing
 * state, derived from the session key on the first message. A server that only authenticates
 * (an HTTP server reading the user's name) never signs or seals: its contexts never pay for the
 * four MD5 key derivations and two RC4 key schedules (a twentieth of `serve --http`'s thread).
 */
class UserContext {
  readonly data: ContextData;
  readonly #sequence: { outgoing: number; incoming: number };
  #security: NtlmSecurityContext | undefined;

  constructor(data: ContextData, sequence: { outgoing: number; incoming: number }, security?: NtlmSecurityContext) {
    this.data = data;
    this.#sequence = sequence;
    this.#security = security;
  }

  get security(): NtlmSecurityContext {
    return (this.#security ??= NtlmSecurityContext.fromSessionKey({
      flags: this.data.flags,
      exportedSessionKey: this.data.exportedSessionKey,
      side: this.data.side,
      sequence: this.#sequence,
    }));
  }

  wipe(): void {
    this.data.exportedSessionKey.fill(0);
    this.#security?.wipe();
  }
}

/**
 * The handles of imported contexts start here: the LSA-mode half numbers its contexts from 1, and
 * mapped contexts are known here by those numbers, so the two never meet.
 */
const IMPORTED_HANDLE_BASE = 2 ** 40;

/** One instance per SpUserModeInitialize: the contexts mapped into this process, and those imported. */
class NtlmUserPackage {
  /** Not a Map: one context per handshake comes and goes (the kit's HandleMap, ipc/handle-map.ts). */
  private readonly contexts = new HandleMap<UserContext>();
  private nextImported = IMPORTED_HANDLE_BASE;

  readonly SpInstanceInit: SecpkgUserFunctionTable['InstanceInit'] = () => STATUS_SUCCESS;

  /**
   * Reads the ContextData the LSA delivered and derives this side's keys from its session key;
   * anything malformed (or flags this package cannot sign with) is SEC_E_INVALID_TOKEN.
   */
  readonly SpInitUserModeContext: SecpkgUserFunctionTable['InitUserModeContext'] = (handle, packed) => {
    try {
      const data = unpackContextData(packed);
      // Under Negotiate the mechListMICs used the first sequence numbers (mech-list-mic.ts); the RC4 states start fresh.
      const sequence = sequenceAfter(data.flags, data.mechListMics);
      // What the keys will be derived from is checked now: a context that cannot sign is refused here, not at its first message.
      NtlmSecurityContext.checkFlags(data.flags);
      this.contexts.set(handle, new UserContext(data, sequence));
      return STATUS_SUCCESS;
    } catch (error) {
      if (error instanceof NtlmParseError || error instanceof NtlmUnsupportedError) return SEC_E_INVALID_TOKEN;
      throw error;
    }
  };

  /** MakeSignature: NTLMSSP_MESSAGE_SIGNATURE over the DATA buffers (3.4.4). */
  readonly SpMakeSignature: SecpkgUserFunctionTable['MakeSignature'] = (handle, qop, buffers) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    if (qop !== 0) return SEC_E_QOP_NOT_SUPPORTED;
    const token = findToken(buffers);
    if (token === undefined) return SEC_E_INVALID_TOKEN;
    if (token.pvBuffer.length < NTLM_SIGNATURE_BYTES) return SEC_E_BUFFER_TOO_SMALL;
    token.pvBuffer = context.security.signParts(signedData(buffers), signatureOut(token));
    return SEC_E_OK;
  };

  /** VerifySignature: SEC_E_MESSAGE_ALTERED for a changed message, SEC_E_OUT_OF_SEQUENCE for a replayed or reordered one. */
  readonly SpVerifySignature: SecpkgUserFunctionTable['VerifySignature'] = (handle, buffers) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return { status: SEC_E_INVALID_HANDLE };
    const token = findToken(buffers);
    if (token === undefined) return { status: SEC_E_INVALID_TOKEN };
    return { status: context.security.verifyParts(signedData(buffers), token.pvBuffer), QualityOfProtection: 0 };
  };

  /** EncryptMessage: the DATA buffers sealed in place, the signature as the SECBUFFER_TOKEN trailer (3.4.3). */
  readonly SpSealMessage: SecpkgUserFunctionTable['SealMessage'] = (handle, qop, buffers) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    if (qop !== 0) return SEC_E_QOP_NOT_SUPPORTED; // SECQOP_WRAP_NO_ENCRYPT is not offered
    // EncryptMessage (NTLM) documents SEC_E_QOP_NOT_SUPPORTED for a context that did not negotiate confidentiality.
    if (!context.security.confidentiality) return SEC_E_QOP_NOT_SUPPORTED;
    const token = findToken(buffers);
    const data = sealedData(buffers);
    if (token === undefined || data.length === 0) return SEC_E_INVALID_TOKEN;
    if (token.pvBuffer.length < NTLM_SIGNATURE_BYTES) return SEC_E_BUFFER_TOO_SMALL;
    const signature = signatureOut(token);
    const status = context.security.sealParts(data, signature);
    if (status === SEC_E_OK) token.pvBuffer = signature;
    return status;
  };

  /**
   * DecryptMessage: the DATA buffers unsealed in place when the signature verifies; left sealed
   * otherwise. A context that negotiated SIGN but not SEAL still unseals, with the sealing key
   * SIGN gave it: gss-ntlmssp's gss_wrap seals whatever was negotiated (MIT gss-client's default
   * run and its -nx), and its gss_unwrap, the acceptor those clients are written against, opens
   * such messages. The strict reading of MS-NLMP (no confidentiality without SEAL) would refuse
   * them; EncryptMessage keeps to it (SEC_E_QOP_NOT_SUPPORTED without SEAL), so this side never
   * sends what the peer did not negotiate. Without SIGN or SEAL there is no key: SEC_E_QOP_NOT_SUPPORTED.
   */
  readonly SpUnsealMessage: SecpkgUserFunctionTable['UnsealMessage'] = (handle, buffers) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return { status: SEC_E_INVALID_HANDLE };
    if (!context.security.sealingKey) return { status: SEC_E_QOP_NOT_SUPPORTED };
    const token = findToken(buffers);
    const data = sealedData(buffers);
    if (token === undefined || data.length === 0) return { status: SEC_E_INVALID_TOKEN };
    const status = context.security.unsealParts(data, token.pvBuffer);
    return status === SEC_E_OK ? { status, QualityOfProtection: 0 } : { status };
  };

  /**
   * SpExportSecurityContext: the context's state, where it is now, or, with RESET_NEW, as it was
   * when it completed (sequence numbers 0, RC4 from the start). The context itself is unchanged.
   */
  readonly SpExportSecurityContext: SecpkgUserFunctionTable['ExportContext'] = (handle, flags) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    if ((flags & SECPKG_CONTEXT_EXPORT.RESET_NEW) === 0) return { status: SEC_E_OK, PackedContext: context.security.exportState() };
    const { flags: negotiated, exportedSessionKey, side } = context.data;
    const initial = NtlmSecurityContext.fromSessionKey({ flags: negotiated, exportedSessionKey, side });
    const PackedContext = initial.exportState();
    initial.wipe();
    return { status: SEC_E_OK, PackedContext };
  };

  /**
   * SpImportSecurityContext: a context exported by another process, from the ContextData the LSA
   * kept and the state the exporter's SpExportSecurityContext gave; SEC_E_INVALID_TOKEN when they
   * are malformed or not of one session.
   */
  readonly SpImportSecurityContext: SecpkgUserFunctionTable['ImportContext'] = (packed) => {
    const imported = unpackImportedContext(packed);
    if (imported === undefined) return SEC_E_INVALID_TOKEN;
    try {
      const data = unpackContextData(imported.ContextData);
      const security = NtlmSecurityContext.resume({
        flags: data.flags,
        exportedSessionKey: data.exportedSessionKey,
        side: data.side,
        state: imported.PackedContext,
      });
      while (this.contexts.has(this.nextImported)) this.nextImported++;
      const handle = this.nextImported++;
      this.contexts.set(handle, new UserContext(data, { outgoing: 0, incoming: 0 }, security));
      return { status: SEC_E_OK, ContextHandle: handle };
    } catch (error) {
      if (error instanceof NtlmParseError || error instanceof NtlmUnsupportedError) return SEC_E_INVALID_TOKEN;
      throw error;
    } finally {
      imported.ContextData.fill(0);
      imported.PackedContext.fill(0);
    }
  };

  readonly SpQueryContextAttributes: SecpkgUserFunctionTable['QueryContextAttributes'] = (handle, attribute) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return { status: SEC_E_INVALID_HANDLE };
    const { data } = context;
    return standardContextAttribute(attribute, {
      sizes: SIZES,
      userName: data.userName,
      serverName: data.serverName,
      established: data.established,
      sessionKey: data.exportedSessionKey,
      flags: data.attributes,
      packageInfo: packageInfo(),
    });
  };

  readonly SpDeleteUserModeContext: SecpkgUserFunctionTable['DeleteUserModeContext'] = (handle) => {
    const context = this.contexts.get(handle);
    if (context === undefined) return SEC_E_INVALID_HANDLE;
    context.wipe();
    this.contexts.delete(handle);
    return SEC_E_OK;
  };
}

/** What a signature covers: every DATA buffer. */
function signedData(buffers: SecBuffer[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const b of buffers) if (bufferTypeOf(b) === SECBUFFER.DATA) parts.push(b.pvBuffer);
  return parts;
}

/** What a seal encrypts, in place: the DATA buffers that are not read-only. */
function sealedData(buffers: SecBuffer[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const b of buffers) {
    if (bufferTypeOf(b) === SECBUFFER.DATA && (b.BufferType & (SECBUFFER_READONLY | SECBUFFER_READONLY_WITH_CHECKSUM)) === 0) parts.push(b.pvBuffer);
  }
  return parts;
}

/** The signature's place: the first 16 bytes of the caller's SECBUFFER_TOKEN (checked to be at least that long). */
function signatureOut(token: SecBuffer): Uint8Array {
  return token.pvBuffer.length === NTLM_SIGNATURE_BYTES ? token.pvBuffer : token.pvBuffer.subarray(0, NTLM_SIGNATURE_BYTES);
}

/** SECPKG_USER_FUNCTION_TABLE of a fresh user-mode instance. */
export function createUserModeTable(): SecpkgUserFunctionTable {
  const p = new NtlmUserPackage();
  return {
    ...UNUSED_USER_MEMBERS,
    InstanceInit: p.SpInstanceInit,
    InitUserModeContext: p.SpInitUserModeContext,
    MakeSignature: p.SpMakeSignature,
    VerifySignature: p.SpVerifySignature,
    SealMessage: p.SpSealMessage,
    UnsealMessage: p.SpUnsealMessage,
    QueryContextAttributes: p.SpQueryContextAttributes,
    CompleteAuthToken: () => SEC_E_UNSUPPORTED_FUNCTION, // NTLM never asks for it
    DeleteUserModeContext: p.SpDeleteUserModeContext,
    ExportContext: p.SpExportSecurityContext,
    ImportContext: p.SpImportSecurityContext,
  };
}
