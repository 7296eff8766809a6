// Trust boundaries, finding 6: one process held 200,000 credentials and 200,001 contexts, and a
// flood of calls from one process moved another's handshakes from 5 to 381 ms. Now a process has a
// quota of handles and of calls waiting in the LSA (SEC_E_INSUFFICIENT_MEMORY past it, the cause
// naming the limit), the LSA shows what each process holds, and a process that posts far more than
// the LSA queues is cut off. (How fair the sharing is, in time, is a benchmark: bench/fairness.ts.)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { CredHandle } from '../../sspi/handles.js';
import { DEFAULT_CLIENT_REQ } from '../../client-proc/app.js';
import { ALICE, establish, fixtureApp, withMachine } from '../helpers/machine.js';

const status = (r: { status: number }): string => statusName(r.status);

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`a process quota (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('answers SEC_E_INSUFFICIENT_MEMORY past the credential quota, for that process only, until it frees one', async () => {
      await withMachine({ lsaIsolation, packages: ['example'], processQuota: { credentials: 5 } }, async (machine) => {
        const greedy = await machine.spawn('client', { name: 'greedy' });
        const other = await machine.spawn('client', { name: 'other' });
        const acquire = (p: typeof greedy) => p.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.INBOUND });
        const held: CredHandle[] = [];
        for (let i = 0; i < 5; i++) held.push((await acquire(greedy)).credential!);
        const over = await acquire(greedy);
        assert.equal(status(over), 'SEC_E_INSUFFICIENT_MEMORY');
        assert.equal(over.cause?.code, 'QUOTA_EXCEEDED');
        assert.match(over.cause?.message ?? '', /greedy holds 5 credentials, the most one process may/);
        assert.equal(status(await acquire(other)), 'SEC_E_OK', 'another process has a quota of its own');
        const stats = await machine.lsa.stats();
        assert.equal(stats.perProcess.find((p) => p.name === 'greedy')?.credentials, 5);
        assert.equal(stats.credentials, 6, 'the refused acquire left nothing behind');
        await greedy.sspi.freeCredentialsHandle(held.pop()!);
        assert.equal(status(await acquire(greedy)), 'SEC_E_OK');
      });
    });

    it('answers SEC_E_INSUFFICIENT_MEMORY for a new context past the context quota, and the existing ones work', async () => {
      await withMachine({ lsaIsolation, packages: ['example'], processQuota: { contexts: 3 } }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const done = await establish(client, server);
        assert.ok(done.ok);
        const c = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
        for (let i = 0; i < 2; i++)
          assert.equal(
            status(await client.sspi.initializeSecurityContext({ credential: c.credential!, contextReq: DEFAULT_CLIENT_REQ })),
            'SEC_I_CONTINUE_NEEDED',
          );
        const over = await client.sspi.initializeSecurityContext({ credential: c.credential!, contextReq: DEFAULT_CLIENT_REQ });
        assert.equal(status(over), 'SEC_E_INSUFFICIENT_MEMORY');
        assert.equal(over.context, undefined);
        assert.equal((await machine.lsa.stats()).perProcess.find((p) => p.name === 'client')?.contexts, 3);
        const names = await client.sspi.queryContextAttributes(done.clientContext!, 1 /* SECPKG_ATTR_NAMES */);
        assert.equal(status(names), 'SEC_E_OK');
      });
    });

    it('answers SEC_E_INSUFFICIENT_MEMORY once the input its live contexts carried passes the byte quota, and a delete gives it back', async () => {
      // Found by an attack: contexts of NTLM with megabyte target names held 2 MiB of the LSA each,
      // within a quota that counted contexts only. A target name is at most 32,767 characters now
      // (a UNICODE_STRING's), and the bytes are charged.
      await withMachine({ lsaIsolation, packages: ['ntlm'], processQuota: { contextBytes: 200_000 } }, async (machine) => {
        const greedy = await machine.spawn('client', { name: 'greedy' });
        const c = await greedy.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
        const targetName = 'HTTP/' + 'h'.repeat(32_767 - 5); // 65,534 bytes as UTF-16
        const first = await greedy.sspi.initializeSecurityContext({ credential: c.credential!, targetName, contextReq: DEFAULT_CLIENT_REQ });
        assert.equal(status(first), 'SEC_I_CONTINUE_NEEDED');
        for (let i = 0; i < 2; i++)
          assert.equal(status(await greedy.sspi.initializeSecurityContext({ credential: c.credential!, targetName, contextReq: DEFAULT_CLIENT_REQ })), 'SEC_I_CONTINUE_NEEDED');
        const over = await greedy.sspi.initializeSecurityContext({ credential: c.credential!, targetName, contextReq: DEFAULT_CLIENT_REQ });
        assert.equal(status(over), 'SEC_E_INSUFFICIENT_MEMORY');
        assert.match(over.cause?.message ?? '', /greedy's live contexts carried 196602 bytes of input; this call's 65534 would pass the 200000 one process may \(processQuota\.contextBytes\)/);
        assert.equal((await machine.lsa.stats()).perProcess.find((p) => p.name === 'greedy')?.contexts, 3);
        // A name past a UNICODE_STRING's length is no target name at all.
        const tooLong = await greedy.sspi.initializeSecurityContext({ credential: c.credential!, targetName: targetName + 'h', contextReq: DEFAULT_CLIENT_REQ });
        assert.equal(status(tooLong), 'SEC_E_INVALID_TOKEN');
        await greedy.sspi.deleteSecurityContext(first.context!);
        assert.equal(status(await greedy.sspi.initializeSecurityContext({ credential: c.credential!, targetName, contextReq: DEFAULT_CLIENT_REQ })), 'SEC_I_CONTINUE_NEEDED');
        // Another process has a quota of its own.
        const other = await machine.spawn('client', { name: 'other' });
        const o = await other.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
        assert.equal(status(await other.sspi.initializeSecurityContext({ credential: o.credential!, targetName, contextReq: DEFAULT_CLIENT_REQ })), 'SEC_I_CONTINUE_NEEDED');
      });
    });

    it('refuses calls past the queue of waiting calls, and shows them in the process statistics', async () => {
      await withMachine({ lsaIsolation, packages: ['example'], processQuota: { runningCalls: 1, queuedCalls: 8 } }, async (machine) => {
        const busy = await machine.spawn('client', { name: 'busy' });
        const result = await busy.runApp(fixtureApp('rogue'), { attack: 'lpc-burst', count: 64 });
        const statuses = result.data?.statuses as Record<string, number>;
        assert.ok((statuses.SEC_E_INSUFFICIENT_MEMORY ?? 0) > 0, JSON.stringify(statuses));
        assert.ok((statuses.SEC_E_OK ?? 0) >= 9, JSON.stringify(statuses));
        const mine = (await machine.lsa.stats()).perProcess.find((p) => p.name === 'busy')!;
        assert.equal(mine.overQueue, statuses.SEC_E_INSUFFICIENT_MEMORY);
        assert.equal(mine.credentials, statuses.SEC_E_OK);
      });
    });

    it('lets no process hold the LSA with calls waiting on its own replies: the others are served meanwhile', { timeout: 20_000 }, async () => {
      // Two rogues stall every slot the LSA has (2 x 2 of 4) on CopyFromClientBuffer calls they never
      // answer, for 60 s; a slot waiting on its process is given to the others, so the victim's handshake runs now.
      await withMachine(
        { lsaIsolation, packages: ['example'], packageCallTimeoutMs: 60_000, processQuota: { concurrentCalls: 4, runningCalls: 2 } },
        async (machine) => {
          const server = await machine.spawn('server');
          const client = await machine.spawn('client');
          for (const name of ['rogue1', 'rogue2']) await (await machine.spawn('client', { name })).runApp(fixtureApp('rogue'), { attack: 'stall', count: 6 });
          await machine.lsa.stats();
          assert.ok((await establish(client, server)).ok);
          const stats = await machine.lsa.stats();
          for (const name of ['rogue1', 'rogue2']) {
            const rogue = stats.perProcess.find((p) => p.name === name)!;
            assert.deepEqual([rogue.running, rogue.queued], [2, 4], 'each rogue still has only its share running');
          }
        },
      );
    });

    it('cuts off a process that posts far more than the LSA queues; the others carry on', async () => {
      await withMachine({ lsaIsolation, packages: ['example'], processQuota: { queuedCalls: 16 } }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const flooder = await machine.spawn('client', { name: 'flooder' });
        const result = await flooder.runApp(fixtureApp('rogue'), { attack: 'lpc-frame', count: 10_000 });
        assert.match(String(result.data?.after), /FLOODED|PEER_GONE|CHANNEL_CLOSED/, 'its next call finds its channel closed');
        const stats = await machine.lsa.stats();
        assert.deepEqual(
          stats.disconnected.map((d) => d.name),
          ['flooder'],
        );
        assert.equal(
          stats.perProcess.find((p) => p.name === 'flooder'),
          undefined,
          'it was reaped',
        );
        assert.ok((await establish(client, server)).ok);
      });
    });
  });
