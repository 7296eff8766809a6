// The mechanisms Negotiate knows (packages/negotiate/mechanisms.ts): in Windows' order, each by
// its package and OIDs, and how a raw token of each is recognized.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MECHANISMS, mechanismOf } from '../../../packages/negotiate/mechanisms.js';
import { MECH_OID, packInitialContextToken, packNegTokenInit } from '../../../packages/negotiate/spnego.js';

describe("Negotiate's mechanisms", () => {
  it('prefers Kerberos (both OIDs, the Windows 2000 one first) to NTLM', () => {
    assert.deepEqual(
      MECHANISMS.map((m) => [m.packageName, m.oids]),
      [
        ['Kerberos', [MECH_OID.MS_KRB5, MECH_OID.KRB5]],
        ['NTLM', [MECH_OID.NTLMSSP]],
      ],
    );
    assert.equal(mechanismOf(MECH_OID.KRB5)?.packageName, 'Kerberos');
    assert.equal(mechanismOf(MECH_OID.NEGOEX), undefined);
  });

  it('recognizes a raw NTLMSSP message and a raw GSS Kerberos token, and neither in SPNEGO or garbage', () => {
    const [kerberos, ntlm] = MECHANISMS;
    const ntlmssp = Uint8Array.from(Buffer.from('4e544c4d5353500001000000', 'hex'));
    const krb5 = packInitialContextToken(MECH_OID.KRB5, Uint8Array.of(1, 0, 0x6e, 0));
    const spnego = packNegTokenInit({ mechTypes: [MECH_OID.NTLMSSP] });
    assert.deepEqual(
      [ntlm!.isRawToken(ntlmssp), ntlm!.isRawToken(krb5), ntlm!.isRawToken(spnego), ntlm!.isRawToken(ntlmssp.subarray(0, 7))],
      [true, false, false, false],
    );
    assert.deepEqual(
      [kerberos!.isRawToken(krb5), kerberos!.isRawToken(ntlmssp), kerberos!.isRawToken(spnego), kerberos!.isRawToken(Uint8Array.of(0x60, 0x80))],
      [true, false, false, false],
    );
  });
});
