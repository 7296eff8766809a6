// chaos --scenario domain's invariants, whatever the schedule does: the DC killed and stalled at
// each of its call points (NetrLogonSamLogonEx, AS-REQ, TGS-REQ) while NTLM pass-through and KDC
// clients work through it; no attempt hangs, every failure is SEC_E_NO_AUTHENTICATING_AUTHORITY
// within the deadline, and every lane succeeds again once the DC is back.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDomainChaos } from '../../scenarios/domain-chaos.js';

describe('sspi-emu chaos --scenario domain', () => {
  for (const lsaIsolation of ['thread', 'process'] as const)
    it(
      `kills and stalls the DC at each call point; clients get SEC_E_NO_AUTHENTICATING_AUTHORITY in time and succeed once it is back (LSAs in ${lsaIsolation === 'thread' ? 'worker threads' : 'OS processes of their own'})`,
      { timeout: 240_000 },
      async () => {
        const timeoutMs = 1_500;
        const report = await runDomainChaos({
          lsaIsolation,
          durationMs: 2_000,
          seed: 7,
          lanes: 2,
          faultIntervalMs: 300,
          timeoutMs,
          // A hang is an attempt past every deadline it has, not a slow one on a loaded machine.
          hangMs: 45_000,
          // Every kind of fault at every point: the schedule goes round them, six faults a round.
          atLeast: { faults: 6 },
        });
        for (const kind of ['kill', 'stall'])
          for (const call of ['NetrLogonSamLogonEx', 'AS-REQ', 'TGS-REQ'])
            assert.ok((report.faults[`${kind} ${call}`] ?? 0) >= 1, `${kind} ${call}: ${JSON.stringify(report.faults)}`);
        assert.equal(report.hangs, 0);
        assert.deepEqual(report.unexpected, {});
        assert.equal(report.recovered, true);
        assert.ok(report.dcRestarts + report.notReached >= 3, 'each kill killed the DC, or no request reached its point');
        for (const lane of [report.ntlm, report.kerberos]) {
          assert.ok(lane.completed > 0);
          for (const status of Object.keys(lane.byStatus)) assert.equal(status, 'SEC_E_NO_AUTHENTICATING_AUTHORITY');
        }
        assert.ok(report.ntlm.failed > 0 && report.kerberos.failed > 0, 'a DC that is down fails its clients, with the status');
      },
    );
});
