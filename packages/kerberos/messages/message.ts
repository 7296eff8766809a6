// Any Kerberos message, told apart by its APPLICATION tag (RFC 4120 5.10), read and written as a
// discriminated union: what a KDC reads off its socket, what `decode` shows, and what the tests
// re-encode to prove the codec symmetric.

import { applicationTag, DerError, expectEnd, readTlv, type Tlv } from '../../kit/index.js';
import { packApRep, packApReq, readApRep, readApReq, type ApRep, type ApReq } from './ap.js';
import { KRB_MSG_TYPE } from './constants.js';
import { packKrbCred, readKrbCred, type KrbCred } from './cred.js';
import { packKdcRep, packKdcReq, readKdcRep, readKdcReq, type KdcRep, type KdcReq } from './kdc.js';
import { packKrbError, readKrbError, type KrbError } from './krb-error.js';

export type KerberosMessage =
  | { type: 'AS-REQ' | 'TGS-REQ'; message: KdcReq }
  | { type: 'AS-REP' | 'TGS-REP'; message: KdcRep }
  | { type: 'AP-REQ'; message: ApReq }
  | { type: 'AP-REP'; message: ApRep }
  | { type: 'KRB-CRED'; message: KrbCred }
  | { type: 'KRB-ERROR'; message: KrbError };

export type KerberosMessageType = KerberosMessage['type'];

/** The message types read here, by APPLICATION tag byte. */
const BY_TAG: ReadonlyMap<number, KerberosMessageType> = new Map([
  [applicationTag(KRB_MSG_TYPE.AS_REQ), 'AS-REQ'],
  [applicationTag(KRB_MSG_TYPE.AS_REP), 'AS-REP'],
  [applicationTag(KRB_MSG_TYPE.TGS_REQ), 'TGS-REQ'],
  [applicationTag(KRB_MSG_TYPE.TGS_REP), 'TGS-REP'],
  [applicationTag(KRB_MSG_TYPE.AP_REQ), 'AP-REQ'],
  [applicationTag(KRB_MSG_TYPE.AP_REP), 'AP-REP'],
  [applicationTag(KRB_MSG_TYPE.KRB_CRED), 'KRB-CRED'],
  [applicationTag(KRB_MSG_TYPE.KRB_ERROR), 'KRB-ERROR'],
]);

/** The message type a first byte announces, if it is one read here (a cheap check before reading). */
export function kerberosMessageType(firstByte: number | undefined): KerberosMessageType | undefined {
  return firstByte === undefined ? undefined : BY_TAG.get(firstByte);
}

/** The message whose TLV is `t` in `bytes` (offsets in errors are `bytes`'s). */
export function readKerberosMessage(bytes: Uint8Array, t: Tlv): KerberosMessage {
  const type = BY_TAG.get(t.tag);
  switch (type) {
    case 'AS-REQ':
    case 'TGS-REQ':
      return { type, message: readKdcReq(bytes, t) };
    case 'AS-REP':
    case 'TGS-REP':
      return { type, message: readKdcRep(bytes, t) };
    case 'AP-REQ':
      return { type, message: readApReq(bytes, t) };
    case 'AP-REP':
      return { type, message: readApRep(bytes, t) };
    case 'KRB-CRED':
      return { type, message: readKrbCred(bytes, t) };
    case 'KRB-ERROR':
      return { type, message: readKrbError(bytes, t) };
    case undefined:
      throw new DerError('BAD_TAG', t.start, `tag 0x${t.tag.toString(16).padStart(2, '0')} is not a Kerberos message's (AS-REQ [APPLICATION 10] ... KRB-ERROR [APPLICATION 30])`);
  }
}

/** A whole buffer holding one Kerberos message. */
export function unpackKerberosMessage(bytes: Uint8Array): KerberosMessage {
  const t = readTlv(bytes, 0, bytes.length);
  expectEnd(t.end, bytes.length, 'the Kerberos message');
  return readKerberosMessage(bytes, t);
}

export function packKerberosMessage(m: KerberosMessage): Uint8Array {
  switch (m.type) {
    case 'AS-REQ':
    case 'TGS-REQ':
      return packKdcReq(m.message);
    case 'AS-REP':
    case 'TGS-REP':
      return packKdcRep(m.message);
    case 'AP-REQ':
      return packApReq(m.message);
    case 'AP-REP':
      return packApRep(m.message);
    case 'KRB-CRED':
      return packKrbCred(m.message);
    case 'KRB-ERROR':
      return packKrbError(m.message);
  }
}
