// Trust boundaries, finding 7: a process that stops answering its control and trace ports (its
// code removed their listeners, or blocked its own thread for good) made machine.events(),
// machine.taps(), stats() and restartLsa() wait forever. Every machine call on a process now has
// a deadline; the process is reported unresponsive, and the others carry on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { establish, fixtureApp, withMachine } from '../helpers/machine.js';

const ROGUE = fixtureApp('rogue');
const DEADLINE_MS = 400;

describe('a process that stops answering the machine', () => {
  for (const attack of ['deafen', 'freeze'] as const) {
    it(`(${attack}) is reported unresponsive, and no machine call waits for it`, { timeout: 60_000 }, async () => {
      await withMachine({ trace: true, processTimeoutMs: DEADLINE_MS }, async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        assert.ok((await establish(client, server)).ok);
        const rogue = await machine.spawn('client', { name: 'rogue' });
        await rogue.runApp(ROGUE, { attack });

        await assert.rejects(rogue.stats(), {
          name: 'TransportError',
          code: 'TIMEOUT',
          message: /rogue \(pid \d+\) is unresponsive: it did not answer GetStats within 400 ms/,
        });
        assert.equal(rogue.unresponsive, true);
        await assert.rejects(rogue.injectFaults(null), { code: 'TIMEOUT' });
        const events = await machine.events();
        assert.ok(events.some((e) => e.process === 'client') && events.some((e) => e.process === 'lsa'), 'the others were flushed');
        await machine.taps();
        assert.equal((await client.stats()).name, 'client', 'a process that answers is not held up');

        await machine.kill(machine.lsa);
        const report = await machine.restartLsa();
        assert.deepEqual(report.unresponsive, ['rogue']);
        assert.deepEqual(report.reattached.sort(), ['client', 'server']);
        assert.ok((await establish(client, server)).ok, 'the others work with the new LSA');

        await machine.kill(rogue);
        assert.equal(rogue.alive, false);
        assert.equal((await machine.lsa.stats()).processes, 2, 'the killed rogue was reaped');
      });
    });
  }
});
