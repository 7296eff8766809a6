// Each check fails for the flaw it is about, and only those checks fail: the example package with
// one thing wrong (test/fixtures/packages/example-variant.ts), and packages that throw.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCheck } from '../../check/index.js';
import { fixturePackage } from '../helpers/machine.js';

const FLAWED = [
  { fixture: 'no-mapped', name: 'NoMapped', failed: ['handshake.mapped-context', 'apps.default'] },
  { fixture: 'no-sizes', name: 'NoSizes', failed: ['attributes.sizes', 'apps.default'] },
  { fixture: 'hidden-integrity', name: 'HiddenIntegrity', failed: ['info.integrity'] },
  {
    fixture: 'ignores-sequence',
    name: 'IgnoresSequence',
    failed: ['sign.detects-replay', 'sign.detects-reordering', 'seal.detects-replay', 'seal.detects-reordering'],
  },
  { fixture: 'wrong-refusal', name: 'WrongRefusal', failed: ['logon.wrong-password', 'logon.unknown-user', 'statuses.documented'] },
  { fixture: 'leaky', name: 'Leaky', failed: ['secrets.channels'] },
  { fixture: 'small-max-token', name: 'SmallMaxToken', failed: ['info.max-token'] },
  { fixture: 'endless', name: 'Endless', failed: ['handshake.terminates'] },
] as const;

describe('sspi-emu check against flawed packages', () => {
  for (const { fixture, name, failed } of FLAWED)
    it(`fails ${failed.join(', ')} for ${name}, and nothing else`, async () => {
      const report = await runCheck({ load: [fixturePackage(fixture)] });
      assert.deepEqual(
        report.failed,
        failed.map((check) => `${name}: ${check}`),
      );
      assert.equal(report.ok, false);
      for (const c of report.packages[0]!.checks.filter((x) => x.outcome === 'fail')) assert.ok(c.detail.length > 0, `${c.name} says what failed`);
    });

  it('names where the password leaked: the ContextData the LSA sent into each process', async () => {
    const report = await runCheck({ load: [fixturePackage('leaky')] });
    const secrets = report.packages[0]!.checks.find((c) => c.name === 'secrets.channels')!;
    assert.match(secrets.detail, /lsa send on lpc:client \(SpInitLsaModeContext\) at \.body\.mapped\.contextData/);
  });

  it('skips what does not apply and says why: the message checks of a package that hides a capability', async () => {
    const report = await runCheck({ load: [fixturePackage('hidden-integrity')] });
    const skipped = report.packages[0]!.checks.filter((c) => c.outcome === 'skip');
    assert.deepEqual(
      skipped.map((c) => [c.name, c.detail]),
      ['sign.round-trip', 'sign.detects-alteration', 'sign.detects-replay', 'sign.detects-reordering'].map((n) => [
        n,
        'the package does not claim SECPKG_FLAG_INTEGRITY',
      ]),
    );
  });

  it('fails a package whose SpInitLsaModeContext throws on the handshake and its exception, with the message', async () => {
    const report = await runCheck({ load: [fixturePackage('thrower')] });
    const checks = new Map(report.packages[0]!.checks.map((c) => [c.name, c]));
    for (const name of ['handshake.terminates', 'package.exceptions'] as const) {
      assert.equal(checks.get(name)!.outcome, 'fail');
      assert.match(checks.get(name)!.detail, /probe: InitLsaModeContext thrown on purpose/);
    }
    assert.equal(checks.get('handshake.mapped-context')!.outcome, 'skip');
    assert.equal(checks.get('lsa.baseline')!.outcome, 'pass', 'the failed handshakes left nothing behind');
  });

  it('fails a package whose SpInitLsaModeContext never returns, in the time given, and leaves nothing behind', async () => {
    const report = await runCheck({ load: [fixturePackage('hanger')], packageCallTimeoutMs: 1_000 });
    const checks = new Map(report.packages[0]!.checks.map((c) => [c.name, c]));
    for (const name of ['handshake.terminates', 'package.exceptions'] as const) {
      assert.equal(checks.get(name)!.outcome, 'fail');
      assert.match(checks.get(name)!.detail, /PACKAGE_TIMEOUT: Hanger: SpInitLsaModeContext did not return within 1000 ms/);
    }
    assert.equal(checks.get('lsa.baseline')!.outcome, 'pass');
  });

  it('fails a package whose user-mode SealMessage throws on its exception, naming the entry point and the process', async () => {
    const report = await runCheck({ load: [fixturePackage('seal-thrower')] });
    const exceptions = report.packages[0]!.checks.find((c) => c.name === 'package.exceptions')!;
    assert.equal(exceptions.outcome, 'fail');
    assert.match(exceptions.detail, /SpSealMessage in client: .*probe: SealMessage thrown on purpose/);
  });
});
