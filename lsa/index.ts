// The LSA process's public face.
export { Lsa } from './lsa.js';
export type { AttachRequest, AttachResult, LsaStats, PackageReport, ReapReport } from './lsa.js';
export type { LsaControl } from './control.js';
export { BUILTIN_PACKAGES, type LsaConfig } from './config.js';
export { parseAccount, type Account } from './accounts.js';
export { NOT_IMPLEMENTED_LSA_FUNCTIONS } from './function-table.js';
export type { PackageLoadFailure } from './package-loader.js';
