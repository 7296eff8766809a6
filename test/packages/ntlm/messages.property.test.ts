// Properties of the NTLM wire format (packages/ntlm/messages.ts), checked with fast-check from
// fixed seeds: every message survives pack then unpack unchanged, and the unpack functions, given
// any bytes at all (random, or a valid message mutated), either return or throw NtlmParseError
// with an offset inside the buffer, never anything else.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { unpackSecChannelBindings } from '../../../packages/ntlm/crypto.js';
import { unpackContextData } from '../../../packages/ntlm/context-data.js';
import { describeNtlmMessage } from '../../../packages/ntlm/decode.js';
import { MSV_AV, NTLMSSP_NEGOTIATE } from '../../../packages/ntlm/flags.js';
import {
  messageType,
  micOffset,
  NtlmParseError,
  packAuthenticate,
  packChallenge,
  packNegotiate,
  packNtlmV2Response,
  unpackAuthenticate,
  unpackAuthenticateNtlmV2Response,
  unpackAvPairs,
  unpackChallenge,
  unpackNegotiate,
  unpackNtlmV2Response,
  type AuthenticateMessage,
  type AvPair,
  type ChallengeMessage,
  type NegotiateMessage,
  type NtlmV2Response,
} from '../../../packages/ntlm/messages.js';
import { NtlmSecurityContext } from '../../../packages/ntlm/security.js';
import { NTLMV2 } from './vectors.js';

const SEED = 0x5eed_0001;
const RUNS = 300;

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });
/** OEM names: Latin-1, one byte per character. */
const oem = fc.string({ unit: 'binary-ascii', maxLength: 24 });
/** UTF-16 names: any code point, no lone surrogates (those are refused on reading, by design). */
const utf16 = fc.string({ unit: 'binary', maxLength: 24 });
const version = fc.option(fc.record({ major: fc.nat(255), minor: fc.nat(255), build: fc.nat(0xffff), revision: fc.nat(255) }), { nil: undefined });

/** A well-formed AV_PAIR: fixed-size ids with their size, string ids with an even length, other ids anything. */
const avPair: fc.Arbitrary<AvPair> = fc.oneof(
  fc.record({ id: fc.constant(MSV_AV.MsvAvFlags), value: fc.uint8Array({ minLength: 4, maxLength: 4 }) }),
  fc.record({ id: fc.constant(MSV_AV.MsvAvTimestamp), value: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
  fc.record({ id: fc.constant(MSV_AV.MsvAvChannelBindings), value: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
  fc.record({
    id: fc.constantFrom(MSV_AV.MsvAvNbComputerName, MSV_AV.MsvAvNbDomainName, MSV_AV.MsvAvDnsComputerName, MSV_AV.MsvAvDnsTreeName, MSV_AV.MsvAvTargetName),
    value: fc.array(fc.uint8Array({ minLength: 2, maxLength: 2 }), { maxLength: 12 }).map((units) => Uint8Array.from(units.flatMap((u) => [...u]))),
  }),
  fc.record({ id: fc.integer({ min: 0x000b, max: 0xffff }), value: bytes(24) }),
);

const negotiate: fc.Arbitrary<NegotiateMessage> = fc.record({ flags: u32, domainName: oem, workstation: oem, version });

const challenge: fc.Arbitrary<ChallengeMessage> = fc
  .record({
    flags: u32,
    unicodeName: utf16,
    oemName: oem,
    serverChallenge: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    targetInfo: fc.option(fc.array(avPair, { maxLength: 6 }), { nil: undefined }),
    version,
  })
  .map(({ unicodeName, oemName, ...m }) => ({ ...m, targetName: m.flags & NTLMSSP_NEGOTIATE.UNICODE ? unicodeName : oemName }));

const authenticate: fc.Arbitrary<AuthenticateMessage> = fc
  .record({
    flags: u32,
    lmChallengeResponse: bytes(24),
    ntChallengeResponse: bytes(64),
    names: fc.tuple(utf16, utf16, utf16),
    oemNames: fc.tuple(oem, oem, oem),
    encryptedRandomSessionKey: bytes(16),
    version,
    mic: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }), { nil: undefined }),
  })
  .map(({ names, oemNames, ...m }) => {
    const [domainName, userName, workstation] = m.flags & NTLMSSP_NEGOTIATE.UNICODE ? names : oemNames;
    // With a MIC, Version is always written (zeros when none is given), so it always reads back.
    const v = m.mic !== undefined ? (m.version ?? { major: 0, minor: 0, build: 0, revision: 0 }) : m.version;
    return { ...m, domainName, userName, workstation, version: v };
  });

const ntlmV2Response: fc.Arbitrary<NtlmV2Response> = fc.record({
  ntProofStr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  clientChallenge: fc.record({
    timestamp: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    challengeFromClient: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    avPairs: fc.array(avPair, { maxLength: 6 }),
    trailing: bytes(8),
  }),
});

/** Normalizes for comparison: Uint8Array subclasses and views compare by content. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
}

describe('NTLM messages survive pack then unpack', () => {
  test('every NEGOTIATE_MESSAGE', () => {
    fc.assert(
      fc.property(negotiate, (m) => {
        assert.deepEqual(plain(unpackNegotiate(packNegotiate(m))), plain(m));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('every CHALLENGE_MESSAGE, its AV_PAIR list included', () => {
    fc.assert(
      fc.property(challenge, (m) => {
        assert.deepEqual(plain(unpackChallenge(packChallenge(m))), plain(m));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('every AUTHENTICATE_MESSAGE, with and without Version and MIC', () => {
    fc.assert(
      fc.property(authenticate, (m) => {
        assert.deepEqual(plain(unpackAuthenticate(packAuthenticate(m))), plain(m));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('every NTLMv2_RESPONSE, its client challenge and AV pairs included', () => {
    fc.assert(
      fc.property(ntlmV2Response, (r) => {
        assert.deepEqual(plain(unpackNtlmV2Response(packNtlmV2Response(r))), plain(r));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

/** Every function that reads NTLM bytes off the wire (or out of ContextData). */
const READERS: ReadonlyArray<readonly [string, (b: Uint8Array) => unknown]> = [
  ['messageType', messageType],
  ['unpackNegotiate', unpackNegotiate],
  ['unpackChallenge', unpackChallenge],
  ['unpackAuthenticate', unpackAuthenticate],
  ['unpackAuthenticateNtlmV2Response', unpackAuthenticateNtlmV2Response],
  ['micOffset', micOffset],
  ['unpackAvPairs', unpackAvPairs],
  ['unpackNtlmV2Response', unpackNtlmV2Response],
  ['describeNtlmMessage', describeNtlmMessage],
  ['unpackSecChannelBindings', unpackSecChannelBindings],
  ['unpackContextData', unpackContextData],
  ['NtlmSecurityContext.importState', (b) => NtlmSecurityContext.importState(b)],
];

/** Runs `read` and checks that it returned, or threw NtlmParseError with an offset in [0, length]. */
function readsOrRefuses(name: string, read: (b: Uint8Array) => unknown, input: Uint8Array): void {
  try {
    read(input);
  } catch (error) {
    assert.ok(error instanceof NtlmParseError, `${name} threw ${String(error)} for ${Buffer.from(input).toString('hex')}`);
    assert.ok(
      Number.isInteger(error.offset) && error.offset >= 0 && error.offset <= input.length,
      `${name}: offset ${error.offset} outside a ${input.length}-byte input (${error.message})`,
    );
  }
}

/** A valid message with a few bytes overwritten, cut short or extended. */
const mutatedMessage: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.oneof(
      negotiate.map(packNegotiate),
      challenge.map(packChallenge),
      authenticate.map(packAuthenticate),
      fc.constant(NTLMV2.authenticateMessage),
      fc.constant(NTLMV2.challengeMessage),
    ),
    fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }),
    fc.option(fc.nat(), { nil: undefined }),
    bytes(16),
  )
  .map(([message, edits, cut, tail]) => {
    const out = Uint8Array.from(message);
    for (const [at, value] of edits) out[at % out.length] = value;
    const cutAt = cut === undefined ? out.length : cut % (out.length + 1);
    return Uint8Array.from([...out.subarray(0, cutAt), ...(cut === undefined ? tail : [])]);
  });

describe('NTLM readers given hostile bytes', () => {
  test('never throw anything but NtlmParseError, with an offset inside the buffer, for random bytes', () => {
    fc.assert(
      fc.property(bytes(200), (input) => {
        for (const [name, read] of READERS) readsOrRefuses(name, read, input);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  test('never throw anything but NtlmParseError, with an offset inside the buffer, for mutated valid messages', () => {
    fc.assert(
      fc.property(mutatedMessage, (input) => {
        for (const [name, read] of READERS) readsOrRefuses(name, read, input);
      }),
      { seed: SEED, numRuns: RUNS * 3 },
    );
  });

  test('never throw anything but NtlmParseError for "NTLMSSP\\0", a message type and random bytes', () => {
    const header = fc
      .tuple(fc.constantFrom(1, 2, 3), bytes(120))
      .map(([type, rest]) => Uint8Array.from([...Buffer.from('NTLMSSP\0', 'latin1'), type, 0, 0, 0, ...rest]));
    fc.assert(
      fc.property(header, (input) => {
        for (const [name, read] of READERS) readsOrRefuses(name, read, input);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
