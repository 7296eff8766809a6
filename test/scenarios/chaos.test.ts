// The chaos run's invariants, whatever the schedule does: no hang, and nothing left in the LSA
// once every process that died was reaped.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChaos } from '../../scenarios/chaos.js';

describe('sspi-emu chaos', () => {
  for (const lsaIsolation of ['thread', 'process'] as const)
    it(
      `injects faults of every kind, never hangs and leaves nothing in the LSA (the LSA in a ${lsaIsolation === 'thread' ? 'worker thread' : 'process of its own'})`,
      { timeout: 240_000 },
      async () => {
        const report = await runChaos({
          lsaIsolation,
          package: 'Example',
          spec: 'example',
          durationMs: 4_000,
          seed: 3,
          clients: 2,
          lanes: 2,
          faultIntervalMs: 250,
          // A hang is a run past every deadline it has (the apps' 30 s receive deadline the longest), not a slow one on a loaded machine.
          hangMs: 45_000,
          // However slow a loaded machine makes the run: at least five faults, and handshakes done.
          atLeast: { faults: 5, completed: 1 },
        });
        const injected = Object.values(report.faults).reduce((a, b) => a + b, 0);
        assert.ok(injected >= 5, JSON.stringify(report.faults));
        assert.equal(report.hangs, 0);
        assert.ok(report.handshakes.completed > 0);
        for (const status of Object.keys(report.handshakes.byStatus)) assert.match(status, /^SEC_E_|^process died/, status);
        assert.deepEqual(report.lsaLeft, { processes: 0, credentials: 0, contexts: 0, logonSessions: 0, nested: 0 });
      },
    );

  it('under Negotiate (NTLM beneath it, driven through the LSA), leaves no nested handle either', { timeout: 240_000 }, async () => {
    const report = await runChaos({
      package: 'Negotiate',
      spec: 'negotiate',
      durationMs: 4_000,
      seed: 5,
      clients: 2,
      lanes: 2,
      faultIntervalMs: 250,
      // A hang is a run past every deadline it has (the apps' 30 s receive deadline the longest), not a slow one on a loaded machine.
      hangMs: 45_000,
      atLeast: { faults: 5, completed: 1 },
    });
    assert.ok(Object.values(report.faults).reduce((a, b) => a + b, 0) >= 5, JSON.stringify(report.faults));
    assert.equal(report.hangs, 0);
    assert.ok(report.handshakes.completed > 0);
    for (const status of Object.keys(report.handshakes.byStatus)) assert.match(status, /^SEC_E_|^process died/, status);
    assert.deepEqual(report.lsaLeft, { processes: 0, credentials: 0, contexts: 0, logonSessions: 0, nested: 0 });
  });
});
