// How a worker starts: what the machine hands an app process (workerData, with its ports
// transferred) and the one message a worker posts on parentPort when it is ready to serve, or why
// it could not start. (The LSA's worker data is the LSA's: lsa/worker-data.ts.)

import type { MessagePort } from 'node:worker_threads';
import type { SerializedError } from './errors.js';
import type { InspectorRequest } from './inspector.js';
import type { LpcEndpoint } from './link.js';

/**
 * A worker's messages while it boots: Ready, or why not. The LSA also announces each step of
 * loading its packages ('loading'), so that the machine can name a step that never ends.
 */
export type BootMessage =
  | { kind: 'ready' }
  | { kind: 'boot-failed'; error: SerializedError }
  | { kind: 'loading'; spec: string; stage: string }
  /** The process's inspector listens at `url` (machine option `inspect`); with `wait`, the process now waits for a debugger. */
  | { kind: 'inspector'; url: string; wait: boolean };

/**
 * What the LSA reports on the same channel once it is ready: a domain controller's KDC's record
 * of each request, and its Netlogon's of each call, when the machine asked for them (the machine
 * decodes `record`: lsa/kdc-host.ts, lsa/netlogon-host.ts).
 */
export type LsaReport = { kind: 'kdc-request'; record: unknown } | { kind: 'netlogon-request'; record: unknown };

export type AppRole = 'client' | 'server';

export interface AppWorkerData {
  pid: number;
  name: string;
  role: AppRole;
  /** The account the process runs as, or null (anonymous). */
  logonAs: string | null;
  /** This process's LPC channel to the LSA, created by the machine at spawn: a port, or the LSA's socket and this process's secret. */
  lpc: LpcEndpoint;
  /** An LPC call without a reply after this many ms fails with TIMEOUT (0: never). */
  lpcTimeoutMs: number;
  /** A call into a package's user-mode half that answers with a promise fails after this many ms (0: never). */
  packageCallTimeoutMs: number;
  /** The control channel with the machine, both ways (ipc/process-control.ts). */
  controlPort: MessagePort;
  tracePort: MessagePort;
  trace: boolean;
  /** Copy every channel message to the machine (tests scan them); switchable later on the trace port. */
  tap: boolean;
  /** Open this process's inspector before it starts (machine option `inspect`). */
  inspect?: InspectorRequest;
}
