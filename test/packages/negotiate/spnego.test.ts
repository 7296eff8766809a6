// SPNEGO's tokens (packages/negotiate/spnego.ts) against the vectors of test-vectors.md 7: a
// Windows NegTokenInit2, Samba's NegTokenInit and NegTokenResp, the MechTypeLists a mechListMIC
// covers; and the structures a strict reader refuses.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DerError } from '../../../packages/kit/index.js';
import {
  MAX_MECH_TYPE_BYTES,
  MAX_MECH_TYPES,
  MECH_OID,
  NEG_STATE,
  packBareNegTokenInit,
  packMechTypeList,
  packNegTokenInit,
  packNegTokenResp,
  unpackInitialContextToken,
  unpackNegotiationToken,
  WINDOWS_HINT_NAME,
} from '../../../packages/negotiate/spnego.js';
import { hexBytes, MECH_TYPE_LIST_KRB5_NTLM, MECH_TYPE_LIST_NTLM, SAMBA_FINAL_RESP_PREFIX, SAMBA_NEG_TOKEN_INIT, WINDOWS_NEG_TOKEN_INIT2 } from './vectors.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('SPNEGO tokens', () => {
  it('packs the MechTypeLists a mechListMIC is computed over, as pyspnego does', () => {
    assert.equal(hex(packMechTypeList([MECH_OID.KRB5, MECH_OID.NTLMSSP])), MECH_TYPE_LIST_KRB5_NTLM);
    assert.equal(hex(packMechTypeList([MECH_OID.NTLMSSP])), MECH_TYPE_LIST_NTLM);
  });

  it("reads Samba's NegTokenInit and packs it back byte for byte", () => {
    const bytes = hexBytes(SAMBA_NEG_TOKEN_INIT);
    const { token, framed } = unpackNegotiationToken(bytes);
    assert.equal(framed, true);
    assert.equal(token.kind, 'NegTokenInit');
    if (token.kind !== 'NegTokenInit') return;
    assert.deepEqual(token.mechTypes, [MECH_OID.NTLMSSP]);
    assert.equal(hex(token.mechTypeList!), MECH_TYPE_LIST_NTLM);
    assert.equal(Buffer.from(token.mechToken!.subarray(0, 8)).toString('latin1'), 'NTLMSSP\0');
    assert.equal(token.mechToken!.length, 40);
    assert.equal(hex(packNegTokenInit({ mechTypes: token.mechTypes!, mechToken: token.mechToken! })), SAMBA_NEG_TOKEN_INIT);
  });

  it("reads Windows' NegTokenInit2 (five mechanisms, the hint name, no mechToken) and packs it back", () => {
    const bytes = hexBytes(WINDOWS_NEG_TOKEN_INIT2);
    const { token } = unpackNegotiationToken(bytes);
    assert.equal(token.kind, 'NegTokenInit');
    if (token.kind !== 'NegTokenInit') return;
    assert.deepEqual(token.mechTypes, [MECH_OID.NEGOEX, MECH_OID.MS_KRB5, MECH_OID.KRB5, MECH_OID.KRB5_USER_TO_USER, MECH_OID.NTLMSSP]);
    assert.deepEqual(token.negHints, { hintName: WINDOWS_HINT_NAME });
    assert.equal(token.mechToken, undefined);
    assert.equal(hex(packNegTokenInit({ mechTypes: token.mechTypes!, negHints: { hintName: WINDOWS_HINT_NAME } })), WINDOWS_NEG_TOKEN_INIT2);
  });

  it("packs Samba's last NegTokenResp (accept-completed with a mechListMIC) with the same bytes", () => {
    const mic = hexBytes('01000000' + 'aa'.repeat(8) + '00000000');
    const packed = packNegTokenResp({ negState: NEG_STATE.ACCEPT_COMPLETED, mechListMIC: mic });
    assert.equal(hex(packed), SAMBA_FINAL_RESP_PREFIX + hex(mic));
    assert.deepEqual(unpackNegotiationToken(packed), { token: { kind: 'NegTokenResp', negState: 0, mechListMIC: mic }, framed: false });
  });

  it('reads a NegTokenResp with every field, and one with none', () => {
    const full = { negState: NEG_STATE.REQUEST_MIC, supportedMech: MECH_OID.NTLMSSP, responseToken: Uint8Array.of(1, 2, 3), mechListMIC: Uint8Array.of(9) };
    assert.deepEqual(unpackNegotiationToken(packNegTokenResp(full)).token, { kind: 'NegTokenResp', ...full });
    assert.deepEqual(unpackNegotiationToken(hexBytes('a1023000')).token, { kind: 'NegTokenResp' });
  });

  it('reads a bare NegTokenInit (without the InitialContextToken) and says so', () => {
    const bare = packBareNegTokenInit({ mechTypes: [MECH_OID.NTLMSSP], mechListMIC: Uint8Array.of(7) });
    const { token, framed } = unpackNegotiationToken(bare);
    assert.equal(framed, false);
    assert.deepEqual(token, {
      kind: 'NegTokenInit',
      mechTypes: [MECH_OID.NTLMSSP],
      mechTypeList: hexBytes(MECH_TYPE_LIST_NTLM),
      mechListMIC: Uint8Array.of(7),
    });
  });

  it('skips extension fields past the last known one', () => {
    // NegTokenResp { negState accept-incomplete, [7] NULL }
    assert.deepEqual(unpackNegotiationToken(hexBytes('a10b3009a0030a0101a7020500')).token, { kind: 'NegTokenResp', negState: 1 });
  });

  it("locates the inner token of another mechanism's InitialContextToken (a raw Kerberos token)", () => {
    const raw = hexBytes('601006092a864886f7120102020100aabbcc');
    assert.deepEqual(unpackInitialContextToken(raw), { mech: MECH_OID.KRB5, innerStart: 13, innerEnd: 18 });
    assert.throws(
      () => unpackNegotiationToken(raw),
      (e: unknown) => e instanceof DerError && e.code === 'BAD_OID',
    );
  });

  const refusals: Array<[string, string, string, number]> = [
    ['an empty token', '', 'TRUNCATED', 0],
    ['a NegTokenInit without mechTypes', 'a0063004a2020400', 'BAD_TAG', 4],
    ['fields out of order', 'a10c300aa1030a0101a0030a0101', 'BAD_TAG', 9],
    ['a field repeated', 'a10c300aa0030a0101a0030a0101', 'BAD_TAG', 9],
    ['a negState RFC 4178 does not define', 'a1073005a0030a0104', 'BAD_VALUE', 8],
    ['a field that is not an explicit tag', 'a10530030a0101', 'BAD_TAG', 4],
    ['two values inside an explicit tag', 'a10a3008a0060a01010a0101', 'TRAILING_BYTES', 9],
    ['bytes after the token', 'a10230000000', 'TRAILING_BYTES', 4],
    ['a NegotiationToken of another choice', 'a2023000', 'BAD_TAG', 0],
    ['an InitialContextToken for SPNEGO holding a NegTokenResp', '600c06062b0601050502a1023000', 'BAD_TAG', 10],
    ['a MechType that is not an OID', 'a0083006a0043002' + '0400', 'BAD_TAG', 8],
  ];
  it(`refuses a mechTypes list past ${MAX_MECH_TYPES} MechTypes, or a MechType past ${MAX_MECH_TYPE_BYTES} bytes, and takes them up to there`, () => {
    const oids = (n: number): string[] => Array.from({ length: n }, (_, i) => `1.2.${1000 + i}`);
    assert.equal((unpackNegotiationToken(packNegTokenInit({ mechTypes: oids(MAX_MECH_TYPES) })).token as { mechTypes: string[] }).mechTypes.length, MAX_MECH_TYPES);
    assert.throws(
      () => unpackNegotiationToken(packNegTokenInit({ mechTypes: oids(MAX_MECH_TYPES + 1) })),
      (e: unknown) => e instanceof DerError && e.code === 'TOO_MANY',
    );
    // An OID of 1.2 and then arcs of one byte each: 1 + arcs bytes of contents.
    const long = (arcs: number): string => ['1.2', ...Array.from({ length: arcs }, () => '5')].join('.');
    assert.deepEqual((unpackNegotiationToken(packNegTokenInit({ mechTypes: [long(MAX_MECH_TYPE_BYTES - 1)] })).token as { mechTypes: string[] }).mechTypes, [long(MAX_MECH_TYPE_BYTES - 1)]);
    assert.throws(
      () => unpackNegotiationToken(packNegTokenInit({ mechTypes: [long(MAX_MECH_TYPE_BYTES)] })),
      (e: unknown) => e instanceof DerError && e.code === 'BAD_OID',
    );
  });

  for (const [what, der, code, offset] of refusals) {
    it(`refuses ${what} (${code} at ${offset})`, () => {
      assert.throws(
        () => unpackNegotiationToken(hexBytes(der)),
        (e: unknown) => e instanceof DerError && e.code === code && e.offset === offset,
      );
    });
  }
});
