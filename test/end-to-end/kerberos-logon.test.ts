// End to end: where the Kerberos package gets its TGTs and where its secrets stay (issue 14's ticket
// cache). A domain-controller machine runs the KDC; a member machine's process runs as a domain
// account (EXAMPLE\alice in the member's account store, the password the DC holds):
//
// - its logon gets the TGT at SpAcceptCredentials: the DC's records show the AS exchange by the time
//   spawn returns, before the process made any SSPI call, and its first handshake needs only a TGS;
// - explicit credentials get theirs on first use: nothing reaches the KDC at AcquireCredentialsHandle,
//   the AS exchange comes with the first InitializeSecurityContext;
// - the logon's end (the process killed, the LSA reaping it) reaches the package's
//   LsaApLogonTerminated, and a new logon of the same user has to do the AS exchange again;
// - nothing the LSA sends to the client or the server process carries alice's long-term keys, the
//   service's, the TGT's session key or the service ticket's session key; the context's own key
//   (the initiator's subkey, read out of the AP-REQ with the service key) is in the delivery.
//
// Every wait is on an event: the KDC's onRequest records, a fence request the test sends the KDC
// itself (its record comes after those of every request answered before it was sent).

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { TapRecord } from '../../ipc/trace.js';
import { Machine, type KdcRequestRecord } from '../../index.js';
import {
  decrypt,
  KERB_ETYPE_AES128_CTS_HMAC_SHA1_96,
  KERB_ETYPE_AES256_CTS_HMAC_SHA1_96,
  KEY_USAGE,
  stringToKey,
  type EncryptionKey,
} from '../../packages/kerberos/crypto/index.js';
import {
  KRB_MSG_TYPE,
  unpackApReq,
  unpackAuthenticator,
  unpackEncKdcRepPart,
  unpackEncTicketPart,
  unpackGssKrb5Token,
  unpackKdcRep,
} from '../../packages/kerberos/messages/index.js';
import { establish, messagesBothWays, withMachine } from '../helpers/machine.js';
import { betweenApps, findSecret, lsaToProcess } from '../helpers/scan.js';

const REALM = 'EXAMPLE.TEST';
const ALICE_PASSWORD = 'Alice-logs-on-7';
const WEB_PASSWORD = 'web-service-secret-3';
const SERVICE = 'HTTP/web.example.test';

/** The KDC's requests as the DC reports them, and waits for the next ones (each record wakes its waiters: no timers). */
class KdcLog {
  readonly records: KdcRequestRecord[] = [];
  private waiters: Array<{ ready: () => boolean; wake: () => void }> = [];

  add(record: KdcRequestRecord): void {
    this.records.push(record);
    this.waiters = this.waiters.filter((w) => {
      if (!w.ready()) return true;
      w.wake();
      return false;
    });
  }

  /** Resolves once `count` records have come in all. */
  until(count: number): Promise<void> {
    return this.when(() => this.records.length >= count);
  }

  /** Resolves once a record from `from` on answers `test`; its index. */
  async find(from: number, test: (r: KdcRequestRecord) => boolean): Promise<number> {
    const at = (): number => this.records.findIndex((r, i) => i >= from && test(r));
    await this.when(() => at() >= 0);
    return at();
  }

  lines(from = 0, to = this.records.length): string[] {
    return this.records.slice(from, to).map((r) => `${r.exchange ?? 'other'} ${r.client ?? '-'} -> ${r.server ?? '-'} ${r.result}`);
  }

  private when(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((wake) => this.waiters.push({ ready, wake }));
  }
}

const AS_LINES = [`AS alice@${REALM} -> krbtgt/${REALM}@${REALM} KDC_ERR_PREAUTH_REQUIRED`, `AS alice@${REALM} -> krbtgt/${REALM}@${REALM} OK`];
const TGS_LINE = `TGS alice@${REALM} -> ${SERVICE}@${REALM} OK`;

describe(
  "end to end: the Kerberos package's TGTs (a logon's at SpAcceptCredentials, explicit credentials' on first use) and its secrets",
  { timeout: 180_000 },
  () => {
    let dc: Machine | undefined;
    const log = new KdcLog();
    let fences = 0;

    before(async () => {
      dc = await Machine.boot({
        role: 'domain-controller',
        realm: REALM,
        accounts: [`alice:${ALICE_PASSWORD}`],
        services: [`${SERVICE}:${WEB_PASSWORD}`],
        kdc: { onRequest: (record) => log.add(record) },
        trace: false,
      });
    });
    after(async () => {
      await dc?.shutdown();
    });

    /**
     * Sends the KDC a datagram that is no Kerberos request and waits for its record: every request the
     * KDC answered before it was sent has its record before it. Its index.
     */
    const fence = async (): Promise<number> => {
      const from = log.records.length;
      const mark = `fence-${++fences}`;
      const socket = createSocket('udp4');
      try {
        await new Promise<void>((sent, failed) => socket.send(Buffer.from(mark), dc!.kdcAddress!.port, '127.0.0.1', (e) => (e ? failed(e) : sent())));
        return await log.find(from, (r) => r.exchange === null);
      } finally {
        socket.close();
      }
    };

    /** The member: in the realm, the DC's KDC (or `kdc`), alice as a domain account and the service's password in its own account store. */
    const member = (kdc = `127.0.0.1:${dc!.kdcAddress!.port}`, extra: Record<string, unknown> = {}) => ({
      packages: ['negotiate', 'ntlm', 'kerberos'],
      accounts: [`EXAMPLE\\alice:${ALICE_PASSWORD}`, `${SERVICE}:${WEB_PASSWORD}`],
      trace: false,
      packageSettings: { kerberos: { realm: REALM, kdc, services: [SERVICE], ...extra } },
    });

    it('a process spawned as a domain account has its TGT when spawn returns (the AS exchange at SpAcceptCredentials, before any SSPI call); its first handshake needs only a TGS exchange', async () => {
      await withMachine(member(), async (m) => {
        const server = await m.spawn('server');
        const start = await fence();
        const client = await m.spawn('client', { logonAs: 'EXAMPLE\\alice' });
        const stats = await m.lsa.stats();
        assert.equal(stats.perProcess.find((p) => p.name === 'client')?.calls, 0, 'the client has made no call to the LSA yet');
        const logonDone = await fence();
        assert.deepEqual(log.lines(start + 1, logonDone), AS_LINES, 'the logon did the AS exchange');

        const done = await establish(client, server, { package: 'Kerberos', authData: null, targetName: SERVICE });
        assert.ok(done.ok, JSON.stringify(done.steps));
        const names = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NAMES);
        assert.equal(names.buffer?.sUserName, `alice@${REALM}`);
        const handshakeDone = await fence();
        assert.deepEqual(log.lines(logonDone + 1, handshakeDone), [TGS_LINE], 'the handshake used the logon TGT: no second AS-REQ');
      });
    });

    it('explicit credentials get their TGT on first use: nothing at AcquireCredentialsHandle, the AS exchange with the first InitializeSecurityContext', async () => {
      await withMachine(member(), async (m) => {
        const server = await m.spawn('server');
        const client = await m.spawn('client');
        const start = await fence();
        const authData = { User: 'alice', Domain: REALM, Password: ALICE_PASSWORD };
        const cred = await client.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.OUTBOUND, authData });
        assert.equal(statusName(cred.status), 'SEC_E_OK');
        const acquired = await fence();
        assert.deepEqual(log.lines(start + 1, acquired), [], 'AcquireCredentialsHandle asked the KDC nothing');

        // Without ISC_REQ_MUTUAL_AUTH the first call completes the client: the AP-REQ is all there is.
        const first = await client.sspi.initializeSecurityContext({ credential: cred.credential!, targetName: SERVICE, contextReq: 0 });
        assert.equal(statusName(first.status), 'SEC_E_OK');
        const used = await fence();
        assert.deepEqual(log.lines(acquired + 1, used), [...AS_LINES, TGS_LINE], 'the first InitializeSecurityContext did the AS exchange, then the TGS');
        const inbound = await server.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.INBOUND });
        const accepted = await server.sspi.acceptSecurityContext({
          credential: inbound.credential!,
          contextReq: 0,
          input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: first.output.find((b) => b.BufferType === SECBUFFER.TOKEN)!.pvBuffer }],
        });
        assert.equal(statusName(accepted.status), 'SEC_E_OK', 'the server accepts the AP-REQ');
        const second = await client.sspi.initializeSecurityContext({ credential: cred.credential!, targetName: SERVICE, contextReq: 0 });
        assert.equal(statusName(second.status), 'SEC_E_OK');
        const cached = await fence();
        assert.deepEqual(log.lines(used + 1, cached), [], 'the second used the cached tickets');
        await client.sspi.freeCredentialsHandle(cred.credential!);
      });
    });

    it("the logon's end reaches the package (LsaApLogonTerminated): its tickets go with it, and a new logon of alice does the AS exchange again", async () => {
      await withMachine({ ...member(), trace: true }, async (m) => {
        const server = await m.spawn('server');
        const sessionsBefore = (await m.lsa.stats()).logonSessions;
        const start = await fence();
        const first = await m.spawn('client', { logonAs: 'EXAMPLE\\alice', name: 'alice-1' });
        const done = await establish(first, server, { package: 'Kerberos', authData: null, targetName: SERVICE });
        assert.ok(done.ok, JSON.stringify(done.steps));
        const used = await fence();
        assert.deepEqual(log.lines(start + 1, used), [...AS_LINES, TGS_LINE]);
        assert.equal((await m.lsa.stats()).logonSessions, sessionsBefore + 2, "alice-1's logon, and the network logon of the server's context");

        const reaped = await m.kill(first);
        assert.ok(reaped !== null, 'the LSA reaped alice-1');
        const events = await m.events();
        const terminated = events.filter((e) => e.call === 'LsaApLogonTerminated' && e.phase === 'call' && e.detail === 'Kerberos' && e.peer === 'alice-1');
        assert.equal(terminated.length, 1, `Kerberos' LsaApLogonTerminated ran once: ${JSON.stringify(terminated)}`);
        assert.equal((await m.lsa.stats()).logonSessions, sessionsBefore + 1, "alice-1's logon session is gone (the server's context keeps its network logon)");

        const again = await m.spawn('client', { logonAs: 'EXAMPLE\\alice', name: 'alice-2' });
        const relogged = await fence();
        assert.deepEqual(log.lines(used + 1, relogged), AS_LINES, 'the new logon did the AS exchange again');
        const second = await establish(again, server, { package: 'Kerberos', authData: null, targetName: SERVICE });
        assert.ok(second.ok, JSON.stringify(second.steps));
        const usedAgain = await fence();
        assert.deepEqual(log.lines(relogged + 1, usedAgain), [TGS_LINE], 'and a TGS exchange of its own: no ticket of the ended logon serves it');
      });
    });

    it("sends the client and server processes no long-term key, no TGT session key, no service ticket session key: only the context's own keys (MappedContext)", async () => {
      const proxy = await KdcProxy.start(dc!.kdcAddress!.port);
      try {
        // Every request over TCP (udpPreferenceLimit 1), through the recording proxy.
        await withMachine({ ...member(`127.0.0.1:${proxy.port}`, { udpPreferenceLimit: 1 }), trace: true }, async (m) => {
          m.tap(true);
          const server = await m.spawn('server');
          const client = await m.spawn('client', { logonAs: 'EXAMPLE\\alice' });
          const done = await establish(client, server, { package: 'Kerberos', authData: null, targetName: SERVICE });
          assert.ok(done.ok, JSON.stringify(done.steps));
          assert.deepEqual(
            done.steps.map((s) => `${s.api} ${s.status}`),
            ['InitializeSecurityContext SEC_I_CONTINUE_NEEDED', 'AcceptSecurityContext SEC_E_OK', 'InitializeSecurityContext SEC_E_OK'],
            'mutual authentication: the AP-REP completes the client',
          );
          await messagesBothWays(client, done.clientContext!, server, done.serverContext!);
          const taps = await m.taps();

          // alice's long-term keys and the service's, as the KDC and the member derive them (salt: realm, then the name's components).
          const aliceKeys = [KERB_ETYPE_AES256_CTS_HMAC_SHA1_96, KERB_ETYPE_AES128_CTS_HMAC_SHA1_96].map((e) =>
            stringToKey(e, ALICE_PASSWORD, `${REALM}alice`),
          );
          const serviceKeys = [KERB_ETYPE_AES256_CTS_HMAC_SHA1_96, KERB_ETYPE_AES128_CTS_HMAC_SHA1_96].map((e) =>
            stringToKey(e, WEB_PASSWORD, `${REALM}HTTPweb.example.test`),
          );
          const keyFor = (keys: EncryptionKey[], etype: number): EncryptionKey => {
            const key = keys.find((k) => k.keytype === etype);
            assert.ok(key !== undefined, `a key of etype ${etype}`);
            return key;
          };

          // The TGT's session key: the AS-REP the proxy saw, opened with alice's key.
          const asReps = proxy
            .replies()
            .map(tryKdcRep)
            .filter((r) => r?.msgType === KRB_MSG_TYPE.AS_REP);
          assert.equal(asReps.length, 1, 'one AS-REP went through the proxy');
          const asRep = asReps[0]!;
          const tgtSessionKey = unpackEncKdcRepPart(decrypt(keyFor(aliceKeys, asRep.encPart.etype), KEY_USAGE.AS_REP_ENC_PART, asRep.encPart.cipher)).key;

          // The service ticket's session key and the initiator's subkey: the AP-REQ the client sent the server, opened with the service's key.
          const apReqToken = tokenOfStep(done.results[2]);
          const apReq = unpackApReq(unpackGssKrb5Token(apReqToken).message);
          const ticketPart = unpackEncTicketPart(
            decrypt(keyFor(serviceKeys, apReq.ticket.encPart.etype), KEY_USAGE.KDC_REP_TICKET, apReq.ticket.encPart.cipher),
          );
          const ticketSessionKey = ticketPart.key;
          const authenticator = unpackAuthenticator(decrypt(ticketSessionKey, KEY_USAGE.AP_REQ_AUTHENTICATOR, apReq.authenticator.cipher));
          const initiatorSubkey = authenticator.subkey;
          assert.ok(initiatorSubkey !== undefined, 'the AP-REQ carries an initiator subkey');

          const fromLsa = taps.filter(lsaToProcess);
          assert.ok(fromLsa.some((t) => t.process === 'client') && fromLsa.some((t) => t.process === 'server'), 'the tap saw the LSA talk to both processes');
          const carrying = (secret: Uint8Array): TapRecord[] => fromLsa.filter((t) => findSecret(t.message, secret).length > 0);

          // The scan can find a key: the context's own (the initiator subkey) went to both processes with MappedContext.
          const delivered = carrying(initiatorSubkey.keyvalue);
          assert.ok(
            delivered.some((t) => t.process === 'client'),
            "the client's MappedContext carries the context's initiator subkey",
          );
          assert.ok(
            delivered.some((t) => t.process === 'server'),
            "the server's MappedContext carries the context's initiator subkey",
          );

          const secrets: Array<[string, Uint8Array]> = [
            ["alice's aes256 key", aliceKeys[0]!.keyvalue],
            ["alice's aes128 key", aliceKeys[1]!.keyvalue],
            ["the service's aes256 key", serviceKeys[0]!.keyvalue],
            ["the service's aes128 key", serviceKeys[1]!.keyvalue],
            ["the TGT's session key", tgtSessionKey.keyvalue],
            ["the service ticket's session key", ticketSessionKey.keyvalue],
          ];
          for (const [what, secret] of secrets) {
            const where = carrying(secret).map((t) => `${t.process} ${t.direction} ${t.channel} ${(t.message as { op?: string }).op ?? ''}`);
            assert.deepEqual(where, [], `${what} went from the LSA to an app process`);
          }
          // And none of them between the apps either (the tokens carry them encrypted only).
          for (const [what, secret] of secrets)
            assert.deepEqual(
              taps.filter(betweenApps).filter((t) => findSecret(t.message, secret).length > 0),
              [],
              `${what} between the apps`,
            );
        });
      } finally {
        await proxy.close();
      }
    });
  },
);

/** The output token of one InitializeSecurityContext result. */
function tokenOfStep(result: unknown): Uint8Array {
  const output = (result as { output?: Array<{ BufferType: number; pvBuffer: Uint8Array }> }).output ?? [];
  const token = output.find((b) => b.pvBuffer.length > 0)?.pvBuffer;
  assert.ok(token !== undefined, 'the first InitializeSecurityContext gave a token');
  return token;
}

function tryKdcRep(bytes: Uint8Array): ReturnType<typeof unpackKdcRep> | undefined {
  try {
    return unpackKdcRep(bytes);
  } catch {
    return undefined;
  }
}

/**
 * A TCP relay in front of the KDC that keeps what the KDC answered, message by message (RFC 4120
 * 7.2.2: each a 4-byte big-endian length, then the message).
 */
class KdcProxy {
  private readonly received: Buffer[] = [];
  private readonly sockets = new Set<Socket>();

  private readonly server: Server;
  readonly port: number;

  private constructor(server: Server, port: number) {
    this.server = server;
    this.port = port;
  }

  static async start(kdcPort: number): Promise<KdcProxy> {
    let proxy: KdcProxy | undefined;
    const server = createServer((inbound) => proxy!.relay(inbound, kdcPort));
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    proxy = new KdcProxy(server, address.port);
    return proxy;
  }

  /** Every message the KDC sent back, the length prefixes taken off. */
  replies(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const stream of this.received) {
      let at = 0;
      while (at + 4 <= stream.length) {
        const length = stream.readUInt32BE(at);
        if (at + 4 + length > stream.length) break;
        out.push(new Uint8Array(stream.subarray(at + 4, at + 4 + length)));
        at += 4 + length;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((closed) => this.server.close(() => closed()));
  }

  private relay(inbound: Socket, kdcPort: number): void {
    const outbound = connect(kdcPort, '127.0.0.1');
    const index = this.received.push(Buffer.alloc(0)) - 1;
    this.sockets.add(inbound).add(outbound);
    inbound.on('data', (chunk) => outbound.write(chunk));
    outbound.on('data', (chunk) => {
      this.received[index] = Buffer.concat([this.received[index]!, chunk]);
      inbound.write(chunk);
    });
    const end = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('close', end).on('error', end);
    outbound.on('close', end).on('error', end);
  }
}
