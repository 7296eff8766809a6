// The NTLM security package (MS-NLMP, NTLMv2 with MIC, key exchange, signing and sealing), one
// module with two exports like an SSP/AP DLL:
//
//   SpLsaModeInitialize  -> the LSA-mode table (lsa.ts), loaded into the LSA at boot: credentials,
//                           the handshake legs, every NT hash.
//   SpUserModeInitialize -> the user-mode table (user.ts), loaded into an application's process
//                           when one of its NTLM contexts completes: signing and sealing.
//
// Registered as the built-in package "ntlm" (lsa/config.ts); its settings are described in
// settings.ts.

import { SECPKG_INTERFACE_VERSION, type SpLsaModeInitializeFn, type SpUserModeInitializeFn, STATUS_SUCCESS } from '../../headers/index.js';
import { createLsaModeTable } from './lsa.js';
import { createUserModeTable } from './user.js';

export const SpLsaModeInitialize: SpLsaModeInitializeFn = () => ({
  status: STATUS_SUCCESS,
  PackageVersion: SECPKG_INTERFACE_VERSION,
  ppTables: [createLsaModeTable()],
});

export const SpUserModeInitialize: SpUserModeInitializeFn = () => ({
  status: STATUS_SUCCESS,
  PackageVersion: SECPKG_INTERFACE_VERSION,
  ppTables: [createUserModeTable()],
});
