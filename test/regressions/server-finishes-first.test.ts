// Found while writing the package-fault CLI test: with a package whose server completes first
// (AcceptSecurityContext answers SEC_E_OK with a last token, and the client's next
// InitializeSecurityContext completes with nothing to send, as in a mutual authentication), the
// default client app waited for an answer the server never sends, and both apps gave up after
// their 30 s receive deadline. The client now ends its handshake there; the probe package's
// handshake reaches the message phase (where it answers EncryptMessage SEC_E_UNSUPPORTED_FUNCTION).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixturePackage, withMachine } from '../helpers/machine.js';

describe('the default apps with a package whose server finishes first', () => {
  it('complete the handshake without waiting for a message that never comes', { timeout: 20_000 }, async () => {
    await withMachine({ packages: [fixturePackage('probe')], accounts: ['alice:Passw0rd!'] }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      // Receive deadlines far beyond the test's: a client that waits for nothing fails the test.
      const served = server.runApp(null, { name: 'first', package: 'Probe', receiveTimeoutMs: 60_000 });
      const result = await client.runApp(null, { server: 'first', package: 'Probe', messages: 1, receiveTimeoutMs: 60_000 });
      assert.equal(result.statusName, 'SEC_E_UNSUPPORTED_FUNCTION', result.detail);
      assert.match(result.detail ?? '', /^EncryptMessage failed/);
      // The server learns the client went away when it closed the connection: it ends too.
      const serverResult = await served;
      assert.match(serverResult.detail ?? '', /PEER_GONE/);
    });
  });
});
