// What the Negotiate package says about itself: its SecPkgInfo and its SecPkgContext_Sizes before
// a mechanism is chosen (once one is, the mechanism's own answer).

import { SECPKG_FLAG, type SecPkgContextSizes, type SecPkgInfo } from '../../headers/index.js';

/** RPC_C_AUTHN_GSS_NEGOTIATE (rpcdce.h): Negotiate's DCE RPC authentication service id. */
const RPC_C_AUTHN_GSS_NEGOTIATE = 9;

/**
 * The largest token Windows 10's Negotiate reports (65791: Kerberos' 65535 and 256 for SPNEGO's
 * framing; Windows XP reported 12000 + 256, Windows 8 and Server 2012 48000 + 256).
 */
export const NEGOTIATE_MAX_TOKEN = 65791;

/**
 * SecPkgInfo as Windows' Negotiate reports it: "Negotiate", "Microsoft Package Negotiator",
 * wVersion 1, wRPCID 9, capabilities 0x00083BB3: INTEGRITY | PRIVACY | CONNECTION | MULTI_REQUIRED |
 * EXTENDED_ERROR | IMPERSONATION | ACCEPT_WIN32_NAME | NEGOTIABLE | GSS_COMPATIBLE | LOGON |
 * RESTRICTED_TOKENS (the value Wine and FreeRDP carry; Windows 8 and later add
 * APPCONTAINER_CHECKS, as they do to NTLM, which this emulation leaves out of both).
 */
export const PACKAGE_INFO: Readonly<SecPkgInfo> = Object.freeze({
  fCapabilities:
    SECPKG_FLAG.INTEGRITY |
    SECPKG_FLAG.PRIVACY |
    SECPKG_FLAG.CONNECTION |
    SECPKG_FLAG.MULTI_REQUIRED |
    SECPKG_FLAG.EXTENDED_ERROR |
    SECPKG_FLAG.IMPERSONATION |
    SECPKG_FLAG.ACCEPT_WIN32_NAME |
    SECPKG_FLAG.NEGOTIABLE |
    SECPKG_FLAG.GSS_COMPATIBLE |
    SECPKG_FLAG.LOGON |
    SECPKG_FLAG.RESTRICTED_TOKENS,
  wVersion: 1,
  wRPCID: RPC_C_AUTHN_GSS_NEGOTIATE,
  cbMaxToken: NEGOTIATE_MAX_TOKEN,
  Name: 'Negotiate',
  Comment: 'Microsoft Package Negotiator',
});

/** A copy: no caller can change ours. */
export function packageInfo(): SecPkgInfo {
  return { ...PACKAGE_INFO };
}

/** SecPkgContext_Sizes of a context no mechanism has been chosen for yet: tokens only. */
export const SIZES: Readonly<SecPkgContextSizes> = Object.freeze({ cbMaxToken: NEGOTIATE_MAX_TOKEN, cbMaxSignature: 0, cbBlockSize: 0, cbSecurityTrailer: 0 });
