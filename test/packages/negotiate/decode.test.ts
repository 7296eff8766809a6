// SPNEGO tokens spelled out (packages/negotiate/decode.ts): every field by name, the mechanism
// token left to the caller's describer (hex without one), and the framing recognized before parsing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeNegotiationToken, formatNegotiationToken, isSpnegoToken } from '../../../packages/negotiate/decode.js';
import { DerError } from '../../../packages/negotiate/der.js';
import { MECH_OID, NEG_STATE, packNegTokenResp } from '../../../packages/negotiate/spnego.js';
import { hexBytes, SAMBA_NEG_TOKEN_INIT, WINDOWS_NEG_TOKEN_INIT2 } from './vectors.js';

describe('SPNEGO decode', () => {
  it("describes Samba's NegTokenInit, its mechToken as hex without a describer and as the describer says with one", () => {
    const bytes = hexBytes(SAMBA_NEG_TOKEN_INIT);
    const plain = describeNegotiationToken(bytes);
    assert.equal(plain.type, 'NegTokenInit');
    assert.deepEqual(plain.mechTypes, ['1.3.6.1.4.1.311.2.2.10 (NTLMSSP)']);
    assert.deepEqual(plain.mechToken, { length: 40, hex: SAMBA_NEG_TOKEN_INIT.slice(-80) });
    const seen: Array<string | undefined> = [];
    const described = describeNegotiationToken(bytes, (token, mech) => (seen.push(mech), { mechanism: 'NTLMSSP', decoded: { bytes: token.length } }));
    assert.deepEqual(seen, [MECH_OID.NTLMSSP], "the optimistic token is the first mechanism's");
    assert.deepEqual(described.mechToken, { length: 40, mechanism: 'NTLMSSP', decoded: { bytes: 40 } });
    assert.match(
      formatNegotiationToken(described, (inner) => `INNER ${inner.mechanism}`),
      /mechToken: 40 bytes, NTLMSSP\n    INNER NTLMSSP$/,
    );
  });

  it('describes a NegTokenInit2 and a NegTokenResp field by field', () => {
    const init2 = describeNegotiationToken(hexBytes(WINDOWS_NEG_TOKEN_INIT2));
    assert.equal(init2.type, 'NegTokenInit2');
    assert.deepEqual(init2.negHints, { hintName: 'not_defined_in_RFC4178@please_ignore' });
    const resp = describeNegotiationToken(packNegTokenResp({ negState: NEG_STATE.REQUEST_MIC, supportedMech: '1.2.3.4', mechListMIC: Uint8Array.of(0xab) }));
    assert.deepEqual(resp, { type: 'NegTokenResp', length: 21, negState: '3 (request-mic)', supportedMech: '1.2.3.4', mechListMIC: 'ab' });
    assert.equal(formatNegotiationToken(resp), 'NegTokenResp (21 bytes)\n  negState: 3 (request-mic)\n  supportedMech: 1.2.3.4\n  mechListMIC: ab');
  });

  it('recognizes SPNEGO by its framing, also when cut short, and throws DerError for what it cannot read', () => {
    const bytes = hexBytes(SAMBA_NEG_TOKEN_INIT);
    assert.equal(isSpnegoToken(bytes.subarray(0, 12)), true);
    assert.equal(isSpnegoToken(Uint8Array.from(Buffer.from('NTLMSSP\0'))), false);
    assert.equal(isSpnegoToken(hexBytes('601006092a864886f7120102020100aabbcc')), false, 'a raw Kerberos token is not SPNEGO');
    assert.throws(() => describeNegotiationToken(bytes.subarray(0, 12)), DerError);
  });
});
