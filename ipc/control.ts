// The control plane: calls between the machine (main thread) and a worker that are not on the
// per-handshake path (attach a process, run an app, read stats, list packages). comlink serves
// them, over a MessagePort of their own, so the typed raw LPC path stays lean (ipc-costs.md).
//
// comlink leaves a call pending forever when the worker at the other end dies; every control
// call therefore races the worker's death (guard()), and fails with TransportError('PEER_GONE').
// Errors thrown across are serialized with their class and code and rebuilt on arrival.

import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { TransferListItem } from 'node:worker_threads';
import { rebuildError, serializeError, type SerializedError } from './errors.js';

/**
 * A control API as its caller sees it: each method answers with a promise of what it returns (what
 * comlink's wrap gives for methods; a control API has nothing else). Our own type rather than
 * comlink's, so that no declaration sspi-emu ships names comlink's internal module paths.
 */
export type Remote<T> = {
  readonly [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

interface ThrownValue {
  value: unknown;
}

// Wrap comlink's own "throw" handler (which keeps only name, message and stack) so that error
// classes and codes survive the crossing. Its canHandle recognizes comlink's private marker.
const comlinkThrow = Comlink.transferHandlers.get('throw');
if (comlinkThrow === undefined) throw new Error('comlink has no "throw" transfer handler to wrap');
Comlink.transferHandlers.set('throw', {
  canHandle: (value: unknown): value is ThrownValue => comlinkThrow.canHandle(value),
  serialize: (thrown: unknown) => [serializeError((thrown as ThrownValue).value), []],
  deserialize: (serialized: unknown) => {
    throw rebuildError(serialized as SerializedError);
  },
} as Comlink.TransferHandler<unknown, unknown>);

/** What a control channel runs on: a MessagePort, or a channel of an OS process's IPC pipe (ipc/process-channel.ts). */
export interface ControlPort {
  postMessage(value: unknown, transferList?: readonly TransferListItem[]): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
  off(event: 'message', listener: (value: unknown) => void): unknown;
  start?(): void;
}

/** Serves `api` on `port` (the LSA's side of its control channel). */
export function exposeControl(api: object, port: ControlPort): void {
  Comlink.expose(api, nodeEndpoint(port as unknown as Parameters<typeof nodeEndpoint>[0]));
}

/** The calling side of a control channel. */
export function wrapControl<T>(port: ControlPort): Remote<T> {
  return Comlink.wrap<T>(nodeEndpoint(port as unknown as Parameters<typeof nodeEndpoint>[0])) as unknown as Remote<T>;
}

/** Marks a value (a MessagePort) to be transferred rather than copied by a control call. */
export function transfer<T>(value: T, transferables: TransferListItem[]): T {
  return Comlink.transfer(value, transferables as unknown as Parameters<typeof Comlink.transfer>[1]);
}

/** Races a control call against the death of the worker that must answer it. */
export function guard<T>(call: Promise<T>, death: Promise<never>): Promise<T> {
  return Promise.race([call, death]);
}
