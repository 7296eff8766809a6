// Handshakes per second across the isolation boundaries: one server process, K client processes,
// C handshakes in flight in all, every handshake the full path (client process, LSA, server
// process, the context mapped into both, then deleted on both sides).

import { fileURLToPath } from 'node:url';
import { Machine, type AppProcess, type MachineOptions } from '../machine/index.js';
import { packagesAlongside, type Account, type LsaStats } from '../lsa/index.js';
import { cpuMeter, eluMeter, type EluSource } from './stats.js';

const SERVER_APP = fileURLToPath(new URL('./apps/handshake-server.js', import.meta.url));
const CLIENT_APP = fileURLToPath(new URL('./apps/handshake-client.js', import.meta.url));
export const MAX_CLIENTS = 4;

/**
 * How long each machine's handshake path runs before its first row. NTLM's path (package, LPC,
 * both processes) still ran 0 to 700 hs/s in quarter-second windows after one second of warm-up,
 * and 1,500 to 4,000 after three: V8 is still compiling it (its helper threads busy) for seconds.
 */
export const PATH_WARM_MS = 3_000;

export interface HandshakeRun {
  hsPerSec: number;
  latencies: number[];
  elu: Record<string, number>;
  cpuCores: number;
  failures: number;
  /** Failed handshakes by the status they failed with. */
  byStatus: Record<string, number>;
  /** Where the measured handshakes' time went, added up over them (bench/hops.ts reads it). */
  hops?: HopTotals;
  /** Target names the clients used of those they were given (the app's `targets`: bench/kerberos.ts). */
  targetsUsed?: number;
  /** Handshakes the clients started, warm-up included. */
  started?: number;
}

/** Milliseconds added up over a run: the processes' SSPI calls as they saw them, and the LSA's stages of the same calls. */
export interface HopTotals {
  handshakes: number;
  client: { sspiMs: number; sspiCalls: number; serverMs: number; serverTrips: number };
  server: { sspiMs: number; sspiCalls: number };
  /** The LSA's own figures over the whole run (its stats before and after). */
  lsa: LsaStats['calls'] & { codecMs: number };
}

/** A machine with one server and MAX_CLIENTS clients, reused for every row of a package. */
export class HandshakeBench {
  readonly machine: Machine;
  readonly server: AppProcess;
  readonly clients: AppProcess[];
  readonly packageName: string;
  readonly account: Account;

  private constructor(machine: Machine, server: AppProcess, clients: AppProcess[], packageName: string, account: Account) {
    this.machine = machine;
    this.server = server;
    this.clients = clients;
    this.packageName = packageName;
    this.account = account;
  }

  static async start(spec: string, account: Account, machineOptions: Omit<MachineOptions, 'packages' | 'accounts' | 'trace'> = {}): Promise<HandshakeBench> {
    // The memory rows hold up to 500,000 contexts in one process (--scale): past the default quota.
    const machine = await Machine.boot({
      processQuota: { contexts: 1_000_000 },
      ...machineOptions,
      packages: [spec, ...packagesAlongside(spec)],
      accounts: [account],
      trace: false,
    });
    const report = await machine.lsa.packages();
    const name = report.loaded[0]?.name;
    if (name === undefined) {
      await machine.shutdown();
      throw new Error(`${spec} did not load: ${report.failed.map((f) => f.reason).join('; ')}`);
    }
    const server = await machine.spawn('server');
    const clients: AppProcess[] = [];
    for (let i = 0; i < MAX_CLIENTS; i++) clients.push(await machine.spawn('client'));
    return new HandshakeBench(machine, server, clients, name, account);
  }

  private runs = 0;

  /**
   * One measurement: C in flight split over K clients for durationMs after warmupMs; `clientArgs`
   * go to each client app besides (a Kerberos target, a credential per handshake: bench/kerberos.ts;
   * `first` is then each client's first target, the next client's after its share of `targets`).
   */
  async run(
    concurrency: number,
    clientCount: number,
    durationMs: number,
    warmupMs: number,
    messages = 0,
    clientArgs: Record<string, unknown> = {},
  ): Promise<HandshakeRun> {
    const name = `bench-${this.runs++}`;
    const clients = this.clients.slice(0, clientCount);
    const serving = this.server.runApp(SERVER_APP, { name, package: this.packageName, clients: clients.length });
    const workers: Array<[string, EluSource]> = [['lsa', this.machine.lsa], ['server', this.server], ...clients.map((c) => [c.name, c] as [string, EluSource])];
    const lanes = clients.map((_, i) => Math.floor(concurrency / clients.length) + (i < concurrency % clients.length ? 1 : 0));
    // Measure from the end of the warm-up: the meters start when every client has warmed up,
    // approximated by starting them after warmupMs on this thread's clock.
    const runs = clients.map((c, i) =>
      c.runApp(CLIENT_APP, {
        server: name,
        package: this.packageName,
        user: this.account.user,
        domain: this.account.domain,
        password: this.account.password,
        concurrency: lanes[i],
        durationMs,
        warmupMs,
        messages,
        ...clientArgs,
        // Each client its own share of the target names, if any.
        ...(typeof clientArgs.targets === 'number'
          ? {
              targets: Math.floor(clientArgs.targets / clients.length),
              first: Number(clientArgs.first ?? 0) + i * Math.floor(clientArgs.targets / clients.length),
            }
          : {}),
      }),
    );
    await new Promise<void>((resolve) => setTimeout(resolve, warmupMs).unref());
    const stopElu = await eluMeter(workers);
    const stopCpu = cpuMeter();
    const lsaBefore = await this.machine.lsa.stats();
    const results = await Promise.all(runs);
    const elu = await stopElu();
    const cpuCores = stopCpu();
    const served = await serving;
    const lsaAfter = await this.machine.lsa.stats();
    let completed = 0;
    let failures = 0;
    let targetsUsed = 0;
    let started = 0;
    let elapsed = 0;
    const latencies: number[] = [];
    const byStatus: Record<string, number> = {};
    const serverTiming = (served.data as { timing?: HopTotals['server'] } | undefined)?.timing ?? { sspiMs: 0, sspiCalls: 0 };
    const hops: HopTotals = {
      handshakes: 0,
      client: { sspiMs: 0, sspiCalls: 0, serverMs: 0, serverTrips: 0 },
      server: serverTiming,
      lsa: {
        calls: lsaAfter.calls.calls - lsaBefore.calls.calls,
        decodeMs: lsaAfter.calls.decodeMs - lsaBefore.calls.decodeMs,
        queuedMs: lsaAfter.calls.queuedMs - lsaBefore.calls.queuedMs,
        packageMs: lsaAfter.calls.packageMs - lsaBefore.calls.packageMs,
        handledMs: lsaAfter.calls.handledMs - lsaBefore.calls.handledMs,
        codecMs: lsaAfter.lpc.codecMs - lsaBefore.lpc.codecMs,
      },
    };
    for (const r of results) {
      const d = r.data as {
        completed: number;
        failures: number;
        byStatus: Record<string, number>;
        elapsedMs: number;
        latencies: number[];
        timing: HopTotals['client'];
        targetsUsed?: number;
        started?: number;
      };
      targetsUsed += d.targetsUsed ?? 0;
      started += d.started ?? 0;
      hops.handshakes += d.completed;
      for (const k of ['sspiMs', 'sspiCalls', 'serverMs', 'serverTrips'] as const) hops.client[k] += d.timing[k];
      completed += d.completed;
      failures += d.failures;
      for (const [k, v] of Object.entries(d.byStatus)) byStatus[k] = (byStatus[k] ?? 0) + v;
      elapsed = Math.max(elapsed, d.elapsedMs);
      for (const l of d.latencies) latencies.push(l);
    }
    return { hsPerSec: completed / (elapsed / 1000), latencies, elu, cpuCores, failures, byStatus, hops, targetsUsed, started };
  }

  /**
   * Holds `handshakes` established handshakes (two LSA contexts each) in fresh processes and
   * measures the LSA's memory (its heap and its ArrayBuffers) after a full garbage collection,
   * before and with them; the processes are then killed, and the LSA reaps what they held.
   */
  async fill(handshakes: number): Promise<{ contexts: number; bytesPerContext: number; lsaHeapBytes: number }> {
    const server = await this.machine.spawn('server');
    const client = await this.machine.spawn('client');
    try {
      const before = await this.machine.lsa.stats({ gc: true });
      const name = `fill-${this.runs++}`;
      const serving = server.runApp(SERVER_APP, { name, package: this.packageName, clients: 1, keep: true });
      const result = await client.runApp(CLIENT_APP, {
        server: name,
        package: this.packageName,
        user: this.account.user,
        domain: this.account.domain,
        password: this.account.password,
        concurrency: 64,
        durationMs: 3_600_000,
        count: handshakes,
        keep: true,
      });
      await serving;
      const after = await this.machine.lsa.stats({ gc: true });
      const contexts = after.contexts - before.contexts;
      if (result.status !== 0 || contexts <= 0) throw new Error(`filling the LSA failed: ${result.statusName} ${result.detail ?? ''} (${contexts} contexts)`);
      // The JavaScript heap and the ArrayBuffers' own bytes outside it (a Uint8Array past 64 bytes keeps its bytes there).
      const bytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
      return { contexts, bytesPerContext: bytes / contexts, lsaHeapBytes: after.heapUsed };
    } finally {
      await this.machine.kill(client);
      await this.machine.kill(server);
    }
  }

  async stop(): Promise<void> {
    await this.machine.shutdown();
  }
}
