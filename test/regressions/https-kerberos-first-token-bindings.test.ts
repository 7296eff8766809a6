// Found trying `fetch` against peers: over HTTPS, the HTTP client app made the channel bindings
// from the certificate of the connection its first request had gone on, so only calls after the
// first carried them. Kerberos' AP-REQ is the first and only token the client sends: it went bound
// to nothing (its authenticator's checksum with a zero Bnd), so `serve --https --extended-protection
// required` refused sspi-emu's own client with SEC_E_BAD_BINDINGS, and under `allowed` the AP-REQ
// could have been relayed. The client now connects and checks the certificate before its first
// InitializeSecurityContext, and every call carries the bindings. Every program its own OS
// process on loopback, the KDC sspi-emu's own (`dc`), so nothing outside this tree is needed.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Program, sspiEmu, startDc, startServe } from '../helpers/sockets.js';

const REALM = 'EXAMPLE.TEST';
const PASSWORD = 'Alice-in-the-dc-1';

describe('fetch over HTTPS with Kerberos inside Negotiate: the AP-REQ carries the channel bindings', { timeout: 180_000 }, () => {
  let dir = '';
  let dc: Program | undefined;
  let kdcPort = 0;
  const servers: Record<string, { program: Program; port: number }> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-https-krb-'));
    const keytab = join(dir, 'services.keytab');
    ({ program: dc, port: kdcPort } = await startDc([
      '--realm',
      REALM,
      '--port',
      '0',
      '--account',
      `alice:${PASSWORD}`,
      '--service',
      'HTTP/localhost',
      '--export-keytab',
      keytab,
    ]));
    for (const policy of ['required', 'allowed'])
      servers[policy] = await startServe([
        '--https',
        '--port',
        '0',
        '--extended-protection',
        policy,
        '--realm',
        REALM,
        '--kdc',
        `127.0.0.1:${kdcPort}`,
        '--keytab',
        keytab,
      ]);
  });
  after(async () => {
    for (const s of Object.values(servers)) await s.program.stop();
    await dc?.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  const fetch = (policy: string, ...extra: string[]) =>
    sspiEmu([
      'fetch',
      `https://localhost:${servers[policy]!.port}/`,
      '-k',
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
      ...extra,
    ]);

  it('a server that requires bindings accepts the AP-REQ, in one request, and the client verifies its final token', async () => {
    const r = await fetch('required');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, 'HTTP/1.1 200 OK\n\nuser: alice@EXAMPLE.TEST\npackage: Negotiate\nmechanism: Kerberos\n');
  });

  it('without bindings (--no-channel-bindings) the same server refuses it with SEC_E_BAD_BINDINGS; one that allows them missing accepts it', async () => {
    const refused = await fetch('required', '--no-channel-bindings');
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout + refused.stderr, /SEC_E_BAD_BINDINGS/);
    const allowed = await fetch('allowed', '--no-channel-bindings');
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    assert.match(allowed.stdout, /mechanism: Kerberos/);
  });
});
