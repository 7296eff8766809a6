// Trust boundaries: what one process can make the LSA hold. A call is decoded before it waits
// (the raw body is not kept), its strings and buffers are bounded, and the calls one process has
// waiting hold at most queuedBytes; past that they are refused at once. (A rogue stalled its own
// slots, then queued calls of 64 MiB each, and the LSA ran out of memory.)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { fixtureApp, withMachine } from '../helpers/machine.js';

const status = (r: unknown): string => statusName((r as { status: number }).status);

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`what a process can make the LSA hold (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('refuses strings and buffers past their bounds before anything waits', async () => {
      await withMachine({ lsaIsolation, packages: ['example'] }, async (machine) => {
        const rogue = await machine.spawn('client', { name: 'rogue' });
        const acquire = (fields: object) =>
          rogue.lpcCall('SpAcquireCredentialsHandle', {
            pszPrincipal: null,
            pszPackage: 'Example',
            fCredentialUse: SECPKG_CRED.INBOUND,
            pvLogonId: null,
            pAuthData: null,
            ...fields,
          });
        assert.equal(status(await acquire({ pszPackage: 'x'.repeat(10_000) })), 'SEC_E_SECPKG_NOT_FOUND');
        assert.equal(status(await acquire({ pszPrincipal: 'p'.repeat(1_000_000) })), 'SEC_E_INVALID_PARAMETER');
        const tooMuch = [0, 1, 2].map(() => ({ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(1 << 20) }));
        const accept = await rogue.lpcCall('SpAcceptLsaModeContext', {
          hCredential: 1,
          hContext: null,
          input: tooMuch,
          fContextReq: 0,
          TargetDataRep: 0,
          outputTypes: [SECBUFFER.TOKEN],
        });
        assert.equal(status(accept), 'SEC_E_INVALID_TOKEN', 'three buffers of 1 MiB are more than a call may carry');
        const init = await rogue.lpcCall('SpInitLsaModeContext', {
          hCredential: 1,
          hContext: null,
          pszTargetName: 't'.repeat(2_000_000),
          fContextReq: 0,
          TargetDataRep: 0,
          input: null,
          outputTypes: [SECBUFFER.TOKEN],
        });
        assert.equal(status(init), 'SEC_E_INVALID_TOKEN');
      });
    });

    it('refuses waiting calls past queuedBytes with SEC_E_INSUFFICIENT_MEMORY, and serves them once its slot frees', { timeout: 60_000 }, async () => {
      await withMachine(
        { lsaIsolation, packages: ['example'], packageCallTimeoutMs: 500, processQuota: { runningCalls: 1, queuedBytes: 4 << 20 } },
        async (machine) => {
          const rogue = await machine.spawn('client', { name: 'rogue' });
          const result = await rogue.runApp(fixtureApp('rogue'), { attack: 'stall-and-queue', count: 12, bytes: 1 << 20 });
          const statuses = result.data?.statuses as Record<string, number>;
          // Three fit in 4 MiB of waiting calls; the others are refused at once. The three are served
          // when the stalled acquire's deadline frees the slot (and find no such credential).
          assert.deepEqual(statuses, { SEC_E_INSUFFICIENT_MEMORY: 9, SEC_E_INVALID_HANDLE: 3 });
          const mine = (await machine.lsa.stats()).perProcess.find((p) => p.name === 'rogue')!;
          assert.equal(mine.overQueue, 9);
          assert.equal(mine.queued, 0);
        },
      );
    });
  });
