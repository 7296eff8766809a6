// What the transport runs on: a port that carries frames. A worker thread's MessagePort is one; a
// Unix socket to an LSA in its own OS process (ipc/socket-port.ts) and a channel multiplexed over
// a child process's IPC pipe (ipc/process-channel.ts) are the others. The RPC peer, the tracer and
// the trace collector need no more of a port than this, so the LPC vocabulary, its codec, the
// faults, taps and traces are the same whichever carries them.

import type { MessagePort, TransferListItem } from 'node:worker_threads';
import { badMessage, bytes, messagePort, record, string } from './decode.js';

/** The part of a MessagePort that the transport uses. */
export interface FramePort {
  postMessage(value: unknown, transferList?: readonly TransferListItem[]): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  removeAllListeners(event: 'message'): unknown;
  /** Closes this end; the other end sees 'close'. */
  close(): void;
  /** A port that must not keep its thread alive on its own (a trace port). */
  unref?(): void;
}

/**
 * How an app process reaches the LSA, as the machine hands it over at spawn (and again after
 * restartLsa): a MessagePort when the LSA is a worker thread; when the LSA is its own OS process,
 * the path of the LSA's Unix socket and the one-time secret that proves to the LSA which process
 * is connecting (ipc/socket-port.ts). Identity is never a claim in a message body.
 */
export type LpcEndpoint = { kind: 'port'; port: MessagePort } | { kind: 'socket'; path: string; secret: Uint8Array };

/** Bytes of a process's secret: 256 bits from the machine's CSPRNG. */
export const LPC_SECRET_BYTES = 32;

/** An LpcEndpoint from the wire (workerData, a control call): every field checked. */
export function decodeLpcEndpoint(value: unknown, what: string): LpcEndpoint {
  const r = record(value, what);
  if (r.kind === 'port') return { kind: 'port', port: messagePort(r.port, `${what}.port`) };
  if (r.kind === 'socket') {
    const secret = bytes(r.secret, `${what}.secret`, LPC_SECRET_BYTES);
    if (secret.byteLength !== LPC_SECRET_BYTES) badMessage(`${what}.secret must be ${LPC_SECRET_BYTES} bytes`);
    return { kind: 'socket', path: string(r.path, `${what}.path`, 4096), secret };
  }
  return badMessage(`${what}.kind must be "port" or "socket"`);
}
