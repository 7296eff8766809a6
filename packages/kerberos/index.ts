// The Kerberos security package (RFC 4120's AS, TGS and AP exchanges; RFC 4121's GSS-API mechanism),
// one module with two exports like an SSP/AP DLL:
//
//   SpLsaModeInitialize  -> the LSA-mode table (lsa.ts), loaded into the LSA at boot: credentials,
//                           the KDC exchanges, the ticket caches, the AP exchange, every key.
//   SpUserModeInitialize -> the user-mode table (user.ts), loaded into an application's process
//                           when one of its Kerberos contexts completes: MIC and Wrap tokens.
//
// Registered as the built-in package "kerberos" (lsa/config.ts); its settings are described in
// settings.ts. The libraries under it (crypto/, messages/, keytab.ts) are the KDC's too.

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
