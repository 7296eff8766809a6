// The user-mode host, in real processes: it loads a package's user-mode half into a process once
// (SpUserModeInitialize, SpInstanceInit), however many contexts it maps there, in the process's own
// module instance; it carries the LSA's ClientCallback to the function the half registered and the
// client buffer functions into the process; and a throw in a user-mode entry point fails that one
// call with SEC_E_INTERNAL_ERROR, the package's own message in its cause, the process serving on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR } from '../../headers/sspi.js';
import type { AppProcess } from '../../machine/machine.js';
import type { SspiResult } from '../../sspi/secur32.js';
import type { CtxtHandle } from '../../sspi/handles.js';
import { PROBE_ATTR_LSA, PROBE_ATTR_USER } from '../fixtures/packages/probe-core.js';
import { sealBuffers, status, text, withClientAndServer } from '../helpers/calls.js';
import { establish, fixturePackage, withMachine } from '../helpers/machine.js';

describe('the user-mode host', () => {
  it('loads a package into a process once, however many contexts it maps there', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      for (let i = 0; i < 5; i++) assert.ok((await establish(client, server)).ok);
      for (const proc of [client, server]) {
        const { userMode } = await proc.stats();
        assert.deepEqual(Object.values(userMode.spUserModeInitialize), [1]);
        assert.deepEqual(userMode.spInstanceInit, { Example: 1 });
        assert.equal(userMode.spInitUserModeContext, 5);
      }
    });
  });

  it('reports from inside each half the thread it runs on', async () => {
    await withClientAndServer({ packages: [fixturePackage('probe')] }, async ({ machine, client, server }) => {
      const done = await establish(client, server, { package: 'Probe' });
      assert.ok(done.ok, JSON.stringify(done.steps));
      const inLsa = await client.sspi.queryContextAttributes(done.clientContext!, PROBE_ATTR_LSA);
      const inUser = await client.sspi.queryContextAttributes(done.clientContext!, PROBE_ATTR_USER);
      assert.equal((inLsa.buffer as { lsaThreadId: number }).lsaThreadId, machine.lsa.threadId);
      assert.equal((inUser.buffer as { userThreadId: number }).userThreadId, client.threadId);
    });
  });

  it('keeps the LSA-mode half state out of reach of the user-mode half, in another isolate', async () => {
    await withClientAndServer({ packages: [fixturePackage('probe')] }, async ({ client, server }) => {
      const done = await establish(client, server, { package: 'Probe' });
      const seen = await client.sspi.queryContextAttributes(done.clientContext!, PROBE_ATTR_USER);
      assert.equal((seen.buffer as { lsaStateVisible: boolean }).lsaStateVisible, false, 'the module the user half runs in never saw SpInitialize');
    });
  });

  it('carries a ClientCallback from the LSA to the function the user-mode half registered, and the client buffer functions into the process', async () => {
    await withMachine({ packages: [fixturePackage('probe')], trace: true }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client', { logonAs: 'alice' });
      const done = await establish(client, server, { package: 'Probe', authData: null });
      assert.ok(done.ok);
      const result = await client.sspi.queryContextAttributes(done.clientContext!, PROBE_ATTR_LSA);
      assert.equal(status(result), 'SEC_E_OK');
      const probe = result.buffer as Record<string, unknown>;
      assert.equal(probe.callbackStatus, 0);
      assert.equal(probe.callbackOutput, `ping-pong 7 from thread ${client.threadId}`);
      assert.equal(probe.roundTrip, 'lsa-data');
      assert.deepEqual([probe.allocate, probe.copyTo, probe.free], [0, 0, 0]);
      assert.equal(probe.clientProcessId, client.pid);
      assert.notEqual(probe.clientLogonId, 0x3e6n, 'a process spawned as alice has her logon session, not the anonymous one');
      const events = await machine.events();
      const callback = events.find((e) => e.call === 'LsaCallbackFunction' && e.phase === 'call');
      assert.equal(callback?.threadId, client.threadId);
    });
  });
});

/** Packages whose user-mode half throws in one entry point, and the API call that reaches it on a mapped context. */
const THROWERS: ReadonlyArray<{
  fixture: string;
  name: string;
  entry: string;
  message: string;
  call: (proc: AppProcess, context: CtxtHandle) => Promise<SspiResult>;
}> = [
  {
    fixture: 'seal-thrower',
    name: 'SealThrower',
    entry: 'SpSealMessage',
    message: 'probe: SealMessage thrown on purpose',
    call: (proc, context) => proc.sspi.encryptMessage(context, 0, sealBuffers(text('x')), 0),
  },
  {
    fixture: 'complete-thrower',
    name: 'CompleteThrower',
    entry: 'SpCompleteAuthToken',
    message: 'probe: CompleteAuthToken thrown on purpose',
    call: (proc, context) => proc.sspi.completeAuthToken(context, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(0) }]),
  },
  {
    fixture: 'query-thrower',
    name: 'QueryThrower',
    entry: 'SpQueryContextAttributes',
    message: 'probe: QueryContextAttributes thrown on purpose',
    call: (proc, context) => proc.sspi.queryContextAttributes(context, SECPKG_ATTR.SIZES),
  },
];

describe('the user-mode host, given a package that throws', () => {
  for (const { fixture, name, entry, message, call } of THROWERS) {
    it(`answers SEC_E_INTERNAL_ERROR for a throw in the user-mode ${entry}, with the package's message in cause.message, and the process keeps serving`, async () => {
      await withClientAndServer({ packages: ['example', fixturePackage(fixture)] }, async ({ client, server }) => {
        const thrower = await establish(client, server, { package: name });
        assert.ok(thrower.ok, JSON.stringify(thrower.steps));
        const context = thrower.clientContext!;
        for (let i = 0; i < 2; i++) {
          const r = await call(client, context);
          assert.equal(status(r), 'SEC_E_INTERNAL_ERROR');
          assert.equal(r.cause?.code, 'PACKAGE_THREW');
          assert.ok(r.cause?.message.includes(`${name}: ${entry} threw: ${message}`), r.cause?.message);
        }
        // The context's other calls, the LSA's callbacks into the process, and another package all still work there.
        assert.equal(status(await client.sspi.queryContextAttributes(context, PROBE_ATTR_LSA)), 'SEC_E_OK');
        const example = await establish(client, server);
        assert.ok(example.ok, JSON.stringify(example.steps));
        const sealed = await client.sspi.encryptMessage(example.clientContext!, 0, sealBuffers(text('still serving')), 0);
        assert.equal(status(sealed), 'SEC_E_OK');
        assert.equal(status(await server.sspi.decryptMessage(example.serverContext!, sealed.message, 0)), 'SEC_E_OK');
        assert.equal(status(await client.sspi.deleteSecurityContext(context)), 'SEC_E_OK');
      });
    });
  }
});
