// curl, an HTTP client nobody here wrote, authenticating with NTLM against `sspi-emu serve --http`
// (a separate OS process): the right password, a wrong one, several curls at once; and the
// handshake rate of curl and of `sspi-emu fetch` against the same server, measured in one run and
// reported as test diagnostics. Over HTTPS (`serve --https`, curl -k): curl's own NTLM code sends
// no channel bindings (its AUTHENTICATE carries the server's target info unchanged: no
// MsvAvChannelBindings, no MIC), so it passes under Extended Protection "allowed" and is refused
// with SEC_E_BAD_BINDINGS under "required". Skipped, saying so, when curl is not installed.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hasProgram, runProgram, sspiEmu, startServe, type Program } from '../helpers/sockets.js';

const CURL = hasProgram('curl');
const SKIP = CURL ? false : 'curl not installed (apt-get install curl)';

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
