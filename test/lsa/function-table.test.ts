// LSA_SECPKG_FUNCTION_TABLE as a package sees it, over stub LSA services: no workers. The members
// that reach into a process run here against a stub channel.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { threadId } from 'node:worker_threads';
import { SECPKG_CLIENT_PROCESS_TERMINATED, type LsaSecpkgFunctionTable, type PackageId } from '../../headers/ntsecpkg.js';
import { SECBUFFER } from '../../headers/sspi.js';
import { STATUS_INSUFFICIENT_RESOURCES, STATUS_NOT_IMPLEMENTED, statusName } from '../../headers/status.js';
import { TransportError } from '../../ipc/errors.js';
import { asProcessId } from '../../ipc/ids.js';
import { CallPoints, packageHost } from '../../hosting/index.js';
import { Tracer } from '../../ipc/trace.js';
import { AccountStore } from '../../lsa/accounts.js';
import { runAsClientCall, type LsaClientProcess } from '../../lsa/client-call.js';
import { NOT_IMPLEMENTED_LSA_FUNCTIONS, createLsaFunctionTable, type LsaServices } from '../../lsa/function-table.js';
import { ANONYMOUS_LOGON_LUID, LogonSessions } from '../../lsa/logon-sessions.js';
import { ProcessQueue } from '../../lsa/scheduler.js';
import { NestedHandles } from '../../lsa/package-locator.js';
import { LsaWorkPool } from '../../lsa/work-pool.js';
import { readMemberOrder, REFERENCE_PATH } from '../helpers/reference.js';
import { SCRAM_VECTOR } from '../helpers/work.js';

/** LSA_SECPKG_FUNCTION_TABLE as the reference lists it (section 7.6, #1 to #66, the Credi* spellings of #42-#44, #52, #53). */
const REFERENCE_ORDER = readMemberOrder('### 7.6');

/** STATUS_SUCCESS and SEC_E_OK are both 0, and statusName spells 0 the SSPI way. */
const SUCCESS = 'SEC_E_OK';

const PKG = 7 as PackageId;
const OTHER_PKG = 8 as PackageId;

type LpcCall = (op: string, body: unknown) => Promise<unknown>;

function fakeProcess(call: LpcCall, overrides: Partial<LsaClientProcess> = {}): LsaClientProcess {
  return {
    pid: asProcessId(42),
    name: 'client',
    threadId: 5,
    logonId: 0x1234n,
    lpc: { call } as unknown as LsaClientProcess['lpc'],
    terminated: false,
    callCount: 3,
    queue: new ProcessQueue('client'),
    ...overrides,
  };
}

function setup(
  processes: LsaClientProcess[] = [],
  work: LsaServices['work'] = new LsaWorkPool({ threads: 0 }),
): { table: LsaSecpkgFunctionTable; services: LsaServices } {
  const services: LsaServices = {
    sessions: new LogonSessions(),
    accounts: new AccountStore([{ user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' }]),
    points: new CallPoints(new Tracer(null, 'lsa', 0, false)),
    locator: {
      packages: { byName: () => undefined, byId: () => undefined, version: () => undefined },
      host: packageHost(new CallPoints(new Tracer(null, 'lsa', 0, false)), () => undefined, 0),
      nested: new NestedHandles(),
    },
    processById: (pid) => processes.find((p) => p.pid === pid),
    heap: { allocations: 0, bytes: 0 },
    scheduler: { whileWaiting: (_queue, wait) => wait() },
    work,
    unloadPackage: () => STATUS_NOT_IMPLEMENTED,
  };
  return { table: createLsaFunctionTable(PKG, services), services };
}

const inCall = <T>(process: LsaClientProcess, fn: () => T): T => runAsClientCall({ process, callId: 1, op: 'SpInitLsaModeContext' }, fn);
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('createLsaFunctionTable', () => {
  it('counts a block freed twice, or one it never handed out, only once in the LSA heap figures', () => {
    const { table, services } = setup();
    const block = table.AllocateLsaHeap(32);
    table.FreeLsaHeap(block);
    table.FreeLsaHeap(block);
    table.FreePrivateHeap(new Uint8Array(8));
    assert.deepEqual(services.heap, { allocations: 0, bytes: 0 });
  });

  it("has the 66 members of LSA_SECPKG_FUNCTION_TABLE in the order of the header, then sspi-emu's own two", (t) => {
    if (REFERENCE_ORDER === undefined) return t.skip(`the reference is not at ${REFERENCE_PATH}`);
    const { table } = setup();
    assert.equal(REFERENCE_ORDER.length, 66);
    assert.deepEqual(Object.keys(table), [...REFERENCE_ORDER, 'LookupPackage', 'LocatePackageById']);
    for (const name of REFERENCE_ORDER) assert.equal(typeof (table as unknown as Record<string, unknown>)[name], 'function', name);
  });

  it('answers STATUS_NOT_IMPLEMENTED from every member it lists as not implemented, which it lists in table order', () => {
    const { table } = setup();
    const members = table as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const name of NOT_IMPLEMENTED_LSA_FUNCTIONS) assert.equal(statusName(members[name]!() as number), 'STATUS_NOT_IMPLEMENTED', name);
    assert.deepEqual(
      Object.keys(table).filter((name) => (NOT_IMPLEMENTED_LSA_FUNCTIONS as readonly string[]).includes(name)),
      [...NOT_IMPLEMENTED_LSA_FUNCTIONS],
    );
  });

  it('UnloadPackage asks the LSA to unload the calling package, this load of it, and answers what the LSA answers', () => {
    const { services } = setup();
    const asked: Array<[number, number]> = [];
    services.unloadPackage = (id, version) => {
      asked.push([id, version]);
      return asked.length === 1 ? 0 : 0xc00000fe;
    };
    const first = createLsaFunctionTable(PKG, services, 3);
    assert.equal(first.UnloadPackage(), 0, 'STATUS_SUCCESS');
    assert.equal(statusName(first.UnloadPackage()), 'STATUS_NO_SUCH_PACKAGE', 'a version already unloading is not there to unload');
    assert.deepEqual(asked, [
      [PKG, 3],
      [PKG, 3],
    ]);
    assert.ok(!(NOT_IMPLEMENTED_LSA_FUNCTIONS as readonly string[]).includes('UnloadPackage'));
  });

  describe('CreateThread: the LSA work pool', () => {
    it('runs the routine StartFunction names on ThreadParameter and answers STATUS_SUCCESS, its output and the thread that ran it', async () => {
      const { table } = setup();
      const done = await table.CreateThread(null, 0, 'BCryptDeriveKeyPBKDF2', SCRAM_VECTOR.parameter, 0);
      assert.equal(statusName(done.status), SUCCESS);
      assert.equal(Buffer.from(done.Output!).toString('hex'), SCRAM_VECTOR.key);
      assert.equal(done.ThreadId, threadId, 'with the pool off, the calling thread');
    });

    it('answers STATUS_INVALID_PARAMETER, running nothing, for an unknown routine, a bad parameter, SecurityAttributes or CreationFlags', async () => {
      let ran = 0;
      const { table } = setup([], { run: () => (ran++, Promise.resolve({ ok: true, output: new Uint8Array(1), threadId: 0 })) });
      const call = table.CreateThread as (...args: unknown[]) => ReturnType<LsaSecpkgFunctionTable['CreateThread']>;
      const refused = [
        await call(null, 0, 'CreateProcessW', SCRAM_VECTOR.parameter, 0),
        await call(null, 0, '__proto__', SCRAM_VECTOR.parameter, 0),
        await call(null, 0, 'BCryptDeriveKeyPBKDF2', { ...SCRAM_VECTOR.parameter, Iterations: 0 }, 0),
        await call(null, 0, 'BCryptDeriveKeyPBKDF2', undefined, 0),
        await call({}, 0, 'BCryptDeriveKeyPBKDF2', SCRAM_VECTOR.parameter, 0),
        await call(null, 0, 'BCryptDeriveKeyPBKDF2', SCRAM_VECTOR.parameter, 4), // CREATE_SUSPENDED
      ];
      assert.deepEqual(
        refused.map((r) => [statusName(r.status), r.Output]),
        refused.map(() => ['STATUS_INVALID_PARAMETER', undefined]),
      );
      assert.equal(ran, 0);
    });

    it("answers the pool's status when the work failed there (a task that threw, a full queue), with no output", async () => {
      const failing = { run: () => Promise.resolve({ ok: false as const, status: STATUS_INSUFFICIENT_RESOURCES, reason: 'full' }) };
      const { table } = setup([], failing);
      const done = await table.CreateThread(null, 0, 'BCryptDeriveKeyPBKDF2', SCRAM_VECTOR.parameter, 0);
      assert.deepEqual([statusName(done.status), done.Output, done.ThreadId], ['STATUS_INSUFFICIENT_RESOURCES', undefined, undefined]);
    });

    it('is a call point: a hook sees its call and its return', async () => {
      const { table, services } = setup();
      const seen: string[] = [];
      services.points.hook = { at: (call, phase) => seen.push(`${call} ${phase}`) };
      await table.CreateThread(null, 0, 'BCryptDeriveKeyPBKDF2', SCRAM_VECTOR.parameter, 0);
      assert.deepEqual(seen, ['CreateThread call', 'CreateThread return']);
    });
  });

  describe('logon sessions', () => {
    it('creates a network logon session with a fresh LUID, and answers STATUS_LOGON_SESSION_COLLISION for a LUID in use', () => {
      const { table, services } = setup();
      const created = table.CreateLogonSession();
      assert.equal(statusName(created.status), SUCCESS);
      assert.equal(services.sessions.get(created.LogonId)?.logonType, 3, 'Network');
      const again = table.CreateLogonSession(created.LogonId);
      assert.equal(statusName(again.status), 'STATUS_LOGON_SESSION_COLLISION');
      assert.equal(again.LogonId, created.LogonId);
    });

    it('answers STATUS_INVALID_PARAMETER, making nothing, for a LogonId that is not a LUID (a bigint of 64 bits), in every member that takes one', () => {
      const { table, services } = setup();
      const loose = table as unknown as Record<string, (...args: unknown[]) => { status: number } | number>;
      const statusOf = (r: { status: number } | number): string => statusName(typeof r === 'number' ? r : r.status);
      for (const bad of [5, 0, '5', { LowPart: -1, HighPart: 'x' }, 2n ** 64n, Symbol('luid')]) {
        assert.equal(statusOf(loose.CreateLogonSession!(bad)), 'STATUS_INVALID_PARAMETER', String(bad));
        assert.equal(statusOf(loose.DeleteLogonSession!(bad)), 'STATUS_INVALID_PARAMETER');
        assert.equal(statusOf(loose.AddCredential!(bad, PKG, 'k', bytes(1))), 'STATUS_INVALID_PARAMETER');
        assert.equal(statusOf(loose.GetCredentials!(bad, PKG, 0, false, 'k')), 'STATUS_INVALID_PARAMETER');
        assert.equal(statusOf(loose.DeleteCredential!(bad, PKG, 'k')), 'STATUS_INVALID_PARAMETER');
      }
      assert.equal(services.sessions.size, 0);
      const { LogonId } = table.CreateLogonSession(-5n);
      assert.equal(LogonId, -5n, 'a negative HighPart is a LUID');
      for (const credentials of [null, 'bytes', [1, 2]])
        assert.equal(statusOf(loose.AddCredential!(LogonId, PKG, 'k', credentials)), 'STATUS_INVALID_PARAMETER');
      assert.equal(statusOf(loose.AddCredential!(LogonId, PKG, 7, bytes(1))), 'STATUS_INVALID_PARAMETER', 'a PrimaryKeyValue is a string');
    });

    it('deletes a logon session once, then answers STATUS_NO_SUCH_LOGON_SESSION', () => {
      const { table } = setup();
      const { LogonId } = table.CreateLogonSession();
      assert.equal(statusName(table.DeleteLogonSession(LogonId)), SUCCESS);
      assert.equal(statusName(table.DeleteLogonSession(LogonId)), 'STATUS_NO_SUCH_LOGON_SESSION');
    });
  });

  describe('credentials of a logon session', () => {
    it('adds a credential only to a session that exists', () => {
      const { table } = setup();
      assert.equal(statusName(table.AddCredential(0xdeadn, PKG, 'primary', bytes(1))), 'STATUS_NO_SUCH_LOGON_SESSION');
      const { LogonId } = table.CreateLogonSession();
      assert.equal(statusName(table.AddCredential(LogonId, PKG, 'primary', bytes(1))), SUCCESS);
    });

    it('gets one credential by primary key, as a copy the package may change', () => {
      const { table } = setup();
      const { LogonId } = table.CreateLogonSession();
      table.AddCredential(LogonId, PKG, 'primary', bytes(1, 2, 3));
      const got = table.GetCredentials(LogonId, PKG, 0, false, 'primary');
      assert.equal(statusName(got.status), SUCCESS);
      assert.deepEqual(got.Credentials, bytes(1, 2, 3));
      assert.equal(got.PrimaryKeyValue, 'primary');
      got.Credentials!.fill(0);
      assert.deepEqual(table.GetCredentials(LogonId, PKG, 0, false, 'primary').Credentials, bytes(1, 2, 3));
      assert.equal(statusName(table.GetCredentials(LogonId, PKG, 0, false, 'missing').status), 'STATUS_OBJECT_NAME_NOT_FOUND');
      assert.equal(statusName(table.GetCredentials(0xdeadn, PKG, 0, false, 'primary').status), 'STATUS_NO_SUCH_LOGON_SESSION');
    });

    it("walks all of this package's credentials with QueryContext, and none of another package's", () => {
      const { table } = setup();
      const { LogonId } = table.CreateLogonSession();
      table.AddCredential(LogonId, PKG, 'first', bytes(1));
      table.AddCredential(LogonId, OTHER_PKG, 'theirs', bytes(9));
      table.AddCredential(LogonId, PKG, 'second', bytes(2));
      const seen: Array<[string | undefined, number[]]> = [];
      let queryContext = 0;
      for (;;) {
        const r = table.GetCredentials(LogonId, PKG, queryContext, true, '');
        if (statusName(r.status) !== SUCCESS) {
          assert.equal(statusName(r.status), 'STATUS_OBJECT_NAME_NOT_FOUND');
          assert.equal(r.QueryContext, queryContext);
          break;
        }
        assert.equal(r.QueryContext, queryContext + 1);
        seen.push([r.PrimaryKeyValue, [...r.Credentials!]]);
        queryContext = r.QueryContext;
      }
      assert.deepEqual(seen, [
        ['first', [1]],
        ['second', [2]],
      ]);
    });

    it('deletes a credential once, then answers STATUS_OBJECT_NAME_NOT_FOUND', () => {
      const { table } = setup();
      const { LogonId } = table.CreateLogonSession();
      table.AddCredential(LogonId, PKG, 'primary', bytes(1));
      assert.equal(statusName(table.DeleteCredential(LogonId, PKG, 'primary')), SUCCESS);
      assert.equal(statusName(table.DeleteCredential(LogonId, PKG, 'primary')), 'STATUS_OBJECT_NAME_NOT_FOUND');
      assert.equal(statusName(table.GetCredentials(LogonId, PKG, 0, false, 'primary').status), 'STATUS_OBJECT_NAME_NOT_FOUND');
    });
  });

  describe('LSA heap', () => {
    it('counts what AllocateLsaHeap and AllocatePrivateHeap hand out, and what the frees give back', () => {
      const { table, services } = setup();
      const a = table.AllocateLsaHeap(16);
      const b = table.AllocatePrivateHeap(8);
      assert.ok(a instanceof Uint8Array && a.byteLength === 16 && a.every((x) => x === 0));
      assert.equal(b.byteLength, 8);
      assert.deepEqual(services.heap, { allocations: 2, bytes: 24 });
      table.FreeLsaHeap(a);
      assert.deepEqual(services.heap, { allocations: 1, bytes: 8 });
      table.FreePrivateHeap(b);
      assert.deepEqual(services.heap, { allocations: 0, bytes: 0 });
    });

    it("answers null (Windows' NULL), counting nothing, for a Length that is no size or that no process holds; AllocateLsaHeap's is a ULONG", () => {
      const { table, services } = setup();
      const loose = table as unknown as Record<'AllocateLsaHeap' | 'AllocatePrivateHeap', (length: unknown) => Uint8Array | null>;
      for (const name of ['AllocateLsaHeap', 'AllocatePrivateHeap'] as const)
        for (const length of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '8', null, 2 ** 40])
          assert.equal(loose[name](length), null, `${name}(${String(length)})`);
      assert.equal(loose.AllocateLsaHeap(2 ** 32), null, 'past a ULONG');
      assert.deepEqual(services.heap, { allocations: 0, bytes: 0 });
      assert.equal(table.AllocateLsaHeap(0).byteLength, 0, 'a block of no bytes is a block');
    });

    it('zeroes a block when it is freed, so a secret kept there does not linger', () => {
      const { table } = setup();
      const block = table.AllocateLsaHeap(4);
      block.set([0xde, 0xad, 0xbe, 0xef]);
      table.FreeLsaHeap(block);
      assert.deepEqual(block, new Uint8Array(4));
    });
  });

  describe('the account store', () => {
    it('opens a user, reads its clear password for the anonymous logon outside a client call, and closes it once', () => {
      const { table } = setup();
      const opened = table.OpenSamUser('SSPI-EMU\\alice', 0, null, false, 0);
      assert.equal(statusName(opened.status), SUCCESS);
      const creds = table.GetUserCredentials(opened.UserHandle!);
      assert.equal(statusName(creds.status), SUCCESS);
      assert.equal(creds.PrimaryCreds?.Password, 'Passw0rd!');
      assert.equal(creds.PrimaryCreds?.LogonId, ANONYMOUS_LOGON_LUID);
      assert.deepEqual(creds.SupplementalCreds, []);
      assert.equal(statusName(table.CloseSamUser(opened.UserHandle!)), SUCCESS);
      assert.equal(statusName(table.CloseSamUser(opened.UserHandle!)), 'STATUS_INVALID_PARAMETER');
      assert.equal(statusName(table.GetUserCredentials(opened.UserHandle!).status), 'STATUS_INVALID_PARAMETER');
    });

    it('answers STATUS_INVALID_PARAMETER to a Name that is no string, and to a SAM handle that is no number, with a handle open', () => {
      const { table } = setup();
      const { UserHandle } = table.OpenSamUser('alice', 0, null, false, 0);
      const loose = table as unknown as Record<'OpenSamUser' | 'GetUserCredentials' | 'CloseSamUser', (...args: unknown[]) => { status: number } | number>;
      const statusOf = (r: { status: number } | number): string => statusName(typeof r === 'number' ? r : r.status);
      for (const name of [null, undefined, 42, { toString: () => 'alice' }])
        assert.equal(statusOf(loose.OpenSamUser(name, 0, null, false, 0)), 'STATUS_INVALID_PARAMETER');
      for (const handle of [BigInt(UserHandle!), Symbol('handle'), null]) {
        assert.equal(statusOf(loose.GetUserCredentials(handle)), 'STATUS_INVALID_PARAMETER');
        assert.equal(statusOf(loose.CloseSamUser(handle)), 'STATUS_INVALID_PARAMETER');
      }
      assert.equal(statusName(table.CloseSamUser(UserHandle!)), SUCCESS, 'the open handle is untouched');
    });

    it('answers STATUS_NO_SUCH_USER for an unknown user', () => {
      const { table } = setup();
      const opened = table.OpenSamUser('mallory', 0, null, false, 0);
      assert.equal(statusName(opened.status), 'STATUS_NO_SUCH_USER');
      assert.equal(opened.UserHandle, undefined);
    });

    it("gives the user's credentials the logon id of the calling process inside a client call", () => {
      const { table } = setup();
      const { UserHandle } = table.OpenSamUser('alice', 0, null, false, 0);
      const creds = inCall(
        fakeProcess(async () => ({})),
        () => table.GetUserCredentials(UserHandle!),
      );
      assert.equal(creds.PrimaryCreds?.LogonId, 0x1234n);
    });
  });

  describe('the calling client', () => {
    it('answers STATUS_INVALID_PARAMETER from GetClientInfo, and null from GetCallInfo, outside a client call', () => {
      const { table } = setup();
      assert.equal(statusName(table.GetClientInfo().status), 'STATUS_INVALID_PARAMETER');
      assert.equal(table.GetClientInfo().ClientInfo, undefined);
      assert.equal(table.GetCallInfo(), null);
    });

    it('describes the calling process inside a client call, flagging one that terminated', () => {
      const { table } = setup();
      const live = inCall(
        fakeProcess(async () => ({})),
        () => table.GetClientInfo(),
      );
      assert.equal(statusName(live.status), SUCCESS);
      assert.deepEqual(
        {
          LogonId: live.ClientInfo?.LogonId,
          ProcessID: live.ClientInfo?.ProcessID,
          ThreadID: live.ClientInfo?.ThreadID,
          ClientFlags: live.ClientInfo?.ClientFlags,
        },
        { LogonId: 0x1234n, ProcessID: 42, ThreadID: 5, ClientFlags: 0 },
      );
      const dead = inCall(
        fakeProcess(async () => ({}), { terminated: true }),
        () => table.GetClientInfo(),
      );
      assert.equal(dead.ClientInfo?.ClientFlags, SECPKG_CLIENT_PROCESS_TERMINATED);
      assert.deepEqual(
        inCall(
          fakeProcess(async () => ({})),
          () => table.GetCallInfo(),
        ),
        { ProcessId: 42, ThreadId: 5, Attributes: 0, CallCount: 3 },
      );
    });
  });

  describe('reaching into the client process', () => {
    it('answers STATUS_INVALID_PARAMETER outside a client call, with no process to reach', async () => {
      const { table } = setup();
      assert.equal(statusName((await table.AllocateClientBuffer(null, 16)).status), 'STATUS_INVALID_PARAMETER');
      assert.equal(statusName(await table.FreeClientBuffer(null, 0x1000)), 'STATUS_INVALID_PARAMETER');
      assert.equal(statusName((await table.CopyFromClientBuffer(null, 4, 0x1000)).status), 'STATUS_INVALID_PARAMETER');
      assert.equal(statusName((await table.ClientCallback(1, 0, 0, { BufferType: SECBUFFER.DATA, pvBuffer: bytes() })).status), 'STATUS_INVALID_PARAMETER');
    });

    it('sends the LPC message the member names to the calling process and passes its answer back', async () => {
      const sent: Array<[string, unknown]> = [];
      const client = fakeProcess(async (op, body) => {
        sent.push([op, body]);
        if (op === 'AllocateClientBuffer') return { status: 0, address: 0x2000 };
        if (op === 'CopyFromClientBuffer') return { status: 0, bytes: bytes(7, 7) };
        return { status: 0 };
      });
      const { table } = setup();
      const allocated = await inCall(client, () => table.AllocateClientBuffer(null, 32));
      assert.deepEqual(allocated, { status: 0, ClientBaseAddress: 0x2000 });
      assert.deepEqual(await inCall(client, () => table.CopyFromClientBuffer(null, 2, 0x2000)), { status: 0, BufferToCopy: bytes(7, 7) });
      assert.equal(statusName(await inCall(client, () => table.CopyToClientBuffer(null, 2, 0x2000, bytes(1, 2, 3)))), SUCCESS);
      assert.deepEqual(sent, [
        ['AllocateClientBuffer', { length: 32 }],
        ['CopyFromClientBuffer', { address: 0x2000, length: 2 }],
        ['CopyToClientBuffer', { address: 0x2000, bytes: bytes(1, 2) }],
      ]);
    });

    it('reaches the process a PLSA_CLIENT_REQUEST names, even outside a client call', async () => {
      const sent: string[] = [];
      const client = fakeProcess(async (op) => (sent.push(op), { status: 0 }), { pid: asProcessId(77) });
      const { table } = setup([client]);
      assert.equal(statusName(await table.FreeClientBuffer({ processId: 77, callId: 1 }, 0x2000)), SUCCESS);
      assert.equal(statusName(await table.FreeClientBuffer({ processId: 78, callId: 1 }, 0x2000)), 'STATUS_INVALID_PARAMETER');
      assert.deepEqual(sent, ['FreeClientBuffer']);
    });

    it('answers STATUS_ACCESS_VIOLATION for a copy longer than the buffer, without reaching the process', async () => {
      const sent: string[] = [];
      const client = fakeProcess(async (op) => (sent.push(op), { status: 0 }));
      const { table } = setup();
      assert.equal(statusName(await inCall(client, () => table.CopyToClientBuffer(null, 4, 0x2000, bytes(1, 2, 3)))), 'STATUS_ACCESS_VIOLATION');
      assert.deepEqual(sent, []);
    });

    it('answers STATUS_INVALID_PARAMETER for a process that terminated', async () => {
      const sent: string[] = [];
      const client = fakeProcess(async (op) => (sent.push(op), { status: 0 }), { terminated: true });
      const { table } = setup();
      assert.equal(statusName((await inCall(client, () => table.AllocateClientBuffer(null, 8))).status), 'STATUS_INVALID_PARAMETER');
      assert.deepEqual(sent, []);
    });

    it('turns a transport failure on the way into the process into STATUS_INTERNAL_ERROR', async () => {
      const client = fakeProcess(async () => {
        throw new TransportError('PEER_GONE', 'the process exited');
      });
      const { table } = setup();
      assert.equal(statusName((await inCall(client, () => table.AllocateClientBuffer(null, 8))).status), 'STATUS_INTERNAL_ERROR');
      const callback = await inCall(client, () => table.ClientCallback(1, 2, 3, { BufferType: SECBUFFER.DATA, pvBuffer: bytes(1) }));
      assert.equal(statusName(callback.status), 'STATUS_INTERNAL_ERROR');
      assert.equal(callback.Output, undefined);
    });

    it("runs ClientCallback in the calling process with this package's id and hands back its output", async () => {
      const sent: unknown[] = [];
      const client = fakeProcess(async (_op, body) => (sent.push(body), { status: 0, output: { BufferType: SECBUFFER.DATA, pvBuffer: bytes(9) } }));
      const { table } = setup();
      const input = { BufferType: SECBUFFER.DATA, pvBuffer: bytes(1) };
      const r = await inCall(client, () => table.ClientCallback(11, 22, 33, input));
      assert.deepEqual(r, { status: 0, Output: { BufferType: SECBUFFER.DATA, pvBuffer: bytes(9) } });
      assert.deepEqual(sent, [{ packageId: PKG, callbackId: 11, argument1: 22, argument2: 33, input }]);
    });
  });

  describe("CallPackagePassthrough: to the domain's authority", () => {
    it("hands the package name and a copy of the bytes it was told to (SubmitBufferLength of them) to the LSA's route, and answers what it answers", async () => {
      const { table, services } = setup();
      const asked: Array<[string, Uint8Array]> = [];
      services.passThrough = async (name, data) => {
        asked.push([name, data]);
        return {
          status: 0,
          ProtocolStatus: 0xc000006a,
          ProtocolReturnBuffer: bytes(7),
          ReturnBufferLength: 1,
          where: 'the DC at 127.0.0.1:1',
          reason: 'for the trace',
        };
      };
      const buffer = bytes(1, 2, 3, 4);
      const r = await table.CallPackagePassthrough('NTLM', null, buffer, 3);
      assert.deepEqual(r, { status: 0, ProtocolStatus: 0xc000006a, ProtocolReturnBuffer: bytes(7), ReturnBufferLength: 1 });
      assert.deepEqual(asked, [['NTLM', bytes(1, 2, 3)]]);
      buffer.fill(0);
      assert.deepEqual(asked[0]![1], bytes(1, 2, 3), 'the route has its own copy');
    });

    it('refuses bad arguments with STATUS_INVALID_PARAMETER, and answers STATUS_NOT_IMPLEMENTED where the LSA has no route', async () => {
      const { table, services } = setup();
      let calls = 0;
      services.passThrough = async () => (calls++, { status: 0, where: 'nowhere' });
      const call = table.CallPackagePassthrough as (...args: unknown[]) => Promise<{ status: number }>;
      for (const args of [
        ['', null, bytes(1), 1],
        ['NTLM', 1234, bytes(1), 1],
        ['NTLM', null, 'bytes', 1],
        ['NTLM', null, bytes(1), 2],
        ['NTLM', null, bytes(1), -1],
        ['NTLM', null, new Uint8Array(40 * 1024), 40 * 1024],
        [7, null, bytes(1), 1],
      ])
        assert.equal(statusName((await call(...args)).status), 'STATUS_INVALID_PARAMETER', JSON.stringify(args.map(String)));
      assert.equal(calls, 0);
      delete services.passThrough;
      assert.equal(statusName((await table.CallPackagePassthrough('NTLM', null, bytes(1), 1)).status), 'STATUS_NOT_IMPLEMENTED');
    });

    it("gives the waiting call's slot to the others while the route answers", async () => {
      const { services } = setup();
      const waited: string[] = [];
      const table = createLsaFunctionTable(PKG, {
        ...services,
        scheduler: { whileWaiting: (queue, wait) => (waited.push(queue.name), wait()) },
        passThrough: async () => ({ status: 0, where: 'the DC' }),
      });
      const process = fakeProcess(async () => ({}));
      await inCall(process, () => table.CallPackagePassthrough('NTLM', null, bytes(1), 1));
      assert.deepEqual(waited, ['client']);
    });
  });
});
