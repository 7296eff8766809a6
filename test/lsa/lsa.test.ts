// The LSA as a whole, in a real machine: it reaps what a killed process held and nothing else;
// calls pending on an LSA that is killed fail at once; and a restarted LSA honours no handle of
// the old one, while contexts already mapped into processes keep protecting messages.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { status, withClientAndServer } from '../helpers/calls.js';
import { ALICE, establish, fixturePackage, withMachine } from '../helpers/machine.js';

describe('the LSA', () => {
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

  it(
    'restarts a killed LSA: old handles get SEC_E_INVALID_HANDLE, new handshakes work, mapped contexts keep protecting messages',
    { timeout: 30_000 },
    async () => {
      await withClientAndServer({}, async ({ machine, client, server }) => {
        const old = await establish(client, server);
        await machine.kill(machine.lsa);
        await machine.restartLsa();
        assert.equal(status(await client.sspi.queryContextAttributes(old.clientContext!, SECPKG_ATTR.NATIVE_NAMES)), 'SEC_E_INVALID_HANDLE');
        assert.equal(status(await client.sspi.initializeSecurityContext({ credential: old.clientCredential, contextReq: 0 })), 'SEC_E_INVALID_HANDLE');
        const sealed = await client.sspi.encryptMessage(
          old.clientContext!,
          0,
          [
            { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
            { BufferType: SECBUFFER.DATA, pvBuffer: new Uint8Array([1, 2, 3]) },
          ],
          0,
        );
        assert.equal(status(sealed), 'SEC_E_OK', 'the user-mode half needs no LSA');
        assert.equal(status(await server.sspi.decryptMessage(old.serverContext!, sealed.message, 0)), 'SEC_E_OK');
        assert.ok((await establish(client, server)).ok, 'a new handshake through the new LSA');
        assert.equal(status(await client.sspi.deleteSecurityContext(old.clientContext!)), 'SEC_E_INVALID_HANDLE');
      });
    },
  );
});
