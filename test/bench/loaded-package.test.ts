// sspi-emu bench for a package loaded from a module (--load): the rows a built-in package gets,
// measured the same way, beside the built-in null package in the same run. What differs is
// said: its raw message baseline is its own user-mode functions called directly (no primitives are
// written for it), and it has no crypto floor row (written per package, as for null).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport, runBench } from '../../bench/index.js';
import { smallBench } from '../helpers/bench.js';
import { sspiEmu } from '../helpers/cli.js';
import { fixturePackage } from '../helpers/machine.js';

describe('sspi-emu bench of a loaded package', () => {
  it('gives it the rows of a built-in package', { timeout: 180_000 }, async () => {
    const report = await runBench(smallBench(['null', fixturePackage('renamed')], { concurrency: [1, 4] }));
    const rows = <T>(items: T[], pkg: string, key: (r: T) => unknown): unknown[] => items.filter((r) => (r as { package: string }).package === pkg).map(key);
    const handshakeKey = (r: (typeof report.handshakes)[number]): unknown => [r.concurrency, r.clients, r.failures, Object.keys(r).sort()];
    assert.deepEqual(rows(report.handshakes, 'Renamed', handshakeKey), rows(report.handshakes, 'Null', handshakeKey));
    assert.equal(rows(report.handshakes, 'Renamed', handshakeKey).length, 2);
    const messageKey = (m: (typeof report.messages)[number]): unknown => [m.op, m.size, Object.keys(m).sort()];
    assert.deepEqual(rows(report.messages, 'Renamed', messageKey), rows(report.messages, 'Null', messageKey));
    for (const m of report.messages) {
      assert.equal(m.rawBaseline, m.package === 'Renamed' ? 'package in-process' : 'primitives');
      for (const k of ['mappedOpsPerSec', 'rawOpsPerSec', 'lpcOpsPerSec'] as const) assert.ok(m[k] > 0, `${m.package} ${m.op} ${k}`);
    }
    assert.equal(report.memory.measurements.Renamed![0]!.contexts, 100);
    assert.deepEqual(
      report.hops.map((h) => h.package),
      ['Null', 'Renamed'],
    );
    assert.deepEqual(report.cryptoFloor, []);
    assert.match(formatReport(report), /raw for Renamed \(no primitives written for it\): its own user-mode functions called directly in one thread/);
  });

  it('says so before measuring when a --load module does not load, or --package names none of its packages', async () => {
    const missing = await sspiEmu(['bench', '--quick', '--load', '/nonexistent/package.js']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^sspi-emu bench: \/nonexistent\/package\.js failed to load at resolve: no such file: /);
    const unknown = await sspiEmu(['bench', '--quick', '--load', fixturePackage('renamed'), '--package', 'Nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--package Nope: no such package in .*renamed\.js \(loaded: Renamed\)/);
  });
});
