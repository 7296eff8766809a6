// A package that throws, as a package author meets it in `sspi-emu run`: whether the throw is in
// the LSA-mode half (InitLsaModeContext, in the LSA) or the user-mode half (SealMessage, in the
// client process), the package's own message and stack are in the timeline, in the summary and in
// --json, and the run fails with SEC_E_INTERNAL_ERROR rather than hanging.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixturePackage } from '../helpers/machine.js';
import { sspiEmu } from '../helpers/cli.js';

const THROWERS = [
  { fixture: 'thrower', name: 'Thrower', message: 'probe: InitLsaModeContext thrown on purpose', entry: 'SpInitLsaModeContext', where: 'lsa' },
  { fixture: 'seal-thrower', name: 'SealThrower', message: 'probe: SealMessage thrown on purpose', entry: 'SpSealMessage', where: 'client' },
] as const;

interface JsonReport {
  status: string;
  client: { statusName: string; detail?: string } | null;
  events: Array<{ process: string; call: string; phase: string; detail?: string; status?: string; stack?: string }>;
  exceptions: Array<{ process: string; entry: string; message: string; stack?: string }>;
}

/**
 * The package's own frame: the fixture's source (the workers read the source maps tsc wrote), at
 * the line of the throw.
 */
const PROBE_SOURCE = readFileSync(fileURLToPath(new URL('../../../test/fixtures/packages/probe-core.ts', import.meta.url)), 'utf8').split('\n');
function packageFrame(message: string): RegExp {
  const line = PROBE_SOURCE.findIndex((text) => text.includes(`throw new Error('${message}')`)) + 1;
  assert.ok(line > 0, `probe-core.ts throws ${message}`);
  return new RegExp(`^at .*\\/test\\/fixtures\\/packages\\/probe-core\\.ts:${line}:\\d+\\)?$`);
}

describe('a package that throws, in sspi-emu run', () => {
  for (const { fixture, name, message, entry, where } of THROWERS) {
    it(`shows the message and the stack of a throw in ${entry}, at the package's .ts line, in the timeline and the summary`, async () => {
      const PACKAGE_FRAME = packageFrame(message);
      const { code, stdout } = await sspiEmu(['run', '--load', fixturePackage(fixture), '--package', name, '--messages', '1']);
      assert.equal(code, 1, stdout);
      const timeline = stdout.slice(0, stdout.indexOf('Sequence diagram'));
      assert.ok(
        timeline.split('\n').some((line) => line.includes(entry) && line.includes(message)),
        `the timeline names ${entry} and ${message}:\n${timeline}`,
      );
      // Under the return that failed, the package's frames, and none of sspi-emu's.
      const lines = timeline.split('\n');
      const returned = lines.findIndex((line) => line.includes(`<- ${entry}`) && line.includes(message));
      assert.match(lines[returned + 1]!.trim(), PACKAGE_FRAME, timeline);
      assert.doesNotMatch(lines[returned + 2] ?? '', /^\s+at /, 'only the package frames');

      const summary = stdout.split('\n').slice(stdout.split('\n').findIndex((line) => line.startsWith('SEC_E_')));
      assert.match(summary[0]!, /^SEC_E_INTERNAL_ERROR: /);
      assert.ok(summary[0]!.includes(message), summary[0]);
      assert.equal(summary[0]!.split(message).length, 2, `the message once, not repeated: ${summary[0]}`);
      assert.equal(summary[1], `package exception in ${where}: PACKAGE_THREW: ${name}: ${entry} threw: ${message}`);
      assert.match(summary[2]!.trim(), PACKAGE_FRAME);
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
      assert.match(returned.stack ?? '', new RegExp(`^Error: ${message}\\n {4}at .*probe-core\\.ts:\\d+`));
      assert.deepEqual(
        report.exceptions.map((e) => [e.process, e.entry, e.stack]),
        [[where, entry, returned.stack]],
      );
      assert.match(report.exceptions[0]!.message, new RegExp(message));
    });
  }
  it("shows the package's .ts line from an LSA in its own OS process too", async () => {
    const { message, entry } = THROWERS[0];
    const { code, stdout } = await sspiEmu([
      'run',
      '--json',
      '--lsa-isolation',
      'process',
      '--load',
      fixturePackage('thrower'),
      '--package',
      'Thrower',
      '--messages',
      '1',
    ]);
    assert.equal(code, 1, stdout);
    const report = JSON.parse(stdout) as JsonReport;
    const returned = report.events.find((e) => e.process === 'lsa' && e.call === entry && e.phase === 'return');
    assert.match(returned?.stack?.split('\n')[1]?.trim() ?? '', packageFrame(message), JSON.stringify(returned));
  });
});
