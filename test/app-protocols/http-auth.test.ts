// NTLM and Negotiate over HTTP headers as pure functions: what the server takes from Authorization, what it
// sends in WWW-Authenticate, and what the client takes from a challenge.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_AUTHORIZATION_LENGTH, authorization, isBase64, ntlmChallenge, parseAuthorization, schemeChallenge, wwwAuthenticate } from '../../app-protocols/http-auth.js';

const NEGOTIATE = 'TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==';
/** A NegTokenInit (curl --negotiate over gss-ntlmssp), for the scheme's parsing only. */
const SPNEGO = 'YEgGBisGAQUFAqA+MDygDjAMBgorBgEEAYI3AgIKoioEKE5UTE1TU1AAAQAAABeCCOIAAAAAAAAAAAAAAAAAAAAABgIAAAAAAA8=';

describe('parseAuthorization', () => {
  it('takes "NTLM <base64>" in any scheme case and with extra spaces', () => {
    for (const value of [`NTLM ${NEGOTIATE}`, `ntlm ${NEGOTIATE}`, `  NTLM   ${NEGOTIATE}  `]) {
      const parsed = parseAuthorization(value);
      assert.equal(parsed.kind, 'ntlm', value);
      if (parsed.kind === 'ntlm') assert.equal(Buffer.from(parsed.token).toString('latin1', 0, 8), 'NTLMSSP\0');
    }
  });

  it('takes "Negotiate <base64>" in any scheme case, whatever the token holds (SPNEGO, or raw NTLMSSP from some clients)', () => {
    for (const value of [`Negotiate ${NEGOTIATE}`, `negotiate ${NEGOTIATE}`, `NEGOTIATE  ${SPNEGO}`]) {
      const parsed = parseAuthorization(value);
      assert.equal(parsed.kind, 'negotiate', value);
    }
  });

  it('reports no header as none, and another scheme (Basic, Kerberos, NTLM-ish names) as other', () => {
    assert.deepEqual(parseAuthorization(undefined), { kind: 'none' });
    assert.deepEqual(parseAuthorization('Basic YWxpY2U6eA=='), { kind: 'other', scheme: 'Basic' });
    assert.deepEqual(parseAuthorization(`Kerberos ${NEGOTIATE}`), { kind: 'other', scheme: 'Kerberos' });
    assert.deepEqual(parseAuthorization(`NTLMv2 ${NEGOTIATE}`), { kind: 'other', scheme: 'NTLMv2' });
  });

  it('calls garbage, truncated and empty tokens malformed', () => {
    for (const value of [
      'NTLM',
      'NTLM ',
      'NTLM !!!notbase64***',
      `NTLM ${NEGOTIATE.slice(0, -3)}`,
      'NTLM TlRM=TVNT',
      'NTLM ====',
      '',
      '   ',
      '(bad) x',
      ['NTLM a', 'NTLM b'],
      'Negotiate',
      'Negotiate ***',
      'Negotiate ====',
    ]) {
      assert.equal(parseAuthorization(value).kind, 'malformed', JSON.stringify(value));
    }
  });

  it('takes base64 exactly as RFC 4648 pads it: whole groups of four, the last ending in "=", "==" or neither', () => {
    const pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
    const cases = ['', 'TlRM', 'TlRMTQ==', 'TlRMTVM=', 'TlRMTVNT', '====', 'TQ=', 'T===', 'TQ==TQ==', 'TlR=TQ==', 'Tl=M', 'TlRM\n', 'TlRM ', 'Tl-_', 'a+/9', '=TQ=', 'TQ=='];
    let seed = 11;
    const alphabet = 'ABCxyz019+/=-_ ';
    for (let i = 0; i < 3000; i++) {
      let text = '';
      const n = (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 13;
      for (let k = 0; k < n; k++) text += alphabet[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % alphabet.length];
      cases.push(text);
    }
    for (const text of cases) assert.equal(isBase64(text), pattern.test(text), JSON.stringify(text));
  });

  it('refuses a header over the limit before decoding it', () => {
    const parsed = parseAuthorization(`NTLM ${'A'.repeat(MAX_AUTHORIZATION_LENGTH)}`);
    assert.equal(parsed.kind, 'malformed');
    assert.match(parsed.kind === 'malformed' ? parsed.reason : '', /limit/);
  });
});

describe('WWW-Authenticate and Authorization values', () => {
  it('offers the bare scheme to start and carries a token to continue', () => {
    assert.equal(wwwAuthenticate(), 'NTLM');
    assert.equal(wwwAuthenticate(new Uint8Array(0)), 'NTLM');
    assert.equal(wwwAuthenticate(Uint8Array.from([1, 2, 3])), 'NTLM AQID');
    assert.equal(authorization(Uint8Array.from([1, 2, 3])), 'NTLM AQID');
    assert.equal(wwwAuthenticate(undefined, 'Negotiate'), 'Negotiate');
    assert.equal(wwwAuthenticate(Uint8Array.from([1, 2, 3]), 'Negotiate'), 'Negotiate AQID');
    assert.equal(authorization(Uint8Array.from([1, 2, 3]), 'Negotiate'), 'Negotiate AQID');
  });

  it("finds the NTLM challenge among a server's challenges", () => {
    assert.equal(ntlmChallenge(undefined), undefined);
    assert.equal(ntlmChallenge('Basic realm="x"'), undefined);
    assert.deepEqual(ntlmChallenge('NTLM'), new Uint8Array(0));
    assert.deepEqual(ntlmChallenge(['Negotiate', 'NTLM AQID']), Uint8Array.from([1, 2, 3]));
    assert.deepEqual(ntlmChallenge('Basic realm="x", NTLM AQID'), Uint8Array.from([1, 2, 3]));
    assert.equal(typeof ntlmChallenge('NTLM ***'), 'string');
  });

  it("finds the Negotiate challenge among a server's challenges, as one header or several", () => {
    assert.deepEqual(schemeChallenge(['Negotiate', 'NTLM'], 'Negotiate'), new Uint8Array(0));
    assert.deepEqual(schemeChallenge('Negotiate, NTLM', 'NTLM'), new Uint8Array(0));
    assert.deepEqual(schemeChallenge('negotiate AQID', 'Negotiate'), Uint8Array.from([1, 2, 3]));
    assert.equal(schemeChallenge('NTLM AQID', 'Negotiate'), undefined);
    assert.match(String(schemeChallenge('Negotiate ***', 'Negotiate')), /the Negotiate challenge is not base64/);
  });
});
