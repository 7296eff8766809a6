// One machine's trace as a file (--trace-json): absolute times on the clock every worker stamps
// its events with, read back field by field, and several machines' files merged on one timeline.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import type { TraceEvent } from '../../ipc/trace.js';
import { machineTraceFile, mergeMachineTraces, parseMachineTraceFile, TraceFileError, type MachineTraceFile } from '../../machine/index.js';
import { withMachine } from '../helpers/machine.js';

const LSA = { process: 'lsa', pid: 500, threadId: 1 };
const file = (machine: string, origin: number, events: Array<Partial<TraceEvent> & { t: number; call: string }>): MachineTraceFile => ({
  format: 'sspi-emu machine trace',
  version: 1,
  machine,
  command: `sspi-emu ${machine}`,
  osPid: 4242,
  origin,
  events: events.map((e) => ({ ...LSA, phase: 'event', ...e })),
});

describe('machine trace files', () => {
  it("hold a machine's events (its LSA's boot) with absolute times (ms since the Unix epoch), its OS pid, and read back as written", async () => {
    const before = performance.timeOrigin + performance.now();
    await withMachine({ trace: true }, async (machine) => {
      const trace = await machineTraceFile(machine, 'member', 'sspi-emu serve --tcp');
      const after = performance.timeOrigin + performance.now();
      assert.equal(trace.osPid, process.pid);
      assert.equal(trace.machine, 'member');
      assert.ok(trace.origin <= after && trace.origin >= before - 1, 'the boot, on the shared clock');
      assert.ok(trace.events.length > 0);
      for (const e of trace.events) assert.ok(e.t >= trace.origin && e.t <= after, `${e.call} at ${e.t}`);
      assert.deepEqual(parseMachineTraceFile(JSON.stringify(trace), 'member.json'), trace);
    });
  });

  it('refuse what is not one, naming the file and what is wrong', () => {
    const good = file('dc', 1000, [{ t: 1001, call: 'AS-REQ' }]);
    const cases: Array<[string, RegExp]> = [
      ['{', /^x\.json is not an sspi-emu machine trace: not JSON/],
      ['[]', /not an object$/],
      [JSON.stringify({ ...good, format: 'chrome' }), /format "chrome"$/],
      [JSON.stringify({ ...good, version: 2 }), /version 2 \(this sspi-emu reads version 1\)$/],
      [JSON.stringify({ ...good, origin: 'now' }), /no origin$/],
      [JSON.stringify({ ...good, events: [{ ...good.events[0], phase: 'begin' }] }), /^x\.json: event 0 is not an sspi-emu machine trace: phase "begin"$/],
      [JSON.stringify({ ...good, events: [{ ...good.events[0], tokenIn: 12 }] }), /tokenIn is not text$/],
      [JSON.stringify({ ...good, events: [{ ...good.events[0], t: null }] }), /no time$/],
    ];
    for (const [text, message] of cases)
      assert.throws(
        () => parseMachineTraceFile(text, 'x.json'),
        (error: unknown) => error instanceof TraceFileError && error.code === 'TRACE_FILE' && message.test(error.message),
        text,
      );
  });

  it('merge on one timeline: every event named with its machine, in time order, from the earliest boot', () => {
    const dc = file('dc', 1000, [
      { t: 1010, call: 'AS-REQ' },
      { t: 1030, call: 'TGS-REQ' },
    ]);
    const workstation = file('workstation', 1005, [
      { t: 1020, call: 'InitializeSecurityContext', process: 'client' },
      { t: 1030, call: 'Tie', process: 'client' },
      { t: 1040, call: 'InitializeSecurityContext', process: 'client', phase: 'return' },
    ]);
    const merged = mergeMachineTraces([dc, workstation]);
    assert.equal(merged.origin, 1000);
    assert.deepEqual(
      merged.events.map((e) => [e.t, e.machine, e.call]),
      [
        [10, 'dc', 'AS-REQ'],
        [20, 'workstation', 'InitializeSecurityContext'],
        // A tie keeps the files' order.
        [30, 'dc', 'TGS-REQ'],
        [30, 'workstation', 'Tie'],
        [40, 'workstation', 'InitializeSecurityContext'],
      ],
    );
    assert.deepEqual(mergeMachineTraces([]), { origin: 0, events: [] });
  });
});
