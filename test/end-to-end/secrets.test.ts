// End to end: long-term secrets live in the LSA only. A tap on every channel of the machine during
// full runs of the default apps finds no password and no key derived from it anywhere it must not
// be, in any encoding.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveSecret } from '../../packages/example/wire.js';
import { betweenApps, findSecret, lsaToProcess } from '../helpers/scan.js';
import { withMachine } from '../helpers/machine.js';

const PASSWORD = 'Passw0rd!';
// The example package's long-term key K for alice, as the package derives it.
const DERIVED = deriveSecret('alice', PASSWORD);

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`end to end: secrets stay in the LSA (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('lets no password or derived key cross any channel when the client runs as its own logon', async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        machine.tap(true);
        const server = await machine.spawn('server');
        const client = await machine.spawn('client', { logonAs: 'alice' });
        const serving = server.runApp(null, { name: 'svc', package: 'Example' });
        // No user/password: the client app acquires the process's default credentials.
        const result = await client.runApp(null, { server: 'svc', package: 'Example', messages: 3 });
        assert.equal(result.statusName, 'SEC_E_OK', result.detail);
        assert.equal((await serving).statusName, 'SEC_E_OK');
        const taps = await machine.taps();
        assert.ok(taps.length > 30, `the tap saw the traffic (${taps.length} messages)`);
        assert.ok(taps.some((t) => t.channel.startsWith('app:')) && taps.some((t) => t.channel.startsWith('lpc:')));
        for (const t of taps) {
          assert.deepEqual(findSecret(t.message, PASSWORD), [], `password in ${t.process} ${t.direction} ${t.channel}`);
          assert.deepEqual(findSecret(t.message, DERIVED), [], `derived key in ${t.process} ${t.direction} ${t.channel}`);
        }
      });
    });

    it('lets an explicit password cross only from the client into the LSA, never back and never to the server', async () => {
      await withMachine({ lsaIsolation }, async (machine) => {
        machine.tap(true);
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const serving = server.runApp(null, { name: 'svc', package: 'Example' });
        const result = await client.runApp(null, { server: 'svc', package: 'Example', user: 'alice', password: PASSWORD, messages: 2 });
        assert.equal(result.statusName, 'SEC_E_OK', result.detail);
        await serving;
        const taps = await machine.taps();
        const carrying = taps.filter((t) => findSecret(t.message, PASSWORD).length > 0);
        assert.ok(carrying.length > 0, 'the explicit password did cross once, into the LSA (CopyFromClientBuffer)');
        for (const t of carrying) {
          assert.ok(!lsaToProcess(t) && !betweenApps(t), `password travelled ${t.process} ${t.direction} ${t.channel}`);
          assert.equal((t.message as { op?: string }).op, 'CopyFromClientBuffer');
        }
        for (const t of taps) assert.deepEqual(findSecret(t.message, DERIVED), [], `derived key in ${t.process} ${t.direction} ${t.channel}`);
        assert.equal((await client.stats()).clientHeapAllocations, 0, 'the marshalled identity was freed from the client heap');
      });
    });
  });
