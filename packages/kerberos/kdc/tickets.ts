// What both exchanges do with tickets: choose the encryption types (RFC 4120 3.1.3, 3.3.3),
// bound the times by the policy, seal an EncTicketPart in its service's key (key usage 2), and
// open one the KDC issued before (a TGT in PA-TGS-REQ, a ticket to renew).

import { decrypt, encrypt, isSupportedEtype, KEY_USAGE, type EncryptionKey } from '../crypto/index.js';
import {
  KRB_ERROR_CODE,
  packEncTicketPart,
  TICKET_FLAGS,
  TR_TYPE,
  unpackEncTicketPart,
  type EncTicketPart,
  type PrincipalName,
  type Ticket,
} from '../messages/index.js';
import type { KdcDatabase, KdcPrincipal } from './database.js';
import { KdcRefusal } from './errors.js';
import type { KdcPolicy } from './policy.js';
import { formatPrincipal, sameRealm } from './principals.js';

/** What every exchange is handed: the database, the policy and the time of the request. */
export interface ExchangeContext {
  readonly db: KdcDatabase;
  readonly policy: KdcPolicy;
  /** When the request is served, in ms since 1970. */
  readonly now: number;
}

/** Who a request was about, filled in as it is read (for the KDC's log and KRB-ERROR's names). */
export interface RequestNote {
  client?: string;
  server?: string;
  /** The etype of the ticket issued (its session key's), on success. */
  etype?: number;
}

/** The transited field of a ticket issued in the realm it is used in: empty (RFC 4120 3.3.3.2). */
export const NO_TRANSIT = { trType: TR_TYPE.DOMAIN_X500_COMPRESS, contents: new Uint8Array(0) };

/** A time as KerberosTime keeps it: whole seconds. */
export function kerberosTime(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** A KDC-REQ's till or rtime: 19700101000000Z means "as long as the KDC allows" (RFC 4120 5.4.1; MIT sends it so). */
export function requestedTime(date: Date | undefined): number {
  return date === undefined || date.getTime() === 0 ? Number.POSITIVE_INFINITY : date.getTime();
}

/** "alice@EXAMPLE.TEST" from a PrincipalName and its realm. */
export function nameOf(name: PrincipalName | undefined, realm: string): string {
  return name === undefined ? '?' : formatPrincipal(name.nameString, realm);
}

/**
 * The first etype of the client's list (its order of preference) that `has` accepts: the session
 * key's for a ticket to `server`, or the reply key's. KDC_ERR_ETYPE_NOSUPP when there is none.
 */
export function chooseEtype(asked: readonly number[], has: ReadonlySet<number> | readonly number[], what: string): number {
  const set = has instanceof Set ? has : new Set(has as readonly number[]);
  for (const etype of asked) if (isSupportedEtype(etype) && set.has(etype)) return etype;
  throw new KdcRefusal(
    KRB_ERROR_CODE.KDC_ERR_ETYPE_NOSUPP,
    `no encryption type in common: the client asked for ${asked.join(', ') || 'none'}; ${what} has keys for ${[...set].join(', ')}`,
  );
}

/** A principal's keys, or KRB_ERR_GENERIC when they could not be made (the pool failed, say). */
export async function keysOf(principal: KdcPrincipal, realm: string): Promise<ReadonlyMap<number, EncryptionKey>> {
  try {
    return await principal.ready();
  } catch (error) {
    throw new KdcRefusal(
      KRB_ERROR_CODE.KRB_ERR_GENERIC,
      `the keys of ${formatPrincipal(principal.components, realm)} could not be made: ${(error as Error).message}`,
    );
  }
}

/** Seals `part` in the service's preferred key (RFC 4120 5.3: key usage 2) as a Ticket for `realm`/`sname`. */
export function sealTicket(service: KdcPrincipal, keys: ReadonlyMap<number, EncryptionKey>, part: EncTicketPart, realm: string, sname: PrincipalName): Ticket {
  const etype = service.etypes[0]!;
  const key = keys.get(etype)!;
  return {
    realm,
    sname: { nameType: sname.nameType, nameString: [...sname.nameString] },
    encPart: { etype, kvno: service.kvno, cipher: encrypt(key, KEY_USAGE.KDC_REP_TICKET, packEncTicketPart(part)) },
  };
}

/** A ticket this KDC issued, opened: whose it is and what it says. */
export interface OpenedTicket {
  service: KdcPrincipal;
  part: EncTicketPart;
}

/**
 * Opens a ticket this KDC issued (RFC 4120 3.3.2's checks on the TGT): it must be for a principal
 * of this realm, in a key the principal has, of its current version, and decrypt; it must be
 * valid now, within the clock skew (KRB_AP_ERR_TKT_NYV, KRB_AP_ERR_TKT_EXPIRED).
 */
export async function openTicket(ctx: ExchangeContext, ticket: Ticket): Promise<OpenedTicket> {
  const { db, policy, now } = ctx;
  if (!sameRealm(ticket.realm, db.realm))
    throw new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_NOT_US, `the ticket is for realm ${ticket.realm}: cross-realm tickets are not accepted (only ${db.realm})`);
  const service = db.lookup(ticket.sname.nameString);
  if (service === undefined)
    throw new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_NOT_US, `the ticket is for ${nameOf(ticket.sname, ticket.realm)}, which is not in this KDC's database`);
  const keys = await keysOf(service, db.realm);
  const key = keys.get(ticket.encPart.etype);
  if (key === undefined || (ticket.encPart.kvno !== undefined && ticket.encPart.kvno !== service.kvno))
    throw new KdcRefusal(
      KRB_ERROR_CODE.KRB_AP_ERR_BADKEYVER,
      `the ticket is sealed with a key of etype ${ticket.encPart.etype}, kvno ${ticket.encPart.kvno ?? '(none)'}; ${service.name} has kvno ${service.kvno}, etypes ${service.etypes.join(', ')}`,
    );
  let plain: Uint8Array;
  try {
    plain = decrypt(key, KEY_USAGE.KDC_REP_TICKET, ticket.encPart.cipher);
  } catch {
    throw new KdcRefusal(
      KRB_ERROR_CODE.KRB_AP_ERR_BAD_INTEGRITY,
      `the ticket for ${service.name} does not decrypt with its key (altered, or not issued by this KDC)`,
    );
  }
  let part: EncTicketPart;
  try {
    part = unpackEncTicketPart(plain);
  } catch (error) {
    throw new KdcRefusal(KRB_ERROR_CODE.KRB_ERR_GENERIC, `the ticket's EncTicketPart is malformed: ${(error as Error).message}`);
  }
  const start = (part.starttime ?? part.authtime).getTime();
  if ((part.flags & TICKET_FLAGS.INVALID) !== 0 || start > now + policy.clockSkewMs)
    throw new KdcRefusal(
      KRB_ERROR_CODE.KRB_AP_ERR_TKT_NYV,
      `the ticket for ${service.name} is not yet valid (it starts ${part.starttime?.toISOString() ?? 'later'})`,
    );
  if (part.endtime.getTime() < now - policy.clockSkewMs)
    throw new KdcRefusal(KRB_ERROR_CODE.KRB_AP_ERR_TKT_EXPIRED, `the ticket for ${service.name} expired at ${part.endtime.toISOString()}`);
  return { service, part };
}
