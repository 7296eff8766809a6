// A package module that fails to load, as Machine.boot reports it: a PackageLoadError (code
// PACKAGE_LOAD_FAILED) naming each module, stage and reason, unless asked to boot without it
// (onPackageFailure: 'skip'). A module whose top level never settles fails at its deadline and the
// LSA goes on; one whose top level never yields is named by the machine's boot deadline.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Machine, PackageLoadError, SspiEmuError, sspi } from '../../index.js';
import { fixturePackage, withMachine } from '../helpers/machine.js';
import { status } from '../helpers/calls.js';

let dir: string;
const module = (name: string): string => join(dir, name);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sspi-emu-load-'));
  await writeFile(module('throws.mjs'), 'throw new Error("thrown at import on purpose");\n');
  await writeFile(module('syntax.mjs'), 'export const x = ;\n');
  await writeFile(module('not-a-package.mjs'), 'export const answer = 42;\n');
  await writeFile(module('forever.mjs'), 'await new Promise(() => {});\nexport const never = true;\n');
  await writeFile(module('loop.mjs'), 'for (;;) {}\n');
  // A project without "type": "module": Node reads its .js files as CommonJS.
  await mkdir(module('cjs'));
  await writeFile(module('cjs/package.json'), '{ "name": "cjs-package" }\n');
  await writeFile(module('cjs/index.js'), 'module.exports = { ...{ SpLsaModeInitialize() {} } };\n');
});
after(() => rm(dir, { recursive: true, force: true }));

describe('Machine.boot with a package module that fails to load', () => {
  it('rejects with PACKAGE_LOAD_FAILED naming each module, its stage and the reason', async () => {
    const packages = [
      'example',
      module('missing.js'),
      module('throws.mjs'),
      module('syntax.mjs'),
      module('not-a-package.mjs'),
      module('cjs/index.js'),
      'nosuchbuiltin',
    ];
    const error = await Machine.boot({ packages, trace: false }).then(
      () => assert.fail('the boot succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PackageLoadError, String(error));
    assert.ok(error instanceof SspiEmuError);
    assert.equal(error.code, 'PACKAGE_LOAD_FAILED');
    const byModule = Object.fromEntries(error.failures.map((f) => [f.spec.replace(dir, ''), [f.stage, f.reason]]));
    assert.deepEqual(Object.keys(byModule), ['/missing.js', '/throws.mjs', '/syntax.mjs', '/not-a-package.mjs', '/cjs/index.js', 'nosuchbuiltin']);
    assert.equal(byModule['/missing.js']![0], 'resolve');
    assert.match(byModule['/missing.js']![1], /^no such file: .*missing\.js$/);
    assert.deepEqual(byModule['/throws.mjs'], ['import', 'thrown at import on purpose']);
    assert.equal(byModule['/syntax.mjs']![0], 'import');
    assert.match(byModule['/syntax.mjs']![1], /^SyntaxError: Unexpected token ';' at .*syntax\.mjs:1: export const x = ;$/);
    assert.equal(byModule['/not-a-package.mjs']![0], 'SpLsaModeInitialize');
    assert.match(byModule['/not-a-package.mjs']![1], /^not a package: the module exports no SpLsaModeInitialize function \(it exports answer\)$/);
    assert.match(
      byModule['/cjs/index.js']![1],
      /it exports default\); Node reads .*cjs\/index\.js as CommonJS because .*cjs\/package\.json has no "type": "module"/,
    );
    assert.equal(byModule.nosuchbuiltin![0], 'resolve');
    // The message: one line per failure, each naming the module, the stage and the reason.
    const lines = error.message.split('\n');
    assert.equal(lines.length, 6);
    assert.match(lines[1]!, /^package module .*throws\.mjs failed to load at import: thrown at import on purpose$/);
  });

  it('reports a built-in package that fails to initialize as well', async () => {
    await assert.rejects(Machine.boot({ packages: ['example', 'ntlm'], packageSettings: { ntlm: { lmCompatibility: 5 } }, trace: false }), {
      name: 'SspiEmuError',
      code: 'PACKAGE_LOAD_FAILED',
      message: /^package module ntlm\[0\] failed to load at SpInitialize: .*unknown NTLM setting "lmCompatibility"/,
    });
  });

  it("boots without it with onPackageFailure: 'skip', lists it, and names it when a call asks for a package that is not loaded", async () => {
    await withMachine({ packages: ['example', module('throws.mjs')], onPackageFailure: 'skip' }, async (machine) => {
      const report = await machine.lsa.packages();
      assert.deepEqual(
        report.loaded.map((p) => p.name),
        ['Example'],
      );
      assert.deepEqual(
        report.failed.map((f) => [f.stage, f.reason]),
        [['import', 'thrown at import on purpose']],
      );
      const client = await machine.spawn('client');
      const acquired = await client.sspi.acquireCredentialsHandle({ package: 'Thrower', credentialUse: sspi.SECPKG_CRED.OUTBOUND });
      assert.equal(status(acquired), 'SEC_E_SECPKG_NOT_FOUND');
      assert.equal(acquired.cause?.code, 'PACKAGE_NOT_LOADED');
      assert.match(
        acquired.cause?.message ?? '',
        /^no package named "Thrower" is loaded \(loaded: Example\); failed to load: .*throws\.mjs at import: thrown at import on purpose$/,
      );
      const info = await client.sspi.querySecurityPackageInfo('Thrower');
      assert.equal(status(info), 'SEC_E_SECPKG_NOT_FOUND');
      assert.match(info.cause?.message ?? '', /failed to load: .*throws\.mjs/);
    });
  });

  it('refuses an onPackageFailure or packageLoadTimeoutMs it does not know', async () => {
    await assert.rejects(Machine.boot({ onPackageFailure: 'maybe' as 'skip' }), { code: 'BAD_OPTION', message: /onPackageFailure is 'fail' or 'skip'/ });
    await assert.rejects(Machine.boot({ packageLoadTimeoutMs: 0 }), {
      code: 'BAD_OPTION',
      message: /packageLoadTimeoutMs must be a whole number of ms from 1/,
    });
  });
});

describe('a package module whose top level never settles', () => {
  it('fails to load at its deadline, and the LSA goes on with the others and serves', async () => {
    const packages = ['example', module('forever.mjs'), fixturePackage('probe')];
    const error = await Machine.boot({ packages, packageLoadTimeoutMs: 1_500, trace: false }).then(
      () => assert.fail('the boot succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PackageLoadError, String(error));
    assert.equal(error.failures.length, 1);
    assert.equal(error.failures[0]!.stage, 'import');
    assert.match(error.failures[0]!.reason, /^its top level did not settle within 1500 ms/);

    await withMachine({ packages, packageLoadTimeoutMs: 1_500, onPackageFailure: 'skip' }, async (machine) => {
      const report = await machine.lsa.packages();
      assert.deepEqual(
        report.loaded.map((p) => p.name),
        ['Example', 'Probe'],
        'the modules after it loaded too',
      );
      const client = await machine.spawn('client');
      const listed = await client.sspi.enumerateSecurityPackages();
      assert.equal(status(listed), 'SEC_E_OK');
    });
  });
});

describe('a package module whose top level never yields', () => {
  it('is named by the boot deadline: the machine terminates the LSA and the boot fails', { timeout: 60_000 }, async () => {
    await assert.rejects(Machine.boot({ packages: [module('loop.mjs')], bootTimeoutMs: 5_000, trace: false }), (error: unknown) => {
      assert.ok(error instanceof SspiEmuError);
      assert.equal(error.code, 'BOOT_FAILED');
      assert.match(error.message, /the LSA stopped at import of package module .*loop\.mjs for \d+ ms \(its deadline: 5000 ms\)/);
      assert.match(error.message, /a synchronous loop in the module's top level .* cannot be interrupted there; the machine terminated the LSA$/);
      return true;
    });
  });
});
