// `sspi-emu decode --keytab` on an AP-REQ MIT made: MIT kinit gets alice a TGT from `sspi-emu dc`,
// MIT gss-client (krb5 mechanism) sends its first context token to a listener here that speaks the
// gss-sample framing (a flags byte, a 4-byte big-endian length, the token) and keeps the token;
// decode opens the ticket with the keytab `dc --export-keytab` wrote and the authenticator with
// the session key the ticket holds. Skipped, saying so, without krb5-user or krb5-gss-samples.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasProgram, Program, runProgram, sspiEmu, startDc } from '../helpers/sockets.js';

const REALM = 'EXAMPLE.TEST';
const SERVICE = 'host/localhost';
const SKIP = !hasProgram('kinit')
  ? 'MIT kinit not installed (apt-get install krb5-user)'
  : !hasProgram('gss-client')
    ? 'gss-client not installed (apt-get install krb5-gss-samples)'
    : false;

/** gss-sample's TOKEN_CONTEXT flag (MIT src/appl/gss-sample/gss-misc.h). */
const TOKEN_CONTEXT = 0x02;

/** A listener that keeps the first context token a gss-sample client sends, then hangs up. */
function tokenCatcher(): Promise<{ server: Server; port: number; token: Promise<Uint8Array> }> {
  let caught: (token: Uint8Array) => void;
  const token = new Promise<Uint8Array>((resolve) => (caught = resolve));
  const server = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5) {
        const flags = buffered[0]!;
        const length = buffered.readUInt32BE(1);
        if (buffered.length < 5 + length) return;
        const body = buffered.subarray(5, 5 + length);
        buffered = buffered.subarray(5 + length);
        if ((flags & TOKEN_CONTEXT) !== 0 && length > 0) {
          caught(Uint8Array.from(body));
          socket.destroy();
          return;
        }
      }
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address !== null ? address.port : 0, token });
    }),
  );
}

describe("sspi-emu decode --keytab on MIT gss-client's AP-REQ", { timeout: 120_000 }, () => {
  let dir = '';
  let dc: Program | undefined;
  let catcher: Awaited<ReturnType<typeof tokenCatcher>> | undefined;

  before(async () => {
    if (SKIP) return;
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-mit-decode-'));
    let port: number;
    ({ program: dc, port } = await startDc([
      '--realm',
      REALM,
      '--port',
      '0',
      '--account',
      'alice:Alice-pw-1',
      '--service',
      SERVICE,
      '--export-keytab',
      join(dir, 'dc.keytab'),
    ]));
    await writeFile(
      join(dir, 'krb5.conf'),
      [
        '[libdefaults]',
        `  default_realm = ${REALM}`,
        '  dns_lookup_kdc = false',
        '  rdns = false',
        '[realms]',
        `  ${REALM} = {`,
        `    kdc = 127.0.0.1:${port}`,
        '  }',
        '[domain_realm]',
        `  localhost = ${REALM}`,
        '',
      ].join('\n'),
    );
    catcher = await tokenCatcher();
  });

  after(async () => {
    catcher?.server.close();
    await dc?.stop('SIGKILL');
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('opens the ticket with the exported keytab and the authenticator with the session key it holds', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const env = { ...process.env, KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5CCNAME: `FILE:${join(dir, 'ccache')}`, KRB5RCACHETYPE: 'none' };
    const got = await runProgram('kinit', [`alice@${REALM}`], { env, input: 'Alice-pw-1\n', timeoutMs: 20_000 });
    assert.equal(got.code, 0, got.stdout + got.stderr);
    // gss-client fails once the listener hangs up without an answer; only its first token matters.
    const client = runProgram('gss-client', ['-port', String(catcher!.port), '127.0.0.1', 'host@localhost', 'hello'], { env, timeoutMs: 20_000 });
    const token = await catcher!.token;
    await client;

    const { code, stdout, stderr } = await sspiEmu(['decode', Buffer.from(token).toString('base64'), '--keytab', join(dir, 'dc.keytab')]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Kerberos AP-REQ/);
    assert.match(stdout, /framing: GSS-API InitialContextToken, 1\.2\.840\.113554\.1\.2\.2 \(Kerberos 5\)/);
    assert.match(stdout, /status: decrypted with keytab entry host\/localhost@EXAMPLE\.TEST kvno \d+ aes256-cts-hmac-sha1-96 \(key usage 2\)/);
    assert.match(stdout, /cname: alice@EXAMPLE\.TEST/);
    assert.match(stdout, /status: decrypted with the session key of the ticket of alice@EXAMPLE\.TEST \(key usage 11\)/);
    assert.match(stdout, /cksumtype: 32771 \(0x8003, GSS-API\)/);
    assert.match(stdout, /flags: 0x[0-9a-f]{8} \([^)]*GSS_C_MUTUAL_FLAG/, 'gss-client asks for mutual authentication by default');
    assert.match(stdout, /subkey:\n\s+keytype: \d+ \([a-z0-9-]+\)\n\s+keyvalue: [0-9a-f]{32,64}\n/);
  });
});
