// Kerberos messages spelled out for people (`sspi-emu decode`, the HTML view's token decoders):
// describeKerberosToken() turns a message, bare or in the GSS-API framing of RFC 4121 4.1, into
// plain JSON-able data field by field; formatKerberosToken() into indented text. Encrypted parts
// stay encrypted (etype, kvno, the ciphertext's length and bytes): no key is taken here; a
// PartOpener passed in (decode-keys.ts, over the cryptosystem) may add each part's plaintext. The
// pre-authentication data and KRB-ERROR's e-data are described when their type is one this
// codec reads (PA-TGS-REQ, PA-ENC-TIMESTAMP, PA-ETYPE-INFO2, PA-PAC-REQUEST; METHOD-DATA or
// TYPED-DATA), hex otherwise. Invalid input throws the kit's DerError, with its offset.

import { DerError, readTlv } from '../../kit/index.js';
import type { ApRep, ApReq } from './ap.js';
import { unpackApReq } from './ap.js';
import { unpackEncryptedData, unpackMethodData, type EncryptedData, type HostAddress, type PaData, type PrincipalName, type Ticket } from './common.js';
import { ADDR_TYPE, AP_OPTIONS, KDC_OPTIONS, KRB_NT, kerberosFlagNames, PA_TYPE } from './constants.js';
import { krbErrorName } from './error-codes.js';
import { gssKrb5MessageOffset, GSS_KRB5_MECH_OID, GSS_MS_KRB5_MECH_OID, isGssKrb5Token, unpackGssKrb5Token } from './gss.js';
import { unpackEtypeInfo2, unpackPaPacRequest, type KdcRep, type KdcReq } from './kdc.js';
import { unpackTypedData, type KrbError } from './krb-error.js';
import type { KrbCred } from './cred.js';
import { kerberosMessageType, readKerberosMessage, type KerberosMessageType } from './message.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type KerberosTokenDescription = { [key: string]: JsonValue } & { type: KerberosMessageType; length: number };

/** Which encrypted part of a message is at hand: what it holds decides the key usages that may have sealed it (RFC 4120 7.5.1). */
export type EncryptedPartKind =
  | 'EncTicketPart'
  | 'Authenticator'
  | 'TGS-REQ Authenticator'
  | 'EncAPRepPart'
  | 'EncASRepPart'
  | 'EncTGSRepPart'
  | 'EncKrbCredPart'
  | 'PA-ENC-TIMESTAMP'
  | 'AuthorizationData';

/**
 * What opens encrypted parts while a message is described (decode-keys.ts holds the keys and the
 * cryptosystem): given a part, the fields to add beside its ciphertext (how it was opened and the
 * plaintext described, or why it stays closed). Called in message order, so that a key one part
 * yields (a ticket's session key) is known when the next part (the authenticator) comes.
 */
export type PartOpener = (part: EncryptedData, kind: EncryptedPartKind) => { [key: string]: JsonValue };

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Whether the bytes look like a Kerberos message or a Kerberos GSS-API token (only the first bytes are looked at). */
export function isKerberosToken(bytes: Uint8Array): boolean {
  return kerberosMessageType(bytes[0]) !== undefined || isGssKrb5Token(bytes);
}

function reverse(table: Readonly<Record<string, number>>): Map<number, string> {
  return new Map(Object.entries(table).map(([name, value]) => [value, name]));
}

const NAME_TYPES = reverse(KRB_NT);
/** PA-TGS-REQ, PA-ENC-TIMESTAMP, PA-ETYPE-INFO2: the RFCs spell padata types with hyphens. */
const PA_TYPES = new Map([...reverse(PA_TYPE)].map(([value, name]) => [value, name.replace(/_/g, '-')]));
const ADDR_TYPES = reverse(ADDR_TYPE);

const named = (value: number, names: ReadonlyMap<number, string>, prefix: string): string => {
  const name = names.get(value);
  return name === undefined ? String(value) : `${value} (${prefix}${name})`;
};

/** name/instance@REALM, as MIT writes principals, with the name type. */
export function describePrincipal(name: PrincipalName, realm?: string): string {
  const text = name.nameString.map((c) => c.replace(/[\\/@]/g, (ch) => `\\${ch}`)).join('/');
  return `${text}${realm === undefined ? '' : `@${realm}`} (${named(name.nameType, NAME_TYPES, 'KRB_NT_')})`;
}

export const describeTime = (date: Date): string => date.toISOString().replace('.000Z', 'Z');

function encrypted(e: EncryptedData, kind?: EncryptedPartKind, open?: PartOpener): JsonValue {
  const out: { [key: string]: JsonValue } = { etype: e.etype };
  if (e.kvno !== undefined) out.kvno = e.kvno;
  out.cipher = `${e.cipher.length} bytes, encrypted: ${hex(e.cipher)}`;
  return open === undefined || kind === undefined ? out : Object.assign(out, open(e, kind));
}

export function describeFlags(value: number, table: Readonly<Record<string, number>>): string {
  const names = kerberosFlagNames(value, table);
  return `0x${value.toString(16).padStart(8, '0')}${names.length === 0 ? '' : ` (${names.join(', ')})`}`;
}

export function describeTicket(t: Ticket, open?: PartOpener): JsonValue {
  return { realm: t.realm, sname: describePrincipal(t.sname), encPart: encrypted(t.encPart, 'EncTicketPart', open) };
}

export function describeAddresses(list: HostAddress[]): JsonValue {
  return list.map((a) => `${named(a.addrType, ADDR_TYPES, 'ADDRTYPE_')}: ${a.addrType === ADDR_TYPE.IPV4 && a.address.length === 4 ? a.address.join('.') : hex(a.address)}`);
}

/** A PA-DATA's value when its type is one read here; its hex otherwise, or when it does not parse. */
function paValue(pa: PaData, open?: PartOpener): JsonValue {
  // An empty value is a hint, not a malformed one: a KDC's METHOD-DATA names the pre-authentication
  // it accepts with an empty PA-ENC-TIMESTAMP (RFC 4120 5.9.1, 7.5.2).
  if (pa.padataValue.length === 0) return '';
  try {
    switch (pa.padataType) {
      case PA_TYPE.TGS_REQ:
        return apReq(unpackApReq(pa.padataValue), open, 'TGS-REQ Authenticator');
      case PA_TYPE.ENC_TIMESTAMP:
        return encrypted(unpackEncryptedData(pa.padataValue), 'PA-ENC-TIMESTAMP', open);
      case PA_TYPE.ETYPE_INFO2:
        return unpackEtypeInfo2(pa.padataValue).map((e) => {
          const entry: { [key: string]: JsonValue } = { etype: e.etype };
          if (e.salt !== undefined) entry.salt = e.salt;
          if (e.s2kparams !== undefined) entry.s2kparams = hex(e.s2kparams);
          return entry;
        });
      case PA_TYPE.PAC_REQUEST:
        return { includePac: unpackPaPacRequest(pa.padataValue) };
    }
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
    return `${hex(pa.padataValue)} (not a valid ${PA_TYPES.get(pa.padataType) ?? 'value'}: ${error.message})`;
  }
  return hex(pa.padataValue);
}

export function describePadata(list: PaData[], open?: PartOpener): JsonValue {
  return list.map((pa) => ({ type: named(pa.padataType, PA_TYPES, 'PA-'), value: paValue(pa, open) }));
}

function kdcReq(req: KdcReq, open?: PartOpener): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  if (req.padata !== undefined) out.padata = describePadata(req.padata, open);
  const b = req.reqBody;
  const body: { [key: string]: JsonValue } = { kdcOptions: describeFlags(b.kdcOptions, KDC_OPTIONS) };
  if (b.cname !== undefined) body.cname = describePrincipal(b.cname);
  body.realm = b.realm;
  if (b.sname !== undefined) body.sname = describePrincipal(b.sname);
  if (b.from !== undefined) body.from = describeTime(b.from);
  body.till = describeTime(b.till);
  if (b.rtime !== undefined) body.rtime = describeTime(b.rtime);
  body.nonce = b.nonce;
  body.etype = b.etype;
  if (b.addresses !== undefined) body.addresses = describeAddresses(b.addresses);
  if (b.encAuthorizationData !== undefined) body.encAuthorizationData = encrypted(b.encAuthorizationData, 'AuthorizationData', open);
  if (b.additionalTickets !== undefined) body.additionalTickets = b.additionalTickets.map((t) => describeTicket(t, open));
  out.reqBody = body;
  return out;
}

function kdcRep(rep: KdcRep, kind: 'EncASRepPart' | 'EncTGSRepPart', open?: PartOpener): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  if (rep.padata !== undefined) out.padata = describePadata(rep.padata, open);
  out.cname = describePrincipal(rep.cname, rep.crealm);
  out.ticket = describeTicket(rep.ticket, open);
  out.encPart = encrypted(rep.encPart, kind, open);
  return out;
}

function apReq(req: ApReq, open?: PartOpener, kind: 'Authenticator' | 'TGS-REQ Authenticator' = 'Authenticator'): { [key: string]: JsonValue } {
  // The ticket first: its session key opens the authenticator.
  const described = { apOptions: describeFlags(req.apOptions, AP_OPTIONS), ticket: describeTicket(req.ticket, open) };
  return { ...described, authenticator: encrypted(req.authenticator, kind, open) };
}

function apRep(rep: ApRep, open?: PartOpener): { [key: string]: JsonValue } {
  return { encPart: encrypted(rep.encPart, 'EncAPRepPart', open) };
}

/** A KRB-CRED's fields (also what a GSS-API authenticator checksum delegates). */
export function describeKrbCred(cred: KrbCred, open?: PartOpener): { [key: string]: JsonValue } {
  const tickets = cred.tickets.map((t) => describeTicket(t, open));
  return { tickets, encPart: encrypted(cred.encPart, 'EncKrbCredPart', open) };
}

/** e-data: METHOD-DATA (PREAUTH_REQUIRED and friends) or TYPED-DATA, whichever parses; hex otherwise. */
function eData(bytes: Uint8Array): JsonValue {
  try {
    return { methodData: describePadata(unpackMethodData(bytes)) };
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
  }
  try {
    return { typedData: unpackTypedData(bytes).map((d) => ({ dataType: d.dataType, ...(d.dataValue === undefined ? {} : { dataValue: hex(d.dataValue) }) })) };
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
  }
  return hex(bytes);
}

function krbError(e: KrbError): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = { errorCode: krbErrorName(e.errorCode) };
  if (e.ctime !== undefined) out.ctime = describeTime(e.ctime);
  if (e.cusec !== undefined) out.cusec = e.cusec;
  out.stime = describeTime(e.stime);
  out.susec = e.susec;
  if (e.cname !== undefined) out.cname = describePrincipal(e.cname, e.crealm);
  else if (e.crealm !== undefined) out.crealm = e.crealm;
  out.sname = describePrincipal(e.sname, e.realm);
  if (e.eText !== undefined) out.eText = e.eText;
  if (e.eData !== undefined) out.eData = eData(e.eData);
  return out;
}

/**
 * The token field by field: a Kerberos message, bare or in its GSS-API framing (then `framing` says
 * so). With `open`, each encrypted part is offered to it in message order and what it adds (the
 * plaintext, or why the part stays closed) stands beside the ciphertext.
 */
export function describeKerberosToken(bytes: Uint8Array, open?: PartOpener): KerberosTokenDescription {
  let at = 0;
  let framing: string | undefined;
  if (bytes[0] === 0x60) {
    const token = unpackGssKrb5Token(bytes);
    at = gssKrb5MessageOffset(bytes);
    const mechName = token.mech === GSS_KRB5_MECH_OID ? 'Kerberos 5' : token.mech === GSS_MS_KRB5_MECH_OID ? 'MS Kerberos 5' : token.mech;
    framing = `GSS-API InitialContextToken, ${token.mech} (${mechName}), TOK_ID ${hex(bytes.subarray(at - 2, at)).replace(/(..)(..)/, '$1 $2')}`;
  }
  const t = readTlv(bytes, at, bytes.length);
  const m = readKerberosMessage(bytes, t);
  if (t.end !== bytes.length) throw new DerError('TRAILING_BYTES', t.end, `${bytes.length - t.end} bytes follow the Kerberos message`);
  const head: KerberosTokenDescription = { type: m.type, length: bytes.length };
  if (framing !== undefined) head.framing = framing;
  switch (m.type) {
    case 'AS-REQ':
    case 'TGS-REQ':
      return Object.assign(head, kdcReq(m.message, open));
    case 'AS-REP':
      return Object.assign(head, kdcRep(m.message, 'EncASRepPart', open));
    case 'TGS-REP':
      return Object.assign(head, kdcRep(m.message, 'EncTGSRepPart', open));
    case 'AP-REQ':
      return Object.assign(head, apReq(m.message, open));
    case 'AP-REP':
      return Object.assign(head, apRep(m.message, open));
    case 'KRB-CRED':
      return Object.assign(head, describeKrbCred(m.message, open));
    case 'KRB-ERROR':
      return Object.assign(head, krbError(m.message));
  }
}

/** The description as indented text, one field a line. */
export function formatKerberosToken(description: KerberosTokenDescription): string {
  const lines: string[] = [];
  const walk = (value: JsonValue, indent: string, label: string): void => {
    if (Array.isArray(value)) {
      lines.push(`${indent}${label}:${value.length === 0 ? ' (none)' : ''}`);
      value.forEach((item, i) => walk(item, indent + '  ', `[${i}]`));
    } else if (value !== null && typeof value === 'object') {
      lines.push(`${indent}${label}:`);
      for (const [key, inner] of Object.entries(value)) walk(inner, indent + '  ', key);
    } else {
      lines.push(`${indent}${label}: ${String(value)}`);
    }
  };
  lines.push(`Kerberos ${description.type} (${description.length} bytes)`);
  for (const [key, value] of Object.entries(description)) if (key !== 'type' && key !== 'length') walk(value, '  ', key);
  return lines.join('\n');
}
