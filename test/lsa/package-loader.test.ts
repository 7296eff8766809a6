// The package loader, in a real LSA: every "Security Packages" entry is resolved, imported and
// initialized (SpLsaModeInitialize, SpInitialize, SpGetInfo); an entry that fails at any stage is
// skipped with the stage and the reason, and the others load.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '../helpers/calls.js';
import { fixturePackage, withMachine } from '../helpers/machine.js';

describe('the package loader', () => {
  it('skips a package whose SpInitialize fails or whose module is not a package, reports why, and loads the others', async () => {
    const packages = ['example', fixturePackage('fail-init'), fixturePackage('no-entry'), '/nonexistent/package.js', 'nosuchbuiltin', fixturePackage('probe')];
    await withMachine({ packages, onPackageFailure: 'skip' }, async (machine) => {
      const report = await machine.lsa.packages();
      assert.deepEqual(
        report.loaded.map((p) => p.name),
        ['Example', 'Probe'],
      );
      const stages = Object.fromEntries(report.failed.map((f) => [f.spec.replace(/.*\//, ''), f.stage]));
      assert.deepEqual(stages, { 'fail-init.js[0]': 'SpInitialize', 'no-entry.js': 'SpLsaModeInitialize', 'package.js': 'resolve', nosuchbuiltin: 'resolve' });
      assert.match(report.failed.find((f) => f.stage === 'SpInitialize')!.reason, /STATUS_UNSUCCESSFUL/);
      const client = await machine.spawn('client');
      assert.equal(status(await client.sspi.querySecurityPackageInfo('FailInit')), 'SEC_E_SECPKG_NOT_FOUND');
    });
  });

  it('traces each stage of each load in the LSA, SpGetInfo included, and a failed load with its stage and reason', async () => {
    await withMachine({ packages: ['example', fixturePackage('fail-init')], trace: true, onPackageFailure: 'skip' }, async (machine) => {
      const events = (await machine.events()).filter((e) => e.process === 'lsa');
      const stages = events
        .filter((e) => e.phase === 'return' && ['SpLsaModeInitialize', 'SpInitialize', 'SpGetInfo', 'SpGetExtendedInformation'].includes(e.call))
        .map((e) => `${e.call} ${e.status}`);
      assert.deepEqual(stages, [
        'SpLsaModeInitialize SEC_E_OK',
        'SpInitialize SEC_E_OK',
        'SpGetInfo SEC_E_OK',
        'SpGetExtendedInformation SEC_E_OK',
        'SpLsaModeInitialize SEC_E_OK',
        'SpInitialize STATUS_UNSUCCESSFUL',
      ]);
      const getInfo = events.find((e) => e.call === 'SpGetInfo' && e.phase === 'call');
      assert.equal(getInfo?.detail, 'example[0]', 'the call names the package it was made for');
      const failed = events.filter((e) => e.call === 'PackageLoadFailed');
      assert.equal(failed.length, 1);
      assert.match(failed[0]!.detail ?? '', /fail-init\.js\[0\]: SpInitialize: returned STATUS_UNSUCCESSFUL$/);
    });
  });
});
