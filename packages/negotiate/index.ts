// The Negotiate security package (SPNEGO, RFC 4178 with MS-SPNG's extensions), one module with two
// exports like an SSP/AP DLL:
//
//   SpLsaModeInitialize  -> the LSA-mode table (lsa.ts), loaded into the LSA at boot. It selects
//                           a mechanism among the loaded packages (mechanisms.ts) and drives it
//                           through the LSA (inner.ts), speaking SPNEGO around it.
//   SpUserModeInitialize -> no table: a Negotiate context is mapped into its process as its
//                           mechanism's, whose user-mode half signs and seals there.
//
// Registered as the built-in package "negotiate" (lsa/config.ts). Its token formats, which the
// fuzzer and `sspi-emu decode` use, are in wire.ts.

import { SECPKG_INTERFACE_VERSION, type SpLsaModeInitializeFn, type SpUserModeInitializeFn, STATUS_SUCCESS } from '../../headers/index.js';
import { createLsaModeTable } from './lsa.js';

export const SpLsaModeInitialize: SpLsaModeInitializeFn = () => ({
  status: STATUS_SUCCESS,
  PackageVersion: SECPKG_INTERFACE_VERSION,
  ppTables: [createLsaModeTable()],
});

export const SpUserModeInitialize: SpUserModeInitializeFn = () => ({
  status: STATUS_SUCCESS,
  PackageVersion: SECPKG_INTERFACE_VERSION,
  ppTables: [],
});
