// What both halves of the Kerberos package share: its SecPkgInfo, the SecPkgContext_Sizes of a
// context by its key's etype, and how requested flags become the GSS flags of the authenticator
// checksum and the context attributes SSPI reports.

import { ASC_REQ, ASC_RET, ISC_REQ, ISC_RET, SECPKG_FLAG, type SecPkgContextSizes, type SecPkgInfo } from '../../headers/index.js';
import { checksumTypeInfo, encryptionTypeInfo, requiredChecksumType, KERB_ETYPE_AES256_CTS_HMAC_SHA1_96 } from './crypto/index.js';
import { GSS_C } from './gss-checksum.js';

/** RPC_C_AUTHN_GSS_KERBEROS (rpcdce.h): Kerberos' DCE RPC authentication service id. */
const RPC_C_AUTHN_GSS_KERBEROS = 16;

/** The largest token Windows' Kerberos says it emits since Windows 8 and Server 2012 (MaxTokenSize's default, 48000). */
export const KERBEROS_MAX_TOKEN = 48_000;

/**
 * Windows' Kerberos reports 0x000F3BBF (Wine and FreeRDP carry the same value): INTEGRITY | PRIVACY |
 * TOKEN_ONLY | DATAGRAM | CONNECTION | MULTI_REQUIRED | EXTENDED_ERROR | IMPERSONATION |
 * ACCEPT_WIN32_NAME | NEGOTIABLE | GSS_COMPATIBLE | LOGON | MUTUAL_AUTH | DELEGATION |
 * READONLY_WITH_CHECKSUM | RESTRICTED_TOKENS. This package leaves out what it does not do: DATAGRAM
 * (ISC_REQ_DATAGRAM is SEC_E_UNSUPPORTED_FUNCTION), DELEGATION (no forwarded TGT goes out, none is
 * taken in) and READONLY_WITH_CHECKSUM (a read-only buffer is neither sealed nor covered by the
 * seal's MAC): 0x00093BB7.
 */
export const WINDOWS_CAPABILITIES = 0x000f3bbf;

export const PACKAGE_INFO: Readonly<SecPkgInfo> = Object.freeze({
  fCapabilities:
    (SECPKG_FLAG.INTEGRITY |
      SECPKG_FLAG.PRIVACY |
      SECPKG_FLAG.TOKEN_ONLY |
      SECPKG_FLAG.CONNECTION |
      SECPKG_FLAG.MULTI_REQUIRED |
      SECPKG_FLAG.EXTENDED_ERROR |
      SECPKG_FLAG.IMPERSONATION |
      SECPKG_FLAG.ACCEPT_WIN32_NAME |
      SECPKG_FLAG.NEGOTIABLE |
      SECPKG_FLAG.GSS_COMPATIBLE |
      SECPKG_FLAG.LOGON |
      SECPKG_FLAG.MUTUAL_AUTH |
      SECPKG_FLAG.RESTRICTED_TOKENS) >>>
    0,
  wVersion: 1,
  wRPCID: RPC_C_AUTHN_GSS_KERBEROS,
  cbMaxToken: KERBEROS_MAX_TOKEN,
  Name: 'Kerberos',
  Comment: 'Microsoft Kerberos V1.0',
});

/** A copy: no caller can change ours. */
export function packageInfo(): SecPkgInfo {
  return { ...PACKAGE_INFO };
}

/**
 * SecPkgContext_Sizes of a context whose messages use a key of `etype`: a MIC token is the 16-byte
 * header and the etype's checksum (28 bytes for the AES-SHA1 etypes), a sealed Wrap's trailer is the
 * header, the confounder, the encrypted header and the HMAC (60 bytes for AES-SHA1, 64 and 72 for
 * RFC 8009's), and AES-CTS takes any length (cbBlockSize 1).
 */
export function sizesFor(etype: number = KERB_ETYPE_AES256_CTS_HMAC_SHA1_96): SecPkgContextSizes {
  const info = encryptionTypeInfo(etype);
  return {
    cbMaxToken: KERBEROS_MAX_TOKEN,
    cbMaxSignature: 16 + checksumTypeInfo(requiredChecksumType(etype)).bytes,
    cbBlockSize: 1,
    cbSecurityTrailer: 16 + info.blockBytes + 16 + info.macBytes,
  };
}

/** ISC_REQ_* that this package refuses (SEC_E_UNSUPPORTED_FUNCTION, as InitializeSecurityContext documents for a flag not supported). */
export const UNSUPPORTED_ISC_REQ = ISC_REQ.USE_SESSION_KEY | ISC_REQ.DATAGRAM | ISC_REQ.USE_DCE_STYLE;
export const UNSUPPORTED_ASC_REQ = ASC_REQ.USE_SESSION_KEY | ASC_REQ.DATAGRAM | ASC_REQ.USE_DCE_STYLE;

/**
 * The checksum's flags for an initiator's ISC_REQ_* (RFC 4121 4.1.1.1): mutual authentication,
 * replay and sequence detection, confidentiality and identify-only as asked; integrity always, as
 * MIT's initiator and Windows' assert it (every context can sign). DELEG is never set: delegation is
 * not implemented.
 */
export function gssFlagsFor(requirements: number): number {
  let flags = GSS_C.INTEG;
  if (requirements & ISC_REQ.MUTUAL_AUTH) flags |= GSS_C.MUTUAL;
  if (requirements & ISC_REQ.REPLAY_DETECT) flags |= GSS_C.REPLAY;
  if (requirements & ISC_REQ.SEQUENCE_DETECT) flags |= GSS_C.SEQUENCE;
  if (requirements & ISC_REQ.CONFIDENTIALITY) flags |= GSS_C.CONF;
  if (requirements & ISC_REQ.IDENTIFY) flags |= GSS_C.IDENTIFY;
  if (requirements & ISC_REQ.EXTENDED_ERROR) flags |= GSS_C.EXTENDED_ERROR;
  return flags >>> 0;
}

/** ISC_RET_* of an initiator context: what it asked for and got. */
export function clientAttributes(requirements: number, mutual: boolean): number {
  let a = ISC_RET.CONNECTION | ISC_RET.INTEGRITY;
  if (mutual) a |= ISC_RET.MUTUAL_AUTH;
  if (requirements & ISC_REQ.REPLAY_DETECT) a |= ISC_RET.REPLAY_DETECT;
  if (requirements & ISC_REQ.SEQUENCE_DETECT) a |= ISC_RET.SEQUENCE_DETECT;
  if (requirements & ISC_REQ.CONFIDENTIALITY) a |= ISC_RET.CONFIDENTIALITY;
  if (requirements & ISC_REQ.IDENTIFY) a |= ISC_RET.IDENTIFY;
  if (requirements & ISC_REQ.EXTENDED_ERROR) a |= ISC_RET.EXTENDED_ERROR;
  if (requirements & ISC_REQ.ALLOCATE_MEMORY) a |= ISC_RET.ALLOCATED_MEMORY;
  return a >>> 0;
}

/**
 * ASC_RET_* of an acceptor context: what the initiator's flags turned on (replay and sequence
 * detection are enforced by them, as MIT's acceptor does), and what the server's own call asked of
 * the SSPI around it (memory, extended errors).
 */
export function serverAttributes(requirements: number, gssFlags: number, mutual: boolean): number {
  let a = ASC_RET.CONNECTION;
  if (gssFlags & GSS_C.INTEG) a |= ASC_RET.INTEGRITY;
  if (mutual) a |= ASC_RET.MUTUAL_AUTH;
  if (gssFlags & GSS_C.REPLAY) a |= ASC_RET.REPLAY_DETECT;
  if (gssFlags & GSS_C.SEQUENCE) a |= ASC_RET.SEQUENCE_DETECT;
  if (gssFlags & GSS_C.CONF) a |= ASC_RET.CONFIDENTIALITY;
  if (gssFlags & GSS_C.IDENTIFY) a |= ASC_RET.IDENTIFY;
  if (requirements & ASC_REQ.EXTENDED_ERROR) a |= ASC_RET.EXTENDED_ERROR;
  if (requirements & ASC_REQ.ALLOCATE_MEMORY) a |= ASC_RET.ALLOCATED_MEMORY;
  return a >>> 0;
}
