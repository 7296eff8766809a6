// `sspi-emu bench --package negotiate` crashed in its fairness rows ("Cannot read properties of
// undefined (reading 'latencies')"): their machine loaded Negotiate without NTLM beneath it, so
// every handshake of the victim failed to acquire a credential and its app returned no figures.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fairnessRows } from '../../bench/fairness.js';

describe('regression: the fairness rows of Negotiate alone', () => {
  it('load NTLM beside Negotiate, and complete handshakes in every phase', { timeout: 120_000 }, async () => {
    const rows = await fairnessRows({ spec: 'negotiate', account: { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' }, durationMs: 300 });
    assert.equal(rows.length, 4);
    for (const r of rows) {
      assert.equal(r.package, 'Negotiate');
      assert.ok(r.unloaded.handshakes > 0, JSON.stringify(r));
    }
  });
});
