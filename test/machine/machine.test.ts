// The machine itself: it refuses to boot with a clear reason when the LSA cannot start, refuses to
// spawn a process as an account the LSA does not know, and rejects calls on a process that is gone
// instead of waiting on it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Machine } from '../../machine/machine.js';
import { status } from '../helpers/calls.js';
import { withMachine } from '../helpers/machine.js';

describe('the machine', () => {
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
    await assert.rejects(Machine.boot({ accounts: ['no-colon'] }), /USER:PASSWORD/);
  });
});
