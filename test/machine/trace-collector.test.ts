// The machine's trace collector over a real MessageChannel: it keeps what a worker sends only as
// the worker it came from, and only as much as its limits allow, whatever the worker posts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { DEFAULT_TRACE_LIMITS, TraceCollector, type TraceCollectorLimits } from '../../machine/trace-collector.js';

const WHO = { name: 'rogue', pid: 1004, threadId: 7 };

/** A collector on one end of a channel; `post` sends from the other end and waits until it was read (a flush round trip). */
function collector(
  enabled: boolean,
  limits: Partial<TraceCollectorLimits> = {},
): { trace: TraceCollector; post: (m: unknown) => Promise<void>; close: () => void } {
  const { port1, port2 } = new MessageChannel();
  const trace = new TraceCollector(0, enabled, { ...DEFAULT_TRACE_LIMITS, ...limits });
  trace.attach(port1, WHO);
  // The worker's side answers flushes, as a Tracer does, after whatever it posted before.
  port2.on('message', (m: { kind?: string; seq?: number }) => {
    if (m.kind === 'flush') port2.postMessage({ kind: 'flushed', seq: m.seq });
  });
  return {
    trace,
    post: async (m) => {
      (port2 as MessagePort).postMessage(m);
      await trace.flush();
    },
    close: () => {
      port1.close();
      port2.close();
    },
  };
}

const event = (fields: Record<string, unknown>) => ({ t: 1, process: 'lsa', pid: 500, threadId: 1, call: 'X', phase: 'event', ...fields });

describe('TraceCollector', () => {
  it('stamps every event and tap with the identity of its port', async () => {
    const c = collector(true);
    c.trace.setTapping(true);
    try {
      await c.post({ kind: 'events', events: [event({ call: 'Forged' })] });
      await c.post({ kind: 'taps', taps: [{ process: 'lsa', channel: 'lpc:x', direction: 'send', message: 1 }] });
      assert.deepEqual(
        c.trace.allEvents().map((e) => [e.process, e.pid, e.threadId, e.call]),
        [['rogue', 1004, 7, 'Forged']],
      );
      assert.equal(c.trace.allTaps()[0]!.process, 'rogue');
    } finally {
      c.close();
    }
  });

  it('counts malformed messages and events, and keeps the well-formed ones beside them', async () => {
    const c = collector(true);
    try {
      for (const m of [
        null,
        7,
        'x',
        { kind: 'events', events: null },
        { kind: 'events', events: [null, { t: 'x' }, event({ phase: 'sideways' })] },
        { kind: 'flushed', seq: {} },
      ])
        await c.post(m);
      await c.post({ kind: 'events', events: [event({ call: 'Good' })] });
      assert.deepEqual(
        c.trace.allEvents().map((e) => e.call),
        ['Good'],
      );
      assert.deepEqual(c.trace.problems(), [{ name: 'rogue', pid: 1004, malformed: 8, dropped: 0 }]);
    } finally {
      c.close();
    }
  });

  it('keeps no more text of one worker than its limit, and says how much it dropped', async () => {
    const c = collector(true, { maxEventCharsPerSource: 10_000 });
    try {
      const big = 'x'.repeat(4_000);
      await c.post({ kind: 'events', events: [1, 2, 3, 4].map((i) => event({ call: `E${i}`, detail: big })) });
      assert.deepEqual(
        c.trace.allEvents().map((e) => e.call),
        ['E1', 'E2'],
      );
      assert.equal(c.trace.problems()[0]!.dropped, 2);
    } finally {
      c.close();
    }
  });

  it('with tracing off keeps only small Phase marks', async () => {
    const c = collector(false);
    try {
      await c.post({
        kind: 'events',
        events: [
          event({ call: 'SpInitLsaModeContext' }),
          event({ call: 'Phase', detail: 'handshake', lpc: 4 }),
          event({ call: 'Phase', detail: 'x'.repeat(100_000) }),
        ],
      });
      assert.deepEqual(
        c.trace.allEvents().map((e) => [e.call, e.detail]),
        [['Phase', 'handshake']],
      );
    } finally {
      c.close();
    }
  });

  it('keeps no more tapped bytes of one worker than its limit', async () => {
    const c = collector(true, { maxTapBytesPerSource: 1 << 20 });
    c.trace.setTapping(true);
    try {
      const tap = (n: number) => ({ channel: 'lpc:rogue', direction: 'send', message: { body: new Uint8Array(n) } });
      await c.post({ kind: 'taps', taps: [tap(600_000), tap(600_000), tap(10)] });
      assert.equal(c.trace.allTaps().length, 2, 'the second large one passes the limit; the small one still fits');
      assert.equal(c.trace.problems()[0]!.dropped, 1);
    } finally {
      c.close();
    }
  });

  it('reports a worker that does not answer a flush as unresponsive, after its deadline', async () => {
    const { port1, port2 } = new MessageChannel();
    const trace = new TraceCollector(0, true, { ...DEFAULT_TRACE_LIMITS, flushTimeoutMs: 100 });
    trace.attach(port1, WHO);
    try {
      assert.deepEqual(await trace.flush(), ['rogue']);
    } finally {
      port1.close();
      port2.close();
    }
  });
});
