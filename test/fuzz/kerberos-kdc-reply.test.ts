// kerberos/kdc-reply (fuzz/kerberos-kdc-reply.ts, fuzz/kerberos-rogue-kdc.ts) across the workers, small
// and from a fixed seed: the runner's rogue KDC answers the fuzzed machine's Kerberos client, which
// must hold every invariant (documented answers, no SEC_E_INTERNAL_ERROR, the real replies
// completing, forged ones refused and not cached, broken TCP framing ending in
// SEC_E_NO_AUTHENTICATING_AUTHORITY, no call past the deadline, nothing left in the LSA, the heap
// flat, the run account's own logon still served through the rogue's relay to the DC); a lying rogue
// KDC (one that calls its real replies forged) must make the same checks fail; one input replays.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runFuzz, offences, type FuzzReport, type GeneratorTally, type PackageFuzzReport } from '../../fuzz/index.js';
import type { BatchPlan } from '../../fuzz/app.js';
import { KDC_REPLY_GENERATOR } from '../../fuzz/kerberos-kdc-reply.js';
import { RogueKdc } from '../../fuzz/kerberos-rogue-kdc.js';
import { Machine } from '../../machine/machine.js';

const SEED = 0x524f4755;
const GENERATOR = KDC_REPLY_GENERATOR.name;

describe('fuzz: kerberos/kdc-reply, a rogue KDC answering the client', { timeout: 600_000 }, () => {
  let report: FuzzReport;
  let kerberos: PackageFuzzReport;
  let tally: GeneratorTally;
  before(async () => {
    report = await runFuzz({ packages: ['kerberos'], iterations: 240, seed: SEED, targets: ['tokens'], generators: [GENERATOR], lanes: 8 });
    kerberos = report.packages[0]!;
    tally = kerberos.generators[0]!;
  });

  it('runs the generator alone, 240 inputs', () => {
    assert.deepEqual(
      kerberos.generators.map((g) => g.generator),
      [GENERATOR],
    );
    assert.equal(tally.inputs, 240);
  });

  it('holds every invariant: documented answers, expectations, nothing left, the heap flat, the LSA serving', () => {
    assert.deepEqual(kerberos.crashes, []);
    assert.equal(offences(tally), 0, JSON.stringify(tally.offenders));
    assert.equal(kerberos.hangs, 0);
    assert.equal(kerberos.lsaAlive, true);
    // The run account's handshake after the run goes through the rogue's relay to the DC's KDC.
    assert.equal(kerberos.goodHandshake, 'SEC_E_OK');
    assert.deepEqual(kerberos.lsa.after, kerberos.lsa.before);
    assert.ok(kerberos.heap.flat, `grew ${kerberos.heap.growthBytes} bytes`);
    assert.equal(report.ok, true);
  });

  it('reaches every step and kind of reply: real ones completing, forged ones refused in several ways', () => {
    for (const s of ['valid', 'must-reject', 'fields', 'etype-info', 'error', 'der'])
      assert.ok((tally.strategies[s] ?? 0) > 0, `${s} in ${JSON.stringify(tally.strategies)}`);
    for (const s of ['SEC_E_OK', 'SEC_E_NO_AUTHENTICATING_AUTHORITY', 'SEC_E_LOGON_DENIED'])
      assert.ok((tally.statuses[s] ?? 0) > 0, `${s} in ${JSON.stringify(tally.statuses)}`);
  });

  it('replays one input by its index: the same input, the same answer', async () => {
    const once = async () => {
      const r = await runFuzz({ packages: ['kerberos'], iterations: 1, seed: SEED, targets: ['tokens'], generators: [GENERATOR], start: 17, lanes: 1 });
      const g = r.packages[0]!.generators[0]!;
      return { statuses: g.statuses, strategies: g.strategies, ok: r.ok };
    };
    const a = await once();
    assert.deepEqual(await once(), a);
    assert.equal(a.ok, true);
  });
});

describe('fuzz: kerberos/kdc-reply fails when the rogue KDC lies', { timeout: 300_000 }, () => {
  // The same app and judge as a run, on a machine whose KDC is a rogue that calls its real replies
  // forged: the client rightly completes with them, which the checks must count as a broken
  // expectation (an accepted reply it had to refuse), or they could never fail.
  let rogue: RogueKdc;
  let machine: Machine;
  const service = 'HTTP/liar.sspi-emu.local';
  before(async () => {
    rogue = await RogueKdc.start({ realm: 'LIAR.TEST', upstream: { host: '127.0.0.1', port: 9 }, lanes: 4, liar: true });
    machine = await Machine.boot({
      packages: ['kerberos'],
      accounts: [`${service}:liar-service-pw`],
      trace: false,
      packageSettings: { kerberos: { realm: 'LIAR.TEST', kdc: `127.0.0.1:${rogue.address.port}`, services: [service] } },
    });
  });
  after(async () => {
    await machine?.shutdown();
    await rogue?.close();
  });

  it('counts the accepted "forged" replies as broken expectations, naming the input', async () => {
    const proc = await machine.spawn('client', { name: 'fuzzer' });
    const plan: BatchPlan = {
      packageName: 'Kerberos',
      seed: SEED,
      lanes: 4,
      account: { user: 'alice', domain: '', password: 'unused' },
      jobs: [{ generator: GENERATOR, start: 0, count: 60 }],
      rogueKdc: rogue.address,
    };
    const app = fileURLToPath(new URL('../../fuzz/app.js', import.meta.url));
    const result = await proc.runApp(app, plan as unknown as Record<string, unknown>);
    const got = (result.data?.tallies as GeneratorTally[])[0]!;
    assert.equal(got.inputs, 60);
    assert.ok((got.strategies['valid'] ?? 0) > 0, JSON.stringify(got.strategies));
    assert.ok(got.expectations > 0 && got.expectations <= (got.statuses['SEC_E_OK'] ?? 0), JSON.stringify(got));
    const offender = got.offenders.find((o) => o.kind === 'expectation')!;
    assert.match(offender.detail, /accepted a reply it must refuse/);
    assert.equal(offender.strategy, 'valid');
  });
});
