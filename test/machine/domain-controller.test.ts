// A domain controller as Machine.boot makes one (machine/domain-controller.ts, machine/domain.ts):
// its KDC in its LSA on real UDP and TCP (tickets from it with the small KDC client, its keytab,
// its port and keys kept across restartLsa so that a TGT from before the restart still buys a
// service ticket), its Netlogon (its address, its machine accounts), the roles the packages are told
// (SECPKG_PARAMETERS.MachineState), and every bad option refused with BAD_OPTION before an LSA
// starts. Both with the LSA in a worker thread and in its own OS process.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Machine, type MachineOptions } from '../../machine/machine.js';
import { kdcTickets, type KdcFailure } from '../helpers/kdc-tickets.js';
import { unpackKeytab } from '../../packages/kerberos/wire.js';
import { withMachine } from '../helpers/machine.js';

const DC: MachineOptions = {
  role: 'domain-controller',
  realm: 'EXAMPLE.TEST',
  accounts: ['alice:Passw0rd!'],
  services: ['host/server.example.test', 'HTTP/web.example.test:web-password'],
  machineAccounts: ['WEB01:web01-secret', { name: 'FILES$', password: 'files-secret' }],
  packages: ['ntlm'],
};

async function rejectsWith(options: MachineOptions, message: RegExp): Promise<void> {
  await assert.rejects(Machine.boot({ trace: false, ...options }), (e: Error & { code?: string }) => e.code === 'BAD_OPTION' && message.test(e.message));
}

for (const lsaIsolation of ['thread', 'process'] as const)
  describe(`a domain controller (the LSA in ${lsaIsolation === 'thread' ? 'a worker thread' : 'its own OS process'})`, () => {
    it('issues a TGT and a service ticket from the KDC in its LSA, over TCP and UDP', async () => {
      await withMachine({ ...DC, lsaIsolation }, async (dc) => {
        const address = dc.kdcAddress!;
        assert.equal(address.host, '127.0.0.1');
        for (const transport of ['tcp', 'udp'] as const) {
          const kdc = kdcTickets(address, 'EXAMPLE.TEST', transport);
          const ticket = await kdc.serviceTicket(await kdc.tgt('alice', 'Passw0rd!'), 'host/server.example.test');
          assert.deepEqual(ticket.ticket.sname.nameString, ['host', 'server.example.test']);
        }
        const status = await dc.lsa.kdc();
        assert.equal(status?.requests.issued, 4);
        await assert.rejects(
          kdcTickets(address, 'EXAMPLE.TEST').tgt('alice', 'wrong'),
          (e: KdcFailure) => e.status === 'SEC_E_LOGON_DENIED' && e.krbError === 24, // KDC_ERR_PREAUTH_FAILED
        );
      });
    });

    it('keeps its KDC port and keys across restartLsa: a TGT issued before buys a service ticket after', async () => {
      await withMachine({ ...DC, lsaIsolation }, async (dc) => {
        const address = { ...dc.kdcAddress! };
        const netlogon = { ...dc.netlogonAddress! };
        const kdc = kdcTickets(address, 'EXAMPLE.TEST');
        const tgt = await kdc.tgt('alice', 'Passw0rd!');
        await dc.kill(dc.lsa);
        await dc.restartLsa();
        assert.deepEqual(dc.kdcAddress, address);
        assert.deepEqual(dc.netlogonAddress, netlogon);
        const ticket = await kdc.serviceTicket(tgt, 'HTTP/web.example.test');
        assert.deepEqual(ticket.ticket.sname.nameString, ['HTTP', 'web.example.test']);
      });
    });

    it('exports an MIT keytab of its services (each etype), not of its users or krbtgt', async () => {
      await withMachine({ ...DC, lsaIsolation }, async (dc) => {
        const entries = unpackKeytab(await dc.lsa.exportKeytab());
        const names = [...new Set(entries.map((e) => e.principal.components.join('/')))].sort();
        assert.deepEqual(names, ['HTTP/web.example.test', 'host/server.example.test']);
        assert.equal(entries.length, 8);
      });
    });

    it("runs Netlogon with the members' machine accounts, on its own port", async () => {
      await withMachine({ ...DC, lsaIsolation }, async (dc) => {
        const status = await dc.lsa.netlogon();
        assert.ok(status?.role === 'domain-controller');
        assert.deepEqual(status.machineAccounts, ['WEB01$', 'FILES$']);
        assert.deepEqual(status.address, dc.netlogonAddress);
        assert.notEqual(dc.netlogonAddress!.port, dc.kdcAddress!.port);
        assert.equal(status.domainName, 'EXAMPLE');
        assert.deepEqual(await dc.lsa.netlogonVerify(), { ok: true });
      });
    });
  });

describe('domain options', () => {
  it("makes a member out of join: its name its machine account's, its domain the one joined, its accounts local ones", async () => {
    await withMachine({ join: { domain: 'EXAMPLE.TEST', dc: '127.0.0.1:9', machineAccount: 'web01:s' }, accounts: ['carol:pw'] }, async (member) => {
      assert.equal(member.config.computerName, 'WEB01');
      assert.equal(member.config.domainName, 'EXAMPLE');
      assert.equal(member.config.dnsDomainName, 'example.test');
      assert.deepEqual(member.config.accounts, [{ user: 'carol', domain: 'WEB01', password: 'pw' }]);
      assert.deepEqual(member.config.netlogon, {
        role: 'member',
        domainName: 'EXAMPLE',
        dnsDomainName: 'example.test',
        dc: { host: '127.0.0.1', port: 9 },
        accountName: 'WEB01$',
        password: 's',
        timeoutMs: 4000,
      });
      assert.equal(member.netlogonAddress, null);
      const status = await member.lsa.netlogon();
      assert.ok(status?.role === 'member');
      assert.equal(status.channel.channel, 'none', 'no channel until a logon needs one');
    });
  });

  it("refuses what is not a domain: options of the wrong role, bad addresses and names, a timeout past the package call's", async () => {
    const join = { domain: 'EXAMPLE', dc: '127.0.0.1:9', machineAccount: 'WEB01:s' };
    await rejectsWith({ role: 'domain-controller', realm: 'EXAMPLE.TEST', join }, /a domain controller joins no domain/);
    await rejectsWith({ machineAccounts: ['A:b'] }, /are a domain controller's/);
    await rejectsWith({ netlogon: { port: 0 } }, /are a domain controller's/);
    await rejectsWith({ join: { ...join, dc: 'nowhere' } }, /join\.dc "nowhere" is not HOST:PORT/);
    await rejectsWith({ join: { ...join, dc: '127.0.0.1:0' } }, /the port must be a whole number from 1 to 65535/);
    await rejectsWith({ join: { ...join, machineAccount: 'WEB01' } }, /is not NAME:SECRET/);
    await rejectsWith({ join: { ...join, machineAccount: 'A-NAME-FAR-TOO-LONG:s' } }, /is not a computer name/);
    await rejectsWith({ join: { ...join, machineAccount: 'WEB01:' } }, /the machine secret is empty/);
    await rejectsWith({ join: { ...join, domain: '' } }, /join\.domain must be/);
    await rejectsWith({ join: { ...join, timeoutMs: 10_000 } }, /must be shorter than packageCallTimeoutMs \(10000\)/);
    await rejectsWith({ join, computerName: 'OTHER' }, /is not the machine account's name WEB01/);
    await rejectsWith({ ...DC, machineAccounts: ['WEB01:a', 'web01:b'] }, /machine account WEB01 is given twice/);
    await rejectsWith({ ...DC, computerName: 'DC01', machineAccounts: ['DC01:a'] }, /the domain controller's own name/);
    await rejectsWith({ ...DC, netlogon: { port: 70000 } }, /netlogon\.port must be a whole number from 0 to 65535/);
  });

  it('fails the boot when its Netlogon port is taken, naming it', async () => {
    await withMachine(DC, async (first) => {
      await assert.rejects(
        Machine.boot({ ...DC, trace: false, netlogon: { port: first.netlogonAddress!.port } }),
        /Netlogon cannot listen on TCP 127\.0\.0\.1:\d+/,
      );
    });
  });
});
