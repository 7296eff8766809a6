import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeNtlmMessage, formatNtlmMessage, type AuthenticateDescription } from '../../../packages/ntlm/decode.js';
import { NtlmParseError } from '../../../packages/ntlm/messages.js';
import { NTLMV1, NTLMV2, SAMBA_NEGOTIATE, WGET, WIN2008R2 } from './vectors.js';

describe('describeNtlmMessage', () => {
  test('spells out the 4.2.4.3 CHALLENGE_MESSAGE field by field', () => {
    assert.deepEqual(describeNtlmMessage(NTLMV2.challengeMessage), {
      type: 'CHALLENGE_MESSAGE',
      length: 104,
      flags: {
        value: '0xe28a8233',
        names: [
          'NTLMSSP_NEGOTIATE_UNICODE',
          'NTLM_NEGOTIATE_OEM',
          'NTLMSSP_NEGOTIATE_SIGN',
          'NTLMSSP_NEGOTIATE_SEAL',
          'NTLMSSP_NEGOTIATE_NTLM',
          'NTLMSSP_NEGOTIATE_ALWAYS_SIGN',
          'NTLMSSP_TARGET_TYPE_SERVER',
          'NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY',
          'NTLMSSP_NEGOTIATE_TARGET_INFO',
          'NTLMSSP_NEGOTIATE_VERSION',
          'NTLMSSP_NEGOTIATE_128',
          'NTLMSSP_NEGOTIATE_KEY_EXCH',
          'NTLMSSP_NEGOTIATE_56',
        ],
      },
      targetName: 'Server',
      serverChallenge: '0123456789abcdef',
      targetInfo: [
        { id: 'MsvAvNbDomainName', value: 'Domain' },
        { id: 'MsvAvNbComputerName', value: 'Server' },
      ],
      version: '6.0 (build 6000), NTLM revision 15',
    });
  });

  test('spells out the Samba NEGOTIATE_MESSAGE with its flags and Version', () => {
    const d = describeNtlmMessage(SAMBA_NEGOTIATE);
    assert.equal(d.type, 'NEGOTIATE_MESSAGE');
    assert.equal(d.flags.value, '0x62088235');
    assert.ok(d.flags.names.includes('NTLMSSP_REQUEST_TARGET'));
    assert.ok(d.flags.names.includes('NTLMSSP_NEGOTIATE_KEY_EXCH'));
    assert.equal(d.version, '6.1 (build 0), NTLM revision 15');
  });

  test('spells out the Windows 2008 R2 capture: names, NTLMv2 AV pairs decoded, MIC and Version', () => {
    const d = describeNtlmMessage(WIN2008R2.authenticateMessage) as AuthenticateDescription;
    assert.equal(d.type, 'AUTHENTICATE_MESSAGE');
    assert.equal(d.userName, 'Administrator');
    assert.equal(d.domainName, 'WS2008R2');
    assert.equal(d.workstation, 'WIN7-2-PC');
    assert.equal(d.mic, WIN2008R2.mic);
    assert.equal(d.version, '6.1 (build 7600), NTLM revision 15');
    assert.equal(d.encryptedRandomSessionKey, '');
    assert.deepEqual(d.flags.names, [
      'NTLMSSP_NEGOTIATE_UNICODE',
      'NTLMSSP_REQUEST_TARGET',
      'NTLMSSP_NEGOTIATE_NTLM',
      'NTLMSSP_NEGOTIATE_ALWAYS_SIGN',
      'NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY',
      'NTLMSSP_NEGOTIATE_TARGET_INFO',
      'NTLMSSP_NEGOTIATE_VERSION',
      'NTLMSSP_NEGOTIATE_128',
      'NTLMSSP_NEGOTIATE_56',
    ]);
    assert.deepEqual(d.ntChallengeResponse, {
      kind: 'NTLMv2',
      ntProofStr: WIN2008R2.ntProofStr,
      timestamp: '2012-12-19T17:10:36.536Z',
      challengeFromClient: '27fc118082c2fbdd',
      avPairs: [
        { id: 'MsvAvNbDomainName', value: 'WS2008R2' },
        { id: 'MsvAvNbComputerName', value: 'DC-WS2008R2' },
        { id: 'MsvAvDnsDomainName', value: 'ws2008r2.local' },
        { id: 'MsvAvDnsComputerName', value: 'DC-ws2008r2.ws2008r2.local' },
        { id: 'MsvAvDnsTreeName', value: 'ws2008r2.local' },
        { id: 'MsvAvTimestamp', value: '2012-12-19T17:10:36.536Z' },
        { id: 'MsvAvFlags', value: '0x00000002', flags: ['MIC_PRESENT'] },
        {
          id: 'MsvAvSingleHost',
          value: '300000000000000001000000002000004d6b0d27541022f5ffa673da2bfcfdf1942f257be11a49c954197aca8aaf2eaf',
        },
        { id: 'MsvAvChannelBindings', value: WIN2008R2.channelBindings },
        { id: 'MsvAvTargetName', value: WIN2008R2.targetName },
      ],
    });
  });

  test('marks a 24-byte NT response as NTLMv1', () => {
    const d = describeNtlmMessage(NTLMV1.authenticateMessage) as AuthenticateDescription;
    assert.deepEqual(d.ntChallengeResponse, { kind: 'NTLMv1', response: NTLMV1.ntChallengeResponse });
    assert.equal(d.mic, null);
  });

  test("reads wget's AUTHENTICATE, whose flags say UNICODE over 8-bit names, as OEM, and says so", () => {
    const d = describeNtlmMessage(WGET.authenticate) as AuthenticateDescription;
    assert.equal(d.flags.value, '0x00008201');
    assert.equal(d.userName, 'alice');
    assert.equal(d.ntChallengeResponse.kind, 'NTLMv1');
    assert.match(d.namesCharset ?? '', /^OEM \(the flags say UNICODE/);
    assert.equal((describeNtlmMessage(NTLMV1.authenticateMessage) as AuthenticateDescription).namesCharset, undefined);
  });

  test('gives plain data that survives JSON unchanged', () => {
    for (const bytes of [SAMBA_NEGOTIATE, NTLMV2.challengeMessage, NTLMV2.authenticateMessage, WIN2008R2.authenticateMessage]) {
      const d = describeNtlmMessage(bytes);
      assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
    }
  });

  test('lets the NtlmParseError of a truncated message through with its code and offset', () => {
    assert.throws(
      () => describeNtlmMessage(WIN2008R2.authenticateMessage.subarray(0, 500)),
      (error: unknown) => error instanceof NtlmParseError && error.code === 'FIELD_OUT_OF_RANGE' && error.offset === 20,
    );
    assert.throws(
      () => describeNtlmMessage(new TextEncoder().encode('Negotiate TlRMTVNTUAAB')),
      (error: unknown) => error instanceof NtlmParseError && error.code === 'BAD_SIGNATURE' && error.offset === 1,
    );
  });
});

describe('formatNtlmMessage', () => {
  test('writes the 4.2.4.3 CHALLENGE_MESSAGE as indented text', () => {
    assert.equal(
      formatNtlmMessage(describeNtlmMessage(NTLMV2.challengeMessage)),
      [
        'CHALLENGE_MESSAGE (104 bytes)',
        '  flags:',
        '    value: 0xe28a8233',
        '    names:',
        '      - NTLMSSP_NEGOTIATE_UNICODE',
        '      - NTLM_NEGOTIATE_OEM',
        '      - NTLMSSP_NEGOTIATE_SIGN',
        '      - NTLMSSP_NEGOTIATE_SEAL',
        '      - NTLMSSP_NEGOTIATE_NTLM',
        '      - NTLMSSP_NEGOTIATE_ALWAYS_SIGN',
        '      - NTLMSSP_TARGET_TYPE_SERVER',
        '      - NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY',
        '      - NTLMSSP_NEGOTIATE_TARGET_INFO',
        '      - NTLMSSP_NEGOTIATE_VERSION',
        '      - NTLMSSP_NEGOTIATE_128',
        '      - NTLMSSP_NEGOTIATE_KEY_EXCH',
        '      - NTLMSSP_NEGOTIATE_56',
        '  targetName: Server',
        '  serverChallenge: 0123456789abcdef',
        '  targetInfo:',
        '    - id: MsvAvNbDomainName',
        '      value: Domain',
        '    - id: MsvAvNbComputerName',
        '      value: Server',
        '  version: 6.0 (build 6000), NTLM revision 15',
      ].join('\n'),
    );
  });

  test('writes the capture with its nested NTLMv2 response and marks empty and absent values', () => {
    const text = formatNtlmMessage(describeNtlmMessage(WIN2008R2.authenticateMessage));
    const lines = text.split('\n');
    assert.equal(lines[0], 'AUTHENTICATE_MESSAGE (552 bytes)');
    assert.ok(lines.includes('  userName: Administrator'));
    assert.ok(lines.includes('  ntChallengeResponse:'));
    assert.ok(lines.includes('    kind: NTLMv2'));
    assert.ok(lines.includes('    - id: MsvAvFlags') || lines.includes('      - id: MsvAvFlags'));
    assert.ok(lines.includes('          - MIC_PRESENT'));
    assert.ok(lines.includes('        value: HTTP/dc-ws2008r2.ws2008r2.local'));
    assert.ok(lines.includes('  encryptedRandomSessionKey: ""'));
    assert.ok(lines.includes(`  mic: ${WIN2008R2.mic}`));
    const v1 = formatNtlmMessage(describeNtlmMessage(NTLMV1.challengeMessage));
    assert.ok(v1.split('\n').includes('  targetInfo: (none)'));
  });
});
