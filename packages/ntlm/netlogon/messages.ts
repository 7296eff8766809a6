// The Netlogon messages between a member's LSA and its domain controller's, with MS-NRPC's names,
// opnums and fields, in a framing of our own: not DCE/RPC and NDR (a whole RPC runtime for three
// calls), but each message a length-prefixed frame on a TCP connection, its fields little-endian
// in a fixed order, strings UTF-16LE with a byte count. What the calls carry is MS-NRPC's:
//
//   NetrServerReqChallenge   (opnum 4)  -> ClientChallenge;  <- ServerChallenge
//   NetrServerAuthenticate3  (opnum 26) -> AccountName ("MEMBER$"), SecureChannelType,
//                                          ClientCredential, NegotiateFlags;
//                                       <- ServerCredential, NegotiateFlags, AccountRid
//   NetrLogonSamLogonEx      (opnum 39) -> a logon (NETLOGON_GENERIC_INFO: the logon domain, the
//                                          package to deliver LogonData to, LogonData);
//                                       <- the package's answer (NETLOGON_VALIDATION_GENERIC_INFO2)
//
// The first two go in the clear (as MS-NRPC's do: they prove, they reveal nothing); every
// NetrLogonSamLogonEx request and reply is sealed (crypto.ts), on a channel whose two proofs passed.
//
// Frame (both directions): a 4-byte big-endian length, then the body:
//   byte 0   version (1)
//   byte 1   kind: 1 a request in the clear, 2 a reply in the clear, 3 sealed (NL_AUTH_SHA2_SIGNATURE
//            then the encrypted request or reply, itself a body of kind 1 or 2)
//   then, for kinds 1 and 2: opnum (u16), call id (u32), the call's fields.
// Every length is checked before it is read; what does not parse is a NetlogonWireError with a
// code and the offset, and the receiver closes the connection.

import { FieldReader as Reader, FieldWriter as Writer, NetlogonWireError } from './fields.js';

export const NETLOGON_OPNUM = {
  NetrServerReqChallenge: 4,
  NetrServerAuthenticate3: 26,
  NetrLogonSamLogonEx: 39,
} as const;
export type NetlogonOpnum = (typeof NETLOGON_OPNUM)[keyof typeof NETLOGON_OPNUM];

/** NETLOGON_SECURE_CHANNEL_TYPE (2.2.1.3.13): a member's channel is a workstation's. */
export const NETLOGON_SECURE_CHANNEL_TYPE = { WorkstationSecureChannel: 2, ServerSecureChannel: 6 } as const;

/** NETLOGON_LOGON_INFO_CLASS (2.2.1.4.16) and NETLOGON_VALIDATION_INFO_CLASS (2.2.1.4.17) used here. */
export const NETLOGON_LOGON_INFO_CLASS = { NetlogonGenericInformation: 4 } as const;
export const NETLOGON_VALIDATION_INFO_CLASS = { NetlogonValidationGenericInfo2: 5 } as const;

/**
 * NegotiateFlags (3.1.4.2): the client asks for AES (bit W, 0x01000000) and secure RPC (bit Y,
 * 0x40000000); a DC here refuses a client that does not ask for AES, as Windows refuses one since
 * the Zerologon enforcement, and answers the flags both support.
 */
export const NETLOGON_NEG = { SUPPORTS_AES: 0x01000000, AUTHENTICATED_RPC: 0x40000000 } as const;
export const NETLOGON_CLIENT_FLAGS = (NETLOGON_NEG.SUPPORTS_AES | NETLOGON_NEG.AUTHENTICATED_RPC) >>> 0;

export const NETLOGON_VERSION = 1;
export const FRAME_KIND = { request: 1, reply: 2, sealed: 3 } as const;
/** The largest frame either side takes: far more than a logon needs (an NTLMv2 response is at most a few KiB). */
export const MAX_FRAME_BYTES = 64 * 1024;
export const LENGTH_BYTES = 4;

// ---------------------------------------------------------------------------------------------
// The calls

export interface ReqChallengeRequest {
  opnum: typeof NETLOGON_OPNUM.NetrServerReqChallenge;
  /** The DC's name as the client knows it (PrimaryName). */
  primaryName: string;
  /** The domain the client joined: a DC refuses a channel for another (STATUS_NO_SUCH_DOMAIN). */
  domainName: string;
  computerName: string;
  clientChallenge: Uint8Array;
}
export interface ReqChallengeReply {
  opnum: typeof NETLOGON_OPNUM.NetrServerReqChallenge;
  status: number;
  serverChallenge: Uint8Array;
}

export interface Authenticate3Request {
  opnum: typeof NETLOGON_OPNUM.NetrServerAuthenticate3;
  primaryName: string;
  /** The machine account: "MEMBER$". */
  accountName: string;
  secureChannelType: number;
  computerName: string;
  clientCredential: Uint8Array;
  negotiateFlags: number;
}
export interface Authenticate3Reply {
  opnum: typeof NETLOGON_OPNUM.NetrServerAuthenticate3;
  status: number;
  serverCredential: Uint8Array;
  negotiateFlags: number;
  accountRid: number;
}

export interface SamLogonRequest {
  opnum: typeof NETLOGON_OPNUM.NetrLogonSamLogonEx;
  logonServer: string;
  computerName: string;
  logonLevel: number;
  /** NETLOGON_GENERIC_INFO: Identity.LogonDomainName, PackageName, LogonData. */
  logonDomainName: string;
  packageName: string;
  logonData: Uint8Array;
  validationLevel: number;
}
export interface SamLogonReply {
  opnum: typeof NETLOGON_OPNUM.NetrLogonSamLogonEx;
  /** The call's status: what Netlogon did (STATUS_NO_SUCH_PACKAGE, ...); the package's own is in ValidationData. */
  status: number;
  validationLevel: number;
  /** NETLOGON_VALIDATION_GENERIC_INFO2's ValidationData: the package's answer. */
  validationData: Uint8Array;
  authoritative: boolean;
}

export type NetlogonRequest = ReqChallengeRequest | Authenticate3Request | SamLogonRequest;
export type NetlogonReply = ReqChallengeReply | Authenticate3Reply | SamLogonReply;

/** A body of kind request or reply, with its call id. */
export type NetlogonBody = { kind: 'request'; callId: number; call: NetlogonRequest } | { kind: 'reply'; callId: number; call: NetlogonReply };

/** A frame as read: a body in the clear, or a sealed one (for the channel to open). */
export type NetlogonFrame = NetlogonBody | { kind: 'sealed'; sealed: Uint8Array };

// ---------------------------------------------------------------------------------------------
// Writing

function writeCall(w: Writer, call: NetlogonRequest | NetlogonReply, kind: 'request' | 'reply'): void {
  switch (call.opnum) {
    case NETLOGON_OPNUM.NetrServerReqChallenge:
      if (kind === 'request') {
        const c = call as ReqChallengeRequest;
        w.string(c.primaryName).string(c.domainName).string(c.computerName).fixed(c.clientChallenge, 8);
      } else {
        const c = call as ReqChallengeReply;
        w.u32(c.status).fixed(c.serverChallenge, 8);
      }
      return;
    case NETLOGON_OPNUM.NetrServerAuthenticate3:
      if (kind === 'request') {
        const c = call as Authenticate3Request;
        w.string(c.primaryName).string(c.accountName).u16(c.secureChannelType).string(c.computerName).fixed(c.clientCredential, 8).u32(c.negotiateFlags);
      } else {
        const c = call as Authenticate3Reply;
        w.u32(c.status).fixed(c.serverCredential, 8).u32(c.negotiateFlags).u32(c.accountRid);
      }
      return;
    case NETLOGON_OPNUM.NetrLogonSamLogonEx:
      if (kind === 'request') {
        const c = call as SamLogonRequest;
        w.string(c.logonServer)
          .string(c.computerName)
          .u16(c.logonLevel)
          .string(c.logonDomainName)
          .string(c.packageName)
          .blob(c.logonData)
          .u16(c.validationLevel);
      } else {
        const c = call as SamLogonReply;
        w.u32(c.status)
          .u16(c.validationLevel)
          .blob(c.validationData)
          .u8(c.authoritative ? 1 : 0);
      }
  }
}

/** A request or reply's body, in the clear (what a sealed frame carries, or what the first two calls send). */
export function packBody(body: NetlogonBody): Uint8Array {
  const w = new Writer()
    .u8(NETLOGON_VERSION)
    .u8(body.kind === 'request' ? FRAME_KIND.request : FRAME_KIND.reply)
    .u16(body.call.opnum)
    .u32(body.callId);
  writeCall(w, body.call, body.kind);
  return w.bytes();
}

/** A sealed frame's body: the version, the kind, then the sealed message (crypto.ts sealMessage). */
export function packSealed(sealed: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + sealed.length);
  out[0] = NETLOGON_VERSION;
  out[1] = FRAME_KIND.sealed;
  out.set(sealed, 2);
  return out;
}

/** A body with its TCP length prefix. */
export function frame(body: Uint8Array): Buffer {
  if (body.length > MAX_FRAME_BYTES) throw new RangeError(`a Netlogon frame of ${body.length} bytes is longer than ${MAX_FRAME_BYTES}`);
  const out = Buffer.allocUnsafe(LENGTH_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, LENGTH_BYTES);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

function readCall(r: Reader, opnum: number, kind: 'request' | 'reply', opnumAt: number): NetlogonRequest | NetlogonReply {
  switch (opnum) {
    case NETLOGON_OPNUM.NetrServerReqChallenge:
      return kind === 'request'
        ? {
            opnum,
            primaryName: r.string('PrimaryName'),
            domainName: r.string('DomainName'),
            computerName: r.string('ComputerName'),
            clientChallenge: r.fixed(8, 'ClientChallenge'),
          }
        : { opnum, status: r.u32('status'), serverChallenge: r.fixed(8, 'ServerChallenge') };
    case NETLOGON_OPNUM.NetrServerAuthenticate3:
      return kind === 'request'
        ? {
            opnum,
            primaryName: r.string('PrimaryName'),
            accountName: r.string('AccountName'),
            secureChannelType: r.u16('SecureChannelType'),
            computerName: r.string('ComputerName'),
            clientCredential: r.fixed(8, 'ClientCredential'),
            negotiateFlags: r.u32('NegotiateFlags'),
          }
        : {
            opnum,
            status: r.u32('status'),
            serverCredential: r.fixed(8, 'ServerCredential'),
            negotiateFlags: r.u32('NegotiateFlags'),
            accountRid: r.u32('AccountRid'),
          };
    case NETLOGON_OPNUM.NetrLogonSamLogonEx:
      return kind === 'request'
        ? {
            opnum,
            logonServer: r.string('LogonServer'),
            computerName: r.string('ComputerName'),
            logonLevel: r.u16('LogonLevel'),
            logonDomainName: r.string('LogonDomainName'),
            packageName: r.string('PackageName'),
            logonData: r.blob('LogonData'),
            validationLevel: r.u16('ValidationLevel'),
          }
        : {
            opnum,
            status: r.u32('status'),
            validationLevel: r.u16('ValidationLevel'),
            validationData: r.blob('ValidationData'),
            authoritative: r.u8('Authoritative') !== 0,
          };
    default:
      throw new NetlogonWireError('UNKNOWN_OPNUM', `opnum ${opnum} is not a Netlogon call this DC answers`, opnumAt);
  }
}

/** A frame's body as it came (after the length prefix): a call in the clear, or a sealed one. */
export function unpackFrame(bytes: Uint8Array): NetlogonFrame {
  const r = new Reader(bytes);
  const version = r.u8('the version');
  if (version !== NETLOGON_VERSION) throw new NetlogonWireError('BAD_VERSION', `version ${version}, not ${NETLOGON_VERSION}`, 0);
  const kind = r.u8('the kind');
  if (kind === FRAME_KIND.sealed) return { kind: 'sealed', sealed: r.rest() };
  return unpackBodyAfterHeader(r, kind);
}

/** A body in the clear (a sealed frame's contents, once opened). */
export function unpackBody(bytes: Uint8Array): NetlogonBody {
  const r = new Reader(bytes);
  const version = r.u8('the version');
  if (version !== NETLOGON_VERSION) throw new NetlogonWireError('BAD_VERSION', `version ${version}, not ${NETLOGON_VERSION}`, 0);
  return unpackBodyAfterHeader(r, r.u8('the kind'));
}

function unpackBodyAfterHeader(r: Reader, kind: number): NetlogonBody {
  if (kind !== FRAME_KIND.request && kind !== FRAME_KIND.reply)
    throw new NetlogonWireError('BAD_KIND', `kind ${kind} is not a request, a reply or a sealed message`, 1);
  const opnumAt = r.offset;
  const opnum = r.u16('the opnum');
  const callId = r.u32('the call id');
  const which = kind === FRAME_KIND.request ? 'request' : 'reply';
  const call = readCall(r, opnum, which, opnumAt);
  r.end();
  return which === 'request' ? { kind: 'request', callId, call: call as NetlogonRequest } : { kind: 'reply', callId, call: call as NetlogonReply };
}

/**
 * Splits what arrived on a connection into whole frames: those complete so far and the bytes left
 * over. A length past MAX_FRAME_BYTES is an error (the connection is closed before it is buffered).
 */
export function takeFrames(pending: Buffer): { frames: Uint8Array[]; rest: Buffer } {
  const frames: Uint8Array[] = [];
  let at = 0;
  while (pending.length - at >= LENGTH_BYTES) {
    const length = pending.readUInt32BE(at);
    if (length > MAX_FRAME_BYTES) throw new NetlogonWireError('TOO_LONG', `a frame of ${length} bytes is longer than ${MAX_FRAME_BYTES}`, at);
    if (pending.length - at - LENGTH_BYTES < length) break;
    frames.push(new Uint8Array(pending.subarray(at + LENGTH_BYTES, at + LENGTH_BYTES + length)));
    at += LENGTH_BYTES + length;
  }
  return { frames, rest: at === 0 ? pending : pending.subarray(at) };
}
