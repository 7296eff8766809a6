// NTLM pass-through's messages and the domain controller's check (packages/ntlm/passthrough.ts),
// with MS-NLMP 4.2.4's NTLMv2 example: the DC answers with 4.2.4's SessionBaseKey for User/Domain's
// response, refuses a wrong password and an unknown user with Windows' statuses at the same cost,
// and every hostile buffer is a NetlogonWireError.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { STATUS_LOGON_FAILURE, STATUS_NO_SUCH_USER, STATUS_SUCCESS, STATUS_WRONG_PASSWORD } from '../../../headers/index.js';
import { ntowfv1, unpackAuthenticate } from '../../../packages/ntlm/wire.js';
import { NetlogonWireError } from '../../../packages/ntlm/netlogon/index.js';
import {
  MSV1_0_PARAMETER_CONTROL,
  packNetworkLogon,
  packValidation,
  unpackNetworkLogon,
  unpackValidation,
  validateNetworkLogon,
  type NetworkLogonInfo,
} from '../../../packages/ntlm/passthrough.js';
import { COMMON, NTLMV2, toHex } from './vectors.js';

/** MS-NLMP 4.2.4's AUTHENTICATE_MESSAGE as a member passes it through. */
function logonOf4_2_4(): NetworkLogonInfo {
  const message = unpackAuthenticate(NTLMV2.authenticateMessage);
  return {
    logonDomainName: message.domainName,
    parameterControl: MSV1_0_PARAMETER_CONTROL,
    userName: message.userName,
    workstation: message.workstation,
    lmChallenge: COMMON.serverChallenge,
    ntChallengeResponse: message.ntChallengeResponse,
    lmChallengeResponse: message.lmChallengeResponse,
  };
}

const DC = { domainName: 'DOMAIN', computerName: 'DC01' };

describe('the pass-through logon and its answer', () => {
  it('packs and unpacks NETLOGON_NETWORK_INFO and the validation to themselves', () => {
    const info = logonOf4_2_4();
    assert.deepEqual(unpackNetworkLogon(packNetworkLogon(info)), info);
    const v = { status: STATUS_SUCCESS, userSessionKey: new Uint8Array(16).fill(7), effectiveName: 'User', logonDomainName: 'DOMAIN', logonServer: 'DC01' };
    assert.deepEqual(unpackValidation(packValidation(v)), v);
  });

  it("answers STATUS_SUCCESS and MS-NLMP 4.2.4's SessionBaseKey for User with Password, and the account's names", () => {
    const lookup = (user: string) => (user.toLowerCase() === 'user' ? { ntHash: ntowfv1(COMMON.password), name: 'DOMAIN\\User' } : undefined);
    const v = validateNetworkLogon(logonOf4_2_4(), lookup, DC);
    assert.equal(v.status, STATUS_SUCCESS);
    assert.equal(toHex(v.userSessionKey), NTLMV2.sessionBaseKey);
    assert.deepEqual([v.effectiveName, v.logonDomainName, v.logonServer], ['User', 'DOMAIN', 'DC01']);
  });

  it('answers STATUS_WRONG_PASSWORD for another password and STATUS_NO_SUCH_USER for an unknown user, with no key', () => {
    const wrong = validateNetworkLogon(logonOf4_2_4(), () => ({ ntHash: ntowfv1('not it'), name: 'DOMAIN\\User' }), DC);
    assert.equal(wrong.status, STATUS_WRONG_PASSWORD);
    assert.ok(wrong.userSessionKey.every((b) => b === 0));
    const unknown = validateNetworkLogon(logonOf4_2_4(), () => undefined, DC);
    assert.equal(unknown.status, STATUS_NO_SUCH_USER);
    assert.ok(unknown.userSessionKey.every((b) => b === 0));
  });

  it('answers STATUS_LOGON_FAILURE for an NTLMv1 response or no user name', () => {
    const lookup = () => ({ ntHash: ntowfv1(COMMON.password), name: 'DOMAIN\\User' });
    assert.equal(validateNetworkLogon({ ...logonOf4_2_4(), ntChallengeResponse: new Uint8Array(24) }, lookup, DC).status, STATUS_LOGON_FAILURE);
    assert.equal(validateNetworkLogon({ ...logonOf4_2_4(), userName: '' }, lookup, DC).status, STATUS_LOGON_FAILURE);
  });

  it('refuses anything that is not one, with a NetlogonWireError', () => {
    const good = packNetworkLogon(logonOf4_2_4());
    assert.throws(
      () => unpackNetworkLogon(packValidation({ status: 0, userSessionKey: new Uint8Array(16), effectiveName: '', logonDomainName: '', logonServer: '' })),
      (e: NetlogonWireError) => e.code === 'BAD_VALUE',
    );
    assert.throws(
      () => unpackValidation(good),
      (e: NetlogonWireError) => e.code === 'BAD_VALUE',
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (random, cut) => {
        for (const bytes of [random, good.subarray(0, cut % good.length)])
          for (const unpack of [unpackNetworkLogon, unpackValidation])
            try {
              unpack(bytes);
            } catch (error) {
              assert.ok(error instanceof NetlogonWireError, String(error));
            }
      }),
      { seed: 11, numRuns: 300 },
    );
  });
});
