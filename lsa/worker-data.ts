// What the machine hands the LSA at boot: as workerData (with its ports transferred) when the LSA
// is a worker thread, or as the first message on its IPC pipe when it is its own OS process.

import type { MessagePort } from 'node:worker_threads';
import type { InspectorRequest } from '../ipc/index.js';
import type { LsaConfig } from './config.js';

export interface LsaBootData {
  config: LsaConfig;
  /** Which LSA of the machine this is (1 at boot, one more at each restart): its handle values carry it. */
  generation: number;
  trace: boolean;
  /** Copy every channel message to the machine (tests scan them); switchable later on the trace port. */
  tap: boolean;
  /** An LSA in its own OS process: the Unix socket where app processes connect for LPC. */
  lpcSocket?: string;
  /** Open the LSA's inspector before it loads its packages (machine option `inspect`). */
  inspect?: InspectorRequest;
}

export interface LsaWorkerData extends LsaBootData {
  /** Machine -> LSA control calls (comlink). */
  controlPort: MessagePort;
  tracePort: MessagePort;
}
