// LSA_SECPKG_FUNCTION_TABLE: what the LSA gives each package in SpInitialize. Every member a
// package of this project uses is real: logon sessions and their credentials, LSA heap, the
// account store (OpenSamUser ...), and the members that reach into the calling process
// (AllocateClientBuffer, CopyTo/FromClientBuffer, ClientCallback) send LPC messages to it.
// CreateThread runs one of the LSA's work routines on the LSA's work pool (lsa/work-pool.ts).
// UnloadPackage unloads the calling package (lsa/package-reload.ts). The rest answer
// STATUS_NOT_IMPLEMENTED (listed in the README).

import { types } from 'node:util';
import {
  type LsaApCallPackageResult,
  SECPKG_CLIENT_PROCESS_TERMINATED,
  type LsaClientRequest,
  type LsaNotImplementedFn,
  type LsaThreadResult,
  type LsaSecpkgFunctionTable,
  type LUID,
  type PackageId,
  type SecBuffer,
  type SecpkgFunctionTable,
  STATUS_ACCESS_VIOLATION,
  STATUS_INTERNAL_ERROR,
  STATUS_INVALID_PARAMETER,
  STATUS_LOGON_SESSION_COLLISION,
  STATUS_NO_SUCH_LOGON_SESSION,
  STATUS_NO_SUCH_USER,
  STATUS_NOT_IMPLEMENTED,
  STATUS_OBJECT_NAME_NOT_FOUND,
  STATUS_SUCCESS,
  statusName,
  type Status,
} from '../headers/index.js';
import { describeError, type ProcessId } from '../ipc/index.js';
import { netlogonStatusName } from '../packages/ntlm/netlogon/index.js';
import type { CallPoints } from '../hosting/index.js';
import type { AccountStore } from './accounts.js';
import { callGoesOn, currentClientCall, type LsaClientProcess } from './client-call.js';
import { ANONYMOUS_LOGON_LUID, isLuid, type LogonSessions } from './logon-sessions.js';
import type { CallScheduler } from './scheduler.js';
import type { LsaWorkPool } from './work-pool.js';
import { checkWorkTask } from './work-routines.js';
import { locatedTable, lookupPackage, type LocatorServices } from './package-locator.js';

export interface LsaServices {
  readonly sessions: LogonSessions;
  readonly accounts: AccountStore;
  /** The LSA's call points: the LSA functions that reach into a process are traced there. */
  readonly points: CallPoints;
  processById(pid: ProcessId): LsaClientProcess | undefined;
  /** While the LSA waits on a process, the caller's slot goes to the others (lsa/scheduler.ts). */
  readonly scheduler: Pick<CallScheduler, 'whileWaiting'>;
  /** Bytes the packages hold in LSA heap (AllocateLsaHeap/AllocatePrivateHeap), for stats. */
  heap: { allocations: number; bytes: number };
  /** Where CreateThread runs its work routine. */
  readonly work: Pick<LsaWorkPool, 'run'>;
  /** The loaded packages and the handles one holds of another: LookupPackage and LocatePackageById. */
  readonly locator: LocatorServices;
  /**
   * UnloadPackage: starts unloading version `version` of package `packageId` (after the calls it
   * runs, its own among them, have returned); STATUS_NO_SUCH_PACKAGE when that version is not loaded.
   */
  unloadPackage(packageId: PackageId, version: number): Status;
  /**
   * CallPackagePassthrough's route: to the domain controller through Netlogon on a domain member,
   * to this LSA's package otherwise (lsa/lsa.ts); never rejects. `reason` says why a call failed,
   * for the trace. `where` names where it went ("the DC at HOST:PORT", "this LSA"). Absent (in the
   * in-process harnesses, which have no LSA to route through), CallPackagePassthrough answers
   * STATUS_NOT_IMPLEMENTED.
   */
  passThrough?(packageName: string, data: Uint8Array): Promise<LsaApCallPackageResult & { reason?: string; where: string }>;
}

/** The names of the members that answer STATUS_NOT_IMPLEMENTED, in table order (for the README and tests). */
export const NOT_IMPLEMENTED_LSA_FUNCTIONS = [
  'ImpersonateClient',
  'DuplicateHandle',
  'SaveSupplementalCredentials',
  'RegisterNotification',
  'CancelNotification',
  'MapBuffer',
  'CreateToken',
  'AuditLogon',
  'CallPackage',
  'FreeReturnBuffer',
  'CallPackageEx',
  'CreateSharedMemory',
  'AllocateSharedMemory',
  'FreeSharedMemory',
  'DeleteSharedMemory',
  'GetUserAuthData',
  'ConvertAuthDataToToken',
  'UpdateCredentials',
  'GetAuthDataForUser',
  'CrackSingleName',
  'AuditAccountLogon',
  'CrediRead',
  'CrediReadDomainCredentials',
  'CrediFreeCredentials',
  'LsaProtectMemory',
  'LsaUnprotectMemory',
  'OpenTokenByLogonId',
  'ExpandAuthDataForDomain',
  'CreateTokenEx',
  'CrediWrite',
  'CrediUnmarshalandDecodeString',
  'DummyFunction6',
  'GetExtendedCallFlags',
  'DuplicateTokenHandle',
  'GetServiceAccountPassword',
  'DummyFunction7',
  'AuditLogonEx',
  'CheckProtectedUserByToken',
  'QueryClientRequest',
  'GetAppModeInfo',
  'SetAppModeInfo',
  'GetClientInfoEx',
  'GetSecpkgFailureReason',
  'SetSecpkgFailureReason',
] as const;

const notImplemented: LsaNotImplementedFn = () => STATUS_NOT_IMPLEMENTED;

/** Longest buffer CallPackagePassthrough takes (a pass-through logon is a few KiB; Netlogon's frame holds 32 KiB). */
const MAX_PASSTHROUGH_BYTES = 32 * 1024;

/** Longest buffer a ClientCallback may hand back to a package. */
const MAX_CALLBACK_OUTPUT = 1 << 20;

/** The largest ULONG: AllocateLsaHeap's Length is one (`PVOID (Length: ULONG)`); AllocatePrivateHeap's is a SIZE_T. */
const MAX_ULONG = 0xffff_ffff;

/**
 * The status in a process's reply to one of the LSA's calls into it. The process may answer
 * anything: what is not a status is the process's memory misbehaving (STATUS_ACCESS_VIOLATION by
 * default, as a bad client address is on Windows).
 */
function replyStatus(reply: unknown, malformed: Status = STATUS_ACCESS_VIOLATION): Status {
  const status = typeof reply === 'object' && reply !== null ? (reply as { status?: unknown }).status : undefined;
  return typeof status === 'number' && Number.isInteger(status) && status >= -0x8000_0000 && status <= 0xffff_ffff ? status >>> 0 : malformed;
}

function isAddress(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A ClientCallback's output buffer as the process sent it, copied, or undefined when it is not one. */
function callbackOutput(value: unknown): SecBuffer | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { BufferType, pvBuffer } = value as { BufferType?: unknown; pvBuffer?: unknown };
  if (typeof BufferType !== 'number' || !Number.isInteger(BufferType) || !(pvBuffer instanceof Uint8Array) || pvBuffer.byteLength > MAX_CALLBACK_OUTPUT)
    return undefined;
  return { BufferType: BufferType >>> 0, pvBuffer: new Uint8Array(pvBuffer) };
}

/** The table package `packageId` gets in SpInitialize; `version` is which load of the package it is (a reload makes a new table). */
export function createLsaFunctionTable(packageId: PackageId, services: LsaServices, version = 1): LsaSecpkgFunctionTable {
  const { sessions, accounts, points } = services;

  /** The process a client-buffer function acts on: the request's, or the current call's. */
  function clientOf(request: LsaClientRequest): LsaClientProcess | undefined {
    if (request !== null) return services.processById(request.processId as ProcessId);
    return currentClientCall()?.process;
  }

  /** Runs an LSA function that crosses into a process, tracing it and turning transport failures into a status. */
  async function intoProcess<T extends { status: Status }>(
    name: string,
    request: LsaClientRequest,
    call: (p: LsaClientProcess) => Promise<T>,
  ): Promise<T | { status: Status }> {
    // The package awaits this answer: it must resume as the call it runs for.
    callGoesOn();
    const client = clientOf(request);
    if (client === undefined || client.terminated) return { status: STATUS_INVALID_PARAMETER };
    const peer = client.name;
    points.point(name, 'call', { peer });
    try {
      const reply = await services.scheduler.whileWaiting(client.queue, () => call(client));
      points.point(name, 'return', { peer, status: statusName(reply.status) });
      return reply;
    } catch (error) {
      points.point(name, 'return', { peer, status: 'STATUS_INTERNAL_ERROR', detail: describeError(error) });
      return { status: STATUS_INTERNAL_ERROR };
    }
  }

  // The tables LocatePackageById hands this package, one per target, made on first use.
  const located = new Map<number, SecpkgFunctionTable | null>();

  // Blocks handed out and not yet freed: a double free or a foreign block changes no counter.
  const live = new WeakSet<Uint8Array>();
  /**
   * AllocateLsaHeap and AllocatePrivateHeap: a zeroed block, or null, as Windows' answer NULL, for
   * a Length that is no size (negative, fractional, not a number, past `most`) or that this
   * process cannot hold (a RangeError from the allocation, which is never the package's to catch).
   * Nothing is counted for a block not handed out.
   */
  function allocateHeap(Length: unknown, most: number): Uint8Array | null {
    if (typeof Length !== 'number' || !Number.isSafeInteger(Length) || Length < 0 || Length > most) return null;
    let block: Uint8Array;
    try {
      block = new Uint8Array(Length);
    } catch {
      return null;
    }
    services.heap.allocations++;
    services.heap.bytes += Length;
    live.add(block);
    return block;
  }
  // The header types these as answering a Uint8Array; a NULL is what Windows answers (the table's
  // other pointers, GetCallInfo's and LocatePackageById's, are null when there is none).
  const allocateLsaHeap = ((Length: unknown) => allocateHeap(Length, MAX_ULONG)) as LsaSecpkgFunctionTable['AllocateLsaHeap'];
  const allocatePrivateHeap = ((Length: unknown) => allocateHeap(Length, Number.MAX_SAFE_INTEGER)) as LsaSecpkgFunctionTable['AllocatePrivateHeap'];
  function freeHeap(Base: Uint8Array): void {
    if (!live.delete(Base)) return;
    services.heap.allocations--;
    services.heap.bytes -= Base.byteLength;
    Base.fill(0);
  }

  return {
    // A LogonId is a LUID as the headers have it, a bigint (isLuid); anything else, a number
    // included, is STATUS_INVALID_PARAMETER in every member that takes one. CreateLogonSession's
    // null, undefined or 0n asks for a fresh LUID.
    CreateLogonSession(LogonId?: LUID | null) {
      if (LogonId !== undefined && LogonId !== null && !isLuid(LogonId)) return { status: STATUS_INVALID_PARAMETER, LogonId: 0n };
      const session = sessions.create(3, null, LogonId);
      if (session === undefined) return { status: STATUS_LOGON_SESSION_COLLISION, LogonId: LogonId ?? 0n };
      return { status: STATUS_SUCCESS, LogonId: session.logonId };
    },
    DeleteLogonSession(LogonId: LUID) {
      if (!isLuid(LogonId)) return STATUS_INVALID_PARAMETER;
      return sessions.delete(LogonId) ? STATUS_SUCCESS : STATUS_NO_SUCH_LOGON_SESSION;
    },
    AddCredential(LogonId, AuthenticationPackage, PrimaryKeyValue, Credentials) {
      if (!isLuid(LogonId) || typeof PrimaryKeyValue !== 'string' || !types.isUint8Array(Credentials)) return STATUS_INVALID_PARAMETER;
      return sessions.addCredential(LogonId, AuthenticationPackage, PrimaryKeyValue, Credentials) ? STATUS_SUCCESS : STATUS_NO_SUCH_LOGON_SESSION;
    },
    GetCredentials(LogonId, AuthenticationPackage, QueryContext, RetrieveAllCredentials, PrimaryKeyValue) {
      if (!isLuid(LogonId)) return { status: STATUS_INVALID_PARAMETER, QueryContext };
      if (sessions.get(LogonId) === undefined) return { status: STATUS_NO_SUCH_LOGON_SESSION, QueryContext };
      if (!RetrieveAllCredentials) {
        const credentials = sessions.credential(LogonId, AuthenticationPackage, PrimaryKeyValue);
        if (credentials === undefined) return { status: STATUS_OBJECT_NAME_NOT_FOUND, QueryContext };
        return { status: STATUS_SUCCESS, QueryContext, PrimaryKeyValue, Credentials: credentials.slice() };
      }
      const entry = sessions.credentialAt(LogonId, AuthenticationPackage, QueryContext);
      if (entry === undefined) return { status: STATUS_OBJECT_NAME_NOT_FOUND, QueryContext };
      return { status: STATUS_SUCCESS, QueryContext: QueryContext + 1, PrimaryKeyValue: entry[0], Credentials: entry[1].slice() };
    },
    DeleteCredential(LogonId, AuthenticationPackage, PrimaryKeyValue) {
      if (!isLuid(LogonId)) return STATUS_INVALID_PARAMETER;
      return sessions.deleteCredential(LogonId, AuthenticationPackage, PrimaryKeyValue) ? STATUS_SUCCESS : STATUS_OBJECT_NAME_NOT_FOUND;
    },
    AllocateLsaHeap: allocateLsaHeap,
    FreeLsaHeap: freeHeap,
    AllocateClientBuffer(ClientRequest, LengthRequired) {
      return intoProcess('AllocateClientBuffer', ClientRequest, async (p) => {
        const reply = await p.lpc.call('AllocateClientBuffer', { length: LengthRequired });
        const status = replyStatus(reply);
        if (status !== STATUS_SUCCESS) return { status };
        const address = (reply as { address?: unknown }).address;
        return isAddress(address) ? { status, ClientBaseAddress: address } : { status: STATUS_ACCESS_VIOLATION };
      });
    },
    async FreeClientBuffer(ClientRequest, ClientBaseAddress) {
      const reply = await intoProcess('FreeClientBuffer', ClientRequest, async (p) => ({
        status: replyStatus(await p.lpc.call('FreeClientBuffer', { address: ClientBaseAddress })),
      }));
      return reply.status;
    },
    async CopyToClientBuffer(ClientRequest, Length, ClientBaseAddress, BufferToCopy) {
      if (Length > BufferToCopy.byteLength) return STATUS_ACCESS_VIOLATION;
      const bytes = BufferToCopy.slice(0, Length);
      const reply = await intoProcess('CopyToClientBuffer', ClientRequest, async (p) => ({
        status: replyStatus(await p.lpc.call('CopyToClientBuffer', { address: ClientBaseAddress, bytes })),
      }));
      return reply.status;
    },
    CopyFromClientBuffer(ClientRequest, Length, ClientBaseAddress) {
      return intoProcess('CopyFromClientBuffer', ClientRequest, async (p) => {
        const reply = await p.lpc.call('CopyFromClientBuffer', { address: ClientBaseAddress, length: Length });
        const status = replyStatus(reply);
        if (status !== STATUS_SUCCESS) return { status };
        // Exactly the bytes asked for, in memory of the LSA's own: the process may answer anything.
        const bytes = (reply as { bytes?: unknown }).bytes;
        if (!(bytes instanceof Uint8Array) || bytes.byteLength !== Length) return { status: STATUS_ACCESS_VIOLATION };
        return { status, BufferToCopy: new Uint8Array(bytes) };
      });
    },
    ImpersonateClient: notImplemented,
    // NTSTATUS (void): the package that calls it is the one unloaded. lsass never unloads a
    // package; here it is what a reload does to the old version (lsa/package-reload.ts): the
    // package's handles are closed through its table, then SpShutdown.
    UnloadPackage: () => services.unloadPackage(packageId, version),
    DuplicateHandle: notImplemented,
    SaveSupplementalCredentials: notImplemented,
    async CreateThread(SecurityAttributes, _StackSize, StartFunction, ThreadParameter, CreationFlags): Promise<LsaThreadResult<never>> {
      // The package awaits the routine's answer: it must resume as the call it runs for.
      callGoesOn();
      const traced = points.active;
      const routine = String(StartFunction).slice(0, 64);
      if (traced) points.point('CreateThread', 'call', { detail: routine });
      const task =
        SecurityAttributes === null && CreationFlags === 0
          ? checkWorkTask(StartFunction, ThreadParameter)
          : 'SecurityAttributes must be null and CreationFlags 0';
      const outcome = typeof task === 'string' ? ({ ok: false, status: STATUS_INVALID_PARAMETER, reason: task } as const) : await services.work.run(task);
      if (traced)
        points.point('CreateThread', 'return', {
          status: statusName(outcome.ok ? STATUS_SUCCESS : outcome.status),
          detail: outcome.ok ? `${routine} on thread ${outcome.threadId}` : outcome.reason,
        });
      // The output's type is the routine's: checkWorkTask admitted only a known routine with its parameter.
      return outcome.ok ? { status: STATUS_SUCCESS, ThreadId: outcome.threadId, Output: outcome.output as never } : { status: outcome.status };
    },
    GetClientInfo() {
      const call = currentClientCall();
      if (call === undefined) return { status: STATUS_INVALID_PARAMETER };
      const p = call.process;
      return {
        status: STATUS_SUCCESS,
        ClientInfo: {
          LogonId: p.logonId,
          ProcessID: p.pid,
          ThreadID: p.threadId,
          HasTcbPrivilege: false,
          Impersonating: false,
          Restricted: false,
          ClientFlags: p.terminated ? SECPKG_CLIENT_PROCESS_TERMINATED : 0,
          ImpersonationLevel: 2, // SecurityImpersonation
        },
      };
    },
    RegisterNotification: notImplemented,
    CancelNotification: notImplemented,
    MapBuffer: notImplemented,
    CreateToken: notImplemented,
    AuditLogon: notImplemented,
    CallPackage: notImplemented,
    FreeReturnBuffer: notImplemented,
    GetCallInfo() {
      const call = currentClientCall();
      if (call === undefined) return null;
      return { ProcessId: call.process.pid, ThreadId: call.process.threadId, Attributes: 0, CallCount: call.process.callCount };
    },
    CallPackageEx: notImplemented,
    CreateSharedMemory: notImplemented,
    AllocateSharedMemory: notImplemented,
    FreeSharedMemory: notImplemented,
    DeleteSharedMemory: notImplemented,
    OpenSamUser(Name) {
      // PSECURITY_STRING: a string; anything else is refused before it is read.
      if (typeof Name !== 'string') return { status: STATUS_INVALID_PARAMETER };
      const handle = accounts.openUser(Name);
      return handle === undefined ? { status: STATUS_NO_SUCH_USER } : { status: STATUS_SUCCESS, UserHandle: handle };
    },
    GetUserCredentials(UserHandle) {
      const call = currentClientCall();
      const creds = accounts.userCredentials(UserHandle, call?.process.logonId ?? ANONYMOUS_LOGON_LUID);
      return creds === undefined ? { status: STATUS_INVALID_PARAMETER } : { status: STATUS_SUCCESS, PrimaryCreds: creds, SupplementalCreds: [] };
    },
    GetUserAuthData: notImplemented,
    CloseSamUser(UserHandle) {
      return accounts.closeUser(UserHandle) ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    },
    ConvertAuthDataToToken: notImplemented,
    async ClientCallback(Callback, Argument1, Argument2, Input: SecBuffer) {
      const reply = await intoProcess('ClientCallback', null, async (p) => {
        const answer = await p.lpc.call('ClientCallback', { packageId, callbackId: Callback, argument1: Argument1, argument2: Argument2, input: Input });
        const status = replyStatus(answer, STATUS_INTERNAL_ERROR);
        const output = (answer as { output?: unknown }).output;
        if (output === undefined) return { status };
        const decoded = callbackOutput(output);
        return decoded === undefined ? { status: STATUS_INTERNAL_ERROR } : { status, output: decoded };
      });
      const output = 'output' in reply ? reply.output : undefined;
      return output === undefined ? { status: reply.status } : { status: reply.status, Output: output };
    },
    UpdateCredentials: notImplemented,
    GetAuthDataForUser: notImplemented,
    CrackSingleName: notImplemented,
    AuditAccountLogon: notImplemented,
    async CallPackagePassthrough(AuthenticationPackage, ClientBufferBase, ProtocolSubmitBuffer, SubmitBufferLength) {
      // The package awaits the answer (a domain controller's, over the network): it resumes as the call it runs for.
      callGoesOn();
      if (
        typeof AuthenticationPackage !== 'string' ||
        AuthenticationPackage.length === 0 ||
        ClientBufferBase !== null ||
        !(ProtocolSubmitBuffer instanceof Uint8Array) ||
        !Number.isSafeInteger(SubmitBufferLength) ||
        SubmitBufferLength < 0 ||
        SubmitBufferLength > ProtocolSubmitBuffer.byteLength ||
        SubmitBufferLength > MAX_PASSTHROUGH_BYTES
      )
        return { status: STATUS_INVALID_PARAMETER };
      const route = services.passThrough;
      if (route === undefined) return { status: STATUS_NOT_IMPLEMENTED };
      const data = ProtocolSubmitBuffer.slice(0, SubmitBufferLength);
      const traced = points.active;
      if (traced) points.point('CallPackagePassthrough', 'call', { detail: `${AuthenticationPackage}, ${SubmitBufferLength} bytes` });
      // Waiting on the network gives the caller's slot to the others, as waiting on a process does.
      const call = currentClientCall();
      const result =
        call === undefined
          ? await route(AuthenticationPackage, data)
          : await services.scheduler.whileWaiting(call.process.queue, () => route(AuthenticationPackage, data));
      if (traced) {
        const status = result.status === STATUS_SUCCESS && result.ProtocolStatus !== undefined ? result.ProtocolStatus : result.status;
        points.point('CallPackagePassthrough', 'return', {
          status: netlogonStatusName(status),
          peer: result.where,
          ...(result.reason === undefined ? {} : { detail: result.reason }),
        });
      }
      const { reason: _reason, where: _where, ...answer } = result;
      return answer;
    },
    CrediRead: notImplemented,
    CrediReadDomainCredentials: notImplemented,
    CrediFreeCredentials: notImplemented,
    LsaProtectMemory: notImplemented,
    LsaUnprotectMemory: notImplemented,
    OpenTokenByLogonId: notImplemented,
    ExpandAuthDataForDomain: notImplemented,
    AllocatePrivateHeap: allocatePrivateHeap,
    FreePrivateHeap: freeHeap,
    CreateTokenEx: notImplemented,
    CrediWrite: notImplemented,
    CrediUnmarshalandDecodeString: notImplemented,
    DummyFunction6: notImplemented,
    GetExtendedCallFlags: notImplemented,
    DuplicateTokenHandle: notImplemented,
    GetServiceAccountPassword: notImplemented,
    DummyFunction7: notImplemented,
    AuditLogonEx: notImplemented,
    CheckProtectedUserByToken: notImplemented,
    QueryClientRequest: notImplemented,
    GetAppModeInfo: notImplemented,
    SetAppModeInfo: notImplemented,
    GetClientInfoEx: notImplemented,
    GetSecpkgFailureReason: notImplemented,
    SetSecpkgFailureReason: notImplemented,
    LookupPackage(Name) {
      return lookupPackage(services.locator, Name);
    },
    LocatePackageById(PackageId) {
      if (located.has(PackageId)) return located.get(PackageId)!;
      const self = services.locator.packages.byId(packageId);
      const table = locatedTable(services.locator, { id: packageId, name: self?.name ?? `package ${packageId}` }, PackageId);
      // Only a package that exists is remembered: an id asked for before the packages loaded may name one later.
      if (table !== null) located.set(PackageId, table);
      return table;
    },
  };
}
