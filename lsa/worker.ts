// The LSA's entry as a worker thread (the default): its ports come in workerData.
import { parentPort, workerData } from 'node:worker_threads';
import type { LsaWorkerData } from './worker-data.js';
import { serveLsa } from './serve.js';

const data = workerData as LsaWorkerData;
await serveLsa(data, { control: data.controlPort, trace: data.tracePort, boot: (message) => parentPort?.postMessage(message) });
