// A package module the user named that fails to load, on every command that loads packages: one
// line on stderr per failure naming the module, the stage and the reason, and exit status 1,
// before anything runs. `packages`, which exists to show failures, lists them and exits 1 too.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sspiEmu } from '../helpers/cli.js';

let dir: string;
let missing: string;
let throws: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sspi-emu-cli-load-'));
  missing = join(dir, 'missing.js');
  throws = join(dir, 'throws.mjs');
  await writeFile(throws, 'throw new Error("thrown at import on purpose");\n');
});
after(() => rm(dir, { recursive: true, force: true }));

describe('a package module that fails to load, on the command line', { timeout: 120_000 }, () => {
  const commands: Array<{ name: string; args: () => string[] }> = [
    { name: 'run', args: () => ['run', '--quiet', '--load', missing] },
    { name: 'run --json', args: () => ['run', '--json', '--load', missing] },
    { name: 'serve', args: () => ['serve', '--http', '--port', '0', '--load', missing] },
    { name: 'connect', args: () => ['connect', '--tcp', '127.0.0.1:1', '--user', 'a', '--password', 'b', '--load', missing] },
    { name: 'fetch', args: () => ['fetch', 'http://127.0.0.1:1/', '--user', 'a', '--password', 'b', '--load', missing] },
    { name: 'soak', args: () => ['soak', '--package', missing, '--duration', '1'] },
  ];
  for (const { name, args } of commands) {
    it(`${name}: exits 1 with a line naming the module, the stage and the reason, and runs nothing`, async () => {
      const { code, stdout, stderr } = await sspiEmu(args());
      assert.equal(code, 1, stdout + stderr);
      assert.equal(stderr, `sspi-emu: package module ${missing} failed to load at resolve: no such file: ${missing}\n`);
      assert.equal(stdout, '', 'nothing ran');
    });
  }

  it('run: one line per module that failed, a throw at import with its message', async () => {
    const { code, stderr } = await sspiEmu(['run', '--quiet', '--load', missing, '--load', throws]);
    assert.equal(code, 1);
    assert.deepEqual(stderr.trimEnd().split('\n'), [
      `sspi-emu: package module ${missing} failed to load at resolve: no such file: ${missing}`,
      `sspi-emu: package module ${throws} failed to load at import: thrown at import on purpose`,
    ]);
  });

  it('run --package NAME for a package that is not loaded says what is loaded', async () => {
    const { code, stdout } = await sspiEmu(['run', '--quiet', '--package', 'Nope']);
    assert.equal(code, 1);
    assert.match(
      stdout,
      /^SEC_E_SECPKG_NOT_FOUND: (client|server): AcquireCredentialsHandle\(Nope\) failed: no package named "Nope" is loaded \(loaded: Example, NTLM, Negotiate\)/,
    );
  });

  it('packages: lists what loaded on stdout, each failure on stderr, and exits 1', async () => {
    const { code, stdout, stderr } = await sspiEmu(['packages', '--load', throws]);
    assert.equal(code, 1);
    assert.match(stdout, /^Example \(package id 0\)/m);
    assert.equal(stderr, `sspi-emu packages: package module ${throws} failed to load at import: thrown at import on purpose\n`);
    const json = await sspiEmu(['packages', '--json', '--load', throws]);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { failed: Array<{ spec: string; stage: string; reason: string }> };
    assert.deepEqual(report.failed, [{ spec: throws, stage: 'import', reason: 'thrown at import on purpose' }]);
  });

  it('packages: exits 0 when everything loaded', async () => {
    const { code, stderr } = await sspiEmu(['packages']);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  });
});
