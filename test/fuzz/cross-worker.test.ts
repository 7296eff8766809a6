// The fuzzer end to end, across the real workers: a few hundred hostile tokens and messages per
// package from a fixed seed, through an app process and the LSA, with every invariant of
// `sspi-emu fuzz` checked; then a fast-check property that sends mutated NTLM messages through
// the LSA from the test itself.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { runFuzz, offences, type FuzzReport, type PackageFuzzReport } from '../../fuzz/index.js';
import { isDocumentedAnswer } from '../../fuzz/statuses.js';
import { ASC_REQ, ISC_REQ, SECBUFFER, SECPKG_CRED } from '../../headers/sspi.js';
import { SEC_E_INTERNAL_ERROR, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import type { CredHandle } from '../../sspi/handles.js';

const SEED = 20240501;

describe('a seeded fuzz run of the three packages through the real LSA', () => {
  let report: FuzzReport;
  before(async () => {
    report = await runFuzz({
      packages: ['ntlm', 'example', 'negotiate'],
      iterations: 432,
      seed: SEED,
      targets: ['tokens', 'messages'],
      lanes: 8,
      batchSize: 48,
    });
  });

  const each = (check: (p: PackageFuzzReport) => void) => () => {
    assert.equal(report.packages.length, 3);
    for (const p of report.packages) check(p);
  };

  test(
    'runs every generator of each package, each with its share of the inputs',
    each((p) => {
      assert.equal(p.inputs, 432);
      // Negotiate has a fourth token generator (the acceptor's last token).
      assert.equal(p.generators.length, p.packageKey === 'negotiate' ? 9 : 8, p.generators.map((g) => g.generator).join(', '));
      for (const g of p.generators) assert.equal(g.inputs, 432 / p.generators.length, g.generator);
    }),
  );

  test(
    'meets no unhandled exception, no SEC_E_INTERNAL_ERROR, no undocumented answer and no broken expectation',
    each((p) => {
      assert.deepEqual(p.crashes, []);
      for (const g of p.generators) assert.equal(offences(g), 0, `${g.generator}: ${JSON.stringify(g.offenders)}`);
    }),
  );

  test(
    'gets more than one kind of answer from every generator (the inputs reach past the first check)',
    each((p) => {
      for (const g of p.generators) assert.ok(Object.keys(g.statuses).length >= 2, `${g.generator}: ${JSON.stringify(g.statuses)}`);
    }),
  );

  test(
    'leaves the LSA alive, completing a good handshake, with as many contexts, credentials and logon sessions as before',
    each((p) => {
      assert.equal(p.lsaAlive, true);
      assert.equal(p.goodHandshake, 'SEC_E_OK');
      assert.deepEqual(p.lsa.after, p.lsa.before);
      assert.equal(p.hangs, 0);
    }),
  );

  test(
    'leaves the LSA heap within its tolerance of the warm-up figure',
    each((p) => {
      assert.ok(p.heap.flat, `grew ${p.heap.growthBytes} bytes`);
    }),
  );

  test('says every invariant held', () => {
    assert.equal(report.ok, true);
    assert.equal(report.firstOffender, undefined);
  });

  test('generates the same inputs again from the same seed', async () => {
    const again = await runFuzz({ packages: ['ntlm'], iterations: 80, seed: SEED, targets: ['tokens'], lanes: 4 });
    const once = await runFuzz({ packages: ['ntlm'], iterations: 80, seed: SEED, targets: ['tokens'], lanes: 2 });
    const other = await runFuzz({ packages: ['ntlm'], iterations: 80, seed: SEED + 1, targets: ['tokens'], lanes: 4 });
    const strategies = (r: FuzzReport) => r.packages[0]!.generators.map((g) => g.strategies);
    assert.deepEqual(strategies(again), strategies(once), 'the same seed, whatever the number of lanes');
    assert.notDeepEqual(strategies(again), strategies(other), 'another seed');
  });
});

describe('mutated NTLM messages sent through the LSA by a fast-check property', () => {
  let machine: Machine;
  let proc: AppProcess;
  let outbound: CredHandle;
  let inbound: CredHandle;
  let negotiate: Uint8Array;
  let challenge: Uint8Array;
  let authenticate: Uint8Array;
  before(async () => {
    machine = await Machine.boot({
      packages: ['ntlm'],
      accounts: ['alice:Passw0rd!'],
      trace: false,
      packageSettings: { ntlm: { fixedServerChallenge: '0123456789abcdef', fixedTime: '2024-05-01T12:00:00.000Z' } },
    });
    proc = await machine.spawn('client');
    outbound = (
      await proc.sspi.acquireCredentialsHandle({
        package: 'NTLM',
        credentialUse: SECPKG_CRED.OUTBOUND,
        authData: { User: 'alice', Domain: '', Password: 'Passw0rd!' },
      })
    ).credential!;
    inbound = (await proc.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: SECPKG_CRED.INBOUND })).credential!;
    const c1 = await proc.sspi.initializeSecurityContext({ credential: outbound, contextReq: ISC_REQ.CONFIDENTIALITY });
    negotiate = c1.output[0]!.pvBuffer;
    const s1 = await proc.sspi.acceptSecurityContext({ credential: inbound, input: token(negotiate), contextReq: ASC_REQ.CONFIDENTIALITY });
    challenge = s1.output[0]!.pvBuffer;
    const c2 = await proc.sspi.initializeSecurityContext({
      credential: outbound,
      context: c1.context!,
      contextReq: ISC_REQ.CONFIDENTIALITY,
      input: token(challenge),
    });
    authenticate = c2.output[0]!.pvBuffer;
    await proc.sspi.deleteSecurityContext(c1.context!);
    await proc.sspi.deleteSecurityContext(s1.context!);
  });
  after(() => machine.shutdown());

  function token(bytes: Uint8Array) {
    return [{ BufferType: SECBUFFER.TOKEN, pvBuffer: bytes }];
  }

  /** A captured message with bytes overwritten, and maybe cut short. */
  const mutation = fc.tuple(fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.option(fc.nat(), { nil: undefined }));
  function mutate(message: Uint8Array, [edits, cut]: [Array<[number, number]>, number | undefined]): Uint8Array {
    const out = Uint8Array.from(message);
    for (const [at, value] of edits) out[at % out.length] = value;
    return cut === undefined ? out : out.subarray(0, cut % (out.length + 1));
  }

  function documented(fn: 'AcceptSecurityContext' | 'InitializeSecurityContext', r: { status: number; cause?: { message?: string } }, input: Uint8Array): void {
    assert.notEqual(r.status, SEC_E_INTERNAL_ERROR, `${fn}: ${r.cause?.message ?? ''} for ${Buffer.from(input).toString('hex')}`);
    assert.ok(isDocumentedAnswer(fn, r.status), `${fn} answered ${statusName(r.status)} for ${Buffer.from(input).toString('hex')}`);
  }

  test('a server answers every mutated NEGOTIATE or AUTHENTICATE with a documented status', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), mutation, async (first, m) => {
        if (first) {
          const input = mutate(negotiate, m);
          const r = await proc.sspi.acceptSecurityContext({ credential: inbound, input: token(input), contextReq: ASC_REQ.CONFIDENTIALITY });
          documented('AcceptSecurityContext', r, input);
          if (r.context !== undefined) await proc.sspi.deleteSecurityContext(r.context);
          return;
        }
        const s1 = await proc.sspi.acceptSecurityContext({ credential: inbound, input: token(negotiate), contextReq: ASC_REQ.CONFIDENTIALITY });
        assert.equal(s1.status, SEC_I_CONTINUE_NEEDED);
        const input = mutate(authenticate, m);
        const r = await proc.sspi.acceptSecurityContext({
          credential: inbound,
          context: s1.context!,
          input: token(input),
          contextReq: ASC_REQ.CONFIDENTIALITY,
        });
        documented('AcceptSecurityContext', r, input);
        await proc.sspi.deleteSecurityContext(s1.context!);
      }),
      { seed: SEED, numRuns: 120 },
    );
  });

  test('a client answers every mutated CHALLENGE with a documented status', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const c1 = await proc.sspi.initializeSecurityContext({ credential: outbound, contextReq: ISC_REQ.CONFIDENTIALITY });
        const input = mutate(challenge, m);
        const r = await proc.sspi.initializeSecurityContext({
          credential: outbound,
          context: c1.context!,
          contextReq: ISC_REQ.CONFIDENTIALITY,
          input: token(input),
        });
        documented('InitializeSecurityContext', r, input);
        await proc.sspi.deleteSecurityContext(c1.context!);
      }),
      { seed: SEED, numRuns: 80 },
    );
  });

  test('the captured AUTHENTICATE still verifies afterwards, and no context is left', async () => {
    const s1 = await proc.sspi.acceptSecurityContext({ credential: inbound, input: token(negotiate), contextReq: ASC_REQ.CONFIDENTIALITY });
    const s2 = await proc.sspi.acceptSecurityContext({
      credential: inbound,
      context: s1.context!,
      input: token(authenticate),
      contextReq: ASC_REQ.CONFIDENTIALITY,
    });
    assert.equal(statusName(s2.status), statusName(SEC_E_OK));
    await proc.sspi.deleteSecurityContext(s1.context!);
    assert.equal((await machine.lsa.stats()).contexts, 0);
    assert.equal(machine.lsa.crashError, undefined);
  });
});
