// MIT krb5's gss-sample programs (Debian krb5-gss-samples) with the gss-ntlmssp mechanism, as
// separate OS processes, against sspi-emu in both directions:
//   gss-client -> sspi-emu serve --tcp     (the server's handshake in the emulated LSA)
//   sspi-emu connect --tcp -> gss-server   (the client's handshake in the emulated LSA)
// each with the right and a wrong password. KRB5_CONFIG=/dev/null keeps Kerberos out of it;
// gss-server finds its users in NTLM_USER_FILE. Skipped, saying so, when the programs or the
// mechanism are not installed.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Program, freePort, hasGssNtlmssp, hasProgram, runProgram, sspiEmu, startServe } from '../helpers/sockets.js';

/** gss-ntlmssp's mechanism OID (NTLMSSP, 1.3.6.1.4.1.311.2.2.10), in gss-client's -mech syntax. */
const NTLMSSP_MECH = '{ 1 3 6 1 4 1 311 2 2 10 }';
const SKIP =
  !hasProgram('gss-client') || !hasProgram('gss-server')
    ? 'gss-client/gss-server not installed (apt-get install krb5-gss-samples gss-ntlmssp)'
    : !hasGssNtlmssp()
      ? 'the gss-ntlmssp mechanism is not installed (apt-get install gss-ntlmssp)'
      : false;

const gssEnv = (userFile?: string): NodeJS.ProcessEnv => ({
  ...process.env,
  KRB5_CONFIG: '/dev/null',
  ...(userFile === undefined ? {} : { NTLM_USER_FILE: userFile }),
});

/**
 * gss-client against PORT. -q skips the context report, whose gss_inquire_names_for_mech
 * gss-ntlmssp does not implement. By default gss-client wraps the message asking for
 * confidentiality; -nx wraps without asking for it; -nw sends it unwrapped. gss-client never asks
 * for confidentiality in the handshake, so gss-ntlmssp negotiates SIGN without SEAL, and its
 * gss_wrap seals all the same (both with and without -nx).
 */
function gssClient(port: number, password: string, extra: string[] = [], message = 'hello from gss-client') {
  return runProgram(
    'gss-client',
    ['-q', ...extra, '-port', String(port), '-mech', NTLMSSP_MECH, '-user', 'WORKGROUP\\alice', '-pass', password, '127.0.0.1', 'host@localhost', message],
    {
      env: gssEnv(),
      timeoutMs: 20_000,
    },
  );
}

describe('MIT gss-client against sspi-emu serve --tcp', { timeout: 60_000 }, () => {
  let server: Program | undefined;
  let port = 0;

  before(async () => {
    if (SKIP) return;
    ({ program: server, port } = await startServe(['--tcp', '--port', '0', '--package', 'ntlm', '--account', 'alice:Passw0rd!']));
  });

  after(async () => {
    await server?.stop();
  });

  const loggedIn = (message: string): RegExp =>
    new RegExp(`^127\\.0\\.0\\.1:\\d+ SSPI-EMU\\\\alice SEC_E_OK handshake=[\\d.]+ms conn=\\d+ messages=\\["${message}"\\]$`);

  it('authenticates with the right password; the server unseals the message gss-client wrapped (SIGN without SEAL negotiated) and gss-client verifies its MIC', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await gssClient(port, 'Passw0rd!', [], 'default run');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await server!.waitForLine(loggedIn('default run'));
  });

  it('unwraps a message gss-client -nx wrapped without asking for confidentiality (gss-ntlmssp seals it anyway)', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await gssClient(port, 'Passw0rd!', ['-nx'], 'wrapped with -nx');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await server!.waitForLine(loggedIn('wrapped with -nx'));
  });

  it('takes the message gss-client -nw sends unwrapped, and gss-client verifies the MIC over it', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await gssClient(port, 'Passw0rd!', ['-nw'], 'not wrapped');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await server!.waitForLine(loggedIn('not wrapped'));
  });

  it('is refused with a wrong password: the server logs SEC_E_LOGON_DENIED and closes, gss-client exits 1', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await gssClient(port, 'wrong');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    await server!.waitForLine(/ - SEC_E_LOGON_DENIED handshake=/);
  });
});

describe('sspi-emu connect --tcp against MIT gss-server', { timeout: 60_000 }, () => {
  let dir = '';
  let gssServer: Program | undefined;
  let port = 0;

  before(async () => {
    if (SKIP) return;
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-gss-'));
    const users = join(dir, 'ntlm-users');
    // gss-ntlmssp's users file: DOMAIN:user:password, one a line.
    await writeFile(users, 'WORKGROUP:alice:Passw0rd!\n');
    // gss-server cannot take port 0; a port free a moment ago, tried up to three times.
    for (let attempt = 1; attempt <= 3 && gssServer === undefined; attempt++) {
      port = await freePort();
      const program = Program.start('gss-server', ['-port', String(port), 'host@localhost'], gssEnv(users));
      try {
        await program.waitForLine(/^starting\.\.\.$/, 10_000);
        gssServer = program;
      } catch (error) {
        await program.stop('SIGKILL');
        if (attempt === 3) throw error;
      }
    }
  });

  after(async () => {
    await gssServer?.stop('SIGKILL');
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('authenticates, and gss-server unwraps the sealed message and signs it back', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await sspiEmu([
      'connect',
      '--tcp',
      `127.0.0.1:${port}`,
      '--package',
      'ntlm',
      '--user',
      'WORKGROUP\\alice',
      '--password',
      'Passw0rd!',
      '--message',
      'hello from sspi-emu',
      '--target',
      'host@localhost',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^SEC_E_OK: authenticated to 127\.0\.0\.1:\d+ as WORKGROUP\\alice in 3 tokens; sealed message sent \(19 B\), the server's signature over it verified\n$/,
    );
    await gssServer!.waitForLine(/^Accepted connection: "WORKGROUP\\alice"$/);
    await gssServer!.waitForLine(/^Received message: "hello from sspi-emu"$/);
  });

  it('exits 1 when gss-server refuses a wrong password', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await sspiEmu(['connect', '--tcp', `127.0.0.1:${port}`, '--user', 'WORKGROUP\\alice', '--password', 'wrong', '--target', 'host@localhost']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /the server closed the connection/);
  });
});
