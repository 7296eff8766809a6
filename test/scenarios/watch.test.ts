// run --watch's loop without the command line: one machine (its LSA in an OS process of its own
// here), the demo run, a reload when the package's files change, the run again on the new version
// (its own trace: the reload, then the run), until the signal to stop.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReloadReport } from '../../lsa/index.js';
import type { DemoReport } from '../../scenarios/demo.js';
import { runWatching } from '../../scenarios/watch.js';
import { ReloadablePackage } from '../helpers/reloadable.js';

describe('runWatching', { timeout: 120_000 }, () => {
  it('runs, reloads when the package changes, runs again on the new version, and stops when asked', async () => {
    const pkg = ReloadablePackage.create('Watched', 'one');
    const stop = new AbortController();
    const runs: DemoReport[] = [];
    const reloads: ReloadReport[] = [];
    const failures: unknown[] = [];
    try {
      const status = await runWatching(
        { packages: ['example', pkg.entry], package: 'Watched', messages: 1, lsaIsolation: 'process' },
        [pkg.entry],
        {
          ran: (report) => {
            runs.push(report);
            if (runs.length === 1) pkg.setComment('two');
            else stop.abort();
          },
          reloaded: (_spec, report) => reloads.push(report),
          failed: (_spec, error) => failures.push(error),
        },
        stop.signal,
        { debounceMs: 10 },
      );
      assert.equal(status, 0);
      assert.deepEqual(failures, []);
      assert.deepEqual(
        runs.map((r) => r.statusName),
        ['SEC_E_OK', 'SEC_E_OK'],
      );
      assert.deepEqual(
        reloads.map((r) => r.version),
        [2],
      );
      const second = runs[1]!.events.map((e) => e.call);
      assert.ok(second.indexOf('PackageLoaded') >= 0 && second.indexOf('PackageLoaded') < second.indexOf('AppStart'), 'the reload, then the run');
      assert.ok(!runs[1]!.events.some((e) => e.call === 'AppExit' && e.t < runs[0]!.events.at(-1)!.t), 'only the second run’s own events');
      const loaded = runs[1]!.events.filter((e) => e.call === 'SpUserModeInitialize' && e.phase === 'call').map((e) => e.process);
      assert.deepEqual(loaded.sort(), ['client', 'server'], 'the new processes load the new user-mode half');
    } finally {
      stop.abort();
      pkg.remove();
    }
  });
});
