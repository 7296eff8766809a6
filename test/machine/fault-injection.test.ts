// Fault injection as a feature: crash or stall a process at a named call, mangle its LPC
// messages, make a package throw or hang on purpose, each through the machine's fault plans. The
// machine copes with each: clear statuses, no hang, nothing left behind. (Killing and restarting
// the LSA is test/lsa/lsa.test.ts.)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { FAULT_EXIT_CODE } from '../../faults/index.js';
import { ALICE, establish, withMachine } from '../helpers/machine.js';

const status = (r: unknown): string => statusName((r as { status: number }).status);

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`fault injection (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('crashes a client at a named call point, and the LSA reaps what it held', { timeout: 20_000 }, async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        await client.injectFaults({ killAt: { call: 'InitializeSecurityContext', phase: 'return', nth: 2 } });
        await assert.rejects(establish(client, server), { code: 'PEER_GONE' });
        assert.equal(await client.exited, FAULT_EXIT_CODE);
        await machine.kill(client);
        const stats = await machine.lsa.stats();
        assert.equal(
          stats.perProcess.find((p) => p.name === 'client'),
          undefined,
        );
        assert.equal(stats.credentials, 1, "only the server's credential is left");
      });
    });

    it('makes a package entry point throw a given number of times, then serves normally', async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        await machine.lsa.injectFaults({ packageFault: { package: 'Example', entry: 'SpAcceptLsaModeContext', kind: 'throw', count: 1 } });
        const first = await establish(client, server);
        assert.equal(first.steps.at(-1)?.status, 'SEC_E_INTERNAL_ERROR');
        assert.ok((await establish(client, server)).ok);
        assert.deepEqual(await machine.lsa.injectFaults(null), { 'package-throw': 1 });
      });
    });

    it('fails a call into a package made to hang within the package call timeout', { timeout: 20_000 }, async () => {
      await withMachine({ lsaIsolation, packageCallTimeoutMs: 300 }, async (machine) => {
        const client = await machine.spawn('client');
        await machine.lsa.injectFaults({ packageFault: { package: 'Example', entry: 'SpAcquireCredentialsHandle', kind: 'hang' } });
        const r = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
        assert.equal(status(r), 'SEC_E_INTERNAL_ERROR');
        assert.equal(r.cause?.code, 'PACKAGE_TIMEOUT');
      });
    });

    it('turns dropped LPC messages into SEC_E_INTERNAL_ERROR with a TIMEOUT cause, never a hang', { timeout: 20_000 }, async () => {
      await withMachine({ lsaIsolation, lpcTimeoutMs: 300 }, async (machine) => {
        const client = await machine.spawn('client');
        await client.injectFaults({ lpc: { seed: 7, drop: 1 } });
        const r = await client.sspi.enumerateSecurityPackages();
        assert.equal(status(r), 'SEC_E_INTERNAL_ERROR');
        assert.equal(r.cause?.code, 'TIMEOUT');
        assert.deepEqual(await client.injectFaults(null), { drop: 1 });
        assert.equal(status(await client.sspi.enumerateSecurityPackages()), 'SEC_E_OK');
      });
    });

    it('still answers every call correctly when its messages are duplicated, delayed and reordered', { timeout: 20_000 }, async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        await client.injectFaults({ lpc: { seed: 3, duplicate: 0.2, delay: 0.2, delayMs: 5, reorder: 0.2 } });
        for (let i = 0; i < 5; i++) assert.ok((await establish(client, server)).ok, `handshake ${i}`);
        const injected = await client.injectFaults(null);
        assert.ok((injected.duplicate ?? 0) + (injected.delay ?? 0) + (injected.reorder ?? 0) > 0, JSON.stringify(injected));
        await machine.kill(client);
        assert.equal((await machine.lsa.stats()).perProcess.length, 1, 'duplicated requests left nothing behind the reaping');
      });
    });

    it('stalls a process at a named call and lets it go on afterwards', { timeout: 20_000 }, async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        await server.injectFaults({ stallAt: { call: 'AcceptSecurityContext', phase: 'call', ms: 200 } });
        assert.ok((await establish(client, server)).ok);
        assert.deepEqual(await server.injectFaults(null), { stall: 1 });
      });
    });
  });
