// End to end: the seed's handshake across real worker boundaries, the client, the server and the
// LSA each on its own thread; the three legs in order, call by call, with the user-mode
// initialization the mapped contexts trigger, as the trace records them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { establish, withMachine } from '../helpers/machine.js';

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`end to end: the handshake across three workers (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`, () => {
    it('runs the client, the server and the LSA on three different threads', async () => {
      await withMachine({ lsaIsolation, trace: true }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const threads = new Set([machine.lsa.threadId, client.threadId, server.threadId, (await client.stats()).threadId]);
        assert.equal(threads.size, 3, 'the stats thread id is the client worker itself');
        const done = await establish(client, server);
        assert.ok(done.ok);
        const events = await machine.events();
        const lsaCalls = events.filter((e) => e.call === 'SpInitLsaModeContext' || e.call === 'SpAcceptLsaModeContext');
        assert.ok(lsaCalls.length >= 4);
        for (const e of lsaCalls) assert.equal(e.threadId, machine.lsa.threadId, `${e.call} runs in the LSA`);
        const userCalls = events.filter((e) => e.call === 'SpInitUserModeContext');
        assert.deepEqual(new Set(userCalls.map((e) => e.threadId)), new Set([client.threadId, server.threadId]));
        for (const e of userCalls) assert.equal(e.threadId, e.process === 'client' ? client.threadId : server.threadId);
      });
    });

    it('follows the three legs of the seed call by call with the statuses in order', async () => {
      await withMachine({ lsaIsolation, trace: true }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const done = await establish(client, server);
        assert.deepEqual(
          done.steps.map((s) => `${s.process} ${s.api} ${s.status}`),
          [
            'client InitializeSecurityContext SEC_I_CONTINUE_NEEDED',
            'server AcceptSecurityContext SEC_I_CONTINUE_NEEDED',
            'client InitializeSecurityContext SEC_E_OK',
            'server AcceptSecurityContext SEC_E_OK',
          ],
        );
        const events = await machine.events();
        const order = events
          .filter(
            (e) =>
              e.phase === 'return' &&
              ['SpInitLsaModeContext', 'SpAcceptLsaModeContext', 'SpUserModeInitialize', 'SpInstanceInit', 'SpInitUserModeContext'].includes(e.call),
          )
          .map((e) => `${e.process} ${e.call} ${e.status}`);
        assert.deepEqual(order, [
          'lsa SpInitLsaModeContext SEC_I_CONTINUE_NEEDED',
          'lsa SpAcceptLsaModeContext SEC_I_CONTINUE_NEEDED',
          'lsa SpInitLsaModeContext SEC_E_OK',
          'client SpUserModeInitialize SEC_E_OK',
          'client SpInstanceInit SEC_E_OK',
          'client SpInitUserModeContext SEC_E_OK',
          'lsa SpAcceptLsaModeContext SEC_E_OK',
          'server SpUserModeInitialize SEC_E_OK',
          'server SpInstanceInit SEC_E_OK',
          'server SpInitUserModeContext SEC_E_OK',
        ]);
      });
    });

    it('reports the token sizes and Windows call names in the trace', async () => {
      await withMachine({ lsaIsolation, trace: true }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        await establish(client, server);
        const events = await machine.events();
        const isc = events.filter((e) => e.call === 'InitializeSecurityContext' && e.phase === 'return');
        assert.equal(isc.length, 2);
        assert.ok(isc.every((e) => e.tokenOut !== undefined && Buffer.from(e.tokenOut, 'base64').length > 0));
        assert.ok(
          events.every((e, i) => i === 0 || e.t >= events[i - 1]!.t),
          'events are in time order',
        );
        assert.ok(events.some((e) => e.call === 'MappedContext' && e.process === 'lsa'));
        const token = events.find((e) => e.call === 'AcceptSecurityContext' && e.phase === 'call')?.tokenIn;
        assert.equal(Buffer.from(token ?? '', 'base64').readUInt32LE(0), 0x31765845, 'the client hello crossed intact');
      });
    });
  });
