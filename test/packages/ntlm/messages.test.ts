import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeNtlmV2Response, encryptRandomSessionKey, ntlmV2Temp, ntowfv2, utf16le } from '../../../packages/ntlm/crypto.js';
import { MSV_AV, NTLMSSP_NEGOTIATE } from '../../../packages/ntlm/flags.js';
import {
  AUTHENTICATE_MIC_OFFSET,
  findAvPair,
  messageType,
  micOffset,
  NtlmParseError,
  packAuthenticate,
  packAvPairs,
  packChallenge,
  packNegotiate,
  packNtlmV2ClientChallenge,
  packNtlmV2Response,
  unpackAuthenticate,
  unpackAuthenticateNtlmV2Response,
  unpackAvPairs,
  unpackChallenge,
  unpackNegotiate,
  unpackNtlmV2ClientChallenge,
  unpackNtlmV2Response,
  withMic,
  withMicZeroed,
  type AuthenticateMessage,
  type AvPair,
  type ChallengeMessage,
  type NtlmParseErrorCode,
} from '../../../packages/ntlm/messages.js';
import { COMMON, fromHex, NTLMV1, NTLMV2, SAMBA_NEGOTIATE, toHex, WIN2008R2 } from './vectors.js';

/** Asserts that `fn` throws NtlmParseError with this code and offset (and, if given, a message matching). */
function throwsParseError(fn: () => unknown, code: NtlmParseErrorCode, offset: number, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof NtlmParseError, `expected NtlmParseError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.offset, offset, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

function patch32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  new DataView(copy.buffer).setUint32(at, value >>> 0, true);
  return copy;
}

function patch16(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  new DataView(copy.buffer).setUint16(at, value, true);
  return copy;
}

const av = (id: number, text: string): AvPair => ({ id, value: utf16le(text) });

describe('NEGOTIATE_MESSAGE', () => {
  test('round-trips the 40-byte Samba NEGOTIATE_MESSAGE with its Version byte for byte', () => {
    const message = unpackNegotiate(SAMBA_NEGOTIATE);
    assert.deepEqual(message, {
      flags: 0x62088235,
      domainName: '',
      workstation: '',
      version: { major: 6, minor: 1, build: 0, revision: 15 },
    });
    assert.deepEqual(packNegotiate(message), SAMBA_NEGOTIATE);
  });

  test('packs the 32-byte form when there is no Version, and reads it back without one', () => {
    const bytes = packNegotiate({ flags: 0x00088207, domainName: '', workstation: '' });
    assert.equal(bytes.length, 32);
    assert.deepEqual(unpackNegotiate(bytes), { flags: 0x00088207, domainName: '', workstation: '', version: undefined });
  });

  test('carries OEM domain and workstation names after the header', () => {
    const flags = (NTLMSSP_NEGOTIATE.OEM | NTLMSSP_NEGOTIATE.OEM_DOMAIN_SUPPLIED | NTLMSSP_NEGOTIATE.OEM_WORKSTATION_SUPPLIED) >>> 0;
    const message = { flags, domainName: 'DOMAIN', workstation: 'WKS-1', version: undefined };
    const bytes = packNegotiate(message);
    assert.equal(bytes.length, 32 + 6 + 5);
    assert.equal(new TextDecoder().decode(bytes.subarray(32)), 'DOMAINWKS-1');
    assert.deepEqual(unpackNegotiate(bytes), message);
    const withVersion = { ...message, version: { major: 10, minor: 0, build: 20348, revision: 15 } };
    assert.deepEqual(unpackNegotiate(packNegotiate(withVersion)), withVersion);
  });

  test('refuses to pack a name that OEM cannot hold', () => {
    assert.throws(() => packNegotiate({ flags: 0, domainName: 'Ω', workstation: '' }), RangeError);
  });
});

describe('CHALLENGE_MESSAGE', () => {
  test('unpacks the MS-NLMP 4.2.4.3 CHALLENGE_MESSAGE field by field', () => {
    const message = unpackChallenge(NTLMV2.challengeMessage);
    assert.equal(message.flags, NTLMV2.challengeFlags);
    assert.equal(message.targetName, 'Server');
    assert.deepEqual(message.serverChallenge, COMMON.serverChallenge);
    assert.deepEqual(message.targetInfo, [av(MSV_AV.MsvAvNbDomainName, 'Domain'), av(MSV_AV.MsvAvNbComputerName, 'Server')]);
    assert.deepEqual(message.version, { major: 6, minor: 0, build: 6000, revision: 15 });
  });

  test('packs the 4.2.4.3 CHALLENGE_MESSAGE back byte for byte', () => {
    assert.equal(toHex(packChallenge(unpackChallenge(NTLMV2.challengeMessage))), toHex(NTLMV2.challengeMessage));
  });

  test('unpacks the 4.2.2.3 CHALLENGE_MESSAGE, which has no TargetInfo, and packs it to the same message', () => {
    const message = unpackChallenge(NTLMV1.challengeMessage);
    assert.equal(message.targetInfo, undefined);
    assert.equal(message.targetName, 'Server');
    // The example points its empty TargetInfoFields at 0; pack points it at the payload end, as Windows does.
    const repacked = packChallenge(message);
    assert.deepEqual(unpackChallenge(repacked), message);
    assert.deepEqual(repacked.subarray(0, 44), NTLMV1.challengeMessage.subarray(0, 44));
    assert.deepEqual(repacked.subarray(48), NTLMV1.challengeMessage.subarray(48));
  });

  test('reads an OEM target name when UNICODE is not negotiated', () => {
    const message: ChallengeMessage = {
      flags: NTLMSSP_NEGOTIATE.OEM,
      targetName: 'SERVER',
      serverChallenge: COMMON.serverChallenge,
      targetInfo: [],
      version: undefined,
    };
    const bytes = packChallenge(message);
    assert.equal(bytes.length, 48 + 6 + 4);
    assert.deepEqual(unpackChallenge(bytes), message);
  });
});

describe('AUTHENTICATE_MESSAGE', () => {
  test('unpacks the MS-NLMP 4.2.4.3 AUTHENTICATE_MESSAGE field by field', () => {
    const message = unpackAuthenticate(NTLMV2.authenticateMessage);
    assert.equal(message.flags, NTLMV2.authenticateFlags);
    assert.equal(message.domainName, 'Domain');
    assert.equal(message.userName, 'User');
    assert.equal(message.workstation, 'COMPUTER');
    assert.equal(toHex(message.lmChallengeResponse), NTLMV2.lmv2Response);
    assert.equal(toHex(message.ntChallengeResponse), NTLMV2.ntProofStr + NTLMV2.temp);
    assert.equal(toHex(message.encryptedRandomSessionKey), NTLMV2.encryptedRandomSessionKey);
    assert.deepEqual(message.version, { major: 5, minor: 1, build: 2600, revision: 15 });
    assert.equal(message.mic, undefined);
  });

  test('packs the 4.2.4.3 AUTHENTICATE_MESSAGE back byte for byte', () => {
    assert.equal(toHex(packAuthenticate(unpackAuthenticate(NTLMV2.authenticateMessage))), toHex(NTLMV2.authenticateMessage));
  });

  test('rebuilds the published 232-byte 4.2.4.3 AUTHENTICATE_MESSAGE from the computed responses', () => {
    const challenge = unpackChallenge(NTLMV2.challengeMessage);
    const key = ntowfv2(COMMON.password, COMMON.user, COMMON.domain);
    const responses = computeNtlmV2Response({
      responseKeyNT: key,
      responseKeyLM: key,
      serverChallenge: challenge.serverChallenge,
      temp: ntlmV2Temp(COMMON.time, COMMON.clientChallenge, challenge.targetInfo ?? []),
    });
    const message: AuthenticateMessage = {
      flags: NTLMV2.authenticateFlags,
      lmChallengeResponse: responses.lmChallengeResponse,
      ntChallengeResponse: responses.ntChallengeResponse,
      domainName: COMMON.domain,
      userName: COMMON.user,
      workstation: COMMON.workstation,
      encryptedRandomSessionKey: encryptRandomSessionKey(responses.sessionBaseKey, COMMON.randomSessionKey),
      version: { major: 5, minor: 1, build: 2600, revision: 15 },
    };
    assert.equal(toHex(packAuthenticate(message)), toHex(NTLMV2.authenticateMessage));
  });

  test('round-trips the NTLMv1 4.2.2.3 AUTHENTICATE_MESSAGE byte for byte', () => {
    const message = unpackAuthenticate(NTLMV1.authenticateMessage);
    assert.equal(toHex(message.ntChallengeResponse), NTLMV1.ntChallengeResponse);
    assert.equal(toHex(message.lmChallengeResponse), NTLMV1.lmChallengeResponse);
    assert.equal(toHex(packAuthenticate(message)), toHex(NTLMV1.authenticateMessage));
  });

  test('parses the Windows 2008 R2 capture: names, MIC at 72, Version, and round-trips it byte for byte', () => {
    const message = unpackAuthenticate(WIN2008R2.authenticateMessage);
    assert.equal(message.flags, WIN2008R2.flags);
    assert.equal(message.userName, WIN2008R2.user);
    assert.equal(message.domainName, WIN2008R2.domain);
    assert.equal(message.workstation, WIN2008R2.workstation);
    assert.deepEqual(message.lmChallengeResponse, new Uint8Array(24));
    assert.equal(message.ntChallengeResponse.length, 380);
    assert.equal(message.encryptedRandomSessionKey.length, 0);
    assert.deepEqual(message.version, { major: 6, minor: 1, build: 7600, revision: 15 });
    assert.equal(toHex(message.mic ?? new Uint8Array(0)), WIN2008R2.mic);
    assert.deepEqual(packAuthenticate(message), WIN2008R2.authenticateMessage);
  });

  test('reads the capture NTLMv2 response: NTProofStr, timestamp, MIC flag, channel bindings, target name', () => {
    const response = unpackAuthenticateNtlmV2Response(WIN2008R2.authenticateMessage);
    assert.ok(response);
    assert.equal(toHex(response.ntProofStr), WIN2008R2.ntProofStr);
    assert.equal(toHex(response.clientChallenge.timestamp), WIN2008R2.timestamp);
    assert.equal(toHex(response.clientChallenge.challengeFromClient), '27fc118082c2fbdd');
    const pairs = response.clientChallenge.avPairs;
    assert.deepEqual(
      pairs.map((p) => p.id),
      [2, 1, 4, 3, 5, 7, 6, 8, 10, 9],
    );
    assert.equal(toHex(findAvPair(pairs, MSV_AV.MsvAvFlags) ?? new Uint8Array(0)), '02000000');
    assert.equal(toHex(findAvPair(pairs, MSV_AV.MsvAvTimestamp) ?? new Uint8Array(0)), WIN2008R2.timestamp);
    assert.equal(toHex(findAvPair(pairs, MSV_AV.MsvAvChannelBindings) ?? new Uint8Array(0)), WIN2008R2.channelBindings);
    assert.deepEqual(findAvPair(pairs, MSV_AV.MsvAvTargetName), utf16le(WIN2008R2.targetName));
    assert.deepEqual(response.clientChallenge.trailing, new Uint8Array(8));
    assert.deepEqual(packNtlmV2Response(response), unpackAuthenticate(WIN2008R2.authenticateMessage).ntChallengeResponse);
  });

  test('has no NTLMv2 response to read in an NTLMv1 message', () => {
    assert.equal(unpackAuthenticateNtlmV2Response(NTLMV1.authenticateMessage), undefined);
  });

  test('carries names in OEM when UNICODE is not negotiated', () => {
    const message: AuthenticateMessage = {
      flags: NTLMSSP_NEGOTIATE.OEM,
      lmChallengeResponse: new Uint8Array(24),
      ntChallengeResponse: new Uint8Array(24),
      domainName: 'DOM',
      userName: 'bob',
      workstation: 'W1',
      encryptedRandomSessionKey: new Uint8Array(0),
      version: undefined,
      mic: undefined,
    };
    const bytes = packAuthenticate(message);
    assert.equal(new TextDecoder().decode(bytes.subarray(64, 72)), 'DOMbobW1');
    assert.deepEqual(unpackAuthenticate(bytes), message);
  });

  test('packs a MIC at offset 72 after the Version and reads both back', () => {
    const message: AuthenticateMessage = {
      ...unpackAuthenticate(NTLMV2.authenticateMessage),
      mic: fromHex('00112233445566778899aabbccddeeff'),
    };
    const bytes = packAuthenticate(message);
    assert.equal(bytes.length, NTLMV2.authenticateMessage.length + 16);
    assert.equal(toHex(bytes.subarray(72, 88)), '00112233445566778899aabbccddeeff');
    assert.deepEqual(unpackAuthenticate(bytes), message);
  });
});

describe('MIC location', () => {
  test('is offset 72 in the capture, and nowhere in a message whose payload starts at 72', () => {
    assert.equal(micOffset(WIN2008R2.authenticateMessage), AUTHENTICATE_MIC_OFFSET);
    assert.equal(micOffset(NTLMV2.authenticateMessage), undefined);
  });

  test('zeroing the MIC touches bytes 72..87 only, in a copy', () => {
    const zeroed = withMicZeroed(WIN2008R2.authenticateMessage);
    assert.deepEqual(zeroed.subarray(72, 88), new Uint8Array(16));
    assert.deepEqual(zeroed.subarray(0, 72), WIN2008R2.authenticateMessage.subarray(0, 72));
    assert.deepEqual(zeroed.subarray(88), WIN2008R2.authenticateMessage.subarray(88));
    assert.equal(toHex(WIN2008R2.authenticateMessage.subarray(72, 88)), WIN2008R2.mic);
    assert.deepEqual(withMic(zeroed, fromHex(WIN2008R2.mic)), WIN2008R2.authenticateMessage);
  });

  test('zeroing or writing a MIC where there is none is NO_MIC at offset 72', () => {
    throwsParseError(() => withMicZeroed(NTLMV2.authenticateMessage), 'NO_MIC', 72);
    throwsParseError(() => withMic(NTLMV2.authenticateMessage, new Uint8Array(16)), 'NO_MIC', 72);
  });
});

describe('messageType', () => {
  test('names each MS-NLMP message by its MessageType', () => {
    assert.equal(messageType(SAMBA_NEGOTIATE), 1);
    assert.equal(messageType(NTLMV2.challengeMessage), 2);
    assert.equal(messageType(NTLMV2.authenticateMessage), 3);
  });

  test('refuses MessageType 4 at offset 8', () => {
    throwsParseError(() => messageType(patch32(SAMBA_NEGOTIATE, 8, 4)), 'BAD_TYPE', 8, /MessageType is 4/);
  });

  test('refuses bytes that are not NTLMSSP at the first byte that differs', () => {
    throwsParseError(() => messageType(new TextEncoder().encode('NTLMSSQ\0\x01\0\0\0')), 'BAD_SIGNATURE', 6);
    throwsParseError(() => messageType(new TextEncoder().encode('HTTP/1.1 401')), 'BAD_SIGNATURE', 0);
  });

  test('calls a prefix of the signature truncated where it ends', () => {
    throwsParseError(() => messageType(NTLMV2.challengeMessage.subarray(0, 5)), 'TRUNCATED', 5);
    throwsParseError(() => messageType(new Uint8Array(0)), 'TRUNCATED', 0);
  });
});

describe('AV_PAIR lists', () => {
  const pairs: AvPair[] = [
    av(MSV_AV.MsvAvNbDomainName, 'Domain'),
    { id: MSV_AV.MsvAvFlags, value: Uint8Array.of(2, 0, 0, 0) },
    { id: MSV_AV.MsvAvTimestamp, value: new Uint8Array(8) },
    { id: 0x7777, value: Uint8Array.of(1, 2, 3) },
  ];

  test('pack the pairs then MsvAvEOL, and unpack to the same pairs', () => {
    const bytes = packAvPairs(pairs);
    assert.equal(toHex(bytes.subarray(-4)), '00000000');
    assert.deepEqual(unpackAvPairs(bytes), pairs);
    assert.equal(toHex(packAvPairs([])), '00000000');
    assert.deepEqual(unpackAvPairs(fromHex('00000000')), []);
  });

  test('pack the 4.2.4 TargetInfo in the order given, NbDomainName first', () => {
    const targetInfo = [av(MSV_AV.MsvAvNbDomainName, 'Domain'), av(MSV_AV.MsvAvNbComputerName, 'Server')];
    assert.equal(toHex(packAvPairs(targetInfo)), NTLMV2.targetInfo);
  });

  test('ignore bytes after MsvAvEOL', () => {
    assert.deepEqual(unpackAvPairs(fromHex(NTLMV2.targetInfo + 'ffffffff')), unpackAvPairs(fromHex(NTLMV2.targetInfo)));
  });

  test('refuse a list without MsvAvEOL, at the offset where it ends', () => {
    const withoutEol = packAvPairs(pairs).subarray(0, -4);
    throwsParseError(() => unpackAvPairs(withoutEol, 100), 'BAD_AV_PAIRS', 100 + withoutEol.length, /without MsvAvEOL/);
  });

  test('refuse a pair header cut off mid-way', () => {
    throwsParseError(() => unpackAvPairs(Uint8Array.of(2, 0, 12)), 'BAD_AV_PAIRS', 0, /cut off/);
  });

  test('refuse a pair claiming 65535 bytes, at its AvLen', () => {
    const bytes = patch16(packAvPairs(pairs), 2, 0xffff);
    throwsParseError(() => unpackAvPairs(bytes, 40), 'BAD_AV_PAIRS', 42, /MsvAvNbDomainName at offset 40 claims 65535/);
  });

  test('refuse MsvAvTimestamp, MsvAvFlags and MsvAvChannelBindings of the wrong size and an odd-length name', () => {
    throwsParseError(() => unpackAvPairs(packAvPairs([{ id: MSV_AV.MsvAvTimestamp, value: new Uint8Array(5) }])), 'BAD_AV_PAIRS', 2, /must be 8 bytes/);
    throwsParseError(() => unpackAvPairs(packAvPairs([{ id: MSV_AV.MsvAvFlags, value: new Uint8Array(2) }])), 'BAD_AV_PAIRS', 2, /must be 4 bytes/);
    throwsParseError(() => unpackAvPairs(packAvPairs([{ id: MSV_AV.MsvAvChannelBindings, value: new Uint8Array(15) }])), 'BAD_AV_PAIRS', 2, /must be 16 bytes/);
    throwsParseError(() => unpackAvPairs(packAvPairs([{ id: MSV_AV.MsvAvTargetName, value: new Uint8Array(3) }])), 'BAD_AV_PAIRS', 2, /even/);
  });

  test('refuse an MsvAvEOL that has a value', () => {
    throwsParseError(() => unpackAvPairs(Uint8Array.of(0, 0, 1, 0, 0xff)), 'BAD_AV_PAIRS', 2, /MsvAvEOL/);
  });

  test('will not pack MsvAvEOL given as a pair', () => {
    assert.throws(() => packAvPairs([{ id: MSV_AV.MsvAvEOL, value: new Uint8Array(0) }]), RangeError);
  });
});

describe('NTLMv2_CLIENT_CHALLENGE', () => {
  const temp = fromHex(NTLMV2.temp);

  test('unpacks the 4.2.4.1.3 temp and packs it back byte for byte', () => {
    const challenge = unpackNtlmV2ClientChallenge(temp);
    assert.deepEqual(challenge.timestamp, COMMON.time);
    assert.deepEqual(challenge.challengeFromClient, COMMON.clientChallenge);
    assert.equal(challenge.avPairs.length, 2);
    assert.deepEqual(challenge.trailing, new Uint8Array(4));
    assert.deepEqual(packNtlmV2ClientChallenge(challenge), temp);
  });

  test('round-trips an NTLMv2_RESPONSE', () => {
    const bytes = fromHex(NTLMV2.ntProofStr + NTLMV2.temp);
    assert.deepEqual(packNtlmV2Response(unpackNtlmV2Response(bytes)), bytes);
  });

  test('refuses RespType or HiRespType other than 1', () => {
    throwsParseError(() => unpackNtlmV2ClientChallenge(Uint8Array.from([2, ...temp.subarray(1)]), 10), 'BAD_RESPONSE', 10, /RespType is 2/);
    throwsParseError(() => unpackNtlmV2ClientChallenge(Uint8Array.from([1, 0, ...temp.subarray(2)])), 'BAD_RESPONSE', 1, /HiRespType/);
  });

  test('calls a structure shorter than its 28-byte fixed part truncated', () => {
    throwsParseError(() => unpackNtlmV2ClientChallenge(temp.subarray(0, 27), 100), 'TRUNCATED', 127);
    throwsParseError(() => unpackNtlmV2Response(fromHex(NTLMV2.ntProofStr).subarray(0, 15)), 'TRUNCATED', 15);
  });

  test('reports an AV pair problem at its offset in the enclosing AUTHENTICATE_MESSAGE', () => {
    const message = unpackAuthenticate(NTLMV2.authenticateMessage);
    const nt = Uint8Array.from(message.ntChallengeResponse);
    // The first pair's AvLen sits at NTProofStr(16) + 28 + 2 into the response, which starts at 0x84.
    new DataView(nt.buffer).setUint16(16 + 28 + 2, 0x4000, true);
    const bytes = packAuthenticate({ ...message, ntChallengeResponse: nt });
    throwsParseError(() => unpackAuthenticateNtlmV2Response(bytes), 'BAD_AV_PAIRS', 0x84 + 16 + 28 + 2, /claims 16384/);
  });
});

describe('hostile input', () => {
  /** The payload fields of a message, in the order unpack checks them: [descriptor offset, data offset, length]. */
  type Layout = readonly (readonly [at: number, offset: number, length: number])[];

  function expectedForTruncation(length: number, fixedBytes: number, layout: Layout): [NtlmParseErrorCode, number] {
    if (length < fixedBytes) return ['TRUNCATED', length];
    const field = layout.find(([, offset, size]) => size > 0 && offset + size > length);
    assert.ok(field, `no field runs past ${length}`);
    return ['FIELD_OUT_OF_RANGE', field[0]];
  }

  const cases: { name: string; bytes: Uint8Array; unpack: (b: Uint8Array) => unknown; fixed: number; layout: Layout }[] = [
    {
      name: 'the 4.2.4.3 CHALLENGE_MESSAGE',
      bytes: NTLMV2.challengeMessage,
      unpack: unpackChallenge,
      fixed: 48,
      layout: [
        [12, 0x38, 12],
        [40, 0x44, 36],
      ],
    },
    {
      name: 'the 4.2.4.3 AUTHENTICATE_MESSAGE',
      bytes: NTLMV2.authenticateMessage,
      unpack: unpackAuthenticate,
      fixed: 64,
      layout: [
        [12, 0x6c, 24],
        [20, 0x84, 84],
        [28, 0x48, 12],
        [36, 0x54, 8],
        [44, 0x5c, 16],
        [52, 0xd8, 16],
      ],
    },
    {
      name: 'the Windows 2008 R2 AUTHENTICATE_MESSAGE',
      bytes: WIN2008R2.authenticateMessage,
      unpack: unpackAuthenticate,
      fixed: 64,
      layout: [
        [12, 0x94, 24],
        [20, 0xac, 380],
        [28, 0x58, 16],
        [36, 0x68, 26],
        [44, 0x82, 18],
        [52, 0x228, 0],
      ],
    },
    {
      name: 'a NEGOTIATE_MESSAGE with OEM names',
      bytes: packNegotiate({ flags: 0x3000, domainName: 'DOMAIN', workstation: 'WKS', version: { major: 6, minor: 1, build: 7601, revision: 15 } }),
      unpack: unpackNegotiate,
      fixed: 32,
      layout: [
        [16, 40, 6],
        [24, 46, 3],
      ],
    },
  ];

  for (const { name, bytes, unpack, fixed, layout } of cases) {
    test(`truncating ${name} at every length gives TRUNCATED or the first field that runs past the end`, () => {
      for (let length = 0; length < bytes.length; length++) {
        const [code, offset] = expectedForTruncation(length, fixed, layout);
        throwsParseError(() => unpack(bytes.subarray(0, length)), code, offset);
      }
      assert.doesNotThrow(() => unpack(bytes));
    });
  }

  test('a field offset past the end names the field and points at its descriptor', () => {
    const bytes = patch32(NTLMV2.authenticateMessage, 36 + 4, 0xfffffff0);
    throwsParseError(() => unpackAuthenticate(bytes), 'FIELD_OUT_OF_RANGE', 36, /UserNameFields \(offset 4294967280, length 8\) runs past the end/);
  });

  test('an offset of 0xFFFFFFFF with a length of 0xFFFF does not wrap around', () => {
    let bytes = patch32(NTLMV2.challengeMessage, 40 + 4, 0xffffffff);
    bytes = patch16(bytes, 40, 0xffff);
    throwsParseError(() => unpackChallenge(bytes), 'FIELD_OUT_OF_RANGE', 40, /TargetInfoFields/);
  });

  test('a length that overruns the message by one byte is caught', () => {
    const bytes = patch16(NTLMV2.authenticateMessage, 52, 17);
    throwsParseError(() => unpackAuthenticate(bytes), 'FIELD_OUT_OF_RANGE', 52, /EncryptedRandomSessionKeyFields/);
  });

  test('a field pointing into the fixed header is refused', () => {
    const bytes = patch32(NTLMV2.authenticateMessage, 20 + 4, 8);
    throwsParseError(() => unpackAuthenticate(bytes), 'FIELD_OUT_OF_RANGE', 20, /NtChallengeResponseFields offset 8 points into the 64-byte fixed header/);
  });

  test('an empty field may point anywhere, since nothing is read through it', () => {
    const bytes = patch32(WIN2008R2.authenticateMessage, 52 + 4, 0xffffffff);
    assert.equal(unpackAuthenticate(bytes).encryptedRandomSessionKey.length, 0);
  });

  test('a field that starts inside the Version area means there is no Version or MIC', () => {
    const message = unpackAuthenticate(WIN2008R2.authenticateMessage);
    const bytes = patch32(WIN2008R2.authenticateMessage, 28 + 4, 70);
    const parsed = unpackAuthenticate(bytes);
    assert.equal(parsed.version, undefined);
    assert.equal(parsed.mic, undefined);
    assert.equal(parsed.userName, message.userName);
  });

  test('the wrong message type for the unpacker is BAD_TYPE at offset 8', () => {
    throwsParseError(() => unpackChallenge(NTLMV2.authenticateMessage), 'BAD_TYPE', 8, /MessageType is 3; a CHALLENGE_MESSAGE has 2/);
    throwsParseError(() => unpackAuthenticate(SAMBA_NEGOTIATE), 'BAD_TYPE', 8);
    throwsParseError(() => unpackNegotiate(NTLMV2.challengeMessage), 'BAD_TYPE', 8);
  });

  test('a corrupted signature is BAD_SIGNATURE at the corrupted byte', () => {
    const bytes = Uint8Array.from(NTLMV2.authenticateMessage);
    bytes[7] = 0x20;
    throwsParseError(() => unpackAuthenticate(bytes), 'BAD_SIGNATURE', 7);
  });

  test('an odd-length UTF-16 user name is BAD_STRING at UserNameFields', () => {
    const bytes = patch16(NTLMV2.authenticateMessage, 36, 7);
    throwsParseError(() => unpackAuthenticate(bytes), 'BAD_STRING', 36, /UserNameFields \(7 bytes\) is not valid UTF-16LE/);
  });

  test('a lone surrogate in a UTF-16 name is BAD_STRING rather than a replacement character', () => {
    const message = unpackAuthenticate(NTLMV2.authenticateMessage);
    const bytes = packAuthenticate({ ...message, userName: 'Us\ud800' });
    throwsParseError(() => unpackAuthenticate(bytes), 'BAD_STRING', 36);
  });

  test('a name beginning with U+FEFF keeps it', () => {
    const message = unpackAuthenticate(NTLMV2.authenticateMessage);
    assert.equal(unpackAuthenticate(packAuthenticate({ ...message, userName: '\ufeffUser' })).userName, '\ufeffUser');
  });

  test('a TargetInfo list cut before its MsvAvEOL is BAD_AV_PAIRS where the list ends', () => {
    const good = packChallenge({
      flags: NTLMV2.challengeFlags,
      targetName: 'Server',
      serverChallenge: COMMON.serverChallenge,
      targetInfo: [av(MSV_AV.MsvAvNbDomainName, 'Domain')],
      version: undefined,
    });
    // TargetInfo is the last 20 bytes: the pair (4 + 12) and MsvAvEOL (4). Drop MsvAvEOL and shrink the field to match.
    const bytes = patch16(good.subarray(0, good.length - 4), 40, 16);
    throwsParseError(() => unpackChallenge(bytes), 'BAD_AV_PAIRS', bytes.length, /without MsvAvEOL/);
  });

  test('a TargetInfo pair with AvLen 0xFFFF is BAD_AV_PAIRS at that AvLen in the message', () => {
    const targetInfoAt = 0x44;
    const bytes = patch16(NTLMV2.challengeMessage, targetInfoAt + 2, 0xffff);
    throwsParseError(() => unpackChallenge(bytes), 'BAD_AV_PAIRS', targetInfoAt + 2, /claims 65535 value bytes; 32 remain/);
  });

  test('errors are NtlmParseError instances with the name NtlmParseError', () => {
    try {
      unpackNegotiate(new Uint8Array(3));
      assert.fail('expected a throw');
    } catch (error) {
      assert.ok(error instanceof NtlmParseError);
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'NtlmParseError');
    }
  });
});
