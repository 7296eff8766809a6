// Found when the example package began deriving a logon's key on the LSA work pool: spawning a
// process as an account failed with "did not report Ready within 15000 ms" whenever the LSA's
// logon (SpAcceptCredentials of every package) took longer than the process took to start. The
// machine listened for the process's Ready only after the logon, and a worker's message that
// nobody listens for is lost. It listens from the start now.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusName } from '../../headers/status.js';
import { fixturePackage, withMachine } from '../helpers/machine.js';

describe('spawning a process as an account', () => {
  it('succeeds when the logon takes longer than the process takes to start', { timeout: 30_000 }, async () => {
    await withMachine({ packages: [fixturePackage('slow-logon')], accounts: ['alice:Passw0rd!'] }, async (machine) => {
      const client = await machine.spawn('client', { logonAs: 'alice' });
      assert.equal(statusName((await client.sspi.querySecurityPackageInfo('SlowLogon')).status), 'SEC_E_OK');
    });
  });
});
