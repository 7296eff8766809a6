// run --watch and serve --watch as a user runs them (separate OS processes): a rewritten package
// file is reloaded in the running LSA and the next run (or connection) uses the new version; a
// version that does not load is reported on stderr and the old one serves on; SIGINT ends it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReloadablePackage } from '../helpers/reloadable.js';
import { assertUsageError } from '../helpers/cli.js';
import { CLI, Program, sspiEmu, startServe } from '../helpers/sockets.js';

describe('sspi-emu run --watch', { timeout: 120_000 }, () => {
  it('runs again after each reload, shows the reload in the next timeline, says why a version did not load, and stops on SIGINT', async () => {
    const pkg = ReloadablePackage.create('Watched', 'one');
    const run = Program.start(process.execPath, [CLI, 'run', '--watch', '--messages', '1', '--load', pkg.entry, '--package', 'Watched']);
    try {
      const done = /^SEC_E_OK: authenticated as SSPI-EMU\\alice; 1 sealed and 1 signed messages verified$/;
      await run.waitForLine(done, 60_000);
      pkg.setComment('two');
      await run.waitForLine(/^reloaded Watched: v2 from file:\/\/.*\/index\.js\?v=2 \(v1 unloaded: 0 contexts and 0 credentials closed\)$/, 60_000);
      await run.waitForLine(done, 60_000, 2);
      const second = run.lines.slice(run.lines.findIndex((l) => /^reloaded Watched/.test(l)));
      assert.ok(
        second.some((l) => /\*\* PackageLoaded +\[Watched v2 /.test(l)),
        'the second run’s timeline begins with the reload',
      );
      assert.ok(
        second.some((l) => /-> SpUserModeInitialize/.test(l)),
        'the new user-mode half is loaded by the new processes',
      );
      pkg.breakSyntax();
      await run.waitForLine(/^sspi-emu: package module .*index\.js failed to reload at import: SyntaxError: .*; version 2 keeps running$/, 60_000);
      const exited = await run.stop('SIGINT');
      assert.equal(exited.code, 0, run.stderrLines.join('\n'));
    } finally {
      await run.stop('SIGKILL');
      pkg.remove();
    }
  });

  it('needs a module to watch', async () => {
    assertUsageError(await sspiEmu(['run', '--watch']), 'run', /--watch needs a package module to watch: --load MODULE/);
    assertUsageError(await sspiEmu(['serve', '--tcp', '--port', '0', '--watch']), 'serve', /--watch needs a package module to watch/);
  });
});

describe('sspi-emu serve --watch', { timeout: 120_000 }, () => {
  it('reloads the package in the running server: its credential carried over, new connections on the new version', async () => {
    const pkg = ReloadablePackage.create('Watched', 'one');
    const { program: server, port } = await startServe([
      '--tcp',
      '--port',
      '0',
      '--load',
      pkg.entry,
      '--package',
      'Watched',
      '--watch',
      '--account',
      'alice:Passw0rd!',
    ]);
    const connect = (): ReturnType<typeof sspiEmu> =>
      sspiEmu(['connect', '--tcp', `127.0.0.1:${port}`, '--load', pkg.entry, '--package', 'Watched', '--user', 'alice', '--password', 'Passw0rd!'], {
        timeoutMs: 60_000,
      });
    try {
      const first = await connect();
      assert.equal(first.code, 0, first.stdout + first.stderr);
      pkg.setComment('two');
      await server.waitForLine(/^reloaded Watched: v2 from .*\?v=2 \(v1 unloaded: 0 contexts and 0 credentials closed, 1 carried over\)$/, 60_000);
      const second = await connect();
      assert.equal(second.code, 0, second.stdout + second.stderr);
      await server.waitForLine(/SSPI-EMU\\alice SEC_E_OK handshake=/, 20_000, 2);
      const exited = await server.stop('SIGTERM');
      assert.equal(exited.code, 0, server.stderrLines.join('\n'));
      assert.match(server.lines.at(-1) ?? '', /contexts left in the LSA: 0$/);
    } finally {
      await server.stop('SIGKILL');
      pkg.remove();
    }
  });
});
