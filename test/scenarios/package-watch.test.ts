// The watcher behind run --watch and serve --watch: real files, real fs.watch; a reload when a
// module file's content changes (not when it is written as it was, not for node_modules), one
// more after a change that lands during a reload, the failure of one reported; and with a real
// machine whose LSA runs in an OS process of its own, the new version in place.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ReloadReport } from '../../lsa/index.js';
import { Machine } from '../../machine/machine.js';
import { describeReload, PackageWatcher } from '../../scenarios/package-watch.js';
import { ReloadablePackage } from '../helpers/reloadable.js';

/** A promise and its resolve, for events the test waits on. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const REPORT = (spec: string, version: number): ReloadReport => ({ spec, version, module: `file://${spec}?v=${version}`, loaded: [], unloaded: [] });

describe('PackageWatcher', () => {
  let dir: string;
  let entry: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sspi-emu-watch-'));
    entry = join(dir, 'index.js');
    mkdirSync(join(dir, 'lib'));
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(entry, 'export const a = 1;\n');
    writeFileSync(join(dir, 'lib', 'x.js'), 'export const x = 1;\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reloads when a file of the module’s folder changes, not when one is written as it was or lies in node_modules', async () => {
    const reloads: string[] = [];
    let reloaded = deferred<void>();
    let unchanged = deferred<string>();
    const watcher = new PackageWatcher(
      [entry],
      (spec) => {
        reloads.push(spec);
        return Promise.resolve(REPORT(spec, reloads.length + 1));
      },
      {
        reloaded: () => reloaded.resolve(),
        failed: (_spec, error) => assert.fail(String(error)),
        seen: (_spec, file, changed) => {
          if (!changed) unchanged.resolve(file);
        },
      },
      { debounceMs: 10 },
    );
    try {
      writeFileSync(entry, 'export const a = 1;\n');
      assert.equal(await unchanged.promise, entry, 'the same content: seen, no reload');
      writeFileSync(join(dir, 'node_modules', 'dep.js'), 'export const d = 1;\n');
      writeFileSync(join(dir, 'lib', 'x.js'), 'export const x = 2;\n');
      await reloaded.promise;
      assert.deepEqual(reloads, [entry], 'one reload, for the changed file (not the write as it was, not node_modules)');
      reloaded = deferred<void>();
      unchanged = deferred<string>();
      writeFileSync(join(dir, 'lib', 'new.js'), 'export const n = 1;\n');
      await reloaded.promise;
      assert.deepEqual(reloads, [entry, entry], 'a new file is a change');
    } finally {
      watcher.close();
    }
  });

  it('makes one more reload after a change that lands during one, and reports a failed reload', async () => {
    const started: Array<{ resolve: (r: ReloadReport) => void; reject: (e: Error) => void }> = [];
    let began = deferred<void>();
    const failed = deferred<unknown>();
    const reloaded = deferred<ReloadReport>();
    const watcher = new PackageWatcher(
      [entry],
      (spec) =>
        new Promise<ReloadReport>((resolve, reject) => {
          started.push({ resolve: (r) => resolve({ ...r, spec }), reject });
          began.resolve();
        }),
      { reloaded: (_spec, report) => reloaded.resolve(report), failed: (_spec, error) => failed.resolve(error) },
      { debounceMs: 10 },
    );
    try {
      writeFileSync(entry, 'export const a = 2;\n');
      await began.promise;
      began = deferred<void>();
      // A change while the first reload runs: no second reload at once, one after it.
      writeFileSync(entry, 'export const a = 3;\n');
      started[0]!.reject(new Error('the first version did not load'));
      assert.match(String(await failed.promise), /the first version did not load/);
      await began.promise;
      assert.equal(started.length, 2);
      started[1]!.resolve(REPORT(entry, 3));
      assert.equal((await reloaded.promise).version, 3);
    } finally {
      watcher.close();
    }
  });

  it('refuses an entry that names no module, and watches nothing then', () => {
    assert.throws(
      () => new PackageWatcher([entry, 'nonsense'], () => Promise.reject(new Error('no')), { reloaded: () => undefined, failed: () => undefined }),
      /"nonsense" is neither a built-in package .* nor a module path/,
    );
  });
});

describe('PackageWatcher on a machine whose LSA runs in an OS process of its own', () => {
  it('loads the new version when the package’s files change', async () => {
    const pkg = ReloadablePackage.create('Watched', 'one');
    const machine = await Machine.boot({ packages: ['example', pkg.entry], lsaIsolation: 'process', trace: false });
    const reloaded = deferred<ReloadReport>();
    const watcher = new PackageWatcher([pkg.entry], (spec) => machine.lsa.reloadPackage(spec), {
      reloaded: (_spec, report) => reloaded.resolve(report),
      failed: (_spec, error) => assert.fail(String(error)),
    });
    try {
      const client = await machine.spawn('client');
      pkg.setComment('two');
      const report = await reloaded.promise;
      assert.match(describeReload(report), /^reloaded Watched: v2 from file:\/\/.*\/index\.js\?v=2 \(v1 unloaded: 0 contexts and 0 credentials closed\)$/);
      assert.equal((await client.sspi.querySecurityPackageInfo('Watched')).info?.Comment, 'two');
    } finally {
      watcher.close();
      await machine.shutdown();
      pkg.remove();
    }
  });
});
