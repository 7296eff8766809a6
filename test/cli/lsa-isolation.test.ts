// --lsa-isolation on the commands that boot a machine: the same run with the LSA in its own OS
// process, and a usage error for anything but thread or process.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sspiEmu } from '../helpers/cli.js';

describe('--lsa-isolation', () => {
  it('runs the demo with the LSA in a process of its own: the same handshake, the LSA calls in the timeline', async () => {
    const { code, stdout } = await sspiEmu(['run', '--lsa-isolation', 'process', '--package', 'NTLM', '--json']);
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as { status: string; events: Array<{ process: string; call: string }> };
    assert.equal(report.status, 'SEC_E_OK');
    assert.ok(report.events.some((e) => e.process === 'lsa' && e.call === 'SpAcceptLsaModeContext'));
  });

  it('lists the packages of an LSA in its own process', async () => {
    const { code, stdout } = await sspiEmu(['packages', '--lsa-isolation', 'process', '--json']);
    assert.equal(code, 0);
    assert.deepEqual(
      (JSON.parse(stdout) as { loaded: Array<{ name: string }> }).loaded.map((p) => p.name),
      ['Example', 'NTLM', 'Negotiate'],
    );
  });

  it('is a usage error for anything but thread or process', async () => {
    const { code, stderr } = await sspiEmu(['run', '--lsa-isolation', 'vm']);
    assert.equal(code, 2);
    assert.match(stderr, /--lsa-isolation takes thread or process, not "vm"/);
  });
});
