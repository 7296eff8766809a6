// The kit's defaults through the real LSA and processes: `unsupported` answers
// SEC_E_UNSUPPORTED_FUNCTION for members whose result is a bare status and for members with
// out-parameters alike, and the example package, which leaves its optional members to
// DEFAULT_LSA_MEMBERS and DEFAULT_USER_MEMBERS, answers them as the README says.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR } from '../../../headers/sspi.js';
import { SEC_E_UNSUPPORTED_FUNCTION, STATUS_SUCCESS, statusName } from '../../../headers/status.js';
import { DEFAULT_LSA_MEMBERS, DEFAULT_USER_MEMBERS, unsupported } from '../../../packages/kit/index.js';
import { bootTwoProcesses, establish, fixturePackage } from '../../helpers/machine.js';

const token = (): Array<{ BufferType: number; pvBuffer: Uint8Array }> => [{ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(8) }];

describe('the kit', () => {
  it('answers SEC_E_UNSUPPORTED_FUNCTION from unsupported, with no out-parameters', async () => {
    assert.deepEqual(await unsupported(), { status: SEC_E_UNSUPPORTED_FUNCTION });
  });

  it('defaults the optional members: success for the notifications, SEC_E_UNSUPPORTED_FUNCTION for the rest', async () => {
    assert.equal(await DEFAULT_LSA_MEMBERS.Shutdown(), STATUS_SUCCESS);
    assert.equal(await DEFAULT_LSA_MEMBERS.AcceptCredentials(2, 'alice', null, null), STATUS_SUCCESS);
    assert.equal(await DEFAULT_LSA_MEMBERS.LogonTerminated(1n), undefined);
    for (const answer of [
      await DEFAULT_LSA_MEMBERS.QueryCredentialsAttributes(1, 1),
      await DEFAULT_LSA_MEMBERS.QueryContextAttributes(1, SECPKG_ATTR.SIZES),
      await DEFAULT_LSA_MEMBERS.GetExtendedInformation(2),
    ])
      assert.equal(answer.status, SEC_E_UNSUPPORTED_FUNCTION);
    assert.equal(statusOfAny(await DEFAULT_LSA_MEMBERS.ApplyControlToken(1, token())), SEC_E_UNSUPPORTED_FUNCTION);
    assert.equal(statusOfAny(await DEFAULT_USER_MEMBERS.CompleteAuthToken(1, token())), SEC_E_UNSUPPORTED_FUNCTION);
  });

  it('reaches applications as SEC_E_UNSUPPORTED_FUNCTION, through the LSA and the user-mode host', async () => {
    const { machine, client, server } = await bootTwoProcesses(['example']);
    try {
      const done = await establish(client, server);
      assert.ok(done.ok, JSON.stringify(done.steps));
      // SpQueryCredentialsAttributes (an object with out-parameters) and SpApplyControlToken (a bare status), in the LSA.
      assert.equal(statusName((await client.sspi.queryCredentialsAttributes(done.clientCredential, 1)).status), 'SEC_E_UNSUPPORTED_FUNCTION');
      assert.equal(statusName((await server.sspi.applyControlToken(done.serverContext!, token())).status), 'SEC_E_UNSUPPORTED_FUNCTION');
      // SpCompleteAuthToken, in the client's process.
      assert.equal(statusName((await client.sspi.completeAuthToken(done.clientContext!, token())).status), 'SEC_E_UNSUPPORTED_FUNCTION');
      assert.equal(statusName((await client.sspi.deleteSecurityContext(done.clientContext!)).status), 'SEC_E_OK');
    } finally {
      await machine.shutdown();
    }
  });

  it('refuses a handshake with SEC_E_UNSUPPORTED_FUNCTION when SpAcceptLsaModeContext is unsupported, not as a malformed result', async () => {
    const { machine, client, server } = await bootTwoProcesses(['example', fixturePackage('refuses-accept')]);
    try {
      const done = await establish(client, server, { package: 'RefusesAccept' });
      assert.deepEqual(
        done.steps.map((s) => `${s.api} ${s.status}`),
        ['InitializeSecurityContext SEC_I_CONTINUE_NEEDED', 'AcceptSecurityContext SEC_E_UNSUPPORTED_FUNCTION'],
      );
      const refused = done.results.at(-1) as { cause?: unknown };
      assert.equal(refused.cause, undefined, 'a status the package answered, with no fault behind it');
    } finally {
      await machine.shutdown();
    }
  });
});

function statusOfAny(answer: number | { status: number }): number {
  return typeof answer === 'number' ? answer : answer.status;
}
