// A soak in seconds: load with about 1% of calls faulted, then every process killed. The LSA's
// handles come back to the baseline and its heap does not grow (the p99 comparison is the soak
// command's figure, not a test's: timing is noise on a shared machine).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSoak } from '../../scenarios/soak.js';

describe('sspi-emu soak', () => {
  it('returns the LSA to its baseline of handles, with a flat heap, after a load with injected faults', { timeout: 90_000 }, async () => {
    const report = await runSoak({ spec: 'example', durationMs: 4_000, clients: 4, inFlightPerClient: 16, faultRate: 0.02, seed: 5 });
    assert.ok(report.withoutFaults.completed > 0 && report.withFaults.completed > 0);
    assert.equal(report.withoutFaults.failed, 0, JSON.stringify(report.withoutFaults.byStatus));
    assert.ok(Object.values(report.faultsInjected).reduce((a, b) => a + b, 0) > 0, 'faults were injected');
    for (const status of Object.keys(report.withFaults.byStatus)) assert.match(status, /^SEC_E_/);
    assert.deepEqual(report.lsaAfter.contexts, report.lsaBefore.contexts);
    assert.deepEqual(report.lsaAfter.credentials, report.lsaBefore.credentials);
    assert.deepEqual(report.lsaAfter.logonSessions, report.lsaBefore.logonSessions);
    assert.equal(report.verdict.heapFlat, true, `${report.lsaBefore.heapUsed} -> ${report.lsaAfter.heapUsed}`);
  });
});
