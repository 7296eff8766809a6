// The ideal baseline: the handshake's hop path (client -> LSA -> client -> server -> LSA ->
// server -> client ... and the deletes) between the same number of worker threads, as raw
// MessagePort messages of the package's token sizes, doing no SSPI work at all.

import { MessageChannel, Worker } from 'node:worker_threads';
import type { RawSizes, RawWorkerData } from './workers/raw.js';
import { cpuMeter, eluMeter } from './stats.js';
import type { HandshakeRun } from './handshakes.js';

const RAW = new URL('./workers/raw.js', import.meta.url);

function start(data: RawWorkerData, transferList: import('node:worker_threads').TransferListItem[]): Promise<Worker> {
  const worker = new Worker(RAW, { workerData: data, transferList });
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve(worker));
    worker.once('error', reject);
  });
}

export async function idealRun(sizes: RawSizes, concurrency: number, clients: number, durationMs: number, warmupMs: number): Promise<HandshakeRun> {
  const workers: Worker[] = [];
  try {
    const lsa = await start({ role: 'lsa' }, []);
    workers.push(lsa);
    const serverLsa = new MessageChannel();
    lsa.postMessage(serverLsa.port1, [serverLsa.port1]);
    const server = await start({ role: 'server', lsa: serverLsa.port2, sizes }, [serverLsa.port2]);
    workers.push(server);
    const clientWorkers: Worker[] = [];
    for (let i = 0; i < clients; i++) {
      const lanes = Math.floor(concurrency / clients) + (i < concurrency % clients ? 1 : 0);
      const toLsa = new MessageChannel();
      const toServer = new MessageChannel();
      lsa.postMessage(toLsa.port1, [toLsa.port1]);
      server.postMessage(toServer.port1, [toServer.port1]);
      const c = await start({ role: 'client', lsa: toLsa.port2, server: toServer.port2, sizes, lanes, durationMs, warmupMs }, [toLsa.port2, toServer.port2]);
      clientWorkers.push(c);
      workers.push(c);
    }
    const results = clientWorkers.map((c) => new Promise<{ latencies: number[]; elapsedMs: number }>((resolve) => c.once('message', resolve)));
    for (const c of clientWorkers) c.postMessage('go');
    await new Promise<void>((resolve) => setTimeout(resolve, warmupMs).unref());
    const stopElu = await eluMeter([['lsa', lsa], ['server', server], ...clientWorkers.map((w, i) => [`client#${i + 1}`, w] as [string, Worker])]);
    const stopCpu = cpuMeter();
    const done = await Promise.all(results);
    const elu = await stopElu();
    const cpuCores = stopCpu();
    let completed = 0;
    let elapsed = 0;
    const latencies: number[] = [];
    for (const d of done) {
      completed += d.latencies.length;
      elapsed = Math.max(elapsed, d.elapsedMs);
      for (const l of d.latencies) latencies.push(l);
    }
    return { hsPerSec: completed / (elapsed / 1000), latencies, elu, cpuCores, failures: 0, byStatus: {} };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
