// Which client a package is working for right now. Windows keeps this per LSA thread (what
// GetClientInfo and GetCallInfo read, and what a NULL PLSA_CLIENT_REQUEST means); here many calls
// are in flight on one thread at once, so the current call travels with the async context.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { LUID } from '../headers/index.js';
import type { LsaToProcessOps, ProcessToLsaOps, ProcessId, RpcPeer } from '../ipc/index.js';
import type { ProcessQueue } from './scheduler.js';

/** An app process as the LSA knows it: its id, its logon, and the channel it talks on. */
export interface LsaClientProcess {
  readonly pid: ProcessId;
  readonly name: string;
  readonly threadId: number;
  /** The logon session the process runs as (its token), or ANONYMOUS_LOGON_LUID. */
  readonly logonId: LUID;
  readonly lpc: RpcPeer<LsaToProcessOps, ProcessToLsaOps>;
  /** Set when the process died; calls still running for it see SECPKG_CLIENT_PROCESS_TERMINATED. */
  terminated: boolean;
  /** Its calls waiting for their turn in the LSA (lsa/scheduler.ts). */
  readonly queue: ProcessQueue;
  callCount: number;
}

export interface ClientCall {
  readonly process: LsaClientProcess;
  readonly callId: number;
  readonly op: string;
}

const storage = new AsyncLocalStorage<ClientCall>();

export function runAsClientCall<T>(call: ClientCall, fn: () => T): T {
  return storage.run(call, fn);
}

/** The call the current package code runs for, or undefined outside any client call (boot). */
export function currentClientCall(): ClientCall | undefined {
  return storage.getStore();
}
