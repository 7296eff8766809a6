// Properties of the Kerberos messages codec, with fast-check from fixed seeds: every message and
// every encrypted part packs then unpacks to itself, and unpacking what it packed packs back to
// the same bytes; any bytes at all (random, or a valid message with bytes changed, cut short or
// added) only ever give a message or the kit's DerError with an offset inside them.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DerError } from '../../../../packages/kit/index.js';
import {
  GSS_KRB5_MECH_OID,
  GSS_KRB5_TOK_ID,
  GSS_MS_KRB5_MECH_OID,
  describeKerberosToken,
  packApRep,
  packApReq,
  packAuthenticator,
  packEncApRepPart,
  packEncKdcRepPart,
  packEncKrbCredPart,
  packEncTicketPart,
  packEtypeInfo2,
  packGssKrb5Token,
  packKerberosMessage,
  packKrbCred,
  packKrbError,
  packMethodData,
  packPaEncTsEnc,
  packPaPacRequest,
  packTypedData,
  unpackApRep,
  unpackApReq,
  unpackAuthenticator,
  unpackEncApRepPart,
  unpackEncKdcRepPart,
  unpackEncKrbCredPart,
  unpackEncTicketPart,
  unpackEtypeInfo2,
  unpackGssKrb5Token,
  unpackKerberosMessage,
  unpackKrbCred,
  unpackKrbError,
  unpackMethodData,
  unpackPaEncTsEnc,
  unpackPaPacRequest,
  unpackTypedData,
  type ApReq,
  type Authenticator,
  type EncApRepPart,
  type EncKdcRepPart,
  type EncKrbCredPart,
  type EncTicketPart,
  type EncryptedData,
  type KdcRep,
  type KdcReq,
  type KerberosMessage,
  type KrbCred,
  type KrbError,
  type PrincipalName,
  type Ticket,
} from '../../../../packages/kerberos/messages/index.js';

const SEED = 0x4b52_4235;
const RUNS = 150;

// ---------------------------------------------------------------------------------------------
// Arbitraries: every field in its full range, every OPTIONAL field present or not

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const micro = fc.integer({ min: 0, max: 999_999 });
const bytes = fc.uint8Array({ maxLength: 64 });
const text = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./-_@éü€'), maxLength: 24 });
const time = fc.integer({ min: 0, max: 253402300799 }).map((s) => new Date(s * 1000));
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

/** The value with plain objects (fast-check's records have no prototype; unpack's have Object's). */
function plain<T>(value: T): T {
  if (Array.isArray(value)) return value.map(plain) as T;
  if (value instanceof Uint8Array || value instanceof Date || value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])) as T;
}

/** Drops the keys whose value is undefined: unpack leaves absent OPTIONAL fields out. */
function clean<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const principal: fc.Arbitrary<PrincipalName> = fc.record({ nameType: int32, nameString: fc.array(text, { maxLength: 4 }) });
const encryptedData: fc.Arbitrary<EncryptedData> = fc.record({ etype: int32, kvno: opt(uint32), cipher: bytes }).map(clean);
const key = fc.record({ keytype: int32, keyvalue: bytes });
const checksum = fc.record({ cksumtype: int32, checksum: bytes });
const addresses = fc.array(fc.record({ addrType: int32, address: bytes }), { maxLength: 3 });
const authorizationData = fc.array(fc.record({ adType: int32, adData: bytes }), { maxLength: 3 });
const padata = fc.array(fc.record({ padataType: int32, padataValue: bytes }), { maxLength: 3 });
const ticket: fc.Arbitrary<Ticket> = fc.record({ realm: text, sname: principal, encPart: encryptedData });

const kdcReq: fc.Arbitrary<KdcReq> = fc
  .record({
    msgType: fc.constantFrom(10 as const, 12 as const),
    padata: opt(padata),
    reqBody: fc
      .record({
        kdcOptions: uint32,
        cname: opt(principal),
        realm: text,
        sname: opt(principal),
        from: opt(time),
        till: time,
        rtime: opt(time),
        nonce: uint32,
        etype: fc.array(int32, { maxLength: 8 }),
        addresses: opt(addresses),
        encAuthorizationData: opt(encryptedData),
        additionalTickets: opt(fc.array(ticket, { maxLength: 2 })),
      })
      .map(clean),
  })
  .map(clean);

const kdcRep: fc.Arbitrary<KdcRep> = fc
  .record({ msgType: fc.constantFrom(11 as const, 13 as const), padata: opt(padata), crealm: text, cname: principal, ticket, encPart: encryptedData })
  .map(clean);

const apReq: fc.Arbitrary<ApReq> = fc.record({ apOptions: uint32, ticket, authenticator: encryptedData });

const krbError: fc.Arbitrary<KrbError> = fc
  .record({
    ctime: opt(time),
    cusec: opt(micro),
    stime: time,
    susec: micro,
    errorCode: int32,
    crealm: opt(text),
    cname: opt(principal),
    realm: text,
    sname: principal,
    eText: opt(text),
    eData: opt(bytes),
  })
  .map(clean);

const krbCred: fc.Arbitrary<KrbCred> = fc.record({ tickets: fc.array(ticket, { maxLength: 3 }), encPart: encryptedData });

const message: fc.Arbitrary<KerberosMessage> = fc.oneof(
  kdcReq.map((m): KerberosMessage => ({ type: m.msgType === 10 ? 'AS-REQ' : 'TGS-REQ', message: m })),
  kdcRep.map((m): KerberosMessage => ({ type: m.msgType === 11 ? 'AS-REP' : 'TGS-REP', message: m })),
  apReq.map((m): KerberosMessage => ({ type: 'AP-REQ', message: m })),
  encryptedData.map((encPart): KerberosMessage => ({ type: 'AP-REP', message: { encPart } })),
  krbError.map((m): KerberosMessage => ({ type: 'KRB-ERROR', message: m })),
  krbCred.map((m): KerberosMessage => ({ type: 'KRB-CRED', message: m })),
);

const encTicketPart: fc.Arbitrary<EncTicketPart> = fc
  .record({
    flags: uint32,
    key,
    crealm: text,
    cname: principal,
    transited: fc.record({ trType: int32, contents: bytes }),
    authtime: time,
    starttime: opt(time),
    endtime: time,
    renewTill: opt(time),
    caddr: opt(addresses),
    authorizationData: opt(authorizationData),
  })
  .map(clean);

const encKdcRepPart: fc.Arbitrary<EncKdcRepPart> = fc
  .record({
    kind: fc.constantFrom('EncASRepPart' as const, 'EncTGSRepPart' as const),
    key,
    lastReq: fc.array(fc.record({ lrType: int32, lrValue: time }), { maxLength: 3 }),
    nonce: uint32,
    keyExpiration: opt(time),
    flags: uint32,
    authtime: time,
    starttime: opt(time),
    endtime: time,
    renewTill: opt(time),
    srealm: text,
    sname: principal,
    caddr: opt(addresses),
    encryptedPaData: opt(padata),
  })
  .map(clean);

const authenticator: fc.Arbitrary<Authenticator> = fc
  .record({
    crealm: text,
    cname: principal,
    cksum: opt(checksum),
    cusec: micro,
    ctime: time,
    subkey: opt(key),
    seqNumber: opt(uint32),
    authorizationData: opt(authorizationData),
  })
  .map(clean);

const encApRepPart: fc.Arbitrary<EncApRepPart> = fc.record({ ctime: time, cusec: micro, subkey: opt(key), seqNumber: opt(uint32) }).map(clean);

const encKrbCredPart: fc.Arbitrary<EncKrbCredPart> = fc
  .record({
    ticketInfo: fc.array(
      fc
        .record({
          key,
          prealm: opt(text),
          pname: opt(principal),
          flags: opt(uint32),
          authtime: opt(time),
          starttime: opt(time),
          endtime: opt(time),
          renewTill: opt(time),
          srealm: opt(text),
          sname: opt(principal),
          caddr: opt(addresses),
        })
        .map(clean),
      { maxLength: 2 },
    ),
    nonce: opt(uint32),
    timestamp: opt(time),
    usec: opt(micro),
    sAddress: opt(fc.record({ addrType: int32, address: bytes })),
    rAddress: opt(fc.record({ addrType: int32, address: bytes })),
  })
  .map(clean);

/** What unpack gives for a message pack was given: the same, plus a KDC-REQ's req-body bytes. */
function withoutReqBodyBytes(m: KerberosMessage): KerberosMessage {
  if (m.type !== 'AS-REQ' && m.type !== 'TGS-REQ') return m;
  const { reqBodyBytes: _unused, ...rest } = m.message;
  return { type: m.type, message: rest };
}

// ---------------------------------------------------------------------------------------------

/** pack then unpack gives the value back, and packing that gives the same bytes. */
function symmetric<T>(name: string, arbitrary: fc.Arbitrary<T>, pack: (v: T) => Uint8Array, unpack: (b: Uint8Array) => T, seed: number): void {
  test(`${name} packs then unpacks to itself, and back to the same bytes`, () => {
    fc.assert(
      fc.property(arbitrary, (value) => {
        const packed = pack(value);
        const unpacked = unpack(packed);
        assert.deepEqual(unpacked, plain(value));
        assert.deepEqual(pack(unpacked), packed);
      }),
      { seed, numRuns: RUNS },
    );
  });
}

/** Unpack must return or throw DerError with an offset inside the buffer. */
function onlyDerErrors(unpack: (b: Uint8Array) => unknown, input: Uint8Array): void {
  try {
    unpack(input);
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
    assert.ok(error.offset >= 0 && error.offset <= input.length, `offset ${error.offset} outside ${input.length} bytes (${error.message})`);
  }
}

/** A valid encoding with some bytes changed, cut short, or with bytes added. */
function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([b, edits]) => {
      const out = b.slice();
      for (const [at, value] of edits) out[at % out.length] = value;
      return out;
    }),
    fc.tuple(valid, fc.nat()).map(([b, cut]) => b.subarray(0, cut % b.length)),
    fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([b, extra]) => Uint8Array.from([...b, ...extra])),
  );
}

describe('Kerberos messages: pack and unpack are symmetric', () => {
  test('every message packs then unpacks to itself (a KDC-REQ also keeping its req-body bytes), and back to the same bytes', () => {
    fc.assert(
      fc.property(message, (m) => {
        const packed = packKerberosMessage(m);
        const unpacked = unpackKerberosMessage(packed);
        assert.deepEqual(withoutReqBodyBytes(unpacked), plain(m));
        assert.deepEqual(packKerberosMessage(unpacked), packed);
        if (unpacked.type === 'AS-REQ' || unpacked.type === 'TGS-REQ') {
          const body = unpacked.message.reqBodyBytes!;
          assert.ok(Buffer.from(packed).includes(Buffer.from(body)), 'the req-body bytes are the message\'s own');
        }
        // The describer reads whatever the codec reads, plain or framed as a GSS-API token.
        describeKerberosToken(packed);
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  symmetric('EncTicketPart', encTicketPart, packEncTicketPart, unpackEncTicketPart, SEED + 1);
  symmetric('EncASRepPart and EncTGSRepPart', encKdcRepPart, packEncKdcRepPart, unpackEncKdcRepPart, SEED + 2);
  symmetric('Authenticator', authenticator, packAuthenticator, unpackAuthenticator, SEED + 3);
  symmetric('EncAPRepPart', encApRepPart, packEncApRepPart, unpackEncApRepPart, SEED + 4);
  symmetric('EncKrbCredPart', encKrbCredPart, packEncKrbCredPart, unpackEncKrbCredPart, SEED + 5);
  symmetric('KRB-CRED', krbCred, packKrbCred, unpackKrbCred, SEED + 6);
  symmetric('KRB-ERROR', krbError, packKrbError, unpackKrbError, SEED + 7);
  symmetric('AP-REQ', apReq, packApReq, unpackApReq, SEED + 8);
  symmetric('AP-REP', encryptedData.map((encPart) => ({ encPart })), packApRep, unpackApRep, SEED + 9);
  symmetric('PA-ENC-TS-ENC', fc.record({ patimestamp: time, pausec: opt(micro) }).map(clean), packPaEncTsEnc, unpackPaEncTsEnc, SEED + 10);
  symmetric(
    'ETYPE-INFO2',
    fc.array(fc.record({ etype: int32, salt: opt(text), s2kparams: opt(bytes) }).map(clean), { minLength: 1, maxLength: 4 }),
    packEtypeInfo2,
    unpackEtypeInfo2,
    SEED + 11,
  );
  symmetric('METHOD-DATA', padata, packMethodData, unpackMethodData, SEED + 12);
  symmetric('TYPED-DATA', fc.array(fc.record({ dataType: int32, dataValue: opt(bytes) }).map(clean), { minLength: 1, maxLength: 4 }), packTypedData, unpackTypedData, SEED + 13);
  symmetric('KERB-PA-PAC-REQUEST', fc.boolean(), packPaPacRequest, unpackPaPacRequest, SEED + 14);
  symmetric(
    'the GSS-API context tokens (RFC 4121 4.1)',
    fc.oneof(
      fc.tuple(apReq.map(packApReq), fc.constant(GSS_KRB5_TOK_ID.AP_REQ)),
      fc.tuple(encryptedData.map((encPart) => packApRep({ encPart })), fc.constant(GSS_KRB5_TOK_ID.AP_REP)),
      fc.tuple(krbError.map(packKrbError), fc.constant(GSS_KRB5_TOK_ID.KRB_ERROR)),
    ).chain(([m, tokId]) => fc.constantFrom(GSS_KRB5_MECH_OID, GSS_MS_KRB5_MECH_OID).map((mech) => ({ mech, tokId, message: m }))),
    packGssKrb5Token,
    unpackGssKrb5Token,
    SEED + 15,
  );
});

describe('Kerberos messages: hostile bytes', () => {
  const unpackers: Array<[string, (b: Uint8Array) => unknown, fc.Arbitrary<Uint8Array>]> = [
    ['any message', unpackKerberosMessage, message.map(packKerberosMessage)],
    ['the describer', describeKerberosToken, message.map(packKerberosMessage)],
    ['EncTicketPart', unpackEncTicketPart, encTicketPart.map(packEncTicketPart)],
    ['EncKDCRepPart', unpackEncKdcRepPart, encKdcRepPart.map(packEncKdcRepPart)],
    ['Authenticator', unpackAuthenticator, authenticator.map(packAuthenticator)],
    ['EncAPRepPart', unpackEncApRepPart, encApRepPart.map(packEncApRepPart)],
    ['EncKrbCredPart', unpackEncKrbCredPart, encKrbCredPart.map(packEncKrbCredPart)],
    ['GSS-API tokens', unpackGssKrb5Token, apReq.map((m) => packGssKrb5Token({ mech: GSS_KRB5_MECH_OID, tokId: GSS_KRB5_TOK_ID.AP_REQ, message: packApReq(m) }))],
    ['the describer of GSS-API tokens', describeKerberosToken, apReq.map((m) => packGssKrb5Token({ mech: GSS_KRB5_MECH_OID, tokId: GSS_KRB5_TOK_ID.AP_REQ, message: packApReq(m) }))],
  ];
  unpackers.forEach(([name, unpack, valid], i) => {
    test(`${name}: random, mutated, cut and extended bytes only ever give a value or a DerError with an offset inside them`, () => {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), mutated(valid)), (input) => onlyDerErrors(unpack, input)),
        { seed: SEED + 100 + i, numRuns: RUNS * 3 },
      );
    });
  });
});
