// The command line's own options: --help (and -h) on every command prints that command's usage and
// exits 0, --version the package's version, a usage error is one line and a hint (exit 2), and
// numbers out of their range are usage errors naming the range.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { assertUsageError, sspiEmu } from '../helpers/cli.js';

const COMMANDS = ['run', 'packages', 'decode', 'bench', 'fuzz', 'chaos', 'soak', 'serve', 'connect', 'fetch', 'dc'];

describe('sspi-emu --help, -h and --version', { timeout: 120_000 }, () => {
  it("prints each command's own usage for --help and -h, anywhere on the line, and exits 0", async () => {
    await Promise.all(
      COMMANDS.flatMap((command) =>
        [
          [command, '--help'],
          [command, '-h'],
          [command, '--messages', '-3', '--help'],
        ].map(async (args) => {
          const { code, stdout, stderr } = await sspiEmu(args);
          assert.equal(code, 0, `${args.join(' ')}: ${stderr}`);
          assert.equal(stderr, '');
          assert.ok(stdout.startsWith(`sspi-emu ${command} `), `${args.join(' ')}: ${stdout}`);
          assert.doesNotMatch(stdout, /^commands:/m, 'only the command, not the overview');
          for (const other of COMMANDS.filter((c) => c !== command)) assert.doesNotMatch(stdout, new RegExp(`^sspi-emu ${other} `, 'm'));
        }),
      ),
    );
  });

  it('prints the whole usage for sspi-emu --help, and one command for sspi-emu help COMMAND', async () => {
    const all = await sspiEmu(['--help']);
    assert.equal(all.code, 0);
    assert.match(all.stdout, /^usage: sspi-emu <command> \[options\]/);
    for (const command of COMMANDS) assert.match(all.stdout, new RegExp(`^sspi-emu ${command} `, 'm'));
    const one = await sspiEmu(['help', 'soak']);
    assert.equal(one.code, 0);
    assert.ok(one.stdout.startsWith('sspi-emu soak '));
  });

  it('says in the overview which commands take --lsa-isolation, as their own usage and options do: all but decode and new-package', async () => {
    const all = await sspiEmu(['--help']);
    assert.match(all.stdout, /^every command that boots a machine \(all but decode and new-package\) also takes$/m);
    const without = ['decode', 'new-package'];
    await Promise.all(
      [...COMMANDS, 'check', 'new-package'].map(async (command) => {
        const { stdout } = await sspiEmu([command, '--help']);
        assert.equal(stdout.includes('--lsa-isolation thread|process'), !without.includes(command), `sspi-emu ${command} --help`);
      }),
    );
    for (const args of [
      ['decode', 'AAAA', '--lsa-isolation', 'thread'],
      ['new-package', 'Contoso', '--lsa-isolation', 'thread'],
    ])
      assertUsageError(await sspiEmu(args), args[0], /Unknown option '--lsa-isolation'$/);
  });

  it("prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const { code, stdout } = await sspiEmu([flag]);
      assert.equal(code, 0);
      assert.equal(stdout, `sspi-emu ${version}\n`);
    }
  });
});

describe('numbers out of their range', { timeout: 120_000 }, () => {
  const cases: Array<[string[], RegExp]> = [
    [['run', '--messages', '-3'], /--messages takes a whole number from 0 to 100000, not "-3"$/],
    [['run', '--messages', '1.5'], /--messages takes a whole number from 0 to 100000, not "1\.5"$/],
    [['soak', '--in-flight', '0'], /--in-flight takes a whole number from 1 to 4096, not "0"$/],
    [['soak', '--duration', '0'], /--duration takes seconds, a number greater than 0, not "0"$/],
    [['soak', '--fault-rate', '2'], /--fault-rate takes a share from 0 to 1, not "2"$/],
    [['chaos', '--clients', '0'], /--clients takes a whole number from 1 to 64, not "0"$/],
    [['chaos', '--duration', '-1'], /--duration takes seconds, a number greater than 0, not "-1"$/],
    [['chaos', '--seed', '-1'], /--seed takes a whole number from 0 to 4294967295, not "-1"$/],
    [['bench', '--clients', '0'], /--clients takes whole numbers from 1, separated by commas, not "0"$/],
    [['bench', '--clients', '5'], /--clients takes whole numbers from 1 to 4 \(client processes\), not "5"$/],
    [['bench', '--concurrency', '8,0'], /--concurrency takes whole numbers from 1, separated by commas, not "8,0"$/],
    [['bench', '--duration', '0'], /--duration takes seconds, a number greater than 0, not "0"$/],
    [['fuzz', '--iterations', '-1'], /--iterations takes a whole number from 1, not "-1"$/],
    [['fuzz', '--iterations', '0'], /--iterations takes a whole number from 1, not "0"$/],
    [['fuzz', '--lanes', '0'], /--lanes takes a whole number from 1 to 256, not "0"$/],
    [['serve', '--http', '--port', '-1'], /--port takes a whole number from 0 to 65535, not "-1"$/],
    [['serve', '--http', '--port', '0', '--timeout', '0'], /--timeout takes a whole number from 1, not "0"$/],
    [['serve', '--http', '--port', '0', '--max-connections', '0'], /--max-connections takes a whole number from 1, not "0"$/],
    [['connect', '--tcp', '127.0.0.1:1', '--user', 'a', '--password', 'b', '--timeout', '0'], /--timeout takes a whole number from 1, not "0"$/],
    [['fetch', 'http://127.0.0.1:1/', '--user', 'a', '--password', 'b', '--timeout', '-5'], /--timeout takes a whole number from 1, not "-5"$/],
    [['run', '--bogus'], /Unknown option '--bogus'$/],
  ];
  it('are usage errors naming the valid range: one line, a hint, exit 2, nothing run', async () => {
    await Promise.all(cases.map(async ([args, message]) => assertUsageError(await sspiEmu(args), args[0], message)));
  });
});
