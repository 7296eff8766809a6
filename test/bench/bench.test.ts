// The benchmark runs end to end and reports every figure the issue names. No figure is checked
// against a threshold here (these machines are shared and noisy): that is the benchmark's job.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBench } from '../../bench/index.js';
import { formatReport, formatSvg } from '../../bench/report.js';

describe('sspi-emu bench', () => {
  it('reports handshakes, messages, memory, the peer and the targets with their baselines', { timeout: 120_000 }, async () => {
    const progress: string[] = [];
    const report = await runBench({
      packages: ['null'],
      concurrency: [4],
      clients: [1, 2],
      durationMs: 150,
      warmupMs: 50,
      repetitions: 1,
      messageSizes: [64],
      messageDurationMs: 50,
      memoryContexts: [200],
      scale: false,
      fairnessMs: 1_000,
      progress: (done, total, label) => progress.push(`${done}/${total} ${label}`),
    });
    assert.equal(progress.at(-1), `${progress.length}/${progress.length} fairness`);
    assert.deepEqual(
      report.handshakes.map((r) => [r.package, r.concurrency, r.clients, r.failures]),
      [
        ['Null', 4, 1, 0],
        ['Null', 4, 2, 0],
      ],
    );
    for (const r of report.handshakes) {
      for (const k of ['hsPerSec', 'p50Ms', 'p99Ms', 'idealHsPerSec', 'inProcessHsPerSec'] as const) assert.ok(r[k] > 0, `${k} = ${r[k]}`);
      assert.match(r.bottleneck, /^(lsa|server|client(#\d)?) \(\d+% busy\)$/);
      assert.deepEqual(Object.keys(r.elu).sort(), r.clients === 1 ? ['client', 'lsa', 'server'] : ['client', 'client#2', 'lsa', 'server']);
    }
    assert.deepEqual(
      report.messages.map((m) => [m.package, m.op, m.size]),
      [
        ['Null', 'sign+verify', 64],
        ['Null', 'seal+unseal', 64],
      ],
    );
    for (const m of report.messages) assert.ok(m.mappedOpsPerSec > 0 && m.rawOpsPerSec > 0 && m.lpcOpsPerSec > 0);
    assert.ok(Number.isFinite(report.memory.lsaBytesPerContext.Null), 'a figure, whose sign at 200 contexts is within GC noise');
    assert.equal(report.memory.measurements.Null![0]!.contexts, 200);
    assert.ok(report.memory.lsaBytesPerLogonSession > 0);
    assert.ok(report.peer.length === 1 && ('opsPerSec' in report.peer[0]! || 'skipped' in report.peer[0]!));
    assert.deepEqual(
      report.fairness.map((r) => [r.package, r.flood, r.cutOff]),
      [
        ['Null', 'SSPI acquires, 512 in flight', false],
        ['Null', 'SSPI acquires, scheduler limits lifted', false],
        ['Null', 'raw LPC frames of 1,000 calls', true],
      ],
    );
    // Counts, not rates: a flooded phase may complete no handshake at all on a loaded machine (the raw flood holds the LSA until it is cut off).
    for (const r of report.fairness) assert.ok(r.unloaded.handshakes > 0 && r.floodCalls > 0, JSON.stringify(r));
    assert.equal(report.machine.node, process.version);
    assert.match(formatReport(report), /Handshakes per second[\s\S]*Null\s+4\s+1[\s\S]*Fairness[\s\S]*Null\s+SSPI acquires/);
    assert.match(formatSvg(report), /^<svg [\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  });
});
