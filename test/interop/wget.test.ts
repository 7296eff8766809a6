// GNU wget, an HTTP client nobody here wrote, authenticating with NTLM against `sspi-emu serve
// --http` (a separate OS process). wget speaks only NTLMv1: its NEGOTIATE offers the OEM
// character set alone, and its AUTHENTICATE then sets NTLMSSP_NEGOTIATE_UNICODE while its names are
// 8-bit. The server reads the names in the character set it settled on in its CHALLENGE (OEM), as
// Samba does, so wget is refused for what it is, an NTLMv1 client (SEC_E_LOGON_DENIED, as Windows
// at LmCompatibilityLevel 5), and not as a corrupt token. Skipped, saying so, when wget is not
// installed.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hasProgram, runProgram, startServe, type Program } from '../helpers/sockets.js';

const SKIP = hasProgram('wget') ? false : 'wget not installed (apt-get install wget)';
/** wget's exit status for "Username/password authentication failure". */
const WGET_AUTH_FAILURE = 6;

function wget(port: number, user: string, password: string, path: string) {
  return runProgram(
    'wget',
    ['--debug', '--content-on-error', '--tries=1', '-O', '-', `--http-user=${user}`, `--http-password=${password}`, `http://127.0.0.1:${port}${path}`],
    { timeoutMs: 20_000, env: { ...process.env, LC_ALL: 'C' } },
  );
}

describe('wget (NTLMv1) against sspi-emu serve --http', { timeout: 60_000 }, () => {
  let server: Program | undefined;
  let port = 0;

  before(async () => {
    if (SKIP) return;
    ({ program: server, port } = await startServe(['--http', '--port', '0', '--package', 'ntlm', '--account', 'alice:Passw0rd!']));
  });

  after(async () => {
    await server?.stop();
  });

  it('negotiates OEM, sends an AUTHENTICATE with UNICODE set and 8-bit names, and is refused as NTLMv1: SEC_E_LOGON_DENIED, not SEC_E_INVALID_TOKEN', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await wget(port, 'alice', 'Passw0rd!', '/wget');
    assert.equal(r.code, WGET_AUTH_FAILURE, r.stdout + r.stderr);
    // What wget sent: its NEGOTIATE (OEM | NTLM) and an AUTHENTICATE whose flags are UNICODE | NTLM | ALWAYS_SIGN.
    const headers = [...r.stderr.matchAll(/^Authorization: NTLM (\S+)$/gm)].map((m) => Buffer.from(m[1]!, 'base64'));
    assert.equal(headers.length, 2, r.stderr);
    const [negotiate, authenticate] = headers as [Buffer, Buffer];
    assert.equal(negotiate.readUInt32LE(12), 0x00000202);
    assert.equal(authenticate.readUInt32LE(60), 0x00008201);
    assert.equal(authenticate.readUInt16LE(20), 24, 'a 24-byte NtChallengeResponse: NTLMv1');
    assert.equal(authenticate.readUInt16LE(36), 'alice'.length, 'the user name in 8-bit characters though UNICODE is set');
    assert.match(r.stderr, /authentication failed: SEC_E_LOGON_DENIED/);
    await server!.waitForLine(/^GET \/wget - 401 handshake=[\d.]+ms conn=\d+ \(SEC_E_LOGON_DENIED\)$/);
  });
});
