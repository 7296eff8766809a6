// MIT krb5's clients (Debian krb5-user: kinit, kvno, klist; krb5-gss-samples: gss-client and
// gss-server) against sspi-emu's domain controller, every program its own OS process, on 127.0.0.1,
// with a krb5.conf in a temporary directory:
//   kinit -> `sspi-emu dc`           a TGT over UDP and over TCP, with each AES enctype as the
//                                    session key's; renewed; a wrong password and an unknown
//                                    principal refused with the KRB-ERRORs MIT names
//   kvno -> `sspi-emu dc`            a service ticket; an unknown service refused
//   gss-client -> MIT gss-server     gss-server holds the keytab `dc --export-keytab` wrote and
//                                    accepts gss-client's AP-REQ made with tickets from `dc`:
//                                    its message unwrapped, gss-client checks the server's MIC
// and, with a domain controller booted here (Machine.boot), the cells the CLI has no option for:
// a service whose only keys are RFC 8009's (the ticket itself aes-sha2), and a UDP reply too big
// for the KDC's datagram limit (KRB_ERR_RESPONSE_TOO_BIG, kinit asks again over TCP).
// Skipped, saying so, without krb5-user or krb5-gss-samples.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Machine } from '../../machine/index.js';
import { freePort, hasProgram, Program, runProgram, startDc, type Exited } from '../helpers/sockets.js';

const REALM = 'EXAMPLE.TEST';
const ALICE = { user: 'alice', password: 'Passw0rd!' };
const SERVICE = 'host/localhost';
const AES = ['aes256-cts-hmac-sha1-96', 'aes128-cts-hmac-sha1-96', 'aes256-cts-hmac-sha384-192', 'aes128-cts-hmac-sha256-128'] as const;

const SKIP =
  !hasProgram('kinit') || !hasProgram('kvno') || !hasProgram('klist')
    ? 'MIT kinit/kvno/klist not installed (apt-get install krb5-user)'
    : !hasProgram('gss-client') || !hasProgram('gss-server')
      ? 'gss-client/gss-server not installed (apt-get install krb5-gss-samples)'
      : false;

/** A client's view of the realm: its krb5.conf and ticket cache, in a directory of its own. */
interface ClientConfig {
  env: NodeJS.ProcessEnv;
}

/**
 * A krb5.conf for the KDC at `port`: UDP first (MIT's default) or TCP only (udp_preference_limit =
 * 1); `enctypes` limits what the client asks for (its session keys); every AES enctype is
 * permitted, so that an acceptor opens tickets of any of them.
 */
async function clientConfig(dir: string, name: string, port: number, options: { tcp?: boolean; enctypes?: readonly string[] } = {}): Promise<ClientConfig> {
  const conf = join(dir, `${name}.conf`);
  const asked = options.enctypes ?? AES;
  await writeFile(
    conf,
    [
      '[libdefaults]',
      `  default_realm = ${REALM}`,
      '  dns_lookup_kdc = false',
      '  dns_lookup_realm = false',
      '  rdns = false',
      '  ignore_acceptor_hostname = true',
      `  permitted_enctypes = ${AES.join(' ')}`,
      `  default_tkt_enctypes = ${asked.join(' ')}`,
      `  default_tgs_enctypes = ${asked.join(' ')}`,
      ...(options.tcp === true ? ['  udp_preference_limit = 1'] : []),
      '[realms]',
      `  ${REALM} = {`,
      `    kdc = 127.0.0.1:${port}`,
      '  }',
      '[domain_realm]',
      `  localhost = ${REALM}`,
      '',
    ].join('\n'),
  );
  return {
    env: { ...process.env, KRB5_CONFIG: conf, KRB5CCNAME: `FILE:${join(dir, `${name}.ccache`)}`, KRB5RCACHETYPE: 'none' },
  };
}

const kinit = (c: ClientConfig, principal: string, password: string, args: string[] = []): Promise<Exited> =>
  runProgram('kinit', [...args, `${principal}@${REALM}`], { env: c.env, input: `${password}\n`, timeoutMs: 20_000 });
const kvno = (c: ClientConfig, service: string): Promise<Exited> => runProgram('kvno', [`${service}@${REALM}`], { env: c.env, timeoutMs: 20_000 });
const klist = (c: ClientConfig): Promise<Exited> => runProgram('klist', ['-e'], { env: c.env, timeoutMs: 20_000 });

/** klist -e's "Etype (skey, tkt)" of the ticket for `service`. */
function etypesOf(listing: string, service: string): { skey: string; tkt: string } | undefined {
  const lines = listing.split('\n');
  const at = lines.findIndex((l) => l.includes(` ${service}@${REALM}`));
  if (at < 0) return undefined;
  const match = /Etype \(skey, tkt\): (\S+), (\S+)/.exec(lines.slice(at, at + 3).join('\n'));
  return match === null ? undefined : { skey: match[1]!, tkt: match[2]! };
}

/** gss-server on a port free a moment ago (it cannot take port 0), with `keytab`; tried up to three times. */
async function startGssServer(env: NodeJS.ProcessEnv, keytab: string): Promise<{ program: Program; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const program = Program.start('gss-server', ['-port', String(port), 'host@localhost'], { ...env, KRB5_KTNAME: `FILE:${keytab}` });
    try {
      await program.waitForLine(/^starting\.\.\.$/, 10_000);
      return { program, port };
    } catch (error) {
      await program.stop('SIGKILL');
      if (attempt === 3) throw error;
    }
  }
}

const gssClient = (c: ClientConfig, port: number, message: string, extra: string[] = []): Promise<Exited> =>
  runProgram('gss-client', [...extra, '-port', String(port), '127.0.0.1', 'host@localhost', message], { env: c.env, timeoutMs: 20_000 });

describe('MIT clients against sspi-emu dc', { timeout: 180_000 }, () => {
  let dir = '';
  let dc: Program | undefined;
  let port = 0;
  const keytab = (): string => join(dir, 'dc.keytab');

  before(async () => {
    if (SKIP) return;
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-dc-interop-'));
    ({ program: dc, port } = await startDc([
      '--realm',
      REALM,
      '--port',
      '0',
      '--account',
      `${ALICE.user}:${ALICE.password}`,
      '--service',
      SERVICE,
      '--export-keytab',
      keytab(),
    ]));
  });
  after(async () => {
    await dc?.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  for (const tcp of [false, true]) {
    const transport = tcp ? 'tcp' : 'udp';
    it(`kinit gets a TGT over ${transport.toUpperCase()}, kvno a service ticket, klist -e shows both (aes256-cts-hmac-sha1-96)`, async (t) => {
      if (SKIP) return t.skip(SKIP);
      const c = await clientConfig(dir, `default-${transport}`, port, { tcp });
      const got = await kinit(c, ALICE.user, ALICE.password);
      assert.equal(got.code, 0, got.stdout + got.stderr);
      const ticket = await kvno(c, SERVICE);
      assert.equal(ticket.code, 0, ticket.stdout + ticket.stderr);
      assert.match(ticket.stdout, new RegExp(`^${SERVICE}@${REALM}: kvno = 1\\n$`));
      const listing = await klist(c);
      assert.equal(listing.code, 0, listing.stderr);
      assert.match(listing.stdout, new RegExp(`Default principal: ${ALICE.user}@${REALM}`));
      assert.deepEqual(etypesOf(listing.stdout, `krbtgt/${REALM}`), { skey: AES[0], tkt: AES[0] });
      assert.deepEqual(etypesOf(listing.stdout, SERVICE), { skey: AES[0], tkt: AES[0] });
      // The DC's own account of the three requests, on the transport the client used.
      await dc!.waitForLine(new RegExp(`^AS-REQ ${ALICE.user}@${REALM} -> krbtgt/${REALM}@${REALM}: OK ${AES[0]} \\(${transport} `));
      await dc!.waitForLine(new RegExp(`^TGS-REQ ${ALICE.user}@${REALM} -> ${SERVICE}@${REALM}: OK ${AES[0]} \\(${transport} `));
    });
  }

  for (const enctype of AES.slice(1)) {
    it(`issues ${enctype} session keys to a client that asks for that enctype only (klist -e)`, async (t) => {
      if (SKIP) return t.skip(SKIP);
      const c = await clientConfig(dir, enctype, port, { enctypes: [enctype] });
      const got = await kinit(c, ALICE.user, ALICE.password);
      assert.equal(got.code, 0, got.stdout + got.stderr);
      const ticket = await kvno(c, SERVICE);
      assert.equal(ticket.code, 0, ticket.stdout + ticket.stderr);
      const listing = (await klist(c)).stdout;
      // The tickets themselves are in the services' first key (aes256-cts-hmac-sha1-96), as MIT's KDC picks them.
      assert.deepEqual(etypesOf(listing, `krbtgt/${REALM}`), { skey: enctype, tkt: AES[0] });
      assert.deepEqual(etypesOf(listing, SERVICE), { skey: enctype, tkt: AES[0] });
    });
  }

  it('renews the TGT (kinit -R) and its renewal is still renewable', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const c = await clientConfig(dir, 'renew', port);
    assert.equal((await kinit(c, ALICE.user, ALICE.password, ['-r', '2d'])).code, 0);
    const renewed = await runProgram('kinit', ['-R'], { env: c.env, timeoutMs: 20_000 });
    assert.equal(renewed.code, 0, renewed.stdout + renewed.stderr);
    assert.match((await klist(c)).stdout, /renew until /);
  });

  for (const [flags, what] of [
    [[], 'a sealed message (gss_wrap with confidentiality)'],
    [['-nx'], 'a message wrapped without confidentiality (-nx)'],
  ] as const) {
    it(`MIT gss-server with the exported keytab accepts gss-client's tickets from dc: ${what}, and gss-client verifies the MIC`, async (t) => {
      if (SKIP) return t.skip(SKIP);
      const c = await clientConfig(dir, `gss${flags.join('')}`, port);
      assert.equal((await kinit(c, ALICE.user, ALICE.password)).code, 0);
      const server = await startGssServer(c.env, keytab());
      try {
        const message = `tickets from sspi-emu dc ${flags.join(' ')}`.trim();
        const r = await gssClient(c, server.port, message, [...flags]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`"${ALICE.user}@${REALM}" to "${SERVICE}@${REALM}"`));
        assert.match(r.stdout, /Signature verified\./);
        await server.program.waitForLine(new RegExp(`^Accepted connection: "${ALICE.user}@${REALM}"$`));
        await server.program.waitForLine(new RegExp(`^Received message: "${message}"$`));
      } finally {
        await server.program.stop('SIGKILL');
      }
    });
  }

  it('refuses a wrong password: kinit fails with KDC_ERR_PREAUTH_FAILED ("Password incorrect")', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const c = await clientConfig(dir, 'wrong', port);
    const r = await kinit(c, ALICE.user, 'not-the-password');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /kinit: Password incorrect while getting initial credentials/);
    await dc!.waitForLine(/^AS-REQ alice@EXAMPLE\.TEST -> krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST: KDC_ERR_PREAUTH_FAILED \(.*PA-ENC-TIMESTAMP does not decrypt/);
  });

  it('refuses an unknown principal with KDC_ERR_C_PRINCIPAL_UNKNOWN, which kinit reports as not found', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const c = await clientConfig(dir, 'unknown', port);
    const r = await kinit(c, 'mallory', 'whatever');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /kinit: Client 'mallory@EXAMPLE\.TEST' not found in Kerberos database while getting initial credentials/);
    await dc!.waitForLine(/^AS-REQ mallory@EXAMPLE\.TEST -> krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST: KDC_ERR_C_PRINCIPAL_UNKNOWN /);
  });

  it('refuses a ticket for an unknown service with KDC_ERR_S_PRINCIPAL_UNKNOWN, which kvno reports as not found', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const c = await clientConfig(dir, 'unknown-service', port);
    assert.equal((await kinit(c, ALICE.user, ALICE.password)).code, 0);
    const r = await kvno(c, 'HTTP/nowhere.example.test');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /Server '?HTTP\/nowhere\.example\.test@EXAMPLE\.TEST'? not found in Kerberos database/);
    await dc!.waitForLine(/^TGS-REQ alice@EXAMPLE\.TEST -> HTTP\/nowhere\.example\.test@EXAMPLE\.TEST: KDC_ERR_S_PRINCIPAL_UNKNOWN /);
  });
});

describe('MIT clients against a domain controller booted in this process', { timeout: 120_000 }, () => {
  let dir = '';
  let machine: Machine | undefined;

  before(async () => {
    if (SKIP) return;
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-dc-interop-'));
    machine = await Machine.boot({
      role: 'domain-controller',
      realm: REALM,
      accounts: [`${ALICE.user}:${ALICE.password}`],
      // RFC 8009's keys only: the service ticket itself is aes256-cts-hmac-sha384-192.
      services: [{ principal: SERVICE, etypes: [20, 19] }],
      // Smaller than an AS-REP: over UDP the KDC answers KRB_ERR_RESPONSE_TOO_BIG.
      kdc: { policy: { maxDatagramReplyBytes: 256 } },
      trace: false,
    });
    await writeFile(join(dir, 'dc.keytab'), await machine.lsa.exportKeytab());
  });
  after(async () => {
    await machine?.shutdown();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('answers a UDP request whose reply is too big with KRB_ERR_RESPONSE_TOO_BIG, and kinit gets its TGT over TCP', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const c = await clientConfig(dir, 'too-big', machine!.kdcAddress!.port);
    const r = await kinit(c, ALICE.user, ALICE.password);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const status = await machine!.lsa.kdc();
    assert.ok(status !== null && status.listener.tooBig >= 1, `the KDC sent KRB_ERR_RESPONSE_TOO_BIG: ${JSON.stringify(status?.listener)}`);
    assert.ok(status.listener.connectionsTotal >= 1, 'kinit came back over TCP');
  });

  it("issues a ticket encrypted in the service's aes256-cts-hmac-sha384-192 key, and MIT gss-server opens it", async (t) => {
    if (SKIP) return t.skip(SKIP);
    const c = await clientConfig(dir, 'aes-sha2', machine!.kdcAddress!.port, { enctypes: ['aes256-cts-hmac-sha384-192', 'aes128-cts-hmac-sha256-128'] });
    assert.equal((await kinit(c, ALICE.user, ALICE.password)).code, 0);
    assert.equal((await kvno(c, SERVICE)).code, 0);
    assert.deepEqual(etypesOf((await klist(c)).stdout, SERVICE), { skey: 'aes256-cts-hmac-sha384-192', tkt: 'aes256-cts-hmac-sha384-192' });
    const server = await startGssServer(c.env, join(dir, 'dc.keytab'));
    try {
      const r = await gssClient(c, server.port, 'an aes-sha2 ticket');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Signature verified\./);
      await server.program.waitForLine(/^Received message: "an aes-sha2 ticket"$/);
    } finally {
      await server.program.stop('SIGKILL');
    }
  });
});
