// Negotiate with Kerberos inside over HTTP (RFC 4559), tickets from a local MIT KDC, every program
// its own OS process on loopback:
//   sspi-emu fetch --package Negotiate -> sspi-emu serve --http   one request: the NegTokenInit's
//       AP-REQ, then the 200 with the final token (accept-completed and the AP-REP), verified
//   curl --negotiate -u : (an MIT ticket cache from kinit) -> sspi-emu serve --http
//   sspi-emu fetch --package Negotiate -> a python3-gssapi HTTP acceptor (MIT's SPNEGO, a keytab)
// and the fallback: a host name the realm has no HTTP principal for (HTTP/127.0.0.1) makes fetch fall
// back to NTLM. Skipped, saying so, without MIT's KDC (and curl, python3-gssapi for
// their cells).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALICE_PASSWORD, mitKdcMissing, startRealm, type Realm } from '../helpers/kerberos-realm.js';
import { hasProgram, Program, runProgram, sspiEmu, startServe } from '../helpers/sockets.js';

const SKIP = mitKdcMissing();
const SKIP_CURL = SKIP || (hasProgram('curl') ? false : 'curl not installed (apt-get install curl)');
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import gssapi'], { stdio: 'ignore' }).status === 0);
const SKIP_PYTHON = SKIP || (PYTHON === undefined ? 'python3-gssapi is not installed (apt-get install python3-gssapi)' : false);

/**
 * An HTTP acceptor in Python: gss_accept_sec_context (python-gssapi, default credentials from
 * KRB5_KTNAME) on each "Authorization: Negotiate" token, the context kept per connection, the
 * final token with the 200 (RFC 4559 section 5). Prints "listening on 127.0.0.1:PORT" first.
 */
const ACCEPTOR = String.raw`
import base64, sys, gssapi
from http.server import BaseHTTPRequestHandler, HTTPServer
class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    ctx = None
    def do_GET(self):
        auth = self.headers.get('Authorization', '')
        if not auth.startswith('Negotiate '):
            return self.reply(401, b'', {'WWW-Authenticate': 'Negotiate'})
        try:
            if self.ctx is None or self.ctx.complete:
                self.ctx = gssapi.SecurityContext(usage='accept')
            out = self.ctx.step(base64.b64decode(auth[len('Negotiate '):]))
        except gssapi.exceptions.GSSError as e:
            self.ctx = None
            return self.reply(401, ('refused: %s\n' % e).encode(), {'WWW-Authenticate': 'Negotiate'})
        token = {'WWW-Authenticate': 'Negotiate ' + base64.b64encode(out).decode()} if out else {}
        if not self.ctx.complete:
            return self.reply(401, b'', token)
        body = 'user: %s\nmech: %s\n' % (self.ctx.initiator_name, self.ctx.mech.dotted_form)
        self.reply(200, body.encode(), token)
    def reply(self, status, body, headers):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, format, *args):
        sys.stderr.write((format % args) + '\n')
server = HTTPServer(('127.0.0.1', 0), Handler)
print('listening on 127.0.0.1:%d' % server.server_port, flush=True)
server.serve_forever()
`;

describe('Negotiate with Kerberos over HTTP, tickets from a local MIT KDC', { timeout: 180_000 }, () => {
  let realm: Realm | undefined;
  /** HTTP/localhost's keys, for the acceptors. */
  let httpKeytab = '';
  let serve: { program: Program; port: number } | undefined;
  let realmArgs: string[] = [];

  before(async () => {
    if (SKIP) return;
    realm = await startRealm({ principals: [{ name: 'HTTP/localhost' }] });
    httpKeytab = join(realm.kdc.dir, 'http.keytab');
    const exported = await realm.kdc.kadmin(`ktadd -k ${httpKeytab} HTTP/localhost`);
    assert.equal(exported.code, 0, exported.stderr);
    realmArgs = ['--realm', realm.realm, '--kdc', `127.0.0.1:${realm.kdc.port}`];
    // alice is an account of the server's machine too, for the NTLM fallback.
    serve = await startServe(['--http', '--port', '0', ...realmArgs, '--keytab', httpKeytab, '--account', `alice:${ALICE_PASSWORD}`]);
  });
  after(async () => {
    await serve?.program.stop();
    await realm?.stop();
  });

  const fetch = (url: string, extra: string[] = []) =>
    sspiEmu(['fetch', url, '--package', 'Negotiate', ...realmArgs, '--user', 'alice', '--domain', realm!.realm, '--password', ALICE_PASSWORD, ...extra]);

  it('fetch -> serve --http: one request, the 200 with the final token (accept-completed, the AP-REP), which fetch verifies', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await fetch(`http://localhost:${serve!.port}/krb`, ['-i']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\n/);
    const final = /\nWWW-Authenticate: Negotiate (\S+)\n/.exec(r.stdout);
    assert.ok(final !== null, 'the 200 carries the final token');
    const decoded = await sspiEmu(['decode', final[1]!]);
    assert.match(decoded.stdout, /negState: 0 \(accept-completed\)/);
    assert.match(decoded.stdout, /supportedMech: 1\.2\.840\.48018\.1\.2\.2/);
    assert.match(decoded.stdout, /Kerberos AP-REP/);
    assert.match(r.stdout, /\n\nuser: alice@EXAMPLE\.TEST\npackage: Negotiate\nmechanism: Kerberos\n$/);
    await serve!.program.waitForLine(/^GET \/krb alice@EXAMPLE\.TEST 200 handshake=[\d.]+ms conn=\d+$/);
  });

  it('fetch -> serve --http by address (no HTTP/127.0.0.1 in the realm): Kerberos answers SEC_E_TARGET_UNKNOWN, Negotiate falls back to NTLM', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await fetch(`http://127.0.0.1:${serve!.port}/ntlm`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nuser: SSPI-EMU\\alice\npackage: Negotiate\nmechanism: NTLM\n$/);
  });

  it('curl --negotiate -u : with an MIT ticket cache (kinit) -> serve --http: Kerberos inside SPNEGO, the 200 with the final token', async (t) => {
    if (SKIP_CURL) return t.skip(SKIP_CURL);
    const ccache = `FILE:${join(realm!.kdc.dir, 'curl.ccache')}`;
    const kinit = await runProgram('kinit', ['alice'], { env: { ...realm!.kdc.env, KRB5CCNAME: ccache }, input: `${ALICE_PASSWORD}\n` });
    assert.equal(kinit.code, 0, kinit.stderr);
    const r = await runProgram('curl', ['--silent', '--show-error', '-v', '--negotiate', '-u', ':', '--write-out', '\n%{http_code}', `http://localhost:${serve!.port}/curl`], {
      env: { ...realm!.kdc.env, KRB5CCNAME: ccache },
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'user: alice@EXAMPLE.TEST\npackage: Negotiate\nmechanism: Kerberos\n\n200');
    const sent = [...r.stderr.matchAll(/^> Authorization: Negotiate (\S+)/gm)].map((m) => Buffer.from(m[1]!, 'base64'));
    assert.equal(sent.length, 1, 'one request carried a token');
    assert.match((await sspiEmu(['decode', sent[0]!.toString('base64')])).stdout, /AP-REQ/);
    assert.match(r.stderr, /^< WWW-Authenticate: Negotiate oY\S+/m, 'the 200 carried the final token');
  });

  it('fetch -> a python3-gssapi HTTP acceptor (MIT SPNEGO, the keytab): one request, the 200 with MIT\'s final token, which fetch verifies', async (t) => {
    if (SKIP_PYTHON) return t.skip(SKIP_PYTHON);
    const program = Program.start(PYTHON!, ['-c', ACCEPTOR], { ...realm!.kdc.env, KRB5_KTNAME: `FILE:${httpKeytab}` });
    try {
      const line = await program.waitForLine(/^listening on 127\.0\.0\.1:\d+$/);
      const port = Number(line.split(':')[1]);
      const r = await fetch(`http://localhost:${port}/python`, ['-i']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^HTTP\/1\.0 200 OK\n|^HTTP\/1\.1 200 OK\n/);
      assert.match(r.stdout, /\nWWW-Authenticate: Negotiate oY\S+\n/);
      assert.match(r.stdout, /\n\nuser: alice@EXAMPLE\.TEST\nmech: 1\.2\.840\.113554\.1\.2\.2\n$/);
    } finally {
      await program.stop('SIGKILL');
    }
  });

  it('serve stops with every context deleted', async (t) => {
    if (SKIP) return t.skip(SKIP);
    assert.equal((await serve!.program.stop()).code, 0);
    assert.match(serve!.program.lines.at(-1) ?? '', /contexts left in the LSA: 0$/);
    serve = undefined;
  });
});

