// SPNEGO's tokens as symmetric pure functions over Uint8Array (RFC 4178 section 4, with MS-SPNG
// 2.2.1's NegTokenInit2), on the kit's strict DER codec:
//
//   InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE {       (RFC 2743 3.1; the first token)
//       thisMech MechType (1.3.6.1.5.5.2), innerContextToken NegotiationToken }
//   NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit, negTokenResp [1] NegTokenResp }
//   MechTypeList ::= SEQUENCE OF MechType                              (MechType: OBJECT IDENTIFIER)
//   NegTokenInit ::= SEQUENCE { mechTypes [0] MechTypeList, reqFlags [1] ContextFlags OPTIONAL,
//       mechToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL, ... }
//   NegTokenInit2 ::= SEQUENCE { mechTypes [0] MechTypeList OPTIONAL, reqFlags [1] OPTIONAL,
//       mechToken [2] OPTIONAL, negHints [3] NegHints OPTIONAL, mechListMIC [4] OPTIONAL, ... }
//   NegHints ::= SEQUENCE { hintName [0] GeneralString OPTIONAL, hintAddress [1] OCTET STRING OPTIONAL }
//   NegTokenResp ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL, supportedMech [1] MechType OPTIONAL,
//       responseToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL, ... }
//
// NegTokenInit2 occupies NegTokenInit's tag; the two differ at [3], an OCTET STRING (mechListMIC)
// in one and a SEQUENCE (negHints) in the other, which is how unpack tells them apart. Fields must
// come in tag order, each once; context tags past the last known one (the "..." extension marker)
// are skipped. Unpack keeps the MechTypeList's bytes exactly as they arrived: the mechListMIC is
// computed over them (RFC 4178 5).

import {
  type BitString,
  bitStringContents,
  contextTag,
  DER_TAG,
  DerError,
  derOid,
  derScratch,
  enumeratedContents,
  expectEnd,
  expectTlv,
  generalStringContents,
  readBitString,
  readEnumerated,
  readExplicit,
  readFields,
  readGeneralString,
  readOctetString,
  readOid,
  readTlv,
  type Tlv,
  tlv,
} from '../kit/index.js';

/** The mechanisms SPNEGO names here, by OID (test-vectors.md 7, MS-SPNG 1.4). */
export const MECH_OID = {
  SPNEGO: '1.3.6.1.5.5.2',
  NTLMSSP: '1.3.6.1.4.1.311.2.2.10',
  KRB5: '1.2.840.113554.1.2.2',
  /** Kerberos under the OID Windows 2000 sent by mistake, which Windows still offers first. */
  MS_KRB5: '1.2.840.48018.1.2.2',
  KRB5_USER_TO_USER: '1.2.840.113554.1.2.2.3',
  NEGOEX: '1.3.6.1.4.1.311.2.2.30',
} as const;

/** Names for the OIDs above, for traces and `sspi-emu decode`. */
export const MECH_NAMES: ReadonlyMap<string, string> = new Map([
  [MECH_OID.SPNEGO, 'SPNEGO'],
  [MECH_OID.NTLMSSP, 'NTLMSSP'],
  [MECH_OID.KRB5, 'Kerberos 5'],
  [MECH_OID.MS_KRB5, 'MS Kerberos 5'],
  [MECH_OID.KRB5_USER_TO_USER, 'Kerberos 5 user-to-user'],
  [MECH_OID.NEGOEX, 'NegoEx'],
]);

/** negState (RFC 4178 4.2.2). */
export const NEG_STATE = { ACCEPT_COMPLETED: 0, ACCEPT_INCOMPLETE: 1, REJECT: 2, REQUEST_MIC: 3 } as const;
export type NegState = (typeof NEG_STATE)[keyof typeof NEG_STATE];
export const NEG_STATE_NAMES: Readonly<Record<NegState, string>> = {
  0: 'accept-completed',
  1: 'accept-incomplete',
  2: 'reject',
  3: 'request-mic',
};

/** The hint name Windows servers put in NegTokenInit2 (MS-SPNG 2.2.1, 3.2.5.2). */
export const WINDOWS_HINT_NAME = 'not_defined_in_RFC4178@please_ignore';

/**
 * The most MechTypes a NegTokenInit may list, and the longest one (its DER contents). Clients list
 * a handful (Windows: Kerberos twice, NEGOEX, NTLM); an acceptor keeps the list until the
 * mechListMIC, so a token of 12,000 made-up OIDs in its 64 KiB would have cost it 400 KiB a context.
 */
export const MAX_MECH_TYPES = 32;
export const MAX_MECH_TYPE_BYTES = 32;

export interface NegHints {
  hintName?: string;
  hintAddress?: Uint8Array;
}

/** NegTokenInit, or MS-SPNG's NegTokenInit2 when it carries negHints. */
export interface NegTokenInit {
  readonly kind: 'NegTokenInit';
  /** The mechanisms, most preferred first. Absent only in a NegTokenInit2 without them. */
  mechTypes?: string[];
  /** The DER MechTypeList as it arrived (unpack) or as pack writes it: what a mechListMIC covers. */
  mechTypeList?: Uint8Array;
  reqFlags?: BitString;
  mechToken?: Uint8Array;
  /** Present: this is a NegTokenInit2 (MS-SPNG 2.2.1). */
  negHints?: NegHints;
  mechListMIC?: Uint8Array;
}

export interface NegTokenResp {
  readonly kind: 'NegTokenResp';
  negState?: NegState;
  supportedMech?: string;
  responseToken?: Uint8Array;
  mechListMIC?: Uint8Array;
}

export type NegotiationToken = NegTokenInit | NegTokenResp;

/** How a token arrived: NegTokenInit inside the GSS InitialContextToken, or bare. */
export interface Unpacked<T> {
  token: T;
  framed: boolean;
}

// ---------------------------------------------------------------------------------------------
// Packing

/** MechTypeList: SEQUENCE OF MechType, in the order given. */
export function packMechTypeList(mechTypes: readonly string[]): Uint8Array {
  return tlv(DER_TAG.SEQUENCE, ...mechTypes.map(derOid));
}

/** A NegTokenInit (or NegTokenInit2, when it has negHints) inside the InitialContextToken with the SPNEGO OID. */
export function packNegTokenInit(token: Omit<NegTokenInit, 'kind' | 'mechTypeList'>): Uint8Array {
  return derScratch(() => packInitialContextToken(MECH_OID.SPNEGO, packBareNegTokenInit(token)));
}

/** [0] NegTokenInit alone, without the InitialContextToken around it. */
export function packBareNegTokenInit(token: Omit<NegTokenInit, 'kind' | 'mechTypeList'>): Uint8Array {
  return derScratch(() => bareNegTokenInit(token));
}

function bareNegTokenInit(token: Omit<NegTokenInit, 'kind' | 'mechTypeList'>): Uint8Array {
  const fields: Uint8Array[] = [];
  if (token.mechTypes !== undefined) fields.push(tlv(contextTag(0), packMechTypeList(token.mechTypes)));
  if (token.reqFlags !== undefined) fields.push(tlv(contextTag(1), tlv(DER_TAG.BIT_STRING, bitStringContents(token.reqFlags))));
  if (token.mechToken !== undefined) fields.push(tlv(contextTag(2), tlv(DER_TAG.OCTET_STRING, token.mechToken)));
  if (token.negHints !== undefined) {
    const hints: Uint8Array[] = [];
    if (token.negHints.hintName !== undefined) hints.push(tlv(contextTag(0), tlv(DER_TAG.GENERAL_STRING, generalStringContents(token.negHints.hintName, 'latin1'))));
    if (token.negHints.hintAddress !== undefined) hints.push(tlv(contextTag(1), tlv(DER_TAG.OCTET_STRING, token.negHints.hintAddress)));
    fields.push(tlv(contextTag(3), tlv(DER_TAG.SEQUENCE, ...hints)));
    if (token.mechListMIC !== undefined) fields.push(tlv(contextTag(4), tlv(DER_TAG.OCTET_STRING, token.mechListMIC)));
  } else if (token.mechListMIC !== undefined) {
    fields.push(tlv(contextTag(3), tlv(DER_TAG.OCTET_STRING, token.mechListMIC)));
  }
  return tlv(contextTag(0), tlv(DER_TAG.SEQUENCE, ...fields));
}

/** [1] NegTokenResp (never framed: only the first token of a context is). */
export function packNegTokenResp(token: Omit<NegTokenResp, 'kind'>): Uint8Array {
  return derScratch(() => negTokenResp(token));
}

function negTokenResp(token: Omit<NegTokenResp, 'kind'>): Uint8Array {
  const fields: Uint8Array[] = [];
  if (token.negState !== undefined) fields.push(tlv(contextTag(0), tlv(DER_TAG.ENUMERATED, enumeratedContents(token.negState))));
  if (token.supportedMech !== undefined) fields.push(tlv(contextTag(1), derOid(token.supportedMech)));
  if (token.responseToken !== undefined) fields.push(tlv(contextTag(2), tlv(DER_TAG.OCTET_STRING, token.responseToken)));
  if (token.mechListMIC !== undefined) fields.push(tlv(contextTag(3), tlv(DER_TAG.OCTET_STRING, token.mechListMIC)));
  return tlv(contextTag(1), tlv(DER_TAG.SEQUENCE, ...fields));
}

/** GSS-API's InitialContextToken (RFC 2743 3.1): [APPLICATION 0] { thisMech, innerContextToken }. */
export function packInitialContextToken(mech: string, inner: Uint8Array): Uint8Array {
  return tlv(DER_TAG.APPLICATION_0, derOid(mech), inner);
}

// ---------------------------------------------------------------------------------------------
// Unpacking

/** The mechanism OID of an InitialContextToken and where its inner token lies in `bytes`. */
export interface InitialContextToken {
  mech: string;
  innerStart: number;
  innerEnd: number;
}

/** Reads the InitialContextToken framing (the whole of `bytes`): its OID checked, its inner token located, not read. */
export function unpackInitialContextToken(bytes: Uint8Array): InitialContextToken {
  const outer = expectTlv(bytes, 0, bytes.length, DER_TAG.APPLICATION_0, 'InitialContextToken');
  expectEnd(outer.end, bytes.length, 'the InitialContextToken');
  const mechTlv = expectTlv(bytes, outer.contentStart, outer.end, DER_TAG.OBJECT_IDENTIFIER, 'thisMech');
  return { mech: readOid(bytes, mechTlv), innerStart: mechTlv.end, innerEnd: outer.end };
}

/**
 * Any SPNEGO token: a NegTokenInit(2) framed in the InitialContextToken with the SPNEGO OID or
 * bare, or a NegTokenResp. DerError for anything else, with the offset of the problem.
 */
export function unpackNegotiationToken(bytes: Uint8Array): Unpacked<NegotiationToken> {
  if (bytes.length === 0) throw new DerError('TRUNCATED', 0, 'an empty token');
  if (bytes[0] === DER_TAG.APPLICATION_0) {
    const frame = unpackInitialContextToken(bytes);
    if (frame.mech !== MECH_OID.SPNEGO) throw new DerError('BAD_OID', 2, `the InitialContextToken is for ${frame.mech}, not SPNEGO (${MECH_OID.SPNEGO})`);
    const inner = expectTlv(bytes, frame.innerStart, frame.innerEnd, contextTag(0), 'the SPNEGO InitialContextToken (NegTokenInit)');
    expectEnd(inner.end, frame.innerEnd, 'the NegTokenInit');
    return { token: readNegTokenInit(bytes, inner), framed: true };
  }
  const choice = readTlv(bytes, 0, bytes.length);
  expectEnd(choice.end, bytes.length, 'the NegotiationToken');
  if (choice.tag === contextTag(0)) return { token: readNegTokenInit(bytes, choice), framed: false };
  if (choice.tag === contextTag(1)) return { token: readNegTokenResp(bytes, choice), framed: false };
  throw new DerError('BAD_TAG', 0, `a NegotiationToken starts with [APPLICATION 0], [0] or [1], not tag 0x${bytes[0]!.toString(16).padStart(2, '0')}`);
}

function octets(bytes: Uint8Array, field: Tlv, what: string): Uint8Array {
  return readOctetString(bytes, readExplicit(bytes, field, DER_TAG.OCTET_STRING, what));
}

function readNegTokenInit(bytes: Uint8Array, choice: Tlv): NegTokenInit {
  const sequence = readExplicit(bytes, choice, DER_TAG.SEQUENCE, 'NegTokenInit');
  // [3] decides which of the two it is: negHints (a SEQUENCE) makes it a NegTokenInit2.
  const at3 = readFields(bytes, sequence, 4, 'NegTokenInit').get(3);
  const isInit2 = at3 !== undefined && at3.contentStart < at3.end && bytes[at3.contentStart] === DER_TAG.SEQUENCE;
  const found = readFields(bytes, sequence, isInit2 ? 4 : 3, 'NegTokenInit');
  const token: NegTokenInit = { kind: 'NegTokenInit' };
  const mechTypes = found.get(0);
  if (mechTypes !== undefined) {
    const list = readExplicit(bytes, mechTypes, DER_TAG.SEQUENCE, 'mechTypes');
    token.mechTypes = [];
    for (let at = list.contentStart; at < list.end;) {
      const mech = expectTlv(bytes, at, list.end, DER_TAG.OBJECT_IDENTIFIER, 'MechType');
      if (token.mechTypes.length === MAX_MECH_TYPES) throw new DerError('TOO_MANY', at, `mechTypes lists more than ${MAX_MECH_TYPES} MechTypes`);
      if (mech.end - mech.contentStart > MAX_MECH_TYPE_BYTES)
        throw new DerError('BAD_OID', at, `a MechType of ${mech.end - mech.contentStart} bytes, past the ${MAX_MECH_TYPE_BYTES} any mechanism's OID takes`);
      token.mechTypes.push(readOid(bytes, mech));
      at = mech.end;
    }
    token.mechTypeList = bytes.slice(list.start, list.end);
  } else if (!isInit2) {
    throw new DerError('BAD_TAG', sequence.contentStart, 'NegTokenInit: mechTypes [0] is missing');
  }
  const reqFlags = found.get(1);
  if (reqFlags !== undefined) token.reqFlags = readBitString(bytes, readExplicit(bytes, reqFlags, DER_TAG.BIT_STRING, 'reqFlags'));
  const mechToken = found.get(2);
  if (mechToken !== undefined) token.mechToken = octets(bytes, mechToken, 'mechToken');
  if (isInit2) {
    token.negHints = readNegHints(bytes, readExplicit(bytes, at3!, DER_TAG.SEQUENCE, 'negHints'));
    const mic = found.get(4);
    if (mic !== undefined) token.mechListMIC = octets(bytes, mic, 'mechListMIC');
  } else if (at3 !== undefined) {
    token.mechListMIC = octets(bytes, at3, 'mechListMIC');
  }
  return token;
}

function readNegHints(bytes: Uint8Array, sequence: Tlv): NegHints {
  const found = readFields(bytes, sequence, 1, 'NegHints');
  const hints: NegHints = {};
  const name = found.get(0);
  if (name !== undefined) {
    const text = readExplicit(bytes, name, DER_TAG.GENERAL_STRING, 'hintName');
    hints.hintName = readGeneralString(bytes, text, 'latin1');
  }
  const address = found.get(1);
  if (address !== undefined) hints.hintAddress = octets(bytes, address, 'hintAddress');
  return hints;
}

function readNegTokenResp(bytes: Uint8Array, choice: Tlv): NegTokenResp {
  const sequence = readExplicit(bytes, choice, DER_TAG.SEQUENCE, 'NegTokenResp');
  const found = readFields(bytes, sequence, 3, 'NegTokenResp');
  const token: NegTokenResp = { kind: 'NegTokenResp' };
  const negState = found.get(0);
  if (negState !== undefined) {
    const value = readExplicit(bytes, negState, DER_TAG.ENUMERATED, 'negState');
    const state = readEnumerated(bytes, value);
    if (state > NEG_STATE.REQUEST_MIC) throw new DerError('BAD_VALUE', value.contentStart, `negState ${state} is not one RFC 4178 defines`);
    token.negState = state as NegState;
  }
  const supportedMech = found.get(1);
  if (supportedMech !== undefined) token.supportedMech = readOid(bytes, readExplicit(bytes, supportedMech, DER_TAG.OBJECT_IDENTIFIER, 'supportedMech'));
  const responseToken = found.get(2);
  if (responseToken !== undefined) token.responseToken = octets(bytes, responseToken, 'responseToken');
  const mic = found.get(3);
  if (mic !== undefined) token.mechListMIC = octets(bytes, mic, 'mechListMIC');
  return token;
}
