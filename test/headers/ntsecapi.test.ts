// ntsecapi.h's Kerberos messages as bytes (headers/ntsecapi.ts): the x64 layouts with
// UNICODE_STRING.Buffer as an offset into the buffer; what is packed reads back; a buffer whose
// lengths or offsets lie reads as nothing, never as a string from outside it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  KERB_PROTOCOL_MESSAGE_TYPE,
  KERB_PURGE_TKT_CACHE_REQUEST_SIZE,
  KERB_QUERY_TKT_CACHE_REQUEST_SIZE,
  KERB_TICKET_CACHE_INFO_EX_SIZE,
  KERB_TICKET_CACHE_INFO_SIZE,
  kerbEtypeName,
  kerbMessageType,
  kerbMessageTypeName,
  packKerbPurgeTktCacheRequest,
  packKerbQueryTktCacheExResponse,
  packKerbQueryTktCacheRequest,
  packKerbQueryTktCacheResponse,
  unpackKerbPurgeTktCacheRequest,
  unpackKerbQueryTktCacheExResponse,
  unpackKerbQueryTktCacheRequest,
  unpackKerbQueryTktCacheResponse,
} from '../../headers/ntsecapi.js';

const times = { StartTime: 133_000_000_000_000_000n, EndTime: 133_000_360_000_000_000n, RenewTime: 0n, EncryptionType: 18, TicketFlags: 0x40e10000 };

describe('KERB_PROTOCOL_MESSAGE_TYPE', () => {
  it("numbers the header's members in order, 0 to 36, as the docs list them", () => {
    const values = Object.values(KERB_PROTOCOL_MESSAGE_TYPE);
    assert.deepEqual(values, [...values.keys()]);
    assert.equal(KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheMessage, 1);
    assert.equal(KERB_PROTOCOL_MESSAGE_TYPE.KerbPurgeTicketCacheMessage, 6);
    assert.equal(KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage, 14);
    assert.equal(KERB_PROTOCOL_MESSAGE_TYPE.KerbRetrieveKeyTabMessage, 34);
    assert.equal(kerbMessageTypeName(20), 'KerbQueryTicketCacheEx2Message');
    assert.equal(kerbMessageTypeName(37), undefined);
    assert.equal(kerbMessageType(new Uint8Array(3)), undefined, 'three bytes hold no message type');
    assert.equal(kerbMessageType(Uint8Array.from([6, 0, 0, 0])), 6);
  });

  it('names the encryption types as klist does, and any other by its number', () => {
    assert.equal(kerbEtypeName(18), 'AES-256-CTS-HMAC-SHA1-96');
    assert.equal(kerbEtypeName(17), 'AES-128-CTS-HMAC-SHA1-96');
    assert.equal(kerbEtypeName(23), 'etype 23');
  });
});

describe('KERB_QUERY_TKT_CACHE_REQUEST', () => {
  it('is MessageType then the LogonId (LowPart, HighPart), 12 bytes, and reads back', () => {
    const bytes = packKerbQueryTktCacheRequest({ MessageType: 14, LogonId: 0x1_0000_23e7n });
    assert.equal(bytes.byteLength, KERB_QUERY_TKT_CACHE_REQUEST_SIZE);
    assert.deepEqual([...bytes], [14, 0, 0, 0, 0xe7, 0x23, 0, 0, 1, 0, 0, 0]);
    assert.deepEqual(unpackKerbQueryTktCacheRequest(bytes), { MessageType: 14, LogonId: 0x1_0000_23e7n });
  });

  it('reads nothing from a buffer shorter than the structure', () => {
    for (let n = 0; n < KERB_QUERY_TKT_CACHE_REQUEST_SIZE; n++) assert.equal(unpackKerbQueryTktCacheRequest(new Uint8Array(n)), undefined, `${n} bytes`);
  });
});

describe('KERB_PURGE_TKT_CACHE_REQUEST', () => {
  const request = { MessageType: 6, LogonId: 0n, ServerName: 'HTTP/web.example.test', RealmName: 'EXAMPLE.TEST' };

  it('puts the strings after the 48-byte structure, each UNICODE_STRING naming its offset, and reads back', () => {
    const bytes = packKerbPurgeTktCacheRequest(request);
    const view = new DataView(bytes.buffer);
    assert.equal(view.getUint16(16, true), request.ServerName.length * 2, 'ServerName.Length in bytes');
    assert.equal(view.getBigUint64(24, true), BigInt(KERB_PURGE_TKT_CACHE_REQUEST_SIZE), 'ServerName.Buffer: right after the structure');
    assert.equal(bytes.byteLength, KERB_PURGE_TKT_CACHE_REQUEST_SIZE + 2 * (request.ServerName.length + request.RealmName.length));
    assert.deepEqual(unpackKerbPurgeTktCacheRequest(bytes), request);
    const empty = packKerbPurgeTktCacheRequest({ ...request, ServerName: '', RealmName: '' });
    assert.equal(empty.byteLength, KERB_PURGE_TKT_CACHE_REQUEST_SIZE);
    assert.equal(new DataView(empty.buffer).getBigUint64(24, true), 0n, 'an empty string has no Buffer');
    assert.deepEqual(unpackKerbPurgeTktCacheRequest(empty), { ...request, ServerName: '', RealmName: '' });
  });

  it('reads nothing when a length or an offset lies: odd, over MaximumLength, past the end, a null Buffer with a length, short', () => {
    const good = packKerbPurgeTktCacheRequest(request);
    const lie = (edit: (view: DataView) => void): Uint8Array => {
      const copy = Uint8Array.from(good);
      edit(new DataView(copy.buffer));
      return copy;
    };
    const cases: Array<[string, Uint8Array]> = [
      ['an odd Length', lie((v) => v.setUint16(16, 3, true))],
      ['Length over MaximumLength', lie((v) => v.setUint16(16, v.getUint16(18, true) + 2, true))],
      ['a Buffer past the end', lie((v) => v.setBigUint64(24, BigInt(good.byteLength), true))],
      ['a Buffer whose string runs past the end', lie((v) => v.setBigUint64(40, BigInt(good.byteLength - 2), true))],
      ['a Buffer of 2^63', lie((v) => v.setBigUint64(24, 1n << 63n, true))],
      ['a null Buffer with a Length', lie((v) => v.setBigUint64(24, 0n, true))],
      ['the strings cut off', good.subarray(0, good.byteLength - 1)],
      ['the structure cut off', good.subarray(0, KERB_PURGE_TKT_CACHE_REQUEST_SIZE - 1)],
    ];
    for (const [what, bytes] of cases) assert.equal(unpackKerbPurgeTktCacheRequest(bytes), undefined, what);
  });
});

describe('KERB_QUERY_TKT_CACHE_RESPONSE and KERB_QUERY_TKT_CACHE_EX_RESPONSE', () => {
  const tickets = [
    { ClientName: 'alice', ClientRealm: 'EXAMPLE.TEST', ServerName: 'krbtgt/EXAMPLE.TEST', ServerRealm: 'EXAMPLE.TEST', ...times },
    { ClientName: 'alice', ClientRealm: 'EXAMPLE.TEST', ServerName: 'HTTP/web.example.test', ServerRealm: 'EXAMPLE.TEST', ...times, RenewTime: 1n },
  ];

  it('lays out the header, the entries, then the strings, and reads back', () => {
    const ex = packKerbQueryTktCacheExResponse({ MessageType: 14, Tickets: tickets });
    assert.equal(new DataView(ex.buffer).getUint32(4, true), 2, 'CountOfTickets');
    assert.ok(ex.byteLength > 8 + 2 * KERB_TICKET_CACHE_INFO_EX_SIZE);
    assert.deepEqual(unpackKerbQueryTktCacheExResponse(ex), { MessageType: 14, Tickets: tickets });
    const plain = tickets.map(({ ServerName, ServerRealm, ...rest }) => ({
      ServerName,
      RealmName: ServerRealm,
      StartTime: rest.StartTime,
      EndTime: rest.EndTime,
      RenewTime: rest.RenewTime,
      EncryptionType: rest.EncryptionType,
      TicketFlags: rest.TicketFlags,
    }));
    const bytes = packKerbQueryTktCacheResponse({ MessageType: 1, Tickets: plain });
    assert.ok(bytes.byteLength > 8 + 2 * KERB_TICKET_CACHE_INFO_SIZE);
    assert.deepEqual(unpackKerbQueryTktCacheResponse(bytes), { MessageType: 1, Tickets: plain });
    assert.deepEqual(unpackKerbQueryTktCacheResponse(packKerbQueryTktCacheResponse({ MessageType: 1, Tickets: [] })), { MessageType: 1, Tickets: [] });
  });

  it('reads nothing when CountOfTickets claims more entries than the buffer holds', () => {
    const ex = packKerbQueryTktCacheExResponse({ MessageType: 14, Tickets: tickets });
    new DataView(ex.buffer).setUint32(4, 0xffffffff, true);
    assert.equal(unpackKerbQueryTktCacheExResponse(ex), undefined);
    assert.equal(unpackKerbQueryTktCacheResponse(new Uint8Array(7)), undefined);
  });
});
