// An app process (a client or server worker) as it runs: its LPC channel to the LSA with this
// process's side of the LSA's calls (client buffers, ClientCallback), the SSPI library on top of
// it, the user-mode package host, and the application module the machine asks it to run.

import { threadId, type MessagePort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { statusName } from '../headers/index.js';
import {
  type AppRole,
  type AppWorkerData,
  Connection,
  SspiEmuError,
  describeError,
  remoteError,
  decodeLsaCall,
  lpcCodec,
  type LsaToProcessOps,
  type ProcessToLsaOps,
  decodeMachineCall,
  decodePortReply,
  type AppArgs,
  type AppResult,
  type MachineToProcessOps,
  type ProcessToMachineOps,
  RpcPeer,
  type Handlers,
  Tracer,
  connectLpcSocket,
  type LpcEndpoint,
} from '../ipc/index.js';
import { FaultInjector } from '../faults/index.js';

export type { AppArgs, AppResult, AppStats } from '../ipc/index.js';
import { CallPoints, packageHost } from '../hosting/index.js';
import { ClientHeap, Secur32, UserModeHost } from '../sspi/index.js';

/** What an application module is given: its process's SSPI library and its ways to talk. */
export interface AppContext {
  readonly pid: number;
  readonly name: string;
  readonly role: AppRole;
  readonly sspi: Secur32;
  /** Starts monitoring a name; clients connect to it by that name. */
  listen<M>(name: string): Promise<Listener<M>>;
  /** Connects to a name a server monitors, waiting up to `waitMs` (default 10 s) for a server to monitor it. */
  connect<M>(name: string, waitMs?: number): Promise<Connection<M>>;
  /** A line for the trace (shown in the timeline as an application event). */
  log(line: string): void;
  /**
   * An application event under its own name, e.g. a socket accepted or a token on the wire ("TcpAccept",
   * "conn#3 from 127.0.0.1:5012"). `detail` may be a function, called only when the event is recorded
   * (a server tracing every request builds no string while nobody traces).
   */
  trace(call: string, detail: string | (() => string)): void;
  /** Marks the end of a phase ("handshake", "messages") in the trace, with this process's LPC message count. */
  markPhase(name: string): void;
}

export interface Listener<M> {
  readonly name: string;
  /** The next client connection; rejects when the listener is closed. */
  accept(): Promise<Connection<M>>;
  close(): Promise<void>;
}

/** An application module: the default client and server apps, or a user's own. */
export interface AppModule {
  main(ctx: AppContext, args: AppArgs): Promise<AppResult>;
}

/**
 * LPC calls the SSPI library keeps outstanding to the LSA; more wait in this process until one is
 * answered. An application with thousands of calls in flight sends them in frames the LSA can
 * take without making every other process wait behind them.
 */
const LPC_MAX_OUTSTANDING = 64;

/** This process's answers to the LSA's calls into it: its memory, and the callbacks its packages registered. */
export function processSideOfLpc(heap: ClientHeap, host: UserModeHost): Handlers<LsaToProcessOps> {
  return {
    AllocateClientBuffer: (body) => heap.allocate(decodeLsaCall.AllocateClientBuffer(body).length),
    FreeClientBuffer: (body) => ({ status: heap.free(decodeLsaCall.FreeClientBuffer(body).address) }),
    CopyToClientBuffer: (body) => {
      const { address, bytes } = decodeLsaCall.CopyToClientBuffer(body);
      return { status: heap.write(address, bytes) };
    },
    CopyFromClientBuffer: (body) => {
      const { address, length } = decodeLsaCall.CopyFromClientBuffer(body);
      return heap.read(address, length);
    },
    ClientCallback: (body) => {
      const { packageId, callbackId, argument1, argument2, input } = decodeLsaCall.ClientCallback(body);
      return host.runCallback(packageId, callbackId, argument1, argument2, input);
    },
  };
}

/** Wires an app process from its worker data and serves the machine's control calls; `defaultApp` runs when no module is named. */
export function startAppProcess(data: AppWorkerData, defaultApp: URL): void {
  const tracer = new Tracer(data.tracePort, data.name, data.pid, data.trace, data.tap);
  const points = new CallPoints(tracer);
  const heap = new ClientHeap();
  let faults: FaultInjector | null = null;
  const host = new UserModeHost(packageHost(points, (packageName, entry) => faults?.packageFault(packageName, entry), data.packageCallTimeoutMs));
  /** This process's LPC channel to the LSA; a new one replaces it when the machine restarts the LSA. */
  const connectLpc = (endpoint: LpcEndpoint): RpcPeer<ProcessToLsaOps, LsaToProcessOps> => {
    // An LSA in its own OS process is reached on its socket, with the secret that says who this is.
    const port = endpoint.kind === 'port' ? endpoint.port : connectLpcSocket(endpoint.path, endpoint.secret, `lpc:${data.name}`);
    const peer = new RpcPeer<ProcessToLsaOps, LsaToProcessOps>(port, processSideOfLpc(heap, host), {
      name: `lpc:${data.name}`,
      callTimeoutMs: data.lpcTimeoutMs,
      // The LSA answers every call, a package's entry point that never returns with its own deadline's
      // SEC_E_INTERNAL_ERROR: no answer at all is an LSA that stopped taking calls.
      timeoutHint:
        `the LSA is not answering: its thread is held (a package entry point that loops without yielding, ` +
        `or an LSA paused in a debugger), or it is gone`,
      maxOutstanding: LPC_MAX_OUTSTANDING,
      codec: lpcCodec('process'),
    });
    peer.addTap((direction, message) => tracer.tap(peer.name, direction, message));
    peer.outgoingFilter = faults?.linkFilter() ?? null;
    return peer;
  };
  let lpc = connectLpc(data.lpc);
  const sspi = new Secur32({ lpc, heap, host, points });
  const control = new RpcPeer<ProcessToMachineOps, MachineToProcessOps>(data.controlPort, null, { name: `control:${data.name}` });
  /** A call to the machine; its coded refusals (NOT_LISTENING, ...) reach the application as they were thrown. */
  const machine = async <K extends keyof ProcessToMachineOps>(op: K, body: ProcessToMachineOps[K]['request']): Promise<ProcessToMachineOps[K]['reply']> => {
    try {
      return await control.call(op, body);
    } catch (error) {
      throw remoteError(error);
    }
  };
  const connectionTotals = { sent: 0, received: 0 };
  let nextConnection = 1;

  function track<M>(port: MessagePort, peer: string): Connection<M> {
    return new Connection<M>(port, `app:${data.name}->${peer}#${nextConnection++}`, tracer, connectionTotals);
  }

  const ctx: AppContext = {
    pid: data.pid,
    name: data.name,
    role: data.role,
    sspi,
    async listen<M>(name: string): Promise<Listener<M>> {
      await machine('Listen', { name });
      points.point('Listen', 'event', { detail: name });
      let closed = false;
      return {
        name,
        async accept() {
          if (closed) throw new SspiEmuError('NOT_LISTENING', `${name}: the listener is closed`);
          const port = decodePortReply(await machine('Accept', { name }));
          points.point('Accept', 'event', { detail: name });
          return track<M>(port, name);
        },
        async close() {
          closed = true;
          await machine('Unlisten', { name });
        },
      };
    },
    async connect<M>(name: string, waitMs?: number): Promise<Connection<M>> {
      const port = decodePortReply(await machine('Connect', waitMs === undefined ? { name } : { name, waitMs }));
      points.point('Connect', 'event', { detail: name });
      return track<M>(port, name);
    },
    log(line: string) {
      points.point('AppLog', 'event', { detail: line });
    },
    trace(call: string, detail: string | (() => string)) {
      if (!points.active) return;
      points.point(call, 'event', { detail: typeof detail === 'function' ? detail() : detail });
    },
    markPhase(name: string) {
      // Phase marks are recorded even with tracing off: they are how runs count LPC per phase.
      const enabled = tracer.enabled;
      tracer.enabled = tracer.hasPort;
      tracer.emit('Phase', 'event', { detail: name, lpc: lpc.sent + lpc.received });
      tracer.enabled = enabled;
    },
  };

  control.serve({
    async RunApp(body) {
      const { module, args } = decodeMachineCall.RunApp(body);
      const url = module === null ? defaultApp : module.startsWith('file:') ? new URL(module) : pathToFileURL(module);
      let app: Partial<AppModule>;
      try {
        app = (await import(url.href)) as Partial<AppModule>;
      } catch (error) {
        throw new SspiEmuError('APP_FAILED', `cannot import the application ${url.href}: ${describeError(error)}`, { cause: error });
      }
      if (typeof app.main !== 'function') throw new SspiEmuError('APP_FAILED', `${url.href} does not export main(ctx, args)`);
      points.point('AppStart', 'event', { detail: url.pathname.split('/').slice(-2).join('/') });
      const result = await app.main(ctx, args);
      points.point('AppExit', 'event', { status: statusName(result.status), ...(result.detail === undefined ? {} : { detail: result.detail }) });
      return result;
    },
    GetStats() {
      return {
        pid: data.pid,
        name: data.name,
        threadId,
        lpc: { sent: lpc.sent, received: lpc.received },
        connections: { ...connectionTotals },
        handles: sspi.handleCounts(),
        clientHeapAllocations: heap.allocations,
        userMode: host.stats(),
      };
    },
    InjectFaults(body) {
      const { plan } = decodeMachineCall.InjectFaults(body);
      const before = { ...(faults?.injected ?? {}) };
      faults = plan === null ? null : new FaultInjector(plan);
      points.hook = faults;
      lpc.outgoingFilter = faults?.linkFilter() ?? null;
      return { injected: before };
    },
    ReconnectLpc(body) {
      const old = lpc;
      lpc = connectLpc(decodeMachineCall.ReconnectLpc(body).lpc);
      sspi.reconnect(lpc);
      if (!old.closed) old.close();
      return {};
    },
    async LpcCall(request) {
      const { op, body } = decodeMachineCall.LpcCall(request);
      return { reply: await (lpc.call as (op: string, body: object) => Promise<unknown>)(op, body) };
    },
    async Sspi(body) {
      const { method, args } = decodeMachineCall.Sspi(body);
      const fn = sspi[method] as (...a: unknown[]) => Promise<unknown>;
      return { result: await fn.apply(sspi, args) };
    },
  });
}
