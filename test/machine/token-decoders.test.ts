// The registered token decoders (machine/token-decoders.ts) on SPNEGO: the framing is recognised,
// the token described as `sspi-emu decode` does, and the mechanism token inside described by the
// other decoders (NTLM's), or left hex when none knows it; a malformed SPNEGO token is said to be.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeToken, tokenDecoders } from '../../machine/token-decoders.js';
import { MECH_OID, NEG_STATE, packNegTokenResp } from '../../packages/negotiate/wire.js';
import { hexBytes, SAMBA_NEG_TOKEN_INIT, WINDOWS_NEG_TOKEN_INIT2 } from '../packages/negotiate/vectors.js';

type Fields = Record<string, unknown>;

describe('token decoders: SPNEGO', () => {
  it('is registered after NTLM and the example', () => {
    assert.deepEqual(
      tokenDecoders().map((d) => d.name),
      ['NTLM', 'Example', 'SPNEGO'],
    );
  });

  it("describes Samba's NegTokenInit, the NTLM NEGOTIATE inside it by NTLM's decoder", () => {
    const decoded = decodeToken(hexBytes(SAMBA_NEG_TOKEN_INIT));
    assert.ok(decoded !== undefined && 'fields' in decoded, JSON.stringify(decoded));
    assert.equal(decoded.decoder, 'SPNEGO');
    const fields = decoded.fields as Fields;
    assert.equal(fields.type, 'NegTokenInit');
    const inner = fields.mechToken as { mechanism: string; decoded: Fields };
    assert.equal(inner.mechanism, 'NTLM');
    assert.equal(inner.decoded.type, 'NEGOTIATE_MESSAGE');
  });

  it("describes Windows' NegTokenInit2 and a NegTokenResp whose response token no decoder knows (hex)", () => {
    const init2 = decodeToken(hexBytes(WINDOWS_NEG_TOKEN_INIT2));
    assert.ok(init2 !== undefined && 'fields' in init2);
    assert.equal((init2.fields as Fields).type, 'NegTokenInit2');
    const resp = decodeToken(packNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE, supportedMech: MECH_OID.NTLMSSP, responseToken: Uint8Array.of(1, 2, 3) }));
    assert.ok(resp !== undefined && 'fields' in resp);
    const fields = resp.fields as Fields;
    assert.equal(fields.type, 'NegTokenResp');
    assert.deepEqual(fields.responseToken, { length: 3, hex: '010203' });
  });

  it('says what is wrong with a token framed as SPNEGO that is not', () => {
    const decoded = decodeToken(Uint8Array.of(0xa1, 0x05, 0x30, 0x09));
    assert.ok(decoded !== undefined && 'error' in decoded, JSON.stringify(decoded));
    assert.equal(decoded.decoder, 'SPNEGO');
    assert.match(decoded.error, /at byte offset \d+ of 4/);
  });
});
