// End to end: the Kerberos package against our own KDC. A machine booted with role
// 'domain-controller' runs the KDC in its LSA on loopback UDP and TCP; a second machine, a member in
// the same Node process, has only the realm, the KDC's address and its service keys (a keytab the
// DC exported, or a service account in its own account store). The member's client process gets a
// TGT and a service ticket from the DC through its LSA's Kerberos package; its server process opens
// the ticket with the member's key. The member never holds the user's password, the DC never sees
// the AP exchange. Then: Negotiate picks Kerberos there too; statuses for a wrong password and an
// unknown service; and the DC going away (tickets in the cache still serve, new ones cannot be had).

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ISC_REQ, SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine, type KdcRequestRecord } from '../../index.js';
import { establish, messagesBothWays, withMachine } from '../helpers/machine.js';

const REALM = 'EXAMPLE.TEST';
const ALICE_PASSWORD = 'Alice-in-the-domain-1';
const WEB_PASSWORD = 'web-service-secret-9';

/** The KDC's requests as the DC reports them, and a wait for the next ones (no timers: each record wakes the waiter). */
class KdcLog {
  readonly records: KdcRequestRecord[] = [];
  private waiter: { count: number; wake: () => void } | undefined;

  add(record: KdcRequestRecord): void {
    this.records.push(record);
    if (this.waiter !== undefined && this.records.length >= this.waiter.count) {
      const { wake } = this.waiter;
      this.waiter = undefined;
      wake();
    }
  }

  /** Resolves once `count` records have come in all. */
  until(count: number): Promise<void> {
    if (this.records.length >= count) return Promise.resolve();
    return new Promise((wake) => (this.waiter = { count, wake }));
  }

  lines(from = 0): string[] {
    return this.records.slice(from).map((r) => `${r.exchange} ${r.client} -> ${r.server} ${r.result}`);
  }
}

describe('end to end: a member machine authenticates through a domain controller machine (our KDC)', { timeout: 180_000 }, () => {
  let dc: Machine | undefined;
  let dir = '';
  let keytab = '';
  const log = new KdcLog();

  before(async () => {
    dc = await Machine.boot({
      role: 'domain-controller',
      realm: REALM,
      accounts: [`alice:${ALICE_PASSWORD}`, 'bob:Bob-pw-22'],
      services: ['host/server.example.test', `HTTP/web.example.test:${WEB_PASSWORD}`],
      kdc: { onRequest: (record) => log.add(record) },
      trace: false,
    });
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-domain-'));
    keytab = join(dir, 'member.keytab');
    await writeFile(keytab, await dc.lsa.exportKeytab(), { mode: 0o600 });
  });
  after(async () => {
    await dc?.shutdown();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  /** The member's Kerberos settings: the realm, the DC's KDC, and what else is given. */
  const member = (kerberos: Record<string, unknown>, accounts: string[] = []) => ({
    packages: ['negotiate', 'ntlm', 'kerberos'],
    accounts,
    trace: false,
    packageSettings: { kerberos: { realm: REALM, kdc: `${dc!.kdcAddress!.host}:${dc!.kdcAddress!.port}`, ...kerberos } },
  });
  const alice = (password = ALICE_PASSWORD) => ({ User: 'alice', Domain: REALM, Password: password });

  it('boots the domain controller with its KDC on loopback (machine.kdcAddress)', () => {
    assert.equal(dc!.role, 'domain-controller');
    assert.equal(dc!.kdcAddress?.host, '127.0.0.1');
    assert.ok((dc!.kdcAddress?.port ?? 0) > 0);
  });

  it("the Kerberos package on the member: a TGT and a service ticket from the DC, the AP exchange with the DC's exported keytab, messages both ways", async () => {
    const before = log.records.length;
    await withMachine(member({ keytab }), async (m) => {
      const server = await m.spawn('server');
      const client = await m.spawn('client');
      const done = await establish(client, server, { package: 'Kerberos', authData: alice(), targetName: 'host/server.example.test' });
      assert.ok(done.ok, JSON.stringify(done.steps));
      assert.deepEqual(
        done.steps.map((s) => `${s.api} ${s.status}`),
        ['InitializeSecurityContext SEC_I_CONTINUE_NEEDED', 'AcceptSecurityContext SEC_E_OK', 'InitializeSecurityContext SEC_E_OK'],
      );
      const names = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NAMES);
      assert.equal(names.buffer?.sUserName, `alice@${REALM}`);
      const native = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.NATIVE_NAMES);
      assert.equal(native.buffer?.sServerName, `host/server.example.test@${REALM}`);
      await messagesBothWays(client, done.clientContext!, server, done.serverContext!);
    });
    await log.until(before + 3);
    assert.deepEqual(log.lines(before), [
      `AS alice@${REALM} -> krbtgt/${REALM}@${REALM} KDC_ERR_PREAUTH_REQUIRED`,
      `AS alice@${REALM} -> krbtgt/${REALM}@${REALM} OK`,
      `TGS alice@${REALM} -> host/server.example.test@${REALM} OK`,
    ]);
  });

  it("Negotiate on the member picks Kerberos; the service's key comes from the member's own account store (services), the DC holding the same password", async () => {
    await withMachine(member({ services: ['HTTP/web.example.test'] }, [`HTTP/web.example.test:${WEB_PASSWORD}`]), async (m) => {
      const server = await m.spawn('server');
      const client = await m.spawn('client');
      const done = await establish(client, server, { package: 'Negotiate', authData: alice(), targetName: 'HTTP/web.example.test' });
      assert.ok(done.ok, JSON.stringify(done.steps));
      const info = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.NEGOTIATION_INFO);
      assert.equal(info.buffer?.PackageInfo.Name, 'Kerberos');
      const names = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NAMES);
      assert.equal(names.buffer?.sUserName, `alice@${REALM}`);
      await messagesBothWays(client, done.clientContext!, server, done.serverContext!);
    });
  });

  it('answers SEC_E_LOGON_DENIED for a wrong password (KDC_ERR_PREAUTH_FAILED) and SEC_E_TARGET_UNKNOWN for a service the DC does not know (KDC_ERR_S_PRINCIPAL_UNKNOWN)', async () => {
    const before = log.records.length;
    await withMachine(member({ keytab }), async (m) => {
      const client = await m.spawn('client');
      const ask = async (password: string, target: string): Promise<string> => {
        const cred = await client.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.OUTBOUND, authData: alice(password) });
        const first = await client.sspi.initializeSecurityContext({ credential: cred.credential!, targetName: target, contextReq: ISC_REQ.MUTUAL_AUTH });
        assert.equal(first.output.find((b) => b.BufferType === SECBUFFER.TOKEN)?.pvBuffer.length ?? 0, 0, 'nothing to send');
        await client.sspi.freeCredentialsHandle(cred.credential!);
        return statusName(first.status);
      };
      assert.equal(await ask('not-the-password', 'host/server.example.test'), 'SEC_E_LOGON_DENIED');
      assert.equal(await ask(ALICE_PASSWORD, 'host/nowhere.example.test'), 'SEC_E_TARGET_UNKNOWN');
    });
    await log.until(before + 5);
    assert.deepEqual(
      log.records.slice(before).map((r) => `${r.exchange} ${r.result}`),
      ['AS KDC_ERR_PREAUTH_REQUIRED', 'AS KDC_ERR_PREAUTH_FAILED', 'AS KDC_ERR_PREAUTH_REQUIRED', 'AS OK', 'TGS KDC_ERR_S_PRINCIPAL_UNKNOWN'],
    );
  });
});

describe('end to end: the domain controller goes away', { timeout: 180_000 }, () => {
  it('a client with its service ticket cached still authenticates; a new identity gets SEC_E_NO_AUTHENTICATING_AUTHORITY, and Negotiate falls back to NTLM', async () => {
    const dc = await Machine.boot({ role: 'domain-controller', realm: REALM, accounts: [`alice:${ALICE_PASSWORD}`, 'bob:Bob-pw-22'], services: ['host/server.example.test'], trace: false });
    let dcUp = true;
    try {
      const keytab = await dc.lsa.exportKeytab();
      const dir = await mkdtemp(join(tmpdir(), 'sspi-emu-domain-'));
      try {
        await writeFile(join(dir, 'keytab'), keytab, { mode: 0o600 });
        const options = {
          packages: ['negotiate', 'ntlm', 'kerberos'],
          accounts: ['bob:Bob-pw-22'],
          trace: false,
          packageSettings: { kerberos: { realm: REALM, kdc: `127.0.0.1:${dc.kdcAddress!.port}`, keytab: join(dir, 'keytab') } },
        };
        await withMachine(options, async (m) => {
          const server = await m.spawn('server');
          const client = await m.spawn('client');
          const cred = await client.sspi.acquireCredentialsHandle({
            package: 'Kerberos',
            credentialUse: SECPKG_CRED.OUTBOUND,
            authData: { User: 'alice', Domain: REALM, Password: ALICE_PASSWORD },
          });
          const handshake = async () => {
            const first = await client.sspi.initializeSecurityContext({ credential: cred.credential!, targetName: 'host/server.example.test', contextReq: 0 });
            return first;
          };
          assert.equal(statusName((await handshake()).status), 'SEC_E_OK', 'the first, with the DC up (no mutual authentication: one call)');
          await dc.shutdown();
          dcUp = false;
          const again = await handshake();
          assert.equal(statusName(again.status), 'SEC_E_OK', 'the service ticket is in the cache: no KDC needed');
          const sinbound = await server.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.INBOUND });
          const accepted = await server.sspi.acceptSecurityContext({
            credential: sinbound.credential!,
            contextReq: 0,
            input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: again.output.find((b) => b.BufferType === SECBUFFER.TOKEN)!.pvBuffer }],
          });
          assert.equal(statusName(accepted.status), 'SEC_E_OK', "the member's server needs no KDC either");

          const bob = { User: 'bob', Domain: REALM, Password: 'Bob-pw-22' };
          const other = await client.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.OUTBOUND, authData: bob });
          const refused = await client.sspi.initializeSecurityContext({ credential: other.credential!, targetName: 'host/server.example.test', contextReq: 0 });
          assert.equal(statusName(refused.status), 'SEC_E_NO_AUTHENTICATING_AUTHORITY');

          const done = await establish(client, server, { package: 'Negotiate', authData: bob, targetName: 'host/server.example.test' });
          assert.ok(done.ok, JSON.stringify(done.steps));
          const info = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.NEGOTIATION_INFO);
          assert.equal(info.buffer?.PackageInfo.Name, 'NTLM', "bob is also an account of the member's: NTLM serves");
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } finally {
      if (dcUp) await dc.shutdown();
    }
  });
});
