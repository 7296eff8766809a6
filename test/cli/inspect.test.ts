// The command line's debugging options (--inspect, --inspect-brk, --deadline) on run and serve:
// the inspector's URL on stderr with the way to attach, the run as usual when nobody attaches,
// and usage errors for a process the command does not run or a port out of range.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sspiEmu } from '../helpers/cli.js';

describe('sspi-emu run --inspect', () => {
  it('opens the named processes inspectors, tells their URLs on stderr, and runs as usual', async () => {
    const { code, stdout, stderr } = await sspiEmu(['run', '--quiet', '--inspect', 'lsa:0', '--inspect', 'server:127.0.0.1:0']);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /^SEC_E_OK: /m);
    assert.match(stderr, /^sspi-emu: debugging: every deadline of the machine is 10 minutes \(--deadline MS to change\)/m);
    for (const name of ['lsa', 'server']) {
      const url = new RegExp(`^sspi-emu: ${name}: inspector listening on (ws://127\\.0\\.0\\.1:(\\d+)/[0-9a-f-]+)$`, 'm').exec(stderr);
      assert.ok(url !== null, `${name}'s URL:\n${stderr}`);
      assert.ok(
        stderr.includes(
          `sspi-emu: ${name}: attach VS Code to 127.0.0.1:${url[2]}, or open devtools://devtools/bundled/js_app.html?experiments=true&v8only=true&ws=${url[1]!.slice(5)} in Chrome`,
        ),
        stderr,
      );
    }
    assert.doesNotMatch(stderr, /sspi-emu: client: inspector/, 'only the named processes');
  });

  it('says which deadlines --deadline gives a debugging session', async () => {
    const { code, stderr } = await sspiEmu(['run', '--quiet', '--inspect', 'client:0', '--deadline', '120000']);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /every deadline of the machine is 120000 ms;/);
  });

  it('opens the inspector of each machine check boots, and says which deadlines are whose', async () => {
    const { code, stdout, stderr } = await sspiEmu(['check', '--package', 'example', '--inspect', 'lsa:0']);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /30 passed, 0 failed/);
    assert.match(
      stderr,
      /^sspi-emu: debugging: the machine's deadlines are 10 minutes \(--timeout MS sets the package calls'\); the suite's applications wait 10 s for each other;/m,
    );
    assert.match(stderr, /^sspi-emu: lsa: inspector listening on ws:\/\/127\.0\.0\.1:\d+\//m);
  });

  it('refuses a process the command does not run, a port out of range, a process named twice and a bad deadline', async () => {
    for (const [args, message] of [
      [['run', '--inspect', 'kdc'], /--inspect takes lsa, client, server \(a process this command runs\), optionally :PORT or :HOST:PORT, not "kdc"/],
      [['run', '--inspect-brk', 'lsa:70000'], /--inspect-brk lsa's port takes a whole number from 0 to 65535, not "70000"/],
      [['run', '--inspect', 'lsa', '--inspect-brk', 'lsa:9300'], /--inspect: lsa is named twice/],
      [['run', '--deadline', '0'], /--deadline takes a whole number from 1 to 86400000, not "0"/],
      [['serve', '--http', '--port', '0', '--inspect', 'client'], /--inspect takes lsa, server/],
    ] as const) {
      const { code, stderr } = await sspiEmu([...args]);
      assert.equal(code, 2, stderr);
      assert.match(stderr.split('\n')[0]!, message);
    }
  });
});
