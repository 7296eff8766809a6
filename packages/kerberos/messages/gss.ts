// The Kerberos GSS-API mechanism's context tokens (RFC 4121 4.1, after RFC 1964 1.1): each is
// GSS-API's InitialContextToken framing (RFC 2743 3.1) around a two-byte TOK_ID and a Kerberos
// message, the acceptor's tokens too:
//
//   [APPLICATION 0] IMPLICIT SEQUENCE { thisMech OBJECT IDENTIFIER, innerToken }
//   innerToken ::= TOK_ID (01 00 KRB_AP_REQ, 02 00 KRB_AP_REP, 03 00 KRB_ERROR) || the message's DER
//
// The inner token is not DER itself (TOK_ID is two raw bytes), so it is located by the framing
// and read apart. Both Kerberos OIDs are accepted: 1.2.840.113554.1.2.2 and Microsoft's
// 1.2.840.48018.1.2.2, which Windows offers first in SPNEGO.

import { applicationTag, copyOf, DER_TAG, derOid, DerError, expectTlv, expectWhole, readOid, readTlv, tlv } from '../../kit/index.js';
import { KRB_MSG_TYPE } from './constants.js';

export const GSS_KRB5_MECH_OID = '1.2.840.113554.1.2.2';
export const GSS_MS_KRB5_MECH_OID = '1.2.840.48018.1.2.2';

/** TOK_ID values of the context tokens (RFC 4121 4.1), as a big-endian 16-bit number. */
export const GSS_KRB5_TOK_ID = {
  AP_REQ: 0x0100,
  AP_REP: 0x0200,
  KRB_ERROR: 0x0300,
} as const;
export type GssKrb5TokId = (typeof GSS_KRB5_TOK_ID)[keyof typeof GSS_KRB5_TOK_ID];

/** The message each TOK_ID carries: its APPLICATION tag number. */
const MESSAGE_OF: ReadonlyMap<number, number> = new Map([
  [GSS_KRB5_TOK_ID.AP_REQ, KRB_MSG_TYPE.AP_REQ],
  [GSS_KRB5_TOK_ID.AP_REP, KRB_MSG_TYPE.AP_REP],
  [GSS_KRB5_TOK_ID.KRB_ERROR, KRB_MSG_TYPE.KRB_ERROR],
]);

export interface GssKrb5Token {
  /** thisMech: one of the two Kerberos OIDs. */
  mech: string;
  tokId: GssKrb5TokId;
  /** The Kerberos message (AP-REQ, AP-REP or KRB-ERROR), its DER exactly as it came. */
  message: Uint8Array;
}

/** A context token: the framing, the TOK_ID and the message's DER (which must be the TOK_ID's message). */
export function packGssKrb5Token(token: GssKrb5Token): Uint8Array {
  const expected = MESSAGE_OF.get(token.tokId);
  if (expected === undefined) throw new RangeError(`TOK_ID 0x${token.tokId.toString(16)} is not a context token's`);
  if (token.message[0] !== applicationTag(expected)) throw new RangeError(`TOK_ID 0x${token.tokId.toString(16).padStart(4, '0')} carries [APPLICATION ${expected}]`);
  return tlv(DER_TAG.APPLICATION_0, derOid(token.mech), Uint8Array.of(token.tokId >> 8, token.tokId & 0xff), token.message);
}

/** Whether the bytes are framed as a Kerberos mechanism token (the framing and a Kerberos OID; nothing past it is read). */
export function isGssKrb5Token(bytes: Uint8Array): boolean {
  try {
    const outer = readTlv(bytes, 0, bytes.length);
    if (outer.tag !== DER_TAG.APPLICATION_0) return false;
    const mech = readOid(bytes, expectTlv(bytes, outer.contentStart, outer.end, DER_TAG.OBJECT_IDENTIFIER, 'thisMech'));
    return mech === GSS_KRB5_MECH_OID || mech === GSS_MS_KRB5_MECH_OID;
  } catch (error) {
    if (error instanceof DerError) return false;
    throw error;
  }
}

/** Reads a context token: the framing, a Kerberos OID, a known TOK_ID, and one whole message of the TOK_ID's kind. */
export function unpackGssKrb5Token(bytes: Uint8Array): GssKrb5Token {
  const outer = expectWhole(bytes, DER_TAG.APPLICATION_0, 'the InitialContextToken framing');
  const mechTlv = expectTlv(bytes, outer.contentStart, outer.end, DER_TAG.OBJECT_IDENTIFIER, 'thisMech');
  const mech = readOid(bytes, mechTlv);
  if (mech !== GSS_KRB5_MECH_OID && mech !== GSS_MS_KRB5_MECH_OID)
    throw new DerError('BAD_OID', mechTlv.start, `thisMech is ${mech}, not Kerberos (${GSS_KRB5_MECH_OID} or ${GSS_MS_KRB5_MECH_OID})`);
  const at = mechTlv.end;
  if (at + 2 > outer.end) throw new DerError('TRUNCATED', at, 'the TOK_ID is cut off');
  const tokId = (bytes[at]! << 8) | bytes[at + 1]!;
  const expected = MESSAGE_OF.get(tokId);
  if (expected === undefined) throw new DerError('BAD_VALUE', at, `TOK_ID ${bytes[at]!.toString(16).padStart(2, '0')} ${bytes[at + 1]!.toString(16).padStart(2, '0')} is not a context token's (01 00, 02 00, 03 00)`);
  const message = expectTlv(bytes, at + 2, outer.end, applicationTag(expected), 'the token\'s message');
  if (message.end !== outer.end) throw new DerError('TRAILING_BYTES', message.end, `${outer.end - message.end} bytes follow the token's message`);
  return { mech, tokId: tokId as GssKrb5TokId, message: copyOf(bytes, message.start, message.end) };
}

/** Where the message lies in the token's bytes (for offsets in the outer buffer), after unpackGssKrb5Token checked it. */
export function gssKrb5MessageOffset(bytes: Uint8Array): number {
  const outer = readTlv(bytes, 0, bytes.length);
  return readTlv(bytes, outer.contentStart, outer.end).end + 2;
}
