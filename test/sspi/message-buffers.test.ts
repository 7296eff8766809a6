// The message buffers a package's user-mode half leaves, in a real app process: MakeSignature,
// VerifySignature, EncryptMessage and DecryptMessage check them after the package's
// SpMakeSignature, SpVerifySignature, SpSealMessage or SpUnsealMessage answers, as they check the
// application's before. A package that answers SEC_E_OK having left something that is no SecBuffer
// (a string for pvBuffer, null for a buffer, a getter that throws, a Proxy, fewer buffers) fails
// that call with SEC_E_INTERNAL_ERROR and a PACKAGE_BAD_RESULT naming the package, the entry point
// and the buffer, rather than a success whose message the peer then cannot read; and the process
// serves on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BAD_BUFFERS, ODD_MODES, ODD_NAME, badBufferSequence, type BadBuffers } from '../fixtures/packages/odd-values.js';
import { MESSAGE_FUNCTIONS, sealBuffers, signBuffers, status, text } from '../helpers/calls.js';
import { establish, fixturePackage, withMachine } from '../helpers/machine.js';

/** What the cause says the package left, after "<package>: <entry> returned SEC_E_OK with ". */
const LEFT: Record<BadBuffers, string> = {
  'string-pvBuffer': 'message buffer 1 whose pvBuffer is a string, not a Uint8Array',
  'null-buffers': 'message buffer 0 that is null, not a SecBuffer',
  'string-BufferType': 'message buffer 0 whose BufferType is a string, not a number',
  'throwing-pvBuffer-getter': 'message buffer 0 whose pvBuffer cannot be read',
  'proxy-buffer': 'message buffer 1 that is a Proxy, not a SecBuffer',
  'throwing-index-getter': 'message buffer 0 that cannot be read',
  'fewer-buffers': '1 message buffer where it was given 2',
};

describe('the message buffers a user-mode message function leaves', () => {
  it('fail the call with SEC_E_INTERNAL_ERROR and PACKAGE_BAD_RESULT naming the package, the entry and the buffer, when they are no SecBuffers', async () => {
    await withMachine({ packages: ['example', fixturePackage('odd-values')], trace: true }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, { package: ODD_NAME });
      assert.ok(done.ok, JSON.stringify(done.steps));
      const context = done.clientContext!;
      for (const { entry, call } of MESSAGE_FUNCTIONS)
        for (const bad of BAD_BUFFERS)
          for (const mode of ODD_MODES) {
            const r = await call(client, context, badBufferSequence(bad, mode));
            const what = `${entry}, ${bad}, ${mode}: ${JSON.stringify(r.cause)}`;
            assert.equal(status(r), 'SEC_E_INTERNAL_ERROR', what);
            assert.equal(r.cause?.code, 'PACKAGE_BAD_RESULT', what);
            assert.equal(r.cause?.message, `${ODD_NAME}: ${entry} returned SEC_E_OK with ${LEFT[bad]}`, what);
            assert.deepEqual(r.message, [], 'none of what the package left is handed on');
          }
      // Each failure is the API call's return in the trace, with the cause.
      const events = await machine.events();
      for (const { entry, api } of MESSAGE_FUNCTIONS)
        for (const bad of BAD_BUFFERS) {
          const detail = `${ODD_NAME}: ${entry} returned SEC_E_OK with ${LEFT[bad]}`;
          const traced = events.filter(
            (e) => e.process === 'client' && e.call === api && e.phase === 'return' && e.status === 'SEC_E_INTERNAL_ERROR' && e.detail === detail,
          );
          assert.equal(traced.length, 2, `${api}: ${detail}`);
        }

      // The context still protects messages, and the peer reads them.
      const sealed = await client.sspi.encryptMessage(context, 0, sealBuffers(text('still serving')), 0);
      assert.equal(status(sealed), 'SEC_E_OK');
      const opened = await server.sspi.decryptMessage(done.serverContext!, sealed.message, 0);
      assert.equal(status(opened), 'SEC_E_OK');
      assert.equal(new TextDecoder().decode(opened.message[1]!.pvBuffer), 'still serving');
      const signed = await client.sspi.makeSignature(context, 0, signBuffers(text('signed')), 1);
      assert.equal(status(signed), 'SEC_E_OK');
      assert.equal(status(await server.sspi.verifySignature(done.serverContext!, signed.message, 1)), 'SEC_E_OK');
    });
  });
});
