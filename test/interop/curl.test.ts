// curl, an HTTP client nobody here wrote, authenticating with NTLM against `sspi-emu serve --http`
// (a separate OS process): the right password, a wrong one, several curls at once; and the
// handshake rate of curl and of `sspi-emu fetch` against the same server, measured in one run and
// reported as test diagnostics. Skipped, saying so, when curl is not installed.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
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

/** Runs `once` `total` times, `parallel` at a time; handshakes per second over the wall time. */
async function rate(total: number, parallel: number, once: () => Promise<boolean>): Promise<{ perSecond: number; ok: number; ms: number }> {
  let next = 0;
  let ok = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        next++;
        if (await once()) ok++;
      }
    }),
  );
  const ms = performance.now() - start;
  return { perSecond: Math.round((ok / ms) * 1000 * 10) / 10, ok, ms: Math.round(ms) };
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

  it('measures handshakes per second: curl processes in parallel, and sspi-emu fetch processes in parallel', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const viaCurl = await rate(48, 8, async () => (await curl(port, 'alice', 'Passw0rd!')).stdout.endsWith('\n200'));
    const viaFetch = await rate(
      8,
      4,
      async () => (await sspiEmu(['fetch', `http://127.0.0.1:${port}/`, '--user', 'alice', '--password', 'Passw0rd!'])).code === 0,
    );
    t.diagnostic(`curl --ntlm, 8 in parallel: ${viaCurl.ok} handshakes in ${viaCurl.ms} ms = ${viaCurl.perSecond}/s (each a curl process)`);
    t.diagnostic(
      `sspi-emu fetch, 4 in parallel: ${viaFetch.ok} handshakes in ${viaFetch.ms} ms = ${viaFetch.perSecond}/s (each an OS process booting its own machine)`,
    );
    assert.equal(viaCurl.ok, 48);
    assert.equal(viaFetch.ok, 8);
  });

  it('stops cleanly with every context deleted', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const exited = await server!.stop();
    assert.equal(exited.code, 0);
    assert.match(server!.lines.at(-1) ?? '', /contexts left in the LSA: 0$/);
  });
});
