// sspi-emu check over whole packages: the built-in ones pass every check (Negotiate with NTLM's
// user-mode half, the context it maps), a package from outside passes too, and a module that does
// not load, or a name that is not loaded, fails `load` alone, the rest not run.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHECK_NAMES, runCheck, type CheckReport } from '../../check/index.js';
import { fixturePackage } from '../helpers/machine.js';

function outcomes(report: CheckReport, name: string): Record<string, string> {
  const p = report.packages.find((x) => x.name === name);
  assert.ok(p !== undefined, `${name} was checked: ${report.packages.map((x) => x.name).join(', ')}`);
  return Object.fromEntries(p.checks.map((c) => [c.name, c.outcome]));
}

describe('sspi-emu check over packages', () => {
  for (const pkg of ['example', 'ntlm', 'negotiate']) {
    it(`passes the built-in ${pkg} package on every check, none skipped`, async () => {
      const report = await runCheck({ load: [], package: pkg });
      assert.equal(report.packages.length, 1);
      const checks = report.packages[0]!.checks;
      assert.deepEqual(
        checks.map((c) => c.name),
        CHECK_NAMES,
        'every check, in the catalogue order',
      );
      assert.deepEqual(
        checks.filter((c) => c.outcome !== 'pass').map((c) => `${c.name}: ${c.outcome} ${c.detail}`),
        [],
      );
      assert.equal(report.ok, true);
      assert.deepEqual(report.failed, []);
      for (const c of checks) assert.ok(c.why.length > 20 && c.detail.length > 0, `${c.name} says why it matters and what it saw`);
    });
  }

  it('checks a package loaded from a module it knows nothing of, and only that one', async () => {
    const report = await runCheck({ load: [fixturePackage('renamed')] });
    assert.deepEqual(
      report.packages.map((p) => p.name),
      ['Renamed'],
    );
    assert.ok(report.ok, JSON.stringify(report.failed));
    assert.equal(Object.values(outcomes(report, 'Renamed')).filter((o) => o !== 'pass').length, 0);
  });

  it('checks every package of several modules, each on a machine of its own, and names each failure by package', async () => {
    const report = await runCheck({ load: [fixturePackage('renamed'), fixturePackage('no-sizes')] });
    assert.deepEqual(
      report.packages.map((p) => [p.name, p.ok]),
      [
        ['Renamed', true],
        ['NoSizes', false],
      ],
    );
    assert.deepEqual(report.failed, ['NoSizes: attributes.sizes', 'NoSizes: apps.default']);
    assert.equal(report.ok, false);
  });

  it('picks one package by name among the loaded ones (any case)', async () => {
    const report = await runCheck({ load: [fixturePackage('renamed'), fixturePackage('no-sizes')], package: 'renamed' });
    assert.deepEqual(
      report.packages.map((p) => p.name),
      ['Renamed'],
    );
  });

  const notLoaded = [
    {
      what: 'a module that exports no SpLsaModeInitialize',
      load: [fixturePackage('no-entry')],
      reason: /failed at SpLsaModeInitialize: not a package: the module exports no SpLsaModeInitialize function/,
    },
    { what: 'a module that is not there', load: ['/nonexistent/package.js'], reason: /failed at resolve: no such file: .*nonexistent\/package\.js/ },
    { what: 'a package whose SpInitialize fails', load: [fixturePackage('fail-init')], reason: /failed at SpInitialize/ },
  ];
  for (const { what, load, reason } of notLoaded)
    it(`fails load alone, the rest not run, for ${what}`, async () => {
      const report = await runCheck({ load });
      assert.equal(report.packages.length, 1);
      const checks = report.packages[0]!.checks;
      assert.equal(checks[0]!.name, 'load');
      assert.equal(checks[0]!.outcome, 'fail');
      assert.match(checks[0]!.detail, reason);
      assert.ok(checks.slice(1).every((c) => c.outcome === 'skip' && c.detail === 'not run: the package did not load'));
      assert.equal(report.ok, false);
      assert.equal(report.failed.length, 1);
    });

  it('fails load for a package name that nothing loaded, naming what did load', async () => {
    const report = await runCheck({ load: [], package: 'Nope' });
    assert.deepEqual(report.failed, ['Nope: load']);
    assert.match(report.packages[0]!.checks[0]!.detail, /no package named Nope is loaded \(loaded: Example, NTLM, Negotiate\)/);
  });

  it('refuses options that name nothing to check', async () => {
    await assert.rejects(runCheck({ load: [] }), /name a module to load or a package to check/);
  });
});
