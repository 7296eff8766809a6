// A small KDC client over our own messages: what the KDC's tests, its chaos test and the bench's
// load generator speak to a KDC (ours or MIT's). It makes AS-REQs (with PA-ENC-TIMESTAMP once the
// KDC's ETYPE-INFO2 names the salt) and TGS-REQs (PA-TGS-REQ with its Authenticator's checksum of
// the req-body), sends them over TCP (RFC 4120 7.2.2's length prefix) or UDP, and opens the
// replies. It is not the Kerberos package (packages/kerberos/ builds that, with its ticket cache
// in the LSA); it keeps nothing between calls but a TCP connection its caller holds.

import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, isIPv6, type Socket } from 'node:net';
import { decrypt, encrypt, KEY_USAGE, makeChecksum, makeRandomKey, requiredChecksumType, stringToKey, type EncryptionKey } from '../crypto/index.js';
import {
  KDC_OPTIONS,
  KRB_ERROR_CODE,
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
  unpackEtypeInfo2,
  unpackKerberosMessage,
  unpackMethodData,
  type AuthorizationDataEntry,
  type EncKdcRepPart,
  type KdcRep,
  type KdcReqBody,
  type KrbError,
  type PaData,
  type PrincipalName,
  type Ticket,
} from '../messages/index.js';
import { EmuError, registerErrorClass } from '../../kit/index.js';
import { errorName } from './kdc.js';
import type { KdcAddress } from './transport.js';

export type KdcClientErrorCode =
  /** The KDC answered with a KRB-ERROR (`krbError` holds it). */
  | 'KRB_ERROR'
  /** No answer in time (a KDC that is stalled, or UDP lost). */
  | 'TIMEOUT'
  /** No KDC there: the connection was refused or reset (what the Kerberos package will answer SEC_E_NO_AUTHENTICATING_AUTHORITY). */
  | 'UNREACHABLE'
  /** An answer that is not a reply to the request (does not decode, wrong type, wrong nonce, does not decrypt). */
  | 'BAD_REPLY';

export class KdcClientError extends EmuError<KdcClientErrorCode> {
  override readonly name = 'KdcClientError';
  krbError: KrbError | undefined;
}
registerErrorClass('KdcClientError', KdcClientError, ['KRB_ERROR', 'TIMEOUT', 'UNREACHABLE', 'BAD_REPLY']);

const LENGTH_BYTES = 4;

function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(LENGTH_BYTES + message.length);
  out.writeUInt32BE(message.length, 0);
  out.set(message, LENGTH_BYTES);
  return out;
}

/**
 * One TCP connection to a KDC, on which requests are sent one after another (the KDC answers each
 * in order). The bench holds one per load lane; tests open one per exchange.
 */
export class KdcConnection {
  private readonly socket: Socket;
  private pending: Buffer = Buffer.alloc(0);
  private waiter: { resolve: (reply: Uint8Array) => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | null = null;
  private failure: Error | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      this.deliver();
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      const waiter = this.waiter;
      this.waiter = null;
      if (waiter !== null) {
        clearTimeout(waiter.timer);
        waiter.reject(this.failure);
      }
    };
    socket.on('error', (error) => fail(unreachable(error)));
    socket.on('close', () => fail(new KdcClientError('UNREACHABLE', 'the KDC closed the connection')));
  }

  static open(address: KdcAddress, timeoutMs = 10_000): Promise<KdcConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address.host, port: address.port, family: isIPv6(address.host) ? 6 : 4 });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new KdcClientError('TIMEOUT', `no TCP connection to the KDC at ${address.host}:${address.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new KdcConnection(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(unreachable(error, address));
      });
    });
  }

  /** Sends one request and resolves with the reply's bytes (one request at a time). */
  exchange(request: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.waiter !== null) return Promise.reject(new Error('one request at a time on a KdcConnection'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        this.socket.destroy();
        reject(new KdcClientError('TIMEOUT', `no reply from the KDC within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
      this.socket.write(frame(request));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private deliver(): void {
    if (this.waiter === null || this.pending.length < LENGTH_BYTES) return;
    const length = this.pending.readUInt32BE(0);
    if (this.pending.length < LENGTH_BYTES + length) return;
    const reply = new Uint8Array(this.pending.subarray(LENGTH_BYTES, LENGTH_BYTES + length));
    this.pending = this.pending.subarray(LENGTH_BYTES + length);
    const waiter = this.waiter;
    this.waiter = null;
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }
}

function unreachable(error: Error, address?: KdcAddress): KdcClientError {
  const where = address === undefined ? '' : ` at ${address.host}:${address.port}`;
  return new KdcClientError('UNREACHABLE', `no KDC${where}: ${error.message}`, { cause: error });
}

/** One request over UDP (RFC 4120 7.2.1): the reply datagram, or TIMEOUT. */
export function exchangeUdp(address: KdcAddress, request: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(address.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(
      () => finish(new KdcClientError('TIMEOUT', `no UDP reply from the KDC at ${address.host}:${address.port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (outcome: Uint8Array | Error): void => {
      clearTimeout(timer);
      socket.close();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    // Connected, so that an ICMP port unreachable (no KDC there) comes back as ECONNREFUSED.
    socket.on('error', (error) => finish(unreachable(error, address)));
    socket.on('message', (message) => finish(new Uint8Array(message)));
    socket.connect(address.port, address.host, () => socket.send(request));
  });
}

/** One request on a connection of its own (TCP) or as a datagram (UDP). */
export async function exchangeOnce(address: KdcAddress, transport: 'tcp' | 'udp', request: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
  if (transport === 'udp') return exchangeUdp(address, request, timeoutMs);
  const connection = await KdcConnection.open(address, timeoutMs);
  try {
    return await connection.exchange(request, timeoutMs);
  } finally {
    connection.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface AsRequestOptions {
  realm: string;
  /** The client's name components (["alice"]). */
  client: string[];
  /** The service (default krbtgt/REALM). */
  service?: string[];
  /** The etypes the client accepts, in its preference (default 18, 17, 20, 19). */
  etypes?: number[];
  nonce?: number;
  /** KDCOptions (default FORWARDABLE | RENEWABLE_OK, as MIT's kinit asks). */
  options?: number;
  /** When the ticket should end (default 24 hours from `now`, as MIT's kinit). */
  till?: Date;
  rtime?: Date;
  padata?: PaData[];
}

const DEFAULT_ETYPES = [18, 17, 20, 19];

/** A KerberosTime: whole seconds. */
const seconds = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);

/** An AS-REQ's bytes. */
export function asRequest(o: AsRequestOptions, now = Date.now()): Uint8Array {
  const body: KdcReqBody = {
    kdcOptions: o.options ?? (KDC_OPTIONS.FORWARDABLE | KDC_OPTIONS.RENEWABLE_OK) >>> 0,
    cname: { nameType: KRB_NT.PRINCIPAL, nameString: o.client },
    realm: o.realm,
    sname: { nameType: KRB_NT.SRV_INST, nameString: o.service ?? ['krbtgt', o.realm] },
    till: o.till ?? seconds(now + 24 * 3_600_000),
    nonce: o.nonce ?? randomInt(0x7fffffff),
    etype: o.etypes ?? DEFAULT_ETYPES,
    ...(o.rtime === undefined ? {} : { rtime: o.rtime }),
  };
  return packKdcReq({ msgType: KRB_MSG_TYPE.AS_REQ, ...(o.padata === undefined ? {} : { padata: o.padata }), reqBody: body });
}

/** PA-ENC-TIMESTAMP: the time, sealed in the client's key (key usage 1). */
export function encTimestamp(key: EncryptionKey, at = Date.now()): PaData {
  const ts = packPaEncTsEnc({ patimestamp: seconds(at), pausec: Math.floor(at % 1000) * 1000 });
  return {
    padataType: PA_TYPE.ENC_TIMESTAMP,
    padataValue: packEncryptedData({ etype: key.keytype, cipher: encrypt(key, KEY_USAGE.AS_REQ_PA_ENC_TIMESTAMP, ts) }),
  };
}

/** A ticket and its session key, as an AS-REP or TGS-REP hands them over. */
export interface Credentials {
  ticket: Ticket;
  /** The reply's decrypted part: the session key, flags, times. */
  part: EncKdcRepPart;
  crealm: string;
  cname: PrincipalName;
}

export interface TgsRequestOptions {
  realm: string;
  /** The TGT (or, to renew it, the ticket) and its session key. */
  tgt: Credentials;
  /** The service's name components (["host", "server.example.test"]). */
  service: string[];
  etypes?: number[];
  nonce?: number;
  options?: number;
  till?: Date;
  rtime?: Date;
  /** A subkey for the reply (MIT's client always sends one); none when null. Default a fresh key of the session key's etype. */
  subkey?: EncryptionKey | null;
  /** Authorization data to add to the ticket (enc-authorization-data, sealed in the subkey, or the session key without one). */
  authorizationData?: AuthorizationDataEntry[];
  /** Change the req-body after the checksum is made (tests of KRB_AP_ERR_MODIFIED). */
  tamper?: (body: KdcReqBody) => void;
  /** The Authenticator's time (tests of the clock skew). */
  ctime?: number;
}

/** A TGS-REQ's bytes, and the key its reply will be sealed in. */
export function tgsRequest(o: TgsRequestOptions, now = Date.now()): { request: Uint8Array; replyKey: EncryptionKey; replyUsage: number } {
  const sessionKey = o.tgt.part.key;
  const subkey = o.subkey === undefined ? makeRandomKey(sessionKey.keytype) : o.subkey;
  const body: KdcReqBody = {
    kdcOptions: o.options ?? KDC_OPTIONS.FORWARDABLE,
    realm: o.realm,
    sname: { nameType: KRB_NT.PRINCIPAL, nameString: o.service },
    till: o.till ?? seconds(now + 24 * 3_600_000),
    nonce: o.nonce ?? randomInt(0x7fffffff),
    etype: o.etypes ?? DEFAULT_ETYPES,
    ...(o.rtime === undefined ? {} : { rtime: o.rtime }),
  };
  if (o.authorizationData !== undefined) {
    const [key, usage] = subkey === null ? [sessionKey, KEY_USAGE.TGS_REQ_AD_SESSION_KEY] : [subkey, KEY_USAGE.TGS_REQ_AD_SUBKEY];
    body.encAuthorizationData = { etype: key.keytype, cipher: encrypt(key, usage, packAuthorizationData(o.authorizationData)) };
  }
  const bodyBytes = packKdcReqBody(body);
  const cksumtype = requiredChecksumType(sessionKey.keytype);
  const at = o.ctime ?? now;
  const authenticator = packAuthenticator({
    crealm: o.tgt.crealm,
    cname: o.tgt.cname,
    cksum: { cksumtype, checksum: makeChecksum(cksumtype, sessionKey, KEY_USAGE.TGS_REQ_AUTHENTICATOR_CKSUM, bodyBytes) },
    cusec: Math.floor(at % 1000) * 1000,
    ctime: seconds(at),
    ...(subkey === null ? {} : { subkey }),
  });
  const apReq = packApReq({
    apOptions: 0,
    ticket: o.tgt.ticket,
    authenticator: { etype: sessionKey.keytype, cipher: encrypt(sessionKey, KEY_USAGE.TGS_REQ_AUTHENTICATOR, authenticator) },
  });
  o.tamper?.(body);
  const request = packKdcReq({ msgType: KRB_MSG_TYPE.TGS_REQ, padata: [{ padataType: PA_TYPE.TGS_REQ, padataValue: apReq }], reqBody: body });
  return subkey === null
    ? { request, replyKey: sessionKey, replyUsage: KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY }
    : { request, replyKey: subkey, replyUsage: KEY_USAGE.TGS_REP_ENC_PART_SUBKEY };
}

// ---------------------------------------------------------------------------------------------
// Replies

export type KdcAnswer = { kind: 'reply'; rep: KdcRep } | { kind: 'error'; error: KrbError };

/** A KDC's answer: a KDC-REP or a KRB-ERROR; BAD_REPLY for anything else. */
export function readAnswer(bytes: Uint8Array): KdcAnswer {
  let message;
  try {
    message = unpackKerberosMessage(bytes);
  } catch (error) {
    throw new KdcClientError('BAD_REPLY', `the KDC's answer does not decode: ${(error as Error).message}`);
  }
  if (message.type === 'KRB-ERROR') return { kind: 'error', error: message.message as KrbError };
  if (message.type === 'AS-REP' || message.type === 'TGS-REP') return { kind: 'reply', rep: message.message as KdcRep };
  throw new KdcClientError('BAD_REPLY', `the KDC answered with a ${message.type}`);
}

/** The KRB-ERROR as a KdcClientError (code KRB_ERROR), its name and e-text in the message. */
export function krbErrorFailure(error: KrbError): KdcClientError {
  const failure = new KdcClientError('KRB_ERROR', `${errorName(error.errorCode)}${error.eText === undefined ? '' : `: ${error.eText}`}`);
  failure.krbError = error;
  return failure;
}

/** Opens a KDC-REP's enc-part with `key` (usage 3 for an AS-REP, 8 or 9 for a TGS-REP) and checks the nonce. */
export function openReply(rep: KdcRep, key: EncryptionKey, usage: number, nonce: number): Credentials {
  let part: EncKdcRepPart;
  try {
    part = unpackEncKdcRepPart(decrypt(key, usage, rep.encPart.cipher));
  } catch (error) {
    throw new KdcClientError('BAD_REPLY', `the reply's enc-part does not open: ${(error as Error).message}`);
  }
  if (part.nonce !== nonce) throw new KdcClientError('BAD_REPLY', `the reply's nonce is ${part.nonce}, the request's ${nonce}`);
  return { ticket: rep.ticket, part, crealm: rep.crealm, cname: rep.cname };
}

export interface GetTgtOptions extends Omit<AsRequestOptions, 'padata' | 'nonce'> {
  password: string;
  transport?: 'tcp' | 'udp';
  timeoutMs?: number;
  /** The client's clock (tests of the skew). */
  now?: () => number;
}

/**
 * kinit, in short: an AS-REQ without pre-authentication, then, on KDC_ERR_PREAUTH_REQUIRED, the
 * key made from the password with the salt of the KDC's first ETYPE-INFO2 entry and an AS-REQ
 * with PA-ENC-TIMESTAMP; over UDP, a KRB_ERR_RESPONSE_TOO_BIG sends the request again over TCP.
 * Rejects with a KdcClientError.
 */
export async function getTgt(address: KdcAddress, o: GetTgtOptions): Promise<Credentials & { replyKey: EncryptionKey }> {
  const now = o.now ?? Date.now;
  const send = async (request: Uint8Array): Promise<KdcAnswer> => {
    let answer = readAnswer(await exchangeOnce(address, o.transport ?? 'tcp', request, o.timeoutMs));
    if (answer.kind === 'error' && answer.error.errorCode === KRB_ERROR_CODE.KRB_ERR_RESPONSE_TOO_BIG)
      answer = readAnswer(await exchangeOnce(address, 'tcp', request, o.timeoutMs));
    return answer;
  };
  let nonce = randomInt(0x7fffffff);
  let answer = await send(asRequest({ ...o, nonce }, now()));
  let key: EncryptionKey | undefined;
  if (answer.kind === 'error') {
    if (answer.error.errorCode !== KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED) throw krbErrorFailure(answer.error);
    const hint = answer.error.eData === undefined ? undefined : unpackMethodData(answer.error.eData).find((pa) => pa.padataType === PA_TYPE.ETYPE_INFO2);
    const entry = hint === undefined ? undefined : unpackEtypeInfo2(hint.padataValue)[0];
    if (entry === undefined) throw new KdcClientError('BAD_REPLY', 'PREAUTH_REQUIRED without an ETYPE-INFO2 entry');
    key = stringToKey(entry.etype, o.password, entry.salt ?? `${o.realm}${o.client.join('')}`, entry.s2kparams);
    nonce = randomInt(0x7fffffff);
    answer = await send(asRequest({ ...o, nonce, padata: [encTimestamp(key, now())] }, now()));
    if (answer.kind === 'error') throw krbErrorFailure(answer.error);
  }
  if (key === undefined) {
    // No pre-authentication asked for: the salt comes in the AS-REP's PA-ETYPE-INFO2.
    const entry = answer.rep.padata?.find((pa) => pa.padataType === PA_TYPE.ETYPE_INFO2);
    const info = entry === undefined ? undefined : unpackEtypeInfo2(entry.padataValue)[0];
    key = stringToKey(answer.rep.encPart.etype, o.password, info?.salt ?? `${o.realm}${o.client.join('')}`);
  }
  if (key.keytype !== answer.rep.encPart.etype)
    throw new KdcClientError('BAD_REPLY', `the AS-REP is sealed in etype ${answer.rep.encPart.etype}, the client's key is ${key.keytype}`);
  return { ...openReply(answer.rep, key, KEY_USAGE.AS_REP_ENC_PART, nonce), replyKey: key };
}

/** A service ticket with a TGT: one TGS exchange. Rejects with a KdcClientError. */
export async function getServiceTicket(
  address: KdcAddress,
  o: TgsRequestOptions & { transport?: 'tcp' | 'udp'; timeoutMs?: number },
  now = Date.now(),
): Promise<Credentials> {
  const nonce = o.nonce ?? randomInt(0x7fffffff);
  const { request, replyKey, replyUsage } = tgsRequest({ ...o, nonce }, now);
  const answer = readAnswer(await exchangeOnce(address, o.transport ?? 'tcp', request, o.timeoutMs));
  if (answer.kind === 'error') throw krbErrorFailure(answer.error);
  return openReply(answer.rep, replyKey, replyUsage, nonce);
}
