// Found by the chaos runs (the LSA left with a credential and no process): a package's
// SpAcquireCredentialsHandle (or first SpInitLsaModeContext/SpAcceptLsaModeContext) that answers
// after the LSA reaped the process that asked made a handle for that dead process, which nothing
// would ever release. The dispatcher now gives the package's handle back to it instead.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { Machine } from '../../machine/machine.js';
import { fixturePackage, withMachine } from '../helpers/machine.js';

/** Waits (up to 10 s) until the LSA's trace has `call`'s `phase`; whether it came. */
async function lsaTraced(machine: Machine, call: string, phase: 'call' | 'return'): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    const events = await machine.events();
    if (events.some((e) => e.process === 'lsa' && e.call === call && e.phase === phase)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('a handle the package makes after its process was reaped', () => {
  it('a credential gets no handle in the LSA: the package frees it again, and nothing is left', { timeout: 60_000 }, async () => {
    await withMachine(
      { packages: [fixturePackage('late-credential')], accounts: ['alice:Passw0rd!'], trace: true, packageCallTimeoutMs: 30_000 },
      async (machine) => {
        const client = await machine.spawn('client', { logonAs: 'alice' });
        const asked = client.sspi.acquireCredentialsHandle({ package: 'LateCredential', credentialUse: SECPKG_CRED.OUTBOUND }).catch((e: unknown) => e);
        assert.ok(await lsaTraced(machine, 'SpAcquireCredentialsHandle', 'call'), 'the package is acquiring');
        // Reaping the process ends its logon session, which lets the package answer: after the reap.
        await machine.kill(client);
        await asked;
        assert.ok(await lsaTraced(machine, 'SpAcquireCredentialsHandle', 'return'), 'the package answered');
        assert.ok(await lsaTraced(machine, 'SpFreeCredentialsHandle', 'return'), "the package's credential was freed again");
        const stats = await machine.lsa.stats();
        assert.deepEqual(
          { processes: stats.processes, credentials: stats.credentials, contexts: stats.contexts },
          { processes: 0, credentials: 0, contexts: 0 },
        );
      },
    );
  });

  it('a context gets no handle in the LSA: the package deletes it again, and nothing is left', { timeout: 60_000 }, async () => {
    await withMachine(
      { packages: [fixturePackage('late-context')], accounts: ['alice:Passw0rd!'], trace: true, packageCallTimeoutMs: 30_000 },
      async (machine) => {
        const server = await machine.spawn('server', { logonAs: 'alice' });
        const credential = await server.sspi.acquireCredentialsHandle({ package: 'LateContext', credentialUse: SECPKG_CRED.INBOUND });
        assert.equal(statusName(credential.status), 'SEC_E_OK');
        const hello = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: new TextEncoder().encode('probe-hello') }];
        const asked = server.sspi.acceptSecurityContext({ credential: credential.credential!, input: hello, contextReq: 0 }).catch((e: unknown) => e);
        assert.ok(await lsaTraced(machine, 'SpAcceptLsaModeContext', 'call'), 'the package is accepting');
        await machine.kill(server);
        await asked;
        assert.ok(await lsaTraced(machine, 'SpAcceptLsaModeContext', 'return'), 'the package answered');
        assert.ok(await lsaTraced(machine, 'SpDeleteContext', 'return'), "the package's context was deleted again");
        const deleted = (await machine.events()).find((e) => e.process === 'lsa' && e.call === 'SpDeleteContext' && e.phase === 'return');
        assert.equal(deleted?.status, 'SEC_E_OK', 'the context the package made, not another');
        const stats = await machine.lsa.stats();
        assert.deepEqual(
          { processes: stats.processes, credentials: stats.credentials, contexts: stats.contexts },
          { processes: 0, credentials: 0, contexts: 0 },
        );
      },
    );
  });
});
