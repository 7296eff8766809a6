// The KDC exchanges' messages (RFC 4120 5.4), with the pre-authentication data the AS exchange
// carries (5.2.7: PA-ENC-TIMESTAMP's PA-ENC-TS-ENC, PA-ETYPE-INFO2; MS-KILE 2.2.3's
// PA-PAC-REQUEST):
//
//   AS-REQ ::= [APPLICATION 10] KDC-REQ          TGS-REQ ::= [APPLICATION 12] KDC-REQ
//   KDC-REQ ::= SEQUENCE { pvno [1] INTEGER (5), msg-type [2] INTEGER (10 -- AS -- | 12 -- TGS --),
//       padata [3] SEQUENCE OF PA-DATA OPTIONAL, req-body [4] KDC-REQ-BODY }
//   KDC-REQ-BODY ::= SEQUENCE { kdc-options [0] KDCOptions, cname [1] PrincipalName OPTIONAL,
//       realm [2] Realm, sname [3] PrincipalName OPTIONAL, from [4] KerberosTime OPTIONAL,
//       till [5] KerberosTime, rtime [6] KerberosTime OPTIONAL, nonce [7] UInt32,
//       etype [8] SEQUENCE OF Int32, addresses [9] HostAddresses OPTIONAL,
//       enc-authorization-data [10] EncryptedData OPTIONAL, additional-tickets [11] SEQUENCE OF Ticket OPTIONAL }
//   AS-REP ::= [APPLICATION 11] KDC-REP          TGS-REP ::= [APPLICATION 13] KDC-REP
//   KDC-REP ::= SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (11 | 13),
//       padata [2] SEQUENCE OF PA-DATA OPTIONAL, crealm [3] Realm, cname [4] PrincipalName,
//       ticket [5] Ticket, enc-part [6] EncryptedData }
//   EncASRepPart ::= [APPLICATION 25] EncKDCRepPart     EncTGSRepPart ::= [APPLICATION 26] EncKDCRepPart
//   EncKDCRepPart ::= SEQUENCE { key [0] EncryptionKey, last-req [1] LastReq, nonce [2] UInt32,
//       key-expiration [3] KerberosTime OPTIONAL, flags [4] TicketFlags, authtime [5] KerberosTime,
//       starttime [6] KerberosTime OPTIONAL, endtime [7] KerberosTime, renew-till [8] KerberosTime OPTIONAL,
//       srealm [9] Realm, sname [10] PrincipalName, caddr [11] HostAddresses OPTIONAL,
//       encrypted-pa-data [12] METHOD-DATA OPTIONAL -- RFC 6806 11 }
//   PA-ENC-TS-ENC ::= SEQUENCE { patimestamp [0] KerberosTime, pausec [1] Microseconds OPTIONAL }
//   ETYPE-INFO2 ::= SEQUENCE SIZE (1..MAX) OF ETYPE-INFO2-ENTRY
//   ETYPE-INFO2-ENTRY ::= SEQUENCE { etype [0] Int32, salt [1] KerberosString OPTIONAL, s2kparams [2] OCTET STRING OPTIONAL }
//   KERB-PA-PAC-REQUEST ::= SEQUENCE { include-pac [0] BOOLEAN }
//
// The KDC checks PA-TGS-REQ's authenticator checksum over the req-body's bytes as they came, so
// unpacking a KDC-REQ keeps them (reqBodyBytes). RFC 4120 5.4.2 lets a client accept an
// EncASRepPart sent with EncTGSRepPart's tag, as MIT and Windows KDCs send it: unpack takes either
// and says which (`kind`), pack writes the one asked for.

import {
  applicationTag,
  copyOf,
  DER_TAG,
  derApplication,
  derBoolean,
  DerError,
  expectWhole,
  readBoolean,
  readInt32,
  readSequenceOf,
  type Tlv,
} from '../../kit/index.js';
import {
  applicationSequence,
  readEncryptedData,
  readEncryptionKey,
  readHostAddresses,
  readLastReq,
  readPrincipalName,
  readSequenceOfPaData,
  readTicket,
  writeEncryptedData,
  writeEncryptionKey,
  writeHostAddresses,
  writeLastReq,
  writeMethodData,
  writePrincipalName,
  writeTicket,
  type EncryptedData,
  type EncryptionKey,
  type HostAddress,
  type LastReqEntry,
  type PaData,
  type PrincipalName,
  type Ticket,
} from './common.js';
import { KRB_APPLICATION, KRB_LIMITS, KRB_MSG_TYPE, KRB5_PVNO } from './constants.js';
import {
  FieldReader,
  field,
  fields,
  int32,
  kerberosFlags,
  kerberosString,
  kerberosTime,
  microseconds,
  octets,
  optionalField,
  sequenceOf,
  uint32,
} from './fields.js';

export interface KdcReqBody {
  /** KDCOptions (KDC_OPTIONS). */
  kdcOptions: number;
  cname?: PrincipalName;
  realm: string;
  sname?: PrincipalName;
  from?: Date;
  till: Date;
  rtime?: Date;
  nonce: number;
  /** The encryption types the client accepts, in its order of preference. */
  etype: number[];
  addresses?: HostAddress[];
  encAuthorizationData?: EncryptedData;
  additionalTickets?: Ticket[];
}

export interface KdcReq {
  msgType: typeof KRB_MSG_TYPE.AS_REQ | typeof KRB_MSG_TYPE.TGS_REQ;
  padata?: PaData[];
  reqBody: KdcReqBody;
  /** Set by unpack: the req-body's DER exactly as it arrived (what PA-TGS-REQ's checksum covers). Pack ignores it. */
  reqBodyBytes?: Uint8Array;
}

export interface KdcRep {
  msgType: typeof KRB_MSG_TYPE.AS_REP | typeof KRB_MSG_TYPE.TGS_REP;
  padata?: PaData[];
  crealm: string;
  cname: PrincipalName;
  ticket: Ticket;
  /** EncASRepPart or EncTGSRepPart, encrypted (key usage 3, or 8/9). */
  encPart: EncryptedData;
}

export interface EncKdcRepPart {
  /** Which tag it has: [APPLICATION 25] or [APPLICATION 26] (see the head of this file). */
  kind: 'EncASRepPart' | 'EncTGSRepPart';
  key: EncryptionKey;
  lastReq: LastReqEntry[];
  nonce: number;
  keyExpiration?: Date;
  /** TicketFlags (TICKET_FLAGS). */
  flags: number;
  authtime: Date;
  starttime?: Date;
  endtime: Date;
  renewTill?: Date;
  srealm: string;
  sname: PrincipalName;
  caddr?: HostAddress[];
  encryptedPaData?: PaData[];
}

export interface PaEncTsEnc {
  patimestamp: Date;
  pausec?: number;
}

export interface EtypeInfo2Entry {
  etype: number;
  salt?: string;
  s2kparams?: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// KDC-REQ

function writeKdcReqBody(b: KdcReqBody): Uint8Array {
  if (b.etype.length > KRB_LIMITS.ETYPES) throw new RangeError(`more than ${KRB_LIMITS.ETYPES} etypes`);
  return fields(
    field(0, kerberosFlags(b.kdcOptions)),
    optionalField(1, b.cname, writePrincipalName),
    field(2, kerberosString(b.realm)),
    optionalField(3, b.sname, writePrincipalName),
    optionalField(4, b.from, kerberosTime),
    field(5, kerberosTime(b.till)),
    optionalField(6, b.rtime, kerberosTime),
    field(7, uint32(b.nonce)),
    field(8, sequenceOf(b.etype, int32)),
    optionalField(9, b.addresses, writeHostAddresses),
    optionalField(10, b.encAuthorizationData, writeEncryptedData),
    optionalField(11, b.additionalTickets, (tickets) => sequenceOf(tickets, writeTicket)),
  );
}

/** KDC-REQ-BODY alone: what a PA-TGS-REQ authenticator's checksum is computed over (RFC 4120 5.4.1). */
export const packKdcReqBody = writeKdcReqBody;

/** An AS-REQ or TGS-REQ, by its msgType. */
export function packKdcReq(req: KdcReq): Uint8Array {
  if (req.msgType !== KRB_MSG_TYPE.AS_REQ && req.msgType !== KRB_MSG_TYPE.TGS_REQ) throw new RangeError(`msg-type ${String(req.msgType)} is not a KDC-REQ's`);
  return derApplication(
    req.msgType,
    fields(
      field(1, int32(KRB5_PVNO)),
      field(2, int32(req.msgType)),
      optionalField(3, req.padata, writeMethodData),
      field(4, writeKdcReqBody(req.reqBody)),
    ),
  );
}

function readKdcReqBody(bytes: Uint8Array, t: Tlv): KdcReqBody {
  const f = new FieldReader(bytes, t, 0, 11, 'KDC-REQ-BODY');
  const body: KdcReqBody = { kdcOptions: f.flags(0, 'kdc-options'), realm: '', till: new Date(0), nonce: 0, etype: [] };
  const cname = f.optional(1, DER_TAG.SEQUENCE, 'cname');
  if (cname !== undefined) body.cname = readPrincipalName(bytes, cname);
  body.realm = f.string(2, 'realm');
  const sname = f.optional(3, DER_TAG.SEQUENCE, 'sname');
  if (sname !== undefined) body.sname = readPrincipalName(bytes, sname);
  const from = f.optionalTime(4, 'from');
  if (from !== undefined) body.from = from;
  body.till = f.time(5, 'till');
  const rtime = f.optionalTime(6, 'rtime');
  if (rtime !== undefined) body.rtime = rtime;
  body.nonce = f.uint32(7, 'nonce');
  body.etype = f.list(8, 'etype', DER_TAG.INTEGER, KRB_LIMITS.ETYPES, (e) => readInt32(bytes, e));
  const addresses = readHostAddresses(bytes, f, 9, 'addresses');
  if (addresses !== undefined) body.addresses = addresses;
  const ead = f.optional(10, DER_TAG.SEQUENCE, 'enc-authorization-data');
  if (ead !== undefined) body.encAuthorizationData = readEncryptedData(bytes, ead);
  const tickets = f.optionalList(11, 'additional-tickets', applicationTag(KRB_APPLICATION.TICKET), KRB_LIMITS.TICKETS, (e) => readTicket(bytes, e));
  if (tickets !== undefined) body.additionalTickets = tickets;
  return body;
}

/** Reads an AS-REQ or TGS-REQ whose TLV is `t` (its APPLICATION tag says which; msg-type must agree). */
export function readKdcReq(bytes: Uint8Array, t: Tlv): KdcReq {
  const msgType = t.tag === applicationTag(KRB_MSG_TYPE.AS_REQ) ? KRB_MSG_TYPE.AS_REQ : KRB_MSG_TYPE.TGS_REQ;
  const what = msgType === KRB_MSG_TYPE.AS_REQ ? 'AS-REQ' : 'TGS-REQ';
  const f = new FieldReader(bytes, applicationSequence(bytes, t, msgType, what), 1, 4, what);
  f.constant(1, 'pvno', KRB5_PVNO);
  f.constant(2, 'msg-type', msgType);
  const req: KdcReq = { msgType, reqBody: undefined as unknown as KdcReqBody };
  const padata = f.optional(3, DER_TAG.SEQUENCE, 'padata');
  if (padata !== undefined) req.padata = readSequenceOfPaData(bytes, padata, `${what}.padata`);
  const body = f.required(4, DER_TAG.SEQUENCE, 'req-body');
  req.reqBody = readKdcReqBody(bytes, body);
  req.reqBodyBytes = copyOf(bytes, body.start, body.end);
  return req;
}

/** An AS-REQ or TGS-REQ, the whole of `bytes`. */
export function unpackKdcReq(bytes: Uint8Array): KdcReq {
  const t = expectWhole(bytes, bytes[0] === applicationTag(KRB_MSG_TYPE.TGS_REQ) ? applicationTag(KRB_MSG_TYPE.TGS_REQ) : applicationTag(KRB_MSG_TYPE.AS_REQ), 'KDC-REQ');
  return readKdcReq(bytes, t);
}

// ---------------------------------------------------------------------------------------------
// KDC-REP

export function packKdcRep(rep: KdcRep): Uint8Array {
  if (rep.msgType !== KRB_MSG_TYPE.AS_REP && rep.msgType !== KRB_MSG_TYPE.TGS_REP) throw new RangeError(`msg-type ${String(rep.msgType)} is not a KDC-REP's`);
  return derApplication(
    rep.msgType,
    fields(
      field(0, int32(KRB5_PVNO)),
      field(1, int32(rep.msgType)),
      optionalField(2, rep.padata, writeMethodData),
      field(3, kerberosString(rep.crealm)),
      field(4, writePrincipalName(rep.cname)),
      field(5, writeTicket(rep.ticket)),
      field(6, writeEncryptedData(rep.encPart)),
    ),
  );
}

export function readKdcRep(bytes: Uint8Array, t: Tlv): KdcRep {
  const msgType = t.tag === applicationTag(KRB_MSG_TYPE.AS_REP) ? KRB_MSG_TYPE.AS_REP : KRB_MSG_TYPE.TGS_REP;
  const what = msgType === KRB_MSG_TYPE.AS_REP ? 'AS-REP' : 'TGS-REP';
  const f = new FieldReader(bytes, applicationSequence(bytes, t, msgType, what), 0, 6, what);
  f.constant(0, 'pvno', KRB5_PVNO);
  f.constant(1, 'msg-type', msgType);
  const padata = f.optional(2, DER_TAG.SEQUENCE, 'padata');
  const rep: KdcRep = {
    msgType,
    ...(padata === undefined ? {} : { padata: readSequenceOfPaData(bytes, padata, `${what}.padata`) }),
    crealm: f.string(3, 'crealm'),
    cname: readPrincipalName(bytes, f.required(4, DER_TAG.SEQUENCE, 'cname')),
    ticket: readTicket(bytes, f.required(5, applicationTag(KRB_APPLICATION.TICKET), 'ticket')),
    encPart: readEncryptedData(bytes, f.required(6, DER_TAG.SEQUENCE, 'enc-part')),
  };
  return rep;
}

export function unpackKdcRep(bytes: Uint8Array): KdcRep {
  const t = expectWhole(bytes, bytes[0] === applicationTag(KRB_MSG_TYPE.TGS_REP) ? applicationTag(KRB_MSG_TYPE.TGS_REP) : applicationTag(KRB_MSG_TYPE.AS_REP), 'KDC-REP');
  return readKdcRep(bytes, t);
}

// ---------------------------------------------------------------------------------------------
// EncKDCRepPart

export function packEncKdcRepPart(p: EncKdcRepPart): Uint8Array {
  return derApplication(
    p.kind === 'EncASRepPart' ? KRB_APPLICATION.ENC_AS_REP_PART : KRB_APPLICATION.ENC_TGS_REP_PART,
    fields(
      field(0, writeEncryptionKey(p.key)),
      field(1, writeLastReq(p.lastReq)),
      field(2, uint32(p.nonce)),
      optionalField(3, p.keyExpiration, kerberosTime),
      field(4, kerberosFlags(p.flags)),
      field(5, kerberosTime(p.authtime)),
      optionalField(6, p.starttime, kerberosTime),
      field(7, kerberosTime(p.endtime)),
      optionalField(8, p.renewTill, kerberosTime),
      field(9, kerberosString(p.srealm)),
      field(10, writePrincipalName(p.sname)),
      optionalField(11, p.caddr, writeHostAddresses),
      optionalField(12, p.encryptedPaData, writeMethodData),
    ),
  );
}

export function unpackEncKdcRepPart(bytes: Uint8Array): EncKdcRepPart {
  if (bytes.length === 0) throw new DerError('TRUNCATED', 0, 'an empty EncKDCRepPart');
  const as = bytes[0] === applicationTag(KRB_APPLICATION.ENC_AS_REP_PART);
  const n = as ? KRB_APPLICATION.ENC_AS_REP_PART : KRB_APPLICATION.ENC_TGS_REP_PART;
  const what = as ? 'EncASRepPart' : 'EncTGSRepPart';
  const t = expectWhole(bytes, applicationTag(n), what);
  const f = new FieldReader(bytes, applicationSequence(bytes, t, n, what), 0, 12, what);
  const part: EncKdcRepPart = {
    kind: what,
    key: readEncryptionKey(bytes, f.required(0, DER_TAG.SEQUENCE, 'key')),
    lastReq: readLastReq(bytes, f, 1, 'last-req'),
    nonce: f.uint32(2, 'nonce'),
    flags: 0,
    authtime: new Date(0),
    endtime: new Date(0),
    srealm: '',
    sname: { nameType: 0, nameString: [] },
  };
  const keyExpiration = f.optionalTime(3, 'key-expiration');
  if (keyExpiration !== undefined) part.keyExpiration = keyExpiration;
  part.flags = f.flags(4, 'flags');
  part.authtime = f.time(5, 'authtime');
  const starttime = f.optionalTime(6, 'starttime');
  if (starttime !== undefined) part.starttime = starttime;
  part.endtime = f.time(7, 'endtime');
  const renewTill = f.optionalTime(8, 'renew-till');
  if (renewTill !== undefined) part.renewTill = renewTill;
  part.srealm = f.string(9, 'srealm');
  part.sname = readPrincipalName(bytes, f.required(10, DER_TAG.SEQUENCE, 'sname'));
  const caddr = readHostAddresses(bytes, f, 11, 'caddr');
  if (caddr !== undefined) part.caddr = caddr;
  const pa = f.optional(12, DER_TAG.SEQUENCE, 'encrypted-pa-data');
  if (pa !== undefined) part.encryptedPaData = readSequenceOfPaData(bytes, pa, `${what}.encrypted-pa-data`);
  return part;
}

// ---------------------------------------------------------------------------------------------
// Pre-authentication data

/** PA-ENC-TS-ENC: what PA-ENC-TIMESTAMP encrypts with the client's key (key usage 1). */
export function packPaEncTsEnc(ts: PaEncTsEnc): Uint8Array {
  return fields(field(0, kerberosTime(ts.patimestamp)), optionalField(1, ts.pausec, microseconds));
}

export function unpackPaEncTsEnc(bytes: Uint8Array): PaEncTsEnc {
  const f = new FieldReader(bytes, expectWhole(bytes, DER_TAG.SEQUENCE, 'PA-ENC-TS-ENC'), 0, 1, 'PA-ENC-TS-ENC');
  const ts: PaEncTsEnc = { patimestamp: f.time(0, 'patimestamp') };
  const pausec = f.optionalMicroseconds(1, 'pausec');
  if (pausec !== undefined) ts.pausec = pausec;
  return ts;
}

/** ETYPE-INFO2: the etypes, salts and s2kparams a KDC tells a client to make its key with. */
export function packEtypeInfo2(entries: readonly EtypeInfo2Entry[]): Uint8Array {
  if (entries.length === 0) throw new RangeError('an ETYPE-INFO2 has at least one entry');
  return sequenceOf(entries, (e) => fields(field(0, int32(e.etype)), optionalField(1, e.salt, kerberosString), optionalField(2, e.s2kparams, octets)));
}

export function unpackEtypeInfo2(bytes: Uint8Array): EtypeInfo2Entry[] {
  const t = expectWhole(bytes, DER_TAG.SEQUENCE, 'ETYPE-INFO2');
  if (t.contentStart === t.end) throw new DerError('BAD_VALUE', t.start, 'an ETYPE-INFO2 with no entries (SIZE (1..MAX))');
  return readSequenceOfEntries(bytes, t);
}

function readSequenceOfEntries(bytes: Uint8Array, t: Tlv): EtypeInfo2Entry[] {
  return readSequenceOf(bytes, t, DER_TAG.SEQUENCE, KRB_LIMITS.ETYPE_INFO2, 'ETYPE-INFO2', (e) => {
    const f = new FieldReader(bytes, e, 0, 2, 'ETYPE-INFO2-ENTRY');
    const entry: EtypeInfo2Entry = { etype: f.int32(0, 'etype') };
    const salt = f.optionalString(1, 'salt');
    if (salt !== undefined) entry.salt = salt;
    const s2kparams = f.optionalOctets(2, 's2kparams');
    if (s2kparams !== undefined) entry.s2kparams = s2kparams;
    return entry;
  });
}

/** KERB-PA-PAC-REQUEST (MS-KILE 2.2.3): whether the client wants a PAC in its ticket. */
export function packPaPacRequest(includePac: boolean): Uint8Array {
  return fields(field(0, derBoolean(includePac)));
}

export function unpackPaPacRequest(bytes: Uint8Array): boolean {
  const f = new FieldReader(bytes, expectWhole(bytes, DER_TAG.SEQUENCE, 'KERB-PA-PAC-REQUEST'), 0, 0, 'KERB-PA-PAC-REQUEST');
  return readBoolean(bytes, f.required(0, DER_TAG.BOOLEAN, 'include-pac'));
}
