// What the NTLM package reports about itself and its contexts: SecPkgInfo as Windows' NTLM gives
// it, and QueryContextAttributes in the LSA (before the context is mapped) and in each process
// (after).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ASC_RET, ISC_RET, SECPKG_ATTR, SECPKG_CRED, SECPKG_CRED_ATTR, SECPKG_NEGOTIATION, TIMESTAMP_NEVER, tokenBytes } from '../../../headers/sspi.js';
import { statusName } from '../../../headers/status.js';
import { Machine, type AppProcess } from '../../../machine/machine.js';
import { DEFAULT_CLIENT_REQ } from '../../../client-proc/app.js';
import { ALICE, drive } from './drive.js';

const NTLM_INFO = { fCapabilities: 0x00082b37, wVersion: 1, wRPCID: 10, cbMaxToken: 2888, Name: 'NTLM', Comment: 'NTLM Security Package' };
const SIZES = { cbMaxToken: 2888, cbMaxSignature: 16, cbBlockSize: 0, cbSecurityTrailer: 16 };

describe('what the NTLM package reports', () => {
  let machine: Machine;
  let client: AppProcess;
  let server: AppProcess;
  before(async () => {
    machine = await Machine.boot({ packages: ['example', 'ntlm'], accounts: ['alice:Passw0rd!'], trace: false });
    client = await machine.spawn('client');
    server = await machine.spawn('server');
  });
  after(() => machine.shutdown());

  test("SecPkgInfo is Windows' NTLM: capabilities 0x00082B37, version 1, RPC id 10, max token 2888", async () => {
    const info = await client.sspi.querySecurityPackageInfo('ntlm');
    assert.equal(statusName(info.status), 'SEC_E_OK');
    assert.deepEqual(info.info, NTLM_INFO);
    const all = await client.sspi.enumerateSecurityPackages();
    assert.deepEqual(
      all.packages.map((p) => p.Name),
      ['Example', 'NTLM'],
    );
  });

  test('an outbound credential names its user (SECPKG_CRED_ATTR_NAMES)', async () => {
    const acquired = await client.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
    const names = await client.sspi.queryCredentialsAttributes(acquired.credential!, SECPKG_CRED_ATTR.NAMES);
    assert.deepEqual(names.buffer, { sUserName: 'SSPI-EMU\\alice' });
  });

  test('a context still negotiating is answered by the LSA: sizes, flags, package, negotiation in progress, the client name', async () => {
    const acquired = await client.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
    const first = await client.sspi.initializeSecurityContext({ credential: acquired.credential!, contextReq: DEFAULT_CLIENT_REQ });
    assert.equal(statusName(first.status), 'SEC_I_CONTINUE_NEEDED');
    assert.ok(tokenBytes(first.output)!.length === 40, 'a 40-byte NEGOTIATE_MESSAGE');
    const ctx = first.context!;
    const q = async <A extends number>(attribute: A) => client.sspi.queryContextAttributes(ctx, attribute);
    assert.deepEqual((await q(SECPKG_ATTR.SIZES)).buffer, SIZES);
    assert.deepEqual((await q(SECPKG_ATTR.NEGOTIATION_INFO)).buffer, { PackageInfo: NTLM_INFO, NegotiationState: SECPKG_NEGOTIATION.IN_PROGRESS });
    assert.deepEqual((await q(SECPKG_ATTR.PACKAGE_INFO)).buffer, { PackageInfo: NTLM_INFO });
    assert.equal((await q(SECPKG_ATTR.NAMES)).buffer?.sUserName, 'SSPI-EMU\\alice');
    assert.equal(statusName((await q(SECPKG_ATTR.SESSION_KEY)).status), 'SEC_E_UNSUPPORTED_FUNCTION', 'no session key before the AUTHENTICATE');
    const flags = (await q(SECPKG_ATTR.FLAGS)).buffer!.Flags;
    assert.equal(flags & ISC_RET.MUTUAL_AUTH, 0, 'NTLM never authenticates the server');
    assert.ok(flags & ISC_RET.CONFIDENTIALITY && flags & ISC_RET.INTEGRITY);
  });

  test('a completed context answers in each process: sizes, names, the same session key, flags, package, lifespan', async () => {
    const driven = await drive(client, server, { targetName: 'HOST/server' });
    assert.equal(driven.server, 'SEC_E_OK');
    const beforeCount = (await client.stats()).lpc;
    const c = async <A extends number>(attribute: A) => client.sspi.queryContextAttributes(driven.clientContext!, attribute);
    const s = async <A extends number>(attribute: A) => server.sspi.queryContextAttributes(driven.serverContext!, attribute);

    assert.deepEqual((await c(SECPKG_ATTR.SIZES)).buffer, SIZES);
    assert.deepEqual((await s(SECPKG_ATTR.SIZES)).buffer, SIZES);
    assert.equal((await c(SECPKG_ATTR.NAMES)).buffer?.sUserName, 'SSPI-EMU\\alice');
    assert.equal((await s(SECPKG_ATTR.NAMES)).buffer?.sUserName, 'SSPI-EMU\\alice');
    const clientKey = (await c(SECPKG_ATTR.SESSION_KEY)).buffer!.SessionKey;
    const serverKey = (await s(SECPKG_ATTR.SESSION_KEY)).buffer!.SessionKey;
    assert.equal(clientKey.length, 16);
    assert.deepEqual(clientKey, serverKey);
    assert.deepEqual((await c(SECPKG_ATTR.NEGOTIATION_INFO)).buffer, { PackageInfo: NTLM_INFO, NegotiationState: SECPKG_NEGOTIATION.COMPLETE });
    assert.deepEqual((await s(SECPKG_ATTR.PACKAGE_INFO)).buffer, { PackageInfo: NTLM_INFO });
    assert.equal(
      (await c(SECPKG_ATTR.FLAGS)).buffer!.Flags,
      ISC_RET.CONNECTION | ISC_RET.CONFIDENTIALITY | ISC_RET.INTEGRITY | ISC_RET.REPLAY_DETECT | ISC_RET.SEQUENCE_DETECT,
    );
    assert.equal(
      (await s(SECPKG_ATTR.FLAGS)).buffer!.Flags,
      ASC_RET.CONNECTION | ASC_RET.CONFIDENTIALITY | ASC_RET.INTEGRITY | ASC_RET.REPLAY_DETECT | ASC_RET.SEQUENCE_DETECT,
    );
    const lifespan = (await c(SECPKG_ATTR.LIFESPAN)).buffer!;
    assert.equal(lifespan.tsExpiry, TIMESTAMP_NEVER);
    const nowTicks = (BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n;
    assert.ok(nowTicks - lifespan.tsStart >= 0n && nowTicks - lifespan.tsStart < 600_000_000n, 'established within the last minute');
    assert.deepEqual((await c(SECPKG_ATTR.NATIVE_NAMES)).buffer, { sClientName: 'SSPI-EMU\\alice', sServerName: 'HOST/server' });
    assert.equal(statusName((await c(SECPKG_ATTR.STREAM_SIZES)).status), 'SEC_E_UNSUPPORTED_FUNCTION');
    assert.deepEqual((await client.stats()).lpc, beforeCount, 'a mapped context answers in its own process');
  });

  test('a deleted context answers nothing in either half', async () => {
    const driven = await drive(client, server);
    assert.equal(statusName((await client.sspi.deleteSecurityContext(driven.clientContext!)).status), 'SEC_E_OK');
    assert.equal(statusName((await client.sspi.queryContextAttributes(driven.clientContext!, SECPKG_ATTR.SIZES)).status), 'SEC_E_INVALID_HANDLE');
  });
});
