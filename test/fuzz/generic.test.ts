// The generic generators across the real workers: a package the fuzzer has never seen, loaded from
// a module (a fixture with a parsing bug: a token shorter than 20 bytes makes its
// SpAcceptLsaModeContext throw), found from a seed, with the input, the answer and the command that
// replays it; the replay finds it again; and the example package fuzzed generically, with the LSA
// in its own OS process, holds every invariant.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatFuzzReport, offences, runFuzz } from '../../fuzz/index.js';
import { fixturePackage } from '../helpers/machine.js';

const THROWER = fixturePackage('short-token-thrower');

describe('fuzzing a loaded package with the generic generators', () => {
  it('finds the package’s SEC_E_INTERNAL_ERROR on a short token, names the input and the command that replays it, and the replay finds it', async () => {
    const report = await runFuzz({
      packages: [{ key: 'ShortTokenThrower', packageName: 'ShortTokenThrower', sets: ['generic'] }],
      load: [THROWER],
      iterations: 140,
      seed: 7,
      targets: ['tokens'],
      lanes: 4,
    });
    assert.equal(report.ok, false);
    const [pkg] = report.packages;
    assert.deepEqual(
      pkg!.generators.map((g) => g.generator),
      ['generic/accept-token', 'generic/initialize-token', 'generic/initialize'],
    );
    const accept = pkg!.generators[0]!;
    assert.ok(accept.internalErrors > 0);
    assert.equal(accept.exceptions + accept.undocumented + accept.expectations + accept.cleanup, 0, JSON.stringify(accept.offenders));
    for (const g of pkg!.generators.slice(1)) assert.equal(offences(g), 0, `${g.generator}: ${JSON.stringify(g.offenders)}`);
    assert.equal(pkg!.lsaAlive, true);
    assert.equal(pkg!.goodHandshake, 'SEC_E_OK');
    assert.deepEqual(pkg!.lsa.after, pkg!.lsa.before);

    const first = report.firstOffender!;
    assert.equal(first.kind, 'internal-error');
    assert.equal(first.package, 'ShortTokenThrower');
    assert.match(
      first.detail,
      /^AcceptSecurityContext answered SEC_E_INTERNAL_ERROR: ShortTokenThrower: SpAcceptLsaModeContext threw: RangeError: .*\(a (\d+)-byte token\)$/,
    );
    assert.ok(first.inputBytes < 20, `a token of ${first.inputBytes} bytes`);
    assert.equal(
      first.replay,
      `sspi-emu fuzz --load ${THROWER} --package ShortTokenThrower --generator generic/accept-token --seed 7 --start ${first.index} --iterations 1 --lanes 1`,
    );

    const replayed = await runFuzz({
      packages: [{ key: 'ShortTokenThrower', packageName: 'ShortTokenThrower', sets: ['generic'] }],
      load: [THROWER],
      generators: ['generic/accept-token'],
      iterations: 1,
      start: first.index,
      seed: 7,
      targets: ['tokens'],
      lanes: 1,
    });
    const again = replayed.firstOffender!;
    assert.deepEqual([again.index, again.inputHex, again.detail], [first.index, first.inputHex, first.detail]);
  });

  it('holds every invariant for the example package fuzzed generically, tokens and messages, with the LSA in its own OS process', async () => {
    const report = await runFuzz({
      packages: [{ key: 'example', packageName: 'Example', sets: ['generic'] }],
      iterations: 350,
      seed: 3,
      targets: ['tokens', 'messages'],
      lanes: 8,
      lsaIsolation: 'process',
    });
    const [pkg] = report.packages;
    assert.equal(pkg!.generators.length, 7);
    for (const g of pkg!.generators) {
      assert.equal(g.inputs, 50);
      assert.equal(offences(g), 0, `${g.generator}: ${JSON.stringify(g.offenders)}`);
    }
    assert.ok(Object.keys(pkg!.generators[0]!.strategies).some((s) => s.startsWith('sweep-')));
    assert.equal(report.ok, true, JSON.stringify(report.firstOffender));
  });

  it('stops at the first call the LSA does not answer at all (a package entry point that loops), names it, and stops the LSA', { timeout: 120_000 }, async () => {
    // Before: every input waited out the LPC deadline, then the batch's five minutes, then two
    // minutes of calls into the held LSA, and the report said "contexts left -1" and "GREW".
    const began = performance.now();
    const report = await runFuzz({
      packages: [{ key: 'Spinner', packageName: 'Spinner', sets: ['generic'] }],
      load: [fixturePackage('spinner')],
      iterations: 20,
      seed: 1,
      targets: ['tokens'],
      lanes: 2,
    });
    assert.ok(performance.now() - began < 90_000, 'within the fuzzer\'s LPC deadline (30 s) and its reaping, not minutes');
    const [pkg] = report.packages;
    assert.equal(report.ok, false);
    assert.equal(pkg!.hangs, 1);
    assert.equal(pkg!.lsaAlive, false);
    assert.match(pkg!.crashes.join('\n'), /the LSA stopped answering during generic\/accept-token .*; the LSA was stopped/);
    assert.match(report.firstOffender?.detail ?? '', /InitializeSecurityContext answered SEC_E_INTERNAL_ERROR/);
    const text = formatFuzzReport(report);
    assert.match(text, /contexts left {9}not counted: the LSA is gone/);
    assert.match(text, /not measured after the run: the LSA is gone/);
    assert.doesNotMatch(text, /GREW|-1 \(LSA contexts/);
  });

  it('leaves out the message generators of a package that claims neither integrity nor confidentiality, saying why', async () => {
    const report = await runFuzz({
      packages: [{ key: 'HiddenIntegrity', packageName: 'HiddenIntegrity', sets: ['generic'] }],
      load: [fixturePackage('hidden-integrity')],
      iterations: 20,
      seed: 1,
      targets: ['messages'],
      lanes: 2,
    });
    const [pkg] = report.packages;
    assert.deepEqual(
      pkg!.skipped.map((s) => s.generator),
      ['generic/verify-signature', 'generic/make-signature'],
    );
    assert.match(pkg!.skipped[0]!.why, /does not claim SECPKG_FLAG_INTEGRITY/);
    assert.deepEqual(
      pkg!.generators.map((g) => g.generator),
      ['generic/decrypt-message', 'generic/encrypt-message'],
    );
  });
});
