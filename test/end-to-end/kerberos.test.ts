// End to end: the Kerberos package across the workers, against a local MIT KDC. The client process's
// LSA half gets a TGT and a service ticket from the KDC and sends an AP-REQ; the server's opens the
// ticket with the keytab's key and answers an AP-REP; both contexts are mapped into their processes,
// whose user-mode halves sign and seal with the AP exchange's subkeys and no LPC. Skipped, saying so,
// without MIT's KDC.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ISC_REQ, SECBUFFER, SECPKG_ATTR, SECPKG_CRED, SECQOP_WRAP_NO_ENCRYPT } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { DEFAULT_CLIENT_REQ } from '../../client-proc/app.js';
import { establish, withMachine } from '../helpers/machine.js';
import { ALICE_PASSWORD, mitKdcMissing, SERVICE, startRealm, type Realm } from '../helpers/kerberos-realm.js';
import type { AppProcess, MachineOptions } from '../../machine/machine.js';

const SKIP = mitKdcMissing();

describe('end to end: Kerberos against a local MIT KDC', { timeout: 180_000 }, () => {
  let realm: Realm | undefined;

  before(async () => {
    if (SKIP) return;
    realm = await startRealm();
  });
  after(async () => {
    await realm?.stop();
  });

  const options = (extra: Record<string, unknown> = {}): MachineOptions => ({
    packages: ['kerberos'],
    accounts: [],
    packageSettings: { kerberos: realm!.settings(extra) },
  });
  const alice = () => ({ User: 'alice', Domain: realm!.realm, Password: ALICE_PASSWORD });

  it('runs the default apps: a handshake with mutual authentication, then sealed and signed messages each way', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine({ ...options(), trace: true }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const serving = server.runApp(null, { name: 'svc', package: 'Kerberos' });
      const result = await client.runApp(null, {
        server: 'svc',
        package: 'Kerberos',
        user: 'alice',
        domain: realm!.realm,
        password: ALICE_PASSWORD,
        targetName: 'host@localhost',
        messages: 3,
      });
      assert.equal(result.statusName, 'SEC_E_OK', result.detail);
      const served = await serving;
      assert.equal(served.statusName, 'SEC_E_OK', served.detail);
      const events = await machine.events();
      assert.equal(events.filter((e) => e.call === 'MappedContext').length, 2);
    });
  });

  it('completes in two tokens with MappedContext on both sides; the names, sizes and session key are the AP exchange\'s', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(options(), async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, { package: 'Kerberos', authData: alice(), targetName: SERVICE });
      assert.ok(done.ok, JSON.stringify(done.steps));
      assert.deepEqual(
        done.steps.map((s) => `${s.api} ${s.status}`),
        ['InitializeSecurityContext SEC_I_CONTINUE_NEEDED', 'AcceptSecurityContext SEC_E_OK', 'InitializeSecurityContext SEC_E_OK'],
      );
      for (const [proc, ctx] of [
        [client, done.clientContext!],
        [server, done.serverContext!],
      ] as const) {
        const names = await proc.sspi.queryContextAttributes(ctx, SECPKG_ATTR.NAMES);
        assert.equal(names.buffer?.sUserName, `alice@${realm!.realm}`);
        const native = await proc.sspi.queryContextAttributes(ctx, SECPKG_ATTR.NATIVE_NAMES);
        assert.equal(native.buffer?.sServerName, `${SERVICE}@${realm!.realm}`);
        const sizes = await proc.sspi.queryContextAttributes(ctx, SECPKG_ATTR.SIZES);
        assert.deepEqual(sizes.buffer, { cbMaxToken: 48000, cbMaxSignature: 28, cbBlockSize: 1, cbSecurityTrailer: 60 });
      }
      const k1 = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.SESSION_KEY);
      const k2 = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.SESSION_KEY);
      assert.equal(k1.buffer?.SessionKey.length, 32);
      assert.deepEqual(k1.buffer?.SessionKey, k2.buffer?.SessionKey, "both sides' session key is the acceptor's subkey");
      await roundTrips(client, done.clientContext!, server, done.serverContext!);
    });
  });

  it('completes on the first call without mutual authentication (no AP-REP), and the two still talk', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(options(), async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, {
        package: 'Kerberos',
        authData: alice(),
        targetName: SERVICE,
        clientReq: DEFAULT_CLIENT_REQ & ~ISC_REQ.MUTUAL_AUTH,
      });
      assert.ok(done.ok, JSON.stringify(done.steps));
      assert.deepEqual(
        done.steps.map((s) => `${s.api} ${s.status}`),
        ['InitializeSecurityContext SEC_E_OK', 'AcceptSecurityContext SEC_E_OK'],
      );
      await roundTrips(client, done.clientContext!, server, done.serverContext!);
    });
  });

  it('refuses an AP-REQ played a second time (the replay cache): SEC_E_INVALID_TOKEN', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(options(), async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      let first: Uint8Array | undefined;
      const done = await establish(client, server, {
        package: 'Kerberos',
        authData: alice(),
        targetName: SERVICE,
        transit: (token, leg) => {
          if (leg === 1) first = Uint8Array.from(token);
          return token;
        },
      });
      assert.ok(done.ok);
      const cred = await server.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.INBOUND });
      const again = await server.sspi.acceptSecurityContext({ credential: cred.credential!, contextReq: 0, input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: first! }] });
      assert.equal(statusName(again.status), 'SEC_E_INVALID_TOKEN');
    });
  });
});

/** Two sealed and two signed messages each way, and a wrap without encryption. */
async function roundTrips(client: AppProcess, clientCtx: Parameters<AppProcess['sspi']['encryptMessage']>[0], server: AppProcess, serverCtx: typeof clientCtx): Promise<void> {
  for (const [from, fromCtx, to, toCtx] of [
    [client, clientCtx, server, serverCtx],
    [server, serverCtx, client, clientCtx],
    [client, clientCtx, server, serverCtx],
  ] as const) {
    const text = Uint8Array.from(Buffer.from(`hello from ${from.name}`));
    const sealed = await from.sspi.encryptMessage(fromCtx, 0, [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(60) },
      { BufferType: SECBUFFER.DATA, pvBuffer: text.slice() },
    ], 0);
    assert.equal(statusName(sealed.status), 'SEC_E_OK');
    assert.notDeepEqual(sealed.message[1]!.pvBuffer, text, 'encrypted in place');
    const opened = await to.sspi.decryptMessage(toCtx, sealed.message.map((b) => ({ ...b, pvBuffer: b.pvBuffer.slice() })), 0);
    assert.equal(statusName(opened.status), 'SEC_E_OK');
    assert.deepEqual(Buffer.from(opened.message[1]!.pvBuffer).toString(), `hello from ${from.name}`);

    const signed = await from.sspi.makeSignature(fromCtx, 0, [
      { BufferType: SECBUFFER.DATA, pvBuffer: text.slice() },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(28) },
    ], 0);
    assert.equal(statusName(signed.status), 'SEC_E_OK');
    const verified = await to.sspi.verifySignature(toCtx, signed.message, 0);
    assert.equal(statusName(verified.status), 'SEC_E_OK');

    const plain = await from.sspi.encryptMessage(fromCtx, SECQOP_WRAP_NO_ENCRYPT, [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(60) },
      { BufferType: SECBUFFER.DATA, pvBuffer: text.slice() },
    ], 0);
    assert.equal(statusName(plain.status), 'SEC_E_OK');
    assert.deepEqual(plain.message[1]!.pvBuffer, text, 'not encrypted');
    const read = await to.sspi.decryptMessage(toCtx, plain.message, 0);
    assert.equal(statusName(read.status), 'SEC_E_OK');
    assert.equal(read.qop, SECQOP_WRAP_NO_ENCRYPT);
  }
}

describe('end to end: Negotiate choosing Kerberos, or falling back to NTLM', { timeout: 180_000 }, () => {
  let realm: Realm | undefined;

  before(async () => {
    if (SKIP) return;
    realm = await startRealm();
  });
  after(async () => {
    await realm?.stop();
  });

  it('selects Kerberos when the target is a service principal the KDC knows; the context mapped is Kerberos\'', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(
      { packages: ['negotiate', 'ntlm', 'kerberos'], accounts: [`${'alice'}:${ALICE_PASSWORD}`], packageSettings: { kerberos: realm!.settings() } },
      async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const done = await establish(client, server, {
          package: 'Negotiate',
          authData: { User: 'alice', Domain: realm!.realm, Password: ALICE_PASSWORD },
          targetName: 'host@localhost',
        });
        assert.ok(done.ok, JSON.stringify(done.steps));
        assert.deepEqual(
          done.steps.map((s) => `${s.api} ${s.status}`),
          ['InitializeSecurityContext SEC_I_CONTINUE_NEEDED', 'AcceptSecurityContext SEC_E_OK', 'InitializeSecurityContext SEC_E_OK'],
        );
        const info = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.NEGOTIATION_INFO);
        assert.equal(info.buffer?.PackageInfo.Name, 'Kerberos');
        const names = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NAMES);
        assert.equal(names.buffer?.sUserName, `alice@${realm!.realm}`);
        await roundTrips(client, done.clientContext!, server, done.serverContext!);
      },
    );
  });

  it('falls back to NTLM when the target is no service principal the KDC knows', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(
      { packages: ['negotiate', 'ntlm', 'kerberos'], accounts: [`alice:${ALICE_PASSWORD}`], packageSettings: { kerberos: realm!.settings() } },
      async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const done = await establish(client, server, {
          package: 'Negotiate',
          authData: { User: 'alice', Domain: realm!.realm, Password: ALICE_PASSWORD },
          targetName: 'HTTP@nowhere.example.test',
        });
        assert.ok(done.ok, JSON.stringify(done.steps));
        const info = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.NEGOTIATION_INFO);
        assert.equal(info.buffer?.PackageInfo.Name, 'NTLM');
      },
    );
  });
});
