// HTTP NTLM handshakes per second over real loopback sockets: `serve --http`'s server app in a
// server process of a real machine (every AcceptSecurityContext through its SSPI library and LPC
// to the LSA, the context deleted when the connection closes), beside a plain node:http server in
// its own worker thread answering the same three requests without SSPI. Both are driven, row by
// row at N clients, by the same load generator worker (bench/workers/http-load.ts), whose client
// side of NTLM is the package's own legs over bytes. A handshake is a new connection and its three
// requests kept alive on it (401 WWW-Authenticate: NTLM; 401 with the CHALLENGE; 200), as a
// browser opening a connection to an NTLM site does. Each worker's event-loop utilization names
// the side that bottlenecks. Runs within `sspi-emu bench`, or alone:
//
//   node dist/bench/http-sockets.js [--clients 1,8,32] [--duration S] [--json FILE]

import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Account } from '../lsa/index.js';
import { Machine, type AppProcess } from '../machine/index.js';
import { SocketServer } from '../scenarios/index.js';
import type { SocketAppSummary } from '../app-protocols/index.js';
import { formatSocketRows } from './report.js';
import { bottleneck, cpuMeter, pairedRatio, repetitions, round, type RateFigures } from './stats.js';
import { ThreadCpu } from './thread-cpu.js';
import type { LoadResult, LoadRun } from './workers/http-load.js';
import type { PlainCounts, PlainHttpData } from './workers/plain-http.js';

export type SocketServerKind = 'NTLM serve --http' | 'plain node:http';

export interface SocketRow extends RateFigures {
  server: SocketServerKind;
  /** Clients of the load generator, each one connection (and handshake) at a time. */
  clients: number;
  /**
   * On the NTLM rows: this row's hs/s over the plain server's at the same N, the median of the
   * repetitions' own ratios (each NTLM window is followed by a plain one); null on the plain rows.
   */
  ratioToPlain: number | null;
  bottleneck: string;
  elu: Record<string, number>;
  /** CPU of the whole OS process (every thread) during the row, in cores: at the machine's core count, CPU is the limit. */
  cpuCores: number;
  /**
   * CPU time per handshake of each thread of the row (and "platform": V8's and libuv's helper
   * threads), in us, from /proc (Linux; empty elsewhere): what each side's work costs, whatever
   * the machine's other load; event-loop utilization also counts waiting for a core.
   */
  cpuUsPerHandshake: Record<string, number>;
  /** The server side's CPU per handshake: every thread of the row but the load generator and the helper threads (us; null without /proc). */
  serverCpuUs: number | null;
  /**
   * On the NTLM rows: the plain server's CPU per handshake over the NTLM server side's (server
   * process, LSA, the machine's thread reading the access log), the ratio the throughput one tends
   * to when the servers, not the load generator or the machine's other load, set the pace.
   */
  serverCpuRatioToPlain: number | null;
  /** Handshakes the load generator completed after the warm-up, over all repetitions. */
  handshakes: number;
  /** Handshakes the server completed (200s), warm-up included, over all repetitions. */
  serverHandshakes: number;
  /** Failed handshakes on either side: responses the load generator did not expect, the server's own failures. */
  failures: number;
  byReason: Record<string, number>;
  /** Contexts left in the LSA after the NTLM server stopped (0 for the plain rows). */
  contextsLeft: number;
}

export interface SocketBenchOptions {
  clients: number[];
  durationMs: number;
  warmupMs: number;
  repetitions: number;
  /**
   * How long each server is driven, at the most clients, before the first row (the figures
   * dropped): V8's optimizing compiler takes about 10 s of load to settle on the NTLM path (LSA,
   * package, LPC, server app), well under 1 s on the plain one; until then its helper threads take
   * most of a core, and the first rows would measure it.
   */
  serverWarmMs: number;
  account: Account;
  progress?: (label: string) => void;
}

const LOAD = new URL('./workers/http-load.js', import.meta.url);
const PLAIN = new URL('./workers/plain-http.js', import.meta.url);
const HOST = '127.0.0.1';
const NAMES = { computerName: 'SSPI-EMU', domainName: 'SSPI-EMU', dnsDomainName: 'sspi-emu.local' } as const;

interface Run {
  hsPerSec: number;
  latencies: number[];
  elu: Record<string, number>;
  cpuCores: number;
  cpuUsPerHandshake: Record<string, number>;
  completed: number;
  serverHandshakes: number;
  failures: number;
  byReason: Record<string, number>;
  contextsLeft: number;
}

/** A worker that posts { kind: 'ready' | 'listening' } once it is: resolves with it and that first message. */
function startWorker<T>(url: URL, workerData?: unknown): Promise<{ worker: Worker; first: T }> {
  const worker = new Worker(url, workerData === undefined ? {} : { workerData });
  return new Promise((resolve, reject) => {
    worker.once('message', (first: T) => {
      worker.off('error', reject);
      resolve({ worker, first });
    });
    worker.once('error', reject);
  });
}

function reply<T>(worker: Worker, message: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    worker.once('error', onError);
    worker.once('message', (m: T) => {
      worker.off('error', onError);
      resolve(m);
    });
    worker.postMessage(message);
  });
}

/** Event-loop utilization of named threads over an interval (the main thread's own as "main"). */
function eluOf(threads: ReadonlyArray<[string, Worker | 'main']>): () => Record<string, number> {
  const utilization = (t: Worker | 'main', from?: ReturnType<typeof performance.eventLoopUtilization>) =>
    t === 'main' ? performance.eventLoopUtilization(from) : t.performance.eventLoopUtilization(from);
  const before = threads.map(([, t]) => utilization(t));
  return () => Object.fromEntries(threads.map(([name, t], i) => [name, Math.round(utilization(t, before[i]).utilization * 1000) / 1000]));
}

/** One window of the load generator against host:port, with the named threads' utilization and CPU from the end of the warm-up. */
async function drive(
  load: Worker,
  port: number,
  clients: number,
  options: SocketBenchOptions,
  threads: ReadonlyArray<[string, Worker | 'main']>,
  cpu: ThreadCpu,
) {
  const run: LoadRun = { kind: 'run', host: HOST, port, clients, warmupMs: options.warmupMs, durationMs: options.durationMs, ...options.account };
  const done = reply<LoadResult>(load, run);
  await new Promise<void>((resolve) => setTimeout(resolve, options.warmupMs).unref());
  const stop = eluOf(threads);
  const stopCpu = cpuMeter();
  const stopThreads = cpu.meter();
  const result = await done;
  const elu = stop();
  const cpuCores = stopCpu();
  const used = stopThreads();
  const cpuUsPerHandshake: Record<string, number> = {};
  for (const name of [...threads.map(([n]) => n), 'platform'])
    if (used[name] !== undefined && result.completed > 0) cpuUsPerHandshake[name] = Math.round((used[name]! * 1000) / result.completed);
  return { result, elu, cpuCores, cpuUsPerHandshake };
}

/** The machine, its server process, the plain server and the load generator, kept for every row. */
export class HttpSocketBench {
  readonly machine: Machine;
  readonly server: AppProcess;
  private readonly plain: Worker;
  private readonly plainPort: number;
  private readonly load: Worker;
  private options: SocketBenchOptions;
  private readonly cpu: ThreadCpu;

  private constructor(
    machine: Machine,
    server: AppProcess,
    plain: { worker: Worker; port: number },
    load: Worker,
    options: SocketBenchOptions,
    cpu: ThreadCpu,
  ) {
    this.cpu = cpu;
    this.machine = machine;
    this.server = server;
    this.plain = plain.worker;
    this.plainPort = plain.port;
    this.load = load;
    this.options = options;
  }

  static async start(options: SocketBenchOptions): Promise<HttpSocketBench> {
    const cpu = new ThreadCpu();
    const machine = await cpu.name('lsa', () => Machine.boot({ packages: ['ntlm'], accounts: [options.account], trace: false, ...NAMES }));
    try {
      const server = await cpu.name('server', () => machine.spawn('server'));
      const data: PlainHttpData = {
        host: HOST,
        // The names the machine's LSA gives the NTLM package: the plain CHALLENGE is the same size.
        names: { ...NAMES, dnsComputerName: `${NAMES.computerName.toLowerCase()}.${NAMES.dnsDomainName}` },
        user: `${options.account.domain}\\${options.account.user}`,
      };
      const plain = await cpu.name('plain', () => startWorker<{ kind: 'listening'; port: number }>(PLAIN, data));
      const load = await cpu.name('load', () => startWorker<{ kind: 'ready' }>(LOAD));
      return new HttpSocketBench(machine, server, { worker: plain.worker, port: plain.first.port }, load.worker, options, cpu);
    } catch (error) {
      await machine.shutdown();
      throw error;
    }
  }

  /** `serve --http`'s app started afresh in the server process, driven for one window, stopped (every context deleted). */
  async ntlmRun(clients: number): Promise<Run> {
    const app = await SocketServer.start(this.server, { protocol: 'http', port: 0, package: 'NTLM' });
    let driven: Awaited<ReturnType<typeof drive>>;
    try {
      driven = await drive(
        this.load,
        app.port,
        clients,
        this.options,
        [
          ['lsa', this.machine.lsa.host as Worker],
          ['server', this.server.worker],
          ['load', this.load],
          ['main', 'main'],
        ],
        this.cpu,
      );
    } catch (error) {
      await app.stop();
      throw error;
    }
    const stopped = await app.stop();
    const summary = (stopped.data ?? {}) as Partial<SocketAppSummary>;
    const { result, elu, cpuCores, cpuUsPerHandshake } = driven;
    return {
      hsPerSec: result.completed / (result.elapsedMs / 1000),
      latencies: result.latencies,
      elu,
      cpuCores,
      cpuUsPerHandshake,
      completed: result.completed,
      serverHandshakes: summary.authenticated ?? 0,
      failures: result.failures + (summary.failed ?? 0) + (stopped.status === 0 ? 0 : 1),
      byReason: { ...result.byReason, ...(summary.failed ? { 'server: AcceptSecurityContext failed': summary.failed } : {}) },
      contextsLeft: (await this.machine.lsa.stats()).contexts,
    };
  }

  /** The plain node:http worker, driven for one window. */
  async plainRun(clients: number): Promise<Run> {
    await reply<PlainCounts>(this.plain, { kind: 'take' });
    const { result, elu, cpuCores, cpuUsPerHandshake } = await drive(
      this.load,
      this.plainPort,
      clients,
      this.options,
      [
        ['plain', this.plain],
        ['load', this.load],
        ['main', 'main'],
      ],
      this.cpu,
    );
    const counts = await reply<PlainCounts>(this.plain, { kind: 'take' });
    return {
      hsPerSec: result.completed / (result.elapsedMs / 1000),
      latencies: result.latencies,
      elu,
      cpuCores,
      cpuUsPerHandshake,
      completed: result.completed,
      serverHandshakes: counts.handshakes,
      failures: result.failures + counts.failures,
      byReason: { ...result.byReason, ...(counts.failures > 0 ? { 'server: 400': counts.failures } : {}) },
      contextsLeft: 0,
    };
  }

  /** Both servers driven for serverWarmMs each, the figures dropped. */
  async warm(clients: number): Promise<void> {
    const saved = this.options;
    this.options = { ...saved, warmupMs: 0, durationMs: saved.serverWarmMs };
    try {
      await this.ntlmRun(clients);
      await this.plainRun(clients);
    } finally {
      this.options = saved;
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.plain.terminate(), this.load.terminate()]);
    await this.machine.shutdown();
  }
}

function serverCpu(used: Record<string, number>): number | null {
  const server = Object.entries(used).filter(([thread]) => thread !== 'load' && thread !== 'platform');
  return server.length === 0 ? null : server.reduce((sum, [, us]) => sum + us, 0);
}

function row(server: SocketServerKind, clients: number, runs: Run[], plain: Run[] | null): SocketRow {
  const { mid, ...rate } = repetitions(runs);
  const byReason: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.byReason)) byReason[k] = (byReason[k] ?? 0) + v;
  return {
    server,
    clients,
    ...rate,
    ratioToPlain: plain === null ? null : round(pairedRatio(runs.map((r, i) => [r.hsPerSec, plain[i]!.hsPerSec])), 3),
    bottleneck: bottleneck(mid.elu),
    elu: mid.elu,
    cpuCores: mid.cpuCores,
    cpuUsPerHandshake: mid.cpuUsPerHandshake,
    serverCpuUs: serverCpu(mid.cpuUsPerHandshake),
    serverCpuRatioToPlain: null,
    handshakes: runs.reduce((n, r) => n + r.completed, 0),
    serverHandshakes: runs.reduce((n, r) => n + r.serverHandshakes, 0),
    failures: runs.reduce((n, r) => n + r.failures, 0),
    byReason,
    contextsLeft: Math.max(...runs.map((r) => r.contextsLeft)),
  };
}

/** The socket rows: at each N, the NTLM server and the plain one, repetitions alternating between them. */
export async function httpSocketRows(options: SocketBenchOptions): Promise<SocketRow[]> {
  if (options.clients.length === 0) return [];
  const bench = await HttpSocketBench.start(options);
  const rows: SocketRow[] = [];
  try {
    await bench.warm(Math.max(...options.clients));
    for (const clients of options.clients) {
      const ntlm: Run[] = [];
      const plain: Run[] = [];
      for (let r = 0; r < options.repetitions; r++) {
        ntlm.push(await bench.ntlmRun(clients));
        plain.push(await bench.plainRun(clients));
      }
      const plainRow = row('plain node:http', clients, plain, null);
      const ntlmRow = row('NTLM serve --http', clients, ntlm, plain);
      if (ntlmRow.serverCpuUs !== null && plainRow.serverCpuUs !== null && ntlmRow.serverCpuUs > 0)
        ntlmRow.serverCpuRatioToPlain = round(plainRow.serverCpuUs / ntlmRow.serverCpuUs, 3);
      rows.push(ntlmRow, plainRow);
      options.progress?.(`HTTP sockets: ${clients} client(s)`);
    }
  } finally {
    await bench.stop();
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string | undefined => {
    const at = process.argv.indexOf(name);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  const rows = await httpSocketRows({
    clients: (arg('--clients') ?? '1,8,32').split(',').map(Number),
    durationMs: Number(arg('--duration') ?? 2) * 1000,
    warmupMs: 400,
    repetitions: 1,
    serverWarmMs: 10_000,
    account: { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' },
  });
  process.stdout.write(formatSocketRows(rows) + '\n');
  const json = arg('--json');
  if (json !== undefined) await writeFile(json, JSON.stringify(rows, null, 2) + '\n');
}
