// NTLM-over-HTTP headers as pure functions: what the server takes from Authorization, what it
// sends in WWW-Authenticate, and what the client takes from a challenge.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_AUTHORIZATION_LENGTH, authorization, ntlmChallenge, parseAuthorization, wwwAuthenticate } from '../../app-protocols/http-auth.js';

const NEGOTIATE = 'TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==';

describe('parseAuthorization', () => {
  it('takes "NTLM <base64>" in any scheme case and with extra spaces', () => {
    for (const value of [`NTLM ${NEGOTIATE}`, `ntlm ${NEGOTIATE}`, `  NTLM   ${NEGOTIATE}  `]) {
      const parsed = parseAuthorization(value);
      assert.equal(parsed.kind, 'ntlm', value);
      if (parsed.kind === 'ntlm') assert.equal(Buffer.from(parsed.token).toString('latin1', 0, 8), 'NTLMSSP\0');
    }
  });

  it('reports no header as none, and another scheme (Basic, Negotiate) as other: only NTLM is offered', () => {
    assert.deepEqual(parseAuthorization(undefined), { kind: 'none' });
    assert.deepEqual(parseAuthorization('Basic YWxpY2U6eA=='), { kind: 'other', scheme: 'Basic' });
    assert.deepEqual(parseAuthorization(`Negotiate ${NEGOTIATE}`), { kind: 'other', scheme: 'Negotiate' });
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
    ]) {
      assert.equal(parseAuthorization(value).kind, 'malformed', JSON.stringify(value));
    }
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
  });

  it("finds the NTLM challenge among a server's challenges", () => {
    assert.equal(ntlmChallenge(undefined), undefined);
    assert.equal(ntlmChallenge('Basic realm="x"'), undefined);
    assert.deepEqual(ntlmChallenge('NTLM'), new Uint8Array(0));
    assert.deepEqual(ntlmChallenge(['Negotiate', 'NTLM AQID']), Uint8Array.from([1, 2, 3]));
    assert.deepEqual(ntlmChallenge('Basic realm="x", NTLM AQID'), Uint8Array.from([1, 2, 3]));
    assert.equal(typeof ntlmChallenge('NTLM ***'), 'string');
  });
});
