// The control channel between the machine and one app process: one MessagePort, typed ops in both
// directions on an RpcPeer, nothing else. The machine asks the process to run an application, for
// its statistics, to apply a fault plan, to take a new LPC channel, to make an SSPI call; the
// process asks the machine for the names servers monitor (listen, accept, connect).
//
// The process's code can post anything on this port, so the machine exposes exactly these
// operations and no object graph (this is why comlink is not used here: it honours GET, APPLY
// and CONSTRUCT on any property path of what it exposes). Everything the machine receives from a
// process, requests and replies alike, goes through a decoder below before the machine's code
// reads it; the process is known from the port, never from a message.

import type { MessagePort } from 'node:worker_threads';
import type { LpcOp } from './lpc.js';
import { decodeLpcEndpoint, type LpcEndpoint } from './link.js';
import { array, badMessage, integer, messagePort, optionalString, record, string } from './decode.js';
import type { Status } from '../headers/index.js';

/**
 * A fault plan (faults/), as the machine hands it to a worker: crash or stall at a named call
 * point, mangle outgoing LPC messages, make a package entry point throw or hang.
 */
export interface FaultPlan {
  /** Crash this process (exit code 70) when it reaches `call` in `phase`, the `nth` time (default 1). */
  killAt?: { call: string; phase: 'call' | 'return'; nth?: number };
  /** Block this process's thread for `ms` when it reaches `call` in `phase`, the `nth` time (default 1). */
  stallAt?: { call: string; phase: 'call' | 'return'; ms: number; nth?: number };
  /** Faults on the process's outgoing LPC messages: each a probability from 0 to 1. */
  lpc?: { seed: number; drop?: number; duplicate?: number; delay?: number; delayMs?: number; reorder?: number };
  /**
   * Make `entry` ("SpInitLsaModeContext", "SpMakeSignature", ..., or "*" for every entry but the cleanup
   * ones, SpDeleteContext and SpFreeCredentialsHandle, whose failure leaves package-owned state
   * that no reaping can release) of `package`
   * throw or never return, `count` times (default: every time), each call with `probability`
   * (default 1, drawn from `seed`).
   */
  packageFault?: { package: string; entry: string; kind: 'throw' | 'hang'; count?: number; probability?: number; seed?: number };
}

/** What an application module is run with. */
export type AppArgs = Readonly<Record<string, unknown>>;

/** What an application module returns. */
export interface AppResult {
  status: Status;
  statusName: string;
  detail?: string;
  data?: Record<string, unknown>;
  /**
   * The app failed because its peer did first: the peer hung up, or sent its own failure. The
   * peer's result has the status that failed first (`sspi-emu run` reports that one).
   */
  afterPeer?: boolean;
  /**
   * The app failed on the network, not in SSPI (a refused connection, a server that hung up, a
   * name that does not resolve): what happened, in one line. `status` is SEC_E_INTERNAL_ERROR.
   */
  networkFailure?: string;
}

/** What the user-mode package host of a process has done (sspi/user-mode-host.ts). */
export interface UserModeStats {
  /** SpUserModeInitialize calls, by module URL. */
  spUserModeInitialize: Record<string, number>;
  /** SpInstanceInit calls, by package name. */
  spInstanceInit: Record<string, number>;
  spInitUserModeContext: number;
  /** Packages whose user-mode half is loaded here. */
  loaded: string[];
  callbacks: number;
  heap: { allocations: number; bytes: number };
}

/** An app process's statistics, as GetStats answers them. */
export interface AppStats {
  pid: number;
  name: string;
  threadId: number;
  lpc: { sent: number; received: number };
  connections: { sent: number; received: number };
  handles: { credentials: number; contexts: number };
  clientHeapAllocations: number;
  userMode: UserModeStats;
}

/** The SSPI functions the machine may call in a process on a caller's behalf (Secur32's, less its own bookkeeping). */
export const SSPI_METHODS = [
  'enumerateSecurityPackages',
  'querySecurityPackageInfo',
  'acquireCredentialsHandle',
  'freeCredentialsHandle',
  'initializeSecurityContext',
  'acceptSecurityContext',
  'completeAuthToken',
  'deleteSecurityContext',
  'applyControlToken',
  'queryContextAttributes',
  'queryCredentialsAttributes',
  'makeSignature',
  'verifySignature',
  'encryptMessage',
  'decryptMessage',
  'exportSecurityContext',
  'importSecurityContext',
  'freeContextBuffer',
  'lsaConnectUntrusted',
  'lsaLookupAuthenticationPackage',
  'lsaCallAuthenticationPackage',
  'lsaFreeReturnBuffer',
  'lsaDeregisterLogonProcess',
] as const;

export type SspiMethod = (typeof SSPI_METHODS)[number];

/** Calls from the machine into an app process. */
export type MachineToProcessOps = {
  /** Runs an application module in the process (null: its default application). */
  RunApp: { request: { module: string | null; args: AppArgs }; reply: AppResult };
  GetStats: { request: Record<string, never>; reply: AppStats };
  InjectFaults: { request: { plan: FaultPlan | null }; reply: { injected: Record<string, number> } };
  /** A new LPC channel to a restarted LSA (a port is transferred; a socket comes with a new secret). */
  ReconnectLpc: { request: { lpc: LpcEndpoint }; reply: Record<string, never> };
  /** One raw LPC call as this process: how tests play a rogue process presenting made-up values. */
  LpcCall: { request: { op: LpcOp; body: object }; reply: { reply: unknown } };
  /** One call of the process's SSPI library, made on the machine's behalf. */
  Sspi: { request: { method: SspiMethod; args: unknown[] }; reply: { result: unknown } };
};

/** Calls from an app process to the machine: the table of names servers monitor. */
export type ProcessToMachineOps = {
  Listen: { request: { name: string }; reply: Record<string, never> };
  Unlisten: { request: { name: string }; reply: Record<string, never> };
  /** The next connection to a name this process monitors (one end of a fresh channel, transferred). */
  Accept: { request: { name: string }; reply: { port: MessagePort } };
  /** Connects to a name, waiting up to `waitMs` for a server to monitor it. */
  Connect: { request: { name: string; waitMs?: number }; reply: { port: MessagePort } };
};

/** Longest name a server may monitor. */
export const MAX_NAME_LENGTH = 256;
/** Longest wait a connect may ask for. */
export const MAX_CONNECT_WAIT_MS = 600_000;

// Requests the machine receives.

export function decodeNameRequest(body: unknown): { name: string } {
  return { name: string(record(body, 'the request').name, 'name', MAX_NAME_LENGTH) };
}

export function decodeConnectRequest(body: unknown): { name: string; waitMs?: number } {
  const r = record(body, 'the request');
  const name = string(r.name, 'name', MAX_NAME_LENGTH);
  return r.waitMs === undefined ? { name } : { name, waitMs: integer(r.waitMs, 'waitMs', 0, MAX_CONNECT_WAIT_MS) };
}

// Replies the machine receives.

export function decodeAppResult(body: unknown): AppResult {
  const r = record(body, 'the application result');
  const result: AppResult = { status: integer(r.status, 'status', -0x8000_0000, 0xffff_ffff) >>> 0, statusName: string(r.statusName, 'statusName', 256) };
  const detail = optionalString(r.detail, 'detail', 1 << 20);
  if (detail !== undefined) result.detail = detail;
  if (r.data !== undefined) result.data = record(r.data, 'data');
  if (r.afterPeer !== undefined) {
    if (typeof r.afterPeer !== 'boolean') badMessage('afterPeer is not a boolean');
    result.afterPeer = r.afterPeer;
  }
  const networkFailure = optionalString(r.networkFailure, 'networkFailure', 4096);
  if (networkFailure !== undefined) result.networkFailure = networkFailure;
  return result;
}

export function decodeAppStats(body: unknown): AppStats {
  const r = record(body, 'the statistics');
  const count = (v: unknown, what: string): number => integer(v, what, 0, Number.MAX_SAFE_INTEGER);
  const pair = <A extends string, B extends string>(v: unknown, what: string, a: A, b: B): Record<A | B, number> => {
    const p = record(v, what);
    return { [a]: count(p[a], `${what}.${a}`), [b]: count(p[b], `${what}.${b}`) } as Record<A | B, number>;
  };
  // Object.fromEntries defines own properties: a key "__proto__" stays a key.
  const counts = (v: unknown, what: string): Record<string, number> =>
    Object.fromEntries(boundedEntries(record(v, what), what).map(([k, n]) => [k, count(n, `${what}.${k}`)]));
  const userMode = record(r.userMode, 'userMode');
  return {
    pid: count(r.pid, 'pid'),
    name: string(r.name, 'name', 256),
    threadId: count(r.threadId, 'threadId'),
    lpc: pair(r.lpc, 'lpc', 'sent', 'received'),
    connections: pair(r.connections, 'connections', 'sent', 'received'),
    handles: pair(r.handles, 'handles', 'credentials', 'contexts'),
    clientHeapAllocations: count(r.clientHeapAllocations, 'clientHeapAllocations'),
    userMode: {
      spUserModeInitialize: counts(userMode.spUserModeInitialize, 'userMode.spUserModeInitialize'),
      spInstanceInit: counts(userMode.spInstanceInit, 'userMode.spInstanceInit'),
      spInitUserModeContext: count(userMode.spInitUserModeContext, 'userMode.spInitUserModeContext'),
      loaded: array(userMode.loaded, 'userMode.loaded', 4096).map((n, i) => string(n, `userMode.loaded[${i}]`, 256)),
      callbacks: count(userMode.callbacks, 'userMode.callbacks'),
      heap: pair(userMode.heap, 'userMode.heap', 'allocations', 'bytes'),
    },
  };
}

export function decodeInjected(body: unknown): Record<string, number> {
  const injected = record(record(body, 'the reply').injected, 'injected');
  return Object.fromEntries(
    boundedEntries(injected, 'injected').map(([k, n]) => [k.slice(0, 64), integer(n, `injected.${k.slice(0, 64)}`, 0, Number.MAX_SAFE_INTEGER)]),
  );
}

/** Most keys a map of counts in a reply may have (more is a process making the machine do work). */
const MAX_KEYS = 1024;

/** A record's entries, refused past MAX_KEYS without walking the rest. */
function boundedEntries(value: Record<string, unknown>, what: string): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (out.length === MAX_KEYS) badMessage(`${what} has more than ${MAX_KEYS} entries`);
    out.push([key, value[key]]);
  }
  return out;
}

/** An SSPI result as the process reports it: whatever it is, it has a status. */
export function decodeSspiResult(body: unknown): { status: number } & Record<string, unknown> {
  const result = record(record(body, 'the reply').result, 'the SSPI result');
  integer(result.status, 'status', 0, 0xffff_ffff);
  return result as { status: number } & Record<string, unknown>;
}

export function decodePortReply(body: unknown): MessagePort {
  return messagePort(record(body, 'the reply').port, 'port');
}

// Calls the process receives from the machine, decoded (the machine is trusted, but a body is read
// only through its decoder all the same).

export const decodeMachineCall: { [K in keyof MachineToProcessOps]: (body: unknown) => MachineToProcessOps[K]['request'] } = {
  RunApp: (body) => {
    const r = record(body, 'the call');
    return { module: r.module === null ? null : string(r.module, 'module', 4096), args: record(r.args, 'args') };
  },
  GetStats: () => ({}),
  InjectFaults: (body) => {
    const plan = record(body, 'the call').plan;
    return { plan: plan === null ? null : (record(plan, 'plan') as FaultPlan) };
  },
  ReconnectLpc: (body) => ({ lpc: decodeLpcEndpoint(record(body, 'the call').lpc, 'lpc') }),
  LpcCall: (body) => {
    const r = record(body, 'the call');
    return { op: string(r.op, 'op', 64) as LpcOp, body: record(r.body, 'body') };
  },
  Sspi: (body) => {
    const r = record(body, 'the call');
    const method = string(r.method, 'method', 64);
    if (!(SSPI_METHODS as readonly string[]).includes(method)) badMessage(`${method} is not an SSPI function`);
    return { method: method as SspiMethod, args: array(r.args, 'args', 16) };
  },
};
