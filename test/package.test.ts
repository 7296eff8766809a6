// sspi-emu as a dependency: what `npm pack` ships (the built code and its declarations, the
// README, the example package's sources that `new-package` copies; no tests, no other sources, no
// build state), that every entry of "exports" and "bin" is in it,
// and that the scripts build through one incremental build (tsc -b), so that `npm ci && npm test`
// or `npm ci && npm start` compiles once and the later builds find it up to date.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(new URL('package.json', `file://${ROOT}`), 'utf8')) as {
  exports: Record<string, { types: string; default: string }>;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

/** The files `npm pack` would put in the tarball (no scripts run). */
function packed(): Promise<string[]> {
  return new Promise((resolve, reject) =>
    execFile('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 64 << 20 }, (error, stdout) => {
      if (error !== null) return reject(error);
      resolve((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
    }),
  );
}

describe('the npm package', { timeout: 60_000 }, () => {
  it("ships the built code, its declarations, the README and new-package's template, and no tests, other sources or build state", async () => {
    const files = await packed();
    assert.deepEqual(
      files.filter((f) => f.startsWith('dist/test/') || f.startsWith('test/')),
      [],
      'no tests',
    );
    assert.deepEqual(
      files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('packages/example/')),
      [],
      'no TypeScript sources but the template new-package copies',
    );
    assert.deepEqual(
      files.filter((f) => f.includes('tsbuildinfo')),
      [],
      'no build state',
    );
    assert.deepEqual(
      files.filter((f) => !f.startsWith('dist/') && !f.startsWith('packages/example/')).sort(),
      ['README.md', 'package.json'],
    );
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/packages/example/index.js', 'dist/lsa/worker.js', 'dist/process/worker.js'])
      assert.ok(files.includes(f), f);
  });

  it('has every "exports" target and the bin in it', async () => {
    const files = new Set(await packed());
    const targets = Object.values(manifest.exports).flatMap((e) => [e.types, e.default]);
    for (const target of targets) {
      // "./headers/*" stands for every header module.
      const pattern = new RegExp(`^${target.replace(/^\.\//, '').replace(/[.]/g, '\\.').replace('*', '[^/]+')}$`);
      assert.ok(
        [...files].some((f) => pattern.test(f)),
        `${target} is packed`,
      );
    }
    for (const bin of Object.values(manifest.bin)) assert.ok(files.has(bin), bin);
  });

  it('builds through one incremental build: prepare, prestart and pretest run `npm run build`, which is tsc -b', () => {
    assert.match(manifest.scripts.build!, /^tsc -b tsconfig\.json\b/);
    for (const script of ['prepare', 'prestart', 'pretest']) assert.match(manifest.scripts[script]!, /^npm run build\b/, script);
    // The type tests check only themselves when the sources have not changed (build mode too).
    assert.match(manifest.scripts.pretest!, /&& tsc -b test\/types\/tsconfig\.json$/);
  });
});
