import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import {
  channelBindingsHash,
  computeMic,
  computeNtlmV2ProofOfTemp,
  computeNtlmV2Response,
  decryptRandomSessionKey,
  encryptRandomSessionKey,
  filetimeDistanceSeconds,
  filetimeFromDate,
  filetimeNow,
  filetimeTicks,
  filetimeToDate,
  gssChannelBindingsHash,
  kxkeyV1,
  kxkeyV2,
  lmowfv2,
  ntlmV2Temp,
  ntowfv1,
  ntowfv2,
  ntowfv2FromNtHash,
  NtlmUnsupportedError,
  packSecChannelBindings,
  sealKey,
  sessionBaseKeyV1,
  signKey,
  unpackSecChannelBindings,
  utf16le,
  verifyLmV2Response,
  verifyMic,
  verifyNtlmV2Response,
  type ChannelBindings,
} from '../../../packages/ntlm/crypto.js';
import { filetimeBytes, timeStampFromDate } from '../../../headers/index.js';
import { NTLMSSP_NEGOTIATE } from '../../../packages/ntlm/flags.js';
import { packAuthenticate, packNegotiate, unpackAuthenticate, unpackChallenge, withMic, withMicZeroed } from '../../../packages/ntlm/messages.js';
import { COMMON, fromHex, NTLMV1, NTLMV1_ESS, NTLMV2, toHex, WIN2008R2 } from './vectors.js';

const { user, domain, password, serverChallenge } = COMMON;

describe('one-way functions', () => {
  test('NTOWFv1("Password") is the MS-NLMP 4.2.2.1.2 NT hash', () => {
    assert.equal(toHex(ntowfv1(password)), NTLMV1.ntowfv1);
  });

  test('NTOWFv1 hashes a surrogate pair as its two UTF-16 units (gss-ntlmssp test_NTOWF_UTF16)', () => {
    assert.equal(toHex(ntowfv1('Pass\u{1D11E}')), '0d72dddeddbae5ff244820e072413b90');
  });

  test('NTOWFv1("P@ssw0rd") is the hash of the Windows 2008 R2 capture', () => {
    assert.equal(toHex(ntowfv1(WIN2008R2.password)), WIN2008R2.ntowfv1);
  });

  test('the NTLMv1 SessionBaseKey is MD4 of the NT hash (4.2.2.1.3)', () => {
    assert.equal(toHex(sessionBaseKeyV1(ntowfv1(password))), NTLMV1.sessionBaseKey);
  });

  test('NTOWFv2 and LMOWFv2 give the 4.2.4.1.1 ResponseKeyNT', () => {
    assert.equal(toHex(ntowfv2(password, user, domain)), NTLMV2.responseKeyNT);
    assert.equal(toHex(lmowfv2(password, user, domain)), NTLMV2.responseKeyNT);
    assert.equal(toHex(ntowfv2FromNtHash(ntowfv1(password), user, domain)), NTLMV2.responseKeyNT);
  });

  test('NTOWFv2 upcases the user but not the domain', () => {
    assert.equal(toHex(ntowfv2(password, 'uSeR', domain)), NTLMV2.responseKeyNT);
    assert.notEqual(toHex(ntowfv2(password, user, 'DOMAIN')), NTLMV2.responseKeyNT);
  });

  test('NTOWFv2 leaves a character whose uppercase is longer (ß) as it is, like RtlUpcaseUnicodeString', () => {
    const expected = createHmac('md5', ntowfv1(password))
      .update(utf16le('STRAßE' + domain))
      .digest('hex');
    assert.equal(toHex(ntowfv2(password, 'straße', domain)), expected);
  });
});

describe('NTLMv2 responses', () => {
  const targetInfo = unpackChallenge(NTLMV2.challengeMessage).targetInfo ?? [];
  const temp = ntlmV2Temp(COMMON.time, COMMON.clientChallenge, targetInfo);
  const responseKey = fromHex(NTLMV2.responseKeyNT);
  const responses = computeNtlmV2Response({ responseKeyNT: responseKey, responseKeyLM: responseKey, serverChallenge, temp });

  test('temp is the 4.2.4.1.3 NTLMv2_CLIENT_CHALLENGE with the server TargetInfo and Z(4)', () => {
    assert.equal(toHex(temp), NTLMV2.temp);
  });

  test('NTProofStr, NtChallengeResponse, LMv2 and SessionBaseKey are the 4.2.4.2 values', () => {
    assert.equal(toHex(responses.ntProofStr), NTLMV2.ntProofStr);
    assert.equal(toHex(responses.ntChallengeResponse), NTLMV2.ntProofStr + NTLMV2.temp);
    assert.equal(toHex(responses.lmChallengeResponse), NTLMV2.lmv2Response);
    assert.equal(toHex(responses.sessionBaseKey), NTLMV2.sessionBaseKey);
  });

  test("packed in place after its NTProofStr (the client's leg), the response, temp and SessionBaseKey are the same 4.2.4 values", () => {
    const inPlace = computeNtlmV2ProofOfTemp({
      responseKeyNT: responseKey,
      serverChallenge,
      timestamp: COMMON.time,
      clientChallenge: COMMON.clientChallenge,
      avPairs: targetInfo,
    });
    assert.equal(toHex(inPlace.ntChallengeResponse), NTLMV2.ntProofStr + NTLMV2.temp);
    assert.equal(toHex(inPlace.ntProofStr), NTLMV2.ntProofStr);
    assert.equal(toHex(inPlace.temp), NTLMV2.temp);
    assert.equal(toHex(inPlace.sessionBaseKey), NTLMV2.sessionBaseKey);
  });

  test('KXKEY for NTLMv2 is the SessionBaseKey and encrypts the random session key to the 4.2.4.2.3 value', () => {
    const kxkey = kxkeyV2(responses.sessionBaseKey);
    assert.equal(toHex(kxkey), NTLMV2.sessionBaseKey);
    const encrypted = encryptRandomSessionKey(kxkey, COMMON.randomSessionKey);
    assert.equal(toHex(encrypted), NTLMV2.encryptedRandomSessionKey);
    assert.deepEqual(decryptRandomSessionKey(kxkey, encrypted), COMMON.randomSessionKey);
  });

  test('the server verifies the 4.2.4 NtChallengeResponse and recovers the SessionBaseKey', () => {
    const result = verifyNtlmV2Response(responseKey, serverChallenge, responses.ntChallengeResponse);
    assert.equal(result.ok, true);
    assert.equal(toHex(result.sessionBaseKey ?? new Uint8Array(0)), NTLMV2.sessionBaseKey);
  });

  test('the server rejects an NtChallengeResponse with one bit of temp flipped, the wrong challenge or the wrong key', () => {
    const tampered = Uint8Array.from(responses.ntChallengeResponse);
    tampered[40] = tampered[40]! ^ 1;
    assert.deepEqual(verifyNtlmV2Response(responseKey, serverChallenge, tampered), { ok: false, sessionBaseKey: undefined });
    assert.equal(verifyNtlmV2Response(responseKey, new Uint8Array(8), responses.ntChallengeResponse).ok, false);
    assert.equal(verifyNtlmV2Response(ntowfv2('wrong', user, domain), serverChallenge, responses.ntChallengeResponse).ok, false);
    assert.equal(verifyNtlmV2Response(responseKey, serverChallenge, responses.ntProofStr).ok, false);
  });

  test('the server verifies the LMv2 response and rejects a changed one', () => {
    assert.equal(verifyLmV2Response(responseKey, serverChallenge, responses.lmChallengeResponse), true);
    const tampered = Uint8Array.from(responses.lmChallengeResponse);
    tampered[23] = tampered[23]! ^ 0x80;
    assert.equal(verifyLmV2Response(responseKey, serverChallenge, tampered), false);
    assert.equal(verifyLmV2Response(responseKey, serverChallenge, new Uint8Array(16)), false);
  });

  test('the NTProofStr of the Windows 2008 R2 capture verifies with P@ssw0rd, Administrator, WS2008R2', () => {
    const message = unpackAuthenticate(WIN2008R2.authenticateMessage);
    const key = ntowfv2FromNtHash(fromHex(WIN2008R2.ntowfv1), message.userName, message.domainName);
    assert.equal(verifyNtlmV2Response(key, WIN2008R2.serverChallenge, message.ntChallengeResponse).ok, true);
    assert.equal(verifyNtlmV2Response(ntowfv2('p@ssw0rd', WIN2008R2.user, WIN2008R2.domain), WIN2008R2.serverChallenge, message.ntChallengeResponse).ok, false);
  });
});

describe('KXKEY for NTLMv1', () => {
  const sessionBaseKey = fromHex(NTLMV1.sessionBaseKey);

  test('without extended session security, LM_KEY or NON_NT_SESSION_KEY it is the SessionBaseKey (4.2.2.2.3 encrypted key)', () => {
    const kxkey = kxkeyV1({
      flags: NTLMV1.challengeFlags,
      sessionBaseKey,
      serverChallenge,
      lmChallengeResponse: fromHex(NTLMV1.lmChallengeResponse),
    });
    assert.equal(toHex(kxkey), NTLMV1.sessionBaseKey);
    assert.equal(toHex(encryptRandomSessionKey(kxkey, COMMON.randomSessionKey)), NTLMV1.encryptedRandomSessionKey);
  });

  test('with extended session security it is HMAC_MD5(SessionBaseKey, ServerChallenge ‖ LM[0..7]) (4.2.3.1.2)', () => {
    const kxkey = kxkeyV1({
      flags: NTLMV1_ESS.flags,
      sessionBaseKey,
      serverChallenge,
      lmChallengeResponse: fromHex(NTLMV1_ESS.lmChallengeResponse),
    });
    assert.equal(toHex(kxkey), NTLMV1_ESS.keyExchangeKey);
  });

  test('refuses LM_KEY and REQUEST_NON_NT_SESSION_KEY without extended session security, which need DES', () => {
    for (const bit of [NTLMSSP_NEGOTIATE.LM_KEY, NTLMSSP_NEGOTIATE.REQUEST_NON_NT_SESSION_KEY]) {
      assert.throws(
        () => kxkeyV1({ flags: NTLMV1.challengeFlags | bit, sessionBaseKey, serverChallenge, lmChallengeResponse: new Uint8Array(24) }),
        (error: unknown) => error instanceof NtlmUnsupportedError && error.code === 'UNSUPPORTED',
      );
    }
  });
});

describe('SIGNKEY and SEALKEY', () => {
  const key = COMMON.randomSessionKey;
  const ess128 = NTLMV2.challengeFlags;
  const ess56 = ess128 & ~NTLMSSP_NEGOTIATE[128];
  const ess40 = ess56 & ~NTLMSSP_NEGOTIATE[56];

  test('the client and server signing keys are the 4.2.4.4 / pyspnego values', () => {
    assert.equal(toHex(signKey(key, 'client')), NTLMV2.clientSignKey);
    assert.equal(toHex(signKey(key, 'server')), NTLMV2.serverSignKey);
  });

  test('the 128-, 56- and 40-bit sealing keys with extended session security are the pyspnego values', () => {
    assert.equal(toHex(sealKey(ess128 >>> 0, key, 'client')), NTLMV2.clientSealKey128);
    assert.equal(toHex(sealKey(ess128 >>> 0, key, 'server')), NTLMV2.serverSealKey128);
    assert.equal(toHex(sealKey(ess56 >>> 0, key, 'client')), NTLMV2.clientSealKey56);
    assert.equal(toHex(sealKey(ess56 >>> 0, key, 'server')), NTLMV2.serverSealKey56);
    assert.equal(toHex(sealKey(ess40 >>> 0, key, 'client')), NTLMV2.clientSealKey40);
    assert.equal(toHex(sealKey(ess40 >>> 0, key, 'server')), NTLMV2.serverSealKey40);
  });

  test('the NTLMv1 extended-session-security keys of 4.2.3.4 come from its KXKEY', () => {
    const kxkey = fromHex(NTLMV1_ESS.keyExchangeKey);
    assert.equal(toHex(sealKey(NTLMV1_ESS.flags, kxkey, 'client')), NTLMV1_ESS.clientSealKey56);
    assert.equal(toHex(signKey(kxkey, 'client')), NTLMV1_ESS.clientSignKey);
  });

  test('without extended session security, LM_KEY gives the 56-bit and 40-bit keys with their fixed tails', () => {
    const v1LmKey = (NTLMV1.challengeFlags | NTLMSSP_NEGOTIATE.LM_KEY) >>> 0;
    assert.equal(toHex(sealKey(v1LmKey, key, 'client')), NTLMV1.sealKey56WithLmKey);
    assert.equal(toHex(sealKey((v1LmKey & ~NTLMSSP_NEGOTIATE[56]) >>> 0, key, 'client')), NTLMV1.sealKey40WithLmKey);
  });

  test('without extended session security or LM_KEY, both sides seal with the session key itself', () => {
    assert.deepEqual(sealKey(NTLMV1.challengeFlags, key, 'client'), key);
    assert.deepEqual(sealKey(NTLMV1.challengeFlags, key, 'server'), key);
  });
});

describe('MIC', () => {
  const negotiate = packNegotiate({ flags: 0xe2088297, domainName: '', workstation: '' });
  const challenge = NTLMV2.challengeMessage;
  const authenticate = packAuthenticate({
    ...unpackAuthenticate(NTLMV2.authenticateMessage),
    version: { major: 10, minor: 0, build: 19041, revision: 15 },
    mic: new Uint8Array(16),
  });
  const key = COMMON.randomSessionKey;

  test('is HMAC_MD5(ExportedSessionKey, NEGOTIATE ‖ CHALLENGE ‖ AUTHENTICATE with the MIC zeroed)', () => {
    const mic = computeMic(key, negotiate, challenge, authenticate);
    const expected = createHmac('md5', key).update(negotiate).update(challenge).update(authenticate).digest('hex');
    assert.equal(toHex(mic), expected);
  });

  test('comes out the same once written into the message, and verifies', () => {
    const mic = computeMic(key, negotiate, challenge, authenticate);
    const sent = withMic(authenticate, mic);
    assert.deepEqual(unpackAuthenticate(sent).mic, mic);
    assert.deepEqual(computeMic(key, negotiate, challenge, sent), mic);
    assert.equal(verifyMic(key, negotiate, challenge, sent, mic), true);
    assert.deepEqual(withMicZeroed(sent), authenticate);
  });

  test('fails to verify when any of the three messages or the key changes', () => {
    const mic = computeMic(key, negotiate, challenge, authenticate);
    const sent = withMic(authenticate, mic);
    const altered = Uint8Array.from(sent);
    altered[altered.length - 1] = altered[altered.length - 1]! ^ 1;
    assert.equal(verifyMic(key, negotiate, challenge, altered, mic), false);
    assert.equal(verifyMic(key, packNegotiate({ flags: 0xe2088297, domainName: 'D', workstation: '' }), challenge, sent, mic), false);
    assert.equal(verifyMic(key, negotiate, NTLMV1.challengeMessage, sent, mic), false);
    assert.equal(verifyMic(new Uint8Array(16), negotiate, challenge, sent, mic), false);
  });

  test('cannot be computed over an AUTHENTICATE_MESSAGE that has no MIC field', () => {
    assert.throws(() => computeMic(key, negotiate, challenge, NTLMV2.authenticateMessage), {
      name: 'NtlmParseError',
      code: 'NO_MIC',
      offset: 72,
    });
  });
});

describe('channel bindings', () => {
  const tlsServerEndPoint: ChannelBindings = {
    initiatorAddrType: 0,
    initiatorAddress: new Uint8Array(0),
    acceptorAddrType: 0,
    acceptorAddress: new Uint8Array(0),
    applicationData: Uint8Array.from([...new TextEncoder().encode('tls-server-end-point:'), ...new Uint8Array(32).fill(0xab)]),
  };

  test('hash MD5 over the gss_channel_bindings_struct fields, lengths 4 bytes little-endian', () => {
    const app = tlsServerEndPoint.applicationData;
    const flat = Uint8Array.from([...new Uint8Array(16), app.length, 0, 0, 0, ...app]);
    assert.equal(toHex(gssChannelBindingsHash(tlsServerEndPoint)), createHash('md5').update(flat).digest('hex'));
  });

  test('hash the addresses with their types and lengths when they are present', () => {
    const bindings: ChannelBindings = {
      initiatorAddrType: 2,
      initiatorAddress: Uint8Array.of(10, 0, 0, 1),
      acceptorAddrType: 2,
      acceptorAddress: Uint8Array.of(10, 0, 0, 2),
      applicationData: Uint8Array.of(0xde, 0xad),
    };
    const flat = Uint8Array.of(2, 0, 0, 0, 4, 0, 0, 0, 10, 0, 0, 1, 2, 0, 0, 0, 4, 0, 0, 0, 10, 0, 0, 2, 2, 0, 0, 0, 0xde, 0xad);
    assert.equal(toHex(gssChannelBindingsHash(bindings)), createHash('md5').update(flat).digest('hex'));
    assert.equal(toHex(channelBindingsHash(packSecChannelBindings(bindings))), toHex(gssChannelBindingsHash(bindings)));
  });

  test('read from a SEC_CHANNEL_BINDINGS buffer hash as the structure does', () => {
    const sec = packSecChannelBindings(tlsServerEndPoint);
    assert.equal(sec.length, 32 + tlsServerEndPoint.applicationData.length);
    assert.deepEqual(unpackSecChannelBindings(sec), tlsServerEndPoint);
    assert.deepEqual(channelBindingsHash(sec), gssChannelBindingsHash(tlsServerEndPoint));
  });

  test('of an empty SEC_CHANNEL_BINDINGS hash to MD5 of twenty zero bytes', () => {
    assert.equal(toHex(channelBindingsHash(new Uint8Array(32))), createHash('md5').update(new Uint8Array(20)).digest('hex'));
  });

  test('refuse a SEC_CHANNEL_BINDINGS shorter than its 32-byte header', () => {
    assert.throws(() => channelBindingsHash(new Uint8Array(31)), { name: 'NtlmParseError', code: 'BAD_CHANNEL_BINDINGS', offset: 31 });
  });

  test('refuse application data that runs past the buffer, reporting cbApplicationDataLength', () => {
    const sec = packSecChannelBindings(tlsServerEndPoint);
    new DataView(sec.buffer).setUint32(24, tlsServerEndPoint.applicationData.length + 1, true);
    assert.throws(() => channelBindingsHash(sec), {
      name: 'NtlmParseError',
      code: 'BAD_CHANNEL_BINDINGS',
      offset: 24,
      message: /application data \(offset 32, length 54\)/,
    });
  });

  test('refuse an initiator offset that points into the header or an overflowing one', () => {
    const bindings = { ...tlsServerEndPoint, initiatorAddress: Uint8Array.of(1, 2, 3, 4) };
    const intoHeader = packSecChannelBindings(bindings);
    new DataView(intoHeader.buffer).setUint32(8, 4, true);
    assert.throws(() => channelBindingsHash(intoHeader), { code: 'BAD_CHANNEL_BINDINGS', offset: 4 });
    const overflowing = packSecChannelBindings(bindings);
    new DataView(overflowing.buffer).setUint32(8, 0xffffffff, true);
    assert.throws(() => channelBindingsHash(overflowing), { code: 'BAD_CHANNEL_BINDINGS', offset: 4 });
  });
});

describe('FILETIME', () => {
  test('the Unix epoch is 116444736000000000 ticks after 1601', () => {
    const epoch = filetimeFromDate(new Date(0));
    assert.equal(toHex(epoch), '00803ed5deb19d01');
    assert.equal(filetimeTicks(epoch), 116444736000000000n);
    assert.equal(filetimeToDate(epoch).getTime(), 0);
  });

  test('FILETIME zero is 1601-01-01', () => {
    assert.equal(filetimeToDate(new Uint8Array(8)).toISOString(), '1601-01-01T00:00:00.000Z');
  });

  test('the capture timestamp reads as 2012-12-19T17:10:36.536Z and round-trips to the millisecond', () => {
    const date = filetimeToDate(fromHex(WIN2008R2.timestamp));
    assert.equal(date.toISOString(), '2012-12-19T17:10:36.536Z');
    assert.equal(filetimeToDate(filetimeFromDate(date)).getTime(), date.getTime());
  });

  test('now is 8 bytes within a second of the clock', () => {
    const now = filetimeNow();
    assert.equal(now.length, 8);
    assert.ok(Math.abs(filetimeToDate(now).getTime() - Date.now()) < 1000);
  });

  test('refuses dates before 1601 and FILETIMEs that are not 8 bytes', () => {
    assert.throws(() => filetimeFromDate(new Date('1600-12-31T23:59:59Z')), RangeError);
    assert.throws(() => filetimeFromDate(new Date(Number.NaN)), RangeError);
    assert.throws(() => filetimeToDate(new Uint8Array(7)), RangeError);
  });

  test('written in double arithmetic, agrees with the BigInt TimeStamp for every date, to the wrap past year 30828', () => {
    const dates = [
      Date.UTC(1601, 0, 1),
      Date.UTC(1601, 0, 1, 0, 0, 0, 1),
      -1,
      0,
      1,
      Date.UTC(2012, 11, 19, 17, 10, 36, 536),
      Date.UTC(2026, 11, 7),
      Date.UTC(30828, 8, 14, 2, 48, 5, 477),
      Date.UTC(30828, 8, 14, 2, 48, 5, 478),
      8.64e15,
      -8.64e15 + 2e15,
    ];
    // Dates across the whole range a Date has after 1601, from a fixed generator (two draws for 62 bits).
    let seed = 7;
    const draw = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const from = Date.UTC(1601, 0, 1);
    for (let i = 0; i < 2000; i++) dates.push(from + Math.floor((draw() + draw() / 2 ** 31) * (8.64e15 - from)));
    for (const ms of dates) {
      const date = new Date(ms);
      if (ms < Date.UTC(1601, 0, 1)) continue;
      assert.equal(toHex(filetimeFromDate(date)), toHex(filetimeBytes(timeStampFromDate(date))), date.toISOString());
    }
  });

  test('the distance of a FILETIME from a date, in seconds, is what the BigInt ticks give, either way and far apart', () => {
    const now = new Date(Date.UTC(2026, 11, 7, 5, 0, 0, 123));
    for (const offsetMs of [0, 1, -1, 299_999, 300_000, -300_001, 86_400_000, -3.2e12, 9e14, 2.5e15]) {
      const stamp = filetimeFromDate(new Date(now.getTime() + offsetMs));
      const ticks = filetimeTicks(stamp) - timeStampFromDate(now);
      const expected = Number(ticks < 0n ? -ticks : ticks) / 10_000_000;
      assert.equal(filetimeDistanceSeconds(stamp, 0, now), expected, String(offsetMs));
    }
    const inside = new Uint8Array(12);
    inside.set(filetimeFromDate(new Date(now.getTime() + 5_000)), 4);
    assert.equal(filetimeDistanceSeconds(inside, 4, now), 5);
  });
});
