// An app process's entry, client or server alike: wire the process from its worker data (its
// role picks its default application) and report Ready.
import { parentPort, workerData } from 'node:worker_threads';
import { type AppWorkerData, type BootMessage, openInspectorIfAsked } from '../ipc/index.js';
import { startAppProcess } from './runtime.js';

const DEFAULT_APPS = {
  client: new URL('../client-proc/app.js', import.meta.url),
  server: new URL('../server-proc/app.js', import.meta.url),
} as const;

// A package's user-mode half (imported later) reports its exceptions at its .ts lines when it was built with source maps.
process.setSourceMapsEnabled(true);
const data = workerData as AppWorkerData;
const boot = (message: BootMessage): void => parentPort?.postMessage(message);
if (openInspectorIfAsked(data.inspect, boot)) {
  startAppProcess(data, DEFAULT_APPS[data.role]);
  boot({ kind: 'ready' });
}
