// The building blocks of RFC 4120's messages (section 5.2 and 5.3): PrincipalName, HostAddress,
// EncryptionKey, Checksum, EncryptedData, AuthorizationData, TransitedEncoding, PA-DATA,
// LastReq, Ticket and EncTicketPart. Each has a writer (`write*`, the whole value) and a reader
// (`read*`, given the value's TLV in a buffer); pack*/unpack* take and give whole buffers.
//
//   PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString }
//   HostAddress ::= SEQUENCE { addr-type [0] Int32, address [1] OCTET STRING }
//   EncryptionKey ::= SEQUENCE { keytype [0] Int32, keyvalue [1] OCTET STRING }
//   Checksum ::= SEQUENCE { cksumtype [0] Int32, checksum [1] OCTET STRING }
//   EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET STRING }
//   AuthorizationData ::= SEQUENCE OF SEQUENCE { ad-type [0] Int32, ad-data [1] OCTET STRING }
//   TransitedEncoding ::= SEQUENCE { tr-type [0] Int32, contents [1] OCTET STRING }
//   PA-DATA ::= SEQUENCE { padata-type [1] Int32, padata-value [2] OCTET STRING }
//   LastReq ::= SEQUENCE OF SEQUENCE { lr-type [0] Int32, lr-value [1] KerberosTime }
//   Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0] INTEGER (5), realm [1] Realm,
//       sname [2] PrincipalName, enc-part [3] EncryptedData }
//   EncTicketPart ::= [APPLICATION 3] SEQUENCE { flags [0] TicketFlags, key [1] EncryptionKey,
//       crealm [2] Realm, cname [3] PrincipalName, transited [4] TransitedEncoding,
//       authtime [5] KerberosTime, starttime [6] KerberosTime OPTIONAL, endtime [7] KerberosTime,
//       renew-till [8] KerberosTime OPTIONAL, caddr [9] HostAddresses OPTIONAL,
//       authorization-data [10] AuthorizationData OPTIONAL }

import {
  applicationTag,
  DER_TAG,
  derApplication,
  DerError,
  expectWhole,
  readExplicit,
  readGeneralString,
  readSequenceOf,
  type Tlv,
} from '../../kit/index.js';
import { KRB_APPLICATION, KRB_LIMITS, KRB5_PVNO } from './constants.js';
import {
  FieldReader,
  field,
  fields,
  int32,
  kerberosFlags,
  kerberosString,
  kerberosTime,
  octets,
  optionalField,
  sequenceOf,
  uint32,
} from './fields.js';

export interface PrincipalName {
  nameType: number;
  nameString: string[];
}

export interface HostAddress {
  addrType: number;
  address: Uint8Array;
}

/** RFC 4120's EncryptionKey; the same shape as the cryptosystem's keys. */
export interface EncryptionKey {
  keytype: number;
  keyvalue: Uint8Array;
}

export interface Checksum {
  cksumtype: number;
  checksum: Uint8Array;
}

export interface EncryptedData {
  etype: number;
  /** The key's version number; absent when the key is a session key. */
  kvno?: number;
  cipher: Uint8Array;
}

export interface AuthorizationDataEntry {
  adType: number;
  adData: Uint8Array;
}

export interface TransitedEncoding {
  trType: number;
  contents: Uint8Array;
}

export interface PaData {
  padataType: number;
  padataValue: Uint8Array;
}

export interface LastReqEntry {
  lrType: number;
  lrValue: Date;
}

export interface Ticket {
  realm: string;
  sname: PrincipalName;
  /** EncTicketPart encrypted with the service's key (key usage 2). */
  encPart: EncryptedData;
}

export interface EncTicketPart {
  flags: number;
  key: EncryptionKey;
  crealm: string;
  cname: PrincipalName;
  transited: TransitedEncoding;
  authtime: Date;
  starttime?: Date;
  endtime: Date;
  renewTill?: Date;
  caddr?: HostAddress[];
  authorizationData?: AuthorizationDataEntry[];
}

// ---------------------------------------------------------------------------------------------
// Writers

export const writePrincipalName = (name: PrincipalName): Uint8Array => {
  if (name.nameString.length > KRB_LIMITS.NAME_COMPONENTS) throw new RangeError(`a PrincipalName of more than ${KRB_LIMITS.NAME_COMPONENTS} components`);
  return fields(field(0, int32(name.nameType)), field(1, sequenceOf(name.nameString, kerberosString)));
};
export const writeHostAddress = (a: HostAddress): Uint8Array => fields(field(0, int32(a.addrType)), field(1, octets(a.address)));
export const writeHostAddresses = (list: readonly HostAddress[]): Uint8Array => sequenceOf(list, writeHostAddress);
export const writeEncryptionKey = (k: EncryptionKey): Uint8Array => fields(field(0, int32(k.keytype)), field(1, octets(k.keyvalue)));
export const writeChecksum = (c: Checksum): Uint8Array => fields(field(0, int32(c.cksumtype)), field(1, octets(c.checksum)));
export const writeEncryptedData = (e: EncryptedData): Uint8Array =>
  fields(field(0, int32(e.etype)), optionalField(1, e.kvno, uint32), field(2, octets(e.cipher)));
export const writeAuthorizationData = (list: readonly AuthorizationDataEntry[]): Uint8Array =>
  sequenceOf(list, (ad) => fields(field(0, int32(ad.adType)), field(1, octets(ad.adData))));
export const writeTransitedEncoding = (t: TransitedEncoding): Uint8Array => fields(field(0, int32(t.trType)), field(1, octets(t.contents)));
export const writePaData = (pa: PaData): Uint8Array => fields(field(1, int32(pa.padataType)), field(2, octets(pa.padataValue)));
export const writeMethodData = (list: readonly PaData[]): Uint8Array => sequenceOf(list, writePaData);
export const writeLastReq = (list: readonly LastReqEntry[]): Uint8Array =>
  sequenceOf(list, (lr) => fields(field(0, int32(lr.lrType)), field(1, kerberosTime(lr.lrValue))));

export const writeTicket = (t: Ticket): Uint8Array =>
  derApplication(
    KRB_APPLICATION.TICKET,
    fields(field(0, int32(KRB5_PVNO)), field(1, kerberosString(t.realm)), field(2, writePrincipalName(t.sname)), field(3, writeEncryptedData(t.encPart))),
  );

export const writeEncTicketPart = (p: EncTicketPart): Uint8Array =>
  derApplication(
    KRB_APPLICATION.ENC_TICKET_PART,
    fields(
      field(0, kerberosFlags(p.flags)),
      field(1, writeEncryptionKey(p.key)),
      field(2, kerberosString(p.crealm)),
      field(3, writePrincipalName(p.cname)),
      field(4, writeTransitedEncoding(p.transited)),
      field(5, kerberosTime(p.authtime)),
      optionalField(6, p.starttime, kerberosTime),
      field(7, kerberosTime(p.endtime)),
      optionalField(8, p.renewTill, kerberosTime),
      optionalField(9, p.caddr, writeHostAddresses),
      optionalField(10, p.authorizationData, writeAuthorizationData),
    ),
  );

// ---------------------------------------------------------------------------------------------
// Readers: each given the TLV of the value itself (a SEQUENCE, or its APPLICATION tag)

export function readPrincipalName(bytes: Uint8Array, t: Tlv): PrincipalName {
  const f = new FieldReader(bytes, t, 0, 1, 'PrincipalName');
  return {
    nameType: f.int32(0, 'name-type'),
    nameString: f.list(1, 'name-string', DER_TAG.GENERAL_STRING, KRB_LIMITS.NAME_COMPONENTS, (s) => readGeneralString(bytes, s)),
  };
}


export function readHostAddress(bytes: Uint8Array, t: Tlv): HostAddress {
  const f = new FieldReader(bytes, t, 0, 1, 'HostAddress');
  return { addrType: f.int32(0, 'addr-type'), address: f.octets(1, 'address') };
}

export function readHostAddresses(bytes: Uint8Array, f: FieldReader, n: number, name: string): HostAddress[] | undefined {
  return f.optionalList(n, name, DER_TAG.SEQUENCE, KRB_LIMITS.HOST_ADDRESSES, (a) => readHostAddress(bytes, a));
}

export function readEncryptionKey(bytes: Uint8Array, t: Tlv): EncryptionKey {
  const f = new FieldReader(bytes, t, 0, 1, 'EncryptionKey');
  return { keytype: f.int32(0, 'keytype'), keyvalue: f.octets(1, 'keyvalue') };
}

export function readChecksum(bytes: Uint8Array, t: Tlv): Checksum {
  const f = new FieldReader(bytes, t, 0, 1, 'Checksum');
  return { cksumtype: f.int32(0, 'cksumtype'), checksum: f.octets(1, 'checksum') };
}

export function readEncryptedData(bytes: Uint8Array, t: Tlv): EncryptedData {
  const f = new FieldReader(bytes, t, 0, 2, 'EncryptedData');
  const out: EncryptedData = { etype: f.int32(0, 'etype'), cipher: new Uint8Array(0) };
  const kvno = f.optionalUInt32(1, 'kvno');
  if (kvno !== undefined) out.kvno = kvno;
  out.cipher = f.octets(2, 'cipher');
  return out;
}

export function readAuthorizationData(bytes: Uint8Array, f: FieldReader, n: number, name: string): AuthorizationDataEntry[] | undefined {
  return f.optionalList(n, name, DER_TAG.SEQUENCE, KRB_LIMITS.AUTHORIZATION_DATA, (e) => {
    const ad = new FieldReader(bytes, e, 0, 1, 'AuthorizationData');
    return { adType: ad.int32(0, 'ad-type'), adData: ad.octets(1, 'ad-data') };
  });
}

export function readTransitedEncoding(bytes: Uint8Array, t: Tlv): TransitedEncoding {
  const f = new FieldReader(bytes, t, 0, 1, 'TransitedEncoding');
  return { trType: f.int32(0, 'tr-type'), contents: f.octets(1, 'contents') };
}

export function readPaData(bytes: Uint8Array, t: Tlv): PaData {
  const f = new FieldReader(bytes, t, 1, 2, 'PA-DATA');
  return { padataType: f.int32(1, 'padata-type'), padataValue: f.octets(2, 'padata-value') };
}

export function readLastReq(bytes: Uint8Array, f: FieldReader, n: number, name: string): LastReqEntry[] {
  return f.list(n, name, DER_TAG.SEQUENCE, KRB_LIMITS.LAST_REQ, (e) => {
    const lr = new FieldReader(bytes, e, 0, 1, 'LastReq');
    return { lrType: lr.int32(0, 'lr-type'), lrValue: lr.time(1, 'lr-value') };
  });
}

/** The SEQUENCE inside an [APPLICATION n] value, which must fill it. */
export function applicationSequence(bytes: Uint8Array, t: Tlv, n: number, what: string): Tlv {
  if (t.tag !== applicationTag(n))
    throw new DerError('BAD_TAG', t.start, `${what}: expected [APPLICATION ${n}], found tag 0x${t.tag.toString(16).padStart(2, '0')}`);
  return readExplicit(bytes, t, DER_TAG.SEQUENCE, what);
}

export function readTicket(bytes: Uint8Array, t: Tlv): Ticket {
  const f = new FieldReader(bytes, applicationSequence(bytes, t, KRB_APPLICATION.TICKET, 'Ticket'), 0, 3, 'Ticket');
  f.constant(0, 'tkt-vno', KRB5_PVNO);
  return {
    realm: f.string(1, 'realm'),
    sname: readPrincipalName(bytes, f.required(2, DER_TAG.SEQUENCE, 'sname')),
    encPart: readEncryptedData(bytes, f.required(3, DER_TAG.SEQUENCE, 'enc-part')),
  };
}

export function readEncTicketPart(bytes: Uint8Array, t: Tlv): EncTicketPart {
  const f = new FieldReader(bytes, applicationSequence(bytes, t, KRB_APPLICATION.ENC_TICKET_PART, 'EncTicketPart'), 0, 10, 'EncTicketPart');
  const part: EncTicketPart = {
    flags: f.flags(0, 'flags'),
    key: readEncryptionKey(bytes, f.required(1, DER_TAG.SEQUENCE, 'key')),
    crealm: f.string(2, 'crealm'),
    cname: readPrincipalName(bytes, f.required(3, DER_TAG.SEQUENCE, 'cname')),
    transited: readTransitedEncoding(bytes, f.required(4, DER_TAG.SEQUENCE, 'transited')),
    authtime: f.time(5, 'authtime'),
    endtime: new Date(0),
  };
  const starttime = f.optionalTime(6, 'starttime');
  if (starttime !== undefined) part.starttime = starttime;
  part.endtime = f.time(7, 'endtime');
  const renewTill = f.optionalTime(8, 'renew-till');
  if (renewTill !== undefined) part.renewTill = renewTill;
  const caddr = readHostAddresses(bytes, f, 9, 'caddr');
  if (caddr !== undefined) part.caddr = caddr;
  const ad = readAuthorizationData(bytes, f, 10, 'authorization-data');
  if (ad !== undefined) part.authorizationData = ad;
  return part;
}

// ---------------------------------------------------------------------------------------------
// Whole buffers

/** `read` over the whole of `bytes`, which must be one value of tag `tag` with nothing after it. */
export function unpackWhole<T>(bytes: Uint8Array, tag: number, what: string, read: (bytes: Uint8Array, t: Tlv) => T): T {
  return read(bytes, expectWhole(bytes, tag, what));
}

export const packTicket = writeTicket;
export const unpackTicket = (bytes: Uint8Array): Ticket => unpackWhole(bytes, applicationTag(KRB_APPLICATION.TICKET), 'Ticket', readTicket);
export const packEncTicketPart = writeEncTicketPart;
export const unpackEncTicketPart = (bytes: Uint8Array): EncTicketPart =>
  unpackWhole(bytes, applicationTag(KRB_APPLICATION.ENC_TICKET_PART), 'EncTicketPart', readEncTicketPart);
export const packPrincipalName = writePrincipalName;
export const unpackPrincipalName = (bytes: Uint8Array): PrincipalName => unpackWhole(bytes, DER_TAG.SEQUENCE, 'PrincipalName', readPrincipalName);
export const packEncryptedData = writeEncryptedData;
export const unpackEncryptedData = (bytes: Uint8Array): EncryptedData => unpackWhole(bytes, DER_TAG.SEQUENCE, 'EncryptedData', readEncryptedData);
export const packEncryptionKey = writeEncryptionKey;
export const unpackEncryptionKey = (bytes: Uint8Array): EncryptionKey => unpackWhole(bytes, DER_TAG.SEQUENCE, 'EncryptionKey', readEncryptionKey);
export const packChecksum = writeChecksum;
export const unpackChecksum = (bytes: Uint8Array): Checksum => unpackWhole(bytes, DER_TAG.SEQUENCE, 'Checksum', readChecksum);
export const packPaData = writePaData;
export const unpackPaData = (bytes: Uint8Array): PaData => unpackWhole(bytes, DER_TAG.SEQUENCE, 'PA-DATA', readPaData);
/** METHOD-DATA ::= SEQUENCE OF PA-DATA (KRB-ERROR's e-data for PREAUTH_REQUIRED, RFC 4120 5.9.1). */
export const packMethodData = writeMethodData;
export function unpackMethodData(bytes: Uint8Array): PaData[] {
  const t = expectWhole(bytes, DER_TAG.SEQUENCE, 'METHOD-DATA');
  return readSequenceOfPaData(bytes, t, 'METHOD-DATA');
}

/**
 * AuthorizationData alone (RFC 4120 5.2.6): what a TGS-REQ's enc-authorization-data encrypts
 * (5.4.1) and what AD-IF-RELEVANT wraps.
 */
export const packAuthorizationData = writeAuthorizationData;
export function unpackAuthorizationData(bytes: Uint8Array): AuthorizationDataEntry[] {
  const t = expectWhole(bytes, DER_TAG.SEQUENCE, 'AuthorizationData');
  return readSequenceOf(bytes, t, DER_TAG.SEQUENCE, KRB_LIMITS.AUTHORIZATION_DATA, 'AuthorizationData', (e) => {
    const ad = new FieldReader(bytes, e, 0, 1, 'AuthorizationData');
    return { adType: ad.int32(0, 'ad-type'), adData: ad.octets(1, 'ad-data') };
  });
}

export function readSequenceOfPaData(bytes: Uint8Array, t: Tlv, what: string): PaData[] {
  return readSequenceOf(bytes, t, DER_TAG.SEQUENCE, KRB_LIMITS.PA_DATA, what, (e) => readPaData(bytes, e));
}
