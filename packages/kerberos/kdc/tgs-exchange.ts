// The Ticket-Granting Service exchange (RFC 4120 3.3): a TGS-REQ carries a TGT in PA-TGS-REQ's
// AP-REQ, with an Authenticator sealed in the TGT's session key (key usage 7) whose checksum
// covers the req-body's bytes as they came (key usage 6): so nothing in the request can be
// changed on the way. The reply is sealed in the Authenticator's subkey when it has one (usage 9),
// else in the TGT's session key (usage 8); the new ticket in the service's key.
//
// RENEW renews a renewable ticket (a TGT or a service ticket) before its end and renew-till;
// FORWARDED makes a forwarded TGT from a forwardable one. Not implemented, and refused with
// KDC_ERR_BADOPTION or KDC_ERR_PADATA_TYPE_NOSUPP saying so: postdating and VALIDATE, PROXY,
// user-to-user (ENC-TKT-IN-SKEY), S4U2Self (PA-FOR-USER) and S4U2Proxy (CNAME-IN-ADDL-TKT),
// cross-realm referrals. FAST armor (RFC 6113) is not read (see REFUSED_TGS_PADATA). No replay cache is kept for TGS authenticators: MIT's KDC
// keeps none either, since a replayed TGS-REQ gets a reply only the TGT's holder can read.

import { checksumTypeInfo, decrypt, encrypt, isSupportedEtype, KEY_USAGE, makeRandomKey, verifyChecksum, type EncryptionKey } from '../crypto/index.js';
import {
  KDC_OPTIONS,
  KRB_ERROR_CODE,
  KRB_MSG_TYPE,
  LR_TYPE,
  PA_TYPE,
  packEncKdcRepPart,
  packKdcRep,
  TICKET_FLAGS,
  unpackApReq,
  unpackAuthenticator,
  unpackAuthorizationData,
  type ApReq,
  type Authenticator,
  type AuthorizationDataEntry,
  type EncTicketPart,
  type KdcReq,
  type PrincipalName,
} from '../messages/index.js';
import { renewUntil } from './as-exchange.js';
import { KdcRefusal } from './errors.js';
import { isTgsName, sameRealm } from './principals.js';
import { undecodableTgsApReq } from './undecodable.js';
import {
  chooseEtype,
  type ExchangeContext,
  kerberosTime,
  keysOf,
  nameOf,
  type OpenedTicket,
  openTicket,
  type RequestNote,
  requestedTime,
  sealTicket,
} from './tickets.js';

const REFUSED_TGS_OPTIONS: ReadonlyArray<[number, string]> = [
  [KDC_OPTIONS.ALLOW_POSTDATE, 'postdated tickets are not issued (not implemented)'],
  [KDC_OPTIONS.POSTDATED, 'postdated tickets are not issued (not implemented)'],
  [KDC_OPTIONS.VALIDATE, 'VALIDATE: no postdated tickets are issued, so none needs validating (not implemented)'],
  [KDC_OPTIONS.PROXY, 'PROXY tickets are not implemented'],
  [KDC_OPTIONS.ENC_TKT_IN_SKEY, 'user-to-user (ENC-TKT-IN-SKEY) is not implemented'],
  [KDC_OPTIONS.CNAME_IN_ADDL_TKT, 'S4U2Proxy (CNAME-IN-ADDL-TKT, constrained delegation) is not implemented'],
  [KDC_OPTIONS.REQUEST_ANONYMOUS, 'anonymous tickets (RFC 8062) are not implemented'],
];

/**
 * Pre-authentication data a TGS-REQ may carry that asks for what is not implemented. PA-FX-FAST is
 * not among them: MIT's client armors every TGS-REQ (RFC 6113's implicit TGS armor, from the
 * subkey and the TGT's session key) around a copy of the whole request, and takes a plain reply
 * from a KDC that does not do FAST (decode_kdc.c forgives KRB5_ERR_FAST_REQUIRED); so the armor
 * is left unread, as a KDC that predates FAST leaves it, and the outer request is answered.
 */
const REFUSED_TGS_PADATA: ReadonlyArray<[number, string]> = [
  [PA_TYPE.FOR_USER, 'S4U2Self (PA-FOR-USER) is not implemented'],
  [130, 'S4U2Self (PA-S4U-X509-USER) is not implemented'],
];

/** Answers a TGS-REQ (decoded by unpackKdcReq, so that reqBodyBytes holds the req-body as it came). */
export async function tgsExchange(ctx: ExchangeContext, req: KdcReq, note: RequestNote): Promise<Uint8Array> {
  const { db, now } = ctx;
  const body = req.reqBody;
  note.server = nameOf(body.sname, body.realm);
  if (!sameRealm(body.realm, db.realm))
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_WRONG_REALM, `this KDC serves ${db.realm}, not ${body.realm} (no cross-realm)`);
  for (const [type, why] of REFUSED_TGS_PADATA)
    if (req.padata?.some((pa) => pa.padataType === type) === true) throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_PADATA_TYPE_NOSUPP, why);
  const paTgsReq = req.padata?.find((pa) => pa.padataType === PA_TYPE.TGS_REQ);
  if (paTgsReq === undefined)
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_PADATA_TYPE_NOSUPP, 'a TGS-REQ carries its ticket in PA-TGS-REQ, and this one has none');
  let apReq: ApReq;
  try {
    apReq = unpackApReq(paTgsReq.padataValue);
  } catch (error) {
    throw undecodableTgsApReq(paTgsReq.padataValue, (error as Error).message);
  }

  // The ticket (a TGT, or the ticket to renew) and its Authenticator (RFC 4120 3.3.2).
  const tgt = await openTicket(ctx, apReq.ticket);
  note.client = nameOf(tgt.part.cname, tgt.part.crealm);
  const cname = tgt.part.cname;
  const authenticator = openAuthenticator(ctx, apReq, tgt);
  checkBodyChecksum(authenticator, tgt.part.key, req.reqBodyBytes, cname);
  const replyKey = authenticator.subkey ?? tgt.part.key;
  const replyUsage = authenticator.subkey === undefined ? KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY : KEY_USAGE.TGS_REP_ENC_PART_SUBKEY;
  if (!isSupportedEtype(replyKey.keytype))
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_ETYPE_NOSUPP, `the Authenticator's subkey is of etype ${replyKey.keytype}, which is not supported`, { cname });

  for (const [option, why] of REFUSED_TGS_OPTIONS) if ((body.kdcOptions & option) !== 0) throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_BADOPTION, why, { cname });
  const renew = (body.kdcOptions & KDC_OPTIONS.RENEW) !== 0;
  if (!renew && tgt.service !== db.krbtgt)
    throw new KdcRefusal(
      KRB_ERROR_CODE.KDC_ERR_POLICY,
      `the ticket in PA-TGS-REQ is for ${tgt.service.name}, not a TGT (krbtgt/${db.realm}); only RENEW takes a service ticket`,
      { cname },
    );
  const issued = renew ? renewed(ctx, body, tgt, cname) : await granted(ctx, req, tgt, authenticator, cname, note);

  const { part, ticketService, sname } = issued;
  const ticket = sealTicket(ticketService, await keysOf(ticketService, db.realm), part, body.realm, sname);
  note.etype = part.key.keytype;
  const encPart = packEncKdcRepPart({
    kind: 'EncTGSRepPart',
    key: part.key,
    lastReq: [{ lrType: LR_TYPE.NONE, lrValue: kerberosTime(now) }],
    nonce: body.nonce,
    flags: part.flags,
    authtime: part.authtime,
    starttime: part.starttime!,
    endtime: part.endtime,
    ...(part.renewTill === undefined ? {} : { renewTill: part.renewTill }),
    srealm: body.realm,
    sname,
    ...(part.caddr === undefined ? {} : { caddr: part.caddr }),
  });
  return packKdcRep({
    msgType: KRB_MSG_TYPE.TGS_REP,
    crealm: tgt.part.crealm,
    cname,
    ticket,
    encPart: { etype: replyKey.keytype, cipher: encrypt(replyKey, replyUsage, encPart) },
  });
}

/** What a TGS-REQ makes: the new ticket's contents, the principal whose key seals it, and its name as the reply gives it. */
interface Issued {
  part: EncTicketPart;
  ticketService: OpenedTicket['service'];
  sname: PrincipalName;
}

/** The Authenticator of PA-TGS-REQ's AP-REQ, decrypted with the ticket's session key and checked against it. */
function openAuthenticator(ctx: ExchangeContext, apReq: ApReq, tgt: OpenedTicket): Authenticator {
  const sessionKey = tgt.part.key;
  const cname = tgt.part.cname;
  if (apReq.authenticator.etype !== sessionKey.keytype)
    throw new KdcRefusal(
      KRB_ERROR_CODE.KRB_AP_ERR_BAD_INTEGRITY,
      `the Authenticator is of etype ${apReq.authenticator.etype}, the session key of ${sessionKey.keytype}`,
      { cname },
    );
  let authenticator: Authenticator;
  try {
    authenticator = unpackAuthenticator(decrypt(sessionKey, KEY_USAGE.TGS_REQ_AUTHENTICATOR, apReq.authenticator.cipher));
  } catch {
    throw new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_BAD_INTEGRITY, "the Authenticator does not decrypt with the ticket's session key", { cname });
  }
  if (!sameRealm(authenticator.crealm, tgt.part.crealm) || !sameName(authenticator.cname, cname))
    throw new KdcRefusal(
      KRB_ERROR_CODE.KRB_AP_ERR_BADMATCH,
      `the Authenticator is ${nameOf(authenticator.cname, authenticator.crealm)}'s, the ticket ${nameOf(cname, tgt.part.crealm)}'s`,
      { cname },
    );
  const at = authenticator.ctime.getTime() + Math.floor(authenticator.cusec / 1000);
  if (Math.abs(at - ctx.now) > ctx.policy.clockSkewMs)
    throw new KdcRefusal(
      KRB_ERROR_CODE.KRB_AP_ERR_SKEW,
      `Clock skew too great: the Authenticator's time is ${Math.round((at - ctx.now) / 1000)} s off the KDC's`,
      { cname },
    );
  return authenticator;
}

/** PA-TGS-REQ's checksum (RFC 4120 5.5.1, key usage 6): a keyed checksum of the req-body's bytes, in the session key. */
function checkBodyChecksum(authenticator: Authenticator, sessionKey: EncryptionKey, reqBodyBytes: Uint8Array | undefined, cname: PrincipalName): void {
  const cksum = authenticator.cksum;
  if (cksum === undefined) throw new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_INAPP_CKSUM, 'the Authenticator has no checksum of the req-body', { cname });
  let keyedWith: number;
  try {
    keyedWith = checksumTypeInfo(cksum.cksumtype).etype;
  } catch {
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_SUMTYPE_NOSUPP, `checksum type ${cksum.cksumtype} is not supported`, { cname });
  }
  if (keyedWith !== sessionKey.keytype)
    throw new KdcRefusal(
      KRB_ERROR_CODE.KRB_AP_ERR_INAPP_CKSUM,
      `checksum type ${cksum.cksumtype} is not keyed with a session key of etype ${sessionKey.keytype}`,
      { cname },
    );
  let valid = false;
  try {
    valid = reqBodyBytes !== undefined && verifyChecksum(cksum.cksumtype, sessionKey, KEY_USAGE.TGS_REQ_AUTHENTICATOR_CKSUM, reqBodyBytes, cksum.checksum);
  } catch {
    valid = false;
  }
  if (!valid)
    throw new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_MODIFIED, "the req-body does not match the Authenticator's checksum (changed on the way)", { cname });
}

/** A new ticket for the service the request names, from the TGT (RFC 4120 3.3.3). */
async function granted(
  ctx: ExchangeContext,
  req: KdcReq,
  tgt: OpenedTicket,
  authenticator: Authenticator,
  cname: PrincipalName,
  note: RequestNote,
): Promise<Issued> {
  const { db, policy, now } = ctx;
  const body = req.reqBody;
  if (body.sname === undefined) throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_S_PRINCIPAL_UNKNOWN, 'the TGS-REQ names no service (sname)', { cname });
  const service = db.lookup(body.sname.nameString);
  if (service === undefined) {
    const crossRealm = isTgsName(body.sname.nameString) ? ' (a TGT for another realm: cross-realm is not implemented)' : '';
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_S_PRINCIPAL_UNKNOWN, `Server '${note.server}' not found in Kerberos database${crossRealm}`, { cname });
  }
  const serviceKeys = await keysOf(service, db.realm);
  const sessionEtype = chooseEtype(body.etype, new Set(serviceKeys.keys()), note.server ?? service.name);
  const options = body.kdcOptions;
  const tgtFlags = tgt.part.flags;
  const start = now;
  const till = requestedTime(body.till);
  if (till <= start) throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_NEVER_VALID, `till (${body.till.toISOString()}) is already past`, { cname });
  const end = Math.min(till, tgt.part.endtime.getTime(), start + policy.maxLifeMs);

  // Flags the TGT allows, as asked (RFC 4120 2.6, 2.8); what the TGT proves is carried over.
  let flags = tgtFlags & (TICKET_FLAGS.PRE_AUTHENT | TICKET_FLAGS.HW_AUTHENT);
  // The one realm's transited path is empty, and so checked (MIT's KDC sets it on the tickets it issues in its realm).
  flags |= TICKET_FLAGS.TRANSITED_POLICY_CHECKED;
  if ((options & KDC_OPTIONS.FORWARDABLE) !== 0 && (tgtFlags & TICKET_FLAGS.FORWARDABLE) !== 0) flags |= TICKET_FLAGS.FORWARDABLE;
  if ((options & KDC_OPTIONS.PROXIABLE) !== 0 && (tgtFlags & TICKET_FLAGS.PROXIABLE) !== 0) flags |= TICKET_FLAGS.PROXIABLE;
  let caddr = tgt.part.caddr;
  if ((options & KDC_OPTIONS.FORWARDED) !== 0) {
    if ((tgtFlags & TICKET_FLAGS.FORWARDABLE) === 0)
      throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_BADOPTION, 'FORWARDED asked of a TGT that is not forwardable', { cname });
    flags |= TICKET_FLAGS.FORWARDED;
    caddr = body.addresses;
  } else if ((tgtFlags & TICKET_FLAGS.FORWARDED) !== 0) flags |= TICKET_FLAGS.FORWARDED;
  // Renewable only as far as the TGT is (RFC 4120 2.3).
  const renewTill =
    (tgtFlags & TICKET_FLAGS.RENEWABLE) !== 0 && tgt.part.renewTill !== undefined
      ? renewUntil(options, body.rtime, till, end, Math.min(tgt.part.renewTill.getTime(), start + policy.maxRenewMs))
      : undefined;
  if (renewTill !== undefined) flags |= TICKET_FLAGS.RENEWABLE;

  // What the TGT authorizes, then what the client asks to add (RFC 4120 5.4.1: enc-authorization-data).
  const authorizationData: AuthorizationDataEntry[] = [...(tgt.part.authorizationData ?? [])];
  if (body.encAuthorizationData !== undefined) authorizationData.push(...openAuthorizationData(body.encAuthorizationData, authenticator, tgt, cname));

  const part: EncTicketPart = {
    flags: flags >>> 0,
    key: makeRandomKey(sessionEtype),
    crealm: tgt.part.crealm,
    cname,
    transited: tgt.part.transited,
    authtime: tgt.part.authtime,
    starttime: kerberosTime(start),
    endtime: kerberosTime(end),
    ...(renewTill === undefined ? {} : { renewTill: kerberosTime(renewTill) }),
    ...(caddr === undefined ? {} : { caddr }),
    ...(authorizationData.length === 0 ? {} : { authorizationData }),
  };
  return { part, ticketService: service, sname: body.sname };
}

/** The ticket renewed (RFC 4120 3.3.3.1): the same ticket, its life starting again now, its session key kept. */
function renewed(ctx: ExchangeContext, body: KdcReq['reqBody'], ticket: OpenedTicket, cname: PrincipalName): Issued {
  const { now } = ctx;
  const old = ticket.part;
  if ((old.flags & TICKET_FLAGS.RENEWABLE) === 0 || old.renewTill === undefined)
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_BADOPTION, `RENEW asked of a ticket for ${ticket.service.name} that is not renewable`, { cname });
  if (old.renewTill.getTime() < now)
    throw new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_TKT_EXPIRED, `the ticket could be renewed until ${old.renewTill.toISOString()}, no longer`, { cname });
  if (body.sname !== undefined && !sameName(body.sname, ticket.service.components))
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_SERVER_NOMATCH, `RENEW names ${body.sname.nameString.join('/')}, the ticket is for ${ticket.service.name}`, {
      cname,
    });
  const life = old.endtime.getTime() - (old.starttime ?? old.authtime).getTime();
  const end = Math.min(old.renewTill.getTime(), now + life);
  const part: EncTicketPart = {
    ...old,
    // A renewed ticket comes from the TGS, not the AS.
    flags: (old.flags & ~TICKET_FLAGS.INITIAL) >>> 0,
    starttime: kerberosTime(now),
    endtime: kerberosTime(end),
  };
  return { part, ticketService: ticket.service, sname: body.sname ?? { nameType: ticket.service.nameType, nameString: [...ticket.service.components] } };
}

/** enc-authorization-data: sealed in the subkey (usage 5) or the session key (usage 4), an AuthorizationData inside. */
function openAuthorizationData(
  encrypted: NonNullable<KdcReq['reqBody']['encAuthorizationData']>,
  authenticator: Authenticator,
  tgt: OpenedTicket,
  cname: PrincipalName,
): AuthorizationDataEntry[] {
  const [key, usage] =
    authenticator.subkey !== undefined ? [authenticator.subkey, KEY_USAGE.TGS_REQ_AD_SUBKEY] : [tgt.part.key, KEY_USAGE.TGS_REQ_AD_SESSION_KEY];
  try {
    return unpackAuthorizationData(decrypt(key, usage, encrypted.cipher));
  } catch {
    throw new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_BAD_INTEGRITY, 'enc-authorization-data does not decrypt to an AuthorizationData', { cname });
  }
}

/** Whether two names have the same components (case ignored, as the database looks them up). */
function sameName(a: PrincipalName, b: PrincipalName | readonly string[]): boolean {
  const other = Array.isArray(b) ? b : (b as PrincipalName).nameString;
  return a.nameString.length === other.length && a.nameString.every((c, i) => c.toLowerCase() === other[i]!.toLowerCase());
}
