// MIT krb5's clients with tickets from our KDC, every program its own OS process on loopback:
// `sspi-emu dc` (a domain controller's LSA running the KDC) exports its services' keytab; MIT kinit
// gets a TGT from it and kvno a service ticket; MIT gss-client, with that ticket cache, authenticates
// to `sspi-emu serve --tcp` (the Kerberos package accepting with the exported keytab), plain krb5
// and inside SPNEGO; curl --negotiate to `serve --http`; and `sspi-emu fetch` (its LSA's Kerberos
// package asking the same KDC) to `serve --http`. Skipped, saying so, without MIT's clients
// (krb5-user, krb5-gss-samples) or curl.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasProgram, Program, runProgram, sspiEmu, startDc, startServe } from '../helpers/sockets.js';

const SKIP = !hasProgram('kinit') || !hasProgram('kvno') ? 'MIT kinit/kvno not installed (apt-get install krb5-user)' : false;
const SKIP_GSS = SKIP || (hasProgram('gss-client') ? false : 'MIT gss-client not installed (apt-get install krb5-gss-samples)');
const SKIP_CURL = SKIP || (hasProgram('curl') ? false : 'curl not installed (apt-get install curl)');

const REALM = 'EXAMPLE.TEST';
const PASSWORD = 'Alice-in-the-dc-1';

describe('MIT krb5 clients with tickets from sspi-emu dc', { timeout: 180_000 }, () => {
  let dir = '';
  let dc: Program | undefined;
  let kdcPort = 0;
  let env: NodeJS.ProcessEnv = {};
  let tcp: { program: Program; port: number } | undefined;
  let http: { program: Program; port: number } | undefined;
  const realmArgs = (): string[] => ['--realm', REALM, '--kdc', `127.0.0.1:${kdcPort}`, '--keytab', join(dir, 'services.keytab')];

  before(async () => {
    if (SKIP) return;
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-dc-mit-'));
    ({ program: dc, port: kdcPort } = await startDc([
      '--realm',
      REALM,
      '--port',
      '0',
      '--account',
      `alice:${PASSWORD}`,
      '--service',
      'host/localhost',
      '--service',
      'HTTP/localhost',
      '--export-keytab',
      join(dir, 'services.keytab'),
    ]));
    // MIT's clients find the KDC in their own krb5.conf: UDP and TCP on the same port.
    await writeFile(
      join(dir, 'krb5.conf'),
      `[libdefaults]\n  default_realm = ${REALM}\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n  rdns = false\n` +
        `[realms]\n  ${REALM} = {\n    kdc = 127.0.0.1:${kdcPort}\n    kdc = tcp/127.0.0.1:${kdcPort}\n  }\n`,
    );
    env = { ...process.env, KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5CCNAME: `FILE:${join(dir, 'ccache')}`, KRB5RCACHETYPE: 'none' };
    tcp = await startServe(['--tcp', '--port', '0', '--package', 'Negotiate', ...realmArgs()]);
    http = await startServe(['--http', '--port', '0', ...realmArgs()]);
  });
  after(async () => {
    await tcp?.program.stop();
    await http?.program.stop();
    await dc?.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('kinit gets a TGT from it (PA-ENC-TIMESTAMP after PREAUTH_REQUIRED), kvno a service ticket; the dc prints each request', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const kinit = await runProgram('kinit', ['alice'], { env, input: `${PASSWORD}\n` });
    assert.equal(kinit.code, 0, kinit.stderr);
    const kvno = await runProgram('kvno', ['host/localhost'], { env });
    assert.equal(kvno.code, 0, kvno.stderr);
    assert.match(kvno.stdout, /^host\/localhost@EXAMPLE\.TEST: kvno = 1$/m);
    await dc!.waitForLine(/^AS-REQ alice@EXAMPLE\.TEST -> krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST: KDC_ERR_PREAUTH_REQUIRED /);
    await dc!.waitForLine(/^AS-REQ alice@EXAMPLE\.TEST -> krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST: OK aes256-cts-hmac-sha1-96 /);
    await dc!.waitForLine(/^TGS-REQ alice@EXAMPLE\.TEST -> host\/localhost@EXAMPLE\.TEST: OK aes256-cts-hmac-sha1-96 /);
  });

  it('a wrong password: kinit fails, the dc answers KDC_ERR_PREAUTH_FAILED', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const kinit = await runProgram('kinit', ['alice'], { env: { ...env, KRB5CCNAME: `FILE:${join(dir, 'wrong.ccache')}` }, input: 'not-it\n' });
    assert.notEqual(kinit.code, 0);
    await dc!.waitForLine(/^AS-REQ alice@EXAMPLE\.TEST -> krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST: KDC_ERR_PREAUTH_FAILED/);
  });

  for (const spnego of [false, true]) {
    it(`gss-client${spnego ? ' -spnego' : ''} (the ticket cache) -> serve --tcp --package Negotiate with the exported keytab: ${spnego ? 'Kerberos inside SPNEGO' : "a raw krb5 token, taken by Negotiate's raw mode"}; gss-client verifies the server's MIC`, async (t) => {
      if (SKIP_GSS) return t.skip(SKIP_GSS);
      const r = await runProgram(
        'gss-client',
        [...(spnego ? ['-spnego'] : []), '-port', String(tcp!.port), '127.0.0.1', 'host@localhost', `from MIT ${spnego}`],
        { env, timeoutMs: 20_000 },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Signature verified\./);
      await tcp!.program.waitForLine(new RegExp(`alice@EXAMPLE\\.TEST SEC_E_OK handshake=[\\d.]+ms conn=\\d+ messages=\\["from MIT ${spnego}"\\]$`));
    });
  }

  it('curl --negotiate -u : (the ticket cache) -> serve --http: one request, the 200 with the final token', async (t) => {
    if (SKIP_CURL) return t.skip(SKIP_CURL);
    const r = await runProgram(
      'curl',
      ['--silent', '--show-error', '--negotiate', '-u', ':', '--write-out', '\n%{http_code}', `http://localhost:${http!.port}/`],
      { env, timeoutMs: 20_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'user: alice@EXAMPLE.TEST\npackage: Negotiate\nmechanism: Kerberos\n\n200');
  });

  it("sspi-emu fetch --package Negotiate -> serve --http, both machines' Kerberos packages asking the dc", async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await sspiEmu([
      'fetch',
      `http://localhost:${http!.port}/`,
      '--package',
      'Negotiate',
      '--realm',
      REALM,
      '--kdc',
      `127.0.0.1:${kdcPort}`,
      '--user',
      'alice',
      '--password',
      PASSWORD,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'HTTP/1.1 200 OK\n\nuser: alice@EXAMPLE.TEST\npackage: Negotiate\nmechanism: Kerberos\n');
  });
});
