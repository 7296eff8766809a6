// The command line as a user runs it: a separate OS process, its exit status and its output.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Machine } from '../../index.js';
import { fixturePackage } from '../helpers/machine.js';
import { assertUsageError, sspiEmu } from '../helpers/cli.js';

describe('sspi-emu run', () => {
  it('runs a handshake and messages, prints the timeline and the sequence diagram, and exits 0', async () => {
    const { code, stdout } = await sspiEmu(['run', '--messages', '2']);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /t \(ms\)\s+process\s+tid\s+call/);
    assert.match(stdout, /lsa\s+\d+\s+-> SpInitLsaModeContext\s+\(for client\)/);
    assert.match(stdout, /client\s+\d+\s+\s*-> SpUserModeInitialize/);
    assert.match(stdout, /<- InitializeSecurityContext\s+SEC_I_CONTINUE_NEEDED\s+token out \d+ B/);
    assert.match(stdout, /\*\* MappedContext\s+\(for client\)/);
    assert.match(stdout, /sequenceDiagram/);
    assert.match(stdout, /SEC_E_OK: authenticated as SSPI-EMU\\alice; 2 sealed and 2 signed messages verified/);
    assert.match(stdout, /LPC messages: handshake \d+, message phase 0/);
  });

  it('exits 1 naming SEC_E_LOGON_DENIED for a wrong password', async () => {
    const { code, stdout } = await sspiEmu(['run', '--quiet', '--password', 'wrong']);
    assert.equal(code, 1);
    assert.match(stdout, /^SEC_E_LOGON_DENIED/);
  });

  it('says that Kerberos needs a realm when a run in none fails, in text and in --json', { timeout: 60_000 }, async () => {
    const { code, stdout } = await sspiEmu(['run', '--quiet', '--package', 'Kerberos']);
    assert.equal(code, 1);
    assert.match(stdout, /^SEC_E_NO_CREDENTIALS: server: /);
    assert.match(
      stdout,
      /^Kerberos needs a realm: this machine is in none\. Start a KDC \(`sspi-emu dc .*--export-keytab services\.keytab`\), then give --realm EXAMPLE\.TEST --kdc 127\.0\.0\.1:PORT --keytab services\.keytab --domain EXAMPLE\.TEST --target host\/localhost; or run a whole domain with `sspi-emu run --domain`\.$/m,
    );
    const json = await sspiEmu(['run', '--json', '--package', 'kerberos']);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { hints?: string[] };
    assert.match(report.hints?.[0] ?? '', /^Kerberos needs a realm/);
    // A run that did not fail, or one in a realm, carries no such hint.
    const ok = await sspiEmu(['run', '--quiet']);
    assert.doesNotMatch(ok.stdout, /needs a realm/);
  });

  it('says, of a Kerberos run in a realm that failed, that the server needs a keytab and the client a user of the realm', { timeout: 60_000 }, async () => {
    // No KDC listens on port 1: the client's first call fails; the hints are what was left out.
    const { code, stdout } = await sspiEmu(['run', '--quiet', '--package', 'Kerberos', '--realm', 'EXAMPLE.TEST', '--kdc', '127.0.0.1:1', '--target', 'host/localhost']);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^The server takes its service key from --keytab FILE /m);
    assert.match(stdout, /^The client logs on as a user of its account's domain \(the default accounts' is SSPI-EMU\), and Kerberos asks a KDC only of this machine's realm: give --domain EXAMPLE\.TEST for a user of the realm\.$/m);
    assert.doesNotMatch(stdout, /needs a realm/);
  });

  it('says the LSA exited during the run, and what it died of, when a package takes it down (a stray throw outside any call)', { timeout: 60_000 }, async () => {
    const args = ['run', '--load', fixturePackage('stray-throw'), '--package', 'StrayThrow'];
    const { code, stdout } = await sspiEmu([...args, '--quiet']);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^the LSA \(pid \d+\) exited during the run: a stray throw of the StrayThrow package, outside any call$/m);
    assert.doesNotMatch(stdout, /this package lacked/, 'what the apps could not query of a dead LSA is no lack of the package');
    const json = await sspiEmu([...args, '--json']);
    assert.match((JSON.parse(json.stdout) as { lsaExited?: string }).lsaExited ?? '', /exited during the run: a stray throw/);
  });

  it('uses the accounts given with --account, in DOMAIN\\user form too', async () => {
    const { code, stdout } = await sspiEmu([
      'run',
      '--quiet',
      '--account',
      'CORP\\carol:S3cret!',
      '--user',
      'carol',
      '--domain',
      'CORP',
      '--password',
      'S3cret!',
    ]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /authenticated as CORP\\carol/);
  });

  it('exits 2 with one line and a hint on a usage error, and with the overview on stderr without a command', async () => {
    for (const args of [
      ['run', '--bogus'],
      ['run', '--messages', 'many'],
      ['run', 'extra'],
      ['run', '--account', 'nocolon'],
    ])
      assertUsageError(await sspiEmu(args), 'run');
    assertUsageError(await sspiEmu(['frobnicate']), undefined, /unknown command "frobnicate"/);
    const bare = await sspiEmu([]);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^usage: sspi-emu <command> \[options\]/);
  });

  it('prints one JSON object with the status, every event and the LPC counts with --json', async () => {
    const { code, stdout } = await sspiEmu(['run', '--json']);
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as { status: string; events: Array<Record<string, unknown>>; lpc: { handshake: number; messages: number } };
    assert.equal(report.status, 'SEC_E_OK');
    assert.ok(report.lpc.handshake > 0);
    assert.equal(report.lpc.messages, 0);
    const processes = new Set(report.events.map((e) => e.process));
    assert.deepEqual([...processes].sort(), ['client', 'lsa', 'server']);
    for (const e of report.events) {
      assert.equal(typeof e.t, 'number');
      assert.equal(typeof e.threadId, 'number');
      assert.equal(typeof e.call, 'string');
      if (e.phase === 'return') assert.equal(typeof e.status, 'string');
    }
    const isc = report.events.filter((e) => e.call === 'InitializeSecurityContext');
    assert.ok(isc.some((e) => typeof e.tokenOut === 'string') && isc.some((e) => typeof e.tokenIn === 'string'));
  });

  it('writes a Mermaid diagram and a Chrome trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sspi-emu-'));
    try {
      const mermaid = join(dir, 'h.mmd');
      const chrome = join(dir, 'h.json');
      const { code } = await sspiEmu(['run', '--quiet', '--mermaid', mermaid, '--chrome-trace', chrome]);
      assert.equal(code, 0);
      const diagram = await readFile(mermaid, 'utf8');
      assert.match(diagram, /^sequenceDiagram\n {4}participant client as client\n {4}participant lsa as lsa\n {4}participant server as server/);
      assert.match(diagram, /Note over lsa,client: MappedContext intercepted/);
      const trace = JSON.parse(await readFile(chrome, 'utf8')) as { traceEvents: Array<{ ph: string; name: string; pid: number }> };
      assert.ok(trace.traceEvents.some((e) => e.ph === 'X' && e.name === 'SpAcceptLsaModeContext'));
      assert.equal(new Set(trace.traceEvents.filter((e) => e.ph === 'M').map((e) => e.pid)).size, 3, 'one track per process');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sspi-emu run --klist', { timeout: 120_000 }, () => {
  it("prints the client's logon's Kerberos tickets after the handshake, as klist does (text and --json), against a DC machine's KDC", async () => {
    const dc = await Machine.boot({
      role: 'domain-controller',
      realm: 'EXAMPLE.TEST',
      accounts: ['alice:Alice-pw-1'],
      services: ['HTTP/web01.example.test'],
      trace: false,
    });
    const dir = await mkdtemp(join(tmpdir(), 'sspi-emu-klist-'));
    try {
      const keytab = join(dir, 'services.keytab');
      await writeFile(keytab, await dc.lsa.exportKeytab());
      const args = [
        'run',
        '--package',
        'Kerberos',
        '--realm',
        'EXAMPLE.TEST',
        '--kdc',
        `127.0.0.1:${dc.kdcAddress!.port}`,
        '--keytab',
        keytab,
        '--account',
        'EXAMPLE\\alice:Alice-pw-1',
        '--target',
        'HTTP/web01.example.test',
        '--klist',
      ];
      const text = await sspiEmu([...args, '--quiet']);
      assert.equal(text.code, 0, text.stdout + text.stderr);
      assert.match(text.stdout, /^SEC_E_OK: authenticated as alice@EXAMPLE\.TEST/);
      assert.match(text.stdout, /\nklist \(the client's logon\):\nCached Tickets: \(2\)\n/);
      assert.match(
        text.stdout,
        /#0>\tClient: alice @ EXAMPLE\.TEST\n\tServer: krbtgt\/EXAMPLE\.TEST @ EXAMPLE\.TEST\n\tKerbTicket Encryption Type: AES-256-CTS-HMAC-SHA1-96\n\tTicket Flags 0x[0-9a-f]+ -> forwardable initial pre_authent/,
      );
      assert.match(text.stdout, /#1>\tClient: alice @ EXAMPLE\.TEST\n\tServer: HTTP\/web01\.example\.test @ EXAMPLE\.TEST\n/);

      const json = await sspiEmu([...args, '--json']);
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout) as { klist: { statusName: string; tickets: Array<{ ServerName: string; EndTime: string }> } };
      assert.equal(report.klist.statusName, 'STATUS_SUCCESS');
      assert.deepEqual(
        report.klist.tickets.map((t) => t.ServerName),
        ['krbtgt/EXAMPLE.TEST', 'HTTP/web01.example.test'],
      );
      assert.match(report.klist.tickets[0]!.EndTime, /^\d+$/, 'FILETIMEs as decimal strings');
    } finally {
      await rm(dir, { recursive: true, force: true });
      await dc.shutdown();
    }
  });

  it('takes no explicit credentials: --klist lists a logon, and --user would authenticate as a credential of its own', async () => {
    assertUsageError(await sspiEmu(['run', '--klist', '--user', 'bob']), 'run', /--klist runs the client as the first account's logon/);
  });

  it('says which call failed when the client has no Kerberos logon to list (no Kerberos package loaded), and exits 1', async () => {
    const r = await sspiEmu(['run', '--quiet', '--klist']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^SEC_E_OK: authenticated as SSPI-EMU\\alice/);
    assert.match(r.stdout, /klist: LsaLookupAuthenticationPackage answered STATUS_NO_SUCH_PACKAGE/);
  });
});

describe('sspi-emu packages', () => {
  it('lists the loaded packages with their SecPkgInfo', async () => {
    const { code, stdout } = await sspiEmu(['packages']);
    assert.equal(code, 0);
    assert.match(stdout, /^Example \(package id 0\)/m);
    assert.match(stdout, /wRPCID\s+SECPKG_ID_NONE \(0xFFFF\)/);
    assert.match(stdout, /cbMaxToken\s+512/);
    assert.match(stdout, /SECPKG_FLAG_MUTUAL_AUTH/);
  });

  it('reports packages that failed to load, and why, in JSON, and exits 1', async () => {
    const { code, stdout } = await sspiEmu(['packages', '--json', '--load', fixturePackage('fail-init'), '--load', fixturePackage('probe')]);
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as { loaded: Array<{ name: string }>; failed: Array<{ stage: string; reason: string }> };
    assert.deepEqual(
      report.loaded.map((p) => p.name).filter((n) => n !== 'NTLM'),
      ['Example', 'Negotiate', 'Probe'],
    );
    assert.deepEqual(
      report.failed.map((f) => f.stage),
      ['SpInitialize'],
    );
  });
});
