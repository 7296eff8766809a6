// End to end: the Kerberos package across the workers, against a local MIT KDC. The client process's
// LSA half gets a TGT and a service ticket from the KDC and sends an AP-REQ; the server's opens the
// ticket with the keytab's key and answers an AP-REP; both contexts are mapped into their processes,
// whose user-mode halves sign and seal with the AP exchange's subkeys and no LPC. Skipped, saying so,
// without MIT's KDC.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ISC_REQ, SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { DEFAULT_CLIENT_REQ } from '../../client-proc/app.js';
import { DEFAULT_SERVER_REQ } from '../../server-proc/app.js';
import { MECH_OID, NEG_STATE, packNegTokenResp, unpackNegotiationToken } from '../../packages/negotiate/wire.js';
import { freePort } from '../helpers/sockets.js';
import { establish, messagesBothWays, withMachine } from '../helpers/machine.js';
import { ALICE_PASSWORD, mitKdcMissing, SERVICE, startRealm, type Realm } from '../helpers/kerberos-realm.js';
import type { AppProcess, MachineOptions } from '../../machine/machine.js';

const SKIP = mitKdcMissing();

/** One realm for the whole file: a local MIT KDC with alice, bob and host/localhost. */
let realm: Realm | undefined;
before(async () => {
  if (SKIP) return;
  realm = await startRealm();
});
after(async () => {
  await realm?.stop();
});

describe('end to end: Kerberos against a local MIT KDC', { timeout: 180_000 }, () => {

  const options = (extra: Record<string, unknown> = {}): MachineOptions => ({
    packages: ['kerberos'],
    accounts: [],
    packageSettings: { kerberos: realm!.settings(extra) },
  });
  const alice = () => ({ User: 'alice', Domain: realm!.realm, Password: ALICE_PASSWORD });

  it('runs the default apps: a handshake with mutual authentication, then sealed and signed messages each way', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine({ ...options(), trace: true }, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const serving = server.runApp(null, { name: 'svc', package: 'Kerberos' });
      const result = await client.runApp(null, {
        server: 'svc',
        package: 'Kerberos',
        user: 'alice',
        domain: realm!.realm,
        password: ALICE_PASSWORD,
        targetName: 'host@localhost',
        messages: 3,
      });
      assert.equal(result.statusName, 'SEC_E_OK', result.detail);
      const served = await serving;
      assert.equal(served.statusName, 'SEC_E_OK', served.detail);
      const events = await machine.events();
      assert.equal(events.filter((e) => e.call === 'MappedContext').length, 2);
    });
  });

  it('completes in two tokens with MappedContext on both sides; the names, sizes and session key are the AP exchange\'s', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(options(), async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, { package: 'Kerberos', authData: alice(), targetName: SERVICE });
      assert.ok(done.ok, JSON.stringify(done.steps));
      assert.deepEqual(
        done.steps.map((s) => `${s.api} ${s.status}`),
        ['InitializeSecurityContext SEC_I_CONTINUE_NEEDED', 'AcceptSecurityContext SEC_E_OK', 'InitializeSecurityContext SEC_E_OK'],
      );
      for (const [proc, ctx] of [
        [client, done.clientContext!],
        [server, done.serverContext!],
      ] as const) {
        const names = await proc.sspi.queryContextAttributes(ctx, SECPKG_ATTR.NAMES);
        assert.equal(names.buffer?.sUserName, `alice@${realm!.realm}`);
        const native = await proc.sspi.queryContextAttributes(ctx, SECPKG_ATTR.NATIVE_NAMES);
        assert.equal(native.buffer?.sServerName, `${SERVICE}@${realm!.realm}`);
        const sizes = await proc.sspi.queryContextAttributes(ctx, SECPKG_ATTR.SIZES);
        assert.deepEqual(sizes.buffer, { cbMaxToken: 48000, cbMaxSignature: 28, cbBlockSize: 1, cbSecurityTrailer: 60 });
      }
      const k1 = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.SESSION_KEY);
      const k2 = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.SESSION_KEY);
      assert.equal(k1.buffer?.SessionKey.length, 32);
      assert.deepEqual(k1.buffer?.SessionKey, k2.buffer?.SessionKey, "both sides' session key is the acceptor's subkey");
      await messagesBothWays(client, done.clientContext!, server, done.serverContext!);
    });
  });

  it('completes on the first call without mutual authentication (no AP-REP), and the two still talk', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(options(), async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const done = await establish(client, server, {
        package: 'Kerberos',
        authData: alice(),
        targetName: SERVICE,
        clientReq: DEFAULT_CLIENT_REQ & ~ISC_REQ.MUTUAL_AUTH,
      });
      assert.ok(done.ok, JSON.stringify(done.steps));
      assert.deepEqual(
        done.steps.map((s) => `${s.api} ${s.status}`),
        ['InitializeSecurityContext SEC_E_OK', 'AcceptSecurityContext SEC_E_OK'],
      );
      await messagesBothWays(client, done.clientContext!, server, done.serverContext!);
    });
  });

  it('refuses an AP-REQ played a second time (the replay cache): SEC_E_INVALID_TOKEN', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(options(), async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      let first: Uint8Array | undefined;
      const done = await establish(client, server, {
        package: 'Kerberos',
        authData: alice(),
        targetName: SERVICE,
        transit: (token, leg) => {
          if (leg === 1) first = Uint8Array.from(token);
          return token;
        },
      });
      assert.ok(done.ok);
      const cred = await server.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.INBOUND });
      const again = await server.sspi.acceptSecurityContext({ credential: cred.credential!, contextReq: 0, input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: first! }] });
      assert.equal(statusName(again.status), 'SEC_E_INVALID_TOKEN');
    });
  });
});

describe('end to end: Negotiate choosing Kerberos, or falling back to NTLM', { timeout: 180_000 }, () => {

  it('selects Kerberos when the target is a service principal the KDC knows; the context mapped is Kerberos\'', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(
      { packages: ['negotiate', 'ntlm', 'kerberos'], accounts: [`${'alice'}:${ALICE_PASSWORD}`], packageSettings: { kerberos: realm!.settings() } },
      async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const done = await establish(client, server, {
          package: 'Negotiate',
          authData: { User: 'alice', Domain: realm!.realm, Password: ALICE_PASSWORD },
          targetName: 'host@localhost',
        });
        assert.ok(done.ok, JSON.stringify(done.steps));
        assert.deepEqual(
          done.steps.map((s) => `${s.api} ${s.status}`),
          ['InitializeSecurityContext SEC_I_CONTINUE_NEEDED', 'AcceptSecurityContext SEC_E_OK', 'InitializeSecurityContext SEC_E_OK'],
        );
        const info = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.NEGOTIATION_INFO);
        assert.equal(info.buffer?.PackageInfo.Name, 'Kerberos');
        const names = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NAMES);
        assert.equal(names.buffer?.sUserName, `alice@${realm!.realm}`);
        await messagesBothWays(client, done.clientContext!, server, done.serverContext!);
      },
    );
  });

  it('falls back to NTLM when the target is no service principal the KDC knows', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(
      { packages: ['negotiate', 'ntlm', 'kerberos'], accounts: [`alice:${ALICE_PASSWORD}`], packageSettings: { kerberos: realm!.settings() } },
      async (machine) => {
        const server = await machine.spawn('server');
        const client = await machine.spawn('client');
        const done = await establish(client, server, {
          package: 'Negotiate',
          authData: { User: 'alice', Domain: realm!.realm, Password: ALICE_PASSWORD },
          targetName: 'HTTP@nowhere.example.test',
        });
        assert.ok(done.ok, JSON.stringify(done.steps));
        const info = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.NEGOTIATION_INFO);
        assert.equal(info.buffer?.PackageInfo.Name, 'NTLM');
      },
    );
  });
});

describe('end to end: Negotiate without a KDC to ask, and with the fallback to NTLM forbidden', { timeout: 180_000 }, () => {
  /** A port on which nothing listens: what a machine whose KDC is down asks. */
  let deadKdc = 0;
  before(async () => {
    deadKdc = await freePort();
  });

  const alice = () => ({ User: 'alice', Domain: realm!.realm, Password: ALICE_PASSWORD });
  const machine = (kerberos: Record<string, unknown>, negotiate: Record<string, unknown> = {}): MachineOptions => ({
    packages: ['negotiate', 'ntlm', 'kerberos'],
    accounts: [`alice:${ALICE_PASSWORD}`],
    packageSettings: { kerberos: { ...realm!.settings(), ...kerberos }, negotiate },
  });
  /** The mechanisms the client's NegTokenInit offers. */
  const offered = (token: Uint8Array): string[] => {
    const { token: init } = unpackNegotiationToken(token);
    assert.equal(init.kind, 'NegTokenInit');
    return (init as { mechTypes: string[] }).mechTypes;
  };

  it("falls back to NTLM when no KDC answers (the realm's KDC is down): the NegTokenInit offers NTLM alone, as Windows drops Kerberos from it", async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(machine({ kdc: `127.0.0.1:${deadKdc}` }), async (m) => {
      const server = await m.spawn('server');
      const client = await m.spawn('client');
      const tokens: Uint8Array[] = [];
      const done = await establish(client, server, { package: 'Negotiate', authData: alice(), targetName: 'host@localhost', transit: (t) => (tokens.push(t), t) });
      assert.ok(done.ok, JSON.stringify(done.steps));
      assert.deepEqual(offered(tokens[0]!), [MECH_OID.NTLMSSP]);
      const info = await client.sspi.queryContextAttributes(done.clientContext!, SECPKG_ATTR.NEGOTIATION_INFO);
      assert.equal(info.buffer?.PackageInfo.Name, 'NTLM');
    });
  });

  it('with allowNtlmFallback false: SEC_E_TARGET_UNKNOWN for a service the KDC does not know, SEC_E_NO_AUTHENTICATING_AUTHORITY when no KDC answers, and nothing is sent', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{}, 'HTTP@nowhere.example.test', 'SEC_E_TARGET_UNKNOWN'],
      [{ kdc: `127.0.0.1:${deadKdc}` }, 'host@localhost', 'SEC_E_NO_AUTHENTICATING_AUTHORITY'],
    ];
    for (const [kerberos, target, expected] of cases) {
      await withMachine(machine(kerberos, { allowNtlmFallback: false }), async (m) => {
        const client = await m.spawn('client');
        const cred = await client.sspi.acquireCredentialsHandle({ package: 'Negotiate', credentialUse: SECPKG_CRED.OUTBOUND, authData: alice() });
        const first = await client.sspi.initializeSecurityContext({ credential: cred.credential!, targetName: target, contextReq: DEFAULT_CLIENT_REQ });
        assert.equal(statusName(first.status), expected, target);
        assert.equal(first.context, undefined);
        assert.equal(first.output.find((b) => b.BufferType === SECBUFFER.TOKEN)?.pvBuffer.length ?? 0, 0);
      });
    }
  });

  it('with allowNtlmFallback false, Kerberos still works, and the NegTokenInit offers its two OIDs alone', async (t) => {
    if (SKIP) return t.skip(SKIP);
    await withMachine(machine({}, { allowNtlmFallback: false }), async (m) => {
      const server = await m.spawn('server');
      const client = await m.spawn('client');
      const tokens: Uint8Array[] = [];
      const done = await establish(client, server, { package: 'Negotiate', authData: alice(), targetName: 'host@localhost', transit: (t) => (tokens.push(t), t) });
      assert.ok(done.ok, JSON.stringify(done.steps));
      assert.deepEqual(offered(tokens[0]!), [MECH_OID.MS_KRB5, MECH_OID.KRB5]);
    });
  });
});

describe("end to end: Negotiate's initiator when the acceptor picks krb5 under its second OID and asks for the mechListMIC", { timeout: 180_000 }, () => {

  // The acceptor here is SPNEGO by hand around the Kerberos package (what an acceptor that knows only
  // 1.2.840.113554.1.2.2 does: Heimdal's, an MIT acceptor limited to that OID): it passes over the
  // optimistic AP-REQ (sent under 1.2.840.48018.1.2.2), names krb5 with request-mic, and gives the
  // Kerberos package the MechTypeList, so the AP-REP comes with its MIC and the client's MIC follows.
  for (const alter of [false, true]) {
    it(
      alter
        ? "refuses the client's mechListMIC changed on its way: SEC_E_MESSAGE_ALTERED"
        : 'starts Kerberos again under krb5; the AP-REP comes with the MIC, the client answers with its own and completes; the messages after agree on the sequence numbers',
      async (t) => {
        if (SKIP) return t.skip(SKIP);
        await withMachine(
          { packages: ['negotiate', 'ntlm', 'kerberos'], accounts: [], packageSettings: { kerberos: realm!.settings() } },
          async (m) => {
            const server = await m.spawn('server');
            const client = await m.spawn('client');
            const ccred = await client.sspi.acquireCredentialsHandle({
              package: 'Negotiate',
              credentialUse: SECPKG_CRED.OUTBOUND,
              authData: { User: 'alice', Domain: realm!.realm, Password: ALICE_PASSWORD },
            });
            const scred = await server.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.INBOUND });
            const token = (r: { output: Array<{ BufferType: number; pvBuffer: Uint8Array }> }, type: number = SECBUFFER.TOKEN): Uint8Array =>
              r.output.find((b) => b.BufferType === type)?.pvBuffer ?? new Uint8Array(0);
            const isc = (input: Uint8Array | null) =>
              client.sspi.initializeSecurityContext({
                credential: ccred.credential!,
                ...(clientCtx === undefined ? {} : { context: clientCtx }),
                targetName: 'host@localhost',
                contextReq: DEFAULT_CLIENT_REQ,
                input: input === null ? null : [{ BufferType: SECBUFFER.TOKEN, pvBuffer: input }],
              });
            let clientCtx: Parameters<AppProcess['sspi']['deleteSecurityContext']>[0] | undefined;

            const first = await isc(null);
            clientCtx = first.context;
            const { token: init } = unpackNegotiationToken(token(first));
            assert.ok(init.kind === 'NegTokenInit');
            assert.deepEqual(init.mechTypes, [MECH_OID.MS_KRB5, MECH_OID.KRB5, MECH_OID.NTLMSSP]);

            const second = await isc(packNegTokenResp({ negState: NEG_STATE.REQUEST_MIC, supportedMech: MECH_OID.KRB5 }));
            assert.equal(statusName(second.status), 'SEC_I_CONTINUE_NEEDED');
            const { token: apReqResp } = unpackNegotiationToken(token(second));
            assert.ok(apReqResp.kind === 'NegTokenResp' && apReqResp.responseToken !== undefined && apReqResp.mechListMIC === undefined);

            const mechList = { BufferType: SECBUFFER.MECHLIST, pvBuffer: init.mechTypeList! };
            const accepted = await server.sspi.acceptSecurityContext({
              credential: scred.credential!,
              contextReq: DEFAULT_SERVER_REQ,
              input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: apReqResp.responseToken }, mechList],
              outputTypes: [SECBUFFER.TOKEN, SECBUFFER.MECHLIST_SIGNATURE],
            });
            assert.equal(statusName(accepted.status), 'SEC_I_CONTINUE_NEEDED', 'the acceptor waits for the client MIC');
            const serverMic = token(accepted, SECBUFFER.MECHLIST_SIGNATURE);
            assert.equal(serverMic.length, 28, "a MIC token: 16 bytes of header and aes256's 12-byte checksum");

            const third = await isc(packNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE, responseToken: token(accepted), mechListMIC: serverMic }));
            assert.equal(statusName(third.status), 'SEC_E_OK');
            const { token: last } = unpackNegotiationToken(token(third));
            assert.ok(last.kind === 'NegTokenResp' && last.responseToken === undefined && last.mechListMIC !== undefined);
            const clientMic = alter ? Uint8Array.from(last.mechListMIC, (b, i) => (i === last.mechListMIC!.length - 1 ? b ^ 1 : b)) : last.mechListMIC;

            const finished = await server.sspi.acceptSecurityContext({
              credential: scred.credential!,
              context: accepted.context!,
              contextReq: DEFAULT_SERVER_REQ,
              input: [mechList, { BufferType: SECBUFFER.MECHLIST_SIGNATURE, pvBuffer: clientMic }],
            });
            if (alter) {
              assert.equal(statusName(finished.status), 'SEC_E_MESSAGE_ALTERED');
              return;
            }
            assert.equal(statusName(finished.status), 'SEC_E_OK');
            assert.equal(token(finished).length, 0, 'nothing more to send');
            const info = await client.sspi.queryContextAttributes(clientCtx!, SECPKG_ATTR.NEGOTIATION_INFO);
            assert.equal(info.buffer?.PackageInfo.Name, 'Kerberos');
            await messagesBothWays(client, clientCtx!, server, accepted.context!);
          },
        );
      },
    );
  }
});
