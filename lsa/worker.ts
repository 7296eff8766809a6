// The LSA's entry as a worker thread (the default): its ports come in workerData.
import { parentPort, workerData } from 'node:worker_threads';
import type { LsaWorkerData } from './worker-data.js';
import { serveLsa } from './serve.js';

// A package's exceptions name its own sources (.ts lines) when it was built with source maps:
// modules imported from here on (the packages) have their maps read.
process.setSourceMapsEnabled(true);
const data = workerData as LsaWorkerData;
await serveLsa(data, { control: data.controlPort, trace: data.tracePort, boot: (message) => parentPort?.postMessage(message) });
