// The server process's entry: an app process whose default application is the server app.
import { parentPort, workerData } from 'node:worker_threads';
import type { AppWorkerData, BootMessage } from '../ipc/boot.js';
import { startAppProcess } from '../sspi/process.js';

startAppProcess(workerData as AppWorkerData, new URL('./app.js', import.meta.url));
parentPort?.postMessage({ kind: 'ready' } satisfies BootMessage);
