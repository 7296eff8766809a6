// NTLM's part in SPNEGO's mechListMIC (packages/ntlm/mech-list-mic.ts) with the MS-NLMP 4.2.4 keys:
// each side's MIC is MakeSignature's at sequence 0 over the MechTypeList, the other side verifies
// it, and afterwards the sequence numbers stand one past while the RC4 state is back at its start
// (MS-SPNG 3.3.5.1), computed here independently from SIGNKEY, SEALKEY, HMAC-MD5 and RC4.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { sealKey, signKey } from '../../../packages/ntlm/crypto.js';
import { NTLMSSP_NEGOTIATE } from '../../../packages/ntlm/flags.js';
import { sequenceAfter, signMechList, verifyMechList } from '../../../packages/ntlm/mech-list-mic.js';
import { Rc4 } from '../../../packages/ntlm/rc4.js';
import { NtlmSecurityContext } from '../../../packages/ntlm/security.js';
import { COMMON, NTLMV2 } from './vectors.js';

const MECH_LIST = Uint8Array.from(Buffer.from('300c060a2b06010401823702020a', 'hex'));
const session = { flags: NTLMV2.challengeFlags, exportedSessionKey: COMMON.randomSessionKey };
const none = { sent: false, received: false };

/** NTLMSSP_MESSAGE_SIGNATURE with extended session security and KEY_EXCH (MS-NLMP 3.4.4.2), from first principles. */
function expectedSignature(side: 'client' | 'server', seqNum: number, message: Uint8Array, rc4: Rc4): string {
  const seq = Buffer.alloc(4);
  seq.writeUInt32LE(seqNum);
  const checksum = createHmac('md5', signKey(COMMON.randomSessionKey, side)).update(seq).update(message).digest().subarray(0, 8);
  const sealed = Uint8Array.from(checksum);
  rc4.processInPlace(sealed);
  return '01000000' + Buffer.from(sealed).toString('hex') + seq.toString('hex');
}

describe("NTLM's mechListMIC", () => {
  test('is the MakeSignature of the MechTypeList at sequence number 0 with a fresh RC4 state, on each side', () => {
    for (const side of ['client', 'server'] as const) {
      const mic = signMechList({ ...session, side, mechList: MECH_LIST, before: none });
      assert.equal(Buffer.from(mic).toString('hex'), expectedSignature(side, 0, MECH_LIST, new Rc4(sealKey(session.flags, COMMON.randomSessionKey, side))));
    }
  });

  test("the peer verifies it, and refuses one a bit off, one for another list and one of the wrong side's keys", () => {
    const client = signMechList({ ...session, side: 'client', mechList: MECH_LIST, before: none });
    const check = (mic: Uint8Array, mechList = MECH_LIST) => verifyMechList({ ...session, side: 'server', mechList, before: none }, mic);
    assert.equal(check(client), true);
    const flipped = Uint8Array.from(client);
    flipped[6]! ^= 1;
    assert.equal(check(flipped), false);
    assert.equal(check(client, Uint8Array.from([...MECH_LIST.subarray(0, 13), 0x0b])), false);
    assert.equal(check(signMechList({ ...session, side: 'server', mechList: MECH_LIST, before: none })), false);
    assert.equal(check(client.subarray(0, 15)), false);
  });

  test("the server's, made after it checked the client's, verifies at the client after its own", () => {
    const server = signMechList({ ...session, side: 'server', mechList: MECH_LIST, before: { sent: false, received: true } });
    assert.equal(verifyMechList({ ...session, side: 'client', mechList: MECH_LIST, before: { sent: true, received: false } }, server), true);
  });

  test('leaves the first application message at sequence number 1 with the RC4 state it started with (MS-SPNG 3.3.5.1)', () => {
    const message = new TextEncoder().encode('first message');
    const after = NtlmSecurityContext.fromSessionKey({ ...session, side: 'client', sequence: sequenceAfter(session.flags, { sent: true, received: true }) });
    const expected = expectedSignature('client', 1, message, new Rc4(sealKey(session.flags, COMMON.randomSessionKey, 'client')));
    assert.equal(Buffer.from(after.sign(message)).toString('hex'), expected);
  });

  test('without extended session security both directions share one count, which each mechListMIC advanced', () => {
    const legacy = session.flags & ~NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY;
    assert.deepEqual(sequenceAfter(legacy, { sent: true, received: true }), { outgoing: 2, incoming: 2 });
    assert.deepEqual(sequenceAfter(session.flags, { sent: true, received: false }), { outgoing: 1, incoming: 0 });
    const client = signMechList({ flags: legacy, exportedSessionKey: COMMON.randomSessionKey, side: 'client', mechList: MECH_LIST, before: none });
    assert.equal(
      verifyMechList({ flags: legacy, exportedSessionKey: COMMON.randomSessionKey, side: 'server', mechList: MECH_LIST, before: none }, client),
      true,
    );
  });
});
