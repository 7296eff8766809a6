// The KDC: one request's bytes in, one reply's bytes out (an AS-REP, a TGS-REP or a KRB-ERROR),
// whatever the bytes were, and a record of what it did for the log. It knows no sockets
// (transport.ts carries it over TCP and UDP) and no LSA (lsa/ hosts it, as lsass hosts kdcsvc).

import { performance } from 'node:perf_hooks';
import { KRB_ERROR_CODE, KRB_MSG_TYPE, kerberosMessageType, packKrbError, unpackKdcReq, type KdcReq, type PrincipalName } from '../messages/index.js';
import { asExchange } from './as-exchange.js';
import type { KdcDatabase } from './database.js';
import { KdcRefusal } from './errors.js';
import type { KdcPolicy } from './policy.js';
import { tgsExchange } from './tgs-exchange.js';
import { undecodableRequest } from './undecodable.js';
import { kerberosTime, type RequestNote } from './tickets.js';

export type KdcTransport = 'tcp' | 'udp';

const ERROR_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(KRB_ERROR_CODE).map(([name, code]) => [code, name]));

/** "KDC_ERR_PREAUTH_REQUIRED", or "error 99" for a code no RFC here names. */
export function errorName(code: number): string {
  return ERROR_NAMES.get(code) ?? `error ${code}`;
}

/** What the KDC did with one request: for its log (`sspi-emu dc` prints one line per record) and its counts. */
export interface KdcRequestRecord {
  /** 'AS' or 'TGS'; null for bytes that were neither request. */
  exchange: 'AS' | 'TGS' | null;
  /** "alice@EXAMPLE.TEST", as far as the request said before it was refused; null when unknown. */
  client: string | null;
  /** "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST", "host/server@EXAMPLE.TEST". */
  server: string | null;
  /** 'OK', or the KRB-ERROR's name ("KDC_ERR_PREAUTH_REQUIRED"). */
  result: string;
  /** The KRB-ERROR's code; 0 for a ticket issued. */
  errorCode: number;
  /** Why, in words, for a refusal (the KRB-ERROR's e-text). */
  detail?: string;
  /** The session key's etype of a ticket issued. */
  etype?: number;
  transport: KdcTransport;
  /** The client's address ("127.0.0.1:53124"). */
  peer: string;
  /** Time spent on it, in ms. */
  ms: number;
}

export interface KdcStats {
  as: number;
  tgs: number;
  /** Requests that were neither an AS-REQ nor a TGS-REQ (or did not decode). */
  other: number;
  /** Tickets issued. */
  issued: number;
  /** Requests refused, by the KRB-ERROR's name. */
  refused: Record<string, number>;
}

export interface KdcReply {
  reply: Uint8Array;
  record: KdcRequestRecord;
}

export class Kdc {
  readonly db: KdcDatabase;
  readonly policy: KdcPolicy;
  /** The KDC's clock (ms since 1970); tests move it to reach expiry and skew. */
  private readonly clock: () => number;
  private readonly counts: KdcStats = { as: 0, tgs: 0, other: 0, issued: 0, refused: Object.create(null) as Record<string, number> };

  constructor(db: KdcDatabase, policy: KdcPolicy, clock: () => number = Date.now) {
    this.db = db;
    this.policy = policy;
    this.clock = clock;
  }

  /** Answers one request. Never rejects: anything wrong with the bytes is a KRB-ERROR. */
  async handle(request: Uint8Array, transport: KdcTransport, peer: string): Promise<KdcReply> {
    const started = performance.now();
    const now = this.clock();
    const note: RequestNote = {};
    const type = kerberosMessageType(request[0]);
    const exchange = type === 'AS-REQ' ? 'AS' : type === 'TGS-REQ' ? 'TGS' : null;
    let req: KdcReq | undefined;
    let reply: Uint8Array;
    let errorCode = 0;
    let detail: string | undefined;
    try {
      if (exchange === null)
        throw new KdcRefusal(
          KRB_ERROR_CODE.KRB_AP_ERR_MSG_TYPE,
          `a KDC takes AS-REQ and TGS-REQ messages, not ${type ?? `bytes starting 0x${(request[0] ?? 0).toString(16)}`}`,
        );
      try {
        req = unpackKdcReq(request);
      } catch (error) {
        throw undecodableRequest(request, exchange === 'AS' ? 'AS-REQ' : 'TGS-REQ', (error as Error).message);
      }
      const ctx = { db: this.db, policy: this.policy, now };
      reply = req.msgType === KRB_MSG_TYPE.AS_REQ ? await asExchange(ctx, req, request, note) : await tgsExchange(ctx, req, note);
    } catch (error) {
      const refusal =
        error instanceof KdcRefusal
          ? error
          : new KdcRefusal(KRB_ERROR_CODE.KRB_ERR_GENERIC, `the KDC failed: ${error instanceof Error ? error.message : String(error)}`);
      errorCode = refusal.errorCode;
      detail = refusal.message;
      reply = this.error(now, refusal, req);
    }
    this.count(exchange, errorCode);
    const record: KdcRequestRecord = {
      exchange,
      client: note.client ?? null,
      server: note.server ?? null,
      result: errorCode === 0 ? 'OK' : errorName(errorCode),
      errorCode,
      transport,
      peer,
      ms: performance.now() - started,
    };
    if (detail !== undefined) record.detail = detail;
    if (errorCode === 0 && note.etype !== undefined) record.etype = note.etype;
    return { reply, record };
  }

  /**
   * KRB_ERR_RESPONSE_TOO_BIG (RFC 4120 7.2.1), for a reply that does not fit in a datagram: the
   * client asks again over TCP.
   */
  tooBig(request: Uint8Array, replyBytes: number): Uint8Array {
    let req: KdcReq | undefined;
    try {
      req = unpackKdcReq(request);
    } catch {
      req = undefined;
    }
    return this.error(
      this.clock(),
      new KdcRefusal(
        KRB_ERROR_CODE.KRB_ERR_RESPONSE_TOO_BIG,
        `the reply is ${replyBytes} bytes, more than ${this.policy.maxDatagramReplyBytes} over UDP: ask over TCP`,
      ),
      req,
    );
  }

  /** KRB_ERR_FIELD_TOOLONG (RFC 4120 7.2.2), for a TCP request longer than the KDC takes or with the length's reserved bit set. */
  tooLong(why: string): Uint8Array {
    return this.error(this.clock(), new KdcRefusal(KRB_ERROR_CODE.KRB_ERR_FIELD_TOOLONG, why), undefined);
  }

  stats(): KdcStats {
    return { ...this.counts, refused: { ...this.counts.refused } };
  }

  private count(exchange: 'AS' | 'TGS' | null, errorCode: number): void {
    if (exchange === 'AS') this.counts.as++;
    else if (exchange === 'TGS') this.counts.tgs++;
    else this.counts.other++;
    if (errorCode === 0) this.counts.issued++;
    else {
      const name = errorName(errorCode);
      this.counts.refused[name] = (this.counts.refused[name] ?? 0) + 1;
    }
  }

  /** A KRB-ERROR (RFC 4120 5.9.1) naming the request's realm and service when it said them. */
  private error(now: number, refusal: KdcRefusal, req: KdcReq | undefined): Uint8Array {
    const realm = req?.reqBody.realm ?? this.db.realm;
    const sname: PrincipalName = req?.reqBody.sname ?? { nameType: this.db.krbtgt.nameType, nameString: ['krbtgt', this.db.realm] };
    return packKrbError({
      stime: kerberosTime(now),
      susec: Math.floor(now % 1000) * 1000,
      errorCode: refusal.errorCode,
      ...(refusal.cname === undefined ? {} : { crealm: realm, cname: refusal.cname }),
      realm,
      sname,
      eText: refusal.message,
      ...(refusal.eData === undefined ? {} : { eData: refusal.eData }),
    });
  }
}
