// What a Kerberos client sends a KDC and how it reads the answer (RFC 4120 3.1, 3.3, 5.4), as pure
// functions over the messages module: the AS-REQ, PA-ENC-TIMESTAMP, the TGS-REQ with its PA-TGS-REQ
// (an AP-REQ carrying the TGT, its Authenticator sealed in the TGT's session key with a checksum
// of the req-body's bytes and, as MIT and Windows send it, a subkey for the reply), the answer read
// as a KDC-REP or a KRB-ERROR, and a reply's enc-part opened and its nonce checked.
//
// One module for every client in the tree: the package's KdcClient (kdc-client.ts) adds the
// policy around it (which key, when to pre-authenticate, what a refusal means to SSPI), and the
// KDC's own tests build their requests with it, so the KDC is tested against the client that uses
// it. The defaults are what MIT's kinit and Windows ask for; tests pass the fields they vary.

import { randomInt } from 'node:crypto';
import { SEC_E_NO_AUTHENTICATING_AUTHORITY } from '../../headers/index.js';
import { DerError } from '../kit/index.js';
import { decrypt, encrypt, KerberosCryptoError, KEY_USAGE, makeChecksum, makeRandomKey, requiredChecksumType, type EncryptionKey } from './crypto/index.js';
import {
  KDC_OPTIONS,
  KRB_MSG_TYPE,
  KRB_NT,
  PA_TYPE,
  packApReq,
  packAuthenticator,
  packAuthorizationData,
  packEncryptedData,
  packKdcReq,
  packKdcReqBody,
  packPaEncTsEnc,
  unpackEncKdcRepPart,
  unpackKdcRep,
  unpackKrbError,
  type AuthorizationDataEntry,
  type EncKdcRepPart,
  type KdcRep,
  type KdcReqBody,
  type KrbError,
  type PaData,
  type PrincipalName,
  type Ticket,
} from './messages/index.js';
import { kerberosTimestamp, wholeSeconds } from './clock.js';
import { tgsPrincipal } from './names.js';
import { failure, type KerberosFailure } from './statuses.js';

/** A principal's name, or its components alone (then KRB_NT_PRINCIPAL). */
export type NameOrComponents = PrincipalName | readonly string[];

function principalName(name: NameOrComponents): PrincipalName {
  return isComponents(name) ? { nameType: KRB_NT.PRINCIPAL, nameString: [...name] } : name;
}

function isComponents(name: NameOrComponents): name is readonly string[] {
  return Array.isArray(name);
}

/** aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96, then the RFC 8009 pair: MIT's default order. */
export const DEFAULT_REQUEST_ETYPES: readonly number[] = [18, 17, 20, 19];

const DAY_MS = 24 * 3_600_000;

/** A random nonce, 31 bits as MIT and Windows send them (some KDCs read it as signed). */
export function kdcNonce(): number {
  return randomInt(1, 0x7fffffff);
}

export interface AsRequestOptions {
  realm: string;
  client: NameOrComponents;
  /** The service asked for; default krbtgt/REALM (a TGT). */
  service?: NameOrComponents;
  /** The etypes the client takes, most preferred first; default DEFAULT_REQUEST_ETYPES. */
  etypes?: readonly number[];
  nonce?: number;
  /** KDCOptions; default FORWARDABLE | RENEWABLE_OK, as Windows and MIT's kinit ask. */
  options?: number;
  /** When the ticket should end; default a day from `now`. */
  till?: Date;
  rtime?: Date;
  padata?: PaData[];
}

/** An AS-REQ's KDC-REQ-BODY (RFC 4120 5.4.1). */
export function asRequestBody(o: AsRequestOptions, now = Date.now()): KdcReqBody {
  return {
    kdcOptions: o.options ?? (KDC_OPTIONS.FORWARDABLE | KDC_OPTIONS.RENEWABLE_OK) >>> 0,
    cname: principalName(o.client),
    realm: o.realm,
    sname: o.service === undefined ? tgsPrincipal(o.realm) : principalName(o.service),
    till: o.till ?? wholeSeconds(new Date(now + DAY_MS)),
    nonce: o.nonce ?? kdcNonce(),
    etype: [...(o.etypes ?? DEFAULT_REQUEST_ETYPES)],
    ...(o.rtime === undefined ? {} : { rtime: o.rtime }),
  };
}

/** An AS-REQ's bytes. */
export function asRequest(o: AsRequestOptions, now = Date.now()): Uint8Array {
  return packKdcReq({ msgType: KRB_MSG_TYPE.AS_REQ, ...(o.padata === undefined ? {} : { padata: o.padata }), reqBody: asRequestBody(o, now) });
}

/** PA-ENC-TIMESTAMP (RFC 4120 5.2.7.2): the time, sealed in the client's key with key usage 1. */
export function encTimestamp(key: EncryptionKey, at = Date.now()): PaData {
  const ts = kerberosTimestamp(new Date(at));
  const plain = packPaEncTsEnc({ patimestamp: ts.time, pausec: ts.usec });
  return {
    padataType: PA_TYPE.ENC_TIMESTAMP,
    padataValue: packEncryptedData({ etype: key.keytype, cipher: encrypt(key, KEY_USAGE.AS_REQ_PA_ENC_TIMESTAMP, plain) }),
  };
}

/** A ticket with its session key and its client, as a TGS-REQ presents it. */
export interface TicketAndKey {
  readonly ticket: Ticket;
  readonly sessionKey: EncryptionKey;
  readonly client: { readonly name: PrincipalName; readonly realm: string };
}

export interface TgsRequestOptions {
  /** The realm of the service (and of the KDC asked). */
  realm: string;
  /** The TGT (or, to renew it, the ticket itself). */
  tgt: TicketAndKey;
  service: NameOrComponents;
  etypes?: readonly number[];
  nonce?: number;
  /** KDCOptions; default FORWARDABLE. */
  options?: number;
  /** Default a day from `now` (the KDC cuts it to the TGT's end). */
  till?: Date;
  rtime?: Date;
  /** The Authenticator's subkey, which seals the reply (usage 9); null for none (usage 8, the session key). Default a fresh key of the session key's etype. */
  subkey?: EncryptionKey | null;
  /** Authorization data for the ticket (enc-authorization-data, sealed in the subkey, or the session key without one). */
  authorizationData?: AuthorizationDataEntry[];
}

export interface TgsRequest {
  readonly request: Uint8Array;
  readonly body: KdcReqBody;
  /** The key and usage the TGS-REP's enc-part is sealed with. */
  readonly replyKey: EncryptionKey;
  readonly replyUsage: number;
}

/** A TGS-REQ (RFC 4120 5.4.1, 7.2 PA-TGS-REQ): `now` is the Authenticator's time. */
export function tgsRequest(o: TgsRequestOptions, now = Date.now()): TgsRequest {
  const sessionKey = o.tgt.sessionKey;
  const subkey = o.subkey === undefined ? makeRandomKey(sessionKey.keytype) : o.subkey;
  const body: KdcReqBody = {
    kdcOptions: o.options ?? KDC_OPTIONS.FORWARDABLE,
    realm: o.realm,
    sname: principalName(o.service),
    till: o.till ?? wholeSeconds(new Date(now + DAY_MS)),
    nonce: o.nonce ?? kdcNonce(),
    etype: [...(o.etypes ?? DEFAULT_REQUEST_ETYPES)],
    ...(o.rtime === undefined ? {} : { rtime: o.rtime }),
  };
  if (o.authorizationData !== undefined) {
    const [key, usage] = subkey === null ? [sessionKey, KEY_USAGE.TGS_REQ_AD_SESSION_KEY] : [subkey, KEY_USAGE.TGS_REQ_AD_SUBKEY];
    body.encAuthorizationData = { etype: key.keytype, cipher: encrypt(key, usage, packAuthorizationData(o.authorizationData)) };
  }
  const cksumtype = requiredChecksumType(sessionKey.keytype);
  const ts = kerberosTimestamp(new Date(now));
  const authenticator = packAuthenticator({
    crealm: o.tgt.client.realm,
    cname: o.tgt.client.name,
    cksum: { cksumtype, checksum: makeChecksum(cksumtype, sessionKey, KEY_USAGE.TGS_REQ_AUTHENTICATOR_CKSUM, packKdcReqBody(body)) },
    cusec: ts.usec,
    ctime: ts.time,
    ...(subkey === null ? {} : { subkey }),
  });
  const apReq = packApReq({
    apOptions: 0,
    ticket: o.tgt.ticket,
    authenticator: { etype: sessionKey.keytype, cipher: encrypt(sessionKey, KEY_USAGE.TGS_REQ_AUTHENTICATOR, authenticator) },
  });
  const request = packKdcReq({ msgType: KRB_MSG_TYPE.TGS_REQ, padata: [{ padataType: PA_TYPE.TGS_REQ, padataValue: apReq }], reqBody: body });
  return subkey === null
    ? { request, body, replyKey: sessionKey, replyUsage: KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY }
    : { request, body, replyKey: subkey, replyUsage: KEY_USAGE.TGS_REP_ENC_PART_SUBKEY };
}

/** A KDC's answer: a KDC-REP (AS-REP or TGS-REP) or a KRB-ERROR. */
export type KdcAnswer = { readonly kind: 'reply'; readonly rep: KdcRep } | { readonly kind: 'error'; readonly error: KrbError };

/** The answer's bytes read; anything else is SEC_E_NO_AUTHENTICATING_AUTHORITY (no KDC that can be understood answered). */
export function readKdcAnswer(bytes: Uint8Array): KdcAnswer | KerberosFailure {
  try {
    if (bytes[0] === 0x7e) return { kind: 'error', error: unpackKrbError(bytes) }; // [APPLICATION 30]
    return { kind: 'reply', rep: unpackKdcRep(bytes) };
  } catch (error) {
    if (error instanceof DerError) return failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, `the KDC's answer is not a KDC-REP or KRB-ERROR: ${error.message}`);
    throw error;
  }
}

/** A reply opened: the ticket, the decrypted part (session key, flags, times), and who it is for. */
export interface KdcCredentials extends TicketAndKey {
  readonly part: EncKdcRepPart;
}

/**
 * Opens a KDC-REP's enc-part with `key` (usage 3 for an AS-REP, 8 or 9 for a TGS-REP) and checks
 * that it answers the request of `nonce`; a reply that does not open or answers another request is
 * SEC_E_NO_AUTHENTICATING_AUTHORITY (callers that know better, a wrong password, say so).
 */
export function openKdcReply(rep: KdcRep, key: EncryptionKey, usage: number, nonce: number): KdcCredentials | KerberosFailure {
  if (rep.encPart.etype !== key.keytype) return failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, `the reply is encrypted with etype ${rep.encPart.etype}, its key is ${key.keytype}`);
  let part: EncKdcRepPart;
  try {
    part = unpackEncKdcRepPart(decrypt(key, usage, rep.encPart.cipher));
  } catch (error) {
    if (error instanceof KerberosCryptoError || error instanceof DerError)
      return failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, `the KDC's reply does not decrypt or read: ${error.message}`);
    throw error;
  }
  if (part.nonce !== nonce) return failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, `the reply's nonce is ${part.nonce}, the request's ${nonce} (a replayed or forged reply)`);
  return { ticket: rep.ticket, part, sessionKey: part.key, client: { name: rep.cname, realm: rep.crealm } };
}
