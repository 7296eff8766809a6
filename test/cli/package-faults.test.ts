// A package that throws, as a package author meets it in `sspi-emu run`: whether the throw is in
// the LSA-mode half (InitLsaModeContext, in the LSA) or the user-mode half (SealMessage, in the
// client process), the package's own message is in the timeline, in the result line and in every
// event and result of --json, and the run fails with SEC_E_INTERNAL_ERROR rather than hanging.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixturePackage } from '../helpers/machine.js';
import { sspiEmu } from '../helpers/cli.js';

const THROWERS = [
  { fixture: 'thrower', name: 'Thrower', message: 'probe: InitLsaModeContext thrown on purpose', entry: 'SpInitLsaModeContext', where: 'lsa' },
  { fixture: 'seal-thrower', name: 'SealThrower', message: 'probe: SealMessage thrown on purpose', entry: 'SpSealMessage', where: 'client' },
] as const;

interface JsonReport {
  status: string;
  client: { statusName: string; detail?: string } | null;
  events: Array<{ process: string; call: string; phase: string; detail?: string; status?: string }>;
}

describe('a package that throws, in sspi-emu run', () => {
  for (const { fixture, name, message, entry, where } of THROWERS) {
    it(`shows the message of a throw in ${entry} in the timeline and the result line`, async () => {
      const { code, stdout } = await sspiEmu(['run', '--load', fixturePackage(fixture), '--package', name, '--messages', '1']);
      assert.equal(code, 1, stdout);
      const timeline = stdout.slice(0, stdout.indexOf('Sequence diagram'));
      assert.ok(
        timeline.split('\n').some((line) => line.includes(entry) && line.includes(message)),
        `the timeline names ${entry} and ${message}:\n${timeline}`,
      );
      const result = stdout.trimEnd().split('\n').at(-2) ?? '';
      assert.match(result, /^SEC_E_INTERNAL_ERROR: /);
      assert.ok(result.includes(message), result);
      assert.equal(result.split(message).length, 2, `the message once, not repeated: ${result}`);
    });

    it(`carries the message of a throw in ${entry} in --json, in the ${where}'s return event and in the client's result`, async () => {
      const { code, stdout } = await sspiEmu(['run', '--json', '--load', fixturePackage(fixture), '--package', name, '--messages', '1']);
      assert.equal(code, 1, stdout);
      const report = JSON.parse(stdout) as JsonReport;
      assert.equal(report.status, 'SEC_E_INTERNAL_ERROR');
      assert.ok(report.client?.detail?.includes(message), JSON.stringify(report.client));
      const returned = report.events.find((e) => e.process === where && e.call === entry && e.phase === 'return');
      assert.ok(returned !== undefined, `a return event of ${entry} in ${where}`);
      assert.ok(returned.detail?.includes(message), JSON.stringify(returned));
    });
  }
});
