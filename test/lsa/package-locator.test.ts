// One package calling another through the LSA (lsa/package-locator.ts), over stub packages and
// services: no workers. LookupPackage and LocatePackageById as the function table gives them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LsaSecpkgFunctionTable, PackageId, SecpkgFunctionTable, SpContextResult } from '../../headers/ntsecpkg.js';
import { SECBUFFER, type SecPkgInfo } from '../../headers/sspi.js';
import {
  SEC_E_INTERNAL_ERROR,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  STATUS_NOT_IMPLEMENTED,
  statusName,
} from '../../headers/status.js';
import { CallPoints, type PackageHost } from '../../hosting/index.js';
import { asProcessId } from '../../ipc/ids.js';
import { Tracer } from '../../ipc/trace.js';
import type { TraceEvent } from '../../ipc/index.js';
import { AccountStore } from '../../lsa/accounts.js';
import { runAsClientCall, type LsaClientProcess } from '../../lsa/client-call.js';
import { createLsaFunctionTable, type LsaServices } from '../../lsa/function-table.js';
import { LogonSessions } from '../../lsa/logon-sessions.js';
import { NestedHandles, releaseForProcess, type LocatablePackage, type NestedHandle } from '../../lsa/package-locator.js';
import { ProcessQueue } from '../../lsa/scheduler.js';
import { LsaWorkPool } from '../../lsa/work-pool.js';
import { UNUSED_LSA_MEMBERS } from '../../packages/kit/index.js';

const OUTER = 1 as PackageId;
const INNER = 2 as PackageId;
const THIRD = 3 as PackageId;

const info = (Name: string): SecPkgInfo => ({ fCapabilities: 0, wVersion: 1, wRPCID: 0, cbMaxToken: 100, Name, Comment: Name });

/** A stub package that records its calls and answers what the test says. */
function stubPackage(id: PackageId, name: string, overrides: Partial<SecpkgFunctionTable> = {}): LocatablePackage & { calls: string[] } {
  const calls: string[] = [];
  let next = 100;
  const table: SecpkgFunctionTable = {
    ...UNUSED_LSA_MEMBERS,
    LogonTerminated: () => undefined,
    Initialize: () => SEC_E_OK,
    Shutdown: () => SEC_E_OK,
    GetInfo: () => ({ status: SEC_E_OK, PackageInfo: info(name) }),
    AcceptCredentials: () => SEC_E_OK,
    AcquireCredentialsHandle: () => (calls.push('AcquireCredentialsHandle'), { status: SEC_E_OK, CredentialHandle: next++ }),
    QueryCredentialsAttributes: () => ({ status: SEC_E_OK }),
    FreeCredentialsHandle: (h) => (calls.push(`FreeCredentialsHandle ${h}`), SEC_E_OK),
    InitLsaModeContext: (): SpContextResult => (calls.push('InitLsaModeContext'), { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: next++ }),
    AcceptLsaModeContext: (): SpContextResult => (calls.push('AcceptLsaModeContext'), { status: SEC_I_CONTINUE_NEEDED, NewContextHandle: next++ }),
    DeleteContext: (h) => (calls.push(`DeleteContext ${h}`), SEC_E_OK),
    ApplyControlToken: () => SEC_E_OK,
    GetExtendedInformation: () => ({ status: SEC_E_OK }),
    QueryContextAttributes: () => ({ status: SEC_E_OK }),
    ...overrides,
  };
  return { id, version: 1, name, info: info(name), table, awaitingEntries: new Set(), calls };
}

function setup(inner: ReturnType<typeof stubPackage>) {
  const events: Array<Pick<TraceEvent, 'call' | 'phase' | 'peer' | 'detail'>> = [];
  const points = new CallPoints(new Tracer(null, 'lsa', 0, false));
  // A host that records the points it is given, as the trace would.
  const host: PackageHost = {
    point: (call, phase, fields) => events.push({ call, phase, ...fields }),
    active: true,
    packageFault: () => undefined,
    deadlineMs: 0,
  };
  const packages = [stubPackage(OUTER, 'Outer'), inner, stubPackage(THIRD, 'Third')];
  const nested = new NestedHandles();
  const locator = {
    packages: {
      byName: (n: string) => packages.find((p) => p.name.toLowerCase() === n.toLowerCase()),
      byId: (i: number) => packages.find((p) => p.id === i),
      version: (i: number, v: number) => packages.find((p) => p.id === i && p.version === v),
    },
    host,
    nested,
  };
  const services: LsaServices = {
    sessions: new LogonSessions(),
    accounts: new AccountStore([]),
    points,
    processById: () => undefined,
    heap: { allocations: 0, bytes: 0 },
    scheduler: { whileWaiting: (_q, wait) => wait() },
    work: new LsaWorkPool({ threads: 0 }),
    unloadPackage: () => STATUS_NOT_IMPLEMENTED,
    locator,
  };
  const outer: LsaSecpkgFunctionTable = createLsaFunctionTable(OUTER, services);
  const third: LsaSecpkgFunctionTable = createLsaFunctionTable(THIRD, services);
  return { outer, third, nested, events, locator };
}

const process: LsaClientProcess = {
  pid: asProcessId(42),
  name: 'client',
  threadId: 5,
  logonId: 0x1234n,
  lpc: {} as LsaClientProcess['lpc'],
  terminated: false,
  callCount: 0,
  queue: new ProcessQueue('client'),
};
const asClient = <T>(fn: () => T): T => runAsClientCall({ process, callId: 7, op: 'SpInitLsaModeContext' }, fn);
const token = () => [{ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(0) }];

describe('one package calling another (LookupPackage, LocatePackageById)', () => {
  it('finds a package by name whatever its case, and answers STATUS_NO_SUCH_PACKAGE for an unknown one', () => {
    const { outer } = setup(stubPackage(INNER, 'Inner'));
    const found = outer.LookupPackage('INNER');
    assert.equal(statusName(found.status), 'SEC_E_OK');
    assert.equal(found.PackageId, INNER);
    assert.equal(found.PackageInfo?.Name, 'Inner');
    assert.equal(statusName(outer.LookupPackage('__proto__').status), 'STATUS_NO_SUCH_PACKAGE');
  });

  it('gives no table for the caller itself or an unknown id', () => {
    const { outer } = setup(stubPackage(INNER, 'Inner'));
    assert.equal(outer.LocatePackageById(OUTER), null);
    assert.equal(outer.LocatePackageById(99 as PackageId), null);
  });

  it("traces each call as the target's entry point for the caller and the process, run as the current client call", async () => {
    let seen: number | undefined;
    let services: ReturnType<typeof setup>;
    const inner = stubPackage(INNER, 'Inner', {
      AcquireCredentialsHandle: () => {
        seen = services.outer.GetClientInfo().ClientInfo?.ProcessID;
        return { status: SEC_E_OK, CredentialHandle: 5 };
      },
    });
    services = setup(inner);
    const table = services.outer.LocatePackageById(INNER)!;
    const result = await asClient(() => table.AcquireCredentialsHandle(null, 2, null, null, null, null));
    assert.equal(result.status, SEC_E_OK);
    assert.equal(seen, 42, 'GetClientInfo inside the nested call answers for the calling process');
    const call = services.events.find((e) => e.call === 'SpAcquireCredentialsHandle' && e.phase === 'call');
    assert.equal(call?.peer, 'client');
    assert.match(call?.detail ?? '', /^Inner, for Outer/);
  });

  it("keeps the handles it makes as the caller's: another package's, or one never made, reach nothing", async () => {
    const inner = stubPackage(INNER, 'Inner');
    const { outer, third, nested } = setup(inner);
    const table = outer.LocatePackageById(INNER)!;
    const cred = await asClient(() => table.AcquireCredentialsHandle(null, 2, null, null, null, null));
    const ctx = await asClient(() => table.InitLsaModeContext(cred.CredentialHandle!, null, null, 0, 0, null, token()));
    assert.equal(statusName(ctx.status), 'SEC_I_CONTINUE_NEEDED');
    assert.deepEqual(nested.count(), { credentials: 1, contexts: 1 });
    const stolen = third.LocatePackageById(INNER)!;
    const before = inner.calls.length;
    assert.equal(statusName((await stolen.InitLsaModeContext(null, ctx.NewContextHandle!, null, 0, 0, null, token())).status), 'SEC_E_INVALID_HANDLE');
    assert.equal(statusName(await stolen.DeleteContext(ctx.NewContextHandle!)), 'SEC_E_INVALID_HANDLE');
    assert.equal(statusName((await table.InitLsaModeContext(999, null, null, 0, 0, null, token())).status), 'SEC_E_INVALID_HANDLE');
    assert.equal(inner.calls.length, before, 'the target was never called');
    assert.equal(await table.DeleteContext(ctx.NewContextHandle!), SEC_E_OK);
    assert.equal(await table.DeleteContext(ctx.NewContextHandle!), SEC_E_INVALID_HANDLE);
    assert.equal(await table.FreeCredentialsHandle(cred.CredentialHandle!), SEC_E_OK);
    assert.deepEqual(nested.count(), { credentials: 0, contexts: 0 });
  });

  it('deletes the context a failed first call leaves behind', async () => {
    const inner = stubPackage(INNER, 'Inner', { InitLsaModeContext: () => ({ status: SEC_E_INVALID_TOKEN, NewContextHandle: 77 }) });
    const { outer, nested } = setup(inner);
    const table = outer.LocatePackageById(INNER)!;
    const cred = await asClient(() => table.AcquireCredentialsHandle(null, 2, null, null, null, null));
    const result = await asClient(() => table.InitLsaModeContext(cred.CredentialHandle!, null, null, 0, 0, null, token()));
    assert.equal(result.status, SEC_E_INVALID_TOKEN);
    assert.ok(inner.calls.includes('DeleteContext 77'));
    assert.deepEqual(nested.count(), { credentials: 1, contexts: 0 });
  });

  it('contains a target that throws or answers nonsense as SEC_E_INTERNAL_ERROR', async () => {
    const inner = stubPackage(INNER, 'Inner', {
      AcquireCredentialsHandle: () => {
        throw new Error('boom');
      },
      InitLsaModeContext: () => 'nonsense' as unknown as SpContextResult,
    });
    const { outer, nested } = setup(inner);
    const table = outer.LocatePackageById(INNER)!;
    assert.equal((await asClient(() => table.AcquireCredentialsHandle(null, 2, null, null, null, null))).status, SEC_E_INTERNAL_ERROR);
    nested.add({ owner: OUTER, packageId: INNER, kind: 'credential', handle: 1, version: 1, pid: undefined });
    assert.equal((await asClient(() => table.InitLsaModeContext(1, null, null, 0, 0, null, token()))).status, SEC_E_INTERNAL_ERROR);
  });

  it('releases what a process left behind when it is reaped, contexts before credentials', async () => {
    const inner = stubPackage(INNER, 'Inner');
    const { outer, nested, locator } = setup(inner);
    const table = outer.LocatePackageById(INNER)!;
    const cred = await asClient(() => table.AcquireCredentialsHandle(null, 2, null, null, null, null));
    const ctx = await asClient(() => table.InitLsaModeContext(cred.CredentialHandle!, null, null, 0, 0, null, token()));
    assert.equal(await releaseForProcess(locator, asProcessId(42), 'client'), 2);
    assert.deepEqual(inner.calls.slice(-2), [`DeleteContext ${ctx.NewContextHandle}`, `FreeCredentialsHandle ${cred.CredentialHandle}`]);
    assert.deepEqual(nested.count(), { credentials: 0, contexts: 0 });
    assert.equal(await releaseForProcess(locator, asProcessId(42), 'client'), 0);
  });
});

describe('the table of nested handles', () => {
  const entry = (packageId: number, kind: 'credential' | 'context', handle: number, pid?: number): NestedHandle => ({
    owner: 1 as PackageId,
    packageId: packageId as PackageId,
    kind,
    handle,
    version: 1,
    pid: pid === undefined ? undefined : asProcessId(pid),
  });

  it('keeps each package and kind apart, and lists contexts first, each kind in the order they were added', () => {
    const nested = new NestedHandles();
    const added = [entry(2, 'credential', 7, 42), entry(2, 'context', 7, 42), entry(3, 'context', 7, 42), entry(2, 'context', 1, 42), entry(2, 'credential', 3, 42)];
    for (const e of added) nested.add(e);
    nested.add(entry(2, 'context', 7, 42)); // again: no second entry
    assert.deepEqual(nested.count(), { credentials: 2, contexts: 3 });
    assert.deepEqual(
      nested.ofProcess(asProcessId(42)).map((e) => `${e.packageId}:${e.kind}:${e.handle}`),
      ['2:context:7', '3:context:7', '2:context:1', '2:credential:7', '2:credential:3'],
    );
    assert.equal(nested.get(1 as PackageId, 3 as PackageId, 'credential', 7), undefined, "package 3's context 7 is not its credential 7");
    assert.equal(nested.remove(9 as PackageId, 2 as PackageId, 'context', 7), false, 'only its owner removes it');
    assert.equal(nested.remove(1 as PackageId, 2 as PackageId, 'context', 7), true);
    assert.equal(nested.owns(1 as PackageId, 2 as PackageId, 'context', 7), false);
    assert.equal(nested.owns(1 as PackageId, 3 as PackageId, 'context', 7), true);
  });

  it('keeps no handle that is not a number it can key (NaN): calls with it reach nothing', () => {
    const nested = new NestedHandles();
    nested.add(entry(2, 'context', Number.NaN));
    assert.deepEqual(nested.count(), { credentials: 0, contexts: 0 });
    assert.equal(nested.get(1 as PackageId, 2 as PackageId, 'context', Number.NaN), undefined);
    assert.equal(nested.remove(null, 2 as PackageId, 'context', Number.NaN), false);
  });
});
