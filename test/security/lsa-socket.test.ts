// Trust boundaries with the LSA in its own OS process: app processes reach it on a Unix socket,
// and a connection is a process's only once it presented the one-time secret the machine gave
// that process. A rogue process knows the socket's path (it is in its own workerData): it cannot
// get a connection with a wrong hello, a made-up secret or its own spent secret, and a lie about
// a frame's length on its own connection cuts it off before anything is allocated for it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusName } from '../../headers/status.js';
import { establish, fixtureApp, withMachine } from '../helpers/machine.js';

const ROGUE = fixtureApp('rogue');

describe("the LSA's socket (the LSA in a process of its own)", () => {
  it('closes a connection with a wrong magic, a made-up secret or a spent one, answers none of their calls, and counts each', async () => {
    await withMachine({ lsaIsolation: 'process' }, async (machine) => {
      const rogue = await machine.spawn('client', { name: 'rogue' });
      const result = await rogue.runApp(ROGUE, { attack: 'socket-hellos' });
      assert.deepEqual(result.data?.outcome, { 'wrong magic': 'closed', 'made-up secret': 'closed', 'its own spent secret': 'closed' });
      const listener = (await machine.lsa.stats()).lpcListener;
      assert.deepEqual(listener?.refused, { badHello: 1, helloTimeout: 0, tooManyHellos: 0, spentSecret: 1, unknownSecret: 1 });
      assert.equal(listener?.accepted, 1, 'only the rogue library connected');
      assert.equal(
        statusName(((await rogue.lpcCall('EnumerateSecurityPackages', {})) as { status: number }).status),
        'SEC_E_OK',
        'its own connection still works',
      );
    });
  });

  it('cuts off a process whose frame header lies about its length, reaps it, and serves the others', async () => {
    await withMachine({ lsaIsolation: 'process', packages: ['example'] }, async (machine) => {
      const server = await machine.spawn('server');
      const victim = await machine.spawn('client', { name: 'victim' });
      const before = await establish(victim, server);
      assert.ok(before.ok);
      const rogue = await machine.spawn('client', { name: 'rogue' });
      await rogue.sspi.acquireCredentialsHandle({ package: 'Example', credentialUse: 2 /* SECPKG_CRED_OUTBOUND */ });
      await rogue.runApp(ROGUE, { attack: 'socket-lie-length' });
      const after = await rogue.sspi.enumerateSecurityPackages();
      assert.equal(statusName(after.status), 'SEC_E_INTERNAL_ERROR', 'its LPC channel is gone');
      assert.equal(after.cause?.code, 'PEER_GONE');
      const stats = await machine.lsa.stats();
      assert.equal(
        stats.perProcess.find((p) => p.name === 'rogue'),
        undefined,
        'the LSA reaped it',
      );
      assert.equal(stats.credentials, 2, "its credential was freed; the victim's and the server's remain");
      const names = await victim.sspi.queryContextAttributes(before.clientContext!, 1 /* SECPKG_ATTR_NAMES */);
      assert.equal(statusName(names.status), 'SEC_E_OK');
      const again = await establish(victim, server);
      assert.ok(again.ok, 'the others carry on');
    });
  });
});
