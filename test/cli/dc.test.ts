// sspi-emu dc as a user runs it, with a domain of OS processes around it: `dc` (its first line
// the KDC's address, its second Netlogon's, a line per request and per Netlogon call, the keytab it
// exports, a clean stop with its counts), `serve --http --domain --dc --machine` joined to it, and
// `fetch` authenticating a domain user the server's machine does not know; `run --dc --machine`
// too; a wrong machine secret; and the usage errors.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unpackKeytab } from '../../packages/kerberos/wire.js';
import { kdcTickets } from '../helpers/kdc-tickets.js';
import { assertUsageError } from '../helpers/cli.js';
import { CLI, Program, sspiEmu, startServe } from '../helpers/sockets.js';

describe('sspi-emu dc, and a member server joined to it', { timeout: 120_000 }, () => {
  let dc: Program;
  let dir: string;
  let kdc: { host: string; port: number };
  let netlogon: string;
  let member: { program: Program; port: number } | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sspi-emu-dc-'));
    dc = Program.start(process.execPath, [
      CLI,
      'dc',
      '--realm',
      'EXAMPLE.TEST',
      '--port',
      '0',
      '--account',
      'alice:Domain-Passw0rd!',
      '--service',
      'HTTP/web01.example.test',
      '--machine',
      'WEB01:web01-secret',
      '--export-keytab',
      join(dir, 'services.keytab'),
    ]);
    const second = await dc.waitForLine(/^netlogon listening on /);
    const kdcLine = /^kdc listening on (127\.0\.0\.1):(\d+)$/.exec(dc.lines[0] ?? '');
    assert.ok(kdcLine !== null, `the first line names the KDC: ${dc.lines.join(' | ')}`);
    assert.equal(dc.lines[1], second, 'the second line names Netlogon');
    kdc = { host: kdcLine[1]!, port: Number(kdcLine[2]) };
    netlogon = /^netlogon listening on (127\.0\.0\.1:\d+)$/.exec(second)![1]!;
    member = await startServe([
      '--http',
      '--port',
      '0',
      '--package',
      'ntlm',
      '--domain',
      'EXAMPLE',
      '--dc',
      netlogon,
      '--machine',
      'WEB01:web01-secret',
      '--account',
      'carol:Local-1',
    ]);
  });

  after(async () => {
    await member?.program.stop('SIGKILL');
    await dc?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the keytab before its first line, readable by its user only', () => {
    const file = join(dir, 'services.keytab');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const entries = unpackKeytab(new Uint8Array(readFileSync(file)));
    assert.deepEqual([...new Set(entries.map((e) => e.principal.components.join('/')))], ['HTTP/web01.example.test']);
  });

  it('prints one line per KDC request', async () => {
    await kdcTickets(kdc, 'EXAMPLE.TEST').tgt('alice', 'Domain-Passw0rd!');
    await dc.waitForLine(/^AS-REQ alice@EXAMPLE\.TEST -> krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST: OK aes256-cts-hmac-sha1-96 \(tcp 127\.0\.0\.1:\d+, [\d.]+ ms\)$/);
  });

  it("fetch authenticates EXAMPLE\\alice to the member, which holds no domain user: the DC's Netlogon checked her", async () => {
    const r = await sspiEmu(['fetch', `http://127.0.0.1:${member!.port}/`, '--package', 'ntlm', '--user', 'EXAMPLE\\alice', '--password', 'Domain-Passw0rd!']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, 'HTTP/1.1 200 OK\n\nuser: EXAMPLE\\alice\npackage: NTLM\n');
    await member!.program.waitForLine(/^GET \/ EXAMPLE\\alice 200 handshake=[\d.]+ms conn=\d+$/);
    await dc.waitForLine(/^NetrServerReqChallenge WEB01: STATUS_SUCCESS \(127\.0\.0\.1:\d+, [\d.]+ ms\)$/);
    await dc.waitForLine(/^NetrServerAuthenticate3 WEB01\$: STATUS_SUCCESS /);
    await dc.waitForLine(/^NetrLogonSamLogonEx WEB01\$: STATUS_SUCCESS \(127\.0\.0\.1:\d+, [\d.]+ ms\): NTLM logon for domain EXAMPLE$/);
  });

  it('answers 401 SEC_E_LOGON_DENIED for a wrong domain password, and the DC says STATUS_WRONG_PASSWORD', async () => {
    const r = await sspiEmu(['fetch', `http://127.0.0.1:${member!.port}/`, '--package', 'ntlm', '--user', 'EXAMPLE\\alice', '--password', 'wrong']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /authentication failed: SEC_E_LOGON_DENIED/);
    await dc.waitForLine(/^NetrLogonSamLogonEx WEB01\$: STATUS_WRONG_PASSWORD /);
  });

  it("checks the member's local account itself", async () => {
    const r = await sspiEmu(['fetch', `http://127.0.0.1:${member!.port}/`, '--package', 'ntlm', '--user', 'WEB01\\carol', '--password', 'Local-1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /user: WEB01\\carol/);
  });

  it('run --dc --machine joins the domain: its server passes the client through', async () => {
    const r = await sspiEmu([
      'run',
      '--package',
      'NTLM',
      '--user',
      'alice',
      '--domain',
      'EXAMPLE',
      '--password',
      'Domain-Passw0rd!',
      '--dc',
      netlogon,
      '--machine',
      'WEB01:web01-secret',
      '--quiet',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^SEC_E_OK: authenticated as EXAMPLE\\alice; /);
  });

  it('a member with a wrong machine secret gets SEC_E_NO_AUTHENTICATING_AUTHORITY, and the DC says why', async () => {
    const r = await sspiEmu([
      'run',
      '--package',
      'NTLM',
      '--user',
      'alice',
      '--domain',
      'EXAMPLE',
      '--password',
      'Domain-Passw0rd!',
      '--dc',
      netlogon,
      '--machine',
      'WEB01:not-the-secret',
      '--quiet',
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^SEC_E_NO_AUTHENTICATING_AUTHORITY: /);
    await dc.waitForLine(
      /^NetrServerAuthenticate3 WEB01\$: STATUS_ACCESS_DENIED \(127\.0\.0\.1:\d+, [\d.]+ ms\): the ClientCredential of WEB01\$ does not verify: not its machine secret$/,
    );
  });

  it('stops on SIGTERM with its counts', async () => {
    await member?.program.stop('SIGTERM');
    member = undefined;
    const exited = await dc.stop('SIGTERM');
    assert.equal(exited.code, 0, dc.stderrLines.join('\n'));
    assert.match(dc.lines.at(-1) ?? '', /^stopped: 2 AS and 0 TGS requests, 1 tickets issued; 2 secure channels, 3 pass-through logons$/);
  });
});

describe('sspi-emu dc and serve --domain: usage errors', () => {
  for (const [args, message] of [
    [['dc', '--realm', 'EXAMPLE.TEST', '--port', '0', '--machine', 'NOSECRET'], /--machine "NOSECRET" is not NAME:SECRET/],
    [['dc', '--realm', 'EXAMPLE.TEST', '--port', '0', '--netlogon-port', '70000'], /--netlogon-port takes a whole number from 0 to 65535/],
    [['dc', '--realm', 'EXAMPLE.TEST', '--port', '0', '--machine', 'A-NAME-FAR-TOO-LONG:s'], /is not a computer name/],
    [['serve', '--http', '--port', '0', '--domain', 'EXAMPLE'], /--domain goes with --dc and --machine/],
    [['serve', '--http', '--port', '0', '--dc', '127.0.0.1:1'], /joining a domain takes --domain D, --dc HOST:PORT and --machine NAME:SECRET together/],
    [['serve', '--http', '--port', '0', '--domain', 'EXAMPLE', '--dc', 'nowhere', '--machine', 'A:b'], /--dc "nowhere" is not HOST:PORT/],
    [['run', '--dc', '127.0.0.1:1', '--machine', 'A:b'], /joining a domain takes --domain D/],
  ] as const) {
    it(`refuses ${args.join(' ')}`, async () => {
      const r = await sspiEmu([...args]);
      assertUsageError(r, args[0], message);
    });
  }
});
