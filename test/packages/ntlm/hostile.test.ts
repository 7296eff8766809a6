// Hostile tokens against the NTLM package in the LSA: each malformed NEGOTIATE, CHALLENGE or
// AUTHENTICATE is SEC_E_INVALID_TOKEN (never a throw, never SEC_E_INTERNAL_ERROR), the context it
// hit is unusable afterwards, replays are refused, and the LSA keeps serving.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { statusName } from '../../../headers/status.js';
import { Machine, type AppProcess } from '../../../machine/machine.js';
import { MSV_AV } from '../../../packages/ntlm/flags.js';
import { packAuthenticate, packAvPairs, packChallenge, unpackAuthenticate, unpackChallenge } from '../../../packages/ntlm/messages.js';
import { accept, drive, type Leg } from './drive.js';
import { NTLMV2 } from './vectors.js';
import { bootTwoProcesses } from '../../helpers/machine.js';

/** Builds a bad token from the good one the client or server just produced. */
type Spoil = (good: Uint8Array) => Uint8Array;

function patched(good: Uint8Array, at: number, bytes: number[]): Uint8Array {
  const out = Uint8Array.from(good);
  out.set(bytes, at);
  return out;
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

const SPOILED_AUTHENTICATE: ReadonlyArray<[string, Spoil]> = [
  ['truncated inside its fixed header', (good) => good.subarray(0, 40)],
  ['truncated inside its payload', (good) => good.subarray(0, good.length - 30)],
  ['oversized (past cbMaxToken 2888)', (good) => Uint8Array.from([...good, ...new Uint8Array(3000)])],
  ['with a wrong signature', (good) => patched(good, 0, [0x4d])],
  ['with the wrong message type', (good) => patched(good, 8, u32(1))],
  ['with an unknown message type', (good) => patched(good, 8, u32(4))],
  ['with the NtChallengeResponse offset past the end', (good) => patched(good, 24, u32(0xffff0000))],
  ['with the user name length running past the end', (good) => patched(good, 36, [0xff, 0xff])],
  ['with a field pointing into the fixed header', (good) => patched(good, 48, u32(8))],
  [
    'whose NTLMv2 AV pairs lack MsvAvEOL',
    (good) => {
      const m = unpackAuthenticate(good);
      return packAuthenticate({ ...m, ntChallengeResponse: m.ntChallengeResponse.subarray(0, m.ntChallengeResponse.length - 8) });
    },
  ],
  ['whose user name is not valid UTF-16', (good) => packAuthenticate({ ...unpackAuthenticate(good), userName: 'al\ud800ice' })],
  ['without the MIC field its MsvAvFlags announces', (good) => packAuthenticate({ ...unpackAuthenticate(good), mic: undefined, version: undefined })],
  ['of zero bytes', () => new Uint8Array(0)],
];

const SPOILED_NEGOTIATE: ReadonlyArray<[string, Spoil]> = [
  ['truncated to 20 bytes', (good) => good.subarray(0, 20)],
  ['a CHALLENGE instead', () => NTLMV2.challengeMessage],
  ['with a domain field running past the end', (good) => patched(good, 16, [0x10, 0x00, 0x10, 0x00, ...u32(36)])],
  ['of 2889 bytes', (good) => Uint8Array.from([...good, ...new Uint8Array(2889 - good.length)])],
];

const SPOILED_CHALLENGE: ReadonlyArray<[string, Spoil]> = [
  [
    'whose TargetInfo lacks MsvAvEOL',
    (good) => {
      const c = unpackChallenge(good);
      const packed = packChallenge({ ...c, targetInfo: [{ id: MSV_AV.MsvAvNbComputerName, value: new Uint8Array(4) }] });
      const info = packAvPairs([{ id: MSV_AV.MsvAvNbComputerName, value: new Uint8Array(4) }]);
      // Drop the MsvAvEOL from the end of the message, where TargetInfo is, and shorten its length.
      const cut = packed.subarray(0, packed.length - 4);
      return patched(cut, 40, [info.length - 4, 0, info.length - 4, 0]);
    },
  ],
  ['with a server challenge cut off', (good) => good.subarray(0, 28)],
  ['an AUTHENTICATE instead', () => NTLMV2.authenticateMessage],
];

describe('malformed tokens against the NTLM package', () => {
  let machine: Machine, client: AppProcess, server: AppProcess;
  before(async () => ({ machine, client, server } = await bootTwoProcesses(['ntlm'])));
  after(() => machine.shutdown());

  async function spoiledAt(leg: Leg, spoil: Spoil) {
    let good: Uint8Array | undefined;
    const driven = await drive(client, server, {
      transit: (token, at) => {
        if (at !== leg) return token;
        good = token;
        return spoil(token);
      },
    });
    return { driven, good: good! };
  }

  for (const [name, spoil] of SPOILED_AUTHENTICATE) {
    test(`an AUTHENTICATE_MESSAGE ${name} is SEC_E_INVALID_TOKEN and leaves the server context unusable`, async () => {
      const { driven, good } = await spoiledAt('authenticate', spoil);
      assert.deepEqual(driven.statuses, ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_INVALID_TOKEN']);
      const retry = await accept(server, driven.serverCredential, driven.serverContext!, good);
      assert.equal(statusName(retry.status), 'SEC_E_INVALID_HANDLE', 'the genuine message no longer opens the failed context');
    });
  }

  for (const [name, spoil] of SPOILED_NEGOTIATE) {
    test(`a NEGOTIATE_MESSAGE ${name} is SEC_E_INVALID_TOKEN and leaves no context`, async () => {
      const { driven } = await spoiledAt('negotiate', spoil);
      assert.deepEqual(driven.statuses, ['SEC_I_CONTINUE_NEEDED', 'SEC_E_INVALID_TOKEN']);
      assert.equal(driven.serverContext, undefined);
    });
  }

  for (const [name, spoil] of SPOILED_CHALLENGE) {
    test(`a CHALLENGE_MESSAGE ${name} is SEC_E_INVALID_TOKEN at the client`, async () => {
      const { driven } = await spoiledAt('challenge', spoil);
      assert.deepEqual(driven.statuses, ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_INVALID_TOKEN']);
    });
  }

  test('an AUTHENTICATE replayed to a fresh challenge is SEC_E_LOGON_DENIED', async () => {
    const first = await drive(client, server);
    assert.equal(first.server, 'SEC_E_OK');
    const second = await drive(client, server, { transit: (token, leg) => (leg === 'authenticate' ? first.tokens.authenticate! : token) });
    assert.equal(second.server, 'SEC_E_LOGON_DENIED');
  });

  test('an AUTHENTICATE replayed on its own completed context is SEC_E_INVALID_HANDLE', async () => {
    const done = await drive(client, server);
    assert.equal(done.server, 'SEC_E_OK');
    const again = await accept(server, done.serverCredential, done.serverContext!, done.tokens.authenticate!);
    assert.equal(statusName(again.status), 'SEC_E_INVALID_HANDLE');
  });

  test('after all of that the LSA is alive and authenticates the next client', async () => {
    assert.ok(machine.lsa.alive);
    const driven = await drive(client, server);
    assert.deepEqual(driven.statuses, ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_OK']);
  });
});
