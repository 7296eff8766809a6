// The watcher behind run --watch and serve --watch: real files, real fs.watch; a reload when a
// module file's content changes (not when it is written as it was, not for node_modules), one
// more after a change that lands during a reload, the failure of one reported; and with a real
// machine whose LSA runs in an OS process of its own, the new version in place.

import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/** `promise`, or a failure when the test is stopped first (its timeout), so that it ends and closes what it opened instead of waiting on. */
function orStopped<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = (): void => reject(new Error(`no ${what} before the test was stopped`));
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', stop);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', stop);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** The fs.watch handles open in this process. */
const watchHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;

/** One turn of the event loop, twice: a closed handle is gone after its close callbacks have run. */
const closeCallbacksRun = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

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

  // A save that writes a new file and renames it over the old one (sed -i, vim with backupcopy=no,
  // many IDEs): Node 20's recursive fs.watch on Linux watched each file, kept the watch of the
  // file replaced, and saw the first such save only.
  it('reloads for every save that replaces a file by a rename, and after a directory is replaced or made', { timeout: 30_000 }, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'sspi-emu-watch-rename-'));
    const main = join(root, 'index.js');
    const lib = join(root, 'lib');
    mkdirSync(lib);
    mkdirSync(join(root, 'node_modules'));
    writeFileSync(main, 'export const a = 1;\n');
    writeFileSync(join(lib, 'x.js'), 'export const x = 1;\n');
    await closeCallbacksRun(); // the watches of the tests before, closed, gone
    const baseline = watchHandles();
    let reloads = 0;
    let reloaded = deferred<void>();
    const watcher = new PackageWatcher(
      [main],
      (spec) => {
        reloads++;
        return Promise.resolve(REPORT(spec, reloads + 1));
      },
      { reloaded: () => reloaded.resolve(), failed: (_spec, error) => assert.fail(String(error)) },
      { debounceMs: 10 },
    );
    /** Makes a save and waits for its reload: exactly one. */
    const saved = async (what: string, save: () => void): Promise<void> => {
      const before = reloads;
      reloaded = deferred<void>();
      save();
      await orStopped(reloaded.promise, t.signal, `reload for ${what}`);
      assert.equal(reloads, before + 1, `one reload for ${what}`);
    };
    /** A save as an editor that writes a new file and renames it over the old one makes it. */
    const replace = (file: string, text: string): void => {
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
    };
    try {
      for (let i = 2; i <= 4; i++) await saved(`save ${i - 1} of lib/x.js by a rename`, () => replace(join(lib, 'x.js'), `export const x = ${i};\n`));
      for (let i = 2; i <= 3; i++) await saved(`save ${i - 1} of index.js by a rename`, () => replace(main, `export const a = ${i};\n`));
      await saved('an append to lib/x.js after the renames', () => appendFileSync(join(lib, 'x.js'), '// appended\n'));
      // lib replaced: another directory under its name, whose files are then written in place.
      await saved('lib removed and made again', () => {
        rmSync(lib, { recursive: true });
        mkdirSync(lib);
        writeFileSync(join(lib, 'x.js'), 'export const x = 5;\n');
      });
      await saved('a write in the new lib', () => writeFileSync(join(lib, 'x.js'), 'export const x = 6;\n'));
      await saved('a file in a new directory', () => {
        mkdirSync(join(root, 'more'));
        writeFileSync(join(root, 'more', 'y.js'), 'export const y = 1;\n');
      });
      await saved('a save of it by a rename', () => replace(join(root, 'more', 'y.js'), 'export const y = 2;\n'));
      assert.equal(reloads, 10);
      // Windows and macOS: fs.watch's recursive, one watch of the folder; elsewhere one per directory.
      const perDirectory = process.platform !== 'win32' && process.platform !== 'darwin';
      assert.equal(
        watchHandles() - baseline,
        perDirectory ? 3 : 1,
        'one watch per directory (the folder, the new lib, more; not node_modules, not each file): the old lib’s closed',
      );
    } finally {
      watcher.close();
      rmSync(root, { recursive: true, force: true });
    }
    await closeCallbacksRun();
    assert.equal(watchHandles(), baseline, 'close() leaves no watch open');
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
