// Python's requests-ntlm (Debian's python3-requests-ntlm over ntlm-auth), an NTLM client nobody here
// wrote that sends tls-server-end-point channel bindings over HTTPS (HttpNtlmAuth's send_cbt, on by
// default), against `sspi-emu serve --https` (a separate OS process): its bindings, computed by
// its own code from the certificate it received, satisfy Extended Protection "required"; without
// them it is refused there and accepted under "allowed". Its hash choice (RFC 5929 4.1) and its
// gss_channel_bindings_struct MD5 are also compared with ours for certificates signed with MD5,
// SHA-1, SHA-256, SHA-384 and SHA-512. Skipped, saying so, when the package is not installed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '../../app-protocols/certificate.js';
import { tlsServerEndPointBindings, tlsServerEndPointHash } from '../../app-protocols/channel-bindings.js';
import { channelBindingsHash } from '../../packages/ntlm/crypto.js';
import { runProgram, startServe, type Program } from '../helpers/sockets.js';

/** Debian's python3 first (where apt puts python3-requests-ntlm), then whatever python3 is on PATH. */
const PYTHON = ['/usr/bin/python3', 'python3'].find((python) => spawnSync(python, ['-c', 'import requests_ntlm, ntlm_auth'], { stdio: 'ignore' }).status === 0);
const SKIP = PYTHON === undefined ? 'requests-ntlm not installed (apt-get install python3-requests-ntlm)' : false;

/**
 * GET url with HttpNtlmAuth (certificate not verified: the server's is self-signed); prints the
 * status and the body. ntlm-auth takes MD4 from hashlib, which Debian 12's OpenSSL 3 offers only
 * once its legacy provider is loaded; cryptography's OpenSSL backend loads it when it starts, which
 * requests-ntlm does only when it hashes a certificate (send_cbt): start it first, so that
 * send_cbt=False works too.
 */
const GET = `
import sys, warnings
warnings.filterwarnings('ignore')
from cryptography.hazmat.backends import default_backend
default_backend()
import requests
from requests_ntlm import HttpNtlmAuth
url, user, password, cbt = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == 'cbt'
r = requests.get(url, auth=HttpNtlmAuth(user, password, send_cbt=cbt), verify=False, timeout=20)
sys.stdout.write('%d\\n%s' % (r.status_code, r.text))
`;

/** For each certificate (hex DER): requests-ntlm's certificate hash and ntlm-auth's MD5 of the bindings struct. */
const HASHES = `
import sys, base64, hashlib
from requests_ntlm.requests_ntlm import _get_certificate_hash
from ntlm_auth.gss_channel_bindings import GssChannelBindingsStruct
for der_hex in sys.argv[1:]:
    cert_hash = _get_certificate_hash(bytes.fromhex(der_hex))
    cbt = GssChannelBindingsStruct()
    cbt[cbt.APPLICATION_DATA] = b'tls-server-end-point:' + base64.b16decode(cert_hash)
    print(cert_hash.lower(), hashlib.md5(cbt.get_data()).hexdigest())
`;

async function get(port: number, cbt: boolean): Promise<{ status: number; body: string }> {
  const r = await runProgram(PYTHON!, ['-c', GET, `https://127.0.0.1:${port}/py`, 'alice', 'Passw0rd!', cbt ? 'cbt' : 'nocbt'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  const newline = r.stdout.indexOf('\n');
  return { status: Number(r.stdout.slice(0, newline)), body: r.stdout.slice(newline + 1) };
}

describe('requests-ntlm against sspi-emu serve --https', { timeout: 120_000 }, () => {
  const servers: Partial<Record<'allowed' | 'required', { program: Program; port: number }>> = {};

  before(async () => {
    if (SKIP) return;
    for (const policy of ['allowed', 'required'] as const)
      servers[policy] = await startServe(['--https', '--port', '0', '--account', 'alice:Passw0rd!', '--extended-protection', policy]);
  });

  after(async () => {
    for (const s of Object.values(servers)) await s?.program.stop();
  });

  it('computes the same tls-server-end-point hash and bindings MD5 as sspi-emu, for MD5, SHA-1, SHA-256, SHA-384 and SHA-512 signatures', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const certificates = (
      [
        ['rsa-2048', 'md5'],
        ['rsa-2048', 'sha1'],
        ['ec-p256', 'sha256'],
        ['ec-p384', 'sha384'],
        ['rsa-2048', 'sha512'],
      ] as const
    ).map(([keyType, hash]) => selfSignedCertificate({ keyType, hash }).der);
    const r = await runProgram(PYTHON!, ['-c', HASHES, ...certificates.map((der) => Buffer.from(der).toString('hex'))]);
    assert.equal(r.code, 0, r.stderr);
    const theirs = r.stdout.trim().split('\n');
    certificates.forEach((der, i) => {
      const endPoint = tlsServerEndPointHash(der);
      const bindings = tlsServerEndPointBindings(der);
      assert.ok(endPoint.hash !== undefined && 'bindings' in bindings);
      assert.equal(
        `${Buffer.from(endPoint.value).toString('hex')} ${Buffer.from(channelBindingsHash(bindings.bindings)).toString('hex')}`,
        theirs[i],
        `certificate ${i}`,
      );
    });
  });

  it('is accepted under Extended Protection "required" with the bindings it computed from the certificate it received', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await get(servers.required!.port, true);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'user: SSPI-EMU\\alice\npackage: NTLM\n');
    await servers.required!.program.waitForLine(/^GET \/py SSPI-EMU\\alice 200 handshake=/);
  });

  it('is refused without bindings (send_cbt=False) under "required" with SEC_E_BAD_BINDINGS, and accepted under "allowed"', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const refused = await get(servers.required!.port, false);
    assert.equal(refused.status, 401);
    assert.equal(refused.body, 'authentication failed: SEC_E_BAD_BINDINGS\n');
    assert.equal((await get(servers.allowed!.port, false)).status, 200);
    assert.equal((await get(servers.allowed!.port, true)).status, 200);
  });

  it('leaves no context in the LSA once the servers stop', async (t) => {
    if (SKIP) return t.skip(SKIP);
    for (const s of Object.values(servers)) {
      const exited = await s!.program.stop();
      assert.equal(exited.code, 0);
      assert.match(s!.program.lines.at(-1) ?? '', /contexts left in the LSA: 0$/);
    }
  });
});
