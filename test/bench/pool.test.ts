// The LSA work pool's bench rows (bench/pool.ts) run end to end and report what they name: a load
// row per pool size, with its tasks on the pool counted (none when off), the work-kind rows, and
// the ratio the target reads. Counts, not rates: a loaded machine may make any figure anything.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPool, poolRows } from '../../bench/pool.js';

describe('the LSA work pool bench', () => {
  it(
    'reports cheap-call latency alone and loaded with the pool off and on, acquires, tasks on the pool, and the work kinds',
    { timeout: 120_000 },
    async () => {
      const report = await poolRows({ account: { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' }, durationMs: 400, threads: [0, 1] });
      assert.deepEqual(
        report.load.map((r) => r.threads),
        [0, 1],
      );
      for (const r of report.load) {
        for (const phase of [r.alone, r.loaded]) assert.equal(phase.p99 === null, phase.calls === 0, JSON.stringify(r));
        assert.ok(r.acquiresPerSec > 0, JSON.stringify(r));
      }
      assert.equal(report.load[0]!.tasksOnPool, 0, 'off: every derivation inline');
      assert.ok(report.load[1]!.tasksOnPool > 0, 'on: the derivations ran on the pool');
      assert.deepEqual(
        report.costs.map((c) => c.work.split(' ')[0]),
        ['PBKDF2-SHA256,', 'PBKDF2-SHA256,', 'NT', 'HMAC-SHA256'],
      );
      assert.equal(report.defaultThreads, 1);
      assert.equal(
        report.p99OnOverOff === null,
        report.load.some((r) => r.loaded.p99 === null),
      );
      assert.match(formatPool(report).join('\n'), /^LSA work pool: cheap calls[\s\S]*\noff +[\s\S]*\n1 thread +[\s\S]*dispatch thread's CPU/);
    },
  );
});
