// The HTTP socket rows run end to end: the load generator's handshakes against `serve --http`'s app
// in a server process and against the plain node:http worker. Counts, never rates: every client
// starts a handshake before its deadline and finishes it, so each row completed at least one per
// client whatever the machine's load; every one the load generator completed was a 200 the server
// counted; nothing failed, and the NTLM server left no context in the LSA.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpSocketRows } from '../../bench/http-sockets.js';
import { formatSocketRows } from '../../bench/report.js';

describe('bench: HTTP NTLM over sockets beside plain node:http', () => {
  it('completes handshakes on both servers at each client count, with no failure and no context left', { timeout: 120_000 }, async () => {
    const progress: string[] = [];
    const rows = await httpSocketRows({
      clients: [1, 3],
      durationMs: 150,
      warmupMs: 50,
      repetitions: 1,
      serverWarmMs: 100,
      account: { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' },
      progress: (label) => progress.push(label),
    });
    assert.deepEqual(
      rows.map((r) => [r.server, r.clients]),
      [
        ['NTLM serve --http', 1],
        ['plain node:http', 1],
        ['NTLM serve --http', 3],
        ['plain node:http', 3],
      ],
    );
    assert.deepEqual(progress, ['HTTP sockets: 1 client(s)', 'HTTP sockets: 3 client(s)']);
    for (const r of rows) {
      const what = JSON.stringify(r);
      assert.equal(r.failures, 0, what);
      assert.deepEqual(r.byReason, {}, what);
      assert.ok(r.handshakes >= r.clients, what);
      assert.ok(r.serverHandshakes >= r.handshakes, what);
      assert.equal(r.contextsLeft, 0, what);
      assert.match(r.bottleneck, /^(lsa|server|load|main|plain) \(\d+% busy\)$/);
      assert.deepEqual(Object.keys(r.elu).sort(), r.server === 'plain node:http' ? ['load', 'main', 'plain'] : ['load', 'lsa', 'main', 'server']);
      for (const k of ['hsPerSec', 'p50Ms', 'p99Ms', 'cpuCores'] as const) assert.equal(typeof r[k], 'number', `${k} is reported`);
      assert.equal(r.ratioToPlain === null, r.server === 'plain node:http', what);
      // Per-thread CPU comes from /proc where there is one; the plain rows have no ratio of their own.
      if (r.server === 'plain node:http') assert.equal(r.serverCpuRatioToPlain, null, what);
      for (const us of Object.values(r.cpuUsPerHandshake)) assert.ok(Number.isInteger(us) && us >= 0, what);
    }
    assert.match(formatSocketRows(rows), /HTTP NTLM over loopback sockets[\s\S]*NTLM serve --http\s+1[\s\S]*plain node:http\s+3/);
  });
});
