// The crypto floor (bench/crypto-floor.ts): which packages have one, that a floor handshake runs
// both sides' cryptography (each floor checks that its two sides agree, and throws if not), and
// how its targets are judged. Counts and structure only: the rates are the benchmark's to report.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cryptoFloorOf, cryptoFloorRow, cryptoTargets } from '../../bench/crypto-floor.js';
import type { MessageRow } from '../../bench/run.js';

const ACCOUNT = { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' };

describe('the crypto floor', () => {
  it('exists for ntlm and example, not for null or a package module path', () => {
    assert.equal(cryptoFloorOf('ntlm', ACCOUNT)?.name, 'NTLM');
    assert.equal(cryptoFloorOf('example', ACCOUNT)?.name, 'Example');
    assert.equal(cryptoFloorOf('null', ACCOUNT), undefined);
    assert.equal(cryptoFloorOf('/somewhere/package.js', ACCOUNT), undefined);
  });

  it('runs a handshake of each package, both sides agreeing, many times over', () => {
    for (const spec of ['ntlm', 'example']) {
      const floor = cryptoFloorOf(spec, ACCOUNT)!;
      for (let i = 0; i < 50; i++) floor.handshake();
    }
  });

  it('names what an NTLM floor handshake computes, the MIC over the three messages at their real sizes', () => {
    assert.match(
      cryptoFloorOf('ntlm', ACCOUNT)!.what,
      /^10 HMAC-MD5 \(the MIC over \d+ bytes\), 2 RC4 key schedules, 32 random bytes$/,
    );
  });

  it('reports a row beside the in-process batches it interleaves with, and the ratio of the two rates', async () => {
    const batches: number[] = [];
    const floor = cryptoFloorOf('ntlm', ACCOUNT)!;
    // A stand-in for the in-process baseline: two floor handshakes per "handshake".
    const inProcess = (n: number): void => {
      batches.push(n);
      for (let i = 0; i < 2 * n; i++) floor.handshake();
    };
    const row = (await cryptoFloorRow('ntlm', ACCOUNT, inProcess, { totalMs: 30, batchMs: 1, warmMs: 20 }))!;
    assert.equal(row.package, 'NTLM');
    assert.ok(row.batches > 0 && batches.length > row.batches, 'warm-up and calibration batches, then the measured ones');
    assert.ok(row.floorHsPerSec > 0 && row.floorUsPerHandshake > 0 && row.inProcessHsPerSec > 0);
    // The ratio is the median of the segments' own (bench/stats.ts interleave); the wall-clock one is of the totals.
    assert.ok(Number.isFinite(row.inProcessOverFloor) && row.inProcessOverFloor > 0, JSON.stringify(row));
    assert.ok(Math.abs(row.wall.inProcessOverFloor - row.wall.inProcessHsPerSec / row.wall.floorHsPerSec) < 0.01, JSON.stringify(row));
    assert.ok(row.gcShare.floor >= 0 && row.gcShare.inProcess >= 0);
    assert.equal(await cryptoFloorRow('null', ACCOUNT, inProcess, { totalMs: 30, batchMs: 1, warmMs: 20 }), undefined);
  });
});

describe('the crypto targets', () => {
  const message = (op: MessageRow['op'], size: number, mapped: number, raw: number, overLpc = 0): MessageRow => ({
    package: 'NTLM',
    op,
    size,
    mappedOpsPerSec: mapped,
    rawOpsPerSec: raw,
    rawBaseline: 'primitives',
    mappedOverRaw: mapped / raw,
    interleaved: null,
    lpcOpsPerSec: 1,
    mappedMBps: 0,
    mappedOverLpc: overLpc,
  });
  const floorRow = (ratio: number) => ({
    package: 'NTLM',
    floorHsPerSec: 1,
    floorUsPerHandshake: 1,
    inProcessHsPerSec: 1,
    inProcessOverFloor: ratio,
    wall: { floorHsPerSec: 1, inProcessHsPerSec: 1, inProcessOverFloor: ratio },
    gcShare: { inProcess: 0, floor: 0 },
    batches: 1,
    what: '',
  });

  it('judges in-process / floor, mapped sign+verify at 1 KiB over raw and over LPC, and the LSA bytes per context, each by its own direction', () => {
    const targets = cryptoTargets({
      cryptoFloor: [floorRow(0.5)],
      messages: [message('sign+verify', 64, 1, 100), message('sign+verify', 1024, 79, 100, 9.99), message('seal+unseal', 1024, 100, 100, 50)],
      memory: { lsaBytesPerContext: { NTLM: 1024.5 }, measurements: {}, lsaBytesPerLogonSession: 0 },
    });
    assert.deepEqual(
      targets.map((t) => [t.target, t.value, t.comparison, t.goal, t.met]),
      [
        ['NTLM in-process hs/s / NTLM crypto floor', 0.5, '>=', 0.5, true],
        ['NTLM mapped sign+verify 1 KiB / raw primitives', 0.79, '>=', 0.8, false],
        ['NTLM mapped sign+verify 1 KiB / the same via LPC', 9.99, '>=', 10, false],
        ['LSA bytes per live NTLM context', 1024.5, '<=', 1024, false],
      ],
    );
  });

  it('leaves a target out when its row was not measured', () => {
    assert.deepEqual(cryptoTargets({ cryptoFloor: [], messages: [], memory: { lsaBytesPerContext: {}, measurements: {}, lsaBytesPerLogonSession: 0 } }), []);
  });
});
