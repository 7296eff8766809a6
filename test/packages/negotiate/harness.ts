// Negotiate and NTLM in one thread, as the LSA hosts them: each gets the real LSA function table
// (createLsaFunctionTable) over in-thread services, so Negotiate reaches NTLM through
// LocatePackageById exactly as in the LSA worker, and the nested handles are the LSA's to count.
// The "process" is this thread: explicit credentials are read from a ClientHeap, a completed
// context is mapped with the real UserModeHost. Tokens can then be read and forged between calls.

import {
  ASC_REQ,
  ISC_REQ,
  SECBUFFER,
  SECPKG_CRED,
  SECPKG_INTERFACE_VERSION,
  SECPKG_STATE,
  type PackageId,
  type SecBuffer,
  type SecpkgFunctionTable,
  type SecPkgInfo,
  type SpContextResult,
  type SecurityPackageModule,
  isSuccess,
  STATUS_NOT_IMPLEMENTED,
  statusName,
  tokenBytes,
} from '../../../headers/index.js';
import { CallPoints, packageHost } from '../../../hosting/index.js';
import { asProcessId, type LsaToProcessOps, type ProcessToLsaOps, type RpcPeer, Tracer } from '../../../ipc/index.js';
import {
  AccountStore,
  createLsaFunctionTable,
  LogonSessions,
  LsaWorkPool,
  NestedHandles,
  ProcessQueue,
  resolvePackageSpec,
  runAsClientCall,
  type LsaClientProcess,
} from '../../../lsa/index.js';
import { processSideOfLpc } from '../../../process/index.js';
import { ClientHeap, packAuthIdentity, UserModeHost } from '../../../sspi/index.js';

export const CLIENT_REQ = ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONNECTION;
export const SERVER_REQ = ASC_REQ.CONFIDENTIALITY | ASC_REQ.INTEGRITY | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.CONNECTION;

export interface HarnessPackage {
  id: PackageId;
  version: number;
  name: string;
  info: SecPkgInfo;
  table: SecpkgFunctionTable;
  moduleUrl: string;
  awaitingEntries: Set<string>;
}

export interface Harness {
  negotiate: HarnessPackage;
  ntlm: HarnessPackage | undefined;
  nested: NestedHandles;
  host: UserModeHost;
  /** Runs package code as the harness process's client call. */
  call<T>(fn: () => T): T;
  /** alice's outbound credential and an inbound one, of `pkg` (Negotiate by default). */
  credentials(pkg?: HarnessPackage): Promise<{ client: number; server: number }>;
  /** Initialize/Accept with a token (or none), an output TOKEN buffer; the result and the token out. */
  init(
    cred: number | null,
    ctx: number | null,
    token?: Uint8Array,
    pkg?: HarnessPackage,
    extra?: SecBuffer[],
  ): Promise<{ result: SpContextResult; token?: Uint8Array; output: SecBuffer[] }>;
  accept(
    cred: number | null,
    ctx: number | null,
    token?: Uint8Array,
    req?: number,
    pkg?: HarnessPackage,
    extra?: SecBuffer[],
  ): Promise<{ result: SpContextResult; token?: Uint8Array; output: SecBuffer[] }>;
  /** The user-mode context the LSA would deliver for a completed result (the mechanism's). */
  map(result: SpContextResult, ownHandle: number, pkg?: HarnessPackage): Promise<Awaited<ReturnType<UserModeHost['initContext']>>>;
}

/** NTLM with a fixed clock and server challenge unless said otherwise, so tokens can be compared. */
export async function negotiateHarness(options: { withNtlm?: boolean; ntlmSettings?: Record<string, unknown> } = {}): Promise<Harness> {
  const heap = new ClientHeap();
  const points = new CallPoints(new Tracer(null, 'lsa', 0, false));
  const hosting = packageHost(points, () => undefined, 0);
  const host = new UserModeHost(hosting);
  const handlers = processSideOfLpc(heap, host);
  const lpc = { call: (op: keyof LsaToProcessOps, body: never) => Promise.resolve((handlers[op] as (b: never) => unknown)(body)) } as unknown as RpcPeer<
    LsaToProcessOps,
    ProcessToLsaOps
  >;
  const process: LsaClientProcess = {
    pid: asProcessId(4242),
    name: 'harness',
    threadId: 0,
    logonId: 0x3e6n,
    lpc,
    terminated: false,
    callCount: 0,
    queue: new ProcessQueue('harness'),
  };
  const loaded: HarnessPackage[] = [];
  const nested = new NestedHandles();
  const services = {
    sessions: new LogonSessions(),
    accounts: new AccountStore([{ user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' }]),
    points,
    processById: () => process,
    heap: { allocations: 0, bytes: 0 },
    scheduler: { whileWaiting: <T>(_: unknown, wait: () => Promise<T>) => wait() },
    work: new LsaWorkPool({ threads: 0 }),
    // No LSA here to unload a package from.
    unloadPackage: () => STATUS_NOT_IMPLEMENTED,
    locator: {
      packages: {
        byName: (n: string) => loaded.find((p) => p.name.toLowerCase() === n.toLowerCase()),
        byId: (i: number) => loaded.find((p) => p.id === i),
        version: (i: number, v: number) => (v === 1 ? loaded.find((p) => p.id === i) : undefined),
      },
      host: hosting,
      nested,
    },
  };
  const specs: Array<[string, Record<string, unknown>]> = [['negotiate', {}]];
  if (options.withNtlm !== false) specs.push(['ntlm', options.ntlmSettings ?? { fixedServerChallenge: '0123456789abcdef', fixedTime: '2026-01-02T03:04:05Z' }]);
  for (const [spec, settings] of specs) {
    const moduleUrl = resolvePackageSpec(spec).href;
    const module = (await import(moduleUrl)) as SecurityPackageModule;
    const table = (await module.SpLsaModeInitialize(SECPKG_INTERFACE_VERSION)).ppTables[0]!;
    const id = (loaded.length + 1) as PackageId;
    const status = await table.Initialize(
      id,
      {
        Version: SECPKG_INTERFACE_VERSION,
        MachineState: SECPKG_STATE.STANDALONE,
        SetupMode: 0,
        DomainName: 'SSPI-EMU',
        DnsDomainName: 'sspi-emu.local',
        ComputerName: 'SSPI-EMU',
        DnsComputerName: 'sspi-emu.sspi-emu.local',
        PackageSettings: settings,
      },
      createLsaFunctionTable(id, services),
    );
    if (!isSuccess(status)) throw new Error(`${spec}: SpInitialize ${statusName(status)}`);
    const info = (await table.GetInfo()).PackageInfo!;
    loaded.push({ id, version: 1, name: info.Name, info, table, moduleUrl, awaitingEntries: new Set() });
  }
  const negotiate = loaded[0]!;
  const ntlm = loaded[1];
  const call = <T>(fn: () => T): T => runAsClientCall({ process, callId: 1, op: 'harness' }, fn);
  const tokenOf = (output: SecBuffer[]): Uint8Array | undefined => {
    const t = tokenBytes(output);
    return t === undefined || t.length === 0 ? undefined : t;
  };
  const input = (token: Uint8Array | undefined, extra: SecBuffer[]): SecBuffer[] => [
    ...(token === undefined ? [] : [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }]),
    ...extra,
  ];
  return {
    negotiate,
    ntlm,
    nested,
    host,
    call,
    async credentials(pkg = negotiate) {
      const identity = packAuthIdentity({ User: 'alice', Domain: 'SSPI-EMU', Password: 'Passw0rd!' });
      const address = heap.place(identity);
      const client = await call(() =>
        pkg.table.AcquireCredentialsHandle(null, SECPKG_CRED.OUTBOUND, null, { address, length: identity.byteLength }, null, null),
      );
      heap.free(address);
      const server = await call(() => pkg.table.AcquireCredentialsHandle(null, SECPKG_CRED.INBOUND, null, null, null, null));
      if (client.CredentialHandle === undefined || server.CredentialHandle === undefined)
        throw new Error(`credentials: ${statusName(client.status)} / ${statusName(server.status)}`);
      return { client: client.CredentialHandle, server: server.CredentialHandle };
    },
    async init(cred, ctx, token, pkg = negotiate, extra = []) {
      const output: SecBuffer[] = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(0) }];
      if (pkg !== negotiate) output.push({ BufferType: SECBUFFER.MECHLIST_SIGNATURE, pvBuffer: new Uint8Array(0) });
      const result = await call(() => pkg.table.InitLsaModeContext(cred, ctx, 'HTTP/server.sspi-emu.local', CLIENT_REQ, 0x10, input(token, extra), output));
      const out = tokenOf(output);
      return out === undefined ? { result, output } : { result, token: out, output };
    },
    async accept(cred, ctx, token, req = SERVER_REQ, pkg = negotiate, extra = []) {
      const output: SecBuffer[] = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(0) }];
      if (pkg !== negotiate) output.push({ BufferType: SECBUFFER.MECHLIST_SIGNATURE, pvBuffer: new Uint8Array(0) });
      const result = await call(() => pkg.table.AcceptLsaModeContext(cred, ctx, input(token, extra), req, 0x10, output));
      const out = tokenOf(output);
      return out === undefined ? { result, output } : { result, token: out, output };
    },
    async map(result, ownHandle, own = negotiate) {
      const pkg = result.MappedPackage === undefined ? own : loaded.find((p) => p.id === result.MappedPackage!.PackageId)!;
      return host.initContext({
        packageId: pkg.id,
        packageName: pkg.name,
        moduleUrl: pkg.moduleUrl,
        tableIndex: 0,
        modulePackages: [{ packageId: pkg.id, name: pkg.name }],
        lsaContextHandle: result.MappedPackage?.ContextHandle ?? ownHandle,
        contextData: result.ContextData ?? new Uint8Array(0),
        thunkedLevels: [],
      });
    },
  };
}

/** What the applications pass besides the token: buffers on every call (channel bindings), the server's ASC_REQ. */
export interface HandshakeOptions {
  clientExtra?: SecBuffer[];
  serverExtra?: SecBuffer[];
  serverReq?: number;
}

/** A whole Negotiate handshake in the harness; every token as it went, and both sides' final results. */
export async function handshake(h: Harness, transit: (token: Uint8Array, leg: number) => Uint8Array = (t) => t, options: HandshakeOptions = {}) {
  const creds = await h.credentials();
  const tokens: Uint8Array[] = [];
  let clientCtx: number | null = null;
  let serverCtx: number | null = null;
  let token: Uint8Array | undefined;
  let client: SpContextResult | undefined;
  let server: SpContextResult | undefined;
  for (let leg = 0; leg < 8; leg++) {
    const c = await h.init(clientCtx === null ? creds.client : null, clientCtx, token, h.negotiate, options.clientExtra);
    client = c.result;
    clientCtx = c.result.NewContextHandle ?? clientCtx;
    if (!isSuccess(c.result.status) || c.token === undefined) break;
    tokens.push(c.token);
    const s = await h.accept(
      serverCtx === null ? creds.server : null,
      serverCtx,
      transit(c.token, tokens.length),
      options.serverReq,
      h.negotiate,
      options.serverExtra,
    );
    server = s.result;
    serverCtx = s.result.NewContextHandle ?? serverCtx;
    if (!isSuccess(s.result.status) || s.token === undefined) break;
    tokens.push(s.token);
    token = transit(s.token, tokens.length);
  }
  return { creds, tokens, client: client!, server: server!, clientCtx, serverCtx };
}
