// Properties of the SPNEGO wire format (packages/negotiate/spnego.ts over der.ts), checked with
// fast-check from fixed seeds: every token survives pack then unpack unchanged (and packs back to
// the same bytes), and unpack, given any bytes at all (random, or a valid token mutated, cut or
// extended), either returns or throws DerError with an offset inside the buffer, never anything else.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DerError } from '../../../packages/kit/index.js';
import {
  packBareNegTokenInit,
  MAX_MECH_TYPE_BYTES,
  packMechTypeList,
  packNegTokenInit,
  packNegTokenResp,
  unpackNegotiationToken,
  type NegTokenInit,
  type NegTokenResp,
  type NegState,
} from '../../../packages/negotiate/spnego.js';
import { hexBytes, SAMBA_NEG_TOKEN_INIT, WINDOWS_NEG_TOKEN_INIT2 } from './vectors.js';

const SEED = 0x5eed_0013;
const RUNS = 400;

/** Any object identifier: a first arc 0-2, a second that the first allows, then up to 8 arcs of any size. */
const oid = fc
  .tuple(
    fc.integer({ min: 0, max: 2 }),
    fc.integer({ min: 0, max: 2 ** 40 }),
    fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), { maxLength: 8 }),
  )
  .map(([a, b, rest]) => [a, a < 2 ? b % 40 : b, ...rest].join('.'))
  // A MechType's contents are at most MAX_MECH_TYPE_BYTES (its list: a SEQUENCE and an OID header of two bytes each).
  .filter((o) => packMechTypeList([o]).byteLength <= MAX_MECH_TYPE_BYTES + 4);
const octets = fc.uint8Array({ maxLength: 300 });
const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const bits = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 7 }))
  .map(([bytes, unusedBits]) => ({ bytes: bytes.map((b, i) => (i === bytes.length - 1 ? b & ~((1 << unusedBits) - 1) & 0xff : b)), unusedBits }));

const negTokenInit: fc.Arbitrary<Omit<NegTokenInit, 'kind' | 'mechTypeList'>> = fc.record(
  {
    mechTypes: fc.array(oid, { maxLength: 6 }),
    reqFlags: bits,
    mechToken: octets,
    mechListMIC: octets,
  },
  { requiredKeys: ['mechTypes'], noNullPrototype: true },
);

const negTokenInit2: fc.Arbitrary<Omit<NegTokenInit, 'kind' | 'mechTypeList'>> = fc.record(
  {
    mechTypes: fc.array(oid, { maxLength: 6 }),
    reqFlags: bits,
    mechToken: octets,
    negHints: fc.record({ hintName: latin1, hintAddress: octets }, { requiredKeys: [], noNullPrototype: true }),
    mechListMIC: octets,
  },
  { requiredKeys: ['negHints'], noNullPrototype: true },
);

const negTokenResp: fc.Arbitrary<Omit<NegTokenResp, 'kind'>> = fc.record(
  {
    negState: fc.constantFrom<NegState>(0, 1, 2, 3),
    supportedMech: oid,
    responseToken: octets,
    mechListMIC: octets,
  },
  { requiredKeys: [], noNullPrototype: true },
);

/** What unpack gives for a NegTokenInit that pack was given: the same fields, plus the MechTypeList's bytes. */
function expectedInit(token: Omit<NegTokenInit, 'kind' | 'mechTypeList'>): NegTokenInit {
  const out: NegTokenInit = { kind: 'NegTokenInit', ...token };
  if (token.mechTypes !== undefined) out.mechTypeList = packMechTypeList(token.mechTypes);
  return out;
}

/** Unpack must return or throw DerError with an offset inside the buffer. */
function onlyDerErrors(bytes: Uint8Array): void {
  try {
    unpackNegotiationToken(bytes);
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
    assert.ok(error.offset >= 0 && error.offset <= bytes.length, `offset ${error.offset} outside ${bytes.length} bytes (${error.message})`);
  }
}

/** A valid token with some bytes changed, cut short, or with bytes added. */
function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([bytes, edits]) => {
      const out = bytes.slice();
      for (const [at, value] of edits) if (out.length > 0) out[at % out.length] = value;
      return out;
    }),
    fc.tuple(valid, fc.nat()).map(([bytes, cut]) => bytes.subarray(0, bytes.length === 0 ? 0 : cut % bytes.length)),
    fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([bytes, extra]) => Uint8Array.from([...bytes, ...extra])),
    // A length byte turned into each of DER's forbidden forms.
    fc.tuple(valid, fc.nat(), fc.constantFrom(0x80, 0x81, 0x84, 0x85, 0xff)).map(([bytes, at, value]) => {
      const out = bytes.slice();
      if (out.length > 1) out[1 + (at % (out.length - 1))] = value;
      return out;
    }),
  );
}

const validTokens: fc.Arbitrary<Uint8Array> = fc.oneof(
  negTokenInit.map(packNegTokenInit),
  negTokenInit.map(packBareNegTokenInit),
  negTokenInit2.map(packNegTokenInit),
  negTokenResp.map(packNegTokenResp),
  fc.constant(hexBytes(SAMBA_NEG_TOKEN_INIT)),
  fc.constant(hexBytes(WINDOWS_NEG_TOKEN_INIT2)),
);

describe('SPNEGO tokens, as properties', () => {
  test('a NegTokenInit survives pack then unpack, and packs back to the same bytes', () => {
    fc.assert(
      fc.property(negTokenInit, (token) => {
        const packed = packNegTokenInit(token);
        const { token: back, framed } = unpackNegotiationToken(packed);
        assert.equal(framed, true);
        assert.deepEqual(back, expectedInit(token));
        if (back.kind === 'NegTokenInit') assert.deepEqual(packNegTokenInit(back), packed);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('a NegTokenInit2 survives pack then unpack', () => {
    fc.assert(
      fc.property(negTokenInit2, (token) => {
        assert.deepEqual(unpackNegotiationToken(packNegTokenInit(token)).token, expectedInit(token));
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });

  test('a NegTokenResp survives pack then unpack', () => {
    fc.assert(
      fc.property(negTokenResp, (token) => {
        assert.deepEqual(unpackNegotiationToken(packNegTokenResp(token)), { token: { kind: 'NegTokenResp', ...token }, framed: false });
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });

  test('random bytes only ever give a token or a DerError with an offset inside them', () => {
    const shaped = fc.tuple(fc.constantFrom(0x60, 0xa0, 0xa1, 0x30), fc.uint8Array({ maxLength: 200 })).map(([tag, rest]) => Uint8Array.from([tag, ...rest]));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), shaped), onlyDerErrors), { seed: SEED + 3, numRuns: RUNS * 5 });
  });

  test('mutated, cut and extended tokens only ever give a token or a DerError with an offset inside them', () => {
    fc.assert(fc.property(mutated(validTokens), onlyDerErrors), { seed: SEED + 4, numRuns: RUNS * 5 });
  });
});
