// The NTLM package loaded into the emulated LSA, driven through real client and server processes:
// who gets in and who does not, channel bindings, the MIC, and the MS-NLMP 4.2.4 exchange itself.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ASC_REQ, ISC_REQ, SECBUFFER, SECPKG_ATTR, SECPKG_CRED, tokenBytes } from '../../../headers/sspi.js';
import { statusName } from '../../../headers/status.js';
import { Machine, type AppProcess } from '../../../machine/machine.js';
import { NTLMSSP_NEGOTIATE } from '../../../packages/ntlm/flags.js';
import { negotiateFor } from '../../../packages/ntlm/initiator.js';
import { unpackChallenge } from '../../../packages/ntlm/messages.js';
import { DEFAULT_CLIENT_REQ } from '../../../client-proc/app.js';
import { DEFAULT_SERVER_REQ } from '../../../server-proc/app.js';
import { accept, ALICE, bindings, drive } from './drive.js';
import { COMMON, NTLMV1, NTLMV2, toHex } from './vectors.js';

describe('NTLM handshakes through the LSA', () => {
  let machine: Machine;
  let client: AppProcess;
  let server: AppProcess;
  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm'], accounts: ['alice:Passw0rd!', 'bob:Hunter2hunter2'], trace: false });
    client = await machine.spawn('client');
    server = await machine.spawn('server');
  });
  after(() => machine.shutdown());

  test('the default apps authenticate with explicit credentials and exchange sealed and signed messages', async () => {
    const serving = server.runApp(null, { name: 'ntlm-explicit', package: 'NTLM' });
    const result = await client.runApp(null, {
      server: 'ntlm-explicit',
      package: 'NTLM',
      user: 'alice',
      domain: 'SSPI-EMU',
      password: 'Passw0rd!',
      messages: 5,
    });
    assert.equal(result.statusName, 'SEC_E_OK', result.detail);
    assert.equal(result.detail, 'authenticated as SSPI-EMU\\alice; 5 sealed and 5 signed messages verified');
    const served = await serving;
    assert.equal(served.statusName, 'SEC_E_OK', served.detail);
    assert.deepEqual(served.data, { sessions: [{ status: 'SEC_E_OK', user: 'SSPI-EMU\\alice', messages: 10 }] });
  });

  test('a client spawned as alice authenticates with its own logon (default credentials)', async () => {
    const own = await machine.spawn('client', { logonAs: 'alice' });
    const serving = server.runApp(null, { name: 'ntlm-default', package: 'NTLM' });
    const result = await own.runApp(null, { server: 'ntlm-default', package: 'NTLM', messages: 2 });
    assert.equal(result.statusName, 'SEC_E_OK', result.detail);
    assert.equal((await serving).statusName, 'SEC_E_OK');
    const driven = await drive(own, server, { authData: null });
    assert.deepEqual(driven.statuses, ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_OK']);
    const names = await server.sspi.queryContextAttributes(driven.serverContext!, SECPKG_ATTR.NAMES);
    assert.equal(names.buffer?.sUserName, 'SSPI-EMU\\alice');
  });

  test('an anonymous process has no default NTLM credentials: SEC_E_NO_CREDENTIALS', async () => {
    const acquired = await client.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: SECPKG_CRED.OUTBOUND });
    assert.equal(statusName(acquired.status), 'SEC_E_NO_CREDENTIALS');
  });

  test('a wrong password is SEC_E_LOGON_DENIED at the server, and the default client app reports it', async () => {
    const driven = await drive(client, server, { authData: { ...ALICE, Password: 'Passw0rd?' } });
    assert.deepEqual(driven.statuses, ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_LOGON_DENIED']);
    const serving = server.runApp(null, { name: 'ntlm-wrong', package: 'NTLM' });
    const result = await client.runApp(null, { server: 'ntlm-wrong', package: 'NTLM', user: 'alice', domain: '', password: 'wrong' });
    assert.equal(result.statusName, 'SEC_E_LOGON_DENIED');
    assert.equal((await serving).statusName, 'SEC_E_LOGON_DENIED');
  });

  test('an unknown user gets the same SEC_E_LOGON_DENIED as a wrong password', async () => {
    const unknown = await drive(client, server, { authData: { User: 'mallory', Domain: 'SSPI-EMU', Password: 'Passw0rd!' } });
    const wrong = await drive(client, server, { authData: { ...ALICE, Password: 'x' } });
    assert.equal(unknown.server, 'SEC_E_LOGON_DENIED');
    assert.deepEqual(unknown.statuses, wrong.statuses);
  });

  test('a local account is found whatever domain the client sends, and in any case of the user name', async () => {
    for (const [User, Domain] of [
      ['alice', ''],
      ['alice', 'SSPI-EMU'],
      ['alice', 'sspi-emu'],
      ['alice', 'CONTOSO'],
      ['ALICE', 'sspi-emu.local'],
    ] as const) {
      const driven = await drive(client, server, { authData: { User, Domain, Password: 'Passw0rd!' } });
      assert.equal(driven.server, 'SEC_E_OK', `${Domain}\\${User}`);
      const serverNames = await server.sspi.queryContextAttributes(driven.serverContext!, SECPKG_ATTR.NAMES);
      assert.equal(serverNames.buffer?.sUserName, 'SSPI-EMU\\alice', 'the server names the account as the account store does');
      const clientNames = await client.sspi.queryContextAttributes(driven.clientContext!, SECPKG_ATTR.NAMES);
      assert.equal(clientNames.buffer?.sUserName, `${Domain === '' ? 'SSPI-EMU' : Domain}\\${User}`, 'the client names itself as it authenticated');
    }
  });

  test('the client sends the target name as MsvAvTargetName and the server reports it in NATIVE_NAMES', async () => {
    const driven = await drive(client, server, { targetName: 'HOST/sspi-emu.sspi-emu.local' });
    assert.equal(driven.server, 'SEC_E_OK');
    const native = await server.sspi.queryContextAttributes(driven.serverContext!, SECPKG_ATTR.NATIVE_NAMES);
    assert.deepEqual(native.buffer, { sClientName: 'SSPI-EMU\\alice', sServerName: 'HOST/sspi-emu.sspi-emu.local' });
  });

  test('a MIC altered in flight is an authentication failure: SEC_E_LOGON_DENIED', async () => {
    const driven = await drive(client, server, {
      transit: (token, leg) => {
        if (leg !== 'authenticate') return token;
        const altered = Uint8Array.from(token);
        altered[72]! ^= 0x01; // the MIC (MS-NLMP 2.2.1.3)
        return altered;
      },
    });
    assert.equal(driven.server, 'SEC_E_LOGON_DENIED');
  });

  test('a NEGOTIATE stripped of SEAL in flight is caught by the MIC: SEC_E_LOGON_DENIED', async () => {
    const driven = await drive(client, server, {
      transit: (token, leg) => {
        if (leg !== 'negotiate') return token;
        const altered = Uint8Array.from(token);
        altered[12]! &= ~NTLMSSP_NEGOTIATE.SEAL;
        return altered;
      },
    });
    assert.equal(driven.client, 'SEC_E_OK');
    assert.equal(driven.server, 'SEC_E_LOGON_DENIED');
  });

  test('a client asking for neither integrity nor confidentiality gets a context without SIGN or SEAL', async () => {
    const driven = await drive(client, server, { clientReq: ISC_REQ.CONNECTION });
    assert.equal(driven.server, 'SEC_E_OK');
    const challenge = unpackChallenge(driven.tokens.challenge!);
    assert.equal(challenge.flags & (NTLMSSP_NEGOTIATE.SIGN | NTLMSSP_NEGOTIATE.SEAL | NTLMSSP_NEGOTIATE.KEY_EXCH), 0);
    const flags = await client.sspi.queryContextAttributes(driven.clientContext!, SECPKG_ATTR.FLAGS);
    assert.equal(flags.buffer?.Flags, 0x800, 'ISC_RET_CONNECTION only');
  });

  test('channel bindings on both sides that match are accepted, with requireChannelBindings off', async () => {
    const tls = bindings('tls-server-end-point:0123');
    const driven = await drive(client, server, { clientBindings: tls, serverBindings: tls });
    assert.equal(driven.server, 'SEC_E_OK');
  });

  test('channel bindings that differ are SEC_E_BAD_BINDINGS even when not required', async () => {
    const driven = await drive(client, server, {
      clientBindings: bindings('tls-server-end-point:0123'),
      serverBindings: bindings('tls-server-end-point:4567'),
    });
    assert.equal(driven.server, 'SEC_E_BAD_BINDINGS');
  });

  test('a client without bindings is accepted by a server with bindings that passes ASC_REQ_ALLOW_MISSING_BINDINGS (Extended Protection "Allowed")', async () => {
    const driven = await drive(client, server, {
      serverBindings: bindings('tls-server-end-point:0123'),
      serverReq: DEFAULT_SERVER_REQ | ASC_REQ.ALLOW_MISSING_BINDINGS,
    });
    assert.equal(driven.server, 'SEC_E_OK');
  });

  test('a client without bindings is SEC_E_BAD_BINDINGS to a server with bindings and without ASC_REQ_ALLOW_MISSING_BINDINGS ("Required")', async () => {
    const driven = await drive(client, server, { serverBindings: bindings('tls-server-end-point:0123') });
    assert.equal(driven.server, 'SEC_E_BAD_BINDINGS');
  });

  test('the flag allows only missing bindings: other bindings are still SEC_E_BAD_BINDINGS, matching ones SEC_E_OK', async () => {
    const serverReq = DEFAULT_SERVER_REQ | ASC_REQ.ALLOW_MISSING_BINDINGS;
    const serverBindings = bindings('tls-server-end-point:0123');
    assert.equal(
      (await drive(client, server, { clientBindings: bindings('tls-server-end-point:4567'), serverBindings, serverReq })).server,
      'SEC_E_BAD_BINDINGS',
    );
    assert.equal((await drive(client, server, { clientBindings: serverBindings, serverBindings, serverReq })).server, 'SEC_E_OK');
  });

  test('a server without bindings checks none: a client with bindings is accepted, flag or not', async () => {
    assert.equal((await drive(client, server, { clientBindings: bindings('tls-server-end-point:0123') })).server, 'SEC_E_OK');
  });

  test('a malformed SEC_CHANNEL_BINDINGS from the client application is SEC_E_BAD_BINDINGS at the client', async () => {
    const driven = await drive(client, server, { clientBindings: new Uint8Array(12) });
    assert.equal(driven.client, 'SEC_E_BAD_BINDINGS');
  });
});

describe('NTLM with requireChannelBindings', () => {
  let machine: Machine;
  let client: AppProcess;
  let server: AppProcess;
  before(async () => {
    machine = await Machine.boot({
      packages: ['ntlm'],
      accounts: ['alice:Passw0rd!'],
      packageSettings: { ntlm: { requireChannelBindings: true } },
      trace: false,
    });
    client = await machine.spawn('client');
    server = await machine.spawn('server');
  });
  after(() => machine.shutdown());

  test('accepts a client whose bindings match the server', async () => {
    const tls = bindings('tls-unique:abcd');
    assert.equal((await drive(client, server, { clientBindings: tls, serverBindings: tls })).server, 'SEC_E_OK');
  });

  test('refuses mismatching bindings, a client without bindings (even with ASC_REQ_ALLOW_MISSING_BINDINGS), and a server without any, all SEC_E_BAD_BINDINGS', async () => {
    const tls = bindings('tls-unique:abcd');
    assert.equal((await drive(client, server, { clientBindings: bindings('tls-unique:ffff'), serverBindings: tls })).server, 'SEC_E_BAD_BINDINGS');
    assert.equal((await drive(client, server, { serverBindings: tls })).server, 'SEC_E_BAD_BINDINGS');
    assert.equal(
      (await drive(client, server, { serverBindings: tls, serverReq: DEFAULT_SERVER_REQ | ASC_REQ.ALLOW_MISSING_BINDINGS })).server,
      'SEC_E_BAD_BINDINGS',
    );
    assert.equal((await drive(client, server, { clientBindings: tls })).server, 'SEC_E_BAD_BINDINGS');
  });
});

describe('the MS-NLMP 4.2.4 exchange through the LSA (fixed server challenge, skew check off)', () => {
  let machine: Machine;
  let server: AppProcess;
  before(async () => {
    machine = await Machine.boot({
      packages: ['ntlm'],
      accounts: ['Domain\\User:Password'],
      packageSettings: { ntlm: { fixedServerChallenge: '0123456789abcdef', maxClockSkewSeconds: 0 } },
      trace: false,
    });
    server = await machine.spawn('server');
  });
  after(() => machine.shutdown());

  async function challenged() {
    const credential = (await server.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: SECPKG_CRED.INBOUND })).credential!;
    const first = await accept(server, credential, null, negotiateFor(DEFAULT_CLIENT_REQ).bytes);
    assert.equal(statusName(first.status), 'SEC_I_CONTINUE_NEEDED');
    return { credential, context: first.context!, challenge: tokenBytes(first.output)! };
  }

  test('answers with the fixed ServerChallenge, and accepts the published AUTHENTICATE_MESSAGE', async () => {
    const { credential, context, challenge } = await challenged();
    assert.equal(toHex(unpackChallenge(challenge).serverChallenge), toHex(COMMON.serverChallenge));
    const done = await accept(server, credential, context, NTLMV2.authenticateMessage);
    assert.equal(statusName(done.status), 'SEC_E_OK');
    assert.equal(tokenBytes(done.output)?.byteLength ?? 0, 0, 'NTLM has no fourth leg');
    const key = await server.sspi.queryContextAttributes(context, SECPKG_ATTR.SESSION_KEY);
    assert.equal(toHex(key.buffer!.SessionKey), toHex(COMMON.randomSessionKey));
    const names = await server.sspi.queryContextAttributes(context, SECPKG_ATTR.NAMES);
    assert.equal(names.buffer?.sUserName, 'Domain\\User');
  });

  test('the mapped server context unseals the 4.2.4.4 GSS_WrapEx output to "Plaintext" in the server process', async () => {
    const { credential, context } = await challenged();
    assert.equal(statusName((await accept(server, credential, context, NTLMV2.authenticateMessage)).status), 'SEC_E_OK');
    const opened = await server.sspi.decryptMessage(
      context,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.from(NTLMV2.signature, 'hex') },
        { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(NTLMV2.sealedPlaintext, 'hex') },
      ],
      0,
    );
    assert.equal(statusName(opened.status), 'SEC_E_OK');
    assert.equal(Buffer.from(opened.message[1]!.pvBuffer).toString('utf16le'), 'Plaintext');
  });

  test('refuses the 4.2.2 NTLMv1 AUTHENTICATE_MESSAGE with SEC_E_LOGON_DENIED (LmCompatibilityLevel 5)', async () => {
    const { credential, context } = await challenged();
    assert.equal(statusName((await accept(server, credential, context, NTLMV1.authenticateMessage)).status), 'SEC_E_LOGON_DENIED');
  });

  test('refuses the 4.2.4 message replayed on its completed context with SEC_E_INVALID_HANDLE', async () => {
    const { credential, context } = await challenged();
    assert.equal(statusName((await accept(server, credential, context, NTLMV2.authenticateMessage)).status), 'SEC_E_OK');
    assert.equal(statusName((await accept(server, credential, context, NTLMV2.authenticateMessage)).status), 'SEC_E_INVALID_HANDLE');
  });
});

describe('NTLM settings', () => {
  test('a setting that is not known keeps the package from loading, and the LSA says which', async () => {
    const machine = await Machine.boot({
      packages: ['example', 'ntlm'],
      packageSettings: { ntlm: { lmCompatibility: 5 } },
      trace: false,
      onPackageFailure: 'skip',
    });
    try {
      const report = await machine.lsa.packages();
      assert.deepEqual(
        report.loaded.map((p) => p.name),
        ['Example'],
      );
      assert.equal(report.failed.length, 1);
      assert.equal(report.failed[0]!.stage, 'SpInitialize');
      assert.match(report.failed[0]!.reason, /unknown NTLM setting "lmCompatibility"/);
    } finally {
      await machine.shutdown();
    }
  });

  test('a setting of the wrong type does the same', async () => {
    const machine = await Machine.boot({
      packages: ['ntlm'],
      packageSettings: { ntlm: { maxClockSkewSeconds: '300' } },
      trace: false,
      onPackageFailure: 'skip',
    });
    try {
      const report = await machine.lsa.packages();
      assert.equal(report.loaded.length, 0);
      assert.match(report.failed[0]!.reason, /maxClockSkewSeconds must be a number/);
    } finally {
      await machine.shutdown();
    }
  });
});
