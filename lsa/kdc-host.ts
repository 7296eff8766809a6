// A domain controller's KDC, hosted in its LSA as Windows hosts kdcsvc.dll in lsass: the account
// database is made from the LSA's own account store (the domain's users) and the principals the
// machine configured (services, krbtgt/REALM), its password keys derived on the LSA's work pool
// (string-to-key is PBKDF2: 1 to 18 ms a key), and it answers on real UDP and TCP sockets of the
// LSA's thread or OS process. Each request passes two call points, 'AS-REQ' or 'TGS-REQ' (call,
// then return with the result), so that the trace shows the DC's side and a fault plan can kill
// or stall the LSA in the middle of an exchange.

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CallPoints } from '../hosting/index.js';
import { stringToKeyFromPbkdf2, stringToKeyPbkdf2, type EncryptionKey } from '../packages/kerberos/crypto/index.js';
import {
  Kdc,
  KdcDatabase,
  KdcListener,
  kdcPolicy,
  type KdcAddress,
  type KdcDatabaseProgress,
  type KdcListenerStats,
  type KdcPolicy,
  type KdcPrincipalSpec,
  type KdcRequestRecord,
  type KdcStats,
  type KeyDeriver,
} from '../packages/kerberos/kdc/index.js';
import { packKeytab } from '../packages/kerberos/wire.js';
import type { Account } from './accounts.js';
import type { LsaWorkPool } from './work-pool.js';

/** What the machine configures of a domain controller's KDC (LsaConfig.kdc); structured-cloneable. */
export interface KdcConfig {
  realm: string;
  /** Where it listens (UDP and TCP); port 0 picks one (a restarted LSA is given the one picked). */
  host: string;
  port: number;
  /**
   * The principals besides the LSA's accounts (which become its users): krbtgt/REALM and the
   * services, with a password or keys (the machine makes random keys once, so that they outlive
   * an LSA restart as a DC's database outlives a reboot).
   */
  principals: KdcPrincipalSpec[];
  policy: Partial<KdcPolicy>;
  /** Post each request's record to the machine (MachineOptions.kdc.onRequest; `sspi-emu dc` prints them). */
  reportRequests: boolean;
}

/** The KDC as the machine sees it: where it listens, its database, what it did. */
export interface KdcStatus {
  realm: string;
  address: KdcAddress;
  /** Principals and how many have their keys made yet. */
  keys: KdcDatabaseProgress;
  requests: KdcStats;
  listener: KdcListenerStats;
  policy: KdcPolicy;
}

export class KdcHost {
  readonly kdc: Kdc;
  private readonly listener: KdcListener;

  private constructor(kdc: Kdc, listener: KdcListener) {
    this.kdc = kdc;
    this.listener = listener;
  }

  /**
   * Makes the database (its keys derived from now on, on `work`), and listens. Rejects with a
   * KdcError (BAD_CONFIG, LISTEN_FAILED) when it cannot.
   */
  static async start(
    config: KdcConfig,
    accounts: readonly Account[],
    work: LsaWorkPool,
    points: CallPoints,
    report?: (record: KdcRequestRecord) => void,
  ): Promise<KdcHost> {
    const policy = kdcPolicy(config.policy);
    const users: KdcPrincipalSpec[] = accounts.map((a) => ({ components: [a.user], kind: 'user', password: a.password }));
    const db = KdcDatabase.open(config.realm, [...config.principals, ...users], poolDeriver(work));
    const kdc = new Kdc(db, policy);
    const call = (exchange: 'AS' | 'TGS' | null): string => (exchange === 'AS' ? 'AS-REQ' : exchange === 'TGS' ? 'TGS-REQ' : 'KDC-REQ');
    const listener = await KdcListener.listen(
      kdc,
      { host: config.host, port: config.port },
      {
        before: (exchange, transport, peer) => {
          if (points.active) points.point(call(exchange), 'call', { peer, detail: transport });
        },
        after: (record) => {
          if (points.active)
            points.point(call(record.exchange), 'return', {
              status: record.result,
              peer: record.peer,
              detail: `${record.client ?? '?'} -> ${record.server ?? '?'}${record.detail === undefined ? '' : `: ${record.detail}`}`,
            });
          if (config.reportRequests) report?.(record);
        },
      },
    );
    return new KdcHost(kdc, listener);
  }

  get address(): KdcAddress {
    return this.listener.address;
  }

  status(): KdcStatus {
    return {
      realm: this.kdc.db.realm,
      address: { ...this.listener.address },
      keys: this.kdc.db.progress(),
      requests: this.kdc.stats(),
      listener: this.listener.stats(),
      policy: { ...this.kdc.policy },
    };
  }

  /** An MIT keytab (0x0502) of the services' keys, for MIT acceptors (`sspi-emu dc --export-keytab`), as ktpass makes one on a DC. */
  async exportKeytab(): Promise<Uint8Array> {
    return packKeytab(await this.kdc.db.keytab());
  }

  close(): Promise<void> {
    return this.listener.close();
  }
}

/**
 * string-to-key with its PBKDF2 on the LSA's work pool (BCryptDeriveKeyPBKDF2, the routine the
 * pool already runs for packages) and its last step (DK or RFC 8009's KDF, microseconds) here.
 * With the pool off, the PBKDF2 runs inline, one key per turn of the event loop, so that the
 * LSA's calls and the KDC's requests are served between keys.
 */
export function poolDeriver(work: LsaWorkPool): KeyDeriver {
  return async (etype, password, salt): Promise<EncryptionKey> => {
    const p = stringToKeyPbkdf2(etype, password, salt);
    if (work.threads === 0) await nextTurn();
    const outcome = await work.run({
      routine: 'BCryptDeriveKeyPBKDF2',
      parameter: { Prf: p.prf, Password: p.password, Salt: p.salt, Iterations: p.iterations, DerivedKeyLength: p.keyLength },
    });
    if (!outcome.ok) throw new Error(`string-to-key on the LSA work pool failed: ${outcome.reason}`);
    return stringToKeyFromPbkdf2(etype, outcome.output);
  };
}

/** A KDC request record as it arrives at the machine, checked; undefined for anything else. */
export function decodeKdcRequestRecord(value: unknown): KdcRequestRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<Record<keyof KdcRequestRecord, unknown>>;
  const text = (v: unknown): v is string => typeof v === 'string';
  const textOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
  if (r.exchange !== 'AS' && r.exchange !== 'TGS' && r.exchange !== null) return undefined;
  if (!textOrNull(r.client) || !textOrNull(r.server) || !text(r.result) || !text(r.peer)) return undefined;
  if (typeof r.errorCode !== 'number' || typeof r.ms !== 'number' || (r.transport !== 'tcp' && r.transport !== 'udp')) return undefined;
  const record: KdcRequestRecord = {
    exchange: r.exchange,
    client: r.client,
    server: r.server,
    result: r.result,
    errorCode: r.errorCode,
    transport: r.transport,
    peer: r.peer,
    ms: r.ms,
  };
  if (text(r.detail)) record.detail = r.detail;
  if (typeof r.etype === 'number') record.etype = r.etype;
  return record;
}
