// What both halves of the NTLM package share: its SecPkgInfo, its SecPkgContext_Sizes, the VERSION
// it sends, and how negotiated NTLM flags become the context attributes SSPI reports.

import { ASC_REQ, ASC_RET, ISC_REQ, ISC_RET, SECPKG_FLAG, type SecPkgContextSizes, type SecPkgInfo } from '../../headers/index.js';
import { NTLMSSP_NEGOTIATE } from './flags.js';
import { NTLMSSP_REVISION_W2K3, type NtlmVersion } from './messages.js';

/** RPC_C_AUTHN_WINNT (rpcdce.h): NTLM's DCE RPC authentication service id. */
const RPC_C_AUTHN_WINNT = 10;

/** The largest token Windows' NTLM says it emits (SecPkgInfo.cbMaxToken, 0xB48). */
export const NTLM_MAX_TOKEN = 2888;

/**
 * SecPkgInfo as Windows' NTLM reports it: fCapabilities 0x00082B37, wVersion 1, wRPCID 10,
 * cbMaxToken 2888, "NTLM", "NTLM Security Package". The capability bits are the ones Wine's
 * msv1_0 lists as "according to Windows" (the same 0x82B37 that ReactOS and FreeRDP hard-code):
 * INTEGRITY | PRIVACY | TOKEN_ONLY | CONNECTION | MULTI_REQUIRED | IMPERSONATION |
 * ACCEPT_WIN32_NAME | NEGOTIABLE | LOGON | RESTRICTED_TOKENS.
 */
export const PACKAGE_INFO: Readonly<SecPkgInfo> = Object.freeze({
  fCapabilities:
    SECPKG_FLAG.INTEGRITY |
    SECPKG_FLAG.PRIVACY |
    SECPKG_FLAG.TOKEN_ONLY |
    SECPKG_FLAG.CONNECTION |
    SECPKG_FLAG.MULTI_REQUIRED |
    SECPKG_FLAG.IMPERSONATION |
    SECPKG_FLAG.ACCEPT_WIN32_NAME |
    SECPKG_FLAG.NEGOTIABLE |
    SECPKG_FLAG.LOGON |
    SECPKG_FLAG.RESTRICTED_TOKENS,
  wVersion: 1,
  wRPCID: RPC_C_AUTHN_WINNT,
  cbMaxToken: NTLM_MAX_TOKEN,
  Name: 'NTLM',
  Comment: 'NTLM Security Package',
});

/** The package info a caller may keep: a copy, so no caller can change ours. */
export function packageInfo(): SecPkgInfo {
  return { ...PACKAGE_INFO };
}

/** SecPkgContext_Sizes of an NTLM context: a 16-byte NTLMSSP_MESSAGE_SIGNATURE is both the signature and the seal trailer. */
export const SIZES: Readonly<SecPkgContextSizes> = Object.freeze({ cbMaxToken: NTLM_MAX_TOKEN, cbMaxSignature: 16, cbBlockSize: 0, cbSecurityTrailer: 16 });

/** The VERSION (MS-NLMP 2.2.2.10) this package sends: Windows 10 / Server 2022 build 20348, NTLM revision 15. */
export const NTLM_VERSION: Readonly<NtlmVersion> = Object.freeze({ major: 10, minor: 0, build: 20348, revision: NTLMSSP_REVISION_W2K3 });

const { SIGN, SEAL, KEY_EXCH } = NTLMSSP_NEGOTIATE;

/**
 * Whether the exported session key is the client's random key, sent encrypted: KEY_EXCH together
 * with SIGN or SEAL (MS-NLMP 3.1.5.1.2, 3.2.5.1.2); otherwise it is the KeyExchangeKey itself.
 */
export function keyExchanged(negotiated: number): boolean {
  return (negotiated & KEY_EXCH) !== 0 && (negotiated & (SIGN | SEAL)) !== 0;
}

/**
 * ISC_RET_* of a client context: what was asked for and what the negotiated flags can deliver.
 * NTLM never authenticates the server, so ISC_RET_MUTUAL_AUTH is never set.
 */
export function clientAttributes(requested: number, negotiated: number): number {
  let attributes = ISC_RET.CONNECTION;
  if ((negotiated & (SIGN | SEAL)) !== 0) {
    if (requested & ISC_REQ.INTEGRITY) attributes |= ISC_RET.INTEGRITY;
    if (requested & ISC_REQ.REPLAY_DETECT) attributes |= ISC_RET.REPLAY_DETECT;
    if (requested & ISC_REQ.SEQUENCE_DETECT) attributes |= ISC_RET.SEQUENCE_DETECT;
  }
  if (negotiated & SEAL && requested & ISC_REQ.CONFIDENTIALITY) attributes |= ISC_RET.CONFIDENTIALITY;
  if (requested & ISC_REQ.ALLOCATE_MEMORY) attributes |= ISC_RET.ALLOCATED_MEMORY;
  return attributes >>> 0;
}

/** ASC_RET_* of a server context, the same way. */
export function serverAttributes(requested: number, negotiated: number): number {
  let attributes = ASC_RET.CONNECTION;
  if ((negotiated & (SIGN | SEAL)) !== 0) {
    if (requested & ASC_REQ.INTEGRITY) attributes |= ASC_RET.INTEGRITY;
    if (requested & ASC_REQ.REPLAY_DETECT) attributes |= ASC_RET.REPLAY_DETECT;
    if (requested & ASC_REQ.SEQUENCE_DETECT) attributes |= ASC_RET.SEQUENCE_DETECT;
  }
  if (negotiated & SEAL && requested & ASC_REQ.CONFIDENTIALITY) attributes |= ASC_RET.CONFIDENTIALITY;
  if (requested & ASC_REQ.ALLOCATE_MEMORY) attributes |= ASC_RET.ALLOCATED_MEMORY;
  return attributes >>> 0;
}
