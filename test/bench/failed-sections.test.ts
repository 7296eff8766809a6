// A part of `sspi-emu bench` that throws is recorded with its error and the run goes on: the rows
// the other parts measured are reported, and the table names what failed.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport, runBench } from '../../bench/index.js';
import { smallBench } from '../helpers/bench.js';

describe('sspi-emu bench with a part that fails', () => {
  it('records the failure, says it, and reports what the rest of the run measured', { timeout: 120_000 }, async () => {
    const said: string[] = [];
    const report = await runBench(smallBench(['/nonexistent/package.js', 'null'], { onFailure: (section) => said.push(section) }));
    const sections = report.failed.map((f) => f.section);
    assert.ok(sections.includes('/nonexistent/package.js: handshakes, messages, memory'), sections.join(', '));
    assert.deepEqual(said, sections);
    for (const f of report.failed) assert.ok(f.error.length > 0);
    // The package after it was measured as usual.
    assert.deepEqual(
      report.handshakes.map((r) => [r.package, r.concurrency, r.failures]),
      [['Null', 1, 0]],
    );
    assert.ok(report.messages.some((m) => m.package === 'Null'));
    const table = formatReport(report);
    assert.match(table, /^Failed \(the rest of the run went on; targets of these parts are left out\)$/m);
    assert.match(table, /^\/nonexistent\/package\.js: handshakes, messages, memory: /m);
  });
});
