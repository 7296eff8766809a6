// The Kerberos bench rows (bench/kerberos.ts) run end to end against a domain controller machine's
// KDC and each mode does what it says, by the DC's own counts: the cached mode asks the KDC only
// for the first handshake of a window, the TGS mode one TGS exchange per handshake, a new
// credential an AS exchange (two requests: pre-authentication required, then PA-ENC-TIMESTAMP) and
// a TGS exchange per handshake. Counts, not rates: a loaded machine may make any rate anything, even
// 0 in a short window.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatKerberos, kerberosRows } from '../../bench/index.js';

describe('the Kerberos bench', () => {
  it('reports each mode, the pool off and on, with the KDC requests per handshake each mode makes and no failure', { timeout: 180_000 }, async () => {
    const progress: string[] = [];
    const report = await kerberosRows({
      durationMs: 150,
      warmupMs: 50,
      repetitions: 1,
      concurrency: [2],
      poolThreads: [0, 1],
      tgsServices: 600,
      progress: (label) => progress.push(label),
    });
    assert.deepEqual(progress, ['Kerberos: pool off, 2 in flight', 'Kerberos: pool 1 thread(s), 2 in flight']);
    assert.deepEqual(
      report.rows.map((r) => [r.mode, r.poolThreads, r.concurrency, r.failures]),
      [
        ['cached', 0, 2, 0],
        ['tgs', 0, 2, 0],
        ['new-credential', 0, 2, 0],
        ['cached', 1, 2, 0],
        ['tgs', 1, 2, 0],
        ['new-credential', 1, 2, 0],
      ],
    );
    for (const r of report.rows) {
      assert.match(r.bottleneck, /^(member (lsa|server|client)|dc lsa) \(\d+% busy\)$/);
      // The DC's counts over the handshakes started. A UDP request not answered within a second is
      // asked again over TCP, which a loaded machine may cause: a count may exceed its mode's own
      // (twice, at most), never fall short. Totals, not ratios: a loaded machine may start only
      // a handshake or two in a window, where the window's first TGT weighs as much as the rest.
      const { as, tgs } = r.kdcRequests;
      const { started } = r;
      const firsts = 2 * r.concurrency * 2; // each lane's first handshake of the window: its TGT, asked twice at most
      assert.ok(started >= 1, JSON.stringify(r));
      if (r.mode === 'cached') {
        assert.equal(r.ratioToCached, 1);
        // The window's first handshakes get the TGT (two AS requests each) and the ticket; the rest ask nothing.
        assert.ok(as <= firsts && tgs <= 2 * r.concurrency, JSON.stringify(r));
      } else if (r.mode === 'tgs') assert.ok(tgs >= started && tgs <= 2 * started && as <= firsts, JSON.stringify(r));
      else assert.ok(as >= 2 * started && as <= 4 * started && tgs >= started && tgs <= 2 * started, JSON.stringify(r));
    }
    const table = formatKerberos(report);
    assert.match(table, /\ncached service ticket +off +2 /);
    assert.match(table, /\nTGS exchange each handshake +1 thread +2 /);
    assert.match(table, /\nnew credential each handshake \(AS \+ TGS\) +1 thread +2 /);
  });
});
