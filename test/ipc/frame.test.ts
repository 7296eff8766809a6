// The LPC wire format: what a frame carries arrives as structured clone would have delivered it,
// for every op of the vocabulary and for any value; what cannot be sent fails its own message;
// a frame that lies is dropped a message at a time, and never throws.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { serialize } from 'node:v8';
import fc from 'fast-check';
import { FrameCodec, LPC_VOCABULARY, lpcCodec } from '../../ipc/index.js';
import { UNTRUSTED_VALUE_BUDGET } from '../../ipc/frame.js';

const process = lpcCodec('process');
const lsa = lpcCodec('lsa');

function roundTrip(codec: FrameCodec, messages: unknown[], decoder: FrameCodec = codec): unknown[] {
  const failures: unknown[] = [];
  const frame = codec.encode(messages, (m) => failures.push(m));
  assert.deepEqual(failures, []);
  const decoded = decoder.decode(frame);
  assert.equal(decoded.malformed, 0);
  assert.equal(decoded.messages.length, messages.length);
  assert.equal(
    decoded.sizes.reduce((a, b) => a + b, 0),
    frame.byteLength,
    'the sizes add up to the frame',
  );
  return decoded.messages;
}

const token = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);

/** One request and one reply body for each op, every field of the schema present. */
const SAMPLES: Record<string, { request: object; reply: object }> = {
  EnumerateSecurityPackages: {
    request: {},
    reply: { status: 0, packages: [{ fCapabilities: 0x1, wVersion: 1, wRPCID: 0xffff, cbMaxToken: 12000, Name: 'NTLM', Comment: 'NTLM Security Package' }] },
  },
  QuerySecurityPackageInfo: {
    request: { pszPackageName: 'Example' },
    reply: { status: 0x80090305, cause: { name: 'SspiEmuError', code: 'X', message: 'm', stack: 's' } },
  },
  SpAcquireCredentialsHandle: {
    request: { pszPrincipal: null, pszPackage: 'NTLM', fCredentialUse: 2, pvLogonId: 0x3e7n, pAuthData: { address: 4096, length: 88 } },
    reply: { status: 0, hCredential: 0x1_0001_0002, packageId: 3, expiry: 0x7fff_ffff_ffff_ffffn },
  },
  SpFreeCredentialsHandle: { request: { hCredential: 77 }, reply: { status: 0 } },
  SpQueryCredentialsAttributes: { request: { hCredential: 77, ulAttribute: 1 }, reply: { status: 0, buffer: { sUserName: 'SSPI-EMU\\alice' } } },
  SpInitLsaModeContext: {
    request: {
      hCredential: 5,
      hContext: null,
      pszTargetName: 'HTTP/host.example.test',
      fContextReq: 0x1c,
      TargetDataRep: 0x10,
      input: [{ BufferType: 14, pvBuffer: token(24) }],
      outputTypes: [2],
    },
    reply: {
      status: 0,
      hNewContext: 9,
      packageId: 3,
      output: [{ BufferType: 2, pvBuffer: token(300) }],
      contextAttr: 0x1c,
      expiry: -1n,
      mapped: {
        packageId: 3,
        packageName: 'NTLM',
        moduleUrl: 'file:///x/packages/ntlm/index.js',
        tableIndex: 0,
        modulePackages: [{ packageId: 3, name: 'NTLM' }],
        lsaContextHandle: 12,
        contextData: token(96),
        thunkedLevels: [1, 2],
      },
    },
  },
  SpAcceptLsaModeContext: {
    request: { hCredential: 5, hContext: 6, input: [{ BufferType: 2, pvBuffer: token(500) }], fContextReq: 0, TargetDataRep: 0x10, outputTypes: [2] },
    reply: { status: 0x90312, output: [], contextAttr: 0, expiry: 0n },
  },
  SpDeleteContext: { request: { hContext: 6 }, reply: { status: 0 } },
  SpQueryContextAttributes: {
    request: { hContext: 6, ulAttribute: 0 },
    reply: { status: 0, buffer: { cbMaxToken: 1, cbMaxSignature: 16, cbBlockSize: 0, cbSecurityTrailer: 16 } },
  },
  SpApplyControlToken: { request: { hContext: 6, input: [] }, reply: { status: 0 } },
  SpExportSecurityContext: {
    request: { hContext: 6, fFlags: 2, packedContext: token(568), importingProcess: 1008 },
    reply: { status: 0, packedContext: token(56) },
  },
  SpImportSecurityContext: {
    request: { pszPackage: 'NTLM', packedContext: token(56) },
    reply: {
      status: 0,
      hNewContext: 7,
      packageId: 3,
      imported: {
        packageId: 3,
        packageName: 'NTLM',
        moduleUrl: 'file:///x/packages/ntlm/index.js',
        tableIndex: 0,
        modulePackages: [{ packageId: 3, name: 'NTLM' }],
        lsaContextHandle: 12,
        packedContext: token(650),
        thunkedLevels: [],
      },
    },
  },
  LsaLookupAuthenticationPackage: { request: { PackageName: 'Kerberos' }, reply: { status: 0, AuthenticationPackage: 4 } },
  LsaApCallPackageUntrusted: {
    request: { AuthenticationPackage: 4, ProtocolSubmitBuffer: token(12) },
    reply: { status: 0, ProtocolStatus: 0xc0000022, ProtocolReturnBuffer: token(200) },
  },
  AllocateClientBuffer: { request: { length: 64 }, reply: { status: 0, address: 8192 } },
  FreeClientBuffer: { request: { address: 8192 }, reply: { status: 0 } },
  CopyToClientBuffer: { request: { address: 8192, bytes: token(64) }, reply: { status: 0 } },
  CopyFromClientBuffer: { request: { address: 8192, length: 64 }, reply: { status: 0, bytes: token(64) } },
  ClientCallback: {
    request: { packageId: 3, callbackId: -5, argument1: 1.5, argument2: 2 ** 40, input: { BufferType: 2, pvBuffer: token(3) } },
    reply: { status: 0, output: { BufferType: 2, pvBuffer: token(4) } },
  },
};

describe('LPC frames', () => {
  it('has a sample for every op of the vocabulary', () => {
    assert.deepEqual(Object.keys(SAMPLES).sort(), Object.keys(LPC_VOCABULARY.ops).sort());
  });

  it('carries every op, call and return, as structured clone would', () => {
    let id = 1;
    const messages = Object.entries(SAMPLES).flatMap(([op, { request, reply }]) => [
      { kind: 'call', id: id++, op, body: request },
      { kind: 'return', id: id++, op, body: reply },
    ]);
    assert.deepEqual(roundTrip(process, messages, lsa), structuredClone(messages));
  });

  it('writes the schema fields without their names: a frame is smaller than structured clone writes the messages', () => {
    const m = { kind: 'call', id: 1, op: 'SpInitLsaModeContext', body: SAMPLES.SpInitLsaModeContext!.request };
    const frame = process.encode([m], () => assert.fail());
    const cloned = serialize(m).byteLength;
    assert.ok(frame.byteLength < cloned * 0.6, `${frame.byteLength} bytes against ${cloned}`);
  });

  it('keeps fields outside the schema, unknown ops, failures and bodies that are not objects', () => {
    const messages = [
      { kind: 'call', id: 1, op: 'SpDeleteContext', body: { hContext: 6, extra: { deep: [1, 'two', null, true] }, __proto__x: 1 } },
      { kind: 'call', id: 2, op: 'NotAnOp', body: { a: 1 } },
      { kind: 'return', id: 3, op: 'SpDeleteContext', body: null },
      { kind: 'return', id: 4, op: 'SpDeleteContext', body: 'a string' },
      { kind: 'fail', id: 5, op: 'SpDeleteContext', error: { name: 'TransportError', code: 'BAD_MESSAGE', message: 'x' } },
      { kind: 'fail', id: 6, op: 'SpDeleteContext', error: null },
      { kind: 'call', id: -1.5, op: 'SpDeleteContext', body: { hContext: -7, big: 2n ** 100n, neg: -(2n ** 70n) } },
    ];
    assert.deepEqual(roundTrip(process, messages), structuredClone(messages));
  });

  it('keeps strings exactly, lone surrogates and long ones included', () => {
    const names = ['', 'ascii', 'ünïcödé', '\ud800 lone', 'x'.repeat(47), 'y'.repeat(48), '\udc00'.repeat(1000) + '€'.repeat(70_000)];
    const messages = names.map((pszPackageName, id) => ({ kind: 'call', id, op: 'QuerySecurityPackageInfo', body: { pszPackageName } }));
    assert.deepEqual(roundTrip(process, messages), messages);
  });

  it('keeps strings exactly when a process decodes the same ones again, and ones that share a slot of its cache of recent strings', () => {
    // A process's codec remembers recent strings (a package's name and module URL come in every
    // mapped context's delivery); far more distinct strings than its slots, each sent twice, in
    // two orders: every one must come back as it was, whatever else fell in its slot.
    const names = Array.from({ length: 2000 }, (_, i) => (i % 3 === 0 ? `file:///x/packages/p${i}/index.js` : `P${i}`));
    const reply = (id: number, name: string) => ({ kind: 'return', id, op: 'QuerySecurityPackageInfo', body: { status: 0, info: { Name: name } } });
    for (const order of [names, [...names].reverse(), names]) {
      const messages = order.map((name, id) => reply(id, name));
      assert.deepEqual(roundTrip(lsa, messages, process), messages);
    }
  });

  it('keeps a key named __proto__ as data, never as a prototype', () => {
    const body = JSON.parse('{"hContext": 1, "__proto__": {"polluted": true}}') as object;
    const [decoded] = roundTrip(process, [{ kind: 'call', id: 1, op: 'SpDeleteContext', body }]) as Array<{ body: Record<string, unknown> }>;
    assert.equal(Object.getPrototypeOf(decoded!.body), Object.prototype);
    assert.equal((decoded!.body as { polluted?: unknown }).polluted, undefined);
    assert.deepEqual(Object.getOwnPropertyDescriptor(decoded!.body, '__proto__')?.value, { polluted: true });
  });

  it('gives each buffer a process decodes its own memory, exactly its length', () => {
    const [decoded] = roundTrip(process, [{ kind: 'call', id: 1, op: 'CopyToClientBuffer', body: { address: 1, bytes: token(10) } }]) as Array<{
      body: { bytes: Uint8Array };
    }>;
    assert.equal(decoded!.body.bytes.buffer.byteLength, 10);
  });

  it('gives the LSA each buffer as a view of the frame it received, exactly its bytes (the LSA copies what it keeps)', () => {
    const frame = process.encode(
      [
        {
          kind: 'call',
          id: 1,
          op: 'SpAcceptLsaModeContext',
          body: { ...SAMPLES.SpAcceptLsaModeContext!.request, input: [{ BufferType: 2, pvBuffer: token(40) }] },
        },
        { kind: 'call', id: 2, op: 'SpImportSecurityContext', body: { pszPackage: 'NTLM', packedContext: token(56) } },
      ],
      () => assert.fail('encodable'),
    );
    const decoded = lsa.decode(frame).messages as Array<{ body: { input?: Array<{ pvBuffer: Uint8Array }>; packedContext?: Uint8Array } }>;
    const input = decoded[0]!.body.input![0]!.pvBuffer;
    const packed = decoded[1]!.body.packedContext!;
    assert.deepEqual([...input], [...token(40)]);
    assert.deepEqual([...packed], [...token(56)]);
    assert.equal(input.buffer, frame, 'a view of the frame');
    assert.equal(packed.buffer, frame);
  });

  it('sends values the schema cannot say (a Date, a Map) to a process, and the LSA takes none from one', () => {
    const reply = { kind: 'return', id: 1, op: 'SpQueryContextAttributes', body: { status: 0, buffer: { when: new Date(5), map: new Map([[1, 2]]) } } };
    assert.deepEqual(roundTrip(lsa, [reply], process), [reply]);
    const decoded = lsa.decode(process.encode([reply], () => assert.fail()));
    assert.deepEqual([decoded.messages.length, decoded.malformed], [0, 1]);
  });

  it('leaves out a message that cannot be sent, hands it back, and sends the others', () => {
    const bad = [
      { kind: 'return', id: 1, op: 'SpQueryContextAttributes', body: { status: 0, buffer: { f: () => 1 } } },
      { kind: 'return', id: 2, op: 'SpQueryContextAttributes', body: { status: 0, buffer: Symbol('s') } },
      { kind: 'nope', id: 3, op: 'x' },
    ];
    const cyclic: Record<string, unknown> = { status: 0 };
    cyclic.self = cyclic;
    bad.push({ kind: 'return', id: 4, op: 'SpDeleteContext', body: cyclic as never });
    const good = { kind: 'return', id: 5, op: 'SpDeleteContext', body: { status: 0 } };
    const failed: unknown[] = [];
    const frame = lsa.encode([...bad.slice(0, 2), good, ...bad.slice(2)], (m, error) => {
      assert.ok(error instanceof Error);
      failed.push(m);
    });
    assert.equal(failed.length, bad.length);
    assert.deepEqual(process.decode(frame).messages, [good]);
  });

  it('drops what is not a frame, and every message of a frame that lies, reading on after each', () => {
    assert.deepEqual(lsa.decode({ kind: 'call' }), { messages: [], sizes: [], malformed: 1 });
    assert.deepEqual(lsa.decode(new Uint8Array(4)), { messages: [], sizes: [], malformed: 1 });
    const good = { kind: 'call', id: 1, op: 'SpDeleteContext', body: { hContext: 6 } };
    const one = new Uint8Array(process.encode([good], () => assert.fail()));
    // A message whose length is right but whose contents stop early, between two good ones.
    const broken = one.slice();
    broken[broken.length - 1] = 99; // the count of fields outside the schema: 25,344, past the end
    const frame = new Uint8Array([...one, ...broken, ...one]);
    const decoded = lsa.decode(frame.buffer);
    assert.deepEqual([decoded.messages.length, decoded.malformed], [2, 1]);
    for (let cut = 1; cut < one.length; cut++) {
      const d = lsa.decode(one.slice(0, cut).buffer);
      assert.deepEqual([d.messages.length, d.malformed], [0, 1], `cut at ${cut}`);
    }
  });

  it("stops reading a process's frame at the LSA's value budget, a message's or the frame's, and says so; a process reads the LSA's whole", () => {
    const call = (id: number, items: number) => ({ kind: 'call', id, op: 'EnumerateSecurityPackages', body: Array.from({ length: items }, () => ({})) });
    const frameOf = (messages: unknown[]) => process.encode(messages, () => assert.fail());
    // One message: the body array and its items are values, so 4,095 items are within 4,096 and 4,096 are not.
    assert.deepEqual(Object.keys(lsa.decode(frameOf([call(1, UNTRUSTED_VALUE_BUDGET.perMessage - 1)]))), ['messages', 'sizes', 'malformed']);
    const over = lsa.decode(frameOf([call(1, UNTRUSTED_VALUE_BUDGET.perMessage), call(2, 1)]));
    assert.deepEqual([over.messages.length, over.malformed, over.overBudget], [0, 1, true], 'nothing after it is read');
    // Messages each within theirs, but more of them than the frame's budget: those before it are kept.
    const perMessage = UNTRUSTED_VALUE_BUDGET.perMessage - 1;
    const count = Math.ceil(UNTRUSTED_VALUE_BUDGET.perFrame / perMessage) + 2;
    const many = lsa.decode(frameOf(Array.from({ length: count }, (_, i) => call(i, perMessage - 1))));
    assert.equal(many.overBudget, true);
    assert.equal(many.messages.length, Math.floor(UNTRUSTED_VALUE_BUDGET.perFrame / perMessage));
    // A process trusts the LSA's frames: no budget there.
    const fromLsa = process.decode(lsa.encode([call(1, 2 * UNTRUSTED_VALUE_BUDGET.perMessage)], () => assert.fail()));
    assert.deepEqual([fromLsa.messages.length, fromLsa.overBudget], [1, undefined]);
  });

  it('takes no bigint of more than 40 digits from a process (thousands of them cost the LSA far more a byte than anything else), and gives one to a process', () => {
    const huge = 10n ** 40n;
    const wide = { kind: 'call', id: 1, op: 'EnumerateSecurityPackages', body: [huge] };
    const fromProcess = lsa.decode(process.encode([wide], () => assert.fail()));
    assert.deepEqual([fromProcess.messages.length, fromProcess.malformed], [0, 1]);
    // Wider than 64 bits but within 40 digits is read (the op's decoder answers for a LUID that wide).
    const within = lsa.decode(process.encode([{ ...wide, body: [2n ** 64n, 10n ** 40n - 1n, -(2n ** 63n)] }], () => assert.fail()));
    assert.deepEqual((within.messages[0] as { body: bigint[] }).body, [2n ** 64n, 10n ** 40n - 1n, -(2n ** 63n)]);
    const toProcess = process.decode(lsa.encode([{ ...wide, body: [10n ** 400n] }], () => assert.fail()));
    assert.deepEqual((toProcess.messages[0] as { body: bigint[] }).body, [10n ** 400n]);
  });

  it('never throws on random bytes, or on a real frame with random bytes changed', () => {
    const sample = new Uint8Array(
      process.encode(
        Object.entries(SAMPLES).map(([op, { reply }], id) => ({ kind: 'return', id, op, body: reply })),
        () => assert.fail(),
      ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), (random, edits) => {
        const edited = sample.slice();
        for (const [at, value] of edits) edited[at % edited.length] = value;
        for (const bytes of [random, edited]) {
          const d = lsa.decode(bytes.buffer);
          assert.ok(d.messages.length + d.malformed >= 0);
        }
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it('carries any value made of what the LPC vocabulary uses as structured clone would', () => {
    const leaf = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.bigInt(),
      fc.string({ unit: 'binary' }),
      fc.uint8Array({ maxLength: 64 }),
    );
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('v'), { maxKeys: 4 })),
    })).v;
    fc.assert(
      fc.property(value, fc.constantFrom(...Object.keys(SAMPLES)), (body, op) => {
        const messages = [
          { kind: 'return', id: 1, op, body: { status: 0, buffer: body, extra: body } },
          { kind: 'call', id: 2, op, body },
        ];
        assert.deepEqual(roundTrip(process, messages), structuredClone(messages));
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
