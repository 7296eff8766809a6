// The client's two exchanges with the KDC (RFC 4120 3.1 and 3.3), as Windows' Kerberos client
// makes them:
//
//   AS:  AS-REQ (no pre-authentication) --> KRB-ERROR KDC_ERR_PREAUTH_REQUIRED with ETYPE-INFO2
//        (the etype, salt and string-to-key parameters of the client's key)
//        AS-REQ with PA-ENC-TIMESTAMP (the time, encrypted with the key, usage 1) --> AS-REP: the TGT,
//        and its session key in the EncASRepPart, encrypted with the client's key (usage 3)
//   TGS: TGS-REQ with PA-TGS-REQ (an AP-REQ with the TGT, its Authenticator encrypted with the TGT's
//        session key (usage 7), carrying a checksum of the req-body (usage 6) and a subkey) -->
//        TGS-REP: the service ticket, its session key in the EncTGSRepPart (the subkey, usage 9)
//
// The messages themselves are kdc-requests.ts's (the KDC's tests build theirs with it too); the
// transport, UDP then TCP within one deadline, is transport.ts's. This module is the policy: which
// key, when to pre-authenticate, and what each refusal is to an SSPI caller (statuses.ts).
//
// The password becomes a key on the LSA's work pool (the deriveKey function given); once the KDC
// has named the salt, later AS exchanges of the identity send PA-ENC-TIMESTAMP at once. A reply is
// used only when it decrypts, its nonce is the request's, it names the principals asked for and its
// times are within what was asked and this machine's clock (reply-times.ts).
// KDC_OPTIONS as Windows sends them: FORWARDABLE, RENEWABLE_OK (AS) and FORWARDABLE (TGS); a
// PA-PAC-REQUEST asks for a PAC, which this package does not read (README: not implemented).

import { performance } from 'node:perf_hooks';
import { SEC_E_LOGON_DENIED, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_TARGET_UNKNOWN } from '../../headers/index.js';
import { DerError } from '../kit/index.js';
import { encryptionTypeInfo, isSupportedEtype, KerberosCryptoError, KEY_USAGE, s2kIterations, type EncryptionKey } from './crypto/index.js';
import {
  KRB_ERROR_CODE,
  KRB_MSG_TYPE,
  PA_TYPE,
  packKdcReq,
  packPaPacRequest,
  unpackEtypeInfo2,
  unpackMethodData,
  type EncKdcRepPart,
  type EtypeInfo2Entry,
  type KdcRep,
  type KrbError,
  type PaData,
} from './messages/index.js';
import { asRequestBody, encTimestamp, openKdcReply, readKdcAnswer, tgsRequest, type KdcAnswer } from './kdc-requests.js';
import { wholeSeconds } from './clock.js';
import { defaultSalt, formatPrincipal, samePrincipal, tgsPrincipal, type Principal } from './names.js';
import type { KerberosSettings } from './settings.js';
import { failure, isFailure, krbErrorFailure, type KerberosFailure } from './statuses.js';
import type { CachedTicket } from './tickets.js';
import { exchangeWithKdc } from './transport.js';
import { checkReplyTimes, type RequestedTimes } from './reply-times.js';

/**
 * The most string-to-key iterations the client runs for the s2kparams a KDC names: the LSA work
 * pool's limit for BCryptDeriveKeyPBKDF2 (lsa/work-routines.ts, WORK_LIMITS.iterations), which would
 * otherwise refuse the derivation with a status the package could only pass on as an internal
 * error. RFC 3962 4 invites such a limit, so that a spoofed ETYPE-INFO2 cannot make a client spin
 * (16,777,215 iterations, the codec's own limit, take tens of seconds, past any KDC deadline).
 */
export const MAX_CLIENT_S2K_ITERATIONS = 1_000_000;

/** Password to key: string-to-key with the KDC's salt and parameters (run on the LSA's work pool). */
export type DeriveKey = (etype: number, password: string, salt: string, params: Uint8Array | undefined) => Promise<EncryptionKey>;

/** A client's long-term secret: its password, and the keys made from it so far (by etype, salt and parameters). */
export interface ClientSecret {
  readonly principal: Principal;
  password: string;
  readonly keys: Map<string, { readonly info: EtypeInfo2Entry; readonly key: EncryptionKey }>;
  /** The ETYPE-INFO2 entry the KDC named last: the next AS exchange pre-authenticates with it at once. */
  known: EtypeInfo2Entry | undefined;
}

export function newClientSecret(principal: Principal, password: string): ClientSecret {
  return { principal, password, keys: new Map(), known: undefined };
}

/** Zeroes the keys and forgets the password (JavaScript strings cannot be zeroed: the reference goes). */
export function wipeClientSecret(secret: ClientSecret): void {
  for (const { key } of secret.keys.values()) key.keyvalue.fill(0);
  secret.keys.clear();
  secret.password = '';
}

/** What one SSPI call's KDC conversation needs: its deadline, and a way out at shutdown. */
export interface KdcCall {
  /** performance.now() time by which every request of the call must be answered. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
}

export function kdcCall(settings: KerberosSettings, signal?: AbortSignal): KdcCall {
  return signal === undefined ? { deadline: performance.now() + settings.kdcTimeoutMs } : { deadline: performance.now() + settings.kdcTimeoutMs, signal };
}

const hex = (b: Uint8Array | undefined): string => (b === undefined ? '' : Buffer.from(b).toString('hex'));

export class KdcClient {
  private readonly settings: KerberosSettings;
  private readonly clock: () => Date;
  private readonly deriveKey: DeriveKey;

  constructor(settings: KerberosSettings, clock: () => Date, deriveKey: DeriveKey) {
    this.settings = settings;
    this.clock = clock;
    this.deriveKey = deriveKey;
  }

  /** The AS exchange: a TGT for the secret's principal. */
  async asExchange(secret: ClientSecret, call: KdcCall): Promise<CachedTicket | KerberosFailure> {
    const realm = secret.principal.realm;
    const body = asRequestBody(
      {
        realm,
        client: secret.principal.name,
        till: wholeSeconds(new Date(this.clock().getTime() + this.settings.ticketLifetimeSeconds * 1000)),
        etypes: this.settings.etypes,
      },
      this.clock().getTime(),
    );
    const who = formatPrincipal(secret.principal.name, realm);
    let preauth = secret.known;
    let usedKey: { info: EtypeInfo2Entry; key: EncryptionKey } | undefined;
    // At most: without pre-authentication (or with a stale salt), then with the one the KDC named.
    for (let attempt = 0; attempt < 3; attempt++) {
      const padata: PaData[] = [];
      usedKey = undefined;
      if (preauth !== undefined) {
        const made = await this.keyFor(secret, preauth);
        if ('status' in made) return made;
        usedKey = made;
        padata.push(encTimestamp(made.key, this.clock().getTime()));
      }
      padata.push({ padataType: PA_TYPE.PAC_REQUEST, padataValue: packPaPacRequest(true) });
      const reply = await this.send(packKdcReq({ msgType: KRB_MSG_TYPE.AS_REQ, padata, reqBody: body }), call, 'AS-REQ');
      if ('status' in reply) return reply;
      if (reply.kind === 'error') {
        const e = reply.error;
        const found = etypeInfoOf(e, this.settings.etypes);
        const named = found === undefined ? undefined : { ...found, salt: found.salt ?? defaultSalt(secret.principal.name, realm) };
        if (e.errorCode === KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED) {
          if (named === undefined) return failure(SEC_E_LOGON_DENIED, `the KDC wants pre-authentication for ${who} but names no etype this client has (ETYPE-INFO2)`, e.errorCode);
          if (usedKey !== undefined && sameInfo(usedKey.info, named))
            return failure(SEC_E_LOGON_DENIED, `the KDC refused the pre-authentication of ${who}`, e.errorCode);
          preauth = named;
          continue;
        }
        // A stale salt (the password or the salt changed at the KDC): try once more with what it names now.
        if (e.errorCode === KRB_ERROR_CODE.KDC_ERR_PREAUTH_FAILED && named !== undefined && usedKey !== undefined && !sameInfo(usedKey.info, named)) {
          preauth = named;
          continue;
        }
        return krbErrorFailure(e.errorCode, 'as', e.eText);
      }
      if (reply.rep.msgType !== KRB_MSG_TYPE.AS_REP) return failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, 'the KDC answered an AS-REQ with a TGS-REP');
      // No pre-authentication asked (or it was sent): the reply key is the one the reply's own ETYPE-INFO2 names, or the one used.
      let key = usedKey;
      const encEtype = reply.rep.encPart.etype;
      if (key === undefined || key.key.keytype !== encEtype) {
        const info = replyEtypeInfo(reply.rep, encEtype) ?? { etype: encEtype, salt: defaultSalt(secret.principal.name, realm) };
        if (!isSupportedEtype(encEtype)) return failure(SEC_E_LOGON_DENIED, `the AS-REP is encrypted with etype ${encEtype}, which this client does not have`);
        const made = await this.keyFor(secret, info);
        if ('status' in made) return made;
        key = made;
      }
      const opened = openKdcReply(reply.rep, key.key, KEY_USAGE.AS_REP_ENC_PART, body.nonce);
      if (isFailure(opened)) {
        // MIT's "password incorrect" for a principal that needs no pre-authentication.
        return failure(SEC_E_LOGON_DENIED, `the AS-REP for ${who} does not decrypt with the password's key (a wrong password)`);
      }
      // The client asks RENEWABLE-OK without RENEWABLE: renewable, if at all, only up to its till (MIT checks the same).
      const asked: RequestedTimes = { what: 'AS-REP', till: body.till, renewLimit: body.rtime ?? body.till };
      const ticket = this.checkedTicket(reply.rep, opened.part, secret.principal, { name: tgsPrincipal(realm), realm }, asked);
      if (!isFailure(ticket)) secret.known = key.info;
      return ticket;
    }
    return failure(SEC_E_LOGON_DENIED, `the AS exchange for ${who} did not settle on a key`);
  }

  /** The TGS exchange: a service ticket for `server` with the TGT (a subkey in the Authenticator seals the reply). */
  async tgsExchange(tgt: CachedTicket, server: Principal, call: KdcCall): Promise<CachedTicket | KerberosFailure> {
    const made = tgsRequest(
      { realm: server.realm, tgt, service: server.name, till: tgt.endtime, etypes: this.settings.etypes },
      this.clock().getTime(),
    );
    try {
      const reply = await this.send(made.request, call, 'TGS-REQ');
      if ('status' in reply) return reply;
      if (reply.kind === 'error') return krbErrorFailure(reply.error.errorCode, 'tgs', reply.error.eText);
      if (reply.rep.msgType !== KRB_MSG_TYPE.TGS_REP) return failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, 'the KDC answered a TGS-REQ with an AS-REP');
      const opened = openKdcReply(reply.rep, made.replyKey, made.replyUsage, made.body.nonce);
      if (isFailure(opened)) return opened;
      const asked: RequestedTimes = { what: 'TGS-REP', till: made.body.till, renewLimit: tgt.renewTill ?? tgt.endtime, tgtAuthtime: tgt.authtime };
      return this.checkedTicket(reply.rep, opened.part, tgt.client, server, asked);
    } finally {
      if (made.replyKey !== tgt.sessionKey) made.replyKey.keyvalue.fill(0); // the subkey served this exchange alone
    }
  }

  /** The key the KDC named (made once per etype, salt and parameters, on the work pool). */
  private async keyFor(secret: ClientSecret, info: EtypeInfo2Entry): Promise<{ info: EtypeInfo2Entry; key: EncryptionKey } | KerberosFailure> {
    const salt = info.salt ?? defaultSalt(secret.principal.name, secret.principal.realm);
    const id = `${info.etype}:${salt}:${hex(info.s2kparams)}`;
    const known = secret.keys.get(id);
    if (known !== undefined) return known;
    try {
      s2kIterations(info.etype, info.s2kparams, { maxIterations: MAX_CLIENT_S2K_ITERATIONS }); // KerberosCryptoError past the limit
      const key = await this.deriveKey(info.etype, secret.password, salt, info.s2kparams);
      const made = { info: { ...info, salt }, key };
      secret.keys.set(id, made);
      return made;
    } catch (error) {
      if (error instanceof KerberosCryptoError)
        return failure(SEC_E_LOGON_DENIED, `the KDC's string-to-key parameters for etype ${info.etype} are refused: ${error.message}`);
      throw error;
    }
  }

  /** One request to the realm's KDCs; the reply read as a KDC-REP or a KRB-ERROR. */
  private async send(request: Uint8Array, call: KdcCall, what: string): Promise<KdcAnswer | KerberosFailure> {
    const exchanged = await exchangeWithKdc(request, {
      kdcs: this.settings.kdcs,
      udpPreferenceLimit: this.settings.udpPreferenceLimit,
      deadline: call.deadline,
      ...(call.signal === undefined ? {} : { signal: call.signal }),
    });
    if (!exchanged.ok) return failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, `${what}: ${exchanged.reason}`);
    return readKdcAnswer(exchanged.reply);
  }

  /**
   * The ticket of a decrypted reply (its nonce checked by openKdcReply), once its names and key
   * check out: the client named in the clear must be the one asked for (RFC 4120 3.1.5 and 3.3.4:
   * the AS-REQ's cname and realm, the TGT's client for a TGS-REP; MIT's KRB5_KDCREP_MODIFIED), or a
   * reply to another client, or one whose names were changed on the way, would be cached as ours.
   * Then its times (reply-times.ts): within what was asked, and this clock's.
   */
  private checkedTicket(rep: KdcRep, part: EncKdcRepPart, client: Principal, server: Principal, asked: RequestedTimes): CachedTicket | KerberosFailure {
    const what = asked.what;
    if (!samePrincipal(rep.cname, rep.crealm, client.name, client.realm))
      return failure(
        SEC_E_NO_AUTHENTICATING_AUTHORITY,
        `the ${what} is for the client ${formatPrincipal(rep.cname, rep.crealm)}, not ${formatPrincipal(client.name, client.realm)} (a reply to another client, or modified)`,
      );
    if (!samePrincipal(part.sname, part.srealm, server.name, server.realm) || !samePrincipal(rep.ticket.sname, rep.ticket.realm, server.name, server.realm))
      return failure(
        SEC_E_TARGET_UNKNOWN,
        `the ${what} is for ${formatPrincipal(part.sname, part.srealm)}, not ${formatPrincipal(server.name, server.realm)}`,
      );
    if (!isSupportedEtype(part.key.keytype)) return failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, `the ${what}'s session key is of etype ${part.key.keytype}, which this client does not have`);
    // A key of the wrong length would throw at its first use (the AP-REQ's authenticator): refused here, as the reply it came in.
    const keyBytes = encryptionTypeInfo(part.key.keytype).keyBytes;
    if (part.key.keyvalue.length !== keyBytes)
      return failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, `the ${what}'s session key is ${part.key.keyvalue.length} bytes, not the ${keyBytes} of etype ${part.key.keytype}`);
    const times = checkReplyTimes(part, asked, this.clock(), this.settings.maxClockSkewSeconds);
    if (times !== undefined) return times;
    return {
      client: { name: client.name, realm: client.realm },
      server,
      ticket: rep.ticket,
      sessionKey: { keytype: part.key.keytype, keyvalue: part.key.keyvalue },
      flags: part.flags,
      authtime: part.authtime,
      starttime: part.starttime,
      endtime: part.endtime,
      renewTill: part.renewTill,
    };
  }
}

/** The first ETYPE-INFO2 entry of a KRB-ERROR's METHOD-DATA whose etype this client has. */
function etypeInfoOf(error: KrbError, etypes: readonly number[]): EtypeInfo2Entry | undefined {
  if (error.eData === undefined) return undefined;
  try {
    return pickEtype(unpackMethodData(error.eData), etypes);
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
}

function replyEtypeInfo(rep: KdcRep, etype: number): EtypeInfo2Entry | undefined {
  return pickEtype(rep.padata ?? [], [etype]);
}

function pickEtype(padata: readonly PaData[], etypes: readonly number[]): EtypeInfo2Entry | undefined {
  const info = padata.find((p) => p.padataType === PA_TYPE.ETYPE_INFO2);
  if (info === undefined) return undefined;
  let entries: EtypeInfo2Entry[];
  try {
    entries = unpackEtypeInfo2(info.padataValue);
  } catch (e) {
    if (e instanceof DerError) return undefined;
    throw e;
  }
  // The KDC lists them in its order of preference among those the client asked for; take the first we have.
  return entries.find((e) => etypes.includes(e.etype) && isSupportedEtype(e.etype));
}

function sameInfo(a: EtypeInfo2Entry, b: EtypeInfo2Entry): boolean {
  return a.etype === b.etype && (a.salt ?? '') === (b.salt ?? '') && hex(a.s2kparams) === hex(b.s2kparams);
}
