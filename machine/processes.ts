// The processes of the machine as the main thread sees them: the LSA worker, served over comlink
// (the machine trusts the LSA: it runs the machine's own code and the packages it was told to
// load), and app processes, served over a typed control channel (ipc/process-control.ts) whose
// every reply is decoded, because an app process runs code nobody vetted.
//
// Every call on a process races its death (PEER_GONE at once when its worker exits) and, but for
// runApp, has a deadline: a process that does not answer in time is marked unresponsive and the
// call fails with TIMEOUT, so that no machine call waits forever on a deaf process.

import type { EventLoopUtilization } from 'node:perf_hooks';
import { MessagePort, type TransferListItem, type Worker } from 'node:worker_threads';
import {
  type AppRole,
  guard,
  transfer,
  type Remote,
  TransportError,
  describeError,
  remoteError,
  type ProcessToLsaOps,
  decodeAppResult,
  decodeAppStats,
  decodeInjected,
  decodeSspiResult,
  SSPI_METHODS,
  type SspiMethod,
  type MachineToProcessOps,
  type ProcessToMachineOps,
  RpcPeer,
  type Handlers,
} from '../ipc/index.js';
import type { LsaApCallPackageResult } from '../headers/index.js';
import type { FaultPlan } from '../faults/index.js';
import type { KdcStatus, NetlogonStatus, LpcOffer, LsaControl, LsaStats, PackageReport, ReapReport, ReloadReport } from '../lsa/index.js';
import type { LaunchedLsa, LpcLink, LsaIsolation } from './lsa-launch.js';
import type { RemoteSecur32 } from '../sspi/index.js';
import type { AppArgs, AppResult, AppStats } from '../process/index.js';

export const LSA_PID = 500;

/**
 * What runs a process: a worker thread (node:worker_threads' Worker is one), or, for an LSA in its
 * own OS process, the child process (machine/lsa-launch.ts). 'message' carries its boot messages.
 */
export interface ProcessHost {
  readonly threadId: number;
  /** Ends it as a crash would. */
  terminate(): Promise<unknown>;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'exit', listener: (code: number) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** A process of the machine as the main thread sees it. */
abstract class ProcessHandle<Host extends ProcessHost = ProcessHost> {
  /** Rejects (with PEER_GONE) when the worker exits; every control call races it. */
  readonly death: Promise<never>;
  /** Resolves with the exit code when the worker exits. */
  readonly exited: Promise<number>;
  private exitCode: number | undefined;
  /** An uncaught error the worker died of, if any. */
  crashError: Error | undefined;
  /** Where its inspector listens (ws://...), when the machine was asked to inspect it (MachineOptions.inspect). */
  inspectorUrl: string | undefined;

  readonly pid: number;
  readonly name: string;
  /** Its worker thread, or the LSA's OS process. */
  readonly host: Host;

  constructor(pid: number, name: string, host: Host) {
    this.pid = pid;
    this.name = name;
    this.host = host;
    this.exited = new Promise<number>((resolve) => {
      host.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      });
    });
    host.on('error', (error) => {
      this.crashError = error;
    });
    this.death = this.exited.then((code) => {
      throw new TransportError('PEER_GONE', `${name} (pid ${pid}) exited with code ${code}${this.crashError ? ': ' + describeError(this.crashError) : ''}`);
    });
    this.death.catch(() => undefined);
  }

  get threadId(): number {
    return this.host.threadId;
  }

  get alive(): boolean {
    return this.exitCode === undefined && !this.abandoned;
  }

  /** Set when the machine gave up on a worker that would not terminate (a thread stuck in a system call). */
  private abandoned = false;

  /**
   * The machine gave up on this worker (it would not terminate: a thread stuck in a system call):
   * it counts as dead from now on; the thread exits when its call returns.
   */
  abandon(): void {
    this.abandoned = true;
  }
}

/**
 * How long the machine waits for the LSA to answer a control call. Generous (attaching a process
 * runs SpAcceptCredentials of every package, a stats call with gc walks the whole heap), but not
 * forever: an LSA frozen by a package that never yields is reported, not waited on.
 */
const LSA_CONTROL_TIMEOUT_MS = 120_000;

export class LsaProcess extends ProcessHandle {
  private readonly control: Remote<LsaControl>;
  /** Which LSA of this machine this is: 1 at boot, one more at each restart. */
  readonly generation: number;
  /** A worker thread of the machine's OS process, or its own OS process. */
  readonly isolation: LsaIsolation;
  /** The OS process the LSA runs in (the machine's own in thread mode). */
  readonly osPid: number;
  /** Where app processes connect when the LSA is its own OS process (a Unix socket in a 0700 directory); null in thread mode. */
  readonly lpcSocket: string | null;
  private readonly makeLink: () => LpcLink;
  /** How long a control call may wait for the LSA's answer. */
  private readonly controlTimeoutMs: number;
  private readonly onReload: ((report: ReloadReport) => void) | undefined;

  constructor(
    launched: Pick<LaunchedLsa, 'host' | 'link' | 'osPid' | 'lpcSocket'>,
    control: Remote<LsaControl>,
    /** Which LSA of this machine this is: 1 at boot, one more at each restart. */
    generation: number,
    isolation: LsaIsolation,
    /** Longer than the default for a machine being debugged (a paused LSA is slow, not deaf). */
    controlTimeoutMs: number = LSA_CONTROL_TIMEOUT_MS,
    /** Told of each reload that loaded (the machine boots a restarted LSA past its versions). */
    onReload?: (report: ReloadReport) => void,
  ) {
    super(LSA_PID, 'lsa', launched.host);
    this.onReload = onReload;
    this.control = control;
    this.generation = generation;
    this.isolation = isolation;
    this.osPid = launched.osPid;
    this.lpcSocket = launched.lpcSocket;
    this.makeLink = launched.link;
    this.controlTimeoutMs = Math.max(LSA_CONTROL_TIMEOUT_MS, controlTimeoutMs);
  }

  /** A new LPC channel to this LSA for one process: the LSA's end and the process's. */
  link(): LpcLink {
    return this.makeLink();
  }

  /** The LSA thread's event-loop utilization since it started (read at once from a worker, asked of an OS process). */
  async eventLoopUtilization(): Promise<EventLoopUtilization> {
    const worker = this.host as Partial<Worker>;
    if (worker.performance !== undefined) return worker.performance.eventLoopUtilization();
    return this.ask('eventLoopUtilization', this.control.eventLoopUtilization());
  }

  packages(): Promise<PackageReport> {
    return this.ask('packages', this.control.packages());
  }

  /**
   * Loads the module of a package again, by the package's name or its "Security Packages" entry,
   * and puts the new version in place of the old without a reboot (the LSA's UnloadPackage on the
   * old version): see the README's "Reloading without a reboot". Rejects with code PACKAGE_LOAD_FAILED,
   * the old version still running, when the new one does not load; PACKAGE_NOT_LOADED for a name
   * the LSA does not know.
   */
  async reloadPackage(nameOrSpec: string): Promise<ReloadReport> {
    const report = await this.ask('reloadPackage', this.control.reloadPackage(nameOrSpec));
    this.onReload?.(report);
    return report;
  }

  /** The LSA's statistics; with `gc`, after a full garbage collection (for memory figures). */
  stats(options?: { gc?: boolean }): Promise<LsaStats> {
    return this.ask('stats', this.control.stats(options));
  }

  /** Applies a fault plan to the LSA (null clears it); returns the faults injected under the old plan. */
  injectFaults(plan: FaultPlan | null): Promise<Record<string, number>> {
    return this.ask('injectFaults', this.control.injectFaults(plan));
  }

  logonSessionBytes(count: number): Promise<number> {
    return this.ask('logonSessionBytes', this.control.logonSessionBytes(count));
  }

  /** A domain controller's KDC: where it listens, how many keys are made, its counts; null on other machines. */
  kdc(): Promise<KdcStatus | null> {
    return this.ask('kdc', this.control.kdc());
  }

  /** An MIT keytab (0x0502) of the domain controller's services' keys, for MIT acceptors (ktpass's job on Windows). */
  exportKeytab(): Promise<Uint8Array> {
    return this.ask('exportKeytab', this.control.exportKeytab());
  }

  /**
   * Netlogon, like `nltest /sc_query`: a domain controller's listener, machine accounts and counts;
   * a member's secure channel (up or down, its last error, its logons); null in no domain.
   */
  netlogon(): Promise<NetlogonStatus | null> {
    return this.ask('netlogon', this.control.netlogon());
  }

  /** A member makes its secure channel to its DC now if it has none (`nltest /sc_verify`); ok, or the status and why not. */
  netlogonVerify(): Promise<{ ok: true } | { ok: false; status: string; reason: string }> {
    return this.ask('netlogonVerify', this.control.netlogonVerify());
  }

  /**
   * LsaCallAuthenticationPackage as a trusted caller (holding SeTcbPrivilege, as an administrator's
   * `klist -li` is): the package's LsaApCallPackage, which may name any logon session. An app
   * process's calls are untrusted (its Secur32's lsaCallAuthenticationPackage). `reason` explains a
   * failed call; ProtocolStatus and ProtocolReturnBuffer are the package's answer.
   */
  callAuthenticationPackage(packageName: string, submit: Uint8Array): Promise<LsaApCallPackageResult & { reason?: string }> {
    return this.ask('callAuthenticationPackage', this.control.callAuthenticationPackage(packageName, submit));
  }

  /**
   * Before a process is given its end of `link`: an LSA in its own OS process learns the secret
   * the process will present (it refuses a connection with a secret it was not told of).
   */
  async expect(pid: number, name: string, link: LpcLink): Promise<void> {
    if (link.lsaEnd instanceof MessagePort) return;
    await this.ask('expectProcess', this.control.expectProcess(pid, name, link.lsaEnd.secret));
  }

  /** Tells the LSA of a process and hands it the LSA's end of the process's LPC channel; resolves once the process is logged on. */
  attach(request: Parameters<LsaControl['attachProcess']>[0], lsaEnd: LpcOffer): Promise<{ logonId: bigint }> {
    const offer = lsaEnd instanceof MessagePort ? transfer(lsaEnd, [lsaEnd]) : lsaEnd;
    return this.ask('attachProcess', this.control.attachProcess(request, offer));
  }

  detach(pid: number): Promise<ReapReport> {
    return this.ask('detachProcess', this.control.detachProcess(pid));
  }

  /** A control call raced against the LSA's death and its deadline. */
  private async ask<T>(what: string, call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TransportError('TIMEOUT', `the LSA (pid ${this.pid}) is unresponsive: it did not answer ${what} within ${this.controlTimeoutMs} ms`)),
        this.controlTimeoutMs,
      );
      timer.unref();
    });
    try {
      return await Promise.race([call, this.death, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

const CONTROL_MESSAGES_PER_TURN = 64;
const CONTROL_MAX_INBOX = 4096;
const CONTROL_MAX_INBOX_BYTES = 64 * 1024 * 1024;

export interface AppProcessTimeouts {
  /** Deadline of a control call (stats, fault plans, a new LPC channel). */
  controlMs: number;
  /** Deadline of an SSPI call made through the process (its own LPC calls have their limit too). */
  sspiMs: number;
}

export class AppProcess extends ProcessHandle<Worker> {
  /**
   * The process's SSPI library, called from the main thread: each call runs in the process's
   * worker (its Secur32, its LPC channel) and fails with PEER_GONE if the process dies.
   */
  readonly sspi: RemoteSecur32;
  /** Set when the process missed a deadline of the machine's; cleared when it answers again. */
  unresponsive = false;
  /** Why the machine cut the process off and killed it (it flooded its control channel), if it did. */
  cutOff: string | undefined;
  private readonly control: RpcPeer<MachineToProcessOps, ProcessToMachineOps>;

  readonly role: AppRole;
  readonly logonAs: string | null;
  /** The LUID of the logon session the LSA made for it (ANONYMOUS_LOGON_LUID, 0x3e6, when it runs as no account); a new one after restartLsa. */
  logonId = 0n;
  private readonly timeouts: AppProcessTimeouts;

  constructor(pid: number, name: string, role: AppRole, logonAs: string | null, worker: Worker, controlPort: MessagePort, timeouts: AppProcessTimeouts) {
    super(pid, name, worker);
    this.role = role;
    this.logonAs = logonAs;
    this.timeouts = timeouts;
    // The process's messages are handled a slice per turn, and a process that posts far more than
    // the machine answers is cut off and killed: it cannot keep the machine's thread to itself.
    this.control = new RpcPeer<MachineToProcessOps, ProcessToMachineOps>(controlPort, null, {
      name: `control:${name}`,
      maxMessagesPerTurn: CONTROL_MESSAGES_PER_TURN,
      maxInbox: CONTROL_MAX_INBOX,
      maxInboxBytes: CONTROL_MAX_INBOX_BYTES,
    });
    this.control.onClose((reason) => {
      if (reason.code !== 'FLOODED') return;
      this.cutOff = reason.message;
      void worker.terminate();
    });
    const sspi: Partial<Record<SspiMethod, (...args: unknown[]) => Promise<unknown>>> = {};
    for (const method of SSPI_METHODS) sspi[method] = (...args: unknown[]) => this.sspiCall(method, args);
    this.sspi = sspi as unknown as RemoteSecur32;
  }

  /** The process's worker thread. */
  get worker(): Worker {
    return this.host;
  }

  /** The worker's event-loop utilization since it started. */
  async eventLoopUtilization(): Promise<EventLoopUtilization> {
    return this.host.performance.eventLoopUtilization();
  }

  /** Serves the process's requests to the machine (listen, accept, connect), bound to this process. */
  serve(handlers: Handlers<ProcessToMachineOps>): void {
    this.control.serve(handlers);
  }

  /** Messages on the control channel that were not part of its protocol (a process posting garbage). */
  get refusedControlMessages(): number {
    return this.control.refused;
  }

  /**
   * Runs an application module in this process (null: the process's default app). MessagePorts
   * among the top-level `args` are transferred to the process. No deadline: an app runs as long
   * as it likes; the call fails when the process dies.
   */
  async runApp(module: string | null, args: AppArgs): Promise<AppResult> {
    const ports: TransferListItem[] = Object.values(args).filter((v): v is MessagePort => v instanceof MessagePort);
    return this.decoded('RunApp', decodeAppResult, await this.ask('RunApp', { module, args }, ports, 0));
  }

  /** The process's statistics as it reports them; who it is comes from the machine, not from the reply. */
  async stats(): Promise<AppStats> {
    const reported = this.decoded('GetStats', decodeAppStats, await this.ask('GetStats', {}));
    return { ...reported, pid: this.pid, name: this.name, threadId: this.threadId };
  }

  /** Applies a fault plan to this process (null clears it); returns the faults injected under the old plan. */
  async injectFaults(plan: FaultPlan | null): Promise<Record<string, number>> {
    return this.decoded('InjectFaults', decodeInjected, await this.ask('InjectFaults', { plan }));
  }

  /** Hands the process its end of a new LPC channel (after restartLsa). */
  async reconnectLpc(link: LpcLink): Promise<void> {
    await this.ask('ReconnectLpc', { lpc: link.processEnd }, link.transfer);
  }

  /** Sends one raw LPC call as this process (a rogue process presenting made-up or stolen values). */
  async lpcCall(op: keyof ProcessToLsaOps, body: object): Promise<unknown> {
    const reply = await this.ask('LpcCall', { op, body }, undefined, this.timeouts.sspiMs);
    return typeof reply === 'object' && reply !== null ? (reply as { reply?: unknown }).reply : undefined;
  }

  private async sspiCall(method: SspiMethod, args: unknown[]): Promise<unknown> {
    return this.decoded(method, decodeSspiResult, await this.ask('Sspi', { method, args }, undefined, this.timeouts.sspiMs));
  }

  /** Resolves when the worker has exited, or after `ms`. */
  private async exitedWithin(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  /** A reply through its decoder; a malformed one is this process's fault, and says so. */
  private decoded<T>(op: string, decode: (reply: unknown) => T, reply: unknown): T {
    try {
      return decode(reply);
    } catch (error) {
      throw new TransportError(
        'BAD_MESSAGE',
        `${this.name} (pid ${this.pid}) answered ${op} with a malformed reply: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  /** One control call: raced against death, with a deadline, its failure rethrown as the process threw it. */
  private async ask<K extends keyof MachineToProcessOps>(
    op: K,
    body: MachineToProcessOps[K]['request'],
    transferList?: TransferListItem[],
    timeoutMs = this.timeouts.controlMs,
  ): Promise<unknown> {
    let reply: unknown;
    try {
      reply = await guard(this.control.call(op, body, transferList, timeoutMs), this.death);
    } catch (error) {
      // The channel closes a moment before the worker's exit is reported: report the exit (its
      // code says why), unless the process closed its end itself and lives on.
      if (error instanceof TransportError && error.code === 'PEER_GONE' && this.alive) {
        await this.exitedWithin(this.timeouts.controlMs);
        if (this.alive) {
          this.unresponsive = true;
          throw new TransportError('PEER_GONE', `${this.name} (pid ${this.pid}) closed its control channel: it cannot be reached`, { cause: error });
        }
      }
      if (!this.alive) return this.death;
      if (error instanceof TransportError && error.code === 'TIMEOUT') {
        this.unresponsive = true;
        throw new TransportError('TIMEOUT', `${this.name} (pid ${this.pid}) is unresponsive: it did not answer ${op} within ${timeoutMs} ms`, { cause: error });
      }
      throw remoteError(error);
    }
    this.unresponsive = false;
    return reply;
  }
}
