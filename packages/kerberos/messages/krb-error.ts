// KRB-ERROR (RFC 4120 5.9.1) and what its e-data carries: METHOD-DATA (a SEQUENCE OF PA-DATA,
// sent with KDC_ERR_PREAUTH_REQUIRED and holding PA-ETYPE-INFO2) or TYPED-DATA (5.9.1, 7.5.9).
//
//   KRB-ERROR ::= [APPLICATION 30] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (30),
//       ctime [2] KerberosTime OPTIONAL, cusec [3] Microseconds OPTIONAL, stime [4] KerberosTime,
//       susec [5] Microseconds, error-code [6] Int32, crealm [7] Realm OPTIONAL,
//       cname [8] PrincipalName OPTIONAL, realm [9] Realm -- service realm --,
//       sname [10] PrincipalName -- service name --, e-text [11] KerberosString OPTIONAL,
//       e-data [12] OCTET STRING OPTIONAL }
//   TYPED-DATA ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE { data-type [0] Int32, data-value [1] OCTET STRING OPTIONAL }

import { applicationTag, DER_TAG, derApplication, DerError, expectWhole, readSequenceOf, type Tlv } from '../../kit/index.js';
import { applicationSequence, readPrincipalName, unpackWhole, writePrincipalName, type PrincipalName } from './common.js';
import { KRB_LIMITS, KRB_MSG_TYPE, KRB5_PVNO } from './constants.js';
import { FieldReader, field, fields, int32, kerberosString, kerberosTime, microseconds, octets, optionalField, sequenceOf } from './fields.js';

export interface KrbError {
  ctime?: Date;
  cusec?: number;
  stime: Date;
  susec: number;
  /** KRB_ERROR_CODE. */
  errorCode: number;
  crealm?: string;
  cname?: PrincipalName;
  realm: string;
  sname: PrincipalName;
  eText?: string;
  /** METHOD-DATA or TYPED-DATA by the error code, left as bytes (unpackMethodData, unpackTypedData). */
  eData?: Uint8Array;
}

export interface TypedData {
  dataType: number;
  dataValue?: Uint8Array;
}

export function packKrbError(e: KrbError): Uint8Array {
  return derApplication(
    KRB_MSG_TYPE.KRB_ERROR,
    fields(
      field(0, int32(KRB5_PVNO)),
      field(1, int32(KRB_MSG_TYPE.KRB_ERROR)),
      optionalField(2, e.ctime, kerberosTime),
      optionalField(3, e.cusec, microseconds),
      field(4, kerberosTime(e.stime)),
      field(5, microseconds(e.susec)),
      field(6, int32(e.errorCode)),
      optionalField(7, e.crealm, kerberosString),
      optionalField(8, e.cname, writePrincipalName),
      field(9, kerberosString(e.realm)),
      field(10, writePrincipalName(e.sname)),
      optionalField(11, e.eText, kerberosString),
      optionalField(12, e.eData, octets),
    ),
  );
}

export function readKrbError(bytes: Uint8Array, t: Tlv): KrbError {
  const f = new FieldReader(bytes, applicationSequence(bytes, t, KRB_MSG_TYPE.KRB_ERROR, 'KRB-ERROR'), 0, 12, 'KRB-ERROR');
  f.constant(0, 'pvno', KRB5_PVNO);
  f.constant(1, 'msg-type', KRB_MSG_TYPE.KRB_ERROR);
  const e: KrbError = { stime: new Date(0), susec: 0, errorCode: 0, realm: '', sname: { nameType: 0, nameString: [] } };
  const ctime = f.optionalTime(2, 'ctime');
  if (ctime !== undefined) e.ctime = ctime;
  const cusec = f.optionalMicroseconds(3, 'cusec');
  if (cusec !== undefined) e.cusec = cusec;
  e.stime = f.time(4, 'stime');
  e.susec = f.microseconds(5, 'susec');
  e.errorCode = f.int32(6, 'error-code');
  const crealm = f.optionalString(7, 'crealm');
  if (crealm !== undefined) e.crealm = crealm;
  const cname = f.optional(8, DER_TAG.SEQUENCE, 'cname');
  if (cname !== undefined) e.cname = readPrincipalName(bytes, cname);
  e.realm = f.string(9, 'realm');
  e.sname = readPrincipalName(bytes, f.required(10, DER_TAG.SEQUENCE, 'sname'));
  const eText = f.optionalString(11, 'e-text');
  if (eText !== undefined) e.eText = eText;
  const eData = f.optionalOctets(12, 'e-data');
  if (eData !== undefined) e.eData = eData;
  return e;
}

export const unpackKrbError = (bytes: Uint8Array): KrbError => unpackWhole(bytes, applicationTag(KRB_MSG_TYPE.KRB_ERROR), 'KRB-ERROR', readKrbError);

export function packTypedData(entries: readonly TypedData[]): Uint8Array {
  if (entries.length === 0) throw new RangeError('a TYPED-DATA has at least one entry');
  return sequenceOf(entries, (d) => fields(field(0, int32(d.dataType)), optionalField(1, d.dataValue, octets)));
}

export function unpackTypedData(bytes: Uint8Array): TypedData[] {
  const t = expectWhole(bytes, DER_TAG.SEQUENCE, 'TYPED-DATA');
  if (t.contentStart === t.end) throw new DerError('BAD_VALUE', t.start, 'a TYPED-DATA with no entries (SIZE (1..MAX))');
  return readSequenceOf(bytes, t, DER_TAG.SEQUENCE, KRB_LIMITS.TYPED_DATA, 'TYPED-DATA', (e) => {
    const f = new FieldReader(bytes, e, 0, 1, 'TYPED-DATA');
    const d: TypedData = { dataType: f.int32(0, 'data-type') };
    const value = f.optionalOctets(1, 'data-value');
    if (value !== undefined) d.dataValue = value;
    return d;
  });
}
