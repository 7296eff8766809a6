// The LSA process (lsass): loads the packages, keeps the account store, logon sessions, one
// handle table per process, and one LPC channel per process. A process that dies loses all its
// handles and contexts here (the packages are told through SpDeleteContext and
// SpFreeCredentialsHandle) and its logon session ends (LogonTerminated).

import { MessagePort } from 'node:worker_threads';
import {
  SECURITY_LOGON_TYPE,
  STATUS_INTERNAL_ERROR,
  STATUS_INVALID_PARAMETER,
  STATUS_NO_SUCH_PACKAGE,
  STATUS_SUCCESS,
  isSuccess,
  statusName,
  type LsaApCallPackageResult,
  type LUID,
  type PackageId,
  type Status,
} from '../headers/index.js';
import { FaultInjector, type FaultPlan } from '../faults/index.js';
import { CallPoints, callPackage, packageHost, statusOf, type PackageHost } from '../hosting/index.js';
import { SspiEmuError, type FramePort, type ProcessId, type LsaToProcessOps, type ProcessToLsaOps, RpcPeer, lpcCodec, type Tracer } from '../ipc/index.js';
import { AccountStore, type Account } from './accounts.js';
import type { LsaClientProcess } from './client-call.js';
import type { LsaConfig } from './config.js';
import { createDispatch, newCallTiming, type CallTiming, type DispatchContext } from './dispatch.js';
import { ContextExports } from './context-exports.js';
import { HandleTables, releaseContext } from './handle-table.js';
import { HeldInputs } from './held-inputs.js';
import { CallEpochs } from './call-epochs.js';
import { CallScheduler } from './scheduler.js';
import { ANONYMOUS_LOGON_LUID, LogonSessions } from './logon-sessions.js';
import { loadPackages, type LoadedPackage, type PackageLoadFailure, type PackageLoadProgress } from './package-loader.js';
import { PackageReloader, type ReloadReport } from './package-reload.js';
import type { LsaServices } from './function-table.js';
import { NestedHandles, releaseForProcess, type LocatorServices } from './package-locator.js';
import { LsaWorkPool, type WorkPoolStats } from './work-pool.js';
import { DEFAULT_LISTENER_OPTIONS, LpcListener, type LpcListenerStats } from './lpc-listener.js';
import { KdcHost, type KdcStatus } from './kdc-host.js';
import { NetlogonHost, type NetlogonServerRecord, type NetlogonStatus } from './netlogon-host.js';
import type { KdcRequestRecord } from '../packages/kerberos/kdc/index.js';

export interface AttachRequest {
  pid: number;
  name: string;
  threadId: number;
  /** The account the process runs as ("user" or "DOMAIN\\user"), or null for an anonymous process. */
  logonAs: string | null;
}

/**
 * How the machine hands the LSA a process's LPC channel: the LSA's end of a MessageChannel (the
 * LSA is a worker thread), or the one-time secret the process will present on the LSA's socket
 * (the LSA is its own OS process: lsa/lpc-listener.ts).
 */
export type LpcOffer = MessagePort | { secret: Uint8Array };

/** How long the LSA waits for a process it was told of to connect to its socket. */
const CONNECT_TIMEOUT_MS = 60_000;

export interface AttachResult {
  logonId: LUID;
}

export interface ReapReport {
  contexts: number;
  credentials: number;
  /** Handles packages held of other packages for this process and had not released (the LSA released them). */
  nested?: number;
}

export interface PackageReport {
  loaded: Array<{
    id: number;
    name: string;
    comment: string;
    fCapabilities: number;
    wVersion: number;
    wRPCID: number;
    cbMaxToken: number;
    module: string;
    /** Which load of its module this is: 1 at boot, one more per reload. */
    version: number;
  }>;
  failed: PackageLoadFailure[];
}

export interface LsaStats {
  processes: number;
  /** Accounts in the LSA's account store (its SAM): on a domain member, its local accounts only. */
  accounts: number;
  credentials: number;
  contexts: number;
  /** Contexts exported (ExportSecurityContext) and not yet imported. */
  exports: number;
  logonSessions: number;
  lsaHeapAllocations: number;
  /** Bytes the packages hold in LSA heap (AllocateLsaHeap, AllocatePrivateHeap). */
  lsaHeapBytes: number;
  /**
   * Input buffers of 1 KiB or more that the LSA handed to packages and that are still alive: after
   * a garbage collection (stats({ gc: true })), what package state keeps of its callers' buffers.
   */
  inputsHeld: { buffers: number; bytes: number };
  /** LPC messages, and the frames (postMessage calls) they went in, over every process's channel. */
  lpc: { sent: number; received: number; framesSent: number; framesReceived: number; codecMs: number };
  /** Where the LSA's time for calls went, added up since boot (lsa/dispatch.ts). */
  calls: CallTiming;
  /** Per attached process: its handles, its calls, and the LPC messages it sent that were not part of the protocol. */
  perProcess: Array<{
    pid: number;
    name: string;
    credentials: number;
    contexts: number;
    calls: number;
    /** Its calls running and waiting in the LSA now, and those refused because its queue was full. */
    running: number;
    queued: number;
    overQueue: number;
    refused: number;
  }>;
  /** Processes the LSA cut off because they posted far more than it queues (the last 100). */
  disconnected: Array<{ pid: number; name: string; why: string }>;
  /** The work pool: its size, its live threads, the tasks it ran (lsa/work-pool.ts). */
  workPool: WorkPoolStats;
  /** Handles packages hold of other packages through LocatePackageById (Negotiate's mechanisms' credentials and contexts). */
  nested: { credentials: number; contexts: number };
  /** An LSA in its own OS process: the connections its socket took and refused (lsa/lpc-listener.ts); null in a worker thread. */
  lpcListener: LpcListenerStats | null;
  heapUsed: number;
  /** Bytes in the LSA's ArrayBuffers (tokens, keys, buffers packages keep live there, outside heapUsed). */
  arrayBuffers: number;
}

/** LPC messages of one process handled per turn of the LSA's event loop. */
const MESSAGES_PER_TURN = 64;
/** A process is cut off when this many times its queue's bound of calls wait, unread, in its inbox... */
const INBOX_PER_QUEUED_CALL = 16;
/** ...or this many times its queue's bound of bytes. */
const INBOX_BYTES_PER_QUEUED_BYTE = 4;

export class Lsa {
  readonly handles: HandleTables;
  /** Contexts exported and waiting for their importers. */
  private readonly exports = new ContextExports();
  private readonly inputs = new HeldInputs();
  /** One codec for every process's LPC channel (encoding is synchronous; its buffer is reused). */
  private readonly lpcCodec = lpcCodec('lsa');
  private readonly scheduler: CallScheduler;
  readonly sessions = new LogonSessions();
  readonly accounts: AccountStore;
  private readonly processes = new Map<ProcessId, LsaClientProcess>();
  private readonly byName = new Map<string, LoadedPackage>();
  private readonly byId = new Map<number, LoadedPackage>();
  private packages: LoadedPackage[] = [];
  private failed: PackageLoadFailure[] = [];
  /** The next package id: ids are never given twice, reloads included. */
  private readonly ids = { next: 0 };
  /** The account each attached process runs as (a reloaded package is told of their logons). */
  private readonly logons = new Map<ProcessId, Account>();
  /** UnloadPackage and reloads (lsa/package-reload.ts). */
  private readonly reloader: PackageReloader;
  /** The calls running, by epoch: an unload waits for those that began before it (LPC calls, logons, reaps). */
  private readonly epochs = new CallEpochs();
  private readonly services: LsaServices;
  /** Handles one package holds of another (lsa/package-locator.ts). */
  private readonly nested = new NestedHandles();
  private readonly locator: LocatorServices;
  /** Where CreateThread's work routines run: the LSA's own threads, started by the first task. */
  readonly work: LsaWorkPool;
  private readonly dispatchContext: DispatchContext;
  private lpcTotals = { sent: 0, received: 0, framesSent: 0, framesReceived: 0, codecMs: 0 };
  /** Faults injected into this LSA (package entry points, its outgoing LPC, its call points). */
  private faults: FaultInjector | null = null;
  /** Reaps under way or done, so that the machine's detach and the channel's close share one. */
  private readonly reaps = new Map<ProcessId, Promise<ReapReport>>();
  /** Processes the LSA cut off for flooding it (their channel closed, their handles reaped). */
  private readonly disconnected: Array<{ pid: number; name: string; why: string }> = [];

  /** Every call that crosses in this LSA passes through here (trace, fault hooks). */
  readonly points: CallPoints;
  /** How this LSA calls its packages: traced, faults injected, with packageCallTimeoutMs. */
  readonly host: PackageHost;

  readonly config: LsaConfig;
  /** Where processes connect when this LSA runs as its own OS process; null in a worker thread. */
  private listener: LpcListener | null = null;
  /** A domain controller's KDC (lsa/kdc-host.ts); null on other machines. */
  kdc: KdcHost | null = null;
  /** Netlogon (lsa/netlogon-host.ts): a domain controller's or a domain member's; null on a machine in no domain. */
  netlogon: NetlogonHost | null = null;
  /** Processes the machine announced that have not been attached yet: their secrets, and their connections to come. */
  private readonly connecting = new Map<ProcessId, { secret: Uint8Array; connection: Promise<FramePort> }>();

  private constructor(config: LsaConfig, tracer: Tracer, generation: number) {
    this.config = config;
    this.points = new CallPoints(tracer);
    this.host = packageHost(this.points, (packageName, entry) => this.faults?.packageFault(packageName, entry), config.packageCallTimeoutMs);
    this.handles = new HandleTables(generation);
    const { concurrentCalls, runningCalls, queuedCalls, queuedBytes } = config.quota;
    this.scheduler = new CallScheduler({
      concurrent: concurrentCalls,
      perProcess: runningCalls,
      queuedPerProcess: queuedCalls,
      queuedBytesPerProcess: queuedBytes,
    });
    this.accounts = new AccountStore(config.accounts);
    this.work = new LsaWorkPool(config.workPool);
    this.locator = {
      packages: {
        byName: (name) => this.byName.get(name.toLowerCase()),
        byId: (id) => this.byId.get(id),
        version: (id, version) => {
          const entry = { packageId: id as PackageId, packageVersion: version };
          return this.current(entry) ?? this.reloader.leavingPackage(entry);
        },
      },
      host: this.host,
      nested: this.nested,
    };
    this.services = {
      sessions: this.sessions,
      accounts: this.accounts,
      points: this.points,
      processById: (pid) => this.processes.get(pid),
      scheduler: this.scheduler,
      heap: { allocations: 0, bytes: 0 },
      work: this.work,
      locator: this.locator,
      unloadPackage: (id, version) => this.reloader.unload(id, version),
      passThrough: (packageName, data) => this.passThrough(packageName, data),
    };
    this.dispatchContext = {
      handles: this.handles,
      points: this.points,
      host: this.host,
      packageByName: (name) => this.byName.get(name.toLowerCase()),
      packageById: (id) => this.byId.get(id),
      packageOf: (entry) => this.current(entry),
      leavingPackageOf: (entry) => this.reloader.leavingPackage(entry),
      allPackages: () => this.packages,
      packageNotFound: (name) => packageNotFound(name, this.packages, this.failed),
      inputs: this.inputs,
      scheduler: this.scheduler,
      quota: config.quota,
      timing: newCallTiming(),
      nested: this.nested,
      exports: this.exports,
      processAttached: (pid) => this.processes.has(pid as ProcessId),
      epochs: this.epochs,
    };
    this.reloader = new PackageReloader({
      config,
      services: this.services,
      host: this.host,
      points: this.points,
      handles: this.handles,
      exports: this.exports,
      sessions: this.sessions,
      packages: () => this.packages,
      install: (old, fresh, spec) => this.install(old, fresh, spec),
      newId: () => this.ids.next++ as PackageId,
      processes: () => [...this.processes.values()].map((process) => ({ process, account: this.logons.get(process.pid) ?? null })),
      processById: (pid) => this.processes.get(pid),
      epochs: this.epochs,
    });
  }

  /** The package version a handle entry names, if it is the one loaded now. */
  private current(entry: { packageId: PackageId; packageVersion: number }): LoadedPackage | undefined {
    const pkg = this.byId.get(entry.packageId);
    return pkg?.version === entry.packageVersion ? pkg : undefined;
  }

  /** Puts `fresh` where `old` was in the package list and the lookups, in one step. */
  private install(old: readonly LoadedPackage[], fresh: readonly LoadedPackage[], spec: string): void {
    const list = [...this.packages];
    for (const pkg of old) {
      this.byName.delete(pkg.name.toLowerCase());
      this.byId.delete(pkg.id);
    }
    for (const pkg of fresh) {
      const at = list.findIndex((p) => p.id === pkg.id);
      if (at >= 0) list[at] = pkg;
      else list.push(pkg);
      this.byName.set(pkg.name.toLowerCase(), pkg);
      this.byId.set(pkg.id, pkg);
    }
    this.packages = list.filter((p) => this.byId.get(p.id) === p);
    if (fresh.length > 0) this.failed = this.failed.filter((f) => f.spec !== spec && !f.spec.startsWith(`${spec}[`));
  }

  /**
   * Loads the module of a package again (by its name or its "Security Packages" entry) and puts
   * the new version in place of the old: lsa/package-reload.ts. Rejects, with the old version
   * still running, when the new one does not load.
   */
  reloadPackage(nameOrSpec: string): Promise<ReloadReport> {
    return this.reloader.reload(nameOrSpec);
  }

  /**
   * Boots an LSA: loads its packages (`progress` is told each step before it starts; see
   * package-loader.ts). With `lpcSocket` it takes app processes' LPC on that Unix socket (an LSA
   * in its own OS process).
   */
  static async boot(
    config: LsaConfig,
    tracer: Tracer,
    generation = 1,
    options: {
      lpcSocket?: string;
      progress?: PackageLoadProgress;
      kdcReport?: (record: KdcRequestRecord) => void;
      netlogonReport?: (record: NetlogonServerRecord) => void;
    } = {},
  ): Promise<Lsa> {
    const lsa = new Lsa(config, tracer, generation);
    if (options.lpcSocket !== undefined) lsa.listener = await LpcListener.listen(options.lpcSocket);
    // A domain controller's KDC listens before the packages load: it needs none of them, and a
    // port it cannot take fails the boot at once.
    if (config.kdc !== undefined) lsa.kdc = await KdcHost.start(config.kdc, config.accounts, lsa.work, lsa.points, options.kdcReport);
    const { loaded, failed } = await loadPackages(config, lsa.services, lsa.host, options.progress, lsa.ids);
    lsa.packages = loaded;
    lsa.failed = failed;
    lsa.reloader.booted(loaded);
    for (const pkg of loaded) {
      lsa.byName.set(pkg.name.toLowerCase(), pkg);
      lsa.byId.set(pkg.id, pkg);
    }
    for (const failure of failed) lsa.points.point('PackageLoadFailed', 'event', { detail: `${failure.spec}: ${failure.stage}: ${failure.reason}` });
    // Netlogon after the packages: a DC hands its members' logons to them.
    if (config.netlogon !== undefined)
      lsa.netlogon = await NetlogonHost.start(
        config.netlogon,
        lsa.points,
        (name, data, peer) => lsa.localPassThrough(name, data, peer),
        options.netlogonReport,
      );
    return lsa;
  }

  /**
   * CallPackagePassthrough's route (lsa/function-table.ts): a domain member's goes to its DC
   * through Netlogon; a DC's, or a machine's in no domain, to its own package.
   */
  private async passThrough(packageName: string, data: Uint8Array): Promise<LsaApCallPackageResult & { reason?: string; where: string }> {
    const netlogon = this.netlogon;
    if (netlogon !== null && netlogon.member) {
      const status = netlogon.status();
      const where = status.role === 'member' ? `the DC at ${status.channel.dc}` : 'the DC';
      return { ...(await netlogon.passThrough(packageName, data)), where };
    }
    return { ...(await this.localPassThrough(packageName, data, 'this LSA')), where: 'this LSA' };
  }

  /**
   * LsaCallAuthenticationPackage from a trusted caller: the machine, as a logon process holding
   * SeTcbPrivilege would (LsaRegisterLogonProcess; klist -li as an administrator): the package's
   * LsaApCallPackage, outside any client call (GetClientInfo finds none: the package answers as for
   * SYSTEM). What `machine.lsa.callAuthenticationPackage` reaches; app processes never can.
   */
  async callAuthenticationPackage(packageName: string, submit: Uint8Array): Promise<LsaApCallPackageResult & { reason?: string }> {
    const pkg = this.byName.get(String(packageName).toLowerCase());
    if (pkg === undefined) return { status: STATUS_NO_SUCH_PACKAGE, reason: `no package ${JSON.stringify(packageName)} is loaded` };
    if (!(submit instanceof Uint8Array)) return { status: STATUS_INVALID_PARAMETER, reason: 'the submit buffer is not bytes' };
    const data = Uint8Array.from(submit);
    const end = this.epochs.begin();
    try {
      const outcome = await callPackage(this.host, { package: pkg.name, entry: 'LsaApCallPackage', peer: 'machine' }, () =>
        pkg.table.CallPackage(null, data, 0, data.byteLength),
      );
      if (!outcome.ok) return { status: STATUS_INTERNAL_ERROR, reason: outcome.fault.message };
      const result = outcome.value as Partial<LsaApCallPackageResult> | null;
      const status = unsignedStatus(statusOf(result));
      const buffer = result?.ProtocolReturnBuffer;
      if (status === undefined || (buffer !== undefined && !(buffer instanceof Uint8Array)))
        return { status: STATUS_INTERNAL_ERROR, reason: `${pkg.name}: LsaApCallPackage answered something that is not a result` };
      if (!isSuccess(status)) return { status, reason: `${pkg.name}: LsaApCallPackage answered ${statusName(status)}` };
      const protocolStatus = typeof result?.ProtocolStatus === 'number' ? result.ProtocolStatus >>> 0 : STATUS_SUCCESS;
      return {
        status,
        ProtocolStatus: protocolStatus,
        ...(buffer === undefined ? {} : { ProtocolReturnBuffer: Uint8Array.from(buffer), ReturnBufferLength: buffer.length }),
      };
    } finally {
      end();
    }
  }

  /** Package `packageName`'s LsaApCallPackagePassthrough, called as the LSA calls any entry point (traced, its deadline, a throw contained). */
  async localPassThrough(packageName: string, data: Uint8Array, peer: string): Promise<LsaApCallPackageResult & { reason?: string }> {
    const pkg = this.byName.get(packageName.toLowerCase());
    if (pkg === undefined) return { status: STATUS_NO_SUCH_PACKAGE, reason: `no package ${JSON.stringify(packageName)} is loaded` };
    const end = this.epochs.begin();
    try {
      const outcome = await callPackage(this.host, { package: pkg.name, entry: 'LsaApCallPackagePassthrough', peer }, () =>
        pkg.table.CallPackagePassthrough(null, data, null, data.length),
      );
      if (!outcome.ok) return { status: STATUS_INTERNAL_ERROR, reason: outcome.fault.message };
      const result = outcome.value as Partial<LsaApCallPackageResult> | null;
      const status = unsignedStatus(statusOf(result));
      const buffer = result?.ProtocolReturnBuffer;
      if (status === undefined || (buffer !== undefined && !(buffer instanceof Uint8Array)))
        return { status: STATUS_INTERNAL_ERROR, reason: `${pkg.name}: LsaApCallPackagePassthrough answered something that is not a result` };
      if (!isSuccess(status)) return { status, reason: `${pkg.name}: LsaApCallPackagePassthrough answered ${statusName(status)}` };
      const protocolStatus = typeof result?.ProtocolStatus === 'number' ? result.ProtocolStatus >>> 0 : STATUS_SUCCESS;
      return {
        status: STATUS_SUCCESS,
        ProtocolStatus: protocolStatus,
        ...(buffer === undefined ? {} : { ProtocolReturnBuffer: buffer, ReturnBufferLength: buffer.length }),
      };
    } finally {
      end();
    }
  }

  /**
   * A new process's LPC channel: from now on every message on `port` is that process's. When the
   * process runs as an account, the LSA logs it on (an interactive logon session) and hands its
   * credentials to every package through SpAcceptCredentials, as Windows does at logon.
   */
  async attachProcess(request: AttachRequest, offer: LpcOffer): Promise<AttachResult> {
    const pid = request.pid as ProcessId;
    if (this.processes.has(pid)) throw new SspiEmuError('SPAWN_FAILED', `process ${pid} is already attached`);
    const port = offer instanceof MessagePort ? offer : await this.connection(pid, request.name, offer.secret);
    const account = request.logonAs === null ? undefined : this.accounts.find(request.logonAs);
    if (request.logonAs !== null && account === undefined) {
      port.close();
      throw new SspiEmuError('SPAWN_FAILED', `no account ${JSON.stringify(request.logonAs)} to run process ${request.name} as`);
    }
    let logonId = ANONYMOUS_LOGON_LUID;
    if (account !== undefined) {
      const session = this.sessions.create(SECURITY_LOGON_TYPE.Interactive, `${account.domain}\\${account.user}`);
      if (session === undefined) {
        port.close();
        throw new SspiEmuError('SPAWN_FAILED', 'logon session collision');
      }
      logonId = session.logonId;
      const primary = { LogonId: logonId, DownlevelName: account.user, DomainName: account.domain, Password: account.password, Flags: 1 };
      const end = this.epochs.begin();
      try {
        for (const pkg of this.packages) {
          const accept = pkg.table.AcceptCredentials;
          if (typeof accept !== 'function') continue;
          const detail = (): string => `${account.domain}\\${account.user} (${request.name})`;
          await callPackage(this.host, { package: pkg.name, entry: 'SpAcceptCredentials', detail }, () =>
            accept(SECURITY_LOGON_TYPE.Interactive, account.user, primary, null),
          );
        }
      } finally {
        end();
      }
    }
    if (account !== undefined) this.logons.set(pid, account);
    // The LSA's own calls into the process (client buffers, callbacks) give up with the package call that made them.
    // A process's messages are handled a slice per turn, so that one posting floods cannot keep the
    // LSA from the others' (the scheduler then shares the LSA's calls among them); one that posts
    // far more than the LSA queues is cut off.
    const lpc = new RpcPeer<LsaToProcessOps, ProcessToLsaOps>(port, null, {
      name: `lpc:${request.name}`,
      callTimeoutMs: this.config.packageCallTimeoutMs,
      maxMessagesPerTurn: MESSAGES_PER_TURN,
      maxInbox: this.config.quota.queuedCalls * INBOX_PER_QUEUED_CALL,
      maxInboxBytes: this.config.quota.queuedBytes * INBOX_BYTES_PER_QUEUED_BYTE,
      // As a socket's length prefix is checked (ipc/socket-port.ts): a MessagePort has none of its own.
      maxFrameBytes: DEFAULT_LISTENER_OPTIONS.maxFrameBytes,
      codec: this.lpcCodec,
    });
    const process: LsaClientProcess = {
      pid,
      name: request.name,
      threadId: request.threadId,
      logonId,
      lpc,
      terminated: false,
      callCount: 0,
      queue: this.scheduler.queue(request.name),
    };
    lpc.serve(createDispatch(this.dispatchContext, process));
    lpc.addTap((direction, message) => this.points.tracer.tap(lpc.name, direction, message));
    lpc.outgoingFilter = this.faults?.linkFilter() ?? null;
    this.processes.set(pid, process);
    lpc.onClose((reason) => {
      if (reason.code === 'FLOODED') {
        this.disconnected.push({ pid, name: request.name, why: reason.message });
        if (this.disconnected.length > 100) this.disconnected.shift();
        this.points.point('ProcessDisconnected', 'event', { peer: request.name, detail: reason.message });
      }
      void this.detachProcess(pid);
    });
    return { logonId };
  }

  /**
   * The machine is about to start (or reconnect) process `pid` with `secret`: from now on a
   * connection to this LSA's socket that presents it is that process's (lsa/lpc-listener.ts).
   */
  expectProcess(pidNumber: number, name: string, secret: Uint8Array): void {
    const pid = pidNumber as ProcessId;
    if (this.listener === null) throw new SspiEmuError('SPAWN_FAILED', `${name}: this LSA runs in a worker thread and takes no socket connections`);
    if (this.connecting.has(pid)) throw new SspiEmuError('SPAWN_FAILED', `process ${pid} is already expected`);
    const connection = this.listener.expect(secret, name, CONNECT_TIMEOUT_MS);
    // Attached or not, a connection that never came is the attach's to report, not an unhandled rejection.
    connection.catch(() => undefined);
    this.connecting.set(pid, { secret, connection });
  }

  /** The connection of a process that proves itself with `secret` on this LSA's socket (expected before). */
  private async connection(pid: ProcessId, name: string, secret: Uint8Array): Promise<FramePort> {
    const expected = this.connecting.get(pid);
    if (expected === undefined || Buffer.compare(Buffer.from(expected.secret), Buffer.from(secret)) !== 0)
      throw new SspiEmuError('SPAWN_FAILED', `${name}: the LSA was not told to expect this process on its socket`);
    try {
      return await expected.connection;
    } finally {
      this.connecting.delete(pid);
    }
  }

  /** Reaps a process that exited: its handles, contexts and logon session. Every call gets the one reap's report. */
  detachProcess(pidNumber: number): Promise<ReapReport> {
    const pid = pidNumber as ProcessId;
    const expected = this.connecting.get(pid);
    if (expected !== undefined) {
      this.connecting.delete(pid);
      this.listener?.cancel(expected.secret);
    }
    let reap = this.reaps.get(pid);
    if (reap === undefined) {
      const process = this.processes.get(pid);
      if (process === undefined) return Promise.resolve({ contexts: 0, credentials: 0 });
      // The reap's package calls count as calls: an unload waits for them.
      reap = this.reap(process).finally(this.epochs.begin());
      this.reaps.set(pid, reap);
      if (this.reaps.size > 1024) this.reaps.delete(this.reaps.keys().next().value as ProcessId);
    }
    return reap;
  }

  private async reap(process: LsaClientProcess): Promise<ReapReport> {
    const pid = process.pid;
    this.processes.delete(pid);
    this.logons.delete(pid);
    process.terminated = true;
    this.scheduler.drop(process.queue);
    this.lpcTotals.sent += process.lpc.sent;
    this.lpcTotals.received += process.lpc.received;
    this.lpcTotals.framesSent += process.lpc.framesSent;
    this.lpcTotals.framesReceived += process.lpc.framesReceived;
    this.lpcTotals.codecMs += process.lpc.codecMs;
    if (!process.lpc.closed) process.lpc.close();
    const entries = this.handles.removeProcess(pid);
    const report: ReapReport = { contexts: 0, credentials: 0 };
    const peer = process.name;
    // Its exports no one imported, and those meant for it, go with it: they hold package contexts too.
    const dropped = this.exports.dropProcess(pid);
    // A handle of a version being unloaded still reaches it: its unload waits for these calls.
    const packageOf = (entry: { packageId: PackageId; packageVersion: number }): LoadedPackage | undefined =>
      this.current(entry) ?? this.reloader.leavingPackage(entry);
    for (const pending of dropped) {
      const pkg = packageOf(pending);
      if (pkg !== undefined && releaseContext(pending))
        await callPackage(this.host, { package: pkg.name, entry: 'SpDeleteContext', peer }, () => pkg.table.DeleteContext(pending.packageHandle));
    }
    for (const entry of entries) {
      const pkg = packageOf(entry);
      if (pkg === undefined) continue;
      if (entry.kind === 'context') {
        report.contexts++;
        // A context another process imported from this one stays in the package for that process.
        if (releaseContext(entry))
          await callPackage(this.host, { package: pkg.name, entry: 'SpDeleteContext', peer }, () => pkg.table.DeleteContext(entry.packageHandle));
      } else {
        report.credentials++;
        await callPackage(this.host, { package: pkg.name, entry: 'SpFreeCredentialsHandle', peer }, () => pkg.table.FreeCredentialsHandle(entry.packageHandle));
      }
    }
    // What packages made through other packages for this process and did not release with their own
    // handles (those of a process that exported a context are no longer counted as its: the export
    // dispatch disowned them, for the package to release with the context wherever it lives on).
    const nested = await releaseForProcess(this.locator, pid, peer);
    if (nested > 0) report.nested = nested;
    if (process.logonId !== ANONYMOUS_LOGON_LUID) {
      for (const pkg of this.packages) {
        const terminated = pkg.table.LogonTerminated;
        if (typeof terminated === 'function')
          await callPackage(this.host, { package: pkg.name, entry: 'LsaApLogonTerminated', peer }, () => terminated(process.logonId));
      }
      this.sessions.delete(process.logonId);
    }
    const exports = dropped.length === 0 ? '' : `, ${dropped.length} exports no one imported`;
    const left = nested > 0 ? ` (and ${nested} nested handles their packages left behind)` : '';
    this.points.point('ProcessTerminated', 'event', {
      detail: `${process.name}: released ${report.contexts} contexts, ${report.credentials} credentials${exports}${left}`,
    });
    return report;
  }

  /** Applies a fault plan to this LSA (null clears it): its call points, its LPC, its packages. */
  injectFaults(plan: FaultPlan | null): void {
    this.faults = plan === null ? null : new FaultInjector(plan);
    this.points.hook = this.faults;
    const filter = this.faults?.linkFilter() ?? null;
    for (const p of this.processes.values()) p.lpc.outgoingFilter = filter;
  }

  faultsInjected(): Record<string, number> {
    return { ...(this.faults?.injected ?? {}) };
  }

  /** Netlogon's side of this machine: a DC's listener and counts, or a member's secure channel; null in no domain. */
  netlogonStatus(): NetlogonStatus | null {
    return this.netlogon?.status() ?? null;
  }

  /** The KDC's address, database and counts; null when this LSA is not a domain controller's. */
  kdcStatus(): KdcStatus | null {
    return this.kdc?.status() ?? null;
  }

  packageReport(): PackageReport {
    return {
      loaded: this.packages.map((p) => ({
        id: p.id,
        name: p.info.Name,
        comment: p.info.Comment,
        fCapabilities: p.info.fCapabilities,
        wVersion: p.info.wVersion,
        wRPCID: p.info.wRPCID,
        cbMaxToken: p.info.cbMaxToken,
        module: p.moduleUrl,
        version: p.version,
      })),
      failed: this.failed.map((f) => ({ ...f })),
    };
  }

  stats(): LsaStats {
    const memory = globalThis.process.memoryUsage();
    const totals = this.handles.count();
    let { sent, received, framesSent, framesReceived, codecMs } = this.lpcTotals;
    const perProcess: LsaStats['perProcess'] = [];
    for (const p of this.processes.values()) {
      sent += p.lpc.sent;
      received += p.lpc.received;
      framesSent += p.lpc.framesSent;
      framesReceived += p.lpc.framesReceived;
      codecMs += p.lpc.codecMs;
      perProcess.push({
        pid: p.pid,
        name: p.name,
        ...this.handles.count(p.pid),
        calls: p.callCount,
        running: p.queue.running,
        queued: p.queue.jobs.length,
        overQueue: p.queue.refused,
        refused: p.lpc.refused,
      });
    }
    return {
      processes: this.processes.size,
      accounts: this.accounts.size,
      credentials: totals.credentials,
      contexts: totals.contexts,
      exports: this.exports.count(),
      logonSessions: this.sessions.size,
      lsaHeapAllocations: this.services.heap.allocations,
      lsaHeapBytes: this.services.heap.bytes,
      inputsHeld: this.inputs.count(),
      lpc: { sent, received, framesSent, framesReceived, codecMs },
      calls: { ...this.dispatchContext.timing },
      perProcess,
      disconnected: [...this.disconnected],
      workPool: this.work.stats(),
      nested: this.nested.count(),
      lpcListener: this.listener?.stats() ?? null,
      heapUsed: memory.heapUsed,
      arrayBuffers: memory.arrayBuffers,
    };
  }
}

/**
 * The cause of SEC_E_SECPKG_NOT_FOUND: which packages are loaded, and which entries of the
 * "Security Packages" list failed to load (a package whose module failed has no name yet, so any
 * of them may be the one the caller meant).
 */
function packageNotFound(name: string, loaded: readonly LoadedPackage[], failed: readonly PackageLoadFailure[]): SspiEmuError {
  let message = `no package named ${JSON.stringify(name)} is loaded (loaded: ${loaded.map((p) => p.name).join(', ') || 'none'})`;
  if (failed.length > 0) message += `; failed to load: ${failed.map((f) => `${f.spec} at ${f.stage}: ${f.reason}`).join('; ')}`;
  return new SspiEmuError('PACKAGE_NOT_LOADED', message);
}

/** A status as the LSA passes it on (unsigned), or undefined when the package answered none. */
function unsignedStatus(status: number | undefined): Status | undefined {
  return status === undefined ? undefined : status >>> 0;
}
