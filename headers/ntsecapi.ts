// ntsecapi.h: what an application sends the Kerberos package through LsaCallAuthenticationPackage
// (KERB_PROTOCOL_MESSAGE_TYPE and the messages sspi-emu's Kerberos answers), and what it gets back.
// Values from the Microsoft docs (ne-ntsecapi-kerb_protocol_message_type, ns-ntsecapi-kerb_query_tkt_cache_request,
// kerb_query_tkt_cache_response, kerb_ticket_cache_info(_ex), kerb_purge_tkt_cache_request).
//
// How the C structures become bytes here: the x64 layout (LUID: LowPart u32, HighPart i32;
// LARGE_INTEGER: i64; UNICODE_STRING: Length u16 and MaximumLength u16 in bytes, 4 bytes of padding,
// Buffer u64; everything little-endian), with one difference Windows makes too: a buffer crossing
// the LSA boundary cannot carry pointers of one address space into another, so every
// UNICODE_STRING.Buffer here is an offset from the start of the buffer it is in (0: no string).
// Windows' Kerberos relocates a submit buffer's pointers by ClientBufferBase the same way; here
// ClientBufferBase is 0. The strings are UTF-16LE, after the fixed part.
//
// Readers check every offset and length against the buffer before reading, and answer undefined
// for a buffer that is not one (the package then answers STATUS_INVALID_PARAMETER).

import type { LUID } from './ntsecpkg.js';

/** KERB_PROTOCOL_MESSAGE_TYPE (ntsecapi.h), every member in the header's order. */
export const KERB_PROTOCOL_MESSAGE_TYPE = {
  KerbDebugRequestMessage: 0,
  KerbQueryTicketCacheMessage: 1,
  KerbChangeMachinePasswordMessage: 2,
  KerbVerifyPacMessage: 3,
  KerbRetrieveTicketMessage: 4,
  KerbUpdateAddressesMessage: 5,
  KerbPurgeTicketCacheMessage: 6,
  KerbChangePasswordMessage: 7,
  KerbRetrieveEncodedTicketMessage: 8,
  KerbDecryptDataMessage: 9,
  KerbAddBindingCacheEntryMessage: 10,
  KerbSetPasswordMessage: 11,
  KerbSetPasswordExMessage: 12,
  KerbVerifyCredentialsMessage: 13,
  KerbQueryTicketCacheExMessage: 14,
  KerbPurgeTicketCacheExMessage: 15,
  KerbRefreshSmartcardCredentialsMessage: 16,
  KerbAddExtraCredentialsMessage: 17,
  KerbQuerySupplementalCredentialsMessage: 18,
  KerbTransferCredentialsMessage: 19,
  KerbQueryTicketCacheEx2Message: 20,
  KerbSubmitTicketMessage: 21,
  KerbAddExtraCredentialsExMessage: 22,
  KerbQueryKdcProxyCacheMessage: 23,
  KerbPurgeKdcProxyCacheMessage: 24,
  KerbQueryTicketCacheEx3Message: 25,
  KerbCleanupMachinePkinitCredsMessage: 26,
  KerbAddBindingCacheEntryExMessage: 27,
  KerbQueryBindingCacheMessage: 28,
  KerbPurgeBindingCacheMessage: 29,
  KerbPinKdcMessage: 30,
  KerbUnpinAllKdcsMessage: 31,
  KerbQueryDomainExtendedPoliciesMessage: 32,
  KerbQueryS4U2ProxyCacheMessage: 33,
  KerbRetrieveKeyTabMessage: 34,
  KerbRefreshPolicyMessage: 35,
  KerbPrintCloudKerberosDebugMessage: 36,
} as const;

/** The name of a KERB_PROTOCOL_MESSAGE_TYPE value, or undefined for a value outside the enumeration. */
export function kerbMessageTypeName(value: number): string | undefined {
  for (const [name, v] of Object.entries(KERB_PROTOCOL_MESSAGE_TYPE)) if (v === value) return name;
  return undefined;
}

/** KERB_TICKET_FLAGS_* (ntsecapi.h): RFC 4120's TicketFlags, bit 0 the most significant. */
export const KERB_TICKET_FLAGS = {
  reserved: 0x80000000,
  forwardable: 0x40000000,
  forwarded: 0x20000000,
  proxiable: 0x10000000,
  proxy: 0x08000000,
  may_postdate: 0x04000000,
  postdated: 0x02000000,
  invalid: 0x01000000,
  renewable: 0x00800000,
  initial: 0x00400000,
  pre_authent: 0x00200000,
  hw_authent: 0x00100000,
  ok_as_delegate: 0x00040000,
  name_canonicalize: 0x00010000,
  reserved1: 0x00000001,
} as const;

/**
 * klist's name of an encryption type (KERB_ETYPE_AES256_CTS_HMAC_SHA1_96, 18: "AES-256-CTS-HMAC-SHA1-96"),
 * or its number for one it has no name for.
 */
export function kerbEtypeName(etype: number): string {
  switch (etype) {
    case 17:
      return 'AES-128-CTS-HMAC-SHA1-96';
    case 18:
      return 'AES-256-CTS-HMAC-SHA1-96';
    case 19:
      return 'AES-128-CTS-HMAC-SHA256-128';
    case 20:
      return 'AES-256-CTS-HMAC-SHA384-192';
    default:
      return `etype ${etype}`;
  }
}

/** MICROSOFT_KERBEROS_NAME_A and MSV1_0_PACKAGE_NAME: the names LsaLookupAuthenticationPackage knows the two packages by. */
export const MICROSOFT_KERBEROS_NAME_A = 'Kerberos';
export const MSV1_0_PACKAGE_NAME = 'MICROSOFT_AUTHENTICATION_PACKAGE_V1_0';

/** KERB_QUERY_TKT_CACHE_REQUEST: MessageType (KerbQueryTicketCache(Ex)Message), LogonId (0: the caller's own). */
export interface KerbQueryTktCacheRequest {
  MessageType: number;
  LogonId: LUID;
}

/**
 * KERB_PURGE_TKT_CACHE_REQUEST: MessageType (KerbPurgeTicketCacheMessage), LogonId (0: the caller's
 * own), ServerName and RealmName: the tickets of that service; both empty: every ticket.
 */
export interface KerbPurgeTktCacheRequest {
  MessageType: number;
  LogonId: LUID;
  ServerName: string;
  RealmName: string;
}

/** What both KERB_TICKET_CACHE_INFO forms say of a ticket besides its names. Times are FILETIMEs (0: none). */
export interface KerbTicketTimes {
  StartTime: bigint;
  EndTime: bigint;
  RenewTime: bigint;
  /** The session key's encryption type (KERB_ETYPE_*). */
  EncryptionType: number;
  /** KERB_TICKET_FLAGS_*. */
  TicketFlags: number;
}

/** KERB_TICKET_CACHE_INFO: one ticket as KerbQueryTicketCacheMessage lists it. */
export interface KerbTicketCacheInfo extends KerbTicketTimes {
  ServerName: string;
  RealmName: string;
}

/** KERB_TICKET_CACHE_INFO_EX: one ticket as KerbQueryTicketCacheExMessage lists it, with its client. */
export interface KerbTicketCacheInfoEx extends KerbTicketTimes {
  ClientName: string;
  ClientRealm: string;
  ServerName: string;
  ServerRealm: string;
}

/** KERB_QUERY_TKT_CACHE_RESPONSE and KERB_QUERY_TKT_CACHE_EX_RESPONSE. */
export interface KerbQueryTktCacheResponse<T extends KerbTicketTimes = KerbTicketCacheInfo> {
  MessageType: number;
  Tickets: T[];
}

/** sizeof(KERB_QUERY_TKT_CACHE_REQUEST): MessageType at 0, LogonId at 4. */
export const KERB_QUERY_TKT_CACHE_REQUEST_SIZE = 12;
/** sizeof(KERB_PURGE_TKT_CACHE_REQUEST): MessageType 0, LogonId 4, ServerName 16, RealmName 32. */
export const KERB_PURGE_TKT_CACHE_REQUEST_SIZE = 48;
/** The responses' fixed part: MessageType at 0, CountOfTickets at 4, Tickets at 8. */
const RESPONSE_HEADER_SIZE = 8;
/** sizeof(KERB_TICKET_CACHE_INFO): ServerName 0, RealmName 16, StartTime 32, EndTime 40, RenewTime 48, EncryptionType 56, TicketFlags 60. */
export const KERB_TICKET_CACHE_INFO_SIZE = 64;
/** sizeof(KERB_TICKET_CACHE_INFO_EX): ClientName 0, ClientRealm 16, ServerName 32, ServerRealm 48, times 64/72/80, EncryptionType 88, TicketFlags 92. */
export const KERB_TICKET_CACHE_INFO_EX_SIZE = 96;
/** UNICODE_STRING.Length is a USHORT of bytes: at most 32767 characters. */
const MAX_UNICODE_STRING_BYTES = 0xfffe;

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A LUID at `at`: HighPart << 32 | LowPart, as LUIDs are bigints here. */
function readLuid(view: DataView, at: number): LUID {
  return (BigInt(view.getInt32(at + 4, true)) << 32n) | BigInt(view.getUint32(at, true));
}

function writeLuid(view: DataView, at: number, luid: LUID): void {
  view.setUint32(at, Number(BigInt.asUintN(32, luid)), true);
  view.setInt32(at + 4, Number(BigInt.asIntN(32, luid >> 32n)), true);
}

/** The MessageType of a submit buffer, or undefined when it is too short to hold one. */
export function kerbMessageType(submit: Uint8Array): number | undefined {
  return submit.byteLength < 4 ? undefined : viewOf(submit).getUint32(0, true);
}

/** A UNICODE_STRING at `at` whose Buffer is an offset into `bytes`; undefined when any part of it lies. */
function readUnicodeString(bytes: Uint8Array, view: DataView, at: number): string | undefined {
  const length = view.getUint16(at, true);
  const maximum = view.getUint16(at + 2, true);
  const offset = view.getBigUint64(at + 8, true);
  if (length % 2 !== 0 || length > maximum) return undefined;
  if (length === 0) return '';
  if (offset === 0n || offset > BigInt(bytes.byteLength) || Number(offset) + length > bytes.byteLength) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset + Number(offset), length).toString('utf16le');
}

/** Lays out strings after a fixed part: each UNICODE_STRING names its offset. */
class StringArea {
  private readonly parts: Uint8Array[] = [];
  private next: number;

  constructor(start: number) {
    this.next = start;
  }

  /** Writes the UNICODE_STRING at `at` for `text`; its characters go in the area. */
  add(view: DataView, at: number, text: string): void {
    const encoded = Buffer.from(text, 'utf16le');
    if (encoded.byteLength > MAX_UNICODE_STRING_BYTES) throw new RangeError('a UNICODE_STRING holds at most 32767 characters');
    view.setUint16(at, encoded.byteLength, true);
    view.setUint16(at + 2, encoded.byteLength, true);
    view.setBigUint64(at + 8, encoded.byteLength === 0 ? 0n : BigInt(this.next), true);
    this.parts.push(encoded);
    this.next += encoded.byteLength;
  }

  get end(): number {
    return this.next;
  }

  /** The fixed part and the strings, one buffer. */
  join(fixed: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.next);
    out.set(fixed, 0);
    let at = fixed.byteLength;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}

export function packKerbQueryTktCacheRequest(request: KerbQueryTktCacheRequest): Uint8Array {
  const bytes = new Uint8Array(KERB_QUERY_TKT_CACHE_REQUEST_SIZE);
  const view = viewOf(bytes);
  view.setUint32(0, request.MessageType >>> 0, true);
  writeLuid(view, 4, request.LogonId);
  return bytes;
}

/** A KERB_QUERY_TKT_CACHE_REQUEST, or undefined for a buffer shorter than one. */
export function unpackKerbQueryTktCacheRequest(bytes: Uint8Array): KerbQueryTktCacheRequest | undefined {
  if (bytes.byteLength < KERB_QUERY_TKT_CACHE_REQUEST_SIZE) return undefined;
  const view = viewOf(bytes);
  return { MessageType: view.getUint32(0, true), LogonId: readLuid(view, 4) };
}

export function packKerbPurgeTktCacheRequest(request: KerbPurgeTktCacheRequest): Uint8Array {
  const fixed = new Uint8Array(KERB_PURGE_TKT_CACHE_REQUEST_SIZE);
  const view = viewOf(fixed);
  view.setUint32(0, request.MessageType >>> 0, true);
  writeLuid(view, 4, request.LogonId);
  const strings = new StringArea(KERB_PURGE_TKT_CACHE_REQUEST_SIZE);
  strings.add(view, 16, request.ServerName);
  strings.add(view, 32, request.RealmName);
  return strings.join(fixed);
}

/** A KERB_PURGE_TKT_CACHE_REQUEST, or undefined when it is short or a string's length or offset lies. */
export function unpackKerbPurgeTktCacheRequest(bytes: Uint8Array): KerbPurgeTktCacheRequest | undefined {
  if (bytes.byteLength < KERB_PURGE_TKT_CACHE_REQUEST_SIZE) return undefined;
  const view = viewOf(bytes);
  const ServerName = readUnicodeString(bytes, view, 16);
  const RealmName = readUnicodeString(bytes, view, 32);
  if (ServerName === undefined || RealmName === undefined) return undefined;
  return { MessageType: view.getUint32(0, true), LogonId: readLuid(view, 4), ServerName, RealmName };
}

function writeTimes(view: DataView, at: number, info: KerbTicketTimes): void {
  view.setBigInt64(at, BigInt.asIntN(64, info.StartTime), true);
  view.setBigInt64(at + 8, BigInt.asIntN(64, info.EndTime), true);
  view.setBigInt64(at + 16, BigInt.asIntN(64, info.RenewTime), true);
  view.setInt32(at + 24, info.EncryptionType | 0, true);
  view.setUint32(at + 28, info.TicketFlags >>> 0, true);
}

function readTimes(view: DataView, at: number): KerbTicketTimes {
  return {
    StartTime: view.getBigInt64(at, true),
    EndTime: view.getBigInt64(at + 8, true),
    RenewTime: view.getBigInt64(at + 16, true),
    EncryptionType: view.getInt32(at + 24, true),
    TicketFlags: view.getUint32(at + 28, true),
  };
}

/** KERB_QUERY_TKT_CACHE_RESPONSE: the header, KERB_TICKET_CACHE_INFO[CountOfTickets], then the strings. */
export function packKerbQueryTktCacheResponse(response: KerbQueryTktCacheResponse): Uint8Array {
  return packCacheResponse(response, KERB_TICKET_CACHE_INFO_SIZE, (view, at, t, strings) => {
    strings.add(view, at, t.ServerName);
    strings.add(view, at + 16, t.RealmName);
    writeTimes(view, at + 32, t);
  });
}

/** KERB_QUERY_TKT_CACHE_EX_RESPONSE: the header, KERB_TICKET_CACHE_INFO_EX[CountOfTickets], then the strings. */
export function packKerbQueryTktCacheExResponse(response: KerbQueryTktCacheResponse<KerbTicketCacheInfoEx>): Uint8Array {
  return packCacheResponse(response, KERB_TICKET_CACHE_INFO_EX_SIZE, (view, at, t, strings) => {
    strings.add(view, at, t.ClientName);
    strings.add(view, at + 16, t.ClientRealm);
    strings.add(view, at + 32, t.ServerName);
    strings.add(view, at + 48, t.ServerRealm);
    writeTimes(view, at + 64, t);
  });
}

/** Either response: its header, an entry of `entrySize` per ticket (written by `entry`), then the strings the entries point to. */
function packCacheResponse<T extends KerbTicketTimes>(
  response: KerbQueryTktCacheResponse<T>,
  entrySize: number,
  entry: (view: DataView, at: number, ticket: T, strings: StringArea) => void,
): Uint8Array {
  const size = RESPONSE_HEADER_SIZE + response.Tickets.length * entrySize;
  const fixed = new Uint8Array(size);
  const view = viewOf(fixed);
  view.setUint32(0, response.MessageType >>> 0, true);
  view.setUint32(4, response.Tickets.length, true);
  const strings = new StringArea(size);
  response.Tickets.forEach((t, i) => entry(view, RESPONSE_HEADER_SIZE + i * entrySize, t, strings));
  return strings.join(fixed);
}

/** The ticket count of a response, if the buffer holds that many entries of `entrySize`. */
function responseCount(bytes: Uint8Array, view: DataView, entrySize: number): number | undefined {
  if (bytes.byteLength < RESPONSE_HEADER_SIZE) return undefined;
  const count = view.getUint32(4, true);
  return count > (bytes.byteLength - RESPONSE_HEADER_SIZE) / entrySize ? undefined : count;
}

/** A KERB_QUERY_TKT_CACHE_RESPONSE as an application reads it; undefined when it is not one. */
export function unpackKerbQueryTktCacheResponse(bytes: Uint8Array): KerbQueryTktCacheResponse | undefined {
  const view = viewOf(bytes);
  const count = responseCount(bytes, view, KERB_TICKET_CACHE_INFO_SIZE);
  if (count === undefined) return undefined;
  const Tickets: KerbTicketCacheInfo[] = [];
  for (let i = 0; i < count; i++) {
    const at = RESPONSE_HEADER_SIZE + i * KERB_TICKET_CACHE_INFO_SIZE;
    const ServerName = readUnicodeString(bytes, view, at);
    const RealmName = readUnicodeString(bytes, view, at + 16);
    if (ServerName === undefined || RealmName === undefined) return undefined;
    Tickets.push({ ServerName, RealmName, ...readTimes(view, at + 32) });
  }
  return { MessageType: view.getUint32(0, true), Tickets };
}

/** A KERB_QUERY_TKT_CACHE_EX_RESPONSE as an application reads it; undefined when it is not one. */
export function unpackKerbQueryTktCacheExResponse(bytes: Uint8Array): KerbQueryTktCacheResponse<KerbTicketCacheInfoEx> | undefined {
  const view = viewOf(bytes);
  const count = responseCount(bytes, view, KERB_TICKET_CACHE_INFO_EX_SIZE);
  if (count === undefined) return undefined;
  const Tickets: KerbTicketCacheInfoEx[] = [];
  for (let i = 0; i < count; i++) {
    const at = RESPONSE_HEADER_SIZE + i * KERB_TICKET_CACHE_INFO_EX_SIZE;
    const names = [0, 16, 32, 48].map((o) => readUnicodeString(bytes, view, at + o));
    if (names.some((n) => n === undefined)) return undefined;
    const [ClientName, ClientRealm, ServerName, ServerRealm] = names as string[];
    Tickets.push({ ClientName: ClientName!, ClientRealm: ClientRealm!, ServerName: ServerName!, ServerRealm: ServerRealm!, ...readTimes(view, at + 64) });
  }
  return { MessageType: view.getUint32(0, true), Tickets };
}
