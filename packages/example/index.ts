// The example security package: three-leg mutual authentication, the template to copy when you
// write your own. Like a Windows SSP/AP DLL it is one module with two exports:
//
//   SpLsaModeInitialize  -> the LSA-mode table (lsa.ts), loaded into the LSA at boot. It holds
//                           every long-term secret and runs the handshake.
//   SpUserModeInitialize -> the user-mode table (user.ts), loaded into an application's process
//                           the first time one of its contexts completes there (MappedContext).
//                           It signs and seals with the session key in the ContextData.
//
// The messages and keys both halves share are in wire.ts, what the package says about itself in
// info.ts. Each initialization makes a fresh instance: no state lives in the module.

import { SECPKG_INTERFACE_VERSION, STATUS_SUCCESS, type SpLsaModeInitializeFn, type SpUserModeInitializeFn } from '../../headers/index.js';
import { ExampleLsaPackage } from './lsa.js';
import { ExampleUserPackage } from './user.js';

export const SpLsaModeInitialize: SpLsaModeInitializeFn = () => ({
  status: STATUS_SUCCESS,
  PackageVersion: SECPKG_INTERFACE_VERSION,
  ppTables: [new ExampleLsaPackage().table()],
});

export const SpUserModeInitialize: SpUserModeInitializeFn = () => ({
  status: STATUS_SUCCESS,
  PackageVersion: SECPKG_INTERFACE_VERSION,
  ppTables: [new ExampleUserPackage().table()],
});
