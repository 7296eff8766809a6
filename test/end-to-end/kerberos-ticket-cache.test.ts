// End to end: the Kerberos ticket cache seen and purged from outside the LSA, as klist does on
// Windows (LsaConnectUntrusted, LsaLookupAuthenticationPackage, LsaCallAuthenticationPackage with
// KerbQueryTicketCacheMessage, KerbQueryTicketCacheExMessage and KerbPurgeTicketCacheMessage). A
// domain controller runs the KDC; a member's process runs as EXAMPLE\alice:
//
// - after a handshake its own logon holds the krbtgt TGT and the service ticket;
// - a purge makes the next InitializeSecurityContext ask the DC's KDC again (counted at the DC);
// - another logon's LogonId is STATUS_ACCESS_DENIED from an untrusted caller, and changes nothing;
// - the logon's end (LsaApLogonTerminated) takes the cache with it (seen by a trusted caller, the
//   machine, before and after);
// - no reply carries a key or a ticket's bytes.
//
// Every wait is on an event: the KDC's records and fences (test/helpers/kdc-log.ts).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  KERB_PROTOCOL_MESSAGE_TYPE,
  KERB_TICKET_FLAGS,
  MICROSOFT_KERBEROS_NAME_A,
  packKerbPurgeTktCacheRequest,
  packKerbQueryTktCacheRequest,
  unpackKerbQueryTktCacheExResponse,
  unpackKerbQueryTktCacheResponse,
  type KerbTicketCacheInfoEx,
} from '../../headers/ntsecapi.js';
import { statusName as secName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../index.js';
import type { LsaConnectionHandle } from '../../sspi/index.js';
import { decrypt, KEY_USAGE, KERB_ETYPE_AES256_CTS_HMAC_SHA1_96, stringToKey } from '../../packages/kerberos/crypto/index.js';
import {
  KRB_MSG_TYPE,
  unpackApReq,
  unpackEncKdcRepPart,
  unpackEncTicketPart,
  unpackGssKrb5Token,
  unpackKdcRep,
} from '../../packages/kerberos/messages/index.js';
import { KdcLog } from '../helpers/kdc-log.js';
import { establish, withMachine } from '../helpers/machine.js';
import { KERBEROS_TCP, RecordingProxy } from '../helpers/recording-proxy.js';
import { findSecret, lsaToProcess } from '../helpers/scan.js';

const REALM = 'EXAMPLE.TEST';
const ALICE_PASSWORD = 'Alice-logs-on-7';
const WEB_PASSWORD = 'web-service-secret-3';
const SERVICE = 'HTTP/web.example.test';
const TGT_NAME = `krbtgt/${REALM}`;
const AS_LINES = [`AS alice@${REALM} -> ${TGT_NAME}@${REALM} KDC_ERR_PREAUTH_REQUIRED`, `AS alice@${REALM} -> ${TGT_NAME}@${REALM} OK`];
const TGS_LINE = `TGS alice@${REALM} -> ${SERVICE}@${REALM} OK`;

/** A process's connection to the LSA and the Kerberos package's id, as klist opens them. */
async function connect(proc: AppProcess): Promise<{ handle: LsaConnectionHandle; kerberos: number }> {
  const connected = await proc.sspi.lsaConnectUntrusted();
  assert.equal(statusName(connected.status), 'STATUS_SUCCESS');
  const lookup = await proc.sspi.lsaLookupAuthenticationPackage(connected.lsaHandle!, MICROSOFT_KERBEROS_NAME_A);
  assert.equal(statusName(lookup.status), 'STATUS_SUCCESS');
  return { handle: connected.lsaHandle!, kerberos: lookup.authenticationPackage! };
}

/** KerbQueryTicketCacheExMessage for `logonId` (0: the caller's own): the call's status, the message's, the tickets. */
async function queryEx(
  proc: AppProcess,
  logonId = 0n,
): Promise<{ status: string; protocolStatus: string; tickets: KerbTicketCacheInfoEx[]; raw?: Uint8Array }> {
  const { handle, kerberos } = await connect(proc);
  try {
    const submit = packKerbQueryTktCacheRequest({ MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage, LogonId: logonId });
    const r = await proc.sspi.lsaCallAuthenticationPackage(handle, kerberos, submit);
    const tickets = r.returnBuffer === undefined ? [] : unpackKerbQueryTktCacheExResponse(r.returnBuffer)?.Tickets;
    assert.ok(tickets !== undefined, 'the reply is a KERB_QUERY_TKT_CACHE_EX_RESPONSE');
    return {
      status: statusName(r.status),
      protocolStatus: statusName(r.protocolStatus ?? 0),
      tickets,
      ...(r.returnBuffer === undefined ? {} : { raw: r.returnBuffer }),
    };
  } finally {
    await proc.sspi.lsaDeregisterLogonProcess(handle);
  }
}

/** KerbPurgeTicketCacheMessage: the message's status. */
async function purge(proc: AppProcess, serverName = '', realmName = '', logonId = 0n): Promise<string> {
  const { handle, kerberos } = await connect(proc);
  const submit = packKerbPurgeTktCacheRequest({
    MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbPurgeTicketCacheMessage,
    LogonId: logonId,
    ServerName: serverName,
    RealmName: realmName,
  });
  const r = await proc.sspi.lsaCallAuthenticationPackage(handle, kerberos, submit);
  await proc.sspi.lsaDeregisterLogonProcess(handle);
  assert.equal(statusName(r.status), 'STATUS_SUCCESS', 'the call itself succeeds; the message answers in ProtocolStatus');
  return statusName(r.protocolStatus ?? 0);
}

/** An NTSTATUS's name, STATUS_SUCCESS for 0 (statusName spells 0 SEC_E_OK, the SSPI name). */
const statusName = (status: number): string => (status === 0 ? 'STATUS_SUCCESS' : secName(status));

const names = (tickets: readonly KerbTicketCacheInfoEx[]): string[] => tickets.map((t) => `${t.ServerName}@${t.ServerRealm}`);

describe('end to end: the Kerberos ticket cache through LsaCallAuthenticationPackage (klist, klist purge)', { timeout: 180_000 }, () => {
  let dc: Machine | undefined;
  const log = new KdcLog();

  before(async () => {
    dc = await Machine.boot({
      role: 'domain-controller',
      realm: REALM,
      accounts: [`alice:${ALICE_PASSWORD}`, 'bob:Bob-logs-on-8'],
      services: [`${SERVICE}:${WEB_PASSWORD}`],
      kdc: { onRequest: log.add },
      trace: false,
    });
  });
  after(async () => {
    await dc?.shutdown();
  });

  const fence = (): Promise<number> => log.fence(dc!.kdcAddress!.port);
  const member = (kdc = `127.0.0.1:${dc!.kdcAddress!.port}`, extra: Record<string, unknown> = {}) => ({
    packages: ['negotiate', 'ntlm', 'kerberos'],
    accounts: [`EXAMPLE\\alice:${ALICE_PASSWORD}`, 'EXAMPLE\\bob:Bob-logs-on-8', `${SERVICE}:${WEB_PASSWORD}`],
    trace: false,
    packageSettings: { kerberos: { realm: REALM, kdc, services: [SERVICE], ...extra } },
  });
  const handshake = async (client: AppProcess, server: AppProcess): Promise<void> => {
    const done = await establish(client, server, { package: 'Kerberos', authData: null, targetName: SERVICE });
    assert.ok(done.ok, JSON.stringify(done.steps));
  };

  it("after a handshake the process's own logon holds the krbtgt TGT and the service ticket, with names, times, flags and etype", async () => {
    await withMachine(member(), async (m) => {
      const server = await m.spawn('server');
      const client = await m.spawn('client', { logonAs: 'EXAMPLE\\alice' });
      await handshake(client, server);

      const ex = await queryEx(client);
      assert.equal(ex.status, 'STATUS_SUCCESS');
      assert.equal(ex.protocolStatus, 'STATUS_SUCCESS');
      assert.deepEqual(names(ex.tickets), [`${TGT_NAME}@${REALM}`, `${SERVICE}@${REALM}`], 'the TGT first, then the service ticket');
      for (const t of ex.tickets) {
        assert.equal(t.ClientName, 'alice');
        assert.equal(t.ClientRealm, REALM);
        assert.ok(t.StartTime > 0n && t.EndTime > t.StartTime, `${t.ServerName}: starts before it ends`);
        assert.equal(t.EncryptionType, KERB_ETYPE_AES256_CTS_HMAC_SHA1_96, `${t.ServerName}: an aes256 session key`);
      }
      const [tgt, service] = ex.tickets;
      assert.ok((tgt!.TicketFlags & KERB_TICKET_FLAGS.initial) !== 0, 'the TGT came from the AS exchange (initial)');
      assert.ok((tgt!.TicketFlags & KERB_TICKET_FLAGS.pre_authent) !== 0, 'with pre-authentication');
      assert.equal(service!.TicketFlags & KERB_TICKET_FLAGS.initial, 0, 'the service ticket came from the TGS exchange');

      // KerbQueryTicketCacheMessage: the same tickets in KERB_TICKET_CACHE_INFO; the caller's own LogonId named explicitly is the same as 0.
      const { handle, kerberos } = await connect(client);
      const own = await client.sspi.lsaCallAuthenticationPackage(
        handle,
        kerberos,
        packKerbQueryTktCacheRequest({ MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheMessage, LogonId: client.logonId }),
      );
      assert.equal(statusName(own.protocolStatus!), 'STATUS_SUCCESS');
      const plain = unpackKerbQueryTktCacheResponse(own.returnBuffer!);
      assert.equal(plain?.MessageType, KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheMessage);
      assert.deepEqual(
        plain?.Tickets.map((t) => [t.ServerName, t.RealmName, t.EndTime, t.TicketFlags]),
        ex.tickets.map((t) => [t.ServerName, t.ServerRealm, t.EndTime, t.TicketFlags]),
      );
      assert.equal(statusName((await client.sspi.lsaFreeReturnBuffer(own.returnBuffer)).status), 'STATUS_SUCCESS');

      // A closed connection is no connection.
      assert.equal(statusName((await client.sspi.lsaDeregisterLogonProcess(handle)).status), 'STATUS_SUCCESS');
      const closed = await client.sspi.lsaCallAuthenticationPackage(handle, kerberos, packKerbQueryTktCacheRequest({ MessageType: 1, LogonId: 0n }));
      assert.equal(statusName(closed.status), 'STATUS_INVALID_HANDLE');
      assert.equal(statusName((await client.sspi.lsaDeregisterLogonProcess(handle)).status), 'STATUS_INVALID_HANDLE');
    });
  });

  it("KerbPurgeTicketCacheMessage: one service's ticket, then the next InitializeSecurityContext makes the DC's KDC see a new TGS-REQ; all of them, then an AS exchange too", async () => {
    await withMachine(member(), async (m) => {
      const server = await m.spawn('server');
      const client = await m.spawn('client', { logonAs: 'EXAMPLE\\alice' });
      await handshake(client, server);
      const cached = await fence();
      await handshake(client, server);
      const again = await fence();
      assert.deepEqual(log.lines(cached + 1, again), [], 'a second handshake uses the cached service ticket');

      assert.equal(await purge(client, SERVICE, REALM), 'STATUS_SUCCESS');
      assert.deepEqual(names((await queryEx(client)).tickets), [`${TGT_NAME}@${REALM}`], 'the service ticket is gone, the TGT stays');
      await handshake(client, server);
      const afterOne = await fence();
      assert.deepEqual(log.lines(again + 1, afterOne), [TGS_LINE], 'the handshake after the purge asked the KDC for a new service ticket');
      assert.deepEqual(names((await queryEx(client)).tickets), [`${TGT_NAME}@${REALM}`, `${SERVICE}@${REALM}`]);

      assert.equal(await purge(client, 'HTTP/other.example.test', REALM), 'STATUS_SUCCESS');
      assert.equal((await queryEx(client)).tickets.length, 2, 'a purge naming another service leaves these');

      assert.equal(await purge(client), 'STATUS_SUCCESS');
      assert.deepEqual((await queryEx(client)).tickets, [], 'empty names purge every ticket');
      await handshake(client, server);
      const afterAll = await fence();
      assert.deepEqual(
        log.lines(afterOne + 1, afterAll),
        [AS_LINES[1], TGS_LINE],
        'with no TGT left, the AS exchange again (pre-authenticated at once: the logon kept its key and salt), then the TGS',
      );
    });
  });

  it("another logon's LogonId is STATUS_ACCESS_DENIED for an untrusted caller, to query or to purge, and changes nothing; a process without a logon has no cache", async () => {
    await withMachine(member(), async (m) => {
      const server = await m.spawn('server');
      const alice = await m.spawn('client', { logonAs: 'EXAMPLE\\alice', name: 'alice' });
      const bob = await m.spawn('client', { logonAs: 'EXAMPLE\\bob', name: 'bob' });
      const nobody = await m.spawn('client', { name: 'nobody' });
      await handshake(alice, server);
      assert.notEqual(alice.logonId, bob.logonId);

      const peek = await queryEx(bob, alice.logonId);
      assert.equal(peek.status, 'STATUS_SUCCESS');
      assert.equal(peek.protocolStatus, 'STATUS_ACCESS_DENIED');
      assert.equal(peek.raw, undefined, 'no reply buffer');
      assert.equal(await purge(bob, '', '', alice.logonId), 'STATUS_ACCESS_DENIED');
      assert.equal((await queryEx(nobody, alice.logonId)).protocolStatus, 'STATUS_ACCESS_DENIED');
      assert.deepEqual(names((await queryEx(alice)).tickets), [`${TGT_NAME}@${REALM}`, `${SERVICE}@${REALM}`], "alice's cache is as it was");

      assert.equal((await queryEx(nobody)).protocolStatus, 'STATUS_NO_SUCH_LOGON_SESSION', 'an anonymous process has no Kerberos logon');
      const bobs = await queryEx(bob);
      assert.deepEqual(names(bobs.tickets), [`${TGT_NAME}@${REALM}`], "bob's own logon: its TGT from SpAcceptCredentials, nothing of alice's");
      assert.deepEqual(
        bobs.tickets.map((t) => t.ClientName),
        ['bob'],
      );
    });
  });

  it("the logon's end (LsaApLogonTerminated) takes its cache: a trusted caller sees alice's tickets, then STATUS_NO_SUCH_LOGON_SESSION; a new logon starts empty of them", async () => {
    await withMachine(member(), async (m) => {
      const server = await m.spawn('server');
      const first = await m.spawn('client', { logonAs: 'EXAMPLE\\alice', name: 'alice-1' });
      await handshake(first, server);
      const logonId = first.logonId;
      const request = packKerbQueryTktCacheRequest({ MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage, LogonId: logonId });

      // The machine calls as a trusted caller (SeTcbPrivilege: LsaApCallPackage), which may name any logon.
      const before = await m.lsa.callAuthenticationPackage('Kerberos', request);
      assert.equal(statusName(before.status), 'STATUS_SUCCESS', before.reason);
      assert.equal(statusName(before.ProtocolStatus!), 'STATUS_SUCCESS');
      assert.deepEqual(names(unpackKerbQueryTktCacheExResponse(before.ProtocolReturnBuffer!)!.Tickets), [`${TGT_NAME}@${REALM}`, `${SERVICE}@${REALM}`]);
      assert.deepEqual(names((await queryEx(first)).tickets), [`${TGT_NAME}@${REALM}`, `${SERVICE}@${REALM}`], 'the process sees the same');

      assert.ok((await m.kill(first)) !== null, 'the LSA reaped alice-1');
      const gone = await m.lsa.callAuthenticationPackage('Kerberos', request);
      assert.equal(statusName(gone.status), 'STATUS_SUCCESS');
      assert.equal(statusName(gone.ProtocolStatus!), 'STATUS_NO_SUCH_LOGON_SESSION', 'the ended logon has no cache any more');
      assert.equal(gone.ProtocolReturnBuffer, undefined);

      const second = await m.spawn('client', { logonAs: 'EXAMPLE\\alice', name: 'alice-2' });
      assert.notEqual(second.logonId, logonId);
      assert.deepEqual(
        names((await queryEx(second)).tickets),
        [`${TGT_NAME}@${REALM}`],
        "a new logon of alice: its own TGT, no service ticket of the ended logon's",
      );
    });
  });

  it("no reply carries a key or a ticket: not the TGT or service ticket session keys, not alice's keys, not the tickets' bytes", async () => {
    const proxy = await RecordingProxy.start(KERBEROS_TCP, { host: '127.0.0.1', port: dc!.kdcAddress!.port });
    try {
      // Every request over TCP (udpPreferenceLimit 1), through the recording proxy.
      await withMachine({ ...member(`127.0.0.1:${proxy.port}`, { udpPreferenceLimit: 1 }), trace: true }, async (m) => {
        m.tap(true);
        const server = await m.spawn('server');
        const client = await m.spawn('client', { logonAs: 'EXAMPLE\\alice' });
        const done = await establish(client, server, { package: 'Kerberos', authData: null, targetName: SERVICE });
        assert.ok(done.ok, JSON.stringify(done.steps));
        const ex = await queryEx(client);
        assert.equal(ex.tickets.length, 2);
        const { handle, kerberos } = await connect(client);
        const plain = await client.sspi.lsaCallAuthenticationPackage(
          handle,
          kerberos,
          packKerbQueryTktCacheRequest({ MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheMessage, LogonId: 0n }),
        );
        const taps = await m.taps();

        const aliceKey = stringToKey(KERB_ETYPE_AES256_CTS_HMAC_SHA1_96, ALICE_PASSWORD, `${REALM}alice`);
        const serviceKey = stringToKey(KERB_ETYPE_AES256_CTS_HMAC_SHA1_96, WEB_PASSWORD, `${REALM}HTTPweb.example.test`);
        const asRep = proxy.records
          .filter((r) => r.from === 'server')
          .map((r) => {
            try {
              return unpackKdcRep(r.body);
            } catch {
              return undefined;
            }
          })
          .find((r) => r?.msgType === KRB_MSG_TYPE.AS_REP);
        assert.ok(asRep !== undefined, 'the proxy saw the AS-REP');
        const tgtSessionKey = unpackEncKdcRepPart(decrypt(aliceKey, KEY_USAGE.AS_REP_ENC_PART, asRep.encPart.cipher)).key;
        const apReq = unpackApReq(unpackGssKrb5Token(done.results.map(firstToken).find((t) => t !== undefined)!).message);
        const serviceSessionKey = unpackEncTicketPart(decrypt(serviceKey, KEY_USAGE.KDC_REP_TICKET, apReq.ticket.encPart.cipher)).key;

        const secrets: Array<[string, Uint8Array]> = [
          ["alice's aes256 key", aliceKey.keyvalue],
          ["the service's aes256 key", serviceKey.keyvalue],
          ["the TGT's session key", tgtSessionKey.keyvalue],
          ["the service ticket's session key", serviceSessionKey.keyvalue],
          ["the TGT's ciphertext", asRep.ticket.encPart.cipher.subarray(0, 32)],
          ["the service ticket's ciphertext", apReq.ticket.encPart.cipher.subarray(0, 32)],
        ];
        const replies = taps.filter(lsaToProcess).filter((t) => (t.message as { op?: string }).op === 'LsaApCallPackageUntrusted');
        assert.ok(replies.length >= 2, 'the tap saw the LSA answer the calls');
        for (const [what, secret] of secrets) {
          assert.deepEqual(findSecret(ex.raw, secret), [], `${what} in the KERB_QUERY_TKT_CACHE_EX_RESPONSE`);
          assert.deepEqual(findSecret(plain.returnBuffer, secret), [], `${what} in the KERB_QUERY_TKT_CACHE_RESPONSE`);
          assert.deepEqual(
            replies.filter((t) => findSecret(t.message, secret).length > 0).map((t) => t.process),
            [],
            `${what} in an LsaApCallPackageUntrusted reply`,
          );
        }
      });
    } finally {
      await proxy.stop();
    }
  });
});

/** The first non-empty output token of an InitializeSecurityContext result (the AP-REQ), if it is one. */
function firstToken(result: unknown): Uint8Array | undefined {
  const output = (result as { output?: Array<{ BufferType: number; pvBuffer: Uint8Array }> }).output;
  return output?.find((b) => b.pvBuffer.length > 0)?.pvBuffer;
}
