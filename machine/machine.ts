// The machine: the small piece of main-thread code that boots the LSA (a worker, or an OS process
// of its own: machine/lsa-launch.ts), spawns client and server process workers (each with its own LPC channel to the LSA, created here at spawn), kills
// them (worker.terminate() is a process crash), keeps the table of names servers monitor, and
// collects every worker's trace on one clock. The CLI, the benchmarks and the tests all use it.

import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import {
  type AppRole,
  type AppWorkerData,
  wrapControl,
  SspiEmuError,
  describeError,
  decodeConnectRequest,
  decodeNameRequest,
  type ProcessToMachineOps,
  transferring,
  type Handlers,
  now,
  type TapRecord,
  type TraceEvent,
  type InspectorRequest,
  type LsaReport,
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
  decodeKdcRequestRecord,
  decodeNetlogonRecord,
} from '../lsa/index.js';
import { acceptPackageFailures, bootStepTimeoutMs, PACKAGE_LOAD_TIMEOUT_MS, watchBoot } from './boot-watch.js';
import { DOMAIN_CONTROLLER, domainControllerConfig, MACHINE_ROLES, type KdcOptions, type KdcServiceOptions, type MachineRole } from './domain-controller.js';
import { domainControllerNetlogon, memberConfig, type DomainJoinOptions, type MachineAccountOptions, type NetlogonOptions } from './domain.js';
import { NameTable } from './names.js';
import { AppProcess, LSA_PID, LsaProcess } from './processes.js';
import { launchLsa, LSA_ISOLATIONS, type LsaIsolation } from './lsa-launch.js';
import { DEFAULT_TRACE_LIMITS, TraceCollector } from './trace-collector.js';

export { AppProcess, LsaProcess } from './processes.js';
export type { LsaIsolation } from './lsa-launch.js';
export type { KdcOptions, KdcServiceOptions, MachineRole } from './domain-controller.js';
export type { DomainJoinOptions, MachineAccountOptions, NetlogonOptions } from './domain.js';

export interface MachineOptions {
  /**
   * What the machine is: a 'workstation' (the default; a member server too), or a
   * 'domain-controller', whose LSA also runs a KDC over its account store (as Windows runs kdcsvc
   * inside lsass) on real UDP and TCP sockets: see `realm`, `kdc` and `services`.
   */
  role?: MachineRole;
  /** A domain controller's Kerberos realm, its DNS domain in capitals ("EXAMPLE.TEST"); required with role 'domain-controller'. */
  realm?: string;
  /** A domain controller's KDC: where it listens (default 127.0.0.1, any free port), its policy, a listener for its requests. */
  kdc?: KdcOptions;
  /**
   * A domain controller's service principals besides its users (the accounts): "host/server.example.test"
   * (a random key of each etype, as a computer account has), "HTTP/web.example.test:password" (keys made
   * from the password with the realm's salt), or objects with their salt, kvno, etypes.
   */
  services?: Array<string | KdcServiceOptions>;
  /**
   * A domain controller's Netlogon, which its members' NTLM passes their domain users' logons to:
   * where it listens (default 127.0.0.1, any free port: machine.netlogonAddress), a listener for
   * its calls.
   */
  netlogon?: NetlogonOptions;
  /**
   * A domain controller's machine accounts, one per member: "NAME:SECRET" (the account NAME$) or
   * { name, password }; a member joins with the same (MachineOptions.domain.machineAccount).
   */
  machineAccounts?: Array<string | MachineAccountOptions>;
  /**
   * The domain this machine (a workstation or member server) has joined: its NTLM passes the
   * logons of the domain's users through to that domain controller's Netlogon, over a secure
   * channel made with the machine account (machine/domain.ts). The machine's computer name is its
   * machine account's; its own accounts (`accounts`) are local ones (COMPUTER\user).
   */
  join?: DomainJoinOptions;
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
  /**
   * Open the V8 inspector in these processes, each in its own thread ('lsa', or an app process by
   * its name: 'client', 'server', 'client#2', ...), so that a debugger attached to one (VS Code,
   * Chrome DevTools) pauses that process alone at a breakpoint. While it is paused the others go
   * on and meet their deadlines (SEC_E_INTERNAL_ERROR with a TIMEOUT cause, never a hang); to give
   * a debugging session time, every deadline not given here (lpcTimeoutMs, packageCallTimeoutMs,
   * packageLoadTimeoutMs, processTimeoutMs, bootTimeoutMs, and the machine's calls on the LSA)
   * defaults to INSPECT_DEADLINE_MS (10 minutes) when any process is inspected. A process with a
   * debugger attached cannot end until the debugger disconnects (Node's rule): shutting the
   * machine down waits for that, at most processTimeoutMs, then leaves the thread to exit when it does.
   */
  inspect?: InspectOptions[];
  /** Told each inspector's ws:// URL as it opens (before its process waits for a debugger, with `wait`). */
  onInspector?: (process: string, url: string, wait: boolean) => void;
}

/** One process's inspector (MachineOptions.inspect). */
export interface InspectOptions {
  /** 'lsa', or an app process's name ('client', 'server', 'client#2', ...). */
  process: string;
  /** Its port (0: any free port); default 9229. */
  port?: number;
  /** Its address; default 127.0.0.1 (only this machine's users can attach: a debugger runs any code in the process). */
  host?: string;
  /** Wait for a debugger to attach before the process starts its work (the LSA: before it loads its packages), as `node --inspect-brk`. */
  wait?: boolean;
}

/** What every deadline of a machine with an inspected process defaults to: room for a debugging session, but not forever. */
export const INSPECT_DEADLINE_MS = 600_000;

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
  /** A workstation (or member server), or a domain controller whose LSA runs a KDC. */
  readonly role: MachineRole;
  /**
   * Where a domain controller's KDC listens, UDP and TCP (the same port after restartLsa); null on
   * other machines. Clients' krb5.conf: `kdc = HOST:PORT` and `kdc = tcp/HOST:PORT`.
   */
  kdcAddress: { host: string; port: number } | null = null;
  /** Where a domain controller's Netlogon listens (TCP; the same port after restartLsa); null on other machines. Members' `domain.dc`. */
  netlogonAddress: { host: string; port: number } | null = null;

  private constructor(config: LsaConfig, lsa: LsaProcess, trace: TraceCollector, options: MachineOptions) {
    this.config = config;
    this.lsa = lsa;
    this.options = options;
    this.trace = trace;
    this.role = options.role ?? 'workstation';
  }

  /** Boots the LSA worker and waits for its Ready message; a boot that fails says why. */
  static async boot(asked: MachineOptions = {}): Promise<Machine> {
    const options = withInspectDeadlines(asked);
    const config = lsaConfig(options);
    const trace = new TraceCollector(now(), options.trace ?? true, {
      ...DEFAULT_TRACE_LIMITS,
      flushTimeoutMs: options.processTimeoutMs ?? DEFAULTS.processTimeoutMs,
    });
    const isolation = options.lsaIsolation ?? 'thread';
    if (!LSA_ISOLATIONS.includes(isolation))
      throw new SspiEmuError(
        'BAD_OPTION',
        `lsaIsolation must be ${LSA_ISOLATIONS.map((i) => JSON.stringify(i)).join(' or ')}, not ${JSON.stringify(isolation)}`,
      );
    const lsa = await startLsa(config, trace, options, 1);
    await acceptPackageFailures(lsa, options.onPackageFailure ?? 'fail');
    const machine = new Machine(config, lsa, trace, options);
    try {
      if (config.kdc !== undefined) await machine.noteKdc();
      if (config.netlogon?.role === 'domain-controller') await machine.noteNetlogon();
    } catch (error) {
      await machine.shutdown();
      throw error;
    }
    return machine;
  }

  /** Reads where the new LSA's Netlogon listens; a port 0 becomes the port it got, kept from then on (as the KDC's). */
  private async noteNetlogon(): Promise<void> {
    const status = await this.lsa.netlogon();
    if (status?.role !== 'domain-controller' || this.config.netlogon?.role !== 'domain-controller')
      throw new SspiEmuError('BOOT_FAILED', "the domain controller's LSA runs no Netlogon");
    this.config.netlogon.port = status.address.port;
    this.netlogonAddress = { ...status.address };
  }

  /**
   * Reads where the new LSA's KDC listens; a KDC asked for port 0 keeps the port it got from then
   * on, so that clients find it again after restartLsa (a DC's KDC is on port 88 after a reboot too).
   */
  private async noteKdc(): Promise<void> {
    const status = await this.lsa.kdc();
    if (status === null || this.config.kdc === undefined) throw new SspiEmuError('BOOT_FAILED', "the domain controller's LSA runs no KDC");
    this.config.kdc.port = status.address.port;
    this.kdcAddress = { ...status.address };
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
    if (this.config.kdc !== undefined) await this.noteKdc();
    if (this.config.netlogon?.role === 'domain-controller') await this.noteNetlogon();
    const report: RestartReport = { reattached: [], unresponsive: [], gone: [] };
    await Promise.all(
      this.running.map(async (proc) => {
        const link = this.lsa.link();
        try {
          await this.lsa.expect(proc.pid, proc.name, link);
          // Both at once: an LSA in its own OS process takes the attach once the process has connected.
          const [attached] = await Promise.all([
            this.lsa.attach({ pid: proc.pid, name: proc.name, threadId: proc.threadId, logonAs: proc.logonAs }, link.lsaEnd),
            proc.reconnectLpc(link),
          ]);
          proc.logonId = attached.logonId;
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
    const inspect = inspectorFor(this.options, name);
    if (inspect !== undefined) workerData.inspect = inspect;
    const entry = new URL('../process/worker.js', import.meta.url);
    const worker = new Worker(entry, { workerData, transferList: [...lpc.transfer, control.port2, tracePorts.port2], name });
    const controlMs = this.options.processTimeoutMs ?? DEFAULTS.processTimeoutMs;
    const proc = new AppProcess(pid, name, role, logonAs, worker, control.port1, { controlMs, sspiMs: lpcTimeoutMs + controlMs });
    proc.serve(this.servicesFor(proc));
    this.trace.attach(tracePorts.port1, { name, pid, threadId: worker.threadId });
    // Listening for Ready from the start: a worker's messages that nobody listens for are lost, and
    // the worker may be ready before the LSA has logged it on (a logon derives keys).
    const ready = watchBoot(worker, name, inspect === undefined ? DEFAULTS.bootTimeoutMs : (this.options.bootTimeoutMs ?? INSPECT_DEADLINE_MS), (url, wait) => {
      proc.inspectorUrl = url;
      this.options.onInspector?.(name, url, wait);
    });
    try {
      const [attached] = await Promise.all([this.lsa.attach({ pid, name, threadId: worker.threadId, logonAs }, lpc.lsaEnd), ready]);
      proc.logonId = attached.logonId;
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
  const inspect = inspectorFor(options, 'lsa');
  const launched = launchLsa(isolation, { config, generation, trace: trace.isEnabled, tap: trace.isTapping, ...(inspect === undefined ? {} : { inspect }) });
  const debugging = (options.inspect?.length ?? 0) > 0;
  // A restarted LSA loads a reloaded module past the versions the processes may have imported already.
  const noteVersion = (report: ReloadReport): void => {
    config.packageVersions = { ...config.packageVersions, [report.spec]: Math.max(report.version, config.packageVersions?.[report.spec] ?? 0) };
  };
  const lsa = new LsaProcess(
    launched,
    wrapControl<LsaControl>(launched.control),
    generation,
    isolation,
    debugging ? INSPECT_DEADLINE_MS : undefined,
    noteVersion,
  );
  trace.attach(launched.trace, { name: 'lsa', pid: LSA_PID, threadId: launched.host.threadId });
  // A domain controller's KDC reports each request on the boot channel once asked to (its first may come during the boot).
  const onRequest = options.kdc?.onRequest;
  const onNetlogon = options.netlogon?.onRequest;
  if (onRequest !== undefined || onNetlogon !== undefined)
    launched.host.on('message', (message: unknown) => {
      const m = message as Partial<LsaReport> | null;
      const record = m?.kind === 'kdc-request' ? decodeKdcRequestRecord(m.record) : undefined;
      if (record !== undefined) onRequest?.(record);
      const call = m?.kind === 'netlogon-request' ? decodeNetlogonRecord(m.record) : undefined;
      if (call !== undefined) onNetlogon?.(call);
    });
  void lsa.exited.then(() => {
    trace.workerExited(launched.trace);
    launched.control.close();
  });
  try {
    await watchBoot(launched.host, 'the LSA', bootStepTimeoutMs(options.bootTimeoutMs, config), (url, wait) => {
      lsa.inspectorUrl = url;
      options.onInspector?.('lsa', url, wait);
    });
  } catch (error) {
    await launched.host.terminate();
    throw new SspiEmuError('BOOT_FAILED', `the LSA did not start: ${describeError(error)}`, { cause: error });
  }
  return lsa;
}

function lsaConfig(options: MachineOptions): LsaConfig {
  if (options.onPackageFailure !== undefined && options.onPackageFailure !== 'fail' && options.onPackageFailure !== 'skip')
    throw new SspiEmuError('BAD_OPTION', `onPackageFailure is 'fail' or 'skip', not ${JSON.stringify(options.onPackageFailure)}`);
  const role = options.role ?? 'workstation';
  if (!MACHINE_ROLES.includes(role))
    throw new SspiEmuError('BAD_OPTION', `role must be ${MACHINE_ROLES.map((r) => JSON.stringify(r)).join(' or ')}, not ${JSON.stringify(role)}`);
  if (
    role !== DOMAIN_CONTROLLER &&
    (options.kdc !== undefined || options.services !== undefined || options.netlogon !== undefined || options.machineAccounts !== undefined)
  )
    throw new SspiEmuError(
      'BAD_OPTION',
      "kdc, services, netlogon and machineAccounts are a domain controller's: boot with role 'domain-controller' and a realm",
    );
  const dc = role === DOMAIN_CONTROLLER;
  if (dc && options.join !== undefined) throw new SspiEmuError('BAD_OPTION', "a domain controller joins no domain: it is one (join is a member's option)");
  const packageCallTimeoutMs = options.packageCallTimeoutMs ?? DEFAULTS.packageCallTimeoutMs;
  const member = options.join === undefined ? undefined : memberConfig(options.join, packageCallTimeoutMs);
  if (member !== undefined && options.computerName !== undefined && options.computerName.toUpperCase() !== member.computerName)
    throw new SspiEmuError(
      'BAD_OPTION',
      `computerName ${options.computerName} is not the machine account's name ${member.computerName}: a member's name is its account's`,
    );
  const computerName = member?.computerName ?? options.computerName ?? DEFAULTS.computerName;
  // A domain controller's domain is its realm's: EXAMPLE (NetBIOS) and example.test (DNS) for EXAMPLE.TEST; a member's the one it joined.
  const realmDomain = dc && typeof options.realm === 'string' ? options.realm : undefined;
  const domainName = member?.netlogon.domainName ?? options.domainName ?? realmDomain?.split('.')[0]?.toUpperCase() ?? computerName;
  const dnsDomainName = member?.netlogon.dnsDomainName ?? options.dnsDomainName ?? realmDomain?.toLowerCase() ?? DEFAULTS.dnsDomainName;
  // A member's own accounts are local ones, in its computer's name: the domain's are the DC's.
  const accounts = (options.accounts ?? DEMO_ACCOUNTS).map((a) =>
    typeof a === 'string' ? parseAccount(a, member === undefined ? domainName : computerName) : a,
  );
  const kdc = dc ? domainControllerConfig(options, accounts) : undefined;
  const netlogon = dc ? domainControllerNetlogon(options, { domainName, dnsDomainName, computerName }) : member?.netlogon;
  return {
    packages: options.packages ?? [...DEFAULT_PACKAGES],
    accounts,
    computerName,
    dnsComputerName: `${computerName.toLowerCase()}.${dnsDomainName}`,
    domainName,
    dnsDomainName,
    packageCallTimeoutMs,
    packageLoadTimeoutMs: positiveMs(options.packageLoadTimeoutMs, 'packageLoadTimeoutMs') ?? PACKAGE_LOAD_TIMEOUT_MS,
    packageSettings: Object.fromEntries(Object.entries(options.packageSettings ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    quota: quotaOf(options.processQuota),
    workPool: workPoolOf(options.lsaWorkPool),
    ...(kdc === undefined ? {} : { kdc }),
    ...(netlogon === undefined ? {} : { netlogon }),
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

/**
 * The options with every deadline the caller did not give set to INSPECT_DEADLINE_MS when a
 * process is inspected (a paused process is slow, not broken); the options as given otherwise.
 * The inspect entries are checked here.
 */
function withInspectDeadlines(options: MachineOptions): MachineOptions {
  if (options.inspect === undefined || options.inspect.length === 0) return options;
  const seen = new Set<string>();
  for (const entry of options.inspect) {
    if (typeof entry?.process !== 'string' || entry.process === '')
      throw new SspiEmuError('BAD_OPTION', 'inspect: each entry names a process (lsa, client, server, ...)');
    if (seen.has(entry.process)) throw new SspiEmuError('BAD_OPTION', `inspect: ${entry.process} is named twice`);
    seen.add(entry.process);
    if (entry.port !== undefined && (!Number.isSafeInteger(entry.port) || entry.port < 0 || entry.port > 65535))
      throw new SspiEmuError('BAD_OPTION', `inspect: the port of ${entry.process} must be a whole number from 0 to 65535, not ${String(entry.port)}`);
  }
  return {
    ...options,
    lpcTimeoutMs: options.lpcTimeoutMs ?? INSPECT_DEADLINE_MS,
    packageCallTimeoutMs: options.packageCallTimeoutMs ?? INSPECT_DEADLINE_MS,
    packageLoadTimeoutMs: options.packageLoadTimeoutMs ?? INSPECT_DEADLINE_MS,
    processTimeoutMs: options.processTimeoutMs ?? INSPECT_DEADLINE_MS,
    bootTimeoutMs: options.bootTimeoutMs ?? INSPECT_DEADLINE_MS,
  };
}

/** What a process's worker is told of its inspector, if the machine inspects it. */
function inspectorFor(options: MachineOptions, name: string): InspectorRequest | undefined {
  const entry = options.inspect?.find((e) => e.process === name);
  return entry === undefined ? undefined : { host: entry.host ?? '127.0.0.1', port: entry.port ?? 9229, wait: entry.wait === true };
}
