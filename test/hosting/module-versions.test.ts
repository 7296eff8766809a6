// Importing version N of a package module in a thread that has version 1: the entry and the files
// it imports from its own folder are read again; files outside it and under node_modules stay the
// instances the thread has. Run in a worker thread of its own (module hooks are per thread).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { moduleVersion, versionedUrl } from '../../hosting/module-versions.js';

const VERSIONS = new URL('../../hosting/module-versions.js', import.meta.url).href;

describe('module versions', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sspi-emu-versions-'));
    const pkg = join(root, 'pkg');
    mkdirSync(join(pkg, 'lib'), { recursive: true });
    mkdirSync(join(pkg, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
    const stamp = 'export const stamp = Symbol();\n';
    writeFileSync(join(root, 'shared.js'), stamp);
    writeFileSync(join(pkg, 'own.js'), stamp);
    writeFileSync(join(pkg, 'lib', 'deep.js'), `${stamp}export { stamp as own } from '../own.js';\n`);
    writeFileSync(join(pkg, 'node_modules', 'dep', 'package.json'), '{ "name": "dep", "type": "module", "main": "index.js" }\n');
    writeFileSync(join(pkg, 'node_modules', 'dep', 'index.js'), stamp);
    writeFileSync(
      join(pkg, 'index.js'),
      `export { stamp as own } from './own.js';\nexport { stamp as deep, own as deepOwn } from './lib/deep.js';\n` +
        `export { stamp as shared } from '../shared.js';\nexport { stamp as dep } from 'dep';\n`,
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('names version N with ?v=N, and version 1 without it', () => {
    const url = new URL('file:///a/b/index.js');
    assert.equal(versionedUrl(url, 1).href, 'file:///a/b/index.js');
    assert.equal(versionedUrl(url, 7).href, 'file:///a/b/index.js?v=7');
    assert.equal(moduleVersion('file:///a/b/index.js?v=7'), 7);
    assert.equal(moduleVersion('file:///a/b/index.js'), 1);
  });

  it('reads the entry and its own folder again for a new version, and shares the rest', async () => {
    const entry = pathToFileURL(join(root, 'pkg', 'index.js'));
    const source = `
      import { ensureVersionHooks, versionedUrl } from ${JSON.stringify(VERSIONS)};
      import { parentPort } from 'node:worker_threads';
      const entry = new URL(${JSON.stringify(entry.href)});
      const one = await import(entry.href);
      ensureVersionHooks(versionedUrl(entry, 2).href);
      const two = await import(versionedUrl(entry, 2).href);
      const twoAgain = await import(versionedUrl(entry, 2).href);
      const three = await import(versionedUrl(entry, 3).href);
      const same = (k) => one[k] === two[k];
      parentPort.postMessage({
        own: same('own'), deep: same('deep'), deepOwn: two.deepOwn === two.own, shared: same('shared'), dep: same('dep'),
        cached: twoAgain.own === two.own, three: three.own !== two.own,
      });
    `;
    const worker = new Worker(source, { eval: true });
    const answer = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.deepEqual(answer, { own: false, deep: false, deepOwn: true, shared: true, dep: true, cached: true, three: true });
  });
});
