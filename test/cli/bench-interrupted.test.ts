// `sspi-emu bench` stopped with Ctrl-C part way: what was measured by then is written (the table,
// --json with the point it stopped at) and it exits 130, as a finished run's output would be.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI } from '../helpers/cli.js';

describe('sspi-emu bench, interrupted', () => {
  it('writes the rows measured before SIGINT, says where it stopped, and exits 130', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-interrupted-'));
    try {
      const json = join(dir, 'partial.json');
      const child = spawn(process.execPath, [CLI, 'bench', '--quick', '--package', 'null', '--concurrency', '1', '--clients', '1', '--json', json], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // Off a terminal the bench logs a line per step: the second is the first handshake row's end.
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (/^bench: 2\/\d+ /m.test(stderr)) resolve();
        });
        child.once('exit', () => reject(new Error(`bench ended before its second step: ${stderr}`)));
      });
      child.kill('SIGINT');
      assert.equal(await exited, 130);
      const report = JSON.parse(readFileSync(json, 'utf8')) as { handshakes: Array<{ package: string; failures: number }>; interrupted?: string };
      assert.match(report.interrupted ?? '', /^SIGINT after step \d+ of \d+ \(/);
      assert.ok(report.handshakes.length >= 1);
      assert.equal(report.handshakes[0]!.package, 'Null');
      assert.match(stdout, /^Interrupted: SIGINT after step \d+ of \d+ /m);
      assert.match(stdout, /^Targets$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
