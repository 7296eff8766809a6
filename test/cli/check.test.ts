// `sspi-emu check` as a user runs it: the table, --json, and the exit status.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHECK_NAMES } from '../../check/index.js';
import { sspiEmu } from '../helpers/cli.js';
import { fixturePackage } from '../helpers/machine.js';

describe('sspi-emu check', () => {
  it('prints one line per check and exits 0 when every check passes', async () => {
    const { code, stdout } = await sspiEmu(['check', '--load', fixturePackage('renamed')]);
    assert.equal(code, 0, stdout);
    for (const name of CHECK_NAMES) assert.match(stdout, new RegExp(`^  pass  ${name.replace('.', '\\.')} `, 'm'));
    assert.match(stdout, /30 passed, 0 failed, 0 skipped\n\nall checks passed\n$/);
  });

  it('exits 1 naming the failures, each with why it matters', async () => {
    const { code, stdout } = await sspiEmu(['check', '--load', fixturePackage('no-sizes')]);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^  FAIL  attributes\.sizes +QueryContextAttributes\(SECPKG_ATTR_SIZES\) answered SEC_E_UNSUPPORTED_FUNCTION/m);
    assert.match(stdout, /why it matters: applications size signature and trailer buffers/);
    assert.match(stdout, /failed: NoSizes: attributes\.sizes, NoSizes: apps\.default\n$/);
  });

  it('gives the same as data with --json, and names the failures on stderr', async () => {
    const { code, stdout, stderr } = await sspiEmu(['check', '--json', '--load', fixturePackage('no-sizes')]);
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as {
      ok: boolean;
      failed: string[];
      packages: Array<{ name: string; checks: Array<{ name: string; outcome: string; why: string; detail: string }> }>;
    };
    assert.equal(report.ok, false);
    assert.deepEqual(report.failed, ['NoSizes: attributes.sizes', 'NoSizes: apps.default']);
    assert.deepEqual(
      report.packages[0]!.checks.map((c) => c.name),
      CHECK_NAMES,
    );
    assert.ok(report.packages[0]!.checks.every((c) => ['pass', 'fail', 'skip'].includes(c.outcome) && c.why.length > 0));
    assert.equal(stderr, 'sspi-emu check: failed: NoSizes: attributes.sizes, NoSizes: apps.default\n');
  });

  it('checks a built-in package by name', async () => {
    const { code, stdout } = await sspiEmu(['check', '--package', 'ntlm']);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^NTLM \(/);
  });

  it('is a usage error (2) without --load or --package, or with a --timeout that is no time', async () => {
    const { code, stderr } = await sspiEmu(['check']);
    assert.equal(code, 2);
    assert.match(stderr, /check needs --load MODULE or --package NAME/);
    const zero = await sspiEmu(['check', '--package', 'ntlm', '--timeout', '0']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--timeout takes milliseconds from 1 to 600000, not "0"/);
  });
});
