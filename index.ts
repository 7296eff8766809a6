// sspi-emu's public API: the machine (boot, spawn, kill, trace), the Windows headers, and the
// types a package or an application module is written against.

export {
  Machine,
  AppProcess,
  LsaProcess,
  DEMO_ACCOUNTS,
  INSPECT_DEADLINE_MS,
  PackageLoadError,
  formatTimeline,
  formatMermaid,
  toChromeTrace,
} from './machine/index.js';
export type { InspectOptions, LsaIsolation, MachineOptions, SpawnOptions, RestartReport, KdcOptions, KdcServiceOptions, MachineRole } from './machine/index.js';
export { formatHtml, decodeToken, registerTokenDecoder, tokenDecoders } from './machine/index.js';
export type { HtmlOptions, DecodedToken, Described, TokenDecoder } from './machine/index.js';
export { runDemo } from './scenarios/index.js';
export type { DemoOptions, DemoReport } from './scenarios/index.js';
export * as sspi from './headers/sspi.js';
export * as status from './headers/status.js';
export * as ntsecpkg from './headers/ntsecpkg.js';
export * as ntsecapi from './headers/ntsecapi.js';
export type {
  Secur32,
  SspiResult,
  ContextResult,
  MessageResult,
  VerifyResult,
  ExportSecurityContextOptions,
  ExportSecurityContextResult,
  ImportSecurityContextResult,
  LsaCallAuthenticationPackageResult,
  LsaConnectionHandle,
  LsaConnectUntrustedResult,
  LsaLookupAuthenticationPackageResult,
} from './sspi/index.js';
export type { CredHandle, CtxtHandle } from './sspi/index.js';
export type { AppContext, AppModule, AppArgs, AppResult, AppStats, Listener } from './process/index.js';
export type { Connection } from './ipc/index.js';
export type { TraceEvent, TapRecord } from './ipc/index.js';
export { EmuError, PackageFault, TransportError, SspiEmuError } from './ipc/index.js';
export type { ErrorCode, MachineErrorCode, PackageFaultCode, TransportErrorCode } from './ipc/index.js';
export type { LsaStats, PackageLoadFailure, PackageLoadStage, PackageReport, ReapReport, ReloadReport, UnloadReport, KdcStatus } from './lsa/index.js';
export type { KdcRequestRecord, KdcPolicy } from './lsa/index.js';
export { runCheck, formatCheckReport, CHECKS } from './check/index.js';
export type { CheckOptions, CheckReport, PackageCheck, CheckResult, CheckOutcome, CheckName } from './check/index.js';
