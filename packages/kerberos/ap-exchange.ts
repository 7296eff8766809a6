// The client/server exchange inside the GSS-API mechanism (RFC 4120 3.2, RFC 4121 4.1):
//
//   initiator: AP-REQ in an InitialContextToken (TOK_ID 01 00): the service ticket, and an
//              Authenticator (encrypted with the ticket's session key, usage 11) carrying the 0x8003
//              checksum (channel bindings, flags), a fresh subkey and the initiator's first sequence
//              number. MUTUAL-REQUIRED in ap-options when mutual authentication is asked.
//   acceptor:  the ticket opened with the service's key (usage 2), the Authenticator with its session
//              key; the client named the same in both, its time within the skew, the authenticator
//              not seen before (the replay cache), the ticket current; then, for mutual
//              authentication, an AP-REP (TOK_ID 02 00) whose EncAPRepPart (usage 12) echoes ctime
//              and cusec and carries the acceptor's subkey and first sequence number.
//   initiator: the AP-REP must decrypt and echo its authenticator's time, or it is not the service
//              (SEC_E_MUTUAL_AUTH_FAILED); an acceptor's KRB-ERROR token (TOK_ID 03 00) is mapped to
//              its status.

import { randomInt } from 'node:crypto';
import {
  SEC_E_BAD_BINDINGS,
  SEC_E_CONTEXT_EXPIRED,
  SEC_E_INVALID_TOKEN,
  SEC_E_LOGON_DENIED,
  SEC_E_MUTUAL_AUTH_FAILED,
  SEC_E_TIME_SKEW,
  SEC_E_WRONG_PRINCIPAL,
} from '../../headers/index.js';
import { DerError, derScratch } from '../kit/index.js';
import {
  decrypt,
  encrypt,
  isSupportedEtype,
  KerberosCryptoError,
  KEY_USAGE,
  makeRandomKey,
  verifyChecksum,
  type EncryptionKey,
} from './crypto/index.js';
import { kerberosTimestamp, timestampMs } from './clock.js';
import { channelBindingsHash, GSS_C, GSS_CHECKSUM_TYPE, isZero, NO_BINDINGS, packGssChecksum, unpackGssChecksum } from './gss-checksum.js';
import {
  AP_OPTIONS,
  GSS_KRB5_MECH_OID,
  GSS_KRB5_TOK_ID,
  KRB_ERROR_CODE as E,
  packApRep,
  packApReq,
  packAuthenticator,
  packEncApRepPart,
  packGssKrb5Token,
  packKrbError,
  unpackApRep,
  unpackApReq,
  unpackAuthenticator,
  unpackEncApRepPart,
  unpackEncTicketPart,
  unpackGssKrb5Token,
  unpackKrbError,
  type Authenticator,
  type EncTicketPart,
  type PrincipalName,
} from './messages/index.js';
import { formatPrincipal, samePrincipal, type Principal } from './names.js';
import type { ReplayCache } from './replay-cache.js';
import { failure, krbErrorFailure, type KerberosFailure } from './statuses.js';
import type { CachedTicket } from './tickets.js';

/** A first sequence number as MIT makes them: random, below 2^30 so the first 2^30 messages never wrap a 32-bit peer. */
export function initialSequence(): number {
  return randomInt(0, 0x3fffffff);
}

// ---------------------------------------------------------------------------------------------
// The initiator

export interface ApRequest {
  /** The InitialContextToken to send. */
  token: Uint8Array;
  /** What the AP-REP must echo, and the context's keys and numbers. */
  ctime: Date;
  cusec: number;
  subkey: EncryptionKey;
  sequence: number;
}

export function makeApRequest(options: { ticket: CachedTicket; gssFlags: number; bindingsHash: Uint8Array; mutual: boolean; now: Date }): ApRequest {
  const { ticket } = options;
  const now = kerberosTimestamp(options.now);
  const subkey = makeRandomKey(ticket.sessionKey.keytype);
  const sequence = initialSequence();
  const authenticator: Authenticator = {
    crealm: ticket.client.realm,
    cname: ticket.client.name,
    cksum: { cksumtype: GSS_CHECKSUM_TYPE, checksum: packGssChecksum({ bindingsHash: options.bindingsHash, flags: options.gssFlags }) },
    cusec: now.usec,
    ctime: now.time,
    subkey: { keytype: subkey.keytype, keyvalue: subkey.keyvalue },
    seqNumber: sequence,
  };
  // The token's inner values in the DER writer's scratch space (the ticket alone is most of a kilobyte, copied at each level).
  const token = derScratch(() => {
    const apReq = packApReq({
      apOptions: options.mutual ? AP_OPTIONS.MUTUAL_REQUIRED : 0,
      ticket: ticket.ticket,
      authenticator: { etype: ticket.sessionKey.keytype, cipher: encrypt(ticket.sessionKey, KEY_USAGE.AP_REQ_AUTHENTICATOR, packAuthenticator(authenticator)) },
    });
    return packGssKrb5Token({ mech: GSS_KRB5_MECH_OID, tokId: GSS_KRB5_TOK_ID.AP_REQ, message: apReq });
  });
  return { token, ctime: now.time, cusec: now.usec, subkey, sequence };
}

export interface ApReply {
  acceptorSubkey: EncryptionKey | undefined;
  /** The acceptor's first sequence number; absent when it sent none (then the initiator's is used, RFC 1964). */
  acceptorSequence: number | undefined;
}

/** Reads the acceptor's reply: its AP-REP, checked against the request, or its KRB-ERROR as a failure. */
export function readApReply(token: Uint8Array, request: ApRequest, sessionKey: EncryptionKey): ApReply | KerberosFailure {
  let framed;
  try {
    framed = unpackGssKrb5Token(token);
  } catch (error) {
    if (error instanceof DerError) return failure(SEC_E_INVALID_TOKEN, `the acceptor's token is not a Kerberos mechanism token: ${error.message}`);
    throw error;
  }
  try {
    if (framed.tokId === GSS_KRB5_TOK_ID.KRB_ERROR) {
      const e = unpackKrbError(framed.message);
      return krbErrorFailure(e.errorCode, 'ap', e.eText);
    }
    if (framed.tokId !== GSS_KRB5_TOK_ID.AP_REP) return failure(SEC_E_INVALID_TOKEN, 'the acceptor answered with an AP-REQ');
    const rep = unpackApRep(framed.message);
    if (rep.encPart.etype !== sessionKey.keytype) return failure(SEC_E_MUTUAL_AUTH_FAILED, `the AP-REP is encrypted with etype ${rep.encPart.etype}, not the session key's`);
    const part = unpackEncApRepPart(decrypt(sessionKey, KEY_USAGE.AP_REP_ENC_PART, rep.encPart.cipher));
    if (part.ctime.getTime() !== request.ctime.getTime() || part.cusec !== request.cusec)
      return failure(SEC_E_MUTUAL_AUTH_FAILED, "the AP-REP does not echo the authenticator's time: it is not the service's answer to this request");
    if (part.subkey !== undefined && !isSupportedEtype(part.subkey.keytype))
      return failure(SEC_E_MUTUAL_AUTH_FAILED, `the acceptor's subkey is of etype ${part.subkey.keytype}, which this client does not have`);
    return {
      acceptorSubkey: part.subkey === undefined ? undefined : { keytype: part.subkey.keytype, keyvalue: part.subkey.keyvalue },
      acceptorSequence: part.seqNumber,
    };
  } catch (error) {
    if (error instanceof KerberosCryptoError) return failure(SEC_E_MUTUAL_AUTH_FAILED, `the AP-REP does not decrypt with the session key: ${error.message}`);
    if (error instanceof DerError) return failure(SEC_E_INVALID_TOKEN, `the acceptor's token does not read: ${error.message}`);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// The acceptor

/** The service keys that may open a ticket for `server` of `etype` (and `kvno` when given). */
export type ServiceKeyLookup = (server: Principal, etype: number, kvno: number | undefined) => Promise<EncryptionKey[]>;

export interface AcceptedApRequest {
  mech: string;
  client: Principal;
  server: Principal;
  ticket: EncTicketPart;
  authenticator: Authenticator;
  /** The 0x8003 checksum's flags (GSS_C_*), or what MIT assumes without one. */
  gssFlags: number;
  /** The client sent channel bindings that matched the application's. */
  channelBound: boolean;
  sessionKey: EncryptionKey;
  /** The authenticator's subkey, else the session key: what per-message tokens use (MIT's ctx->subkey). */
  initiatorKey: EncryptionKey;
  initiatorSequence: number;
  /** The client asked for mutual authentication (ap-options MUTUAL-REQUIRED or GSS_C_MUTUAL_FLAG). */
  mutual: boolean;
}

export interface AcceptOptions {
  token: Uint8Array;
  serviceKeys: ServiceKeyLookup;
  /** Only tickets for this principal are taken (an inbound credential acquired for one). */
  acceptFor: Principal | undefined;
  now: Date;
  maxClockSkewSeconds: number;
  replayCache: ReplayCache;
  /** The application's SECBUFFER_CHANNEL_BINDINGS, when it gave one. */
  bindings: Uint8Array | undefined;
  /** ASC_REQ_ALLOW_MISSING_BINDINGS: a client without bindings passes though the application gave some. */
  allowMissingBindings: boolean;
}

/** Reads and checks an initiator's AP-REQ token; every refusal is a failure with the KRB-ERROR code an error token would carry. */
export async function acceptApRequest(o: AcceptOptions): Promise<AcceptedApRequest | KerberosFailure> {
  let mech: string;
  let apReqBytes: Uint8Array;
  try {
    const framed = unpackGssKrb5Token(o.token);
    if (framed.tokId !== GSS_KRB5_TOK_ID.AP_REQ) return failure(SEC_E_INVALID_TOKEN, 'the first token is not an AP-REQ', E.KRB_AP_ERR_MSG_TYPE);
    mech = framed.mech;
    apReqBytes = framed.message;
  } catch (error) {
    if (error instanceof DerError) return failure(SEC_E_INVALID_TOKEN, `not a Kerberos mechanism token: ${error.message}`, E.KRB_AP_ERR_MSG_TYPE);
    throw error;
  }
  let apReq;
  try {
    apReq = unpackApReq(apReqBytes);
  } catch (error) {
    if (error instanceof DerError) return failure(SEC_E_INVALID_TOKEN, `the AP-REQ does not read: ${error.message}`, E.KRB_AP_ERR_MSG_TYPE);
    throw error;
  }
  if ((apReq.apOptions & AP_OPTIONS.USE_SESSION_KEY) !== 0)
    return failure(SEC_E_INVALID_TOKEN, 'user-to-user (USE-SESSION-KEY) is not implemented', E.KRB_AP_ERR_METHOD);

  // The ticket, with a key of ours for its service.
  const server: Principal = { name: apReq.ticket.sname, realm: apReq.ticket.realm };
  const serverText = formatPrincipal(server.name, server.realm);
  if (o.acceptFor !== undefined && !sameService(server, o.acceptFor))
    return failure(SEC_E_WRONG_PRINCIPAL, `the ticket is for ${serverText}, not ${formatPrincipal(o.acceptFor.name, o.acceptFor.realm)}`, E.KRB_AP_ERR_NOT_US);
  const keys = await o.serviceKeys(server, apReq.ticket.encPart.etype, apReq.ticket.encPart.kvno);
  if (keys.length === 0) return failure(SEC_E_WRONG_PRINCIPAL, `no key for ${serverText} (etype ${apReq.ticket.encPart.etype}) to open the ticket with`, E.KRB_AP_ERR_NOKEY);
  let ticket: EncTicketPart | undefined;
  for (const key of keys) {
    try {
      ticket = unpackEncTicketPart(decrypt(key, KEY_USAGE.KDC_REP_TICKET, apReq.ticket.encPart.cipher));
      break;
    } catch (error) {
      if (!(error instanceof KerberosCryptoError || error instanceof DerError)) throw error;
    }
  }
  if (ticket === undefined) return failure(SEC_E_WRONG_PRINCIPAL, `the ticket for ${serverText} does not open with this service's keys`, E.KRB_AP_ERR_MODIFIED);
  if (!isSupportedEtype(ticket.key.keytype)) return failure(SEC_E_LOGON_DENIED, `the ticket's session key is of etype ${ticket.key.keytype}`, E.KDC_ERR_ETYPE_NOSUPP);
  const sessionKey: EncryptionKey = { keytype: ticket.key.keytype, keyvalue: ticket.key.keyvalue };

  // The authenticator.
  let authenticator: Authenticator;
  try {
    if (apReq.authenticator.etype !== sessionKey.keytype) throw new KerberosCryptoError('BAD_KEY', 'the authenticator is not encrypted with the session key\'s etype');
    authenticator = unpackAuthenticator(decrypt(sessionKey, KEY_USAGE.AP_REQ_AUTHENTICATOR, apReq.authenticator.cipher));
  } catch (error) {
    if (error instanceof KerberosCryptoError || error instanceof DerError)
      return failure(SEC_E_LOGON_DENIED, `the authenticator does not open with the ticket's session key: ${error.message}`, E.KRB_AP_ERR_BAD_INTEGRITY);
    throw error;
  }
  const client: Principal = { name: ticket.cname, realm: ticket.crealm };
  const clientText = formatPrincipal(client.name, client.realm);
  if (!samePrincipal(authenticator.cname, authenticator.crealm, ticket.cname, ticket.crealm))
    return failure(SEC_E_LOGON_DENIED, `the authenticator names ${formatPrincipal(authenticator.cname, authenticator.crealm)}, the ticket ${clientText}`, E.KRB_AP_ERR_BADMATCH);

  // Times: the authenticator's within the skew, the ticket current.
  const nowMs = o.now.getTime();
  const skewMs = o.maxClockSkewSeconds * 1000;
  const ctimeMs = timestampMs(authenticator.ctime, authenticator.cusec);
  if (Math.abs(ctimeMs - nowMs) > skewMs)
    return failure(SEC_E_TIME_SKEW, `the authenticator's time is ${Math.round((ctimeMs - nowMs) / 1000)} s from this clock (skew allowed: ${o.maxClockSkewSeconds} s)`, E.KRB_AP_ERR_SKEW);
  const start = (ticket.starttime ?? ticket.authtime).getTime();
  if (start - nowMs > skewMs) return failure(SEC_E_TIME_SKEW, 'the ticket is not valid yet', E.KRB_AP_ERR_TKT_NYV);
  if (nowMs - ticket.endtime.getTime() > skewMs) return failure(SEC_E_CONTEXT_EXPIRED, `the ticket expired at ${ticket.endtime.toISOString()}`, E.KRB_AP_ERR_TKT_EXPIRED);

  // The checksum: flags and channel bindings.
  let gssFlags: number;
  let channelBound = false;
  const cksum = authenticator.cksum;
  let clientBindings: Uint8Array | undefined;
  if (cksum === undefined) {
    gssFlags = 0; // MS-KILE: a missing checksum is accepted, every flag unset, no bindings checked
  } else if (cksum.cksumtype !== GSS_CHECKSUM_TYPE) {
    // Samba sends a real checksum over nothing; it proves the authenticator was made for GSS (MIT accepts it so).
    let valid = false;
    try {
      valid = verifyChecksum(cksum.cksumtype, sessionKey, KEY_USAGE.AP_REQ_AUTHENTICATOR_CKSUM, new Uint8Array(0), cksum.checksum);
    } catch (error) {
      if (!(error instanceof KerberosCryptoError)) throw error;
    }
    if (!valid) return failure(SEC_E_INVALID_TOKEN, `the authenticator's checksum (type ${cksum.cksumtype}) does not verify`, E.KRB_AP_ERR_INAPP_CKSUM);
    gssFlags = GSS_C.REPLAY | GSS_C.SEQUENCE | ((apReq.apOptions & AP_OPTIONS.MUTUAL_REQUIRED) !== 0 ? GSS_C.MUTUAL : 0);
  } else {
    const read = unpackGssChecksum(cksum.checksum);
    if (typeof read === 'string') return failure(SEC_E_INVALID_TOKEN, read, E.KRB_AP_ERR_INAPP_CKSUM);
    gssFlags = read.flags;
    clientBindings = read.bindingsHash;
    if ((gssFlags & GSS_C.DELEG) !== 0) gssFlags &= ~GSS_C.DELEG; // a delegated credential is not taken (README: not implemented)
  }
  if (o.bindings !== undefined) {
    const ours = channelBindingsHash(o.bindings);
    if (typeof ours === 'string') return failure(SEC_E_BAD_BINDINGS, ours, E.KRB_AP_ERR_INAPP_CKSUM);
    if (clientBindings === undefined || isZero(clientBindings)) {
      if (!o.allowMissingBindings) return failure(SEC_E_BAD_BINDINGS, 'the client sent no channel bindings and the application requires them', E.KRB_AP_ERR_INAPP_CKSUM);
    } else if (!Buffer.from(clientBindings).equals(Buffer.from(ours))) {
      return failure(SEC_E_BAD_BINDINGS, "the client's channel bindings are not this channel's (a relayed authenticator?)", E.KRB_AP_ERR_INAPP_CKSUM);
    } else channelBound = true;
  }

  // Last, the replay cache: only an authenticator that passed everything else is remembered.
  if (!o.replayCache.admit(clientText, authenticator.ctime.getTime(), authenticator.cusec, apReq.authenticator.cipher, ctimeMs + skewMs, nowMs))
    return failure(SEC_E_INVALID_TOKEN, 'the authenticator was seen before (a replayed AP-REQ)', E.KRB_AP_ERR_REPEAT);

  const subkey = authenticator.subkey;
  if (subkey !== undefined && !isSupportedEtype(subkey.keytype)) return failure(SEC_E_LOGON_DENIED, `the authenticator's subkey is of etype ${subkey.keytype}`, E.KDC_ERR_ETYPE_NOSUPP);
  return {
    mech,
    client,
    server,
    ticket,
    authenticator,
    gssFlags,
    channelBound,
    sessionKey,
    initiatorKey: subkey === undefined ? { ...sessionKey, keyvalue: Uint8Array.from(sessionKey.keyvalue) } : { keytype: subkey.keytype, keyvalue: subkey.keyvalue },
    initiatorSequence: authenticator.seqNumber ?? 0,
    mutual: (apReq.apOptions & AP_OPTIONS.MUTUAL_REQUIRED) !== 0 || (gssFlags & GSS_C.MUTUAL) !== 0,
  };
}

/** The AP-REP for an accepted request: the echoed time, the acceptor's subkey and first sequence number. */
export function makeApReply(accepted: AcceptedApRequest, acceptorSubkey: EncryptionKey, sequence: number): Uint8Array {
  return derScratch(() => {
    const part = packEncApRepPart({
      ctime: accepted.authenticator.ctime,
      cusec: accepted.authenticator.cusec,
      subkey: { keytype: acceptorSubkey.keytype, keyvalue: acceptorSubkey.keyvalue },
      seqNumber: sequence,
    });
    const rep = packApRep({ encPart: { etype: accepted.sessionKey.keytype, cipher: encrypt(accepted.sessionKey, KEY_USAGE.AP_REP_ENC_PART, part) } });
    return packGssKrb5Token({ mech: accepted.mech, tokId: GSS_KRB5_TOK_ID.AP_REP, message: rep });
  });
}

/** An acceptor's error token (TOK_ID 03 00): what MIT's acceptor sends a client it refuses, so that the client learns why. */
export function makeErrorToken(code: number, server: PrincipalName, realm: string, now: Date, mech = GSS_KRB5_MECH_OID): Uint8Array {
  const t = kerberosTimestamp(now);
  const error = packKrbError({ stime: t.time, susec: t.usec, errorCode: code, realm, sname: server });
  return packGssKrb5Token({ mech, tokId: GSS_KRB5_TOK_ID.KRB_ERROR, message: error });
}

/** Whether a ticket's service is the one a credential accepts for (the realm's case aside, as a Windows SPN matches). */
function sameService(a: Principal, b: Principal): boolean {
  return (
    a.realm.toUpperCase() === b.realm.toUpperCase() &&
    a.name.nameString.length === b.name.nameString.length &&
    a.name.nameString.every((c, i) => c.toLowerCase() === b.name.nameString[i]!.toLowerCase())
  );
}

export { NO_BINDINGS };
