// The machine: the small piece of main-thread code that boots the LSA worker, spawns client and
// server process workers (each with its own LPC channel to the LSA, created here at spawn), kills
// them (worker.terminate() is a process crash), keeps the table of names servers monitor, and
// collects every worker's trace on one clock. The CLI, the benchmarks and the tests all use it.

import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import {
  type AppRole,
  type AppWorkerData,
  type BootMessage,
  wrapControl,
  SspiEmuError,
  describeError,
  rebuildError,
  decodeSerializedError,
  decodeConnectRequest,
  decodeNameRequest,
  type ProcessToMachineOps,
  transferring,
  type Handlers,
  now,
  type TapRecord,
  type TraceEvent,
} from '../ipc/index.js';
import {
  parseAccount,
  type Account,
  DEFAULT_PACKAGES,
  DEFAULT_QUOTA,
  DEFAULT_WORK_POOL,
  MAX_WORK_POOL_THREADS,
  type LsaConfig,
  type ProcessQuota,
  type LsaControl,
  type ReapReport,
  type ReloadReport,
  type WorkPoolConfig,
} from '../lsa/index.js';
import { acceptPackageFailures, bootStepTimeoutMs, PACKAGE_LOAD_TIMEOUT_MS, watchLsaBoot } from './boot-watch.js';
import { NameTable } from './names.js';
import { AppProcess, LSA_PID, LsaProcess, type ProcessHost } from './processes.js';
import { launchLsa, LSA_ISOLATIONS, type LsaIsolation } from './lsa-launch.js';
import { DEFAULT_TRACE_LIMITS, TraceCollector } from './trace-collector.js';

export { AppProcess, LsaProcess } from './processes.js';
export type { LsaIsolation } from './lsa-launch.js';

export interface MachineOptions {
  /** The "Security Packages" list: built-in names ("example", "ntlm", "null") or module paths. Default: example and ntlm. */
  packages?: string[];
  /** Accounts in the LSA's account store, as objects or "user:password" / "DOMAIN\\user:password". */
  accounts?: Array<string | Account>;
  computerName?: string;
  domainName?: string;
  dnsDomainName?: string;
  /** Record trace events (default true; benchmarks turn it off). */
  trace?: boolean;
  /** A package call that has not returned after this many ms fails with SEC_E_INTERNAL_ERROR. */
  packageCallTimeoutMs?: number;
  /** Package settings by the package's entry in `packages`. */
  packageSettings?: Record<string, Record<string, unknown>>;
  /**
   * How long the LSA may spend on one step of its boot (starting; then each package module's
   * import, SpLsaModeInitialize, SpInitialize, SpGetInfo) before the machine gives up on it and
   * terminates it. Default 15 s, or 5 s more than packageLoadTimeoutMs and packageCallTimeoutMs
   * when they are longer, so that those deadlines, inside the LSA, report a stuck module first.
   */
  bootTimeoutMs?: number;
  /**
   * A package module whose top level has not settled after this many ms (a top-level await that
   * never finishes) fails to load, at stage import; the LSA goes on without it. Default 10 s.
   */
  packageLoadTimeoutMs?: number;
  /**
   * What a package module that fails to load does to the boot: 'fail' (the default) rejects with a
   * PackageLoadError (code PACKAGE_LOAD_FAILED) naming each module, stage and reason; 'skip' boots
   * without it (machine.lsa.packages() lists it under `failed`).
   */
  onPackageFailure?: 'fail' | 'skip';
  /** An app process's LPC call with no reply after this many ms fails (SEC_E_INTERNAL_ERROR, cause TIMEOUT). Default 60 s. */
  lpcTimeoutMs?: number;
  /**
   * A process that does not answer one of the machine's calls (stats, a fault plan, a new LPC
   * channel after restartLsa, a trace flush) within this many ms is reported unresponsive and the
   * call fails with TIMEOUT instead of waiting. Default 5 s.
   */
  processTimeoutMs?: number;
  /**
   * What one process may have of the LSA: handles, calls running and waiting (lsa/config.ts,
   * DEFAULT_QUOTA: 100,000 credentials and 100,000 contexts, 8 calls running and 4,096 waiting
   * per process, 64 running in all). A call past a limit gets SEC_E_INSUFFICIENT_MEMORY.
   */
  processQuota?: Partial<ProcessQuota>;
  /**
   * Where the LSA runs: 'thread' (default), a worker thread of this OS process like every app
   * process; or 'process', its own OS process, so that code running in an app process cannot
   * read the LSA's memory (app processes then reach it on a Unix socket, each proving which
   * process it is with a secret the machine gave it at spawn). See the README's Trust boundaries.
   */
  lsaIsolation?: LsaIsolation;
  /**
   * The LSA's work pool, where packages' CPU-heavy work (CreateThread's work routines: PBKDF2)
   * runs off the LSA's dispatch thread: `threads` from 0 (off: the work runs inline on the
   * dispatch thread) to 64; default 1, started by the first task.
   */
  lsaWorkPool?: Partial<WorkPoolConfig>;
}

/** What restartLsa() did for each running process. */
export interface RestartReport {
  /** Processes that took their new LPC channel. */
  reattached: string[];
  /** Processes that did not answer within processTimeoutMs (their calls fail until they take the channel). */
  unresponsive: string[];
  /** Processes that died meanwhile. */
  gone: string[];
}

export interface SpawnOptions {
  /** The process's name in traces; default "client", "server", then "client#2", ... */
  name?: string;
  /** The account the process runs as (its logon session in the LSA), or null for anonymous. */
  logonAs?: string | null;
}

export const DEMO_ACCOUNTS: readonly string[] = ['alice:Passw0rd!', 'bob:Hunter2hunter2'];
const DEFAULTS = {
  computerName: 'SSPI-EMU',
  dnsDomainName: 'sspi-emu.local',
  packageCallTimeoutMs: 10_000,
  bootTimeoutMs: 15_000,
  lpcTimeoutMs: 60_000,
  processTimeoutMs: 5_000,
};

export class Machine {
  readonly trace: TraceCollector;
  private readonly processes = new Map<number, AppProcess>();
  private readonly names = new NameTable();
  private readonly counts = new Map<AppRole, number>();
  private nextPid = 1000;
  private stopped = false;
  private restarting: Promise<RestartReport> | null = null;
  /** What the machine releases when a process exits or is killed: its names, its ports, its handles in the LSA. */
  private readonly releases = new Map<AppProcess, () => void>();

  readonly config: LsaConfig;
  public lsa: LsaProcess;
  private readonly options: MachineOptions;

  private constructor(config: LsaConfig, lsa: LsaProcess, trace: TraceCollector, options: MachineOptions) {
    this.config = config;
    this.lsa = lsa;
    this.options = options;
    this.trace = trace;
  }

  /** Boots the LSA worker and waits for its Ready message; a boot that fails says why. */
  static async boot(options: MachineOptions = {}): Promise<Machine> {
    const config = lsaConfig(options);
    const trace = new TraceCollector(now(), options.trace ?? true, {
      ...DEFAULT_TRACE_LIMITS,
      flushTimeoutMs: options.processTimeoutMs ?? DEFAULTS.processTimeoutMs,
    });
    const isolation = options.lsaIsolation ?? 'thread';
    if (!LSA_ISOLATIONS.includes(isolation))
      throw new SspiEmuError('BAD_OPTION', `lsaIsolation must be ${LSA_ISOLATIONS.map((i) => JSON.stringify(i)).join(' or ')}, not ${JSON.stringify(isolation)}`);
    const lsa = await startLsa(config, trace, options, 1);
    await acceptPackageFailures(lsa, options.onPackageFailure ?? 'fail');
    return new Machine(config, lsa, trace, options);
  }

  /**
   * Restarts a dead LSA with the same configuration and gives every running process a new LPC
   * channel to it (and a new logon session). Handles from the old LSA mean nothing to the new
   * one: they get SEC_E_INVALID_HANDLE (its handle values carry its generation, and each
   * process's library forgets the old LSA's handles). A process that does not take its channel
   * within processTimeoutMs is reported, not waited for.
   */
  restartLsa(): Promise<RestartReport> {
    // One restart at a time: a second call while one runs gets the same report, and one LSA.
    this.restarting ??= this.restart().finally(() => (this.restarting = null));
    return this.restarting;
  }

  private async restart(): Promise<RestartReport> {
    if (this.lsa.alive) throw new SspiEmuError('BOOT_FAILED', 'the LSA is still running; kill it first');
    this.lsa = await startLsa(this.config, this.trace, this.options, this.lsa.generation + 1);
    const report: RestartReport = { reattached: [], unresponsive: [], gone: [] };
    await Promise.all(
      this.running.map(async (proc) => {
        const link = this.lsa.link();
        try {
          await this.lsa.expect(proc.pid, proc.name, link);
          // Both at once: an LSA in its own OS process takes the attach once the process has connected.
          await Promise.all([this.lsa.attach({ pid: proc.pid, name: proc.name, threadId: proc.threadId, logonAs: proc.logonAs }, link.lsaEnd), proc.reconnectLpc(link)]);
          report.reattached.push(proc.name);
        } catch {
          // A process that cannot take its channel is reported, never a reason for the restart to fail.
          if (!proc.alive) report.gone.push(proc.name);
          else report.unresponsive.push(proc.name);
        }
      }),
    );
    return report;
  }

  /** Spawns a client or server process with its own LPC channel to the LSA. */
  async spawn(role: AppRole, options: SpawnOptions = {}): Promise<AppProcess> {
    if (this.stopped) throw new SspiEmuError('SPAWN_FAILED', 'the machine is shut down');
    const pid = this.nextPid;
    this.nextPid += 4; // Windows process ids are multiples of four
    const n = (this.counts.get(role) ?? 0) + 1;
    this.counts.set(role, n);
    const name = options.name ?? (n === 1 ? role : `${role}#${n}`);
    const logonAs = options.logonAs ?? null;

    const lpc = this.lsa.link();
    await this.lsa.expect(pid, name, lpc);
    const control = new MessageChannel();
    const tracePorts = new MessageChannel();
    const lpcTimeoutMs = this.options.lpcTimeoutMs ?? DEFAULTS.lpcTimeoutMs;
    const workerData: AppWorkerData = {
      pid,
      name,
      role,
      logonAs,
      lpc: lpc.processEnd,
      controlPort: control.port2,
      tracePort: tracePorts.port2,
      trace: this.trace.isEnabled,
      tap: this.trace.isTapping,
      lpcTimeoutMs,
      packageCallTimeoutMs: this.config.packageCallTimeoutMs,
    };
    const entry = new URL('../process/worker.js', import.meta.url);
    const worker = new Worker(entry, { workerData, transferList: [...lpc.transfer, control.port2, tracePorts.port2], name });
    const controlMs = this.options.processTimeoutMs ?? DEFAULTS.processTimeoutMs;
    const proc = new AppProcess(pid, name, role, logonAs, worker, control.port1, { controlMs, sspiMs: lpcTimeoutMs + controlMs });
    proc.serve(this.servicesFor(proc));
    this.trace.attach(tracePorts.port1, { name, pid, threadId: worker.threadId });
    // Listening for Ready from the start: a worker's messages that nobody listens for are lost, and
    // the worker may be ready before the LSA has logged it on (a logon derives keys).
    const ready = waitForReady(worker, name, DEFAULTS.bootTimeoutMs);
    try {
      await Promise.all([this.lsa.attach({ pid, name, threadId: worker.threadId, logonAs }, lpc.lsaEnd), ready]);
    } catch (error) {
      await worker.terminate();
      // An LSA still waiting for the process to connect gives up on it now.
      if (this.lsa.alive) await this.lsa.detach(pid).catch(() => null);
      throw new SspiEmuError('SPAWN_FAILED', `cannot spawn ${name}: ${describeError(error)}`, { cause: error });
    }
    this.processes.set(pid, proc);
    this.releases.set(proc, () => this.release(proc, tracePorts.port1, control.port1));
    void proc.exited.then(() => this.releases.get(proc)?.());
    return proc;
  }

  /**
   * Kills a process as a crash would, and waits until the LSA has reaped its handles. A thread
   * stuck in a system call cannot be stopped until the call returns (worker.terminate() waits for
   * it): after processTimeoutMs the machine cuts such a process off instead (its channels closed,
   * its names and handles released) and the thread exits when the call returns.
   */
  async kill(proc: AppProcess | LsaProcess): Promise<ReapReport | null> {
    const exited = await terminateWithin(proc, this.processTimeoutMs);
    if (!exited) proc.abandon();
    if (proc instanceof LsaProcess) return null;
    if (!exited) this.releases.get(proc)?.();
    return this.lsa.alive ? this.lsa.detach(proc.pid).catch(() => null) : null;
  }

  /** Every app process that is still running. */
  get running(): AppProcess[] {
    return [...this.processes.values()].filter((p) => p.alive);
  }

  /**
   * Trace events so far (after flushing every live worker), in time order, relative to boot. A
   * worker that does not answer the flush within processTimeoutMs is marked unresponsive and its
   * latest events are missing; the call never waits longer.
   */
  async events(): Promise<TraceEvent[]> {
    await this.flushTrace();
    return this.trace.allEvents();
  }

  /** Tapped channel traffic so far (turn tapping on with tap(true) before the work). */
  async taps(): Promise<TapRecord[]> {
    await this.flushTrace();
    return this.trace.allTaps();
  }

  tap(on: boolean): void {
    this.trace.setTapping(on);
  }

  /** Stops every process and the LSA (a thread stuck in a system call is left to exit when it returns). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.names.shutdown();
    await Promise.all([...this.processes.values(), this.lsa].map((p) => terminateWithin(p, this.processTimeoutMs)));
  }

  private get processTimeoutMs(): number {
    return this.options.processTimeoutMs ?? DEFAULTS.processTimeoutMs;
  }

  private async flushTrace(): Promise<void> {
    const unresponsive = new Set(await this.trace.flush());
    for (const proc of this.processes.values()) if (unresponsive.has(proc.name)) proc.unresponsive = true;
  }

  /** The machine's answers to one process's requests; the process is known from its channel, and every request is decoded. */
  private servicesFor(proc: AppProcess): Handlers<ProcessToMachineOps> {
    return {
      Listen: (body) => {
        const { name } = decodeNameRequest(body);
        if (proc.role !== 'server') throw new SspiEmuError('BAD_OPTION', `${proc.name} is a client process: only server processes monitor names`);
        this.names.listen(proc, name);
        return {};
      },
      Unlisten: (body) => {
        this.names.unlisten(proc, decodeNameRequest(body).name);
        return {};
      },
      Accept: async (body) => {
        const port = await this.names.accept(proc, decodeNameRequest(body).name);
        return transferring({ port }, [port]);
      },
      Connect: async (body) => {
        const { name, waitMs } = decodeConnectRequest(body);
        const port = await this.names.connect(proc, name, waitMs);
        return transferring({ port }, [port]);
      },
    };
  }

  /** Releases what the machine holds for a process that exited or was cut off; the second time does nothing. */
  private release(proc: AppProcess, tracePort: MessagePort, controlPort: MessagePort): void {
    if (!this.releases.delete(proc)) return;
    this.names.dropOwner(proc);
    this.trace.workerExited(tracePort);
    controlPort.close();
    if (this.lsa.alive) void this.lsa.detach(proc.pid).catch(() => undefined);
  }
}

/** Terminates a worker, waiting at most `ms`; whether it exited. */
async function terminateWithin(proc: AppProcess | LsaProcess, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const exited = await Promise.race([
    proc.host.terminate().then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return exited || !proc.alive;
}

async function startLsa(config: LsaConfig, trace: TraceCollector, options: MachineOptions, generation: number): Promise<LsaProcess> {
  const isolation = options.lsaIsolation ?? 'thread';
  const launched = launchLsa(isolation, { config, generation, trace: trace.isEnabled, tap: trace.isTapping });
  // A restarted LSA loads a reloaded module past the versions the processes may have imported already.
  const noteVersion = (report: ReloadReport): void => {
    config.packageVersions = { ...config.packageVersions, [report.spec]: Math.max(report.version, config.packageVersions?.[report.spec] ?? 0) };
  };
  const lsa = new LsaProcess(launched, wrapControl<LsaControl>(launched.control), generation, isolation, noteVersion);
  trace.attach(launched.trace, { name: 'lsa', pid: LSA_PID, threadId: launched.host.threadId });
  void lsa.exited.then(() => {
    trace.workerExited(launched.trace);
    launched.control.close();
  });
  try {
    await watchLsaBoot(launched.host, bootStepTimeoutMs(options.bootTimeoutMs, config));
  } catch (error) {
    await launched.host.terminate();
    throw new SspiEmuError('BOOT_FAILED', `the LSA did not start: ${describeError(error)}`, { cause: error });
  }
  return lsa;
}

/** Waits for a worker's Ready message; its boot-failed message, crash, exit or silence is an error. */
function waitForReady(worker: ProcessHost, name: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${name} did not report Ready within ${timeoutMs} ms`)), timeoutMs);
    // Anything else a worker posts before Ready is ignored: only the two boot messages count.
    const onMessage = (message: unknown): void => {
      const m = message as Partial<BootMessage> | null;
      if (m?.kind === 'ready') finish();
      else if (m?.kind === 'boot-failed') finish(rebuildError(decodeSerializedError((m as { error?: unknown }).error)));
    };
    const onError = (error: Error): void => finish(error);
    const onExit = (code: number): void => finish(new Error(`${name} exited with code ${code} before it was ready`));
    function finish(error?: Error): void {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (error === undefined) resolve();
      else reject(error);
    }
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

function lsaConfig(options: MachineOptions): LsaConfig {
  if (options.onPackageFailure !== undefined && options.onPackageFailure !== 'fail' && options.onPackageFailure !== 'skip')
    throw new SspiEmuError('BAD_OPTION', `onPackageFailure is 'fail' or 'skip', not ${JSON.stringify(options.onPackageFailure)}`);
  const computerName = options.computerName ?? DEFAULTS.computerName;
  const domainName = options.domainName ?? computerName;
  const accounts = (options.accounts ?? DEMO_ACCOUNTS).map((a) => (typeof a === 'string' ? parseAccount(a, domainName) : a));
  return {
    packages: options.packages ?? [...DEFAULT_PACKAGES],
    accounts,
    computerName,
    dnsComputerName: `${computerName.toLowerCase()}.${options.dnsDomainName ?? DEFAULTS.dnsDomainName}`,
    domainName,
    dnsDomainName: options.dnsDomainName ?? DEFAULTS.dnsDomainName,
    packageCallTimeoutMs: options.packageCallTimeoutMs ?? DEFAULTS.packageCallTimeoutMs,
    packageLoadTimeoutMs: positiveMs(options.packageLoadTimeoutMs, 'packageLoadTimeoutMs') ?? PACKAGE_LOAD_TIMEOUT_MS,
    packageSettings: Object.fromEntries(Object.entries(options.packageSettings ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    quota: quotaOf(options.processQuota),
    workPool: workPoolOf(options.lsaWorkPool),
  };
}

/** A deadline in ms as asked: a positive whole number, or undefined for the default. */
function positiveMs(value: number | undefined, name: string): number | undefined {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1))
    throw new SspiEmuError('BAD_OPTION', `${name} must be a whole number of ms from 1, not ${String(value)}`);
  return value;
}

/** The work pool's size as asked, or the default; 0 (off) to MAX_WORK_POOL_THREADS threads. */
function workPoolOf(asked: Partial<WorkPoolConfig> | undefined): WorkPoolConfig {
  const threads = asked?.threads ?? DEFAULT_WORK_POOL.threads;
  if (!Number.isSafeInteger(threads) || threads < 0 || threads > MAX_WORK_POOL_THREADS)
    throw new SspiEmuError('BAD_OPTION', `lsaWorkPool.threads must be a whole number from 0 to ${MAX_WORK_POOL_THREADS}, not ${String(threads)}`);
  return { threads };
}

/** The quota with the caller's limits in place of the defaults; a limit must be a positive integer. */
function quotaOf(asked: Partial<ProcessQuota> | undefined): ProcessQuota {
  const quota = { ...DEFAULT_QUOTA, ...asked };
  for (const [name, value] of Object.entries(quota))
    if (!Number.isSafeInteger(value) || value < 1)
      throw new SspiEmuError('BAD_OPTION', `processQuota.${name} must be a positive integer, not ${String(value)}`);
  return quota;
}
