// The Kerberos fuzz generators (fuzz/kerberos.ts) across the workers, small and from a fixed seed:
// a domain controller machine booted for the run, the fuzzed machine a member of its realm; every
// generator a few hundred inputs with every invariant (no exception, no SEC_E_INTERNAL_ERROR, only
// documented answers, the generators' expectations, the KDC answering a valid AS-REQ after each
// hostile one, the LSA alive and serving, nothing left, the heap flat); and one input replayed.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { formatFuzzReport, runFuzz, offences, type FuzzReport, type PackageFuzzReport } from '../../fuzz/index.js';

const SEED = 0x4b5242;
const GENERATORS = [
  'kerberos/ap-req',
  'kerberos/ap-rep',
  'kerberos/kdc-request',
  'kerberos/mic-token',
  'kerberos/wrap-token',
  'kerberos/verify-signature',
  'kerberos/decrypt-message',
  'kerberos/make-signature',
  'kerberos/encrypt-message',
];

describe('fuzz: the Kerberos generators against a domain controller machine', { timeout: 600_000 }, () => {
  let report: FuzzReport;
  let kerberos: PackageFuzzReport;
  before(async () => {
    // kerberos/kdc-reply has its own suite (kerberos-kdc-reply.test.ts).
    report = await runFuzz({
      packages: ['kerberos'],
      iterations: 300 * GENERATORS.length,
      seed: SEED,
      targets: ['tokens', 'messages'],
      generators: GENERATORS,
      lanes: 8,
    });
    kerberos = report.packages[0]!;
  });

  it('runs every Kerberos generator, 300 inputs each', () => {
    assert.equal(kerberos.packageName, 'Kerberos');
    assert.deepEqual(kerberos.generators.map((g) => g.generator).sort(), [...GENERATORS].sort());
    for (const g of kerberos.generators) assert.equal(g.inputs, 300, g.generator);
  });

  it('holds every invariant: no exception, no SEC_E_INTERNAL_ERROR, documented answers, expectations, the KDC still answering', () => {
    assert.deepEqual(kerberos.crashes, []);
    for (const g of kerberos.generators) assert.equal(offences(g), 0, `${g.generator}: ${JSON.stringify(g.offenders)}`);
    assert.equal(kerberos.hangs, 0);
    assert.equal(kerberos.lsaAlive, true);
    assert.equal(kerberos.goodHandshake, 'SEC_E_OK');
    assert.deepEqual(kerberos.lsa.after, kerberos.lsa.before);
    assert.ok(kerberos.heap.flat, `grew ${kerberos.heap.growthBytes} bytes`);
    assert.equal(report.ok, true);
  });

  it('reaches past the parsers: valid tokens accepted, altered ones refused in more than one way', () => {
    const statuses = (name: string): Record<string, number> => kerberos.generators.find((g) => g.generator === name)!.statuses;
    const apReq = statuses('kerberos/ap-req');
    for (const s of ['SEC_E_OK', 'SEC_E_INVALID_TOKEN', 'SEC_E_WRONG_PRINCIPAL']) assert.ok((apReq[s] ?? 0) > 0, `ap-req: ${s} in ${JSON.stringify(apReq)}`);
    const apRep = statuses('kerberos/ap-rep');
    for (const s of ['SEC_E_OK', 'SEC_E_INVALID_TOKEN', 'SEC_E_MUTUAL_AUTH_FAILED']) assert.ok((apRep[s] ?? 0) > 0, `ap-rep: ${s} in ${JSON.stringify(apRep)}`);
    // The KDC's answers: each counted by what came back (KRB-ERROR and its code, dropped, closed).
    const kdc = statuses('kerberos/kdc-request');
    assert.ok((kdc['KRB-ERROR KDC_ERR_PREAUTH_REQUIRED'] ?? 0) > 0, JSON.stringify(kdc));
    assert.ok(Object.keys(kdc).filter((k) => k.startsWith('KRB-ERROR ')).length >= 4, JSON.stringify(kdc));
    for (const name of ['kerberos/mic-token', 'kerberos/wrap-token']) {
      const got = statuses(name);
      assert.ok((got['SEC_E_OK'] ?? 0) > 0 && (got['SEC_E_MESSAGE_ALTERED'] ?? 0) + (got['SEC_E_INVALID_TOKEN'] ?? 0) > 0, `${name}: ${JSON.stringify(got)}`);
    }
  });

  it("measures the member's heap again once the replay window has passed when the run ends past the tolerance, and judges that figure", async () => {
    // A tolerance no figure is within: the runner must wait out the acceptor's replay window (10 s
    // and a second) after the last input, prune the cache with a fresh handshake, and measure again.
    const r = await runFuzz({
      packages: ['kerberos'],
      iterations: 50,
      seed: SEED,
      targets: ['tokens'],
      generators: ['kerberos/ap-req'],
      lanes: 4,
      heapToleranceBytes: -(1 << 30),
    });
    const p = r.packages[0]!;
    assert.equal(p.goodHandshake, 'SEC_E_OK', 'the handshake that pruned the cache');
    assert.equal(typeof p.heap.settledBytes, 'number');
    assert.equal(p.heap.growthBytes, p.heap.settledBytes! - p.heap.warmBytes, 'the second figure is the one judged');
    assert.equal(p.heap.flat, false);
    assert.match(formatFuzzReport(r), /after the run, [\d.]+ MiB once the replay cache's window had passed \(/);
  });

  it('replays one token input by its index: the same input, the same answer', async () => {
    const once = async () => {
      const r = await runFuzz({ packages: ['kerberos'], iterations: 1, seed: SEED, targets: ['tokens'], generators: ['kerberos/ap-req'], start: 41, lanes: 1 });
      const g = r.packages[0]!.generators[0]!;
      return { statuses: g.statuses, strategies: g.strategies, ok: r.ok };
    };
    const a = await once();
    assert.deepEqual(await once(), a);
    assert.equal(a.ok, true);
  });
});
