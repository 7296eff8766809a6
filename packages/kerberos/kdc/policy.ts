// The KDC's policy: what Windows calls the domain's Kerberos policy (Group Policy, "Account
// Policies/Kerberos Policy") and MIT the realm's kdc.conf limits, with Windows' defaults, and the
// limits of its transport (RFC 4120 7.2). Checked once, when the KDC is configured.

import { KdcError } from './errors.js';

export interface KdcPolicy {
  /** A ticket's longest life: "Maximum lifetime for user ticket", 10 hours (MIT's max_life). */
  maxLifeMs: number;
  /** How long after its start a ticket may be renewed: "Maximum lifetime for user ticket renewal", 7 days. */
  maxRenewMs: number;
  /** "Maximum tolerance for computer clock synchronization": 5 minutes (RFC 4120 1.6's usual skew). */
  clockSkewMs: number;
  /**
   * The largest reply sent over UDP; a larger one is answered with KRB_ERR_RESPONSE_TOO_BIG so that
   * the client asks again over TCP (RFC 4120 7.2.1). Windows' MaxDatagramReplySize: 1465 bytes.
   */
  maxDatagramReplyBytes: number;
  /** The largest request taken, over TCP or UDP; a longer TCP one is answered KRB_ERR_FIELD_TOOLONG and closed. */
  maxRequestBytes: number;
  /** A TCP connection that leaves a request unfinished, or sends nothing, for this long is closed. */
  idleTimeoutMs: number;
  /** TCP connections served at once; more are closed as they come. */
  maxConnections: number;
}

const HOUR = 3_600_000;

export const DEFAULT_KDC_POLICY: Readonly<KdcPolicy> = Object.freeze({
  maxLifeMs: 10 * HOUR,
  maxRenewMs: 7 * 24 * HOUR,
  clockSkewMs: 5 * 60_000,
  maxDatagramReplyBytes: 1465,
  // Windows takes requests up to 64 KiB (its MaxPacketSize for Kerberos over TCP is larger, for PACs; ours carry none).
  maxRequestBytes: 65_536,
  idleTimeoutMs: 30_000,
  maxConnections: 1024,
});

/** Each value's range: a policy outside it is refused, naming the value. */
const RANGES: Readonly<Record<keyof KdcPolicy, readonly [number, number]>> = {
  maxLifeMs: [60_000, 365 * 24 * HOUR],
  maxRenewMs: [0, 10 * 365 * 24 * HOUR],
  clockSkewMs: [0, 24 * HOUR],
  // A KRB-ERROR saying RESPONSE_TOO_BIG must itself fit.
  maxDatagramReplyBytes: [256, 65_507],
  maxRequestBytes: [1024, 16 << 20],
  idleTimeoutMs: [100, 3_600_000],
  maxConnections: [1, 65_536],
};

/** The policy with the caller's values in place of the defaults; KdcError BAD_CONFIG for one out of range. */
export function kdcPolicy(asked: Partial<KdcPolicy> = {}): KdcPolicy {
  const policy: KdcPolicy = { ...DEFAULT_KDC_POLICY };
  for (const [name, value] of Object.entries(asked)) {
    const range = (RANGES as Record<string, readonly [number, number] | undefined>)[name];
    if (range === undefined) throw new KdcError('BAD_CONFIG', `the KDC policy has no value ${JSON.stringify(name)}`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < range[0] || value > range[1])
      throw new KdcError('BAD_CONFIG', `the KDC policy's ${name} must be a whole number from ${range[0]} to ${range[1]}, not ${String(value)}`);
    policy[name as keyof KdcPolicy] = value;
  }
  return policy;
}
