// End to end: after the handshake, signing and sealing on a mapped context run in the app
// processes themselves; twenty round trips each way send no LPC message, counted at the channel
// of every worker.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seal, sign, status, text, withClientAndServer } from '../helpers/calls.js';
import { establish } from '../helpers/machine.js';

describe('end to end: messages on a mapped context', () => {
  it('signs and seals in the app process with zero LPC messages, counted at the channel', async () => {
    await withClientAndServer({}, async ({ machine, client, server }) => {
      const { clientContext, serverContext } = await establish(client, server);
      const before = [(await client.stats()).lpc, (await server.stats()).lpc, (await machine.lsa.stats()).lpc];
      for (let i = 0; i < 20; i++) {
        const sealed = await seal(client, clientContext!, `secret ${i}`);
        assert.notDeepEqual(sealed[1]!.pvBuffer, text(`secret ${i}`), 'the data is encrypted in place');
        const opened = await server.sspi.decryptMessage(serverContext!, sealed, 0);
        assert.equal(status(opened), 'SEC_E_OK');
        assert.equal(new TextDecoder().decode(opened.message[1]!.pvBuffer), `secret ${i}`);
        const signed = await sign(server, serverContext!, `reply ${i}`);
        const verified = await client.sspi.verifySignature(clientContext!, signed, 0);
        assert.equal(status(verified), 'SEC_E_OK');
      }
      const after = [(await client.stats()).lpc, (await server.stats()).lpc, (await machine.lsa.stats()).lpc];
      assert.deepEqual(after, before);
    });
  });
});
