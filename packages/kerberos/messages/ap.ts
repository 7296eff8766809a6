// The client/server exchange (RFC 4120 5.5), what the GSS-API mechanism carries (RFC 4121):
//
//   AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (14),
//       ap-options [2] APOptions, ticket [3] Ticket, authenticator [4] EncryptedData -- Authenticator }
//   Authenticator ::= [APPLICATION 2] SEQUENCE { authenticator-vno [0] INTEGER (5), crealm [1] Realm,
//       cname [2] PrincipalName, cksum [3] Checksum OPTIONAL, cusec [4] Microseconds,
//       ctime [5] KerberosTime, subkey [6] EncryptionKey OPTIONAL, seq-number [7] UInt32 OPTIONAL,
//       authorization-data [8] AuthorizationData OPTIONAL }
//   AP-REP ::= [APPLICATION 15] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (15),
//       enc-part [2] EncryptedData -- EncAPRepPart }
//   EncAPRepPart ::= [APPLICATION 27] SEQUENCE { ctime [0] KerberosTime, cusec [1] Microseconds,
//       subkey [2] EncryptionKey OPTIONAL, seq-number [3] UInt32 OPTIONAL }

import { applicationTag, DER_TAG, derApplication, type Tlv } from '../../kit/index.js';
import {
  applicationSequence,
  readAuthorizationData,
  readChecksum,
  readEncryptedData,
  readEncryptionKey,
  readPrincipalName,
  readTicket,
  unpackWhole,
  writeAuthorizationData,
  writeChecksum,
  writeEncryptedData,
  writeEncryptionKey,
  writePrincipalName,
  writeTicket,
  type AuthorizationDataEntry,
  type Checksum,
  type EncryptedData,
  type EncryptionKey,
  type PrincipalName,
  type Ticket,
} from './common.js';
import { KRB_APPLICATION, KRB_MSG_TYPE, KRB5_PVNO } from './constants.js';
import { FieldReader, field, fields, int32, kerberosFlags, kerberosString, kerberosTime, microseconds, optionalField, uint32 } from './fields.js';

export interface ApReq {
  /** APOptions (AP_OPTIONS). */
  apOptions: number;
  ticket: Ticket;
  /** The Authenticator, encrypted with the ticket's session key (key usage 11, or 7 in a TGS-REQ). */
  authenticator: EncryptedData;
}

export interface Authenticator {
  crealm: string;
  cname: PrincipalName;
  cksum?: Checksum;
  cusec: number;
  ctime: Date;
  subkey?: EncryptionKey;
  seqNumber?: number;
  authorizationData?: AuthorizationDataEntry[];
}

export interface ApRep {
  /** EncAPRepPart, encrypted with the session key (key usage 12). */
  encPart: EncryptedData;
}

export interface EncApRepPart {
  ctime: Date;
  cusec: number;
  subkey?: EncryptionKey;
  seqNumber?: number;
}

export function packApReq(req: ApReq): Uint8Array {
  return derApplication(
    KRB_MSG_TYPE.AP_REQ,
    fields(
      field(0, int32(KRB5_PVNO)),
      field(1, int32(KRB_MSG_TYPE.AP_REQ)),
      field(2, kerberosFlags(req.apOptions)),
      field(3, writeTicket(req.ticket)),
      field(4, writeEncryptedData(req.authenticator)),
    ),
  );
}

export function readApReq(bytes: Uint8Array, t: Tlv): ApReq {
  const f = new FieldReader(bytes, applicationSequence(bytes, t, KRB_MSG_TYPE.AP_REQ, 'AP-REQ'), 0, 4, 'AP-REQ');
  f.constant(0, 'pvno', KRB5_PVNO);
  f.constant(1, 'msg-type', KRB_MSG_TYPE.AP_REQ);
  return {
    apOptions: f.flags(2, 'ap-options'),
    ticket: readTicket(bytes, f.required(3, applicationTag(KRB_APPLICATION.TICKET), 'ticket')),
    authenticator: readEncryptedData(bytes, f.required(4, DER_TAG.SEQUENCE, 'authenticator')),
  };
}

export const unpackApReq = (bytes: Uint8Array): ApReq => unpackWhole(bytes, applicationTag(KRB_MSG_TYPE.AP_REQ), 'AP-REQ', readApReq);

export function packAuthenticator(a: Authenticator): Uint8Array {
  return derApplication(
    KRB_APPLICATION.AUTHENTICATOR,
    fields(
      field(0, int32(KRB5_PVNO)),
      field(1, kerberosString(a.crealm)),
      field(2, writePrincipalName(a.cname)),
      optionalField(3, a.cksum, writeChecksum),
      field(4, microseconds(a.cusec)),
      field(5, kerberosTime(a.ctime)),
      optionalField(6, a.subkey, writeEncryptionKey),
      optionalField(7, a.seqNumber, uint32),
      optionalField(8, a.authorizationData, writeAuthorizationData),
    ),
  );
}

export function readAuthenticator(bytes: Uint8Array, t: Tlv): Authenticator {
  const f = new FieldReader(bytes, applicationSequence(bytes, t, KRB_APPLICATION.AUTHENTICATOR, 'Authenticator'), 0, 8, 'Authenticator');
  f.constant(0, 'authenticator-vno', KRB5_PVNO);
  const a: Authenticator = { crealm: f.string(1, 'crealm'), cname: readPrincipalName(bytes, f.required(2, DER_TAG.SEQUENCE, 'cname')), cusec: 0, ctime: new Date(0) };
  const cksum = f.optional(3, DER_TAG.SEQUENCE, 'cksum');
  if (cksum !== undefined) a.cksum = readChecksum(bytes, cksum);
  a.cusec = f.microseconds(4, 'cusec');
  a.ctime = f.time(5, 'ctime');
  const subkey = f.optional(6, DER_TAG.SEQUENCE, 'subkey');
  if (subkey !== undefined) a.subkey = readEncryptionKey(bytes, subkey);
  const seqNumber = f.optionalUInt32(7, 'seq-number');
  if (seqNumber !== undefined) a.seqNumber = seqNumber;
  const ad = readAuthorizationData(bytes, f, 8, 'authorization-data');
  if (ad !== undefined) a.authorizationData = ad;
  return a;
}

export const unpackAuthenticator = (bytes: Uint8Array): Authenticator =>
  unpackWhole(bytes, applicationTag(KRB_APPLICATION.AUTHENTICATOR), 'Authenticator', readAuthenticator);

export function packApRep(rep: ApRep): Uint8Array {
  return derApplication(KRB_MSG_TYPE.AP_REP, fields(field(0, int32(KRB5_PVNO)), field(1, int32(KRB_MSG_TYPE.AP_REP)), field(2, writeEncryptedData(rep.encPart))));
}

export function readApRep(bytes: Uint8Array, t: Tlv): ApRep {
  const f = new FieldReader(bytes, applicationSequence(bytes, t, KRB_MSG_TYPE.AP_REP, 'AP-REP'), 0, 2, 'AP-REP');
  f.constant(0, 'pvno', KRB5_PVNO);
  f.constant(1, 'msg-type', KRB_MSG_TYPE.AP_REP);
  return { encPart: readEncryptedData(bytes, f.required(2, DER_TAG.SEQUENCE, 'enc-part')) };
}

export const unpackApRep = (bytes: Uint8Array): ApRep => unpackWhole(bytes, applicationTag(KRB_MSG_TYPE.AP_REP), 'AP-REP', readApRep);

export function packEncApRepPart(p: EncApRepPart): Uint8Array {
  return derApplication(
    KRB_APPLICATION.ENC_AP_REP_PART,
    fields(field(0, kerberosTime(p.ctime)), field(1, microseconds(p.cusec)), optionalField(2, p.subkey, writeEncryptionKey), optionalField(3, p.seqNumber, uint32)),
  );
}

export function readEncApRepPart(bytes: Uint8Array, t: Tlv): EncApRepPart {
  const f = new FieldReader(bytes, applicationSequence(bytes, t, KRB_APPLICATION.ENC_AP_REP_PART, 'EncAPRepPart'), 0, 3, 'EncAPRepPart');
  const p: EncApRepPart = { ctime: f.time(0, 'ctime'), cusec: f.microseconds(1, 'cusec') };
  const subkey = f.optional(2, DER_TAG.SEQUENCE, 'subkey');
  if (subkey !== undefined) p.subkey = readEncryptionKey(bytes, subkey);
  const seqNumber = f.optionalUInt32(3, 'seq-number');
  if (seqNumber !== undefined) p.seqNumber = seqNumber;
  return p;
}

export const unpackEncApRepPart = (bytes: Uint8Array): EncApRepPart =>
  unpackWhole(bytes, applicationTag(KRB_APPLICATION.ENC_AP_REP_PART), 'EncAPRepPart', readEncApRepPart);
