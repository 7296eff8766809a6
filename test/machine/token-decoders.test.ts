// The registered token decoders (machine/token-decoders.ts) on SPNEGO and Kerberos: the framing is recognised,
// the token described as `sspi-emu decode` does, and the mechanism token inside described by the
// other decoders (NTLM's), or left hex when none knows it; a malformed SPNEGO token is said to be.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeToken, tokenDecoders } from '../../machine/token-decoders.js';
import { MECH_OID, NEG_STATE, packNegTokenResp } from '../../packages/negotiate/wire.js';
import { hexBytes, SAMBA_NEG_TOKEN_INIT, WINDOWS_NEG_TOKEN_INIT2 } from '../packages/negotiate/vectors.js';
import * as KRB from '../packages/kerberos/messages/vectors.js';

type Fields = Record<string, unknown>;

describe('token decoders: SPNEGO', () => {
  it('is registered after NTLM, the example and Kerberos', () => {
    assert.deepEqual(
      tokenDecoders().map((d) => d.name),
      ['NTLM', 'Example', 'Kerberos', 'SPNEGO'],
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

describe('token decoders: Kerberos', () => {
  it("describes MIT's AS-REQ and KRB-ERROR, and gss-client's AP-REQ token in its GSS-API framing", () => {
    const asReq = decodeToken(hexBytes(KRB.AS_REQ));
    assert.ok(asReq !== undefined && 'fields' in asReq, JSON.stringify(asReq));
    assert.equal(asReq.decoder, 'Kerberos');
    assert.equal((asReq.fields as Fields).type, 'AS-REQ');
    const error = decodeToken(hexBytes(KRB.PREAUTH_REQUIRED));
    assert.ok(error !== undefined && 'fields' in error);
    assert.equal((error.fields as Fields).errorCode, 'KDC_ERR_PREAUTH_REQUIRED (25)');
    const ap = decodeToken(hexBytes(KRB.GSS_AP_REQ));
    assert.ok(ap !== undefined && 'fields' in ap);
    assert.equal((ap.fields as Fields).type, 'AP-REQ');
  });

  it("describes the Kerberos token inside gss-client's SPNEGO NegTokenInit and gss-server's NegTokenResp", () => {
    const init = decodeToken(hexBytes(KRB.SPNEGO_KRB5_NEG_TOKEN_INIT));
    assert.ok(init !== undefined && 'fields' in init);
    assert.equal(init.decoder, 'SPNEGO');
    const inner = (init.fields as Fields).mechToken as { mechanism: string; decoded: Fields };
    assert.equal(inner.mechanism, 'Kerberos');
    assert.equal(inner.decoded.type, 'AP-REQ');
    const resp = decodeToken(hexBytes(KRB.SPNEGO_KRB5_NEG_TOKEN_RESP));
    assert.ok(resp !== undefined && 'fields' in resp);
    const answer = (resp.fields as Fields).responseToken as { mechanism: string; decoded: Fields };
    assert.equal(answer.decoded.type, 'AP-REP');
  });

  it('says what is wrong with a token that starts as a Kerberos message and is not one', () => {
    const decoded = decodeToken(hexBytes(KRB.AS_REQ).subarray(0, 40));
    assert.ok(decoded !== undefined && 'error' in decoded, JSON.stringify(decoded));
    assert.equal(decoded.decoder, 'Kerberos');
    assert.match(decoded.error, /\(BAD_LENGTH at byte offset 1 of 40\)/);
  });
});
