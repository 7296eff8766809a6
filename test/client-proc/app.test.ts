// The default client app (client-proc/app.ts) when its server is not there: a server process
// killed while the client waits on it, and a name nobody monitors. The run fails with
// SEC_E_INTERNAL_ERROR and the reason, never hangs, and leaves no handle behind.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixtureApp, withMachine } from '../helpers/machine.js';
import { status } from '../helpers/calls.js';

describe('the default client app without its server', () => {
  it("makes the client's next call fail, not hang, when the server is killed", { timeout: 20_000 }, async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const holding = server.runApp(fixtureApp('hold-server'), { name: 'held' });
      const run = client.runApp(null, { server: 'held', package: 'Example', user: 'alice', password: 'Passw0rd!' });
      assert.equal(status(await holding), 'SEC_E_OK');
      await machine.kill(server);
      const result = await run;
      assert.equal(result.statusName, 'SEC_E_INTERNAL_ERROR');
      assert.match(result.detail ?? '', /PEER_GONE/);
      assert.equal((await client.stats()).handles.contexts, 0, 'the client cleaned up its context');
    });
  });

  it('fails a connect to a name nobody monitors with NOT_LISTENING after the wait, and frees what it acquired', async () => {
    await withMachine({}, async (machine) => {
      const client = await machine.spawn('client');
      const result = await client.runApp(null, { server: 'nobody', user: 'alice', password: 'Passw0rd!', connectWaitMs: 50 });
      assert.equal(result.statusName, 'SEC_E_INTERNAL_ERROR');
      assert.match(result.detail ?? '', /NOT_LISTENING: nothing monitors nobody \(waited 50 ms\)/);
      assert.deepEqual((await client.stats()).handles, { credentials: 0, contexts: 0 });
      assert.equal((await machine.lsa.stats()).credentials, 0);
    });
  });
});
