// Negotiate against MIT krb5's SPNEGO (its spnego mechanism driving gss-ntlmssp), with the
// gss-sample programs (Debian krb5-gss-samples) as separate OS processes:
//   gss-client -mech SPNEGO -> sspi-emu serve --tcp --package negotiate
//   sspi-emu connect --tcp --package negotiate -> gss-server
// Both mechListMICs cross between independent implementations, and each side then checks a
// signature the other made after them (sequence 1, the RC4 state reset). KRB5_CONFIG=/dev/null
// keeps Kerberos out of it, so MIT's SPNEGO offers NTLM alone. Skipped, saying so, when the
// programs or the mechanism are not installed.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Program, freePort, hasGssNtlmssp, hasProgram, runProgram, sspiEmu, startServe } from '../helpers/sockets.js';

/** SPNEGO (1.3.6.1.5.5.2), in gss-client's -mech syntax. */
const SPNEGO_MECH = '{ 1 3 6 1 5 5 2 }';
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
 * gss-client's default run: its message wrapped with confidentiality (gss-ntlmssp seals it, SEAL
 * negotiated or not), so the server's DecryptMessage runs on the RC4 state the mechListMIC left.
 */
function gssClient(port: number, password: string) {
  const args = [
    '-q',
    '-port',
    String(port),
    '-mech',
    SPNEGO_MECH,
    '-user',
    'WORKGROUP\\alice',
    '-pass',
    password,
    '127.0.0.1',
    'host@localhost',
    'hello over SPNEGO',
  ];
  return runProgram('gss-client', args, { env: gssEnv(), timeoutMs: 20_000 });
}

describe('MIT gss-client with SPNEGO against sspi-emu serve --tcp --package negotiate', { timeout: 60_000 }, () => {
  let server: Program | undefined;
  let port = 0;

  before(async () => {
    if (SKIP) return;
    ({ program: server, port } = await startServe(['--tcp', '--port', '0', '--package', 'negotiate', '--account', 'alice:Passw0rd!']));
  });

  after(async () => {
    await server?.stop();
  });

  it("authenticates (both mechListMICs checked), the server unseals gss-client's wrapped message, and gss-client verifies the server's signature over it", async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await gssClient(port, 'Passw0rd!');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await server!.waitForLine(/^127\.0\.0\.1:\d+ SSPI-EMU\\alice SEC_E_OK handshake=[\d.]+ms conn=\d+ messages=\["hello over SPNEGO"\]$/);
  });

  it('is refused with a wrong password: SEC_E_LOGON_DENIED, gss-client exits 1', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await gssClient(port, 'wrong');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    await server!.waitForLine(/ - SEC_E_LOGON_DENIED handshake=/);
  });
});

describe('sspi-emu connect --package negotiate against MIT gss-server', { timeout: 60_000 }, () => {
  let dir = '';
  let gssServer: Program | undefined;
  let port = 0;

  before(async () => {
    if (SKIP) return;
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-spnego-'));
    const users = join(dir, 'ntlm-users');
    await writeFile(users, 'WORKGROUP:alice:Passw0rd!\n');
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

  it("authenticates in four tokens (the last the server's mechListMIC), gss-server unwraps the sealed message, and its signature verifies", async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await sspiEmu([
      'connect',
      '--tcp',
      `127.0.0.1:${port}`,
      '--package',
      'negotiate',
      '--user',
      'WORKGROUP\\alice',
      '--password',
      'Passw0rd!',
      '--message',
      'hello from Negotiate',
      '--target',
      'host@localhost',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^SEC_E_OK: authenticated to 127\.0\.0\.1:\d+ as WORKGROUP\\alice in 4 tokens; sealed message sent \(20 B\), the server's signature over it verified\n$/,
    );
    await gssServer!.waitForLine(/^Accepted connection: "WORKGROUP\\alice"$/);
    await gssServer!.waitForLine(/^Received message: "hello from Negotiate"$/);
  });
});
