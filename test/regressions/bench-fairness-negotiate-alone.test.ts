// `sspi-emu bench --package negotiate` crashed in its fairness rows ("Cannot read properties of
// undefined (reading 'latencies')"): their machine loaded Negotiate without NTLM beneath it, so
// every handshake of the victim failed to acquire a credential and its app returned no figures.
// (The phases are short: how many handshakes they complete is the machine's load, not checked.)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fairnessRows } from '../../bench/fairness.js';

describe('regression: the fairness rows of Negotiate alone', () => {
  it('load NTLM beside Negotiate: the rows are made, and every SSPI acquire of the flood succeeds', { timeout: 120_000 }, async () => {
    const rows = await fairnessRows({ spec: 'negotiate', account: { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' }, durationMs: 300 });
    assert.deepEqual(
      rows.map((r) => r.package),
      ['Negotiate', 'Negotiate', 'Negotiate', 'Negotiate'],
    );
    // Counts, not rates: a loaded machine may complete no handshake in a short phase, but no acquire may fail.
    for (const r of rows.filter((r) => r.flood.startsWith('SSPI acquires'))) {
      assert.ok(r.floodCalls > 0, JSON.stringify(r));
      assert.deepEqual(Object.keys(r.floodByStatus), ['SEC_E_OK'], JSON.stringify(r));
    }
  });
});
