// A package answered NaN, Infinity or 2^32 for a status, and the LSA and the user-mode host passed
// it on with `>>> 0`: SEC_E_OK, a success the package never gave (an acquire with a credential
// behind it, an accept "complete", a signature never made). A status is a 32-bit integer; anything
// else is the package's malformed result, SEC_E_INTERNAL_ERROR, and no handle is made for it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASC_REQ, SECBUFFER, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { DEFAULT_SERVER_REQ } from '../../server-proc/app.js';
import { establish, fixturePackage, withMachine } from '../helpers/machine.js';

const PACKAGE = 'NonIntegerStatus';

describe('a package that answers a number that is no status', () => {
  it('is SEC_E_INTERNAL_ERROR in the LSA (acquire, accept) and in user mode (MakeSignature), with no handle left behind', { timeout: 60_000 }, async () => {
    await withMachine({ packages: ['example', fixturePackage('non-integer-status')], accounts: ['alice:Passw0rd!'] }, async (machine) => {
      const client = await machine.spawn('client');
      const server = await machine.spawn('server');

      // AcquireCredentialsHandle answering NaN, with a credential handle beside it.
      const nan = await client.sspi.acquireCredentialsHandle({ package: PACKAGE, credentialUse: SECPKG_CRED.OUTBOUND, principal: 'nan' });
      assert.equal(statusName(nan.status), 'SEC_E_INTERNAL_ERROR');
      assert.equal(nan.credential, undefined, 'no handle for a credential the package did not say it made');

      // AcceptSecurityContext answering 2^32.
      const refused = await establish(client, server, { package: PACKAGE, serverReq: DEFAULT_SERVER_REQ | ASC_REQ.EXTENDED_ERROR });
      assert.equal(refused.steps.at(-1)?.api, 'AcceptSecurityContext');
      assert.equal(refused.steps.at(-1)?.status, 'SEC_E_INTERNAL_ERROR');
      assert.equal(refused.ok, false);

      // MakeSignature in the client's process answering Infinity, on a context that mapped.
      const done = await establish(client, server, { package: PACKAGE });
      assert.ok(done.ok, `the handshake without the flag completes: ${done.steps.map((s) => s.status).join(', ')}`);
      const message = [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(64) },
        { BufferType: SECBUFFER.DATA, pvBuffer: new TextEncoder().encode('never signed') },
      ];
      const signed = await client.sspi.makeSignature(done.clientContext!, 0, message, 0);
      assert.equal(statusName(signed.status), 'SEC_E_INTERNAL_ERROR');

      for (const handle of [refused.clientContext, done.clientContext]) if (handle !== undefined) await client.sspi.deleteSecurityContext(handle);
      for (const handle of [refused.serverContext, done.serverContext]) if (handle !== undefined) await server.sspi.deleteSecurityContext(handle);
      for (const handle of [refused.clientCredential, done.clientCredential]) await client.sspi.freeCredentialsHandle(handle);
      for (const handle of [refused.serverCredential, done.serverCredential]) await server.sspi.freeCredentialsHandle(handle);
      const stats = await machine.lsa.stats();
      assert.deepEqual({ credentials: stats.credentials, contexts: stats.contexts }, { credentials: 0, contexts: 0 });
    });
  });
});
