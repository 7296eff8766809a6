// End to end: NTLM in a domain. Three machines, each with its own LSA: a domain controller (the
// domain's users, its members' machine accounts, Netlogon on a real TCP socket), a member server
// joined to it (its NTLM holds no domain user's NT hash: it passes each domain user's AUTHENTICATE
// through to the DC, over the secure channel made with its machine account), and a workstation in
// no domain whose client process authenticates to the member's server process. The member's
// Netlogon talks to the DC through a recording proxy, so that the test reads every byte between
// them. Each LSA both in a worker thread and in an OS process of its own.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SECPKG_ATTR } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { hmacMd5, ntowfv1, ntowfv2FromNtHash, unpackAuthenticate } from '../../packages/ntlm/wire.js';
import { sharedSecretOf } from '../../packages/ntlm/netlogon/index.js';
import { establish } from '../helpers/machine.js';
import { RecordingProxy, type Framing } from '../helpers/recording-proxy.js';
import { findSecret, lsaToProcess } from '../helpers/scan.js';

const ALICE = { User: 'alice', Domain: 'EXAMPLE', Password: 'Domain-Passw0rd!' };
const MACHINE_SECRET = 'member-machine-secret';
/** Netlogon's framing: a 4-byte big-endian length. */
const NETLOGON: Framing = { headerLength: 4, bodyLength: (h) => ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0 };

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`NTLM in a domain: a client authenticates to a member server, which passes it through to the DC (LSAs in ${lsaIsolation === 'thread' ? 'worker threads' : 'OS processes of their own'})`, () => {
    let dc: Machine;
    let member: Machine;
    let workstation: Machine;
    let proxy: RecordingProxy;
    let client: AppProcess;
    let server: AppProcess;

    before(async () => {
      dc = await Machine.boot({
        role: 'domain-controller',
        realm: 'EXAMPLE.TEST',
        computerName: 'DC01',
        accounts: [`alice:${ALICE.Password}`, 'bob:Bob-Passw0rd!'],
        machineAccounts: [`MEMBER:${MACHINE_SECRET}`],
        packages: ['ntlm', 'negotiate'],
        lsaIsolation,
        trace: false,
      });
      proxy = await RecordingProxy.start(NETLOGON, dc.netlogonAddress!);
      member = await Machine.boot({
        join: { domain: 'EXAMPLE.TEST', dc: { host: '127.0.0.1', port: proxy.port }, machineAccount: `MEMBER:${MACHINE_SECRET}` },
        // A local account of the member, which is not the domain's alice.
        accounts: ['carol:Local-Passw0rd!'],
        packages: ['ntlm', 'negotiate'],
        lsaIsolation,
        trace: true,
      });
      workstation = await Machine.boot({ packages: ['ntlm', 'negotiate'], accounts: [], lsaIsolation, trace: false });
      client = await workstation.spawn('client');
      server = await member.spawn('server');
    });
    after(async () => {
      await Promise.all([dc?.shutdown(), member?.shutdown(), workstation?.shutdown()]);
      await proxy?.stop();
    });

    it("authenticates a domain user the member does not know, as EXAMPLE\\alice, with the DC's session key (messages seal both ways)", async () => {
      const r = await establish(client, server, { package: 'NTLM', authData: ALICE });
      assert.ok(r.ok, JSON.stringify(r.steps));
      const names = await server.sspi.queryContextAttributes(r.serverContext!, SECPKG_ATTR.NAMES);
      assert.deepEqual(names.buffer, { sUserName: 'EXAMPLE\\alice' });
      // The member's context works: the keys the client derived agree with those the member derived from the DC's UserSessionKey.
      const sealed = await client.sspi.encryptMessage(
        r.clientContext!,
        0,
        [
          { BufferType: 2, pvBuffer: new Uint8Array(16) },
          { BufferType: 1, pvBuffer: new TextEncoder().encode('to the member') },
        ],
        0,
      );
      const opened = await server.sspi.decryptMessage(r.serverContext!, sealed.message, 0);
      assert.equal(statusName(opened.status), 'SEC_E_OK');
      assert.ok((await dcNetlogon()).stats.channels >= 1, "the DC made the member's secure channel");
    });

    async function dcNetlogon() {
      const status = await dc.lsa.netlogon();
      assert.ok(status?.role === 'domain-controller');
      return status;
    }

    it('refuses a wrong password and an unknown user alike: SEC_E_LOGON_DENIED (the DC answered STATUS_WRONG_PASSWORD and STATUS_NO_SUCH_USER)', async () => {
      const before = (await dcNetlogon()).stats.logons;
      for (const authData of [
        { ...ALICE, Password: 'not-it' },
        { ...ALICE, User: 'mallory' },
      ]) {
        const r = await establish(client, server, { package: 'NTLM', authData });
        assert.equal(r.ok, false);
        assert.equal(r.steps.at(-1)!.status, 'SEC_E_LOGON_DENIED', JSON.stringify(r.steps));
      }
      const after = (await dcNetlogon()).stats.logons;
      assert.equal((after.STATUS_WRONG_PASSWORD ?? 0) - (before.STATUS_WRONG_PASSWORD ?? 0), 1);
      assert.equal((after.STATUS_NO_SUCH_USER ?? 0) - (before.STATUS_NO_SUCH_USER ?? 0), 1);
      const events = await member.events();
      const returns = events.filter((e) => e.call === 'CallPackagePassthrough' && e.phase === 'return').map((e) => e.status);
      assert.ok(returns.includes('STATUS_WRONG_PASSWORD') && returns.includes('STATUS_NO_SUCH_USER'), JSON.stringify(returns));
    });

    it("checks the member's own accounts itself (MEMBER\\carol, and carol with no domain) and never asks the DC for them", async () => {
      const before = (await member.lsa.netlogon())!;
      for (const Domain of ['MEMBER', '']) {
        const r = await establish(client, server, { package: 'NTLM', authData: { User: 'carol', Domain, Password: 'Local-Passw0rd!' } });
        assert.ok(r.ok, JSON.stringify(r.steps));
        assert.deepEqual((await server.sspi.queryContextAttributes(r.serverContext!, SECPKG_ATTR.NAMES)).buffer, { sUserName: 'MEMBER\\carol' });
      }
      const after = (await member.lsa.netlogon())!;
      assert.ok(before.role === 'member' && after.role === 'member');
      assert.equal(after.channel.logons.sent, before.channel.logons.sent, 'no logon went to the DC');
    });

    it("passes a domain user through under Negotiate too (SPNEGO around NTLM, the mechListMICs with the DC's key)", async () => {
      const r = await establish(client, server, { package: 'Negotiate', authData: ALICE });
      assert.ok(r.ok, JSON.stringify(r.steps));
      assert.deepEqual((await server.sspi.queryContextAttributes(r.serverContext!, SECPKG_ATTR.NAMES)).buffer, { sUserName: 'EXAMPLE\\alice' });
    });

    it("keeps every secret off the wire and out of the member: no password, NT hash, machine secret or session key between member and DC; the member's LSA has only its local account", async () => {
      let authenticate: Uint8Array | undefined;
      member.tap(true);
      const r = await establish(client, server, {
        package: 'NTLM',
        authData: ALICE,
        transit: (token, leg) => {
          if (leg === 3) authenticate = token;
          return token;
        },
      });
      member.tap(false);
      assert.ok(r.ok && authenticate !== undefined);
      const message = unpackAuthenticate(authenticate);
      const ntHash = ntowfv1(ALICE.Password);
      // The SessionBaseKey the DC sent back: HMAC_MD5(NTOWFv2, NTProofStr).
      const sessionBaseKey = hmacMd5(ntowfv2FromNtHash(ntHash, message.userName, message.domainName), message.ntChallengeResponse.subarray(0, 16));
      const wire = proxy.bodies();
      assert.ok(wire.length > 0, 'the proxy saw the secure channel');
      for (const [what, secret] of [
        ["alice's password", ALICE.Password],
        ["alice's NT hash", ntHash],
        ['the SessionBaseKey', sessionBaseKey],
        ['the machine secret', MACHINE_SECRET],
        ["the machine secret's NT hash", sharedSecretOf(MACHINE_SECRET)],
      ] as const)
        assert.deepEqual(findSecret(wire, secret), [], `${what} crossed between member and DC`);
      // Nor does any of it cross from the member's LSA into its server process.
      const taps = (await member.taps()).filter(lsaToProcess);
      assert.ok(taps.length > 0);
      for (const secret of [ALICE.Password, ntHash, sessionBaseKey, MACHINE_SECRET]) assert.deepEqual(findSecret(taps, secret), []);
      // The member's account store holds its one local account, not the domain's users.
      assert.equal((await member.lsa.stats()).accounts, 1);
      assert.deepEqual(
        member.config.accounts.map((a) => `${a.domain}\\${a.user}`),
        ['MEMBER\\carol'],
      );
      assert.equal((await dc.lsa.stats()).accounts, 2);
    });

    it("says where each logon went in the member's trace: CallPackagePassthrough to the DC, and the DC's calls in its own", async () => {
      const events = await member.events();
      const pass = events.find((e) => e.call === 'CallPackagePassthrough' && e.phase === 'return' && e.status === 'STATUS_SUCCESS');
      assert.ok(pass !== undefined);
      assert.match(pass.peer ?? '', /^the DC at 127\.0\.0\.1:\d+$/);
    });
  });

describe('NTLM in a domain when the DC cannot vouch for the member', () => {
  it("answers SEC_E_NO_AUTHENTICATING_AUTHORITY when the DC refuses the machine secret, and the member's Netlogon says why", async () => {
    const dc = await Machine.boot({
      role: 'domain-controller',
      realm: 'EXAMPLE.TEST',
      accounts: [`alice:${ALICE.Password}`],
      machineAccounts: ['MEMBER:right'],
      packages: ['ntlm'],
      trace: false,
    });
    const member = await Machine.boot({
      join: { domain: 'EXAMPLE', dc: dc.netlogonAddress!, machineAccount: 'MEMBER:wrong' },
      packages: ['ntlm'],
      trace: false,
    });
    try {
      const r = await establish(await member.spawn('client'), await member.spawn('server'), { package: 'NTLM', authData: ALICE });
      assert.equal(r.steps.at(-1)!.status, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', JSON.stringify(r.steps));
      const status = await member.lsa.netlogon();
      assert.ok(status?.role === 'member');
      assert.deepEqual(status.channel.lastError, {
        status: 'STATUS_TRUSTED_RELATIONSHIP_FAILURE',
        reason: 'the DC refused the machine account MEMBER$: NetrServerAuthenticate3 STATUS_ACCESS_DENIED (a wrong machine secret)',
      });
      assert.deepEqual(await member.lsa.netlogonVerify(), {
        ok: false,
        status: 'STATUS_TRUSTED_RELATIONSHIP_FAILURE',
        reason: status.channel.lastError.reason,
      });
    } finally {
      await Promise.all([dc.shutdown(), member.shutdown()]);
    }
  });

  it('answers SEC_E_NO_AUTHENTICATING_AUTHORITY when no DC listens, and succeeds once one does (the DC killed, then restarted on its port)', async () => {
    const dc = await Machine.boot({
      role: 'domain-controller',
      realm: 'EXAMPLE.TEST',
      accounts: [`alice:${ALICE.Password}`],
      machineAccounts: ['MEMBER:s'],
      packages: ['ntlm'],
      trace: false,
    });
    const member = await Machine.boot({ join: { domain: 'EXAMPLE', dc: dc.netlogonAddress!, machineAccount: 'MEMBER:s' }, packages: ['ntlm'], trace: false });
    try {
      const client = await member.spawn('client');
      const server = await member.spawn('server');
      assert.ok((await establish(client, server, { package: 'NTLM', authData: ALICE })).ok);
      await dc.kill(dc.lsa);
      const down = await establish(client, server, { package: 'NTLM', authData: ALICE });
      assert.equal(down.steps.at(-1)!.status, 'SEC_E_NO_AUTHENTICATING_AUTHORITY');
      const status = await member.lsa.netlogon();
      assert.ok(status?.role === 'member');
      assert.equal(status.channel.lastError?.status, 'STATUS_NO_LOGON_SERVERS');
      await dc.restartLsa();
      assert.ok((await establish(client, server, { package: 'NTLM', authData: ALICE })).ok, 'the DC is back on its port');
    } finally {
      await Promise.all([dc.shutdown(), member.shutdown()]);
    }
  });
});
