// Which client a package is working for right now. Windows keeps this per LSA thread (what
// GetClientInfo and GetCallInfo read, and what a NULL PLSA_CLIENT_REQUEST means); here many calls
// are in flight on one thread at once, interleaved at their awaits.
//
// Why not AsyncLocalStorage for every call: on Node 20 an enabled AsyncLocalStorage installs
// promise hooks that more than double the cost of every promise in the thread (measured here:
// 2.3x), and profiles of the LSA under `bench --package null` showed them at about a tenth of
// its time. Most package calls never await (a handshake leg of NTLM, the example, null), so:
//
// - While a package entry runs synchronously, the call is a plain variable (the "window").
// - A call that will go on after an await is carried by AsyncLocalStorage, enabled only while
//   such calls are in flight (and to the end of the turn the last of them settles in): an entry
//   the package wrote as an async function, or one that once answered with a promise, runs inside
//   the store from its start; an entry that calls an LSA function answering with a promise
//   (CopyFromClientBuffer, ClientCallback, ...) enters the store at that moment, so the package's
//   `await` on it resumes as that call.
// - An await on something else, in an entry not yet known to await, resumes with no call:
//   GetClientInfo answers STATUS_INVALID_PARAMETER and GetCallInfo null (never another
//   process's identity); the entry runs inside the store from its next call on.

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

/** The synchronous run of one package entry for a call. */
interface Window {
  readonly call: ClientCall;
  /** The store was entered in this window (an LSA function that answers later was called). */
  entered: boolean;
  /** The store before it was entered (a carried outer call, or none): it comes back when the entry returns. */
  storeBefore: ClientCall | undefined;
}

const storage = new AsyncLocalStorage<ClientCall>();
let window: Window | undefined;
/** Calls in flight that the store carries; the store (and its promise hooks) goes off once this is zero at a turn's end. */
let carried = 0;
let idleCheckScheduled = false;

/**
 * Turns the store off at the end of this turn if no call is carried then. Not at once: turning
 * promise hooks on and off is itself costly (setPromiseHooks was 2% of Negotiate's handshake, whose
 * entries are all async, in `bench`'s in-process profile), and a turn of the LSA runs a frame's
 * worth of calls. Until then only contexts made inside a carried call see it, as they would while
 * any other call is carried.
 */
function disableWhenIdle(): void {
  if (idleCheckScheduled) return;
  idleCheckScheduled = true;
  setImmediate(() => {
    idleCheckScheduled = false;
    if (carried === 0) storage.disable();
  });
}

function carry<T>(result: T): T {
  carried++;
  const done = (): void => {
    if (--carried === 0) disableWhenIdle();
  };
  if (isPromiseLike(result)) result.then(done, done);
  else done();
  return result;
}

/**
 * Runs one package entry as `call`. `awaits` says the entry is known to go on after an await (an
 * async function, or one that answered with a promise before); `learned` is told when one that
 * was not known to answers with a promise.
 */
export function runAsClientCall<T>(call: ClientCall, run: () => T, awaits = true, learned?: () => void): T {
  const outer = window;
  const here: Window = { call, entered: false, storeBefore: undefined };
  window = here;
  try {
    if (awaits) {
      let result: T;
      try {
        result = storage.run(call, run);
      } catch (error) {
        // storage.run enabled the store; nothing is carried if this was the only call.
        if (carried === 0) disableWhenIdle();
        throw error;
      }
      return carry(result);
    }
    let result: T;
    try {
      result = run();
    } catch (error) {
      if (here.entered) {
        storage.enterWith(here.storeBefore as ClientCall);
        if (carried === 0) disableWhenIdle();
      }
      throw error;
    }
    if (here.entered) {
      storage.enterWith(here.storeBefore as ClientCall);
      return carry(result);
    }
    if (isPromiseLike(result)) learned?.();
    return result;
  } finally {
    window = outer;
  }
}

/** The call the current package code runs for, or undefined outside any client call (boot). */
export function currentClientCall(): ClientCall | undefined {
  return window?.call ?? storage.getStore();
}

/**
 * Called by an LSA function that answers with a promise, before it awaits anything: the package
 * code that awaits its answer resumes as the current call.
 */
export function callGoesOn(): void {
  const here = window;
  if (here === undefined || here.entered || storage.getStore() === here.call) return;
  here.entered = true;
  here.storeBefore = storage.getStore();
  storage.enterWith(here.call);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Calls in flight that the store carries across awaits (zero: its promise hooks are off). */
export function carriedCalls(): number {
  return carried;
}
