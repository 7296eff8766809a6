// Faults across the boundaries: packages that fail to load, throw or never answer, and processes
// that die mid-handshake (the LSA itself included). Nothing may hang; nothing may leak.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { ALICE, establish, fixtureApp, fixturePackage, withMachine } from '../helpers/machine.js';

const status = (r: unknown): string => statusName((r as { status: number }).status);

describe('package faults', () => {
  it('skips a package whose SpInitialize fails or whose module is not a package, reports why, and loads the others', async () => {
    const packages = ['example', fixturePackage('fail-init'), fixturePackage('no-entry'), '/nonexistent/package.js', 'nosuchbuiltin', fixturePackage('probe')];
    await withMachine({ packages }, async (machine) => {
      const report = await machine.lsa.packages();
      assert.deepEqual(
        report.loaded.map((p) => p.name),
        ['Example', 'Probe'],
      );
      const stages = Object.fromEntries(report.failed.map((f) => [f.spec.replace(/.*\//, ''), f.stage]));
      assert.deepEqual(stages, { 'fail-init.js[0]': 'SpInitialize', 'no-entry.js': 'SpLsaModeInitialize', 'package.js': 'import', nosuchbuiltin: 'resolve' });
      assert.match(report.failed.find((f) => f.stage === 'SpInitialize')!.reason, /STATUS_UNSUCCESSFUL/);
      const client = await machine.spawn('client');
      assert.equal(status(await client.sspi.querySecurityPackageInfo('FailInit')), 'SEC_E_SECPKG_NOT_FOUND');
    });
  });

  it('contains a package that throws: the caller gets SEC_E_INTERNAL_ERROR with the cause, and the LSA and other packages keep serving', async () => {
    await withMachine({ packages: ['example', fixturePackage('thrower')] }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const cred = await client.sspi.acquireCredentialsHandle({ package: 'Thrower', credentialUse: SECPKG_CRED.OUTBOUND });
      const r = await client.sspi.initializeSecurityContext({ credential: cred.credential!, contextReq: 0 });
      assert.equal(status(r), 'SEC_E_INTERNAL_ERROR');
      assert.equal(r.cause?.code, 'PACKAGE_THREW');
      assert.match(r.cause?.message ?? '', /Thrower: SpInitLsaModeContext threw: probe: InitLsaModeContext thrown on purpose/);
      assert.equal(r.context, undefined, 'no handle is left behind');
      assert.ok((await establish(client, server)).ok);
    });
  });

  it('fails a call into a package that never returns within the configured time, and serves the other packages meanwhile', { timeout: 20_000 }, async () => {
    await withMachine({ packages: ['example', fixturePackage('hanger')], packageCallTimeoutMs: 400 }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const cred = await client.sspi.acquireCredentialsHandle({ package: 'Hanger', credentialUse: SECPKG_CRED.OUTBOUND });
      const stuck = client.sspi.initializeSecurityContext({ credential: cred.credential!, contextReq: 0 });
      const meanwhile = await establish(client, server);
      assert.ok(meanwhile.ok, 'the Example package answers while Hanger is stuck');
      const r = await stuck;
      assert.equal(status(r), 'SEC_E_INTERNAL_ERROR');
      assert.equal(r.cause?.code, 'PACKAGE_TIMEOUT');
    });
  });
});

describe('process faults', () => {
  it('frees the handles of a client killed mid-handshake', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const survivor = await machine.spawn('client');
      const kept = await establish(survivor, server);
      const base = await machine.lsa.stats();
      const cred = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      const leg1 = await client.sspi.initializeSecurityContext({ credential: cred.credential!, contextReq: 0 });
      const leg2 = await server.sspi.acceptSecurityContext({ credential: kept.serverCredential, input: leg1.output, contextReq: 0 });
      assert.equal(status(leg2), 'SEC_I_CONTINUE_NEEDED');
      const during = await machine.lsa.stats();
      assert.equal(during.contexts, base.contexts + 2);
      assert.equal(during.credentials, base.credentials + 1);
      const reaped = await machine.kill(client);
      assert.deepEqual(reaped, { contexts: 1, credentials: 1 });
      const after = await machine.lsa.stats();
      assert.equal(after.contexts, base.contexts + 1, "only the server's half-made context remains, which the server still owns");
      assert.equal(after.credentials, base.credentials);
      assert.equal(after.processes, base.processes - 1);
      assert.equal(status(await server.sspi.deleteSecurityContext(leg2.context!)), 'SEC_E_OK');
      assert.equal((await machine.lsa.stats()).contexts, base.contexts);
      assert.equal(status(await survivor.sspi.queryContextAttributes(kept.clientContext!, 0)), 'SEC_E_OK');
    });
  });

  it('fails every call pending on a killed LSA at once with SEC_E_INTERNAL_ERROR and a cause', { timeout: 20_000 }, async () => {
    await withMachine({ packages: ['example', fixturePackage('hanger')], packageCallTimeoutMs: 0 }, async (machine) => {
      const client = await machine.spawn('client');
      const cred = await client.sspi.acquireCredentialsHandle({ package: 'Hanger', credentialUse: SECPKG_CRED.OUTBOUND });
      const pending = Array.from({ length: 10 }, () => client.sspi.initializeSecurityContext({ credential: cred.credential!, contextReq: 0 }));
      await machine.kill(machine.lsa);
      const results = await Promise.all(pending);
      for (const r of results) {
        assert.equal(status(r), 'SEC_E_INTERNAL_ERROR');
        assert.equal(r.cause?.code, 'PEER_GONE');
      }
      const later = await client.sspi.enumerateSecurityPackages();
      assert.equal(status(later), 'SEC_E_INTERNAL_ERROR', 'later calls fail at once too');
      await assert.rejects(machine.lsa.stats(), { name: 'TransportError', code: 'PEER_GONE' });
    });
  });

  it("makes the client's next call fail, not hang, when the server is killed", { timeout: 20_000 }, async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const holding = server.runApp(fixtureApp('hold-server'), { name: 'held' });
      const run = client.runApp(null, { server: 'held', package: 'Example', user: 'alice', password: 'Passw0rd!' });
      assert.equal(status(await holding), 'SEC_E_OK');
      await machine.kill(server);
      const result = await run;
      assert.equal(result.statusName, 'SEC_E_INTERNAL_ERROR');
      assert.match(result.detail ?? '', /PEER_GONE/);
      assert.equal((await client.stats()).handles.contexts, 0, 'the client cleaned up its context');
    });
  });

  it('fails a connect to a name nobody monitors with NOT_LISTENING after the wait, and frees what it acquired', async () => {
    await withMachine({}, async (machine) => {
      const client = await machine.spawn('client');
      const result = await client.runApp(null, { server: 'nobody', user: 'alice', password: 'Passw0rd!', connectWaitMs: 50 });
      assert.equal(result.statusName, 'SEC_E_INTERNAL_ERROR');
      assert.match(result.detail ?? '', /NOT_LISTENING: nothing monitors nobody \(waited 50 ms\)/);
      assert.deepEqual((await client.stats()).handles, { credentials: 0, contexts: 0 });
      assert.equal((await machine.lsa.stats()).credentials, 0);
    });
  });

  it('rejects control calls to a dead process with PEER_GONE instead of hanging', async () => {
    await withMachine({}, async (machine) => {
      const client = await machine.spawn('client');
      await machine.kill(client);
      await assert.rejects(client.stats(), { name: 'TransportError', code: 'PEER_GONE' });
      await assert.rejects(client.sspi.enumerateSecurityPackages(), { code: 'PEER_GONE' });
    });
  });

  it('refuses to spawn a process as an account the LSA does not know', async () => {
    await withMachine({}, async (machine) => {
      await assert.rejects(machine.spawn('client', { logonAs: 'mallory' }), { name: 'SspiEmuError', code: 'SPAWN_FAILED', message: /no account "mallory"/ });
      const ok = await machine.spawn('client');
      assert.equal(status(await ok.sspi.enumerateSecurityPackages()), 'SEC_E_OK');
    });
  });

  it('fails to boot with a clear reason when the LSA cannot start', async () => {
    const { Machine } = await import('../../machine/machine.js');
    await assert.rejects(Machine.boot({ accounts: ['no-colon'] }), /USER:PASSWORD/);
    assert.equal(SECBUFFER.TOKEN, 2);
  });
});
