// `sspi-emu new-package` as a user runs it: what it prints, and its exit status.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sspiEmu } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'sspi-emu-cli-new-package-'));

describe('sspi-emu new-package', () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('writes the project, lists its files and says what to do next', async () => {
    const dir = join(work, 'contoso');
    const { code, stdout } = await sspiEmu(['new-package', 'Contoso', dir, '--sspi-emu', 'github:someone/sspi-emu']);
    assert.equal(code, 0, stdout);
    assert.match(stdout, new RegExp(`^wrote ${dir} \\(package Contoso, sspi-emu github:someone/sspi-emu\\):\n`));
    assert.match(stdout, /^ {2}src\/lsa\.ts$/m);
    assert.match(stdout, /npm test +# builds, then runs sspi-emu check on the package/);
    assert.ok(existsSync(join(dir, 'src', 'index.ts')));
  });

  it('exits 1 with the reason for a name it refuses, 2 without a name', async () => {
    const refused = await sspiEmu(['new-package', 'NTLM', join(work, 'ntlm')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^sspi-emu new-package: NTLM is taken/);
    assert.equal(existsSync(join(work, 'ntlm')), false);
    const missing = await sspiEmu(['new-package']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /new-package needs a NAME/);
  });
});
