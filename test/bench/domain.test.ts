// The domain's bench rows (bench/domain.ts) run end to end and report what they name: the KDC's AS
// and TGS rows for each pool size with their in-process baseline, the keys rows (the PBKDF2 tasks
// on the pool counted: none when it is off), the NTLM pass-through rows beside local handshakes.
// Counts and shapes, not rates: a loaded machine may make any figure anything.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainRows, formatDomain } from '../../bench/domain.js';

describe('the domain bench', () => {
  it(
    'reports KDC AS and TGS requests/s with the pool off and on, the keys rows, and NTLM pass-through beside local handshakes',
    { timeout: 180_000 },
    async () => {
      const report = await domainRows({ durationMs: 300, repetitions: 1, kdcLanes: 2, poolThreads: [0, 1], users: 4, concurrency: [2] });
      assert.deepEqual(
        report.kdc.map((r) => `${r.exchange} ${r.poolThreads}`),
        ['AS 0', 'AS 1', 'TGS 0', 'TGS 1'],
      );
      for (const r of report.kdc) {
        assert.ok(r.reqPerSec > 0 && r.inProcessPerSec > 0, JSON.stringify(r));
        assert.equal(r.failures, 0, JSON.stringify(r));
      }
      assert.deepEqual(
        report.keys.map((k) => [k.poolThreads, k.users]),
        [
          [0, 4],
          [1, 4],
        ],
      );
      assert.equal(report.keys[0]!.tasksOnPool, 0, 'off: every key inline');
      // Four users and krbtgt's random keys: each user's four etypes on the pool.
      assert.equal(report.keys[1]!.tasksOnPool, 16);
      assert.equal(report.passThrough.length, 1);
      const row = report.passThrough[0]!;
      assert.ok(row.passThroughHsPerSec > 0 && row.localHsPerSec > 0, JSON.stringify(row));
      assert.equal(row.failures, 0);
      assert.match(
        formatDomain(report).join('\n'),
        /^The domain controller's KDC over TCP[\s\S]*\nAS +off[\s\S]*\nTGS +1 thread[\s\S]*keys of 4 users ready[\s\S]*NTLM handshakes passed through/,
      );
    },
  );
});
