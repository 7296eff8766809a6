// The in-process baseline: the same package's functions called directly in one thread, with no
// IPC at all. The package gets the real LSA function table (createLsaFunctionTable) over in-thread
// services, and its user-mode half is initialized by the real UserModeHost; only the workers and
// the messages between them are gone. What is left is the package's own cost plus the JavaScript
// floor of the three roles.

import { performance } from 'node:perf_hooks';
import {
  SECPKG_INTERFACE_VERSION,
  SECPKG_STATE,
  type PackageId,
  type SecpkgFunctionTable,
  type SecPkgInfo,
  type SpContextResult,
  type SecurityPackageModule,
  ISC_REQ,
  ASC_REQ,
  SECBUFFER,
  SECPKG_CRED,
  type SecBuffer,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  SECPKG_ATTR,
  STATUS_NOT_IMPLEMENTED,
  isSuccess,
  statusName,
  type Awaitable,
} from '../headers/index.js';
import { asProcessId, type LsaToProcessOps, type ProcessToLsaOps, type RpcPeer, Tracer } from '../ipc/index.js';
import { CallPoints, packageHost } from '../hosting/index.js';
import {
  AccountStore,
  type Account,
  runAsClientCall,
  type LsaClientProcess,
  createLsaFunctionTable,
  LogonSessions,
  resolvePackageSpec,
  ProcessQueue,
  LsaWorkPool,
  asyncEntries,
  NestedHandles,
  packagesAlongside,
} from '../lsa/index.js';
import { packAuthIdentity, ClientHeap, UserModeHost } from '../sspi/index.js';
import { processSideOfLpc } from '../process/index.js';
import { asyncRate } from './stats.js';

/** A user-mode context as the host hands it back from SpInitUserModeContext. */
type MappedUserContext = NonNullable<Awaited<ReturnType<UserModeHost['initContext']>>['context']>;

export interface InProcessOptions {
  /** The package's entry in the configuration ("example", "ntlm", "null" or a module path). */
  spec: string;
  account: Account;
  durationMs: number;
  settings?: Record<string, unknown>;
  /** Packages loaded beside it, which it reaches through the LSA (Negotiate's mechanisms: ["ntlm"]). */
  alongside?: readonly string[];
}

export interface InProcessHarness {
  /** One full handshake: both sides' legs, both user-mode contexts, both deletes (a promise only when a call answered with one). */
  handshake(): Awaitable<void>;
  /** One handshake whose user-mode contexts are kept (client's, then server's) until `close`. */
  pair(): Promise<{ client: MappedUserContext; server: MappedUserContext; close(): Promise<void> }>;
  /** The sizes of the tokens of each leg, as the last handshake sent them. */
  readonly legSizes: number[];
  /** The package's tables, for the message benchmark's direct calls. */
  readonly table: SecpkgFunctionTable;
}

/** One package of the harness's LSA. */
interface HarnessPackage {
  id: PackageId;
  version: number;
  name: string;
  info: SecPkgInfo;
  table: SecpkgFunctionTable;
  moduleUrl: string;
  awaitingEntries: Set<string>;
}

export async function inProcessHarness(options: InProcessOptions): Promise<InProcessHarness> {
  const tracer = new Tracer(null, 'bench', 0, false);
  const heap = new ClientHeap();
  const points = new CallPoints(tracer);
  const packageCalls = packageHost(points, () => undefined, 0);
  const host = new UserModeHost(packageCalls);
  const sessions = new LogonSessions();
  const accounts = new AccountStore([options.account]);
  const handlers = processSideOfLpc(heap, host);
  // The LSA's calls into "the process" are direct function calls here.
  const lpc = {
    call: (op: keyof LsaToProcessOps, body: never) => Promise.resolve((handlers[op] as (b: never) => unknown)(body)),
  } as unknown as RpcPeer<LsaToProcessOps, ProcessToLsaOps>;
  const process: LsaClientProcess = {
    pid: asProcessId(1000),
    name: 'bench',
    threadId: 0,
    logonId: 0x3e6n,
    lpc,
    terminated: false,
    callCount: 0,
    queue: new ProcessQueue('bench'),
  };
  const loaded: HarnessPackage[] = [];
  const services = {
    sessions,
    accounts,
    points,
    processById: () => process,
    heap: { allocations: 0, bytes: 0 },
    scheduler: { whileWaiting: <T>(_: unknown, wait: () => Promise<T>) => wait() },
    // One thread: the work routines run inline.
    work: new LsaWorkPool({ threads: 0 }),
    // How a package reaches the others, as in the LSA (LookupPackage, LocatePackageById).
    locator: {
      packages: {
        byName: (n: string) => loaded.find((p) => p.name.toLowerCase() === n.toLowerCase()),
        byId: (i: number) => loaded.find((p) => p.id === i),
        // Nothing is reloaded here: version 1 of each.
        version: (i: number, v: number) => (v === 1 ? loaded.find((p) => p.id === i) : undefined),
      },
      host: packageCalls,
      nested: new NestedHandles(),
    },
    // No LSA here to unload a package from.
    unloadPackage: () => STATUS_NOT_IMPLEMENTED,
  };

  for (const spec of [options.spec, ...(options.alongside ?? packagesAlongside(options.spec))]) {
    // A query string gives this thread its own instance of the module, apart from any other.
    const moduleUrl = `${resolvePackageSpec(spec).href}?in-process=${Date.now()}`;
    const module = (await import(moduleUrl)) as SecurityPackageModule;
    const id = loaded.length as PackageId;
    const lsaInit = await module.SpLsaModeInitialize(SECPKG_INTERFACE_VERSION);
    const packageTable = lsaInit.ppTables[0]!;
    const initialized = await packageTable.Initialize(
      id,
      {
        Version: SECPKG_INTERFACE_VERSION,
        MachineState: SECPKG_STATE.STANDALONE,
        SetupMode: 0,
        DomainName: options.account.domain,
        DnsDomainName: 'sspi-emu.local',
        ComputerName: options.account.domain,
        DnsComputerName: 'sspi-emu.sspi-emu.local',
        PackageSettings: spec === options.spec ? (options.settings ?? {}) : {},
      },
      createLsaFunctionTable(id, services),
    );
    if (!isSuccess(initialized)) throw new Error(`${spec}: SpInitialize returned ${statusName(initialized)}`);
    const info = (await packageTable.GetInfo()).PackageInfo;
    if (info === undefined) throw new Error(`${spec}: SpGetInfo gave no SecPkgInfo`);
    const awaitingEntries = asyncEntries(packageTable);
    loaded.push({ id, version: 1, name: info.Name, info, table: packageTable, moduleUrl, awaitingEntries });
  }
  const { name, table } = loaded[0]!;
  // As the LSA's dispatch runs an entry (lsa/dispatch.ts): carried across awaits by the client-call
  // store only when it is an async function or once answered with a promise.
  const awaiting = loaded[0]!.awaitingEntries;
  const call = <T>(entry: string, fn: () => T): T => runAsClientCall({ process, callId: 1, op: entry }, fn, awaiting.has(entry), () => awaiting.add(entry));

  const identity = packAuthIdentity({ User: options.account.user, Domain: options.account.domain, Password: options.account.password });
  const address = heap.place(identity);
  const clientCred = await call('SpAcquireCredentialsHandle', () =>
    table.AcquireCredentialsHandle(null, SECPKG_CRED.OUTBOUND, null, { address, length: identity.byteLength }, null, null),
  );
  const serverCred = await call('SpAcquireCredentialsHandle', () => table.AcquireCredentialsHandle(null, SECPKG_CRED.INBOUND, null, null, null, null));
  if (clientCred.CredentialHandle === undefined || serverCred.CredentialHandle === undefined) throw new Error(`${name}: AcquireCredentialsHandle failed`);
  /** What the LSA delivers: the package's own user-mode half, or the one its result names (Negotiate's mechanism's). */
  const delivery = (lsaContextHandle: number, contextData: Uint8Array, mappedPackage: SpContextResult['MappedPackage']) => {
    const pkg = mappedPackage === undefined ? loaded[0]! : loaded.find((p) => p.id === mappedPackage.PackageId)!;
    return {
      packageId: pkg.id,
      packageName: pkg.name,
      moduleUrl: pkg.moduleUrl,
      tableIndex: 0,
      modulePackages: [{ packageId: pkg.id, name: pkg.name }],
      lsaContextHandle: mappedPackage === undefined ? lsaContextHandle : mappedPackage.ContextHandle,
      contextData,
      thunkedLevels: [],
    };
  };
  const out = (): SecBuffer[] => [{ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(0) }];
  const tokenOf = (b: SecBuffer[]): SecBuffer[] => [{ BufferType: SECBUFFER.TOKEN, pvBuffer: b[0]!.pvBuffer }];
  const clientReq = ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONNECTION;
  const serverReq = ASC_REQ.CONFIDENTIALITY | ASC_REQ.INTEGRITY | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.CONNECTION;

  const legSizes: number[] = [];

  /**
   * One handshake, deleted at once. As the LSA's dispatch and Secur32 run them, each call that
   * answers with a value goes on in the same turn (`then` below): a promise only when a package
   * entry answers with one.
   */
  function handshake(): Awaitable<void> {
    return then(establish(), (made) => made.close());
  }

  interface Established {
    client?: MappedUserContext;
    server?: MappedUserContext;
    close(): Awaitable<void>;
  }

  /** The legs of one handshake; the user-mode contexts it mapped, and how to delete everything. */
  function establish(): Awaitable<Established> {
    legSizes.length = 0;
    let clientCtx: number | null = null;
    let serverCtx: number | null = null;
    // The user-mode contexts the host made: deleted through it, as Secur32 deletes them (a table of
    // the package's own, from a second SpUserModeInitialize, would not hold them).
    const mapped: MappedUserContext[] = [];
    const sides: { client?: MappedUserContext; server?: MappedUserContext } = {};
    const map = (side: 'client' | 'server', lsaContextHandle: number, result: SpContextResult): Awaitable<void> =>
      then(host.initContext(delivery(lsaContextHandle, result.ContextData ?? new Uint8Array(0), result.MappedPackage)), (mappedInto) => {
        if (mappedInto.context === undefined) throw new Error(`${name}: SpInitUserModeContext ${statusName(mappedInto.status)}`);
        mapped.push(mappedInto.context);
        sides[side] = mappedInto.context;
      });
    const close = (): Awaitable<void> => {
      const steps: Array<() => Awaitable<unknown>> = [];
      for (const context of mapped) steps.push(() => host.call(context, 'SpDeleteUserModeContext', (t, h) => t.DeleteUserModeContext(h)));
      for (const h of [clientCtx, serverCtx]) if (h !== null) steps.push(() => call('SpDeleteContext', () => table.DeleteContext(h)));
      return inOrder(steps, 0);
    };
    const done = (): Established => ({ ...sides, close });
    /** Leg `leg`'s client call with `input`, then the server's answer to it, then the next leg. */
    const legs = (leg: number, input: SecBuffer[] | null): Awaitable<Established> => {
      if (leg === 6) return done();
      const o1 = out();
      return then(
        call('SpInitLsaModeContext', () => table.InitLsaModeContext(clientCred.CredentialHandle!, clientCtx, null, clientReq, 0, input, o1)),
        (c) => {
          if (!isSuccess(c.status)) throw new Error(`${name}: SpInitLsaModeContext ${statusName(c.status)}`);
          clientCtx = c.NewContextHandle ?? clientCtx;
          return then(c.MappedContext === true ? map('client', clientCtx!, c) : undefined, () => {
            if (o1[0]!.pvBuffer.byteLength === 0) return done();
            legSizes.push(o1[0]!.pvBuffer.byteLength);
            const o2 = out();
            return then(
              call('SpAcceptLsaModeContext', () => table.AcceptLsaModeContext(serverCred.CredentialHandle!, serverCtx, tokenOf(o1), serverReq, 0, o2)),
              (s) => {
                if (!isSuccess(s.status)) throw new Error(`${name}: SpAcceptLsaModeContext ${statusName(s.status)}`);
                serverCtx = s.NewContextHandle ?? serverCtx;
                if (o2[0]!.pvBuffer.byteLength > 0) legSizes.push(o2[0]!.pvBuffer.byteLength);
                return then(s.MappedContext === true ? map('server', serverCtx!, s) : undefined, () => {
                  if (s.status === SEC_E_OK && (c.status === SEC_E_OK || o2[0]!.pvBuffer.byteLength === 0)) return done();
                  if (s.status !== SEC_I_CONTINUE_NEEDED && s.status !== SEC_E_OK) return done();
                  return legs(leg + 1, tokenOf(o2));
                });
              },
            );
          });
        },
      );
    };
    return legs(0, null);
  }

  async function pair(): Promise<{ client: MappedUserContext; server: MappedUserContext; close(): Promise<void> }> {
    const { client, server, close: closeNow } = await establish();
    const close = async (): Promise<void> => {
      await closeNow();
    };
    if (client === undefined || server === undefined) {
      await close();
      throw new Error(`${name}: the handshake did not map both contexts into user mode (MappedContext)`);
    }
    return { client, server, close };
  }
  return { handshake, pair, table, legSizes };
}

/** `next` of a value, in this turn when it is one and after it settles when it is a promise. */
function then<T, R>(value: Awaitable<T>, next: (value: T) => Awaitable<R>): Awaitable<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** Runs `steps` one after the other, each after the last one's value (or promise) is there. */
function inOrder(steps: ReadonlyArray<() => Awaitable<unknown>>, from: number): Awaitable<void> {
  for (let i = from; i < steps.length; i++) {
    const value = steps[i]!();
    if (value instanceof Promise) return value.then(() => inOrder(steps, i + 1));
  }
  return undefined;
}

/** The shortest warm-up of a baseline (bench/crypto-floor.ts warms its floor as long). */
export const WARM_UP_MS = 1000;

/**
 * The in-process baseline as the bench keeps it: its harness built and warmed once, then measured
 * in windows next to the rows it is the baseline of (a full-path row, the crypto floor), so that a
 * ratio compares two figures of the same moment of a shared machine.
 */
export interface InProcessBaseline {
  /** Handshakes per second over one window of about windowMs. */
  window(windowMs: number): Promise<number>;
  /** n handshakes, one after another (a batch of bench/stats.ts's interleave). */
  handshakes(n: number): Promise<void>;
  /** The sizes of the tokens of each leg. */
  readonly legSizes: number[];
}

/** The in-process baseline of a package, warmed for warmMs (a second at least). */
export async function inProcessBaseline(options: Omit<InProcessOptions, 'durationMs'> & { warmMs: number }): Promise<InProcessBaseline> {
  const harness = await inProcessHarness({ ...options, durationMs: options.warmMs });
  // A second at least: V8 has not optimized a package's code after a few dozen handshakes (NTLM
  // ran at a fifteenth of its warm speed after 20, a half after 1,000).
  const warmStart = performance.now();
  for (let i = 0; i < 20 || performance.now() - warmStart < Math.max(WARM_UP_MS, options.warmMs); i++) await harness.handshake();
  const handshakes = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const done = harness.handshake();
      if (done instanceof Promise) await done;
    }
  };
  return {
    // A window in batches of 16 handshakes (each batch one promise, as a package that answers at once costs none of its own).
    window: (windowMs) => asyncRate(() => handshakes(16), windowMs).then((batches) => batches * 16),
    handshakes,
    legSizes: [...harness.legSizes],
  };
}

/**
 * Message operations per second with the package's own user-mode functions called directly in one
 * thread (SpMakeSignature then SpVerifySignature, or SpSealMessage then SpUnsealMessage), no SSPI
 * and no process boundary: the raw baseline of a package that has no primitives of its own in
 * bench/primitives.ts (one loaded with --load).
 */
export async function inProcessMessageOpsPerSecond(
  options: Omit<InProcessOptions, 'durationMs'>,
  op: 'sign+verify' | 'seal+unseal',
  size: number,
  durationMs: number,
): Promise<number> {
  const harness = await inProcessHarness({ ...options, durationMs });
  const { client, server, close } = await harness.pair();
  try {
    const sizes = await client.table.QueryContextAttributes(client.lsaContextHandle, SECPKG_ATTR.SIZES);
    const buffer = (sizes.Buffer ?? {}) as { cbMaxSignature?: number; cbSecurityTrailer?: number };
    const tokenBytes = (op === 'sign+verify' ? buffer.cbMaxSignature : buffer.cbSecurityTrailer) ?? 1024;
    const data = new Uint8Array(size).fill(7);
    const once = async (): Promise<void> => {
      const message: SecBuffer[] =
        op === 'sign+verify'
          ? [
              { BufferType: SECBUFFER.DATA, pvBuffer: data },
              { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(tokenBytes) },
            ]
          : [
              { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(tokenBytes) },
              { BufferType: SECBUFFER.DATA, pvBuffer: data.slice() },
            ];
      const made =
        op === 'sign+verify'
          ? await client.table.MakeSignature(client.lsaContextHandle, 0, message, 0)
          : await client.table.SealMessage(client.lsaContextHandle, 0, message, 0);
      const checked =
        op === 'sign+verify'
          ? await server.table.VerifySignature(server.lsaContextHandle, message, 0)
          : await server.table.UnsealMessage(server.lsaContextHandle, message, 0);
      if (made !== SEC_E_OK || checked.status !== SEC_E_OK) throw new Error(`${op}: ${statusName(made)} / ${statusName(checked.status)}`);
    };
    const warmStart = performance.now();
    for (let i = 0; i < 100 || performance.now() - warmStart < durationMs; i++) await once(); // as long as the mapped rows warm up
    let count = 0;
    const start = performance.now();
    while (performance.now() - start < durationMs) {
      await once();
      count++;
    }
    return count / ((performance.now() - start) / 1000);
  } finally {
    await close();
  }
}
