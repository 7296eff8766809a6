// `sspi-emu fuzz` as a user runs it: the report per package and generator with every invariant,
// the exit status, --json, replaying one input, usage errors; and how a failing run reads.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { emptyTally, type Offender } from '../../fuzz/app.js';
import { formatFuzzReport } from '../../fuzz/report.js';
import type { FuzzReport, PackageFuzzReport } from '../../fuzz/runner.js';
import { assertUsageError, sspiEmu } from '../helpers/cli.js';
import { fixturePackage } from '../helpers/machine.js';

/** A fuzz run boots machines and runs batches: give it longer than a quick command. */
const FUZZ_RUN = { timeoutMs: 120_000 };

describe('sspi-emu fuzz', () => {
  test('prints each generator and every invariant, exits 0 and writes the figures with --json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sspi-emu-fuzz-'));
    try {
      const file = join(dir, 'fuzz.json');
      const { code, stdout } = await sspiEmu(['fuzz', '--package', 'example', '--iterations', '160', '--seed', '5', '--json', file], FUZZ_RUN);
      assert.equal(code, 0, stdout);
      for (const line of [
        /^example: 160 inputs in /m,
        /^ {2}example\/hello +AcceptSecurityContext +20 /m,
        /^ {2}example\/decrypt-message +DecryptMessage +20 /m,
        /^ {2}unhandled exceptions +0$/m,
        /^ {2}internal errors +0$/m,
        /^ {2}undocumented answers +0$/m,
        /^ {2}LSA alive +yes; a fresh handshake and sealed message after the run: SEC_E_OK$/m,
        /^ {2}contexts left +0 /m,
        /^ {2}LSA heap .*: flat$/m,
        /^result: every invariant held$/m,
      ])
        assert.match(stdout, line);
      const json = JSON.parse(await readFile(file, 'utf8')) as FuzzReport;
      assert.equal(json.ok, true);
      assert.equal(json.seed, 5);
      assert.equal(
        json.packages[0]!.generators.reduce((n, g) => n + g.inputs, 0),
        160,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('replays one input of one generator with --generator, --start and --iterations 1', async () => {
    const { code, stdout } = await sspiEmu(
      ['fuzz', '--package', 'ntlm', '--generator', 'ntlm/authenticate', '--start', '4711', '--iterations', '1', '--lanes', '1'],
      FUZZ_RUN,
    );
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^ {2}ntlm\/authenticate +AcceptSecurityContext +1 /m);
    assert.doesNotMatch(stdout, /ntlm\/negotiate/);
  });

  for (const [args, message] of [
    [['--package', 'spnego'], /--package takes ntlm, example, negotiate or kerberos, or with --load a package of the module, not "spnego"/],
    [['--generator', 'ntlm/nothing'], /no generator "ntlm\/nothing"/],
    [['--iterations', 'many'], /--iterations takes a whole number from 1, not "many"/],
    [['--target', 'everything'], /--target takes tokens, messages or all/],
  ] as const) {
    test(`exits 2 with one line and a hint for ${args.join(' ')}`, async () => {
      assertUsageError(await sspiEmu(['fuzz', ...args], FUZZ_RUN), 'fuzz', message);
    });
  }
});

describe('sspi-emu fuzz --load and --generic', () => {
  const thrower = fixturePackage('short-token-thrower');

  test('finds the parsing bug of a loaded package, exits 1, and prints the command that replays the input, which finds it again', async () => {
    const { code, stdout } = await sspiEmu(['fuzz', '--load', thrower, '--iterations', '60', '--target', 'tokens', '--seed', '7'], FUZZ_RUN);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^ShortTokenThrower: 60 inputs in /m);
    assert.match(stdout, /^ {2}generic\/accept-token +AcceptSecurityContext +20 .*SEC_E_INTERNAL_ERROR \d+/m);
    assert.match(stdout, /^first offending input: ShortTokenThrower: generic\/accept-token input #\d+ \(seed 7, input seed 0x[0-9a-f]{8}\)$/m);
    assert.match(
      stdout,
      /^ {2}internal-error: AcceptSecurityContext answered SEC_E_INTERNAL_ERROR: ShortTokenThrower: SpAcceptLsaModeContext threw: RangeError/m,
    );
    const replay = /^ {2}replay: sspi-emu (fuzz .*)$/m.exec(stdout)?.[1];
    assert.ok(replay !== undefined, stdout);
    assert.match(
      replay,
      new RegExp(
        `^fuzz --load ${thrower.replaceAll('/', '\\/')} --package ShortTokenThrower --generator generic/accept-token --seed 7 --start \\d+ --iterations 1 --lanes 1$`,
      ),
    );
    const again = await sspiEmu(replay.split(' '), FUZZ_RUN);
    assert.equal(again.code, 1, again.stdout);
    assert.match(again.stdout, /^ {2}generic\/accept-token +AcceptSecurityContext +1 +SEC_E_INTERNAL_ERROR 1$/m);
  });

  test('fuzzes a built-in package with the generic generators with --generic', async () => {
    const { code, stdout } = await sspiEmu(['fuzz', '--package', 'example', '--generic', '--iterations', '60', '--target', 'tokens'], FUZZ_RUN);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^example, generic generators: 60 inputs in /m);
    assert.match(stdout, /^ {2}generic\/initialize-token +InitializeSecurityContext +20 /m);
    assert.doesNotMatch(stdout, /example\/hello/);
  });

  test('says a module that does not load (exit 1) and a package no module has (exit 2)', async () => {
    const missing = await sspiEmu(['fuzz', '--load', './no/such/package.js'], FUZZ_RUN);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /package module \.\/no\/such\/package\.js failed to load at resolve: no such file/);
    assertUsageError(
      await sspiEmu(['fuzz', '--load', thrower, '--package', 'Nobody'], FUZZ_RUN),
      'fuzz',
      /--package Nobody: no such package in .* \(loaded: ShortTokenThrower\)/,
    );
  });
});

describe('the fuzz report of a failing run', () => {
  const offender: Offender = {
    kind: 'internal-error',
    generator: 'ntlm/initialize',
    index: 22,
    seed: 3,
    inputSeed: 0x3847e73f,
    strategy: '32768-character',
    mutation: 'a 32768-character target name; contextReq 0x1081c',
    inputHex: '48005400',
    inputBytes: 4,
    detail: 'InitializeSecurityContext answered SEC_E_INTERNAL_ERROR: NTLM: SpInitLsaModeContext threw',
  };
  const tally = {
    ...emptyTally('ntlm/initialize', 'InitializeSecurityContext'),
    inputs: 1,
    internalErrors: 1,
    statuses: { SEC_E_INTERNAL_ERROR: 1 },
    offenders: [offender],
  };
  const pkg: PackageFuzzReport = {
    packageKey: 'ntlm',
    packageName: 'NTLM',
    sets: ['ntlm'],
    inputs: 1,
    durationMs: 10,
    generators: [tally],
    skipped: [],
    crashes: [],
    hangs: 0,
    lsaAlive: true,
    goodHandshake: 'SEC_E_OK',
    lsa: { before: { contexts: 0, credentials: 0, logonSessions: 0, nested: 0 }, after: { contexts: 0, credentials: 0, logonSessions: 0, nested: 0 } },
    heap: { bootBytes: 1 << 22, warmBytes: 1 << 22, afterBytes: 1 << 22, growthBytes: 0, toleranceBytes: 1 << 20, flat: true },
    ok: false,
  };
  const text = formatFuzzReport({
    seed: 3,
    load: [],
    iterations: 1,
    targets: ['tokens'],
    lanes: 1,
    packages: [pkg],
    ok: false,
    firstOffender: {
      ...offender,
      package: 'ntlm',
      replay: 'sspi-emu fuzz --package ntlm --generator ntlm/initialize --seed 3 --start 22 --iterations 1 --lanes 1',
    },
  });

  test('counts the internal error among the invariants', () => {
    assert.match(text, /^ {2}internal errors +1$/m);
  });

  test('names the first offending input with its seed, its hex and the command that replays it', () => {
    assert.match(text, /^first offending input: ntlm\/initialize input #22 \(seed 3, input seed 0x3847e73f\)$/m);
    assert.match(text, /^ {2}internal-error: InitializeSecurityContext answered SEC_E_INTERNAL_ERROR/m);
    assert.match(text, /^ {2}hex \(4 bytes\): 48005400$/m);
    assert.match(text, /^ {2}replay: sspi-emu fuzz --package ntlm --generator ntlm\/initialize --seed 3 --start 22 --iterations 1 --lanes 1$/m);
  });

  test('ends by naming the package whose invariants broke', () => {
    assert.match(text, /result: invariants broken for ntlm$/);
  });
});
