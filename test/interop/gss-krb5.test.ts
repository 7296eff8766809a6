// MIT krb5's gss-sample programs (Debian krb5-gss-samples) with the krb5 mechanism, against
// sspi-emu's Kerberos package, as separate OS processes, every ticket from a local MIT KDC:
//   sspi-emu connect --tcp --package Kerberos -> gss-server   (our client's TGT and service ticket
//                      from MIT's krb5kdc; gss-server opens the ticket with kadmin's keytab)
//   gss-client (after MIT kinit) -> sspi-emu serve --tcp --package Kerberos --keytab (the keytab
//                      MIT's kadmin exported)
// with the message wrapped with confidentiality, without (-nx) and not at all (-nw), each side
// checking the other's MIC; and the refusals: a service our keytab has no key for, a wrong password.
// Skipped, saying so, without krb5-kdc, krb5-admin-server, krb5-user or krb5-gss-samples.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALICE_PASSWORD, mitKdcMissing, startRealm, type Realm } from '../helpers/kerberos-realm.js';
import { freePort, hasProgram, Program, runProgram, sspiEmu, startServe } from '../helpers/sockets.js';

const SKIP = mitKdcMissing() || (!hasProgram('gss-client') || !hasProgram('gss-server') ? 'gss-client/gss-server not installed (apt-get install krb5-gss-samples)' : false);

/** gss-server on a port free a moment ago (it cannot take port 0), tried up to three times. */
async function startGssServer(env: NodeJS.ProcessEnv, args: string[]): Promise<{ program: Program; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const program = Program.start('gss-server', ['-port', String(port), ...args, 'host@localhost'], env);
    try {
      await program.waitForLine(/^starting\.\.\.$/, 10_000);
      return { program, port };
    } catch (error) {
      await program.stop('SIGKILL');
      if (attempt === 3) throw error;
    }
  }
}

describe('MIT gss-sample with the krb5 mechanism against the Kerberos package', { timeout: 180_000 }, () => {
  let realm: Realm | undefined;
  let realmArgs: string[] = [];

  before(async () => {
    if (SKIP) return;
    realm = await startRealm();
    realmArgs = ['--realm', realm.realm, '--kdc', `127.0.0.1:${realm.kdc.port}`];
  });
  after(async () => {
    await realm?.stop();
  });

  describe('sspi-emu connect --package Kerberos -> MIT gss-server', () => {
    let gssServer: { program: Program; port: number } | undefined;

    before(async () => {
      if (SKIP) return;
      gssServer = await startGssServer({ ...realm!.kdc.env, KRB5_KTNAME: `FILE:${realm!.keytab}` }, []);
    });
    after(async () => {
      await gssServer?.program.stop('SIGKILL');
    });

    const connect = (password: string, target = 'host@localhost') =>
      sspiEmu([
        'connect',
        '--tcp',
        `127.0.0.1:${gssServer!.port}`,
        '--package',
        'Kerberos',
        ...realmArgs,
        '--user',
        'alice',
        '--domain',
        realm!.realm,
        '--password',
        password,
        '--message',
        'hello from sspi-emu',
        '--target',
        target,
      ]);

    it('authenticates with a ticket from MIT krb5kdc; gss-server unwraps the sealed message and its MIC verifies here', async (t) => {
      if (SKIP) return t.skip(SKIP);
      const r = await connect(ALICE_PASSWORD);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^SEC_E_OK: authenticated to 127\\.0\\.0\\.1:\\d+ as alice@${realm!.realm} in 2 tokens; sealed message sent \\(19 B\\), the server's signature over it verified\\n$`));
      await gssServer!.program.waitForLine(new RegExp(`^Accepted connection: "alice@${realm!.realm}"$`));
      await gssServer!.program.waitForLine(/^Received message: "hello from sspi-emu"$/);
    });

    it('is refused by the KDC with a wrong password: SEC_E_LOGON_DENIED, before anything is sent', async (t) => {
      if (SKIP) return t.skip(SKIP);
      const r = await connect('wrong-password');
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^SEC_E_LOGON_DENIED: /);
    });

    it('answers SEC_E_TARGET_UNKNOWN for a service the KDC does not know', async (t) => {
      if (SKIP) return t.skip(SKIP);
      const r = await connect(ALICE_PASSWORD, 'HTTP@nowhere.example.test');
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^SEC_E_TARGET_UNKNOWN: /);
    });
  });

  describe('inside SPNEGO: sspi-emu connect --package Negotiate -> MIT gss-server (its SPNEGO picks krb5)', () => {
    let gssServer: { program: Program; port: number } | undefined;

    before(async () => {
      if (SKIP) return;
      gssServer = await startGssServer({ ...realm!.kdc.env, KRB5_KTNAME: `FILE:${realm!.keytab}` }, []);
    });
    after(async () => {
      await gssServer?.program.stop('SIGKILL');
    });

    it('sends a NegTokenInit with the AP-REQ as its optimistic token; gss-server accepts it and unwraps the message', async (t) => {
      if (SKIP) return t.skip(SKIP);
      const r = await sspiEmu([
        'connect',
        '--tcp',
        `127.0.0.1:${gssServer!.port}`,
        '--package',
        'Negotiate',
        ...realmArgs,
        '--user',
        'alice',
        '--domain',
        realm!.realm,
        '--password',
        ALICE_PASSWORD,
        '--message',
        'hello through SPNEGO',
        '--target',
        'host@localhost',
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`^SEC_E_OK: authenticated to 127\\.0\\.0\\.1:\\d+ as alice@${realm!.realm} in 2 tokens;`));
      await gssServer!.program.waitForLine(new RegExp(`^Accepted connection: "alice@${realm!.realm}"$`));
      await gssServer!.program.waitForLine(/^Received message: "hello through SPNEGO"$/);
    });
  });

  describe('inside SPNEGO: MIT gss-client -spnego -> sspi-emu serve --tcp --package Negotiate --keytab', () => {
    let server: { program: Program; port: number } | undefined;

    before(async () => {
      if (SKIP) return;
      server = await startServe(['--tcp', '--port', '0', '--package', 'Negotiate', ...realmArgs, '--keytab', realm!.keytab]);
      const kinit = await realm!.kdc.kinit('alice', ALICE_PASSWORD);
      assert.equal(kinit.code, 0, kinit.stdout + kinit.stderr);
    });
    after(async () => {
      await server?.program.stop();
    });

    it('Negotiate selects Kerberos from gss-client\'s NegTokenInit, answers accept-completed with the AP-REP, and gss-client verifies the MIC', async (t) => {
      if (SKIP) return t.skip(SKIP);
      const r = await runProgram('gss-client', ['-spnego', '-port', String(server!.port), '127.0.0.1', 'host@localhost', 'spnego message'], {
        env: realm!.kdc.env,
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Signature verified\./);
      await server!.program.waitForLine(new RegExp(`alice@${realm!.realm.replace(/\./g, '\\.')} SEC_E_OK handshake=[\\d.]+ms conn=\\d+ messages=\\["spnego message"\\]$`));
    });
  });

  describe('MIT gss-client (kinit) -> sspi-emu serve --tcp --package Kerberos --keytab', () => {
    let server: { program: Program; port: number } | undefined;

    before(async () => {
      if (SKIP) return;
      server = await startServe(['--tcp', '--port', '0', '--package', 'Kerberos', ...realmArgs, '--keytab', realm!.keytab]);
      const kinit = await realm!.kdc.kinit('alice', ALICE_PASSWORD);
      assert.equal(kinit.code, 0, kinit.stdout + kinit.stderr);
    });
    after(async () => {
      await server?.program.stop();
    });

    const gssClient = (extra: string[], message: string, service = 'host@localhost') =>
      runProgram('gss-client', [...extra, '-port', String(server!.port), '127.0.0.1', service, message], { env: realm!.kdc.env, timeoutMs: 20_000 });
    const loggedIn = (message: string): RegExp =>
      new RegExp(`^127\\.0\\.0\\.1:\\d+ alice@${realm!.realm.replace(/\./g, '\\.')} SEC_E_OK handshake=[\\d.]+ms conn=\\d+ messages=\\["${message}"\\]$`);

    for (const [flags, what] of [
      [[], 'wrapped with confidentiality (the default run)'],
      [['-nx'], 'wrapped without confidentiality (-nx)'],
      [['-nw'], 'not wrapped (-nw)'],
    ] as const) {
      it(`takes gss-client's AP-REQ, answers its AP-REP, reads the message ${what}, and gss-client verifies the server's MIC`, async (t) => {
        if (SKIP) return t.skip(SKIP);
        const message = `gss-client ${flags.join(' ') || 'default'}`;
        const r = await gssClient([...flags], message);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /Signature verified\./);
        await server!.program.waitForLine(loggedIn(message));
      });
    }

    it('refuses a ticket for a service its keytab has no key for (SEC_E_WRONG_PRINCIPAL), and gss-client fails', async (t) => {
      if (SKIP) return t.skip(SKIP);
      await realm!.kdc.kadmin(`addprinc -randkey HTTP/localhost@${realm!.realm}`);
      const r = await gssClient([], 'for another service', 'HTTP@localhost');
      assert.notEqual(r.code, 0, r.stdout + r.stderr);
      await server!.program.waitForLine(/ - SEC_E_WRONG_PRINCIPAL handshake=/);
    });
  });

});
