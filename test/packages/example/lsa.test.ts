// The example package's LSA-mode half and the LSA's work pool (packages/example/lsa.ts), in this
// thread over the real LSA function table, with a pool whose tasks the test finishes when it
// chooses: K is derived with CreateThread (BCryptDeriveKeyPBKDF2) as wire.ts derives it, once per
// explicit-credential acquire and once per account at the server, however many first hellos wait
// for it; a derivation that fails is the call's failure and is not remembered.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECPKG_INTERFACE_VERSION, SECPKG_STATE, type PackageId, type SecpkgFunctionTable } from '../../../headers/ntsecpkg.js';
import { SECBUFFER, SECPKG_CRED, tokenBytes, type SecBuffer } from '../../../headers/sspi.js';
import { STATUS_INSUFFICIENT_RESOURCES, STATUS_NOT_IMPLEMENTED, statusName } from '../../../headers/status.js';
import { CallPoints, packageHost } from '../../../hosting/index.js';
import { asProcessId } from '../../../ipc/ids.js';
import { Tracer } from '../../../ipc/trace.js';
import { AccountStore } from '../../../lsa/accounts.js';
import { runAsClientCall, type LsaClientProcess } from '../../../lsa/client-call.js';
import { createLsaFunctionTable, type LsaServices } from '../../../lsa/function-table.js';
import { LogonSessions } from '../../../lsa/logon-sessions.js';
import { ProcessQueue } from '../../../lsa/scheduler.js';
import { NestedHandles } from '../../../lsa/package-locator.js';
import type { WorkOutcome } from '../../../lsa/work-pool.js';
import { runWorkTask, type WorkTask } from '../../../lsa/work-routines.js';
import { SpLsaModeInitialize } from '../../../packages/example/index.js';
import { LsaWorkError } from '../../../packages/kit/index.js';
import { deriveSecret, helloProof, PBKDF2_ITERATIONS, secretSalt, unpackClientHello } from '../../../packages/example/wire.js';
import { packAuthIdentity } from '../../../sspi/auth-identity.js';
import { ALICE } from '../../helpers/machine.js';

/** A work pool whose tasks wait until the test finishes them (run, or fail). */
class HeldWork {
  readonly tasks: Array<{ task: WorkTask; settle: (outcome: WorkOutcome) => void }> = [];
  run = (task: WorkTask): Promise<WorkOutcome> => new Promise((settle) => this.tasks.push({ task, settle }));
  /** Runs every waiting task as the pool would; how many there were. */
  finishAll(): number {
    const waiting = this.tasks.splice(0);
    for (const { task, settle } of waiting) settle({ ok: true, output: runWorkTask(task), threadId: 99 });
    return waiting.length;
  }
  failAll(): number {
    const waiting = this.tasks.splice(0);
    for (const { settle } of waiting) settle({ ok: false, status: STATUS_INSUFFICIENT_RESOURCES, reason: 'the queue is full' });
    return waiting.length;
  }
}

/** Lets the package's awaits that do not wait on the pool (CopyFromClientBuffer's reply) run. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** ALICE's identity, as the calling process holds it at address 1. */
const IDENTITY = packAuthIdentity(ALICE);
const AUTH_DATA = { address: 1, length: IDENTITY.byteLength };

async function examplePackage(): Promise<{ table: SecpkgFunctionTable; work: HeldWork; call: <T>(fn: () => T) => T; holding: (identity: Uint8Array) => void }> {
  const work = new HeldWork();
  // What the calling process holds at the identity's address (CopyFromClientBuffer reads it).
  let held = IDENTITY;
  // The calling process: CopyFromClientBuffer reads the identity from it.
  const process: LsaClientProcess = {
    pid: asProcessId(42),
    name: 'client',
    threadId: 5,
    logonId: 0x3e6n,
    lpc: { call: () => Promise.resolve({ status: 0, bytes: held }) } as unknown as LsaClientProcess['lpc'],
    terminated: false,
    callCount: 0,
    queue: new ProcessQueue('client'),
  };
  const services: LsaServices = {
    sessions: new LogonSessions(),
    accounts: new AccountStore([{ user: ALICE.User, domain: ALICE.Domain, password: ALICE.Password }]),
    points: new CallPoints(new Tracer(null, 'lsa', 0, false)),
    locator: {
      packages: { byName: () => undefined, byId: () => undefined, version: () => undefined },
      host: packageHost(new CallPoints(new Tracer(null, 'lsa', 0, false)), () => undefined, 0),
      nested: new NestedHandles(),
    },
    processById: () => process,
    heap: { allocations: 0, bytes: 0 },
    scheduler: { whileWaiting: (_queue, wait) => wait() },
    work,
    unloadPackage: () => STATUS_NOT_IMPLEMENTED,
  };
  const table = (await SpLsaModeInitialize(SECPKG_INTERFACE_VERSION)).ppTables[0]!;
  const id = 1 as PackageId;
  const parameters = {
    Version: SECPKG_INTERFACE_VERSION,
    MachineState: SECPKG_STATE.STANDALONE,
    SetupMode: 0,
    DomainName: ALICE.Domain,
    DnsDomainName: 'sspi-emu.local',
    ComputerName: ALICE.Domain,
    DnsComputerName: 'sspi-emu.sspi-emu.local',
    PackageSettings: {},
  };
  await table.Initialize(id, parameters, createLsaFunctionTable(id, services));
  const call = <T>(fn: () => T): T => runAsClientCall({ process, callId: 1, op: 'test' }, fn);
  return { table, work, call, holding: (identity) => (held = identity) };
}

const output = (): SecBuffer[] => [{ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(0) }];

/** An outbound credential from the explicit identity, its derivation finished; and the ClientHello it makes. */
async function hello(pkg: Awaited<ReturnType<typeof examplePackage>>, identity = IDENTITY): Promise<SecBuffer[]> {
  pkg.holding(identity);
  const acquiring = pkg.call(() => pkg.table.AcquireCredentialsHandle(null, SECPKG_CRED.OUTBOUND, null, { address: 1, length: identity.byteLength }, null, null));
  await settled();
  assert.equal(pkg.work.finishAll(), 1, "the acquire's derivation");
  const cred = await acquiring;
  const out = output();
  const first = await pkg.call(() => pkg.table.InitLsaModeContext(cred.CredentialHandle!, null, null, 0, 0, null, out));
  assert.equal(statusName(first.status), 'SEC_I_CONTINUE_NEEDED');
  return out;
}

/** A server's inbound credential (nothing to derive). */
async function inbound(pkg: Awaited<ReturnType<typeof examplePackage>>): Promise<number> {
  const cred = await pkg.call(() => pkg.table.AcquireCredentialsHandle(null, SECPKG_CRED.INBOUND, null, null, null, null));
  return cred.CredentialHandle!;
}

describe('the example package and the LSA work pool', () => {
  it("derives an explicit credential's K with CreateThread, as wire.ts deriveSecret does", async () => {
    const pkg = await examplePackage();
    const acquiring = pkg.call(() => pkg.table.AcquireCredentialsHandle(null, SECPKG_CRED.OUTBOUND, null, AUTH_DATA, null, null));
    await settled();
    assert.equal(pkg.work.tasks.length, 1, 'the acquire waits on the pool');
    const { task } = pkg.work.tasks[0]!;
    assert.equal(task.routine, 'BCryptDeriveKeyPBKDF2');
    assert.deepEqual([task.parameter.Prf, task.parameter.Iterations, task.parameter.DerivedKeyLength], ['SHA256', PBKDF2_ITERATIONS, 32]);
    assert.equal(Buffer.from(task.parameter.Salt).toString(), secretSalt(ALICE.User));
    pkg.work.finishAll();
    const cred = await acquiring;
    assert.equal(statusName(cred.status), 'SEC_E_OK');
    // The ClientHello's P1 is a MAC under K: it verifies with the K that wire.ts derives.
    const out = output();
    await pkg.call(() => pkg.table.InitLsaModeContext(cred.CredentialHandle!, null, null, 0, 0, null, out));
    const parsed = unpackClientHello(tokenBytes(out)!)!;
    assert.deepEqual(new Uint8Array(parsed.p1), new Uint8Array(helloProof(deriveSecret(ALICE.User, ALICE.Password), parsed.nc, ALICE.User, ALICE.Domain)));
  });

  it("derives an account's K once at the server: first hellos that arrive meanwhile wait for the same one, later hellos for none", async () => {
    const pkg = await examplePackage();
    const server = await inbound(pkg);
    const hellos = [await hello(pkg), await hello(pkg), await hello(pkg)];
    const accept = (token: SecBuffer[]) => pkg.call(() => pkg.table.AcceptLsaModeContext(server, null, token, 0, 0, output()));
    const first = [accept(hellos[0]!), accept(hellos[1]!)];
    await settled();
    assert.equal(pkg.work.finishAll(), 1, 'one derivation for both');
    assert.deepEqual(
      (await Promise.all(first)).map((r) => statusName(r.status)),
      ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED'],
    );
    assert.equal(statusName((await accept(hellos[2]!)).status), 'SEC_I_CONTINUE_NEEDED');
    assert.equal(pkg.work.tasks.length, 0, 'K is known from then on');
  });

  it("derives an account's K once however the clients spell its name: other domains and cases are the one account the SAM finds", async () => {
    // Found by an attack: keyed by the spelling, every made-up domain was a derivation and an entry
    // of a cache shared by every process, kept for the LSA's life.
    const pkg = await examplePackage();
    const server = await inbound(pkg);
    const spellings = ['OTHER1', 'OTHER2', 'other3', ALICE.Domain].map((Domain) => packAuthIdentity({ ...ALICE, Domain }));
    const hellos: SecBuffer[][] = [];
    for (const identity of [...spellings, packAuthIdentity({ ...ALICE, User: ALICE.User.toUpperCase() })]) hellos.push(await hello(pkg, identity));
    const accept = (token: SecBuffer[]) => pkg.call(() => pkg.table.AcceptLsaModeContext(server, null, token, 0, 0, output()));
    const first = accept(hellos[0]!);
    await settled();
    assert.equal(pkg.work.finishAll(), 1, 'the account, derived once');
    assert.equal(statusName((await first).status), 'SEC_I_CONTINUE_NEEDED');
    for (const h of hellos.slice(1)) {
      const answered = await accept(h);
      assert.equal(statusName(answered.status), 'SEC_I_CONTINUE_NEEDED');
    }
    assert.equal(pkg.work.tasks.length, 0, 'no derivation for another spelling of the same account');
  });

  it('fails the call whose derivation failed (LsaWorkError, with the status), and derives again at the next hello', async () => {
    const pkg = await examplePackage();
    const acquiring = pkg.call(() => pkg.table.AcquireCredentialsHandle(null, SECPKG_CRED.OUTBOUND, null, AUTH_DATA, null, null));
    await settled();
    pkg.work.failAll();
    await assert.rejects(Promise.resolve(acquiring), (error: unknown) => {
      assert.ok(error instanceof LsaWorkError);
      assert.equal(error.code, 'LSA_WORK_FAILED');
      assert.equal(statusName(error.status), 'STATUS_INSUFFICIENT_RESOURCES');
      assert.match(error.message, /CreateThread\(BCryptDeriveKeyPBKDF2\) answered STATUS_INSUFFICIENT_RESOURCES/);
      return true;
    });
    const server = await inbound(pkg);
    const token = await hello(pkg);
    const refused = pkg.call(() => pkg.table.AcceptLsaModeContext(server, null, token, 0, 0, output()));
    await settled();
    assert.equal(pkg.work.failAll(), 1);
    await assert.rejects(Promise.resolve(refused), LsaWorkError);
    const again = pkg.call(() => pkg.table.AcceptLsaModeContext(server, null, token, 0, 0, output()));
    await settled();
    assert.equal(pkg.work.finishAll(), 1, 'a failed derivation is not remembered');
    assert.equal(statusName((await again).status), 'SEC_I_CONTINUE_NEEDED');
  });
});
