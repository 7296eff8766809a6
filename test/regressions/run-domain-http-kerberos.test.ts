// Found following the README as a new user: `run --domain --http --package Kerberos` always failed
// ("InitializeSecurityContext (the first NTLM token) returned SEC_E_OK"). The HTTP apps put every
// package but Negotiate under the "NTLM" scheme, and the client wanted SEC_I_CONTINUE_NEEDED from
// its first call; Kerberos' tokens go under "Negotiate" now on both sides (IIS's
// "Negotiate:Kerberos" provider), and its AP-REQ with mutual authentication is answered by the
// server's final token (the AP-REP) with the 200, which the client verifies.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sspiEmu } from '../helpers/sockets.js';
import { NEGOTIATE_SCHEME, NTLM_SCHEME, schemeOfPackage } from '../../app-protocols/index.js';

describe('Kerberos over HTTP', () => {
  it('goes under the Negotiate scheme, as Negotiate does; NTLM and any other package under NTLM', () => {
    assert.deepEqual(
      ['Kerberos', 'kerberos', 'Negotiate', 'NTLM', 'Example', 'Contoso'].map(schemeOfPackage),
      [NEGOTIATE_SCHEME, NEGOTIATE_SCHEME, NEGOTIATE_SCHEME, NTLM_SCHEME, NTLM_SCHEME, NTLM_SCHEME],
    );
  });

  it('run --domain --http --package Kerberos: one request, the 200 with the AP-REP, which fetch verifies', { timeout: 150_000 }, async () => {
    const r = await sspiEmu(['run', '--domain', '--http', '--package', 'Kerberos', '--quiet'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^SEC_E_OK: workstation: HTTP 200 after 1 request\(s\), Negotiate handshake sent, the server's final token verified\npackage: Kerberos\n/);
    assert.match(r.stdout, /member .* 1 authenticated, 0 failed; contexts left in the LSA: 0/);
  });
});
