// sspi-emu new-package: the project it writes builds under a strict tsconfig (no skipLibCheck)
// against this checkout as a local dependency, and passes its own test (sspi-emu check) as
// written; two scaffolded packages load side by side; bad input writes nothing.
//
// npm install of a file: dependency links the folder into node_modules; the test makes the same
// links itself (sspi-emu to this checkout, TypeScript and Node's types to this checkout's), so
// that it needs no registry.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCheck } from '../../check/index.js';
import { newPackage, ScaffoldError } from '../../scaffold/index.js';
import { CLI, runProgram } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let work: string;

/** What `npm install` makes of the project's dependencies, from this checkout. */
function linkDependencies(dir: string): void {
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'sspi-emu'), 'dir');
  symlinkSync(join(ROOT, 'node_modules', 'typescript'), join(dir, 'node_modules', 'typescript'), 'dir');
  symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
}

describe('sspi-emu new-package', () => {
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'sspi-emu-new-package-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('writes a project that builds strictly against this checkout and passes its own test as written', { timeout: 180_000 }, async () => {
    const dir = join(work, 'contoso');
    const made = newPackage({ name: 'Contoso', dir, sspiEmu: ROOT });
    assert.equal(made.dir, dir);
    assert.deepEqual(made.files.sort(), [
      '.gitignore',
      'README.md',
      'package.json',
      'src/index.ts',
      'src/info.ts',
      'src/lsa.ts',
      'src/user.ts',
      'src/wire.ts',
      'test/check.test.ts',
      'tsconfig.json',
    ]);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
    assert.equal(manifest.name, 'contoso');
    const spec = manifest.dependencies['sspi-emu']!;
    assert.match(spec, /^file:\.\.?\//);
    assert.equal(resolve(dir, spec.slice('file:'.length)), resolve(ROOT), 'a path relative to the project, to this checkout');
    const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
    assert.equal(tsconfig.compilerOptions.strict, true);
    assert.equal(tsconfig.compilerOptions.skipLibCheck, undefined, 'the shipped declarations are checked too');

    // Only the public faces of sspi-emu, Node's modules and the package's own.
    for (const file of readdirSync(join(dir, 'src'))) {
      const text = readFileSync(join(dir, 'src', file), 'utf8');
      for (const [, target] of text.matchAll(/from\s+'([^']+)'/g))
        assert.match(target!, /^(sspi-emu\/(kit|headers)|node:[a-z_]+|\.\/[a-z-]+\.js)$/, `${file} imports ${target}`);
    }
    assert.match(readFileSync(join(dir, 'src', 'wire.ts'), 'utf8'), /^export const PACKAGE_NAME = 'Contoso';$/m);

    linkDependencies(dir);
    const built = await runProgram(process.execPath, [TSC, '-p', dir], { timeoutMs: 150_000 });
    assert.equal(built.code, 0, built.stdout + built.stderr);
    // The project's own test runner, as `npm test` starts it: not a child of this one (NODE_TEST_CONTEXT
    // would make it report to this runner instead of printing).
    const { NODE_TEST_CONTEXT: _child, ...env } = process.env;
    const tested = await runProgram(process.execPath, ['--test', join(dir, 'dist', 'test')], { timeoutMs: 60_000, env });
    assert.equal(tested.code, 0, tested.stdout + tested.stderr);
    assert.match(tested.stdout, /^ok 1 - Contoso passes sspi-emu check$/m);
  });

  it(
    'is fuzzed by `sspi-emu fuzz --load ./dist/src/index.js --package Contoso` from its folder: every generic generator, every invariant held',
    { timeout: 180_000 },
    async () => {
      const dir = join(work, 'contoso');
      assert.ok(existsSync(join(dir, 'dist', 'src', 'index.js')), 'the first test built Contoso');
      const fuzzed = await runProgram(
        process.execPath,
        [CLI, 'fuzz', '--load', './dist/src/index.js', '--package', 'Contoso', '--iterations', '210', '--seed', '1'],
        {
          cwd: dir,
          timeoutMs: 150_000,
        },
      );
      assert.equal(fuzzed.code, 0, fuzzed.stdout + fuzzed.stderr);
      assert.match(fuzzed.stdout, /^Contoso: 210 inputs in /m);
      for (const generator of ['accept-token', 'initialize-token', 'initialize', 'verify-signature', 'decrypt-message', 'make-signature', 'encrypt-message'])
        assert.match(fuzzed.stdout, new RegExp(`^ {2}generic/${generator} +\\w+ +30 `, 'm'));
      assert.match(fuzzed.stdout, /^result: every invariant held$/m);
    },
  );

  it('makes packages that load side by side: each its own name, each passing check', { timeout: 180_000 }, async () => {
    const dir = join(work, 'fabrikam');
    newPackage({ name: 'Fabrikam', dir, sspiEmu: ROOT });
    linkDependencies(dir);
    // The first project proved the template type-checks; this one only needs its JavaScript.
    const built = await runProgram(process.execPath, [TSC, '-p', dir, '--noCheck'], { timeoutMs: 150_000 });
    assert.equal(built.code, 0, built.stdout + built.stderr);
    const modules = ['contoso', 'fabrikam'].map((p) => join(work, p, 'dist', 'src', 'index.js'));
    assert.ok(existsSync(modules[0]!), 'the first test built Contoso');
    const report = await runCheck({ load: modules });
    assert.deepEqual(
      report.packages.map((p) => [p.name, p.ok]),
      [
        ['Contoso', true],
        ['Fabrikam', true],
      ],
    );
  });

  it('depends on this version from the registry by default, and takes an npm spec as given', () => {
    const plain = newPackage({ name: 'Plain', cwd: work });
    assert.equal(plain.dir, join(work, 'plain'), 'the folder is the name in lower case, from cwd');
    assert.equal(plain.sspiEmuSpec, `^${VERSION}`);
    const git = newPackage({ name: 'FromGit', dir: join(work, 'from-git'), sspiEmu: 'github:someone/sspi-emu' });
    assert.equal(
      (JSON.parse(readFileSync(join(git.dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['sspi-emu'],
      'github:someone/sspi-emu',
    );
    const tarball = join(work, 'sspi-emu-0.1.0.tgz');
    writeFileSync(tarball, '');
    assert.equal(newPackage({ name: 'FromTarball', dir: join(work, 'deep', 'from-tarball'), sspiEmu: tarball }).sspiEmuSpec, 'file:../../sspi-emu-0.1.0.tgz');
  });

  it('refuses what it cannot write, saying why, and writes nothing', () => {
    const full = join(work, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    const file = join(work, 'a-file');
    writeFileSync(file, '');
    const refusals: Array<[Parameters<typeof newPackage>[0], RegExp]> = [
      [{ name: 'Contoso', dir: full }, /is not empty: new-package writes only into a new or empty folder/],
      [{ name: 'Contoso', dir: file }, /is a file, not a folder/],
      [{ name: '1st', dir: join(work, 'x1') }, /is not a package name: a letter, then letters, digits, - or _/],
      [{ name: 'My Package', dir: join(work, 'x2') }, /is not a package name/],
      [{ name: 'x'.repeat(65), dir: join(work, 'x3') }, /64 characters at most/],
      [{ name: 'ntlm', dir: join(work, 'x4') }, /ntlm is taken/],
      [{ name: 'Example', dir: join(work, 'x5') }, /Example is taken/],
      [{ name: 'Negotiate', dir: join(work, 'x6') }, /Negotiate is taken/],
      [{ name: 'Contoso', dir: join(work, 'x7'), sspiEmu: './no/such/checkout' }, /--sspi-emu \.\/no\/such\/checkout: no such file or folder/],
      [{ name: 'Contoso', dir: join(work, 'x8'), sspiEmu: work }, /is not an sspi-emu checkout/],
      [{ name: 'Contoso', dir: join(work, 'x9'), sspiEmu: file }, /a file must be a tarball/],
    ];
    for (const [options, message] of refusals) {
      assert.throws(
        () => newPackage({ cwd: work, ...options }),
        (e: unknown) => e instanceof ScaffoldError && message.test(e.message),
        JSON.stringify(options),
      );
    }
    assert.deepEqual(readdirSync(full), ['keep.txt']);
    for (const x of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', 'x9']) assert.equal(existsSync(join(work, x)), false, `${x} was not made`);
  });
});
