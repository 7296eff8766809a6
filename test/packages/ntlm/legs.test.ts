// The NTLM legs as functions (initiator.ts, acceptor.ts), without an LSA: the MS-NLMP 4.2.4
// AUTHENTICATE_MESSAGE accepted byte for byte, the NEGOTIATE forms real clients send, and each
// check of the acceptor failing for its own reason.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { statusName } from '../../../headers/status.js';
import { acceptAuthenticate, challengeFor, checkBindings, serverTargetInfo, type AccountKey, type ChallengeState } from '../../../packages/ntlm/acceptor.js';
import { channelBindingsHash, digestBindings, ntowfv1, verifyLmV2Response } from '../../../packages/ntlm/crypto.js';
import { MSV_AV, NTLMSSP_NEGOTIATE } from '../../../packages/ntlm/flags.js';
import { authenticateFor, negotiateFor } from '../../../packages/ntlm/initiator.js';
import {
  findAvPair,
  packAuthenticate,
  packChallenge,
  packNegotiate,
  unpackAuthenticate,
  unpackAuthenticateNtlmV2Response,
  unpackChallenge,
  unpackNegotiate,
  withMic,
} from '../../../packages/ntlm/messages.js';
import { NtlmParseError } from '../../../packages/ntlm/messages.js';
import { NtlmSecurityContext } from '../../../packages/ntlm/security.js';
import { DEFAULT_CLIENT_REQ } from '../../../client-proc/app.js';
import { bindings } from './drive.js';
import { COMMON, fromHex, NTLMV1, NTLMV2, SAMBA_NEGOTIATE, toHex, WGET, WIN2008R2 } from './vectors.js';

const N = NTLMSSP_NEGOTIATE;
const NAMES = { computerName: 'SERVER', dnsComputerName: 'server.example.test', domainName: 'SERVER', dnsDomainName: 'example.test' };
const NOW = new Date('2024-05-01T12:00:00Z');
const NO_POLICY = { requireChannelBindings: false, allowMissingBindings: true, maxClockSkewSeconds: 0 };

function accounts(entries: Record<string, string>): (user: string) => AccountKey | undefined {
  return (user) => {
    const found = Object.entries(entries).find(([name]) => name.toLowerCase() === user.toLowerCase());
    return found === undefined ? undefined : { ntHash: ntowfv1(found[1]), name: `${NAMES.computerName}\\${found[0]}` };
  };
}

/** The server side of 4.2.4: the published CHALLENGE_MESSAGE, after a NEGOTIATE asking for everything. */
function vectorState(): ChallengeState {
  return {
    negotiate: negotiateFor(DEFAULT_CLIENT_REQ).bytes,
    challenge: NTLMV2.challengeMessage,
    offered: NTLMV2.challengeFlags,
    serverChallenge: COMMON.serverChallenge,
  };
}

/** The client side of a full in-process exchange with fixed randoms. */
function exchange(options: { negotiate?: Uint8Array; password?: string; domain?: string; targetName?: string | null; clientBindings?: Uint8Array } = {}) {
  const negotiate =
    options.negotiate === undefined ? negotiateFor(DEFAULT_CLIENT_REQ) : { bytes: options.negotiate, flags: unpackNegotiate(options.negotiate).flags };
  const server = challengeFor(negotiate.bytes, NAMES, COMMON.serverChallenge, NOW);
  assert.ok(server.ok);
  const fixed = (length: number): Uint8Array => new Uint8Array(length).fill(length === 8 ? 0xaa : 0x55);
  const client = authenticateFor({
    negotiate,
    challenge: server.challenge,
    identity: { user: 'alice', domain: options.domain ?? 'SSPI-EMU', ntHash: ntowfv1(options.password ?? 'Passw0rd!'), workstation: 'CLIENT' },
    targetName: options.targetName ?? 'HTTP/server.example.test',
    channelBindingsHash: options.clientBindings === undefined ? undefined : channelBindingsHash(options.clientBindings),
    now: NOW,
    random: fixed,
  });
  assert.ok(client.ok);
  return { state: server, client };
}

const alice = accounts({ alice: 'Passw0rd!' });

describe('the acceptor against MS-NLMP 4.2.4', () => {
  test('accepts the published AUTHENTICATE_MESSAGE and recovers the RandomSessionKey as the exported session key', () => {
    const accepted = acceptAuthenticate({
      state: vectorState(),
      authenticate: NTLMV2.authenticateMessage,
      account: accounts({ User: 'Password' }),
      bindings: undefined,
      policy: NO_POLICY,
      now: NOW,
    });
    assert.ok(accepted.ok, accepted.ok ? '' : accepted.reason);
    assert.equal(toHex(accepted.exportedSessionKey), toHex(COMMON.randomSessionKey));
    assert.equal(accepted.userName, 'User');
    assert.equal(accepted.domainName, 'Domain');
    assert.equal(accepted.account, 'SERVER\\User');
    // 0xe2888235 as sent, limited to what the 4.2.4 CHALLENGE offered (0xe28a8233).
    assert.equal(accepted.flags, (0xe2888235 & 0xe28a8233) >>> 0);
  });

  test('with the negotiated flags and that key the server unseals the 4.2.4.4 GSS_WrapEx output to "Plaintext"', () => {
    const accepted = acceptAuthenticate({
      state: vectorState(),
      authenticate: NTLMV2.authenticateMessage,
      account: accounts({ User: 'Password' }),
      bindings: undefined,
      policy: NO_POLICY,
      now: NOW,
    });
    assert.ok(accepted.ok);
    const server = NtlmSecurityContext.fromSessionKey({ flags: accepted.flags, exportedSessionKey: accepted.exportedSessionKey, side: 'server' });
    const { status, message } = server.unseal(fromHex(NTLMV2.sealedPlaintext), fromHex(NTLMV2.signature));
    assert.equal(statusName(status), 'SEC_E_OK');
    assert.deepEqual(message, COMMON.plaintext);
  });

  test('refuses the same message for a wrong password and for an unknown user alike', () => {
    const check = (account: (user: string) => AccountKey | undefined) =>
      acceptAuthenticate({ state: vectorState(), authenticate: NTLMV2.authenticateMessage, account, bindings: undefined, policy: NO_POLICY, now: NOW });
    const wrong = check(accounts({ User: 'password' }));
    const unknown = check(accounts({ Someone: 'Password' }));
    assert.ok(!wrong.ok && !unknown.ok);
    assert.equal(statusName(wrong.status), 'SEC_E_LOGON_DENIED');
    assert.deepEqual(unknown, wrong);
  });

  test('refuses the 4.2.2 NTLMv1 AUTHENTICATE_MESSAGE with SEC_E_LOGON_DENIED: NTLMv2 only', () => {
    const state = { ...vectorState(), challenge: NTLMV1.challengeMessage, offered: NTLMV1.challengeFlags };
    const refused = acceptAuthenticate({
      state,
      authenticate: NTLMV1.authenticateMessage,
      account: accounts({ User: 'Password' }),
      bindings: undefined,
      policy: NO_POLICY,
      now: NOW,
    });
    assert.ok(!refused.ok);
    assert.equal(statusName(refused.status), 'SEC_E_LOGON_DENIED');
    assert.match(refused.reason, /NTLMv1 or LM response \(24-byte/);
  });

  test('retries with an empty domain, as 3.2.5.1.2 does, when the proof was made without one', () => {
    // A client that proved with UserDom "" but names a domain in the message (no MIC: the 4.2.4 CHALLENGE has no timestamp).
    const made = authenticateFor({
      negotiate: negotiateFor(DEFAULT_CLIENT_REQ),
      challenge: NTLMV2.challengeMessage,
      identity: { user: 'User', domain: '', ntHash: ntowfv1('Password'), workstation: 'COMPUTER' },
      targetName: null,
      channelBindingsHash: undefined,
      now: NOW,
    });
    assert.ok(made.ok);
    const relabelled = packAuthenticate({ ...unpackAuthenticate(made.bytes), domainName: 'ELSEWHERE' });
    const check = (authenticate: Uint8Array) =>
      acceptAuthenticate({ state: vectorState(), authenticate, account: accounts({ User: 'Password' }), bindings: undefined, policy: NO_POLICY, now: NOW });
    const accepted = check(relabelled);
    assert.ok(accepted.ok, accepted.ok ? '' : accepted.reason);
    assert.equal(accepted.domainName, 'ELSEWHERE');
    // The 4.2.4 proof was made with "Domain": neither "ELSEWHERE" nor "" verifies it.
    assert.ok(!check(packAuthenticate({ ...unpackAuthenticate(NTLMV2.authenticateMessage), domainName: 'ELSEWHERE' })).ok);
  });
});

describe('the windows 2008 R2 capture with channel bindings', () => {
  const state: ChallengeState = { negotiate: new Uint8Array(0), challenge: new Uint8Array(0), offered: 0xffffffff, serverChallenge: WIN2008R2.serverChallenge };

  test('gets past NTProofStr with P@ssw0rd, and then stops at the MIC, whose NEGOTIATE and CHALLENGE the capture lacks', () => {
    const outcome = acceptAuthenticate({
      state,
      authenticate: WIN2008R2.authenticateMessage,
      account: accounts({ Administrator: WIN2008R2.password }),
      bindings: undefined,
      policy: NO_POLICY,
      now: NOW,
    });
    assert.ok(!outcome.ok);
    assert.equal(statusName(outcome.status), 'SEC_E_LOGON_DENIED');
    assert.match(outcome.reason, /MIC does not match/);
  });

  test('with the wrong password it never reaches the MIC', () => {
    const outcome = acceptAuthenticate({
      state,
      authenticate: WIN2008R2.authenticateMessage,
      account: accounts({ Administrator: 'P@ssw0rd!' }),
      bindings: undefined,
      policy: NO_POLICY,
      now: NOW,
    });
    assert.ok(!outcome.ok);
    assert.equal(statusName(outcome.status), 'SEC_E_LOGON_DENIED');
    assert.match(outcome.reason, /unknown user or wrong password/);
  });

  test('carries the channel bindings hash and target name the acceptor reads', () => {
    const response = unpackAuthenticateNtlmV2Response(WIN2008R2.authenticateMessage);
    assert.ok(response !== undefined);
    assert.equal(toHex(findAvPair(response.clientChallenge.avPairs, MSV_AV.MsvAvChannelBindings)!), WIN2008R2.channelBindings);
    assert.equal(Buffer.from(findAvPair(response.clientChallenge.avPairs, MSV_AV.MsvAvTargetName)!).toString('utf16le'), WIN2008R2.targetName);
  });
});

describe('the NEGOTIATE_MESSAGE forms the acceptor answers', () => {
  test('the 40-byte Samba NEGOTIATE (UNICODE, Version) gets a UNICODE CHALLENGE with Version and TargetInfo', () => {
    const outcome = challengeFor(SAMBA_NEGOTIATE, NAMES, COMMON.serverChallenge, NOW);
    assert.ok(outcome.ok);
    const challenge = unpackChallenge(outcome.challenge);
    assert.ok(challenge.flags & N.UNICODE && !(challenge.flags & N.OEM));
    assert.ok(challenge.flags & N.TARGET_INFO && challenge.flags & N.TARGET_TYPE_SERVER);
    assert.deepEqual(challenge.version, { major: 10, minor: 0, build: 20348, revision: 15 });
    assert.equal(toHex(challenge.serverChallenge), toHex(COMMON.serverChallenge));
    assert.deepEqual(
      challenge.targetInfo?.map((p) => p.id),
      [MSV_AV.MsvAvNbDomainName, MSV_AV.MsvAvNbComputerName, MSV_AV.MsvAvDnsDomainName, MSV_AV.MsvAvDnsComputerName, MSV_AV.MsvAvTimestamp],
    );
  });

  test('a 32-byte OEM-only NEGOTIATE without Version gets an OEM CHALLENGE without Version, and the exchange completes in OEM', () => {
    const oem = packNegotiate({ flags: N.OEM | N.REQUEST_TARGET | N.NTLM | N.ALWAYS_SIGN | N.EXTENDED_SESSIONSECURITY, domainName: '', workstation: '' });
    assert.equal(oem.length, 32);
    const { state, client } = exchange({ negotiate: oem });
    const challenge = unpackChallenge(state.challenge);
    assert.ok(challenge.flags & N.OEM && !(challenge.flags & N.UNICODE));
    assert.equal(challenge.version, undefined);
    assert.equal(challenge.targetName, 'SERVER');
    const message = unpackAuthenticate(client.bytes);
    assert.ok(message.flags & N.OEM && !(message.flags & N.UNICODE));
    assert.equal(message.userName, 'alice');
    const accepted = acceptAuthenticate({ state, authenticate: client.bytes, account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
    assert.ok(accepted.ok, accepted.ok ? '' : accepted.reason);
  });

  test('a NEGOTIATE asking for LM_KEY and extended session security gets extended session security only', () => {
    const both = packNegotiate({ flags: N.UNICODE | N.NTLM | N.LM_KEY | N.EXTENDED_SESSIONSECURITY | N.SIGN, domainName: '', workstation: '' });
    const outcome = challengeFor(both, NAMES, COMMON.serverChallenge, NOW);
    assert.ok(outcome.ok);
    assert.ok(outcome.offered & N.EXTENDED_SESSIONSECURITY && !(outcome.offered & N.LM_KEY));
  });

  test('answers the same NEGOTIATE a second time with the message packChallenge builds for its own ServerChallenge and time', () => {
    const later = new Date(NOW.getTime() + 90_000);
    const second = fromHex('0102030405060708');
    for (const [serverChallenge, now] of [
      [COMMON.serverChallenge, NOW],
      [second, later],
    ] as const) {
      const outcome = challengeFor(SAMBA_NEGOTIATE, NAMES, serverChallenge, now);
      assert.ok(outcome.ok);
      const fresh = packChallenge({
        flags: outcome.offered,
        targetName: NAMES.domainName,
        serverChallenge,
        targetInfo: serverTargetInfo(NAMES, now),
        version: unpackChallenge(outcome.challenge).version,
      });
      assert.equal(toHex(outcome.challenge), toHex(fresh));
    }
    assert.throws(() => challengeFor(SAMBA_NEGOTIATE, NAMES, new Uint8Array(7), NOW), RangeError);
  });

  test('a message that is not a NEGOTIATE is SEC_E_INVALID_TOKEN with the parser reason and offset', () => {
    const outcome = challengeFor(NTLMV2.challengeMessage, NAMES, COMMON.serverChallenge, NOW);
    assert.ok(!outcome.ok);
    assert.equal(statusName(outcome.status), 'SEC_E_INVALID_TOKEN');
    assert.match(outcome.reason, /BAD_TYPE at offset 8/);
  });
});

describe("wget's AUTHENTICATE: OEM negotiated, UNICODE set in the AUTHENTICATE, 8-bit names", () => {
  // wget 1.21 (http-ntlm.c): a 32-byte NEGOTIATE with OEM | NTLM, then an AUTHENTICATE whose flags
  // are UNICODE | NTLM | ALWAYS_SIGN but whose names are 8-bit, with 24-byte LM and NT responses.
  const negotiate = packNegotiate({ flags: N.OEM | N.NTLM, domainName: '', workstation: '' });
  const WGET_AUTHENTICATE_FLAGS = N.UNICODE | N.NTLM | N.ALWAYS_SIGN;

  function wgetAuthenticate(): Uint8Array {
    // Packed with OEM names (5 bytes for "alice"), then the flags wget writes put in their place.
    const bytes = packAuthenticate({
      flags: N.OEM | N.NTLM,
      lmChallengeResponse: fromHex(NTLMV1.lmChallengeResponse),
      ntChallengeResponse: fromHex(NTLMV1.ntChallengeResponse),
      domainName: '',
      userName: 'alice',
      workstation: '',
      encryptedRandomSessionKey: new Uint8Array(0),
    });
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(60, WGET_AUTHENTICATE_FLAGS, true);
    return bytes;
  }

  test('read by its own UNICODE bit, its 5-byte user name is not UTF-16: what the acceptor used to refuse as a corrupt token', () => {
    const server = challengeFor(negotiate, NAMES, COMMON.serverChallenge, NOW);
    assert.ok(server.ok && (server.offered & N.UNICODE) === 0 && (server.offered & N.OEM) !== 0);
    assert.throws(
      () => unpackAuthenticate(wgetAuthenticate()),
      (error: unknown) => error instanceof NtlmParseError,
    );
    assert.equal(unpackAuthenticate(wgetAuthenticate(), false).userName, 'alice');
  });

  test('is read in the charset the CHALLENGE settled on (OEM) and refused as NTLMv1: SEC_E_LOGON_DENIED', () => {
    const server = challengeFor(negotiate, NAMES, COMMON.serverChallenge, NOW);
    assert.ok(server.ok);
    const refused = acceptAuthenticate({ state: server, authenticate: wgetAuthenticate(), account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
    assert.ok(!refused.ok);
    assert.equal(statusName(refused.status), 'SEC_E_LOGON_DENIED');
    assert.match(refused.reason, /NTLMv1 or LM response \(24-byte NtChallengeResponse\) is refused/);
  });

  test("wget's captured NEGOTIATE and AUTHENTICATE are refused the same way", () => {
    const server = challengeFor(WGET.negotiate, NAMES, COMMON.serverChallenge, NOW);
    assert.ok(server.ok);
    assert.equal(unpackAuthenticate(WGET.authenticate, false).flags, WGET.authenticateFlags);
    const refused = acceptAuthenticate({ state: server, authenticate: WGET.authenticate, account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
    assert.ok(!refused.ok);
    assert.equal(statusName(refused.status), 'SEC_E_LOGON_DENIED');
    assert.match(refused.reason, /NTLMv1/);
  });

  test('a UNICODE CHALLENGE reads the names as UTF-16 whatever the AUTHENTICATE says, so 8-bit names there are a malformed token', () => {
    const unicode = challengeFor(packNegotiate({ flags: N.UNICODE | N.OEM | N.NTLM, domainName: '', workstation: '' }), NAMES, COMMON.serverChallenge, NOW);
    assert.ok(unicode.ok && (unicode.offered & N.UNICODE) !== 0);
    const refused = acceptAuthenticate({ state: unicode, authenticate: wgetAuthenticate(), account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
    assert.ok(!refused.ok);
    assert.equal(statusName(refused.status), 'SEC_E_INVALID_TOKEN');
  });
});

describe('an exchange between the initiator and the acceptor', () => {
  test('completes with the same flags and exported session key on both sides', () => {
    const { state, client } = exchange();
    const accepted = acceptAuthenticate({ state, authenticate: client.bytes, account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
    assert.ok(accepted.ok, accepted.ok ? '' : accepted.reason);
    assert.equal(accepted.flags, client.flags);
    assert.equal(toHex(accepted.exportedSessionKey), toHex(client.exportedSessionKey));
    assert.equal(accepted.targetName, 'HTTP/server.example.test');
    assert.ok(client.flags & N.KEY_EXCH && client.flags & N.SEAL && client.flags & N.SIGN && client.flags & N.EXTENDED_SESSIONSECURITY);
  });

  test('sends Z(24) as LM response, MsvAvFlags with the MIC bit, a MIC, and zero channel bindings, since the server sent MsvAvTimestamp', () => {
    const { client } = exchange();
    const message = unpackAuthenticate(client.bytes);
    assert.equal(toHex(message.lmChallengeResponse), '00'.repeat(24));
    assert.ok(message.mic !== undefined && toHex(message.mic) !== '00'.repeat(16));
    const pairs = unpackAuthenticateNtlmV2Response(client.bytes)!.clientChallenge.avPairs;
    assert.equal(toHex(findAvPair(pairs, MSV_AV.MsvAvFlags)!), '02000000');
    assert.equal(toHex(findAvPair(pairs, MSV_AV.MsvAvChannelBindings)!), '00'.repeat(16));
  });

  test('uses the server MsvAvTimestamp as the NTLMv2 response time', () => {
    const { state, client } = exchange();
    const serverTime = findAvPair(unpackChallenge(state.challenge).targetInfo!, MSV_AV.MsvAvTimestamp)!;
    assert.equal(toHex(unpackAuthenticateNtlmV2Response(client.bytes)!.clientChallenge.timestamp), toHex(serverTime));
  });

  test('sends an LMv2 response that verifies when the server sent no MsvAvTimestamp (the 4.2.4 CHALLENGE)', () => {
    const negotiate = negotiateFor(DEFAULT_CLIENT_REQ);
    const client = authenticateFor({
      negotiate,
      challenge: NTLMV2.challengeMessage,
      identity: { user: 'User', domain: 'Domain', ntHash: ntowfv1('Password'), workstation: 'COMPUTER' },
      targetName: null,
      channelBindingsHash: undefined,
      now: NOW,
      random: (length) => new Uint8Array(length).fill(length === 8 ? 0xaa : 0x55),
    });
    assert.ok(client.ok);
    const message = unpackAuthenticate(client.bytes);
    assert.equal(toHex(message.lmChallengeResponse), NTLMV2.lmv2Response, 'LMv2 depends only on the key and the two challenges');
    assert.equal(message.mic, undefined);
    assert.ok(verifyLmV2Response(fromHex(NTLMV2.responseKeyNT), COMMON.serverChallenge, message.lmChallengeResponse));
  });

  test('with a wrong password is SEC_E_LOGON_DENIED', () => {
    const { state, client } = exchange({ password: 'Passw0rd?' });
    const outcome = acceptAuthenticate({ state, authenticate: client.bytes, account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
    assert.ok(!outcome.ok);
    assert.equal(statusName(outcome.status), 'SEC_E_LOGON_DENIED');
  });

  test('finds the account whatever domain the client sends, the NTLMv2 hash taking the domain as sent', () => {
    for (const domain of ['', 'SSPI-EMU', 'sspi-emu', 'SOMEWHERE.ELSE']) {
      const { state, client } = exchange({ domain });
      assert.equal(unpackAuthenticate(client.bytes).domainName, domain);
      const accepted = acceptAuthenticate({ state, authenticate: client.bytes, account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
      assert.ok(accepted.ok, `domain ${JSON.stringify(domain)}`);
    }
  });
});

describe('the acceptor checks after NTProofStr', () => {
  test('a MIC with one bit flipped is an authentication failure: SEC_E_LOGON_DENIED', () => {
    const { state, client } = exchange();
    const mic = unpackAuthenticate(client.bytes).mic!;
    mic[0]! ^= 1;
    const outcome = acceptAuthenticate({ state, authenticate: withMic(client.bytes, mic), account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
    assert.ok(!outcome.ok);
    assert.equal(statusName(outcome.status), 'SEC_E_LOGON_DENIED');
    assert.match(outcome.reason, /MIC does not match/);
  });

  test('a NEGOTIATE altered in flight (flags stripped) makes the MIC fail: SEC_E_LOGON_DENIED', () => {
    const { state, client } = exchange();
    const negotiate = Uint8Array.from(state.negotiate);
    negotiate[12]! &= ~N.SEAL; // NegotiateFlags, low byte
    const outcome = acceptAuthenticate({
      state: { ...state, negotiate },
      authenticate: client.bytes,
      account: alice,
      bindings: undefined,
      policy: NO_POLICY,
      now: NOW,
    });
    assert.ok(!outcome.ok);
    assert.match(outcome.reason, /MIC does not match/);
    assert.equal(statusName(outcome.status), 'SEC_E_LOGON_DENIED');
  });

  test('an AUTHENTICATE without a MIC field whose MsvAvFlags announces one is SEC_E_INVALID_TOKEN', () => {
    const { state, client } = exchange();
    const stripped = packAuthenticate({ ...unpackAuthenticate(client.bytes), mic: undefined, version: undefined });
    const outcome = acceptAuthenticate({ state, authenticate: stripped, account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
    assert.ok(!outcome.ok);
    assert.equal(statusName(outcome.status), 'SEC_E_INVALID_TOKEN');
    assert.match(outcome.reason, /no MIC field/);
  });

  test('a response older than maxClockSkewSeconds is SEC_E_TIME_SKEW, a newer one passes', () => {
    const { state, client } = exchange();
    const check = (now: Date, maxClockSkewSeconds: number) =>
      acceptAuthenticate({
        state,
        authenticate: client.bytes,
        account: alice,
        bindings: undefined,
        policy: { requireChannelBindings: false, allowMissingBindings: true, maxClockSkewSeconds },
        now,
      });
    const later = new Date(NOW.getTime() + 37 * 3600 * 1000);
    const outcome = check(later, 36 * 3600);
    assert.ok(!outcome.ok);
    assert.equal(statusName(outcome.status), 'SEC_E_TIME_SKEW');
    assert.ok(check(new Date(NOW.getTime() + 3600 * 1000), 36 * 3600).ok);
    assert.ok(check(later, 0).ok, '0 turns the check off');
  });

  test('channel bindings that match pass, and ones that differ are SEC_E_BAD_BINDINGS whatever the policy', () => {
    const tls = bindings('tls-server-end-point:abcdef');
    const { state, client } = exchange({ clientBindings: tls });
    for (const requireChannelBindings of [false, true])
      for (const allowMissingBindings of [false, true]) {
        const policy = { requireChannelBindings, allowMissingBindings, maxClockSkewSeconds: 0 };
        assert.ok(acceptAuthenticate({ state, authenticate: client.bytes, account: alice, bindings: digestBindings(tls), policy, now: NOW }).ok);
        const other = acceptAuthenticate({
          state,
          authenticate: client.bytes,
          account: alice,
          bindings: digestBindings(bindings('tls-server-end-point:123456')),
          policy,
          now: NOW,
        });
        assert.ok(!other.ok);
        assert.equal(statusName(other.status), 'SEC_E_BAD_BINDINGS');
      }
  });

  test('a client without bindings passes only with ASC_REQ_ALLOW_MISSING_BINDINGS and without requireChannelBindings', () => {
    const { state, client } = exchange();
    const tls = digestBindings(bindings('tls-server-end-point:abcdef'));
    const check = (requireChannelBindings: boolean, allowMissingBindings: boolean) =>
      acceptAuthenticate({
        state,
        authenticate: client.bytes,
        account: alice,
        bindings: tls,
        policy: { requireChannelBindings, allowMissingBindings, maxClockSkewSeconds: 0 },
        now: NOW,
      });
    assert.ok(check(false, true).ok, 'Extended Protection "Allowed"');
    for (const [require, allow, reason] of [
      [false, false, /did not allow missing ones \(no ASC_REQ_ALLOW_MISSING_BINDINGS\)/],
      [true, true, /required \(requireChannelBindings\)/],
      [true, false, /required \(requireChannelBindings\)/],
    ] as const) {
      const refused = check(require, allow);
      assert.ok(!refused.ok);
      assert.equal(statusName(refused.status), 'SEC_E_BAD_BINDINGS');
      assert.match(refused.reason, reason);
    }
  });

  test('checkBindings refuses a malformed server SEC_CHANNEL_BINDINGS and a requirement with nothing to check against, and checks nothing without server bindings', () => {
    const lenient = { requireChannelBindings: false, allowMissingBindings: true };
    assert.equal(statusName(checkBindings(new Uint8Array(16), digestBindings(new Uint8Array(8)), lenient)!.status), 'SEC_E_BAD_BINDINGS');
    assert.equal(
      statusName(checkBindings(new Uint8Array(16).fill(1), undefined, { requireChannelBindings: true, allowMissingBindings: true })!.status),
      'SEC_E_BAD_BINDINGS',
    );
    assert.equal(checkBindings(new Uint8Array(16).fill(1), undefined, lenient), undefined);
    assert.equal(checkBindings(new Uint8Array(16).fill(1), undefined, { requireChannelBindings: false, allowMissingBindings: false }), undefined);
    assert.equal(checkBindings(undefined, undefined, { requireChannelBindings: false, allowMissingBindings: false }), undefined);
  });

  test('KEY_EXCH with an EncryptedRandomSessionKey that is not 16 bytes is SEC_E_INVALID_TOKEN', () => {
    const { state, client } = exchange();
    const message = unpackAuthenticate(client.bytes);
    const cut = packAuthenticate({ ...message, encryptedRandomSessionKey: message.encryptedRandomSessionKey.subarray(0, 8) });
    const outcome = acceptAuthenticate({ state, authenticate: cut, account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
    assert.ok(!outcome.ok);
    assert.equal(statusName(outcome.status), 'SEC_E_INVALID_TOKEN');
  });

  test('an anonymous AUTHENTICATE (no user, no response) is SEC_E_LOGON_DENIED', () => {
    const { state } = exchange();
    const anonymous = packAuthenticate({
      flags: N.UNICODE | N.NTLM | N.ANONYMOUS,
      lmChallengeResponse: new Uint8Array(1),
      ntChallengeResponse: new Uint8Array(0),
      domainName: '',
      userName: '',
      workstation: '',
      encryptedRandomSessionKey: new Uint8Array(0),
    });
    const outcome = acceptAuthenticate({ state, authenticate: anonymous, account: alice, bindings: undefined, policy: NO_POLICY, now: NOW });
    assert.ok(!outcome.ok);
    assert.equal(statusName(outcome.status), 'SEC_E_LOGON_DENIED');
  });
});
