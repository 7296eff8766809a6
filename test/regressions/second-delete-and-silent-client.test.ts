// Trust boundaries, finding 8: a second DeleteSecurityContext answered SEC_E_INVALID_HANDLE once
// 4,096 other deletes had passed (the README promises SEC_E_OK), and the default server app waited
// forever on a client that connected and never sent anything.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { DEFAULT_CLIENT_REQ } from '../../client-proc/app.js';
import { ALICE, establish, fixtureApp, withMachine } from '../helpers/machine.js';

describe('DeleteSecurityContext, a second time', () => {
  it('answers SEC_E_OK however many deletes came between', { timeout: 120_000 }, async () => {
    await withMachine({ packages: ['example'] }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const first = await establish(client, server);
      assert.equal(statusName((await client.sspi.deleteSecurityContext(first.clientContext!)).status), 'SEC_E_OK');
      const c = await client.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      for (let i = 0; i < 5_000; i++) {
        const leg = await client.sspi.initializeSecurityContext({ credential: c.credential!, contextReq: DEFAULT_CLIENT_REQ });
        assert.equal(statusName((await client.sspi.deleteSecurityContext(leg.context!)).status), 'SEC_E_OK');
      }
      assert.equal(statusName((await client.sspi.deleteSecurityContext(first.clientContext!)).status), 'SEC_E_OK');
    });
  });
});

describe('the default server app', () => {
  it('gives up on a client that connects and never sends, after its receive deadline', { timeout: 30_000 }, async () => {
    await withMachine({ packages: ['example'] }, async (machine) => {
      const server = await machine.spawn('server');
      const silent = await machine.spawn('client', { name: 'silent' });
      const served = server.runApp(null, { name: 'quiet', package: 'Example', connections: 1, receiveTimeoutMs: 300 });
      await silent.runApp(fixtureApp('rogue'), { attack: 'connect-and-wait', server: 'quiet' });
      const result = await served;
      assert.equal(result.statusName, 'SEC_E_INTERNAL_ERROR');
      assert.match(result.detail ?? '', /TIMEOUT: .*no message within 300 ms/);
    });
  });
});
