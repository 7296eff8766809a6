// ContextData: what the Kerberos package's LSA half hands the LSA when a context completes
// (MappedContext = TRUE), and what SpInitUserModeContext reads in the application's process. It
// carries what per-message tokens need and nothing more: the side, the GSS flags and SSPI
// attributes, the two subkeys (the initiator's, or the ticket's session key when it sent none, and
// the acceptor's, when its AP-REP made one), the first sequence numbers each way, when the context
// ends (the ticket's end), and the names. Never a password, a long-term key, a ticket or a TGT's key.
//
//    0  magic "KRCD"    4  format (u8) 1    5  side (u8: 0 initiator, 1 acceptor)
//    6  options (u16: bit 0 replay detection, bit 1 sequence detection)
//    8  GSS flags (u32)                      12 attributes (u32: ISC_RET_* or ASC_RET_*)
//   16  established (u64, FILETIME)          24 expires (u64, FILETIME)
//   32  next send number (u64)               40 next receive number (u64)
//   48  fields, each a u16 length then its bytes: initiator key (u16 etype, then the key),
//       acceptor key (empty when there is none; else the same), client name, server name (UTF-8);
//       nothing may follow the last one. All integers little-endian.

import { EmuError } from '../kit/index.js';
import { isSupportedEtype, encryptionTypeInfo, type EncryptionKey } from './crypto/index.js';
import type { Side } from './message-tokens.js';

export interface KerberosContextData {
  side: Side;
  replayDetect: boolean;
  sequenceDetect: boolean;
  gssFlags: number;
  attributes: number;
  established: bigint;
  expires: bigint;
  sendSeq: bigint;
  recvSeq: bigint;
  initiatorKey: EncryptionKey;
  acceptorKey: EncryptionKey | undefined;
  /** The client principal, alice@EXAMPLE.TEST (SECPKG_ATTR_NAMES on both sides). */
  clientName: string;
  /** The service principal, host/server.example.test@EXAMPLE.TEST. */
  serverName: string;
}

export class KerberosContextDataError extends EmuError<'BAD_CONTEXT_DATA'> {
  override readonly name = 'KerberosContextDataError';
  constructor(message: string) {
    super('BAD_CONTEXT_DATA', `Kerberos ContextData: ${message}`);
  }
}

const MAGIC = [0x4b, 0x52, 0x43, 0x44]; // "KRCD"
const UTF8 = new TextEncoder();
const FORMAT = 1;
const FIELDS_AT = 48;
const REPLAY = 0x1;
const SEQUENCE = 0x2;

function keyField(key: EncryptionKey | undefined): Uint8Array {
  if (key === undefined) return new Uint8Array(0);
  const out = new Uint8Array(2 + key.keyvalue.length);
  out[0] = key.keytype & 0xff;
  out[1] = (key.keytype >>> 8) & 0xff;
  out.set(key.keyvalue, 2);
  return out;
}

export function packContextData(d: KerberosContextData): Uint8Array {
  const fields = [keyField(d.initiatorKey), keyField(d.acceptorKey), UTF8.encode(d.clientName), UTF8.encode(d.serverName)];
  const bytes = new Uint8Array(FIELDS_AT + fields.reduce((n, f) => n + 2 + f.length, 0));
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  bytes[4] = FORMAT;
  bytes[5] = d.side === 'initiator' ? 0 : 1;
  view.setUint16(6, (d.replayDetect ? REPLAY : 0) | (d.sequenceDetect ? SEQUENCE : 0), true);
  view.setUint32(8, d.gssFlags >>> 0, true);
  view.setUint32(12, d.attributes >>> 0, true);
  view.setBigUint64(16, d.established, true);
  view.setBigUint64(24, d.expires, true);
  view.setBigUint64(32, d.sendSeq, true);
  view.setBigUint64(40, d.recvSeq, true);
  let at = FIELDS_AT;
  for (const f of fields) {
    if (f.length > 0xffff) throw new RangeError('a ContextData field exceeds 65535 bytes');
    view.setUint16(at, f.length, true);
    bytes.set(f, at + 2);
    at += 2 + f.length;
  }
  return bytes;
}

/** Reads ContextData, checking every length and every key; KerberosContextDataError when it is not such. */
export function unpackContextData(bytes: Uint8Array): KerberosContextData {
  if (!(bytes instanceof Uint8Array) || bytes.length < FIELDS_AT) throw new KerberosContextDataError(`${bytes?.length ?? 0} bytes; the header needs ${FIELDS_AT}`);
  if (MAGIC.some((b, i) => bytes[i] !== b)) throw new KerberosContextDataError('bad magic');
  if (bytes[4] !== FORMAT) throw new KerberosContextDataError(`unknown format ${bytes[4]}`);
  const side = bytes[5];
  if (side !== 0 && side !== 1) throw new KerberosContextDataError(`unknown side ${side}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const options = view.getUint16(6, true);
  if ((options & ~(REPLAY | SEQUENCE)) !== 0) throw new KerberosContextDataError(`unknown option bits 0x${options.toString(16)}`);
  let at = FIELDS_AT;
  const field = (what: string): Uint8Array => {
    if (at + 2 > bytes.length) throw new KerberosContextDataError(`the ${what} field's length runs past the end`);
    const length = view.getUint16(at, true);
    if (at + 2 + length > bytes.length) throw new KerberosContextDataError(`the ${length}-byte ${what} field runs past the end`);
    const out = bytes.slice(at + 2, at + 2 + length);
    at += 2 + length;
    return out;
  };
  const key = (what: string, optional: boolean): EncryptionKey | undefined => {
    const f = field(what);
    if (f.length === 0 && optional) return undefined;
    if (f.length < 2) throw new KerberosContextDataError(`the ${what} is missing`);
    const keytype = f[0]! | (f[1]! << 8);
    if (!isSupportedEtype(keytype)) throw new KerberosContextDataError(`the ${what} is of etype ${keytype}`);
    const keyvalue = f.slice(2);
    if (keyvalue.length !== encryptionTypeInfo(keytype).keyBytes) throw new KerberosContextDataError(`the ${what} is ${keyvalue.length} bytes`);
    f.fill(0);
    return { keytype, keyvalue };
  };
  const text = (what: string): string => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(field(what));
    } catch (error) {
      if (error instanceof KerberosContextDataError) throw error;
      throw new KerberosContextDataError(`the ${what} is not UTF-8`);
    }
  };
  const initiatorKey = key('initiator key', false)!;
  const acceptorKey = key('acceptor key', true);
  const clientName = text('client name');
  const serverName = text('server name');
  if (at !== bytes.length) throw new KerberosContextDataError(`${bytes.length - at} bytes follow the last field`);
  return {
    side: side === 0 ? 'initiator' : 'acceptor',
    replayDetect: (options & REPLAY) !== 0,
    sequenceDetect: (options & SEQUENCE) !== 0,
    gssFlags: view.getUint32(8, true),
    attributes: view.getUint32(12, true),
    established: view.getBigUint64(16, true),
    expires: view.getBigUint64(24, true),
    sendSeq: view.getBigUint64(32, true),
    recvSeq: view.getBigUint64(40, true),
    initiatorKey,
    acceptorKey,
    clientName,
    serverName,
  };
}
