// The LSA process's entry: boot the LSA from its configuration, serve the machine's control
// calls, and report Ready (or why the boot failed).

import { parentPort, workerData } from 'node:worker_threads';
import type { BootMessage, LsaWorkerData } from '../ipc/boot.js';
import { exposeControl } from '../ipc/control.js';
import { serializeError } from '../ipc/errors.js';
import { Tracer } from '../ipc/trace.js';
import { lsaControl } from './control.js';
import { Lsa } from './lsa.js';

const data = workerData as LsaWorkerData;
const tracer = new Tracer(data.tracePort, 'lsa', 500, data.trace, data.tap);
try {
  const lsa = await Lsa.boot(data.config, tracer, data.generation);
  exposeControl(lsaControl(lsa), data.controlPort);
  parentPort?.postMessage({ kind: 'ready' } satisfies BootMessage);
} catch (error) {
  parentPort?.postMessage({ kind: 'boot-failed', error: serializeError(error) } satisfies BootMessage);
}
