// What an application asks the Kerberos package through LsaCallAuthenticationPackage (the LSA's
// LsaApCallPackageUntrusted, or LsaApCallPackage from a trusted caller): the KERB_PROTOCOL_MESSAGE_TYPE
// messages of ntsecapi.h, laid out as headers/ntsecapi.ts says.
//
//   KerbQueryTicketCacheMessage     KERB_QUERY_TKT_CACHE_REQUEST -> KERB_QUERY_TKT_CACHE_RESPONSE (klist)
//   KerbQueryTicketCacheExMessage   KERB_QUERY_TKT_CACHE_REQUEST -> KERB_QUERY_TKT_CACHE_EX_RESPONSE
//   KerbPurgeTicketCacheMessage     KERB_PURGE_TKT_CACHE_REQUEST (klist purge)
//   every other message type        STATUS_NOT_IMPLEMENTED
//
// Statuses as Windows' Kerberos answers them: the call's own status says whether the message could
// be dispatched (a buffer shorter than a message type, or a type outside the enumeration:
// STATUS_INVALID_PARAMETER); once dispatched, the call succeeds and ProtocolStatus is the message's
// outcome (what Windows' klist reports as the "substatus"): a malformed request
// STATUS_INVALID_PARAMETER, another logon's LogonId from a caller without SeTcbPrivilege
// STATUS_ACCESS_DENIED, a logon the package holds nothing for STATUS_NO_SUCH_LOGON_SESSION.
//
// A reply names tickets (client, server, realms), their times, flags and session key etype: never a
// key, never a ticket's bytes. Those stay in the LSA.

import {
  KERB_PROTOCOL_MESSAGE_TYPE,
  STATUS_ACCESS_DENIED,
  STATUS_INVALID_PARAMETER,
  STATUS_NOT_IMPLEMENTED,
  STATUS_NO_SUCH_LOGON_SESSION,
  STATUS_SUCCESS,
  kerbMessageType,
  kerbMessageTypeName,
  packKerbQueryTktCacheExResponse,
  packKerbQueryTktCacheResponse,
  timeStampFromDate,
  unpackKerbPurgeTktCacheRequest,
  unpackKerbQueryTktCacheRequest,
  type KerbTicketCacheInfoEx,
  type KerbTicketTimes,
  type LsaApCallPackageResult,
  type LUID,
  type Status,
} from '../../headers/index.js';
import { formatPrincipal } from './names.js';
import type { CachedTicket, TicketCache } from './tickets.js';

/** SYSTEM_LUID (winnt.h): the logon a trusted caller outside any client call (the LSA's own) runs as. */
export const SYSTEM_LUID: LUID = 0x3e7n;

/** Who is asking: the logon the caller runs as (from its connection) and whether it holds SeTcbPrivilege. */
export interface KerberosCaller {
  readonly logonId: LUID;
  readonly tcb: boolean;
}

/** The ticket cache of a logon session, or undefined when the package holds none for it. */
export type CacheOfLogon = (logonId: LUID) => TicketCache | undefined;

/** A message outcome: the call succeeded, the message did not. */
const outcome = (ProtocolStatus: Status, ProtocolReturnBuffer?: Uint8Array): LsaApCallPackageResult =>
  ProtocolReturnBuffer === undefined
    ? { status: STATUS_SUCCESS, ProtocolStatus }
    : { status: STATUS_SUCCESS, ProtocolStatus, ProtocolReturnBuffer, ReturnBufferLength: ProtocolReturnBuffer.byteLength };

/** Answers one LsaCallAuthenticationPackage submit buffer (already the LSA's copy). */
export function kerberosCallPackage(submit: Uint8Array, caller: KerberosCaller, cacheOf: CacheOfLogon): LsaApCallPackageResult {
  const type = kerbMessageType(submit);
  if (type === undefined || kerbMessageTypeName(type) === undefined) return { status: STATUS_INVALID_PARAMETER };
  switch (type) {
    case KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheMessage:
    case KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage:
      return queryTicketCache(submit, type, caller, cacheOf);
    case KERB_PROTOCOL_MESSAGE_TYPE.KerbPurgeTicketCacheMessage:
      return purgeTicketCache(submit, caller, cacheOf);
    default:
      return { status: STATUS_NOT_IMPLEMENTED };
  }
}

/**
 * The cache a request's LogonId names: 0 is the caller's own logon; another logon's only for a
 * caller with SeTcbPrivilege (as Windows' Kerberos checks), whatever that logon holds.
 */
function cacheFor(requested: LUID, caller: KerberosCaller, cacheOf: CacheOfLogon): TicketCache | Status {
  const logonId = requested === 0n ? caller.logonId : requested;
  if (logonId !== caller.logonId && !caller.tcb) return STATUS_ACCESS_DENIED;
  return cacheOf(logonId) ?? STATUS_NO_SUCH_LOGON_SESSION;
}

function queryTicketCache(submit: Uint8Array, type: number, caller: KerberosCaller, cacheOf: CacheOfLogon): LsaApCallPackageResult {
  const request = unpackKerbQueryTktCacheRequest(submit);
  if (request === undefined) return outcome(STATUS_INVALID_PARAMETER);
  const cache = cacheFor(request.LogonId, caller, cacheOf);
  if (typeof cache === 'number') return outcome(cache);
  const tickets = cache.entries().map(describe);
  if (type === KERB_PROTOCOL_MESSAGE_TYPE.KerbQueryTicketCacheExMessage)
    return outcome(STATUS_SUCCESS, packKerbQueryTktCacheExResponse({ MessageType: type, Tickets: tickets }));
  return outcome(
    STATUS_SUCCESS,
    packKerbQueryTktCacheResponse({ MessageType: type, Tickets: tickets.map((t) => ({ ...times(t), ServerName: t.ServerName, RealmName: t.ServerRealm })) }),
  );
}

/**
 * KerbPurgeTicketCacheMessage: ServerName and RealmName both empty purge every ticket of the logon
 * (its TGT too: the next handshake does the AS exchange again); otherwise the tickets whose server
 * name (components joined by "/", as KERB_TICKET_CACHE_INFO names them) and realm match, an empty
 * one matching any, compared without regard to case as Windows compares names.
 */
function purgeTicketCache(submit: Uint8Array, caller: KerberosCaller, cacheOf: CacheOfLogon): LsaApCallPackageResult {
  const request = unpackKerbPurgeTktCacheRequest(submit);
  if (request === undefined) return outcome(STATUS_INVALID_PARAMETER);
  const cache = cacheFor(request.LogonId, caller, cacheOf);
  if (typeof cache === 'number') return outcome(cache);
  const server = request.ServerName.toUpperCase();
  const realm = request.RealmName.toUpperCase();
  if (server === '' && realm === '') cache.purge();
  else
    cache.purge((t) => (server === '' || formatPrincipal(t.server.name).toUpperCase() === server) && (realm === '' || t.server.realm.toUpperCase() === realm));
  return outcome(STATUS_SUCCESS);
}

/** KERB_TICKET_CACHE_INFO_EX of a cached ticket: names, times, flags and the session key's etype only. */
function describe(ticket: CachedTicket): KerbTicketCacheInfoEx {
  return {
    ClientName: formatPrincipal(ticket.client.name),
    ClientRealm: ticket.client.realm,
    ServerName: formatPrincipal(ticket.server.name),
    ServerRealm: ticket.server.realm,
    StartTime: timeStampFromDate(ticket.starttime ?? ticket.authtime),
    EndTime: timeStampFromDate(ticket.endtime),
    RenewTime: ticket.renewTill === undefined ? 0n : timeStampFromDate(ticket.renewTill),
    EncryptionType: ticket.sessionKey.keytype,
    TicketFlags: ticket.flags >>> 0,
  };
}

function times(t: KerbTicketTimes): KerbTicketTimes {
  return { StartTime: t.StartTime, EndTime: t.EndTime, RenewTime: t.RenewTime, EncryptionType: t.EncryptionType, TicketFlags: t.TicketFlags };
}
