// The ideal baseline's workers: the same hop path as a handshake (client -> LSA -> client ->
// server -> LSA -> server -> client ...), as raw MessagePort messages of the same sizes doing no
// SSPI work. One module serves all three roles, chosen by workerData.role; it does nothing when
// imported outside a worker.

import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';

export interface RawSizes {
  /** Token sizes of legs 1..3, as the package emits them. */
  legs: [number, number, number];
}

export type RawWorkerData =
  | { role: 'lsa' }
  | { role: 'server'; lsa: MessagePort; sizes: RawSizes }
  | { role: 'client'; lsa: MessagePort; server: MessagePort; sizes: RawSizes; lanes: number; durationMs: number; warmupMs: number };

interface Msg {
  id: number;
  payload: Uint8Array;
  leg?: number;
}

/** A request/reply helper over one port: a counter and a Map of resolvers, nothing more. */
function roundTripper(port: MessagePort): (payload: Uint8Array, leg?: number) => Promise<Msg> {
  let next = 1;
  const pending = new Map<number, (m: Msg) => void>();
  port.on('message', (m: Msg) => {
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  return (payload, leg) =>
    new Promise<Msg>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      port.postMessage(leg === undefined ? { id, payload } : { id, payload, leg });
    });
}

if (!isMainThread && parentPort !== null && (workerData as { role?: string } | null)?.role !== undefined) {
  const data = workerData as RawWorkerData;
  if (data.role === 'lsa') {
    parentPort.on('message', (port: MessagePort) => port.on('message', (m: Msg) => port.postMessage(m)));
    parentPort.postMessage('ready');
  } else if (data.role === 'server') {
    const lsa = roundTripper(data.lsa);
    parentPort.on('message', (client: MessagePort) => {
      client.on('message', (m: Msg) => {
        void (async () => {
          await lsa(m.payload); // AcceptSecurityContext
          if (m.leg === 1) client.postMessage({ id: m.id, payload: new Uint8Array(data.sizes.legs[1]) });
          else {
            client.postMessage({ id: m.id, payload: new Uint8Array(0) }); // accepted
            await lsa(new Uint8Array(8)); // DeleteSecurityContext
          }
        })();
      });
    });
    parentPort.postMessage('ready');
  } else {
    const { sizes, lanes, durationMs, warmupMs } = data;
    const lsa = roundTripper(data.lsa);
    const server = roundTripper(data.server);
    const legMsg = (leg: number): Uint8Array => new Uint8Array(sizes.legs[leg - 1]!);
    parentPort.once('message', () => {
      void (async () => {
        const start = performance.now();
        const measureFrom = start + warmupMs;
        const deadline = measureFrom + durationMs;
        const latencies: number[] = [];
        const lane = async (): Promise<void> => {
          while (performance.now() < deadline) {
            const begin = performance.now();
            await lsa(new Uint8Array(8)); // InitializeSecurityContext, leg 1
            await server(legMsg(1), 1); // token to the server; its AcceptSecurityContext; its reply
            await lsa(legMsg(2)); // InitializeSecurityContext, leg 3
            await server(legMsg(3), 3); // the final token; the server's verdict
            await lsa(new Uint8Array(8)); // DeleteSecurityContext
            if (begin >= measureFrom) latencies.push(performance.now() - begin);
          }
        };
        await Promise.all(Array.from({ length: lanes }, lane));
        parentPort!.postMessage({ latencies, elapsedMs: performance.now() - measureFrom });
      })();
    });
    parentPort.postMessage('ready');
  }
}
