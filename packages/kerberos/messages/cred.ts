// KRB-CRED (RFC 4120 5.8), how a client forwards tickets with their keys (delegation:
// ISC_REQ_DELEGATE puts one in the GSS authenticator's checksum, RFC 4121 4.1.1.1):
//
//   KRB-CRED ::= [APPLICATION 22] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (22),
//       tickets [2] SEQUENCE OF Ticket, enc-part [3] EncryptedData -- EncKrbCredPart }
//   EncKrbCredPart ::= [APPLICATION 29] SEQUENCE { ticket-info [0] SEQUENCE OF KrbCredInfo,
//       nonce [1] UInt32 OPTIONAL, timestamp [2] KerberosTime OPTIONAL, usec [3] Microseconds OPTIONAL,
//       s-address [4] HostAddress OPTIONAL, r-address [5] HostAddress OPTIONAL }
//   KrbCredInfo ::= SEQUENCE { key [0] EncryptionKey, prealm [1] Realm OPTIONAL,
//       pname [2] PrincipalName OPTIONAL, flags [3] TicketFlags OPTIONAL, authtime [4] KerberosTime OPTIONAL,
//       starttime [5] KerberosTime OPTIONAL, endtime [6] KerberosTime OPTIONAL,
//       renew-till [7] KerberosTime OPTIONAL, srealm [8] Realm OPTIONAL, sname [9] PrincipalName OPTIONAL,
//       caddr [10] HostAddresses OPTIONAL }

import { applicationTag, DER_TAG, derApplication, type Tlv } from '../../kit/index.js';
import {
  applicationSequence,
  readEncryptedData,
  readEncryptionKey,
  readHostAddress,
  readHostAddresses,
  readPrincipalName,
  readTicket,
  unpackWhole,
  writeEncryptedData,
  writeEncryptionKey,
  writeHostAddress,
  writeHostAddresses,
  writePrincipalName,
  writeTicket,
  type EncryptedData,
  type EncryptionKey,
  type HostAddress,
  type PrincipalName,
  type Ticket,
} from './common.js';
import { KRB_APPLICATION, KRB_LIMITS, KRB_MSG_TYPE, KRB5_PVNO } from './constants.js';
import { FieldReader, field, fields, int32, kerberosFlags, kerberosString, kerberosTime, microseconds, optionalField, sequenceOf, uint32 } from './fields.js';

export interface KrbCred {
  tickets: Ticket[];
  /** EncKrbCredPart, encrypted (key usage 14), or with etype 0 in the clear as GSS-API delegation often sends it. */
  encPart: EncryptedData;
}

export interface KrbCredInfo {
  key: EncryptionKey;
  prealm?: string;
  pname?: PrincipalName;
  flags?: number;
  authtime?: Date;
  starttime?: Date;
  endtime?: Date;
  renewTill?: Date;
  srealm?: string;
  sname?: PrincipalName;
  caddr?: HostAddress[];
}

export interface EncKrbCredPart {
  ticketInfo: KrbCredInfo[];
  nonce?: number;
  timestamp?: Date;
  usec?: number;
  sAddress?: HostAddress;
  rAddress?: HostAddress;
}

export function packKrbCred(cred: KrbCred): Uint8Array {
  if (cred.tickets.length > KRB_LIMITS.TICKETS) throw new RangeError(`a KRB-CRED of more than ${KRB_LIMITS.TICKETS} tickets`);
  return derApplication(
    KRB_MSG_TYPE.KRB_CRED,
    fields(
      field(0, int32(KRB5_PVNO)),
      field(1, int32(KRB_MSG_TYPE.KRB_CRED)),
      field(2, sequenceOf(cred.tickets, writeTicket)),
      field(3, writeEncryptedData(cred.encPart)),
    ),
  );
}

export function readKrbCred(bytes: Uint8Array, t: Tlv): KrbCred {
  const f = new FieldReader(bytes, applicationSequence(bytes, t, KRB_MSG_TYPE.KRB_CRED, 'KRB-CRED'), 0, 3, 'KRB-CRED');
  f.constant(0, 'pvno', KRB5_PVNO);
  f.constant(1, 'msg-type', KRB_MSG_TYPE.KRB_CRED);
  return {
    tickets: f.list(2, 'tickets', applicationTag(KRB_APPLICATION.TICKET), KRB_LIMITS.TICKETS, (e) => readTicket(bytes, e)),
    encPart: readEncryptedData(bytes, f.required(3, DER_TAG.SEQUENCE, 'enc-part')),
  };
}

export const unpackKrbCred = (bytes: Uint8Array): KrbCred => unpackWhole(bytes, applicationTag(KRB_MSG_TYPE.KRB_CRED), 'KRB-CRED', readKrbCred);

const writeKrbCredInfo = (i: KrbCredInfo): Uint8Array =>
  fields(
    field(0, writeEncryptionKey(i.key)),
    optionalField(1, i.prealm, kerberosString),
    optionalField(2, i.pname, writePrincipalName),
    optionalField(3, i.flags, kerberosFlags),
    optionalField(4, i.authtime, kerberosTime),
    optionalField(5, i.starttime, kerberosTime),
    optionalField(6, i.endtime, kerberosTime),
    optionalField(7, i.renewTill, kerberosTime),
    optionalField(8, i.srealm, kerberosString),
    optionalField(9, i.sname, writePrincipalName),
    optionalField(10, i.caddr, writeHostAddresses),
  );

export function packEncKrbCredPart(p: EncKrbCredPart): Uint8Array {
  if (p.ticketInfo.length > KRB_LIMITS.TICKETS) throw new RangeError(`an EncKrbCredPart of more than ${KRB_LIMITS.TICKETS} tickets`);
  return derApplication(
    KRB_APPLICATION.ENC_KRB_CRED_PART,
    fields(
      field(0, sequenceOf(p.ticketInfo, writeKrbCredInfo)),
      optionalField(1, p.nonce, uint32),
      optionalField(2, p.timestamp, kerberosTime),
      optionalField(3, p.usec, microseconds),
      optionalField(4, p.sAddress, writeHostAddress),
      optionalField(5, p.rAddress, writeHostAddress),
    ),
  );
}

function readKrbCredInfo(bytes: Uint8Array, t: Tlv): KrbCredInfo {
  const f = new FieldReader(bytes, t, 0, 10, 'KrbCredInfo');
  const info: KrbCredInfo = { key: readEncryptionKey(bytes, f.required(0, DER_TAG.SEQUENCE, 'key')) };
  const prealm = f.optionalString(1, 'prealm');
  if (prealm !== undefined) info.prealm = prealm;
  const pname = f.optional(2, DER_TAG.SEQUENCE, 'pname');
  if (pname !== undefined) info.pname = readPrincipalName(bytes, pname);
  const flags = f.optionalFlags(3, 'flags');
  if (flags !== undefined) info.flags = flags;
  const authtime = f.optionalTime(4, 'authtime');
  if (authtime !== undefined) info.authtime = authtime;
  const starttime = f.optionalTime(5, 'starttime');
  if (starttime !== undefined) info.starttime = starttime;
  const endtime = f.optionalTime(6, 'endtime');
  if (endtime !== undefined) info.endtime = endtime;
  const renewTill = f.optionalTime(7, 'renew-till');
  if (renewTill !== undefined) info.renewTill = renewTill;
  const srealm = f.optionalString(8, 'srealm');
  if (srealm !== undefined) info.srealm = srealm;
  const sname = f.optional(9, DER_TAG.SEQUENCE, 'sname');
  if (sname !== undefined) info.sname = readPrincipalName(bytes, sname);
  const caddr = readHostAddresses(bytes, f, 10, 'caddr');
  if (caddr !== undefined) info.caddr = caddr;
  return info;
}

export function readEncKrbCredPart(bytes: Uint8Array, t: Tlv): EncKrbCredPart {
  const f = new FieldReader(bytes, applicationSequence(bytes, t, KRB_APPLICATION.ENC_KRB_CRED_PART, 'EncKrbCredPart'), 0, 5, 'EncKrbCredPart');
  const p: EncKrbCredPart = { ticketInfo: f.list(0, 'ticket-info', DER_TAG.SEQUENCE, KRB_LIMITS.TICKETS, (e) => readKrbCredInfo(bytes, e)) };
  const nonce = f.optionalUInt32(1, 'nonce');
  if (nonce !== undefined) p.nonce = nonce;
  const timestamp = f.optionalTime(2, 'timestamp');
  if (timestamp !== undefined) p.timestamp = timestamp;
  const usec = f.optionalMicroseconds(3, 'usec');
  if (usec !== undefined) p.usec = usec;
  const s = f.optional(4, DER_TAG.SEQUENCE, 's-address');
  if (s !== undefined) p.sAddress = readHostAddress(bytes, s);
  const r = f.optional(5, DER_TAG.SEQUENCE, 'r-address');
  if (r !== undefined) p.rAddress = readHostAddress(bytes, r);
  return p;
}

export const unpackEncKrbCredPart = (bytes: Uint8Array): EncKrbCredPart =>
  unpackWhole(bytes, applicationTag(KRB_APPLICATION.ENC_KRB_CRED_PART), 'EncKrbCredPart', readEncKrbCredPart);
