// sspi-emu's public API: the machine (boot, spawn, kill, trace), the Windows headers, and the
// types a package or an application module is written against.

export { Machine, AppProcess, LsaProcess, DEMO_ACCOUNTS, formatTimeline, formatMermaid, toChromeTrace, runDemo } from './machine/index.js';
export type { MachineOptions, SpawnOptions, DemoOptions, DemoReport } from './machine/index.js';
export * as sspi from './headers/sspi.js';
export * as status from './headers/status.js';
export * as ntsecpkg from './headers/ntsecpkg.js';
export type { Secur32, SspiResult, ContextResult, MessageResult, VerifyResult } from './sspi/secur32.js';
export type { CredHandle, CtxtHandle } from './sspi/handles.js';
export type { AppContext, AppModule, AppArgs, AppResult, AppStats, Listener } from './sspi/process.js';
export type { Connection } from './ipc/connection.js';
export type { TraceEvent, TapRecord } from './ipc/trace.js';
export { TransportError, SspiEmuError } from './ipc/errors.js';
export type { LsaStats, PackageReport, ReapReport } from './lsa/index.js';
