// Importing a package module: the reasons a failed import gives say what to change (the file the
// author likely meant, the directory's index, compiling TypeScript, where a syntax error is, why a
// file was read as CommonJS), and a top level that never settles fails at its deadline.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { importPackageModule } from '../../lsa/package-import.js';
import { resolvePackageSpec } from '../../lsa/index.js';

let dir: string;
const path = (name: string): string => join(dir, name);

async function failure(name: string, deadlineMs = 10_000): Promise<{ stage: string; reason: string }> {
  const imported = await importPackageModule(name, resolvePackageSpec(path(name)), deadlineMs);
  assert.ok(!imported.ok, `${name} imported`);
  return imported.failure;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sspi-emu-import-'));
  await writeFile(path('package.json'), '{ "type": "module" }\n');
  await writeFile(path('my-package.js'), 'export const SpLsaModeInitialize = () => ({});\n');
  await mkdir(path('pkg'));
  await writeFile(path('pkg/index.js'), 'export {};\n');
  await writeFile(path('source.ts'), 'export const x: number = 1;\n');
  await writeFile(path('broken.js'), 'export const x = ;\n');
  await writeFile(path('imports-broken.js'), 'import "./broken.js";\nexport const ok = true;\n');
  await writeFile(path('imports-imports-broken.js'), "import { ok } from './fine.js';\nexport { ok2 } from './imports-broken.js';\nexport const x = ok;\n");
  await writeFile(path('fine.js'), 'export const ok = 1;\n');
  await writeFile(path('old.cjs'), 'import "node:fs";\n');
  await writeFile(path('pending.js'), 'await new Promise(() => {});\n');
  // A project without "type": "module", whose file has import statements: CommonJS to Node 20
  // (or, from 20.19, an ES module detected with a warning; this one also uses require).
  await mkdir(path('cjs'));
  await writeFile(path('cjs/package.json'), '{ "name": "cjs" }\n');
  await writeFile(path('cjs/index.js'), 'const fs = require("node:fs");\nexport const x = 1;\n');
});
after(() => rm(dir, { recursive: true, force: true }));

describe('importing a package module', () => {
  it('names a missing file, and the file with its extension when that exists', async () => {
    assert.deepEqual(await failure('my-package'), {
      stage: 'resolve',
      reason: `no such file: ${path('my-package')} (did you mean ${path('my-package.js')}? ES modules are named with their extension)`,
    });
    assert.deepEqual(await failure('nothing.js'), { stage: 'resolve', reason: `no such file: ${path('nothing.js')}` });
  });

  it('names a directory, and its index', async () => {
    assert.deepEqual(await failure('pkg'), { stage: 'resolve', reason: `${path('pkg')} is a directory; name the module file (${path('pkg/index.js')}?)` });
  });

  it('says that TypeScript is compiled first', async () => {
    const { stage, reason } = await failure('source.ts');
    assert.equal(stage, 'import');
    assert.match(reason, /ERR_UNKNOWN_FILE_EXTENSION.*: Node 20 does not run TypeScript; compile source\.ts \(tsc\) and load the \.js it emits$/);
  });

  it('gives a syntax error its file, line and source, or says it is in a module it imports', async () => {
    const own = await failure('broken.js');
    assert.equal(own.stage, 'import');
    assert.match(own.reason, new RegExp(`^SyntaxError: .* at ${path('broken.js').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1: export const x = ;$`));
    // One it imports, or one that module imports: that module's file, line and source.
    const inImported = new RegExp(`^SyntaxError: .* in a module it imports, at ${path('broken.js').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1: export const x = ;$`);
    assert.match((await failure('imports-broken.js')).reason, inImported);
    assert.match((await failure('imports-imports-broken.js')).reason, inImported);
  });

  it('says why Node read a file as CommonJS', async () => {
    assert.match((await failure('old.cjs')).reason, /Node reads .*old\.cjs as CommonJS \(\.cjs\); sspi-emu loads packages as ES modules/);
    assert.match(
      (await failure('cjs/index.js')).reason,
      /Node reads .*cjs\/index\.js as CommonJS because .*cjs\/package\.json has no "type": "module"; add it/,
    );
  });

  it('stops waiting for a top level that does not settle within the deadline', async () => {
    assert.deepEqual(await failure('pending.js', 200), {
      stage: 'import',
      reason: 'its top level did not settle within 200 ms (a top-level await that never finishes?); the LSA goes on without it',
    });
  });

  it('imports a module that is fine', async () => {
    const imported = await importPackageModule('my-package.js', pathToFileURL(path('my-package.js')), 10_000);
    assert.ok(imported.ok);
    assert.equal(typeof imported.module.SpLsaModeInitialize, 'function');
  });
});
