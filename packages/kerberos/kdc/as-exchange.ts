// The Authentication Service exchange (RFC 4120 3.1): an AS-REQ for a ticket (a TGT, or any
// service's), answered with an AS-REP whose enc-part is sealed in the client's long-term key.
//
// Pre-authentication is PA-ENC-TIMESTAMP (5.2.7.2): a principal that requires it (the default, as
// in Active Directory) and sent none gets KDC_ERR_PREAUTH_REQUIRED with METHOD-DATA naming
// PA-ENC-TIMESTAMP and PA-ETYPE-INFO2 (the etypes it has keys for among those the client asked
// for, in the client's order, each with its salt), so that the client can make its key. A
// timestamp that does not decrypt is KDC_ERR_PREAUTH_FAILED (with the same METHOD-DATA, as MIT's
// KDC sends it); one off by more than the clock skew KRB_AP_ERR_SKEW. FAST (RFC 6113) is neither
// offered nor accepted: MIT's client armors its TGS requests when a KDC advertises it, so this one
// never does. A client that asks for RFC 6806's PA-REQ-ENC-PA-REP gets the checksum of its request
// in the reply's encrypted-pa-data, so that a request altered on the way is detected.

import { decrypt, encrypt, KEY_USAGE, makeChecksum, makeRandomKey, requiredChecksumType, type EncryptionKey } from '../crypto/index.js';
import {
  KDC_OPTIONS,
  KRB_ERROR_CODE,
  KRB_MSG_TYPE,
  LR_TYPE,
  PA_TYPE,
  packChecksum,
  packEncKdcRepPart,
  packEtypeInfo2,
  packKdcRep,
  packMethodData,
  TICKET_FLAGS,
  unpackEncryptedData,
  unpackPaEncTsEnc,
  type EncTicketPart,
  type KdcReq,
  type PaData,
} from '../messages/index.js';
import type { KdcPrincipal } from './database.js';
import { KdcRefusal } from './errors.js';
import { isTgsName, sameRealm } from './principals.js';
import { chooseEtype, type ExchangeContext, kerberosTime, keysOf, nameOf, NO_TRANSIT, type RequestNote, requestedTime, sealTicket } from './tickets.js';

/** Options an AS-REQ may not carry: they belong to the TGS exchange, or to what is not implemented (postdating, anonymity). */
const REFUSED_AS_OPTIONS: ReadonlyArray<[number, string]> = [
  [KDC_OPTIONS.FORWARDED, 'FORWARDED belongs to a TGS-REQ'],
  [KDC_OPTIONS.PROXY, 'PROXY belongs to a TGS-REQ'],
  [KDC_OPTIONS.RENEW, 'RENEW belongs to a TGS-REQ'],
  [KDC_OPTIONS.VALIDATE, 'VALIDATE belongs to a TGS-REQ'],
  [KDC_OPTIONS.ENC_TKT_IN_SKEY, 'ENC-TKT-IN-SKEY belongs to a TGS-REQ'],
  [KDC_OPTIONS.CNAME_IN_ADDL_TKT, 'CNAME-IN-ADDL-TKT belongs to a TGS-REQ'],
  [KDC_OPTIONS.ALLOW_POSTDATE, 'postdated tickets are not issued (not implemented)'],
  [KDC_OPTIONS.POSTDATED, 'postdated tickets are not issued (not implemented)'],
  [KDC_OPTIONS.REQUEST_ANONYMOUS, 'anonymous tickets (RFC 8062) are not implemented'],
];

/** Answers an AS-REQ (already decoded; `raw` is its bytes, which PA-REQ-ENC-PA-REP's checksum covers). */
export async function asExchange(ctx: ExchangeContext, req: KdcReq, raw: Uint8Array, note: RequestNote): Promise<Uint8Array> {
  const { db, policy, now } = ctx;
  const body = req.reqBody;
  note.client = nameOf(body.cname, body.realm);
  note.server = nameOf(body.sname, body.realm);
  if (!sameRealm(body.realm, db.realm))
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_WRONG_REALM, `this KDC serves ${db.realm}, not ${body.realm} (no cross-realm)`);
  if (body.cname === undefined) throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_C_PRINCIPAL_UNKNOWN, 'the AS-REQ names no client (cname)');
  if (body.sname === undefined) throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_S_PRINCIPAL_UNKNOWN, 'the AS-REQ names no service (sname)');
  const cname = body.cname;
  const client = db.lookup(cname.nameString);
  if (client === undefined || client.kind === 'krbtgt')
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_C_PRINCIPAL_UNKNOWN, `Client '${note.client}' not found in Kerberos database`);
  const server = db.lookup(body.sname.nameString);
  if (server === undefined) {
    const crossRealm = isTgsName(body.sname.nameString) ? ' (a TGT for another realm: cross-realm is not implemented)' : '';
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_S_PRINCIPAL_UNKNOWN, `Server '${note.server}' not found in Kerberos database${crossRealm}`, { cname });
  }
  for (const [option, why] of REFUSED_AS_OPTIONS) if ((body.kdcOptions & option) !== 0) throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_BADOPTION, why, { cname });

  // The reply key: the first etype of the client's list it has a key for (RFC 4120 3.1.3).
  const clientKeys = await keysOf(client, db.realm);
  let replyEtype = chooseEtype(body.etype, new Set(clientKeys.keys()), note.client);
  const hints = (): Uint8Array => preauthHints(client, body.etype, clientKeys);

  // Pre-authentication (RFC 4120 5.2.7.2): PA-ENC-TIMESTAMP under the client's key, key usage 1.
  const encTimestamp = req.padata?.find((pa) => pa.padataType === PA_TYPE.ENC_TIMESTAMP);
  let preauthenticated = false;
  if (encTimestamp !== undefined) {
    replyEtype = checkEncTimestamp(ctx, encTimestamp, clientKeys, hints, cname);
    preauthenticated = true;
  } else if (client.requiresPreauth) {
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED, 'Additional pre-authentication required', { eData: hints(), cname });
  }
  const replyKey = clientKeys.get(replyEtype)!;

  // The ticket: a session key of the first etype of the client's list the service has a key for.
  const serverKeys = await keysOf(server, db.realm);
  const sessionEtype = chooseEtype(body.etype, new Set(serverKeys.keys()), note.server);
  const start = now;
  const till = requestedTime(body.till);
  if (body.from !== undefined && body.from.getTime() > now + policy.clockSkewMs)
    throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_CANNOT_POSTDATE, 'from is in the future: postdated tickets are not issued', { cname });
  if (till <= start) throw new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_NEVER_VALID, `till (${body.till.toISOString()}) is already past`, { cname });
  const end = Math.min(till, start + policy.maxLifeMs);
  let flags = TICKET_FLAGS.INITIAL;
  if (preauthenticated) flags |= TICKET_FLAGS.PRE_AUTHENT;
  if ((body.kdcOptions & KDC_OPTIONS.FORWARDABLE) !== 0) flags |= TICKET_FLAGS.FORWARDABLE;
  if ((body.kdcOptions & KDC_OPTIONS.PROXIABLE) !== 0) flags |= TICKET_FLAGS.PROXIABLE;
  const renewTill = renewUntil(body.kdcOptions, body.rtime, till, end, start + policy.maxRenewMs);
  if (renewTill !== undefined) flags |= TICKET_FLAGS.RENEWABLE;

  const sessionKey = makeRandomKey(sessionEtype);
  const authtime = kerberosTime(now);
  const part: EncTicketPart = {
    flags: flags >>> 0,
    key: sessionKey,
    crealm: body.realm,
    cname,
    transited: NO_TRANSIT,
    authtime,
    starttime: kerberosTime(start),
    endtime: kerberosTime(end),
    ...(renewTill === undefined ? {} : { renewTill: kerberosTime(renewTill) }),
    ...(body.addresses === undefined ? {} : { caddr: body.addresses }),
  };
  const ticket = sealTicket(server, serverKeys, part, body.realm, body.sname);

  // RFC 6806 11: the checksum of the request as it came, so that the client knows nobody changed it.
  const askedEncPaRep = req.padata?.some((pa) => pa.padataType === PA_TYPE.REQ_ENC_PA_REP) === true;
  const encryptedPaData: PaData[] | undefined = askedEncPaRep ? [encPaRep(replyKey, raw)] : undefined;
  const encPart = packEncKdcRepPart({
    kind: 'EncASRepPart',
    key: sessionKey,
    lastReq: [{ lrType: LR_TYPE.NONE, lrValue: authtime }],
    nonce: body.nonce,
    flags: (askedEncPaRep ? flags | TICKET_FLAGS.ENC_PA_REP : flags) >>> 0,
    authtime,
    starttime: part.starttime!,
    endtime: part.endtime,
    ...(part.renewTill === undefined ? {} : { renewTill: part.renewTill }),
    srealm: body.realm,
    sname: body.sname,
    ...(body.addresses === undefined ? {} : { caddr: body.addresses }),
    ...(encryptedPaData === undefined ? {} : { encryptedPaData }),
  });
  note.etype = sessionEtype;
  return packKdcRep({
    msgType: KRB_MSG_TYPE.AS_REP,
    // Without pre-authentication the client learns its salt here (RFC 4120 3.1.3).
    ...(preauthenticated ? {} : { padata: [{ padataType: PA_TYPE.ETYPE_INFO2, padataValue: packEtypeInfo2([{ etype: replyEtype, salt: client.salt }]) }] }),
    crealm: body.realm,
    cname,
    ticket,
    encPart: { etype: replyEtype, kvno: client.kvno, cipher: encrypt(replyKey, KEY_USAGE.AS_REP_ENC_PART, encPart) },
  });
}

/**
 * PREAUTH_REQUIRED's and PREAUTH_FAILED's e-data: METHOD-DATA with PA-ENC-TIMESTAMP (empty: the
 * method offered) and PA-ETYPE-INFO2, one entry per etype the client asked for and the principal
 * has a key for, in the client's order, each with the principal's salt (s2kparams left out: the
 * keys were made with each etype's default iteration count).
 */
function preauthHints(client: KdcPrincipal, asked: readonly number[], keys: ReadonlyMap<number, EncryptionKey>): Uint8Array {
  const etypes = asked.filter((e, i) => keys.has(e) && asked.indexOf(e) === i);
  return packMethodData([
    { padataType: PA_TYPE.ENC_TIMESTAMP, padataValue: new Uint8Array(0) },
    { padataType: PA_TYPE.ETYPE_INFO2, padataValue: packEtypeInfo2(etypes.map((etype) => ({ etype, salt: client.salt }))) },
  ]);
}

/** Checks PA-ENC-TIMESTAMP; the etype it was made with, which the reply is then sealed in. */
function checkEncTimestamp(
  ctx: ExchangeContext,
  pa: PaData,
  keys: ReadonlyMap<number, EncryptionKey>,
  hints: () => Uint8Array,
  cname: NonNullable<KdcReq['reqBody']['cname']>,
): number {
  const failed = (why: string): KdcRefusal => new KdcRefusal(KRB_ERROR_CODE.KDC_ERR_PREAUTH_FAILED, why, { eData: hints(), cname });
  let encrypted;
  try {
    encrypted = unpackEncryptedData(pa.padataValue);
  } catch (error) {
    throw failed(`PA-ENC-TIMESTAMP is not an EncryptedData: ${(error as Error).message}`);
  }
  const key = keys.get(encrypted.etype);
  if (key === undefined) throw failed(`PA-ENC-TIMESTAMP is encrypted with etype ${encrypted.etype}, for which the client has no key`);
  let timestamp;
  try {
    timestamp = unpackPaEncTsEnc(decrypt(key, KEY_USAGE.AS_REQ_PA_ENC_TIMESTAMP, encrypted.cipher));
  } catch {
    throw failed("Preauthentication failed: PA-ENC-TIMESTAMP does not decrypt with the client's key (a wrong password)");
  }
  const at = timestamp.patimestamp.getTime() + Math.floor((timestamp.pausec ?? 0) / 1000);
  if (Math.abs(at - ctx.now) > ctx.policy.clockSkewMs)
    throw new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_SKEW, `Clock skew too great: the client's time is ${Math.round((at - ctx.now) / 1000)} s off the KDC's`, {
      cname,
    });
  return encrypted.etype;
}

/**
 * The renew-till of a ticket (RFC 4120 3.1.3, 3.3.3; MIT's kdc_get_ticket_renewtime): RENEWABLE
 * asks for it up to rtime (absent or 19700101000000Z: as long as allowed); RENEWABLE-OK asks for a
 * renewable ticket when the life asked for (till) is longer than the one given. Bounded by
 * `limit` (the policy's renewal life; for a TGS-REQ the TGT's renew-till too); undefined when the
 * ticket is not to be renewable, or renewing could not lengthen it.
 */
export function renewUntil(options: number, rtime: Date | undefined, till: number, end: number, limit: number): number | undefined {
  let wanted: number | undefined;
  if ((options & KDC_OPTIONS.RENEWABLE) !== 0) wanted = requestedTime(rtime);
  else if ((options & KDC_OPTIONS.RENEWABLE_OK) !== 0 && till > end) wanted = till;
  if (wanted === undefined) return undefined;
  const renewTill = Math.min(wanted, limit);
  return renewTill > end ? renewTill : undefined;
}

/** PA-REQ-ENC-PA-REP's answer (RFC 6806 11): the reply key's checksum of the whole AS-REQ, key usage 56. */
function encPaRep(replyKey: EncryptionKey, raw: Uint8Array): PaData {
  const cksumtype = requiredChecksumType(replyKey.keytype);
  return {
    padataType: PA_TYPE.REQ_ENC_PA_REP,
    padataValue: packChecksum({ cksumtype, checksum: makeChecksum(cksumtype, replyKey, KEY_USAGE.AS_REQ, raw) }),
  };
}
