// Trust boundaries, finding 4: after restartLsa() the new LSA's handle values started in the same
// small range as the old one's, so most old credential handles were honoured by the new LSA, and
// freeing them freed credentials acquired after the restart. Now an old handle is always
// SEC_E_INVALID_HANDLE: the library never sends one, and the new LSA's values carry its generation.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { CredHandle } from '../../sspi/handles.js';
import { withMachine } from '../helpers/machine.js';

const COUNT = 300;
const status = (r: unknown): string => statusName((r as { status: number }).status);

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`handles after an LSA restart (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('answers SEC_E_INVALID_HANDLE for every credential of the old LSA, and frees none of the new ones', { timeout: 60_000 }, async () => {
      await withMachine({ lsaIsolation, packages: ['example'] }, async (machine) => {
        const client = await machine.spawn('client');
        const acquire = async (): Promise<CredHandle> => {
          const r = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.INBOUND });
          assert.equal(status(r), 'SEC_E_OK');
          return r.credential!;
        };
        const old: CredHandle[] = [];
        for (let i = 0; i < COUNT; i++) old.push(await acquire());
        await machine.kill(machine.lsa);
        const report = await machine.restartLsa();
        assert.deepEqual(report, { reattached: ['client'], unresponsive: [], gone: [] });
        const fresh: CredHandle[] = [];
        for (let i = 0; i < COUNT; i++) fresh.push(await acquire());

        const lpcBefore = (await client.stats()).lpc;
        for (const h of old) assert.equal(status(await client.sspi.freeCredentialsHandle(h)), 'SEC_E_INVALID_HANDLE');
        assert.deepEqual((await client.stats()).lpc, lpcBefore, 'the library sent none of the old values to the new LSA');
        assert.equal((await machine.lsa.stats()).credentials, COUNT, 'every credential of the new LSA is still there');
        for (const h of fresh) assert.equal(status(await client.sspi.freeCredentialsHandle(h)), 'SEC_E_OK');
        assert.equal((await machine.lsa.stats()).credentials, 0);
      });
    });

    it('never matches an old LSA handle value sent raw over LPC to a handle of the new LSA', { timeout: 60_000 }, async () => {
      await withMachine({ lsaIsolation, packages: ['example'] }, async (machine) => {
        const rogue = await machine.spawn('client', { name: 'rogue' });
        const raw = async (): Promise<number> => {
          const reply = (await rogue.lpcCall('SpAcquireCredentialsHandle', {
            pszPrincipal: null,
            pszPackage: 'Example',
            fCredentialUse: SECPKG_CRED.INBOUND,
            pvLogonId: null,
            pAuthData: null,
          })) as { status: number; hCredential: number };
          assert.equal(status(reply), 'SEC_E_OK');
          return reply.hCredential;
        };
        const old: number[] = [];
        for (let i = 0; i < COUNT; i++) old.push(await raw());
        await machine.kill(machine.lsa);
        await machine.restartLsa();
        const fresh = new Set<number>();
        for (let i = 0; i < COUNT; i++) fresh.add(await raw());
        // Not by luck of the random starting point: the two LSAs' values lie in disjoint ranges.
        assert.ok(Math.min(...fresh) > Math.max(...old), 'every value of the new LSA lies above every value of the old one');
        for (const h of old) {
          assert.equal(status(await rogue.lpcCall('SpFreeCredentialsHandle', { hCredential: h })), 'SEC_E_INVALID_HANDLE');
        }
        assert.equal((await machine.lsa.stats()).credentials, COUNT);
      });
    });
  });
