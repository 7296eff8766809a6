// Found writing a package outside the tree: an entry point that loops without yielding holds the
// LSA's thread, and an app's call then failed after the LPC deadline with only "got no reply
// within 60000 ms", which did not say where to look. The process's LPC timeout now says that the
// LSA is not answering and the likely causes (a package deadline answers for an entry point that
// merely never returns, so a call with no answer at all is an LSA that stopped taking calls).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECPKG_CRED, statusName } from '../../headers/index.js';
import { fixturePackage, withMachine } from '../helpers/machine.js';

describe('an LSA held by a package entry point that never yields', () => {
  it("fails the caller's call at the LPC deadline, saying the LSA is not answering and why that may be", { timeout: 60_000 }, async () => {
    await withMachine({ packages: [fixturePackage('spinner')], lpcTimeoutMs: 1_000 }, async (machine) => {
      const client = await machine.spawn('client');
      const credential = await client.sspi.acquireCredentialsHandle({ package: 'Spinner', credentialUse: SECPKG_CRED.OUTBOUND });
      assert.ok(credential.credential !== undefined);
      const result = await client.sspi.initializeSecurityContext({ credential: credential.credential, context: null, targetName: 'x', contextReq: 0, input: null });
      assert.equal(statusName(result.status), 'SEC_E_INTERNAL_ERROR');
      assert.match(
        (result as { cause?: { message?: string } }).cause?.message ?? '',
        /SpInitLsaModeContext got no reply within 1000 ms: the LSA is not answering: its thread is held \(a package entry point that loops without yielding, or an LSA paused in a debugger\), or it is gone$/,
      );
    });
  });
});
