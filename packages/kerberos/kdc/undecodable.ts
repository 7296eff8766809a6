// What the KDC answers a message that does not decode: the code RFC 4120 has for what is wrong
// with it, when its head says (7.5.9): another protocol version (KDC_ERR_BAD_PVNO for the request,
// KRB_AP_ERR_BADVERSION for the AP-REQ in its PA-TGS-REQ and that AP-REQ's ticket, 3.2.3), a
// msg-type that is not the message's (KRB_AP_ERR_MSG_TYPE); KRB_ERR_GENERIC, naming the flaw in the
// e-text, for bytes that do not read as far as that.
//
// MIT's krb5kdc (1.20) differs, and is not followed where it gives no code: a KDC-REQ that does not
// decode gets no reply at all (the datagram is dropped, the TCP connection closed), whatever the
// flaw; an AS-REQ whose msg-type is not its tag's gets KRB_ERR_GENERIC; a PA-TGS-REQ's AP-REQ of
// another version gets KDC_ERR_BAD_PVNO, where RFC 4120 3.2.3 says KRB_AP_ERR_BADVERSION. Here every
// request gets an answer that says what was wrong (test/regressions/kerberos-kdc-error-codes.test.ts
// holds both KDCs to the list).

import { applicationTag, DER_TAG, readInt32, readTlv, type Tlv } from '../../kit/index.js';
import { KRB_APPLICATION, KRB_ERROR_CODE, KRB_MSG_TYPE, KRB5_PVNO } from '../messages/index.js';
import { KdcRefusal } from './errors.js';

/**
 * The fields at the head of the message at `at` ([APPLICATION n] SEQUENCE { [0] ..., [1] ... }), as
 * far as they read: each field's value by its context number. Undefined when not even the outer
 * tag and its SEQUENCE read. Nothing past the first field that does not read is looked at.
 */
function headFields(bytes: Uint8Array, at: number, limit: number): { tag: number; fields: Map<number, Tlv> } | undefined {
  let outer: Tlv;
  let sequence: Tlv;
  try {
    outer = readTlv(bytes, at, limit);
    sequence = readTlv(bytes, outer.contentStart, outer.end);
  } catch {
    return undefined;
  }
  const fields = new Map<number, Tlv>();
  if (sequence.tag !== DER_TAG.SEQUENCE) return { tag: outer.tag, fields };
  try {
    for (let next = sequence.contentStart; next < sequence.end;) {
      const field = readTlv(bytes, next, sequence.end);
      if ((field.tag & 0xe0) !== 0xa0) break; // not a context-specific constructed [n] (0xa0 | n)
      fields.set(field.tag & 0x1f, readTlv(bytes, field.contentStart, field.end));
      next = field.end;
    }
  } catch {
    // the fields read so far are what there is
  }
  return { tag: outer.tag, fields };
}

/** The INTEGER field n, when it is one. */
function integerField(bytes: Uint8Array, fields: Map<number, Tlv>, n: number): number | undefined {
  const value = fields.get(n);
  if (value?.tag !== DER_TAG.INTEGER) return undefined;
  try {
    return readInt32(bytes, value);
  } catch {
    return undefined;
  }
}

/** The refusal of an AS-REQ or TGS-REQ (by its tag) that unpackKdcReq could not read; `why` is the decoder's message. */
export function undecodableRequest(bytes: Uint8Array, kind: 'AS-REQ' | 'TGS-REQ', why: string): KdcRefusal {
  const head = headFields(bytes, 0, bytes.length);
  const msgType = kind === 'AS-REQ' ? KRB_MSG_TYPE.AS_REQ : KRB_MSG_TYPE.TGS_REQ;
  if (head !== undefined) {
    // KDC-REQ ::= SEQUENCE { pvno [1] INTEGER (5), msg-type [2] INTEGER (10 -- AS -- | 12 -- TGS --), ... }
    const pvno = integerField(bytes, head.fields, 1);
    if (pvno !== undefined && pvno !== KRB5_PVNO)
      return new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_BAD_PVNO, `the ${kind} is of protocol version ${pvno}: this KDC speaks Kerberos 5`);
    const said = integerField(bytes, head.fields, 2);
    if (said !== undefined && said !== msgType)
      return new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_MSG_TYPE, `the message is tagged ${kind} but its msg-type is ${said}, not ${msgType}`);
  }
  return new KdcRefusal(KRB_ERROR_CODE.KRB_ERR_GENERIC, `the ${kind} does not decode: ${why}`);
}

/** The refusal of a PA-TGS-REQ value that unpackApReq could not read (RFC 4120 3.2.3's first checks); `why` is the decoder's message. */
export function undecodableTgsApReq(bytes: Uint8Array, why: string): KdcRefusal {
  const head = headFields(bytes, 0, bytes.length);
  if (head !== undefined) {
    if (head.tag !== applicationTag(KRB_MSG_TYPE.AP_REQ))
      return new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_MSG_TYPE, `PA-TGS-REQ holds tag 0x${head.tag.toString(16)}, not an AP-REQ`);
    // AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (14), ap-options [2], ticket [3] Ticket, ... }
    const pvno = integerField(bytes, head.fields, 0);
    if (pvno !== undefined && pvno !== KRB5_PVNO)
      return new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_BADVERSION, `PA-TGS-REQ's AP-REQ is of protocol version ${pvno}, not 5`);
    const said = integerField(bytes, head.fields, 1);
    if (said !== undefined && said !== KRB_MSG_TYPE.AP_REQ)
      return new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_MSG_TYPE, `PA-TGS-REQ's AP-REQ says msg-type ${said}, not ${KRB_MSG_TYPE.AP_REQ}`);
    // Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0] INTEGER (5), ... }
    const ticket = head.fields.get(3);
    if (ticket?.tag === applicationTag(KRB_APPLICATION.TICKET)) {
      const inner = headFields(bytes, ticket.start, ticket.end);
      const tktVno = inner === undefined ? undefined : integerField(bytes, inner.fields, 0);
      if (tktVno !== undefined && tktVno !== KRB5_PVNO)
        return new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_BADVERSION, `the ticket in PA-TGS-REQ is of version ${tktVno}, not 5`);
    }
  }
  return new KdcRefusal(KRB_ERROR_CODE.KRB_ERR_GENERIC, `PA-TGS-REQ's AP-REQ does not decode: ${why}`);
}
