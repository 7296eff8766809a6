// What the machine hands the LSA worker at boot (workerData, with its ports transferred).

import type { MessagePort } from 'node:worker_threads';
import type { LsaConfig } from './config.js';

export interface LsaWorkerData {
  config: LsaConfig;
  /** Which LSA of the machine this is (1 at boot, one more at each restart): its handle values carry it. */
  generation: number;
  /** Machine -> LSA control calls (comlink). */
  controlPort: MessagePort;
  tracePort: MessagePort;
  trace: boolean;
  /** Copy every channel message to the machine (tests scan them); switchable later on the trace port. */
  tap: boolean;
}
