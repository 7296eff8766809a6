// serve, fetch and connect as a user runs them: separate OS processes talking over loopback
// sockets, the port from the first line of stdout, exit statuses, and a clean stop on a signal.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate } from '../../app-protocols/certificate.js';
import { assertUsageError } from '../helpers/cli.js';
import { Program, sspiEmu, startServe } from '../helpers/sockets.js';

describe('sspi-emu serve --http and sspi-emu fetch', { timeout: 90_000 }, () => {
  let server: Program;
  let port: number;

  before(async () => {
    ({ program: server, port } = await startServe([
      '--http',
      '--port',
      '0',
      '--package',
      'ntlm',
      '--account',
      'alice:Passw0rd!',
      '--account',
      'CORP\\carol:S3cret!',
    ]));
  });

  after(async () => {
    await server?.stop('SIGKILL');
  });

  it('prints "listening on 127.0.0.1:PORT" as the first line of stdout, with the port --port 0 picked', () => {
    assert.match(server.lines[0] ?? '', /^listening on 127\.0\.0\.1:\d+$/);
    assert.ok(port > 0);
  });

  it('fetch authenticates with NTLM and prints the status line, the headers with -i, and the body; exit 0', async () => {
    const r = await sspiEmu(['fetch', `http://127.0.0.1:${port}/hello`, '--package', 'ntlm', '--user', 'alice', '--password', 'Passw0rd!', '-i']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\n/);
    assert.match(r.stdout, /\nContent-Type: text\/plain; charset=utf-8\n/);
    assert.match(r.stdout, /\n\nuser: SSPI-EMU\\alice\npackage: NTLM\n$/);
    await server.waitForLine(/^GET \/hello SSPI-EMU\\alice 200 handshake=[\d.]+ms conn=\d+$/);
  });

  it('offers Negotiate then NTLM; fetch --package Negotiate authenticates, and -i shows the final Negotiate token of the 200', async () => {
    const r = await sspiEmu(['fetch', `http://127.0.0.1:${port}/nego`, '--package', 'Negotiate', '--user', 'alice', '--password', 'Passw0rd!', '-i']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\n/);
    assert.match(r.stdout, /\nWWW-Authenticate: Negotiate oR[A-Za-z0-9+/=]+\n/, 'a NegTokenResp ([1]) in the 200');
    assert.match(r.stdout, /\n\nuser: SSPI-EMU\\alice\npackage: Negotiate\nmechanism: NTLM\n$/);
    await server.waitForLine(/^GET \/nego SSPI-EMU\\alice 200 handshake=[\d.]+ms conn=\d+$/);
  });

  it('fetch takes DOMAIN\\user, prints no headers without -i, and exits 1 on the final 401 of a wrong password', async () => {
    const ok = await sspiEmu(['fetch', `http://127.0.0.1:${port}/`, '--user', 'CORP\\carol', '--password', 'S3cret!']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'HTTP/1.1 200 OK\n\nuser: CORP\\carol\npackage: NTLM\n');
    const denied = await sspiEmu(['fetch', `http://127.0.0.1:${port}/`, '--user', 'alice', '--password', 'wrong']);
    assert.equal(denied.code, 1);
    assert.match(denied.stdout, /^HTTP\/1\.1 401 Unauthorized\n\nauthentication failed: SEC_E_LOGON_DENIED\n$/);
    await server.waitForLine(/^GET \/ - 401 handshake=[\d.]+ms conn=\d+ \(SEC_E_LOGON_DENIED\)$/);
  });

  it('stops on SIGTERM: exit 0, every context deleted', async () => {
    const exited = await server.stop('SIGTERM');
    assert.equal(exited.code, 0, server.stderrLines.join('\n'));
    assert.match(
      server.lines.at(-1) ?? '',
      /^stopped: served \d+ request\(s\) on \d+ connection\(s\); 3 authenticated, 1 failed; contexts left in the LSA: 0$/,
    );
  });
});

describe('sspi-emu serve --tcp and sspi-emu connect --tcp', { timeout: 90_000 }, () => {
  let server: Program;
  let port: number;

  before(async () => {
    ({ program: server, port } = await startServe(['--tcp', '--port', '0', '--account', 'alice:Passw0rd!']));
  });

  after(async () => {
    await server?.stop('SIGKILL');
  });

  it('connect authenticates, sends a sealed message, verifies the signature over it, and exits 0', async () => {
    const r = await sspiEmu([
      'connect',
      '--tcp',
      `127.0.0.1:${port}`,
      '--package',
      'ntlm',
      '--user',
      'alice',
      '--password',
      'Passw0rd!',
      '--message',
      'over TCP',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^SEC_E_OK: authenticated to 127\.0\.0\.1:\d+ as SSPI-EMU\\alice in 3 tokens; sealed message sent \(8 B\), the server's signature over it verified\n$/,
    );
    await server.waitForLine(/^127\.0\.0\.1:\d+ SSPI-EMU\\alice SEC_E_OK handshake=[\d.]+ms conn=\d+ messages=\["over TCP"\]$/);
  });

  it('connect exits 1 when the server refuses a wrong password', async () => {
    const r = await sspiEmu(['connect', '--tcp', `127.0.0.1:${port}`, '--user', 'alice', '--password', 'wrong']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /the server closed the connection/);
    await server.waitForLine(/SEC_E_LOGON_DENIED handshake=/);
  });

  it('connect --package negotiate also exits 1 when the server refuses a wrong password, though the server closes during the handshake', async () => {
    // Negotiate's client waits for the server's mechListMIC after its AUTHENTICATE, so the refusal
    // (gss-sample servers close without a word) comes during the handshake, not after it as with NTLM.
    const negotiate = await startServe(['--tcp', '--port', '0', '--package', 'negotiate', '--account', 'alice:Passw0rd!']);
    try {
      const r = await sspiEmu(['connect', '--tcp', `127.0.0.1:${negotiate.port}`, '--package', 'negotiate', '--user', 'alice', '--password', 'wrong']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /the server closed the connection during the handshake: gss-sample servers close without a word when they refuse the authentication \(a wrong password\?\)/);
      await negotiate.program.waitForLine(/SEC_E_LOGON_DENIED handshake=/);
    } finally {
      await negotiate.program.stop('SIGKILL');
    }
  });

  it('connect exits 3, a network failure, when nothing listens', async () => {
    const r = await sspiEmu(['connect', '--tcp', '127.0.0.1:1', '--user', 'alice', '--password', 'x']);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'sspi-emu connect: network failure: cannot connect to 127.0.0.1:1: connection refused (nothing listens there) (ECONNREFUSED)\n');
  });

  it('stops on SIGINT too', async () => {
    const exited = await server.stop('SIGINT');
    assert.equal(exited.code, 0);
    assert.match(server.lines.at(-1) ?? '', /contexts left in the LSA: 0$/);
  });
});

describe('sspi-emu serve --https and sspi-emu fetch https://', { timeout: 90_000 }, () => {
  let server: Program;
  let port: number;
  let fingerprint: string;

  before(async () => {
    ({ program: server, port } = await startServe(['--https', '--port', '0', '--account', 'alice:Passw0rd!', '--extended-protection', 'required']));
    const line = await server.waitForLine(/^certificate /);
    const match =
      /^certificate SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2}) \(self-signed, generated for this run, O=sspi-emu, CN=localhost\); channel bindings tls-server-end-point sha256; extended protection required$/.exec(
        line,
      );
    assert.ok(match !== null && server.lines[1] === line, `the second line: ${line}`);
    fingerprint = match[1]!;
  });

  after(async () => {
    await server?.stop('SIGKILL');
  });

  const url = () => `https://127.0.0.1:${port}/tls`;
  const alice = ['--user', 'alice', '--password', 'Passw0rd!'];

  it('fetch trusts the server by the fingerprint it printed and authenticates with channel bindings that a required policy accepts', async () => {
    const r = await sspiEmu(['fetch', url(), ...alice, '--fingerprint', fingerprint]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'HTTP/1.1 200 OK\n\nuser: SSPI-EMU\\alice\npackage: NTLM\n');
    await server.waitForLine(/^GET \/tls SSPI-EMU\\alice 200 handshake=[\d.]+ms conn=\d+$/);
  });

  it('fetch refuses the self-signed certificate without --fingerprint, --ca or --insecure: exit 1, SEC_E_UNTRUSTED_ROOT', async () => {
    const r = await sspiEmu(['fetch', url(), ...alice]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sspi-emu fetch: SEC_E_UNTRUSTED_ROOT: the server's certificate is not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/);
    assert.equal(r.stdout, '');
  });

  it('fetch -k authenticates; with --no-channel-bindings the required policy refuses it (401, SEC_E_BAD_BINDINGS)', async () => {
    assert.equal((await sspiEmu(['fetch', url(), ...alice, '-k'])).code, 0);
    const r = await sspiEmu(['fetch', url(), ...alice, '--insecure', '--no-channel-bindings']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'HTTP/1.1 401 Unauthorized\n\nauthentication failed: SEC_E_BAD_BINDINGS\n');
    await server.waitForLine(/^GET \/tls - 401 handshake=[\d.]+ms conn=\d+ \(SEC_E_BAD_BINDINGS\)$/);
  });

  it('stops on SIGTERM with every context deleted', async () => {
    const exited = await server.stop('SIGTERM');
    assert.equal(exited.code, 0, server.stderrLines.join('\n'));
    assert.match(server.lines.at(-1) ?? '', /; 2 authenticated, 1 failed; contexts left in the LSA: 0$/);
  });
});

describe('sspi-emu serve --https --cert --key and fetch --ca', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sspi-emu-https-'));
  const made = selfSignedCertificate({ keyType: 'rsa-2048', hash: 'sha384' });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, made.certPem);
  writeFileSync(keyFile, made.keyPem);
  let server: Program;
  let port: number;

  before(async () => {
    ({ program: server, port } = await startServe(['--https', '--cert', certFile, '--key', keyFile, '--port', '0', '--account', 'alice:Passw0rd!']));
  });

  after(async () => {
    await server?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('presents the given certificate, says so on the second line, and fetch --ca FILE trusts it', async () => {
    assert.equal(
      await server.waitForLine(/^certificate /),
      `certificate SHA-256 ${made.fingerprint256} (from ${certFile}, O=sspi-emu, CN=localhost); channel bindings tls-server-end-point sha384; extended protection allowed`,
    );
    const r = await sspiEmu(['fetch', `https://127.0.0.1:${port}/`, '--user', 'alice', '--password', 'Passw0rd!', '--ca', certFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\n/);
  });

  it("refuses a key that is not the certificate's and a file that is not a certificate: exit 2, naming the file", async () => {
    const otherKey = join(dir, 'other-key.pem');
    writeFileSync(otherKey, selfSignedCertificate().keyPem);
    const mismatch = await sspiEmu(['serve', '--https', '--port', '0', '--cert', certFile, '--key', otherKey]);
    assertUsageError(mismatch, 'serve', new RegExp(`--key ${otherKey} is not the key of the certificate in --cert ${certFile}`));
    const notCert = await sspiEmu(['serve', '--https', '--port', '0', '--cert', keyFile, '--key', keyFile]);
    assertUsageError(notCert, 'serve', /is not a PEM certificate/);
  });
});

describe('serve, connect and fetch usage', { timeout: 60_000 }, () => {
  it('exits 2 with one line and a hint on a usage error', async () => {
    const cases = [
      ['serve', '--port', '0'],
      ['serve', '--http', '--tcp', '--port', '0'],
      ['serve', '--http'],
      ['serve', '--http', '--port', '70000'],
      ['serve', '--http', '--port', 'x'],
      ['serve', '--http', '--port', '0', '--account', 'nocolon'],
      ['connect', '--user', 'a', '--password', 'b'],
      ['connect', '--tcp', 'nohostport', '--user', 'a', '--password', 'b'],
      ['connect', '--tcp', '127.0.0.1:1'],
      ['fetch', '--user', 'a', '--password', 'b'],
      ['fetch', 'ftp://127.0.0.1/', '--user', 'a', '--password', 'b'],
      ['fetch', 'http://127.0.0.1/', '--user', 'D\\a', '--domain', 'E', '--password', 'b'],
      ['serve', '--http', '--https', '--port', '0'],
      ['serve', '--https', '--port', '0', '--cert', 'cert.pem'],
      ['serve', '--http', '--port', '0', '--extended-protection', 'required'],
      ['serve', '--https', '--port', '0', '--extended-protection', 'always'],
      ['serve', '--https', '--port', '0', '--cert', '/nonexistent/cert.pem', '--key', '/nonexistent/key.pem'],
      ['fetch', 'http://127.0.0.1/', '--user', 'a', '--password', 'b', '--insecure'],
      ['fetch', 'https://127.0.0.1/', '--user', 'a', '--password', 'b', '--insecure', '--fingerprint', 'ab'.repeat(32)],
      ['fetch', 'https://127.0.0.1/', '--user', 'a', '--password', 'b', '--fingerprint', 'xyz'],
      ['fetch', 'https://127.0.0.1/', '--user', 'a', '--password', 'b', '--ca', '/nonexistent/ca.pem'],
    ];
    await Promise.all(
      cases.map(async (args) => {
        assertUsageError(await sspiEmu(args), args[0]);
      }),
    );
  });

  it('exits 1 saying why when the port is taken', async () => {
    const { program, port } = await startServe(['--http', '--port', '0']);
    try {
      const r = await sspiEmu(['serve', '--http', '--port', String(port)]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      await program.stop();
    }
  });
});
