// Interop with NTLM code nobody here wrote, both npm devDependencies:
// - httpntlm's ntlm.js, the NTLM client Node HTTP tools use: its NEGOTIATE (type 1) and
//   AUTHENTICATE (type 3, NTLMv2 when the server offers target info, no MIC, no key exchange) go to
//   our acceptor in the LSA, and it parses our CHALLENGE (type 2);
// - ntlm-parser, a standalone NTLM message parser: it reads the NEGOTIATE and AUTHENTICATE our
//   initiator sends from the client process and the CHALLENGE our acceptor sends.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED, tokenBytes } from '../../../headers/sspi.js';
import { statusName } from '../../../headers/status.js';
import { Machine, type AppProcess } from '../../../machine/machine.js';
import { NTLMSSP_NEGOTIATE } from '../../../packages/ntlm/flags.js';
import { unpackAuthenticate, unpackChallenge, unpackNegotiate } from '../../../packages/ntlm/messages.js';
import { toHex } from './vectors.js';
import type { CredHandle } from '../../../sspi/handles.js';
import { ntlmParse, type NTLMType1, type NTLMType2, type NTLMType3v3 } from 'ntlm-parser';
import { accept, drive } from './drive.js';
import { bootTwoProcesses } from '../../helpers/machine.js';

/** The parts of httpntlm's ntlm.js this test uses (it ships no types). */
interface Type2Message {
  serverChallenge: Buffer;
  negotiateFlags: number;
  targetInfo?: Buffer;
}
interface HttpNtlm {
  createType1Message(options: { domain?: string; workstation?: string }): string;
  parseType2Message(header: string, callback: (error: Error) => void): Type2Message | null;
  createType3Message(type2: Type2Message, options: { username: string; password: string; domain?: string; workstation?: string }): string;
}

const httpntlm = createRequire(import.meta.url)('httpntlm/ntlm.js') as HttpNtlm;

/** "NTLM <base64>" as an HTTP header carries it, to bytes and back. */
const fromHeader = (header: string): Uint8Array => Uint8Array.from(Buffer.from(header.replace(/^NTLM /, ''), 'base64'));
const toHeader = (bytes: Uint8Array): string => 'NTLM ' + Buffer.from(bytes).toString('base64');

function parseType2(challenge: Uint8Array): Type2Message {
  const parsed = httpntlm.parseType2Message(toHeader(challenge), (error) => assert.fail(error));
  assert.ok(parsed !== null);
  return parsed;
}

async function serverCredential(server: AppProcess): Promise<CredHandle> {
  return (await server.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: SECPKG_CRED.INBOUND })).credential!;
}

describe('interop with httpntlm', () => {
  let machine: Machine;
  let server: AppProcess;
  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm'], accounts: ['alice:Passw0rd!'], trace: false });
    server = await machine.spawn('server');
  });
  after(() => machine.shutdown());

  async function handshake(password: string, domain = 'sspi-emu') {
    const credential = await serverCredential(server);
    const type1 = fromHeader(httpntlm.createType1Message({ domain, workstation: 'node' }));
    const first = await accept(server, credential, null, type1);
    assert.equal(statusName(first.status), 'SEC_I_CONTINUE_NEEDED');
    const challenge = tokenBytes(first.output)!;
    const type3 = fromHeader(httpntlm.createType3Message(parseType2(challenge), { username: 'alice', password, domain, workstation: 'node' }));
    const second = await accept(server, credential, first.context!, type3);
    return { type1, challenge, type3, status: statusName(second.status), context: first.context! };
  }

  test('its 40-byte NEGOTIATE with OEM domain and workstation gets our CHALLENGE, which it parses', async () => {
    const credential = await serverCredential(server);
    const type1 = fromHeader(httpntlm.createType1Message({ domain: 'sspi-emu', workstation: 'node' }));
    const negotiate = unpackNegotiate(type1);
    assert.equal(negotiate.domainName, 'SSPI-EMU');
    assert.equal(negotiate.workstation, 'NODE');
    const first = await accept(server, credential, null, type1);
    assert.equal(statusName(first.status), 'SEC_I_CONTINUE_NEEDED');
    const challenge = tokenBytes(first.output)!;
    const parsed = parseType2(challenge);
    const ours = unpackChallenge(challenge);
    assert.deepEqual(Uint8Array.from(parsed.serverChallenge), ours.serverChallenge);
    assert.equal(parsed.negotiateFlags >>> 0, ours.flags);
    assert.ok(parsed.targetInfo !== undefined && parsed.targetInfo.length > 0, 'it found our TargetInfo (NTLMSSP_NEGOTIATE_TARGET_INFO)');
  });

  test('its NTLMv2 AUTHENTICATE with the right password is accepted, and the server knows who it is', async () => {
    const { type3, status, context } = await handshake('Passw0rd!');
    assert.equal(status, 'SEC_E_OK');
    const message = unpackAuthenticate(type3);
    assert.ok(message.ntChallengeResponse.length > 24, 'NTLMv2');
    assert.equal(message.mic, undefined);
    assert.equal(message.flags & NTLMSSP_NEGOTIATE.KEY_EXCH, 0);
    const names = await server.sspi.queryContextAttributes(context, SECPKG_ATTR.NAMES);
    assert.equal(names.buffer?.sUserName, 'SSPI-EMU\\alice');
  });

  test('a context with it negotiated neither SIGN nor SEAL, so MakeSignature gives the ALWAYS_SIGN dummy signature', async () => {
    const { status, context } = await handshake('Passw0rd!');
    assert.equal(status, 'SEC_E_OK');
    const signed = await server.sspi.makeSignature(
      context,
      0,
      [
        { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from('x') },
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) },
      ],
      0,
    );
    assert.equal(statusName(signed.status), 'SEC_E_OK');
    assert.equal(Buffer.from(signed.message[1]!.pvBuffer).toString('hex'), '01000000' + '00'.repeat(12));
  });

  test('its AUTHENTICATE with a wrong password is SEC_E_LOGON_DENIED', async () => {
    assert.equal((await handshake('Passw0rd')).status, 'SEC_E_LOGON_DENIED');
  });

  test('it is accepted under any domain name, which it upper-cases on the wire', async () => {
    for (const domain of ['', 'workgroup', 'SSPI-EMU']) assert.equal((await handshake('Passw0rd!', domain)).status, 'SEC_E_OK', domain);
  });
});

describe('interop with httpntlm against a server whose clock is years off', () => {
  let machine: Machine;
  let server: AppProcess;
  before(async () => {
    machine = await Machine.boot({
      packages: ['ntlm'],
      accounts: ['alice:Passw0rd!'],
      packageSettings: { ntlm: { fixedTime: '2001-09-09T01:46:40Z' } },
      trace: false,
    });
    server = await machine.spawn('server');
  });
  after(() => machine.shutdown());

  test('its response, stamped with its own clock rather than the server MsvAvTimestamp, is SEC_E_TIME_SKEW', async () => {
    const credential = await serverCredential(server);
    const first = await accept(server, credential, null, fromHeader(httpntlm.createType1Message({})));
    const type3 = fromHeader(httpntlm.createType3Message(parseType2(tokenBytes(first.output)!), { username: 'alice', password: 'Passw0rd!' }));
    assert.equal(statusName((await accept(server, credential, first.context!, type3)).status), 'SEC_E_TIME_SKEW');
  });
});

describe('interop with ntlm-parser', () => {
  let machine: Machine, client: AppProcess, server: AppProcess;
  before(async () => ({ machine, client, server } = await bootTwoProcesses(['ntlm'])));
  after(() => machine.shutdown());

  const parse = <T>(bytes: Uint8Array): T => ntlmParse(Buffer.from(bytes).toString('base64')) as unknown as T;

  test('reads the NEGOTIATE, CHALLENGE and AUTHENTICATE our initiator and acceptor exchange, field for field', async () => {
    const driven = await drive(client, server, { targetName: 'HTTP/sspi-emu' });
    assert.equal(driven.server, 'SEC_E_OK');
    const { negotiate, challenge, authenticate } = driven.tokens;

    const type1 = parse<NTLMType1>(negotiate!);
    assert.equal(type1.messageType, 'NEGOTIATE_MESSAGE (type 1)');
    assert.deepEqual(type1.flags.split(' ').sort(), [
      '128',
      '56',
      'ALWAYS_SIGN',
      'EXTENDED_SESSIONSECURITY',
      'KEY_EXCH',
      'NTLM',
      'NTLMSSP_REQUEST_TARGET',
      'OEM',
      'SEAL',
      'SIGN',
      'UNICODE',
      'VERSION',
    ]);
    assert.deepEqual(type1.osVersionStructure, { majorVersion: 10, minorVersion: 0, buildNumber: 20348, unknown: 15 });

    const type2 = parse<NTLMType2>(challenge!);
    assert.equal(type2.messageType, 'CHALLENGE_MESSAGE (type 2)');
    assert.equal(type2.challenge, toHex(unpackChallenge(challenge!).serverChallenge));
    assert.equal(type2.targetNameData, 'SSPI-EMU');
    assert.deepEqual(type2.targetInfoData?.map((pair) => [pair.type, pair.content]).slice(0, 4), [
      [2, 'SSPI-EMU'],
      [1, 'SSPI-EMU'],
      [4, 'sspi-emu.local'],
      [3, 'sspi-emu.sspi-emu.local'],
    ]);

    const type3 = parse<NTLMType3v3>(authenticate!);
    const ours = unpackAuthenticate(authenticate!);
    assert.equal(type3.userNameData, 'alice');
    assert.equal(type3.targetNameData, 'SSPI-EMU', 'the domain (ntlm-parser calls it the target name)');
    assert.equal(type3.workstationNameData, 'SSPI-EMU');
    assert.equal(type3.ntlmResponseData.hex, toHex(ours.ntChallengeResponse));
    assert.equal(type3.lmResponseData.hex, '00'.repeat(24));
    assert.equal(type3.sessionKey.length, 16);
    assert.ok(type3.flags.split(' ').includes('KEY_EXCH'));
  });
});
