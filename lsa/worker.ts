// The LSA process's entry: boot the LSA from its configuration, serve the machine's control
// calls, and report Ready (or why the boot failed).

import { parentPort, workerData } from 'node:worker_threads';
import { type BootMessage, exposeControl, serializeError, Tracer } from '../ipc/index.js';
import type { LsaWorkerData } from './worker-data.js';
import { lsaControl } from './control.js';
import { Lsa } from './lsa.js';

const data = workerData as LsaWorkerData;
const tracer = new Tracer(data.tracePort, 'lsa', 500, data.trace, data.tap);
try {
  const lsa = await Lsa.boot(data.config, tracer, data.generation, (spec, stage) =>
    parentPort?.postMessage({ kind: 'loading', spec, stage } satisfies BootMessage),
  );
  exposeControl(lsaControl(lsa), data.controlPort);
  parentPort?.postMessage({ kind: 'ready' } satisfies BootMessage);
} catch (error) {
  parentPort?.postMessage({ kind: 'boot-failed', error: serializeError(error) } satisfies BootMessage);
}
