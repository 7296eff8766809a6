// curl, an HTTP client nobody here wrote, authenticating with NTLM against `sspi-emu serve --http`
// (a separate OS process): the right password, a wrong one, several curls at once; and the
// handshake rate of curl and of `sspi-emu fetch` against the same server, measured in one run and
// reported as test diagnostics. Over HTTPS (`serve --https`, curl -k): curl's own NTLM code sends
// no channel bindings (its AUTHENTICATE carries the server's target info unchanged: no
// MsvAvChannelBindings, no MIC), so it passes under Extended Protection "allowed" and is refused
// with SEC_E_BAD_BINDINGS under "required". curl --negotiate (its GSS-API: MIT's SPNEGO with
// gss-ntlmssp beneath, KRB5_CONFIG=/dev/null so that Kerberos stays out) against the same server's
// Negotiate scheme: SPNEGO's NegTokenInit with NTLMSSP inside, both mechListMICs, the final token
// with the 200. Skipped, saying so, when curl, its SPNEGO or gss-ntlmssp is not installed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hasGssNtlmssp, hasProgram, runProgram, sspiEmu, startServe, type Program } from '../helpers/sockets.js';

const CURL = hasProgram('curl');
const SKIP = CURL ? false : 'curl not installed (apt-get install curl)';
/** curl --negotiate needs curl built with GSS-API and SPNEGO (Debian's is) and the NTLM mechanism for MIT's GSS-API. */
const SKIP_NEGOTIATE =
  SKIP ||
  (!/\bSPNEGO\b/.test(spawnSync('curl', ['--version'], { encoding: 'utf8' }).stdout ?? '')
    ? 'this curl has no SPNEGO (GSS-API) support'
    : !hasGssNtlmssp()
      ? 'the gss-ntlmssp mechanism is not installed (apt-get install gss-ntlmssp)'
      : false);

function curl(port: number, user: string, password: string, path = '/') {
  return runProgram(
    'curl',
    ['--silent', '--show-error', '--ntlm', '-u', `${user}:${password}`, '--write-out', '\n%{http_code}', `http://127.0.0.1:${port}${path}`],
    { timeoutMs: 20_000 },
  );
}

/** Runs `once` `total` times, `parallel` at a time, and counts the runs that succeeded (rates are bench/sockets.ts's job). */
async function succeeded(total: number, parallel: number, once: () => Promise<boolean>): Promise<number> {
  let ok = 0;
  for (let done = 0; done < total; done += parallel) {
    const batch = await Promise.all(Array.from({ length: Math.min(parallel, total - done) }, once));
    ok += batch.filter(Boolean).length;
  }
  return ok;
}

describe('curl --ntlm against sspi-emu serve --http', { timeout: 120_000 }, () => {
  let server: Program | undefined;
  let port = 0;

  before(async () => {
    if (SKIP) return;
    ({ program: server, port } = await startServe(['--http', '--port', '0', '--package', 'ntlm', '--account', 'alice:Passw0rd!', '--quiet']));
  });

  after(async () => {
    await server?.stop();
  });

  it('gets 200 with the user in the body for the right password', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await curl(port, 'WORKGROUP\\alice', 'Passw0rd!', '/whoami');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'user: SSPI-EMU\\alice\npackage: NTLM\n\n200');
  });

  it('gets 401 for a wrong password', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await curl(port, 'WORKGROUP\\alice', 'wrong');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /authentication failed: SEC_E_LOGON_DENIED\n\n401$/);
  });

  it('serves several curls at once, each on its own connection and context', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => curl(port, 'alice', i % 4 === 3 ? 'wrong' : 'Passw0rd!', `/${i}`)));
    results.forEach((r, i) => assert.ok(r.stdout.endsWith(i % 4 === 3 ? '\n401' : '\n200'), `curl ${i}: ${r.stdout} ${r.stderr}`));
  });

  it('authenticates batches of curl processes and of sspi-emu fetch processes in parallel', async (t) => {
    if (SKIP) return t.skip(SKIP);
    assert.equal(await succeeded(48, 8, async () => (await curl(port, 'alice', 'Passw0rd!')).stdout.endsWith('\n200')), 48);
    const fetch = async () => (await sspiEmu(['fetch', `http://127.0.0.1:${port}/`, '--user', 'alice', '--password', 'Passw0rd!'])).code === 0;
    assert.equal(await succeeded(8, 4, fetch), 8);
  });

  it('stops cleanly with every context deleted', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const exited = await server!.stop();
    assert.equal(exited.code, 0);
    assert.match(server!.lines.at(-1) ?? '', /contexts left in the LSA: 0$/);
  });
});

describe('curl -k --ntlm against sspi-emu serve --https', { timeout: 120_000 }, () => {
  const servers: Partial<Record<'allowed' | 'required', { program: Program; port: number }>> = {};

  before(async () => {
    if (SKIP) return;
    for (const policy of ['allowed', 'required'] as const)
      servers[policy] = await startServe(['--https', '--port', '0', '--account', 'alice:Passw0rd!', '--extended-protection', policy, '--quiet']);
  });

  after(async () => {
    for (const s of Object.values(servers)) await s?.program.stop();
  });

  const curlHttps = (port: number) =>
    runProgram('curl', ['--silent', '--show-error', '-k', '--ntlm', '-u', 'alice:Passw0rd!', '--write-out', '\n%{http_code}', `https://127.0.0.1:${port}/`], {
      timeoutMs: 20_000,
    });

  it('authenticates under Extended Protection "allowed" (curl sends no channel bindings)', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await curlHttps(servers.allowed!.port);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'user: SSPI-EMU\\alice\npackage: NTLM\n\n200');
  });

  it('is refused under "required" with SEC_E_BAD_BINDINGS', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await curlHttps(servers.required!.port);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'authentication failed: SEC_E_BAD_BINDINGS\n\n401');
  });

  it('refuses the self-signed certificate without -k (curl exits 60), and the servers stop with no context left', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await runProgram('curl', ['--silent', '--ntlm', '-u', 'alice:Passw0rd!', `https://127.0.0.1:${servers.allowed!.port}/`], { timeoutMs: 20_000 });
    assert.equal(r.code, 60);
    for (const s of Object.values(servers)) {
      assert.equal((await s!.program.stop()).code, 0);
      assert.match(s!.program.lines.at(-1) ?? '', /contexts left in the LSA: 0$/);
    }
  });
});

describe('curl --negotiate (MIT SPNEGO over gss-ntlmssp) against sspi-emu serve --http and --https', { timeout: 120_000 }, () => {
  let dir = '';
  let right = '';
  let wrong = '';
  const servers: Partial<Record<'http' | 'allowed' | 'required', { program: Program; port: number }>> = {};

  before(async () => {
    if (SKIP_NEGOTIATE) return;
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-curl-negotiate-'));
    // gss-ntlmssp's initiator takes its password from NTLM_USER_FILE (DOMAIN:user:password), the user from NTLMUSER.
    right = join(dir, 'right');
    wrong = join(dir, 'wrong');
    await writeFile(right, 'WORKGROUP:alice:Passw0rd!\n');
    await writeFile(wrong, 'WORKGROUP:alice:wrong\n');
    servers.http = await startServe(['--http', '--port', '0', '--account', 'alice:Passw0rd!', '--quiet']);
    for (const policy of ['allowed', 'required'] as const)
      servers[policy] = await startServe(['--https', '--port', '0', '--account', 'alice:Passw0rd!', '--extended-protection', policy, '--quiet']);
  });

  after(async () => {
    for (const s of Object.values(servers)) await s?.program.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  /** curl -v --negotiate: the body and status on stdout, the exchange (its Authorization headers) on stderr. */
  const curlNegotiate = (url: string, userFile: string, extra: string[] = []) =>
    runProgram('curl', ['--silent', '--show-error', '-v', ...extra, '--negotiate', '-u', 'WORKGROUP\\alice:Passw0rd!', '--write-out', '\n%{http_code}', url], {
      env: { ...process.env, KRB5_CONFIG: '/dev/null', NTLM_USER_FILE: userFile, NTLMUSER: 'alice' },
      timeoutMs: 20_000,
    });

  it('authenticates: a SPNEGO NegTokenInit with NTLMSSP inside, one 401, then the 200 with the final Negotiate token', async (t) => {
    if (SKIP_NEGOTIATE) return t.skip(SKIP_NEGOTIATE);
    const r = await curlNegotiate(`http://127.0.0.1:${servers.http!.port}/negotiate`, right);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'user: SSPI-EMU\\alice\npackage: Negotiate\nmechanism: NTLM\n\n200');
    const sent = [...r.stderr.matchAll(/^> Authorization: Negotiate (\S+)/gm)].map((m) => Buffer.from(m[1]!, 'base64'));
    assert.equal(sent.length, 2, 'two requests carried tokens');
    assert.equal(sent[0]![0], 0x60, "the first is GSS's InitialContextToken (SPNEGO)");
    assert.ok(sent[0]!.includes(Buffer.from('NTLMSSP\0', 'latin1')), 'with the NTLM NEGOTIATE_MESSAGE inside');
    assert.equal(sent[1]![0], 0xa1, 'the second a NegTokenResp');
    assert.match(r.stderr, /^< WWW-Authenticate: Negotiate oR\S+/m, 'the 200 carried the final token');
  });

  it('is refused with a final 401 for a wrong password', async (t) => {
    if (SKIP_NEGOTIATE) return t.skip(SKIP_NEGOTIATE);
    const r = await curlNegotiate(`http://127.0.0.1:${servers.http!.port}/`, wrong);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'authentication failed: SEC_E_LOGON_DENIED\n\n401');
  });

  it('over HTTPS: curl passes no channel bindings to GSS-API, so "allowed" accepts it and "required" refuses it (SEC_E_BAD_BINDINGS)', async (t) => {
    if (SKIP_NEGOTIATE) return t.skip(SKIP_NEGOTIATE);
    const allowed = await curlNegotiate(`https://127.0.0.1:${servers.allowed!.port}/`, right, ['-k']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(allowed.stdout, 'user: SSPI-EMU\\alice\npackage: Negotiate\nmechanism: NTLM\n\n200');
    const required = await curlNegotiate(`https://127.0.0.1:${servers.required!.port}/`, right, ['-k']);
    assert.equal(required.code, 0, required.stderr);
    assert.equal(required.stdout, 'authentication failed: SEC_E_BAD_BINDINGS\n\n401');
  });

  it('curl --ntlm still picks NTLM from the same server, which offers Negotiate first', async (t) => {
    if (SKIP_NEGOTIATE) return t.skip(SKIP_NEGOTIATE);
    const r = await curl(servers.http!.port, 'WORKGROUP\\alice', 'Passw0rd!', '/ntlm');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'user: SSPI-EMU\\alice\npackage: NTLM\n\n200');
  });

  it('the servers stop with every context deleted', async (t) => {
    if (SKIP_NEGOTIATE) return t.skip(SKIP_NEGOTIATE);
    for (const s of Object.values(servers)) {
      assert.equal((await s!.program.stop()).code, 0);
      assert.match(s!.program.lines.at(-1) ?? '', /contexts left in the LSA: 0$/);
    }
  });
});
