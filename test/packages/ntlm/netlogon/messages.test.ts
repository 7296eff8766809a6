// The Netlogon messages' framing (packages/ntlm/netlogon/messages.ts): every call and reply packs
// then unpacks to itself; any bytes at all (random, or a valid message changed, cut short or
// extended) only ever give a message or a NetlogonWireError with an offset inside them; frames are
// split as they arrive, and a length past the limit is refused before anything is buffered.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  frame,
  MAX_FRAME_BYTES,
  NETLOGON_OPNUM,
  NetlogonWireError,
  packBody,
  packSealed,
  takeFrames,
  unpackBody,
  unpackFrame,
  type NetlogonBody,
} from '../../../../packages/ntlm/netlogon/index.js';

const name = fc.string({ maxLength: 40 }).filter((s) => Buffer.from(Buffer.from(s, 'utf16le').toString('utf16le'), 'utf16le').toString('utf16le') === s);
const eight = fc.uint8Array({ minLength: 8, maxLength: 8 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });

const body: fc.Arbitrary<NetlogonBody> = fc.oneof(
  fc.record({
    kind: fc.constant('request' as const),
    callId: u32,
    call: fc.record({
      opnum: fc.constant(NETLOGON_OPNUM.NetrServerReqChallenge),
      primaryName: name,
      domainName: name,
      computerName: name,
      clientChallenge: eight,
    }),
  }),
  fc.record({
    kind: fc.constant('reply' as const),
    callId: u32,
    call: fc.record({ opnum: fc.constant(NETLOGON_OPNUM.NetrServerReqChallenge), status: u32, serverChallenge: eight }),
  }),
  fc.record({
    kind: fc.constant('request' as const),
    callId: u32,
    call: fc.record({
      opnum: fc.constant(NETLOGON_OPNUM.NetrServerAuthenticate3),
      primaryName: name,
      accountName: name,
      secureChannelType: u16,
      computerName: name,
      clientCredential: eight,
      negotiateFlags: u32,
    }),
  }),
  fc.record({
    kind: fc.constant('reply' as const),
    callId: u32,
    call: fc.record({ opnum: fc.constant(NETLOGON_OPNUM.NetrServerAuthenticate3), status: u32, serverCredential: eight, negotiateFlags: u32, accountRid: u32 }),
  }),
  fc.record({
    kind: fc.constant('request' as const),
    callId: u32,
    call: fc.record({
      opnum: fc.constant(NETLOGON_OPNUM.NetrLogonSamLogonEx),
      logonServer: name,
      computerName: name,
      logonLevel: u16,
      logonDomainName: name,
      packageName: name,
      logonData: fc.uint8Array({ maxLength: 400 }),
      validationLevel: u16,
    }),
  }),
  fc.record({
    kind: fc.constant('reply' as const),
    callId: u32,
    call: fc.record({
      opnum: fc.constant(NETLOGON_OPNUM.NetrLogonSamLogonEx),
      status: u32,
      validationLevel: u16,
      validationData: fc.uint8Array({ maxLength: 400 }),
      authoritative: fc.boolean(),
    }),
  }),
) as fc.Arbitrary<NetlogonBody>;

/** What unpackFrame gives, or the NetlogonWireError it throws (anything else fails the property). */
function readOrRefuse(bytes: Uint8Array): void {
  try {
    unpackFrame(bytes);
  } catch (error) {
    assert.ok(error instanceof NetlogonWireError, `not a NetlogonWireError: ${String(error)}`);
    assert.ok(error.offset >= 0 && error.offset <= bytes.length, `offset ${error.offset} outside ${bytes.length} bytes`);
  }
}

describe('the Netlogon framing', () => {
  it('packs and unpacks every call and reply to itself', () => {
    fc.assert(
      fc.property(body, (b) => {
        const bytes = packBody(b);
        // fast-check's records have no prototype; what unpacking makes has Object's.
        const plain = structuredClone(b);
        assert.deepEqual(unpackBody(bytes), plain);
        assert.deepEqual(unpackFrame(bytes), plain);
        assert.deepEqual(packBody(unpackBody(bytes)), bytes);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('reads a sealed frame as sealed bytes, for the channel to open', () => {
    assert.deepEqual(unpackFrame(packSealed(Uint8Array.of(1, 2, 3))), { kind: 'sealed', sealed: Uint8Array.of(1, 2, 3) });
  });

  it('only ever answers a message or a NetlogonWireError, for random, changed, cut and extended bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), readOrRefuse), { seed: 8, numRuns: 500 });
    fc.assert(
      fc.property(body, fc.nat(), fc.integer({ min: 0, max: 255 }), (b, at, value) => {
        const bytes = packBody(b);
        const changed = bytes.slice();
        changed[at % changed.length] = value;
        readOrRefuse(changed);
        readOrRefuse(bytes.subarray(0, at % bytes.length));
        readOrRefuse(new Uint8Array([...bytes, value]));
      }),
      { seed: 9, numRuns: 500 },
    );
  });

  it('names the field and offset of what it refuses', () => {
    const ok = packBody({
      kind: 'request',
      callId: 1,
      call: {
        opnum: NETLOGON_OPNUM.NetrServerReqChallenge,
        primaryName: 'dc',
        domainName: 'EXAMPLE',
        computerName: 'MEMBER',
        clientChallenge: new Uint8Array(8),
      },
    });
    assert.throws(
      () => unpackFrame(ok.subarray(0, ok.length - 1)),
      (e: NetlogonWireError) => e.code === 'TRUNCATED' && /ClientChallenge/.test(e.message),
    );
    assert.throws(
      () => unpackFrame(new Uint8Array([...ok, 0])),
      (e: NetlogonWireError) => e.code === 'TRAILING_BYTES' && e.offset === ok.length,
    );
    const version = ok.slice();
    version[0] = 2;
    assert.throws(
      () => unpackFrame(version),
      (e: NetlogonWireError) => e.code === 'BAD_VERSION',
    );
    const opnum = ok.slice();
    opnum[2] = 30; // NetrServerPasswordSet2: not served
    assert.throws(
      () => unpackFrame(opnum),
      (e: NetlogonWireError) => e.code === 'UNKNOWN_OPNUM' && e.offset === 2,
    );
    const odd = ok.slice();
    odd[8] = 3; // PrimaryName's byte count, odd
    assert.throws(
      () => unpackFrame(odd),
      (e: NetlogonWireError) => e.code === 'BAD_STRING' || e.code === 'TRUNCATED',
    );
    const long = ok.slice();
    new DataView(long.buffer).setUint32(8, 0x7fffffff, true);
    assert.throws(
      () => unpackFrame(long),
      (e: NetlogonWireError) => e.code === 'TOO_LONG' && e.offset === 8,
    );
  });

  it('splits what arrives into whole frames, keeping the rest, and refuses a length past the limit before buffering it', () => {
    const a = frame(Uint8Array.of(1, 2, 3));
    const b = frame(Uint8Array.of(4));
    const both = Buffer.concat([a, b, b.subarray(0, 2)]);
    const { frames, rest } = takeFrames(both);
    assert.deepEqual(frames, [Uint8Array.of(1, 2, 3), Uint8Array.of(4)]);
    assert.deepEqual([...rest], [0, 0]);
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    assert.throws(
      () => takeFrames(huge),
      (e: NetlogonWireError) => e.code === 'TOO_LONG',
    );
    assert.throws(() => frame(new Uint8Array(MAX_FRAME_BYTES + 1)), RangeError);
  });
});
