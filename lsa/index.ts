// lsa/: the LSA process: package loading, the LSA function table, handle tables, logon sessions,
// the account store, the scheduler, dispatch, MappedContext interception.
export { Lsa } from './lsa.js';
export type { AttachRequest, AttachResult, LpcOffer, LsaStats, PackageReport, ReapReport } from './lsa.js';
export type { LpcListenerStats } from './lpc-listener.js';
export type { LsaControl } from './control.js';
export type { LsaBootData, LsaWorkerData } from './worker-data.js';
export { BUILTIN_PACKAGES, type LsaConfig } from './config.js';
export { parseAccount, type Account } from './accounts.js';
export { NOT_IMPLEMENTED_LSA_FUNCTIONS } from './function-table.js';
export { asyncEntries, type PackageLoadFailure, type PackageLoadProgress, type PackageLoadStage } from './package-loader.js';
export { MAX_MODULE_VERSIONS, type ReloadReport, type UnloadReport } from './package-reload.js';
export { AccountStore } from './accounts.js';
export { runAsClientCall, type LsaClientProcess } from './client-call.js';
export { DEFAULT_PACKAGES, packagesAlongside, DEFAULT_QUOTA, DEFAULT_WORK_POOL, MAX_WORK_POOL_THREADS, type ProcessQuota } from './config.js';
export { LsaWorkPool, type WorkPoolConfig, type WorkPoolStats } from './work-pool.js';
export { checkWorkTask } from './work-routines.js';
export { createLsaFunctionTable } from './function-table.js';
export { NestedHandles, type LocatablePackage, type LocatorServices, type PackageDirectory } from './package-locator.js';
export { LogonSessions } from './logon-sessions.js';
export { resolvePackageSpec } from './package-import.js';
export { ProcessQueue } from './scheduler.js';
export {
  decodeNetlogonRecord,
  NetlogonHost,
  type NetlogonConfig,
  type NetlogonMemberConfig,
  type NetlogonServerConfig,
  type NetlogonServerRecord,
  type NetlogonStatus,
} from './netlogon-host.js';
export { decodeKdcRequestRecord, KdcHost, poolDeriver, type KdcConfig, type KdcStatus } from './kdc-host.js';
export type { KdcPolicy, KdcRequestRecord } from '../packages/kerberos/kdc/index.js';
