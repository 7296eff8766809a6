// The Kerberos package's LsaCallAuthenticationPackage messages (packages/kerberos/call-package.ts)
// over a TicketCache filled with tickets made here: which logon a request reaches, what a query
// lists (and never a key or a ticket's bytes), what a purge drops (and wipes), and the statuses of
// everything else. The LSA's side (who the caller is) is test/end-to-end/kerberos-ticket-cache.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  KERB_PROTOCOL_MESSAGE_TYPE,
  packKerbPurgeTktCacheRequest,
  packKerbQueryTktCacheRequest,
  unpackKerbQueryTktCacheExResponse,
  unpackKerbQueryTktCacheResponse,
} from '../../../headers/ntsecapi.js';
import { statusName as secName } from '../../../headers/status.js';
import type { LUID } from '../../../headers/ntsecpkg.js';
import { kerberosCallPackage, type KerberosCaller } from '../../../packages/kerberos/call-package.js';
import { KRB_NT } from '../../../packages/kerberos/messages/index.js';
import { TicketCache, type CachedTicket } from '../../../packages/kerberos/tickets.js';
import { findSecret } from '../../helpers/scan.js';

const statusName = (s: number | undefined): string => (s === 0 ? 'STATUS_SUCCESS' : secName(s ?? -1));
const REALM = 'EXAMPLE.TEST';
const ALICE: LUID = 0x10010n;
const BOB: LUID = 0x10020n;
const NOW = new Date('2026-12-07T12:00:00Z');

let fill = 1;
/** A ticket for `server` with a session key and ticket bytes unlike any other's. */
function ticket(server: string[], flags = 0x40e00000): CachedTicket {
  const key = Uint8Array.from({ length: 32 }, (_, i) => (fill * 31 + i * 7) & 0xff);
  const cipher = Uint8Array.from({ length: 64 }, (_, i) => (fill * 17 + i * 13 + 5) & 0xff);
  fill++;
  return {
    client: { name: { nameType: KRB_NT.PRINCIPAL, nameString: ['alice'] }, realm: REALM },
    server: { name: { nameType: KRB_NT.SRV_INST, nameString: server }, realm: REALM },
    ticket: { realm: REALM, sname: { nameType: KRB_NT.SRV_INST, nameString: server }, encPart: { etype: 18, kvno: 2, cipher } },
    sessionKey: { keytype: 18, keyvalue: key },
    flags,
    authtime: new Date(NOW.getTime() - 60_000),
    starttime: undefined,
    endtime: new Date(NOW.getTime() + 10 * 3600_000),
    renewTill: new Date(NOW.getTime() + 7 * 24 * 3600_000),
  };
}

/** alice's cache: a TGT and two service tickets, fetched through the cache's own single-flight paths. */
async function aliceCache(): Promise<{ cache: TicketCache; tickets: CachedTicket[] }> {
  const cache = new TicketCache();
  const tgt = ticket(['krbtgt', REALM]);
  const web = ticket(['HTTP', 'web.example.test']);
  const sql = ticket(['MSSQLSvc', 'db.example.test']);
  await cache.ticketGrantingTicket(NOW, async () => tgt);
  for (const t of [web, sql]) await cache.serviceTicket(t.server, NOW, async () => t);
  return { cache, tickets: [tgt, web, sql] };
}

const query = (type: number, LogonId: LUID = 0n): Uint8Array => packKerbQueryTktCacheRequest({ MessageType: type, LogonId });
const purge = (ServerName = '', RealmName = '', LogonId: LUID = 0n): Uint8Array =>
  packKerbPurgeTktCacheRequest({ MessageType: KERB_PROTOCOL_MESSAGE_TYPE.KerbPurgeTicketCacheMessage, LogonId, ServerName, RealmName });
const alice: KerberosCaller = { logonId: ALICE, tcb: false };

describe('Kerberos LsaApCallPackage(Untrusted) messages', () => {
  it('KerbQueryTicketCacheExMessage lists the TGT, then the service tickets: names, realms, times, etype, flags', async () => {
    const { cache, tickets } = await aliceCache();
    const r = kerberosCallPackage(query(KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage), alice, (id) => (id === ALICE ? cache : undefined));
    assert.equal(statusName(r.status), 'STATUS_SUCCESS');
    assert.equal(statusName(r.ProtocolStatus), 'STATUS_SUCCESS');
    assert.equal(r.ReturnBufferLength, r.ProtocolReturnBuffer?.byteLength);
    const listed = unpackKerbQueryTktCacheExResponse(r.ProtocolReturnBuffer!)!;
    assert.equal(listed.MessageType, KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage);
    assert.deepEqual(
      listed.Tickets.map((t) => `${t.ClientName}@${t.ClientRealm} ${t.ServerName}@${t.ServerRealm}`),
      [`alice@${REALM} krbtgt/${REALM}@${REALM}`, `alice@${REALM} HTTP/web.example.test@${REALM}`, `alice@${REALM} MSSQLSvc/db.example.test@${REALM}`],
    );
    const filetime = (d: Date): bigint => (BigInt(d.getTime()) + 11_644_473_600_000n) * 10_000n;
    assert.equal(listed.Tickets[0]!.StartTime, filetime(tickets[0]!.authtime), 'no starttime: the authtime');
    assert.equal(listed.Tickets[0]!.EndTime, filetime(tickets[0]!.endtime));
    assert.equal(listed.Tickets[0]!.RenewTime, filetime(tickets[0]!.renewTill!));
    assert.equal(listed.Tickets[0]!.EncryptionType, 18);
    assert.equal(listed.Tickets[0]!.TicketFlags, 0x40e00000);
  });

  it('KerbQueryTicketCacheMessage lists the same tickets as KERB_TICKET_CACHE_INFO', async () => {
    const { cache } = await aliceCache();
    const r = kerberosCallPackage(query(KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheMessage), alice, () => cache);
    const listed = unpackKerbQueryTktCacheResponse(r.ProtocolReturnBuffer!)!;
    assert.deepEqual(
      listed.Tickets.map((t) => `${t.ServerName}@${t.RealmName}`),
      [`krbtgt/${REALM}@${REALM}`, `HTTP/web.example.test@${REALM}`, `MSSQLSvc/db.example.test@${REALM}`],
    );
  });

  it('answers no session key and no ticket bytes, in either form', async () => {
    const { cache, tickets } = await aliceCache();
    for (const type of [KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheMessage, KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage]) {
      const reply = kerberosCallPackage(query(type), alice, () => cache).ProtocolReturnBuffer!;
      for (const t of tickets) {
        assert.deepEqual(findSecret(reply, t.sessionKey.keyvalue), [], `the session key of ${t.server.name.nameString.join('/')}`);
        assert.deepEqual(findSecret(reply, t.ticket.encPart.cipher.subarray(0, 16)), [], `the ticket bytes of ${t.server.name.nameString.join('/')}`);
      }
    }
  });

  it("LogonId 0 and the caller's own reach its logon; another logon is STATUS_ACCESS_DENIED without SeTcbPrivilege, and reachable with it", async () => {
    const { cache } = await aliceCache();
    const asked: LUID[] = [];
    const cacheOf = (id: LUID): TicketCache | undefined => {
      asked.push(id);
      return id === ALICE ? cache : undefined;
    };
    const type = KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage;
    assert.equal(statusName(kerberosCallPackage(query(type, ALICE), alice, cacheOf).ProtocolStatus), 'STATUS_SUCCESS');
    const bob: KerberosCaller = { logonId: BOB, tcb: false };
    const denied = kerberosCallPackage(query(type, ALICE), bob, cacheOf);
    assert.equal(statusName(denied.status), 'STATUS_SUCCESS');
    assert.equal(statusName(denied.ProtocolStatus), 'STATUS_ACCESS_DENIED');
    assert.equal(denied.ProtocolReturnBuffer, undefined);
    assert.equal(statusName(kerberosCallPackage(purge('', '', ALICE), bob, cacheOf).ProtocolStatus), 'STATUS_ACCESS_DENIED');
    assert.deepEqual(asked, [ALICE], 'a refused request does not even look the logon up');
    assert.equal(cache.size, 3, 'and purges nothing');
    assert.equal(
      statusName(kerberosCallPackage(query(type), bob, cacheOf).ProtocolStatus),
      'STATUS_NO_SUCH_LOGON_SESSION',
      "bob's own logon holds nothing here",
    );
    const trusted = kerberosCallPackage(query(type, ALICE), { logonId: BOB, tcb: true }, cacheOf);
    assert.equal(statusName(trusted.ProtocolStatus), 'STATUS_SUCCESS', 'SeTcbPrivilege reaches any logon');
    assert.equal(unpackKerbQueryTktCacheExResponse(trusted.ProtocolReturnBuffer!)?.Tickets.length, 3);
  });

  it('KerbPurgeTicketCacheMessage drops and wipes one service (names without regard to case), then everything; the cache takes new tickets after', async () => {
    const { cache, tickets } = await aliceCache();
    const [tgt, web, sql] = tickets;
    const webKey = Uint8Array.from(web!.sessionKey.keyvalue);
    const r = kerberosCallPackage(purge('http/WEB.example.test', 'example.test'), alice, () => cache);
    assert.equal(statusName(r.status), 'STATUS_SUCCESS');
    assert.equal(statusName(r.ProtocolStatus), 'STATUS_SUCCESS');
    assert.deepEqual(
      cache.entries().map((t) => t.server.name.nameString.join('/')),
      [`krbtgt/${REALM}`, 'MSSQLSvc/db.example.test'],
    );
    assert.ok(
      web!.sessionKey.keyvalue.every((b) => b === 0),
      'the purged ticket’s session key is zeroed',
    );
    assert.notDeepEqual(webKey, web!.sessionKey.keyvalue);
    kerberosCallPackage(purge('', 'OTHER.TEST'), alice, () => cache);
    assert.equal(cache.size, 2, 'a realm no ticket is for purges nothing');
    kerberosCallPackage(purge(), alice, () => cache);
    assert.equal(cache.size, 0, 'empty names: every ticket, the TGT too');
    assert.ok(tgt!.sessionKey.keyvalue.every((b) => b === 0) && sql!.sessionKey.keyvalue.every((b) => b === 0));
    const fresh = ticket(['krbtgt', REALM]);
    assert.equal(await cache.ticketGrantingTicket(NOW, async () => fresh), fresh, 'a purged cache is not closed: it keeps the next TGT');
    assert.equal(cache.size, 1);
  });

  it('answers STATUS_INVALID_PARAMETER for a buffer shorter than a message type or a type outside the enumeration, STATUS_NOT_IMPLEMENTED for the other types', async () => {
    const { cache } = await aliceCache();
    const call = (bytes: Uint8Array) => kerberosCallPackage(bytes, alice, () => cache);
    for (let n = 0; n < 4; n++) assert.equal(statusName(call(new Uint8Array(n)).status), 'STATUS_INVALID_PARAMETER', `${n} bytes`);
    for (const type of [37, 0x7fffffff, 0xffffffff]) {
      const b = new Uint8Array(64);
      new DataView(b.buffer).setUint32(0, type, true);
      assert.equal(statusName(call(b).status), 'STATUS_INVALID_PARAMETER', `type ${type}`);
    }
    const implemented = new Set<number>([
      KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheMessage,
      KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage,
      KERB_PROTOCOL_MESSAGE_TYPE.KerbPurgeTicketCacheMessage,
    ]);
    for (const [name, type] of Object.entries(KERB_PROTOCOL_MESSAGE_TYPE)) {
      if (implemented.has(type)) continue;
      const b = new Uint8Array(256);
      new DataView(b.buffer).setUint32(0, type, true);
      const r = call(b);
      assert.equal(statusName(r.status), 'STATUS_NOT_IMPLEMENTED', name);
      assert.equal(r.ProtocolReturnBuffer, undefined, name);
    }
    assert.equal(cache.size, 3, 'nothing changed');
  });

  it('answers a truncated or lying request of a known type with ProtocolStatus STATUS_INVALID_PARAMETER, and changes nothing', async () => {
    const { cache } = await aliceCache();
    const call = (bytes: Uint8Array) => kerberosCallPackage(bytes, alice, () => cache);
    const q = query(KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheMessage);
    for (let n = 4; n < q.byteLength; n++) assert.equal(statusName(call(q.subarray(0, n)).ProtocolStatus), 'STATUS_INVALID_PARAMETER', `query cut to ${n}`);
    const p = purge('HTTP/web.example.test', REALM);
    for (const n of [4, 12, 47, 48, p.byteLength - 1])
      assert.equal(statusName(call(p.subarray(0, n)).ProtocolStatus), 'STATUS_INVALID_PARAMETER', `purge cut to ${n}`);
    const lying = Uint8Array.from(p);
    new DataView(lying.buffer).setBigUint64(24, 0xffff_ffff_ffffn, true);
    assert.equal(statusName(call(lying).ProtocolStatus), 'STATUS_INVALID_PARAMETER', 'a ServerName.Buffer far outside');
    assert.equal(cache.size, 3);
  });
});
