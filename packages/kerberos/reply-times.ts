// The times of a KDC reply, checked against the request they answer and this machine's clock
// before its ticket is kept (RFC 4120 3.1.5, 3.3.4; MIT's verify_as_reply in get_in_tkt.c and
// krb5int_process_tgs_reply in gc_via_tkt.c make the same checks). A KDC that has the client's key
// (or the TGT's session key) can still be an impostor, a broken one or a replayed one; the times
// are what keeps it from handing the client a ticket longer-lived than asked, one not valid yet,
// or one already over, which the cache would then serve or refuse to every later call.
//
// Two kinds of refusal, as MIT tells them apart:
//   - the reply does not answer the request (MIT's KRB5_KDCREP_MODIFIED): an endtime past the
//     till asked for, a renew-till past what was asked (the AS-REQ's RENEWABLE-OK allows renewing
//     up to its till; a TGS-REP's ticket may not outlive the TGT's renewal), a renew-till before
//     the ticket's own end, a ticket that ends before it starts or has already ended, and for a
//     TGS-REP an authtime other than the TGT's (RFC 4120 5.3: the time of the initial
//     authentication, which the KDC copies from the TGT). The status is the one the client answers
//     for the other forged replies (a client or crealm not asked for):
//     SEC_E_NO_AUTHENTICATING_AUTHORITY.
//   - the clocks are too far apart (MIT's KRB5_KDCREP_SKEW): the starttime (or authtime, in its
//     absence) more than maxClockSkewSeconds from this machine's clock, and for an AS-REP the
//     authtime too (it is the time the KDC answered this very request). The client never asks for
//     postdated tickets, so a starttime in the future beyond the skew is one it did not ask for.
//     SEC_E_TIME_SKEW, as Windows answers clocks too far apart.
// A TGS-REP without a starttime starts at its authtime, which is the TGT's and may be hours old:
// only its end is then checked against the clock.

import { SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_TIME_SKEW } from '../../headers/index.js';
import type { EncKdcRepPart } from './messages/index.js';
import { failure, type KerberosFailure } from './statuses.js';

/** What the reply answers: the request's times, and for a TGS-REP the TGT it was made with. */
export interface RequestedTimes {
  /** AS-REP or TGS-REP, for the reason given. */
  readonly what: 'AS-REP' | 'TGS-REP';
  /** The request's till. */
  readonly till: Date;
  /**
   * The latest renew-till the request allows: an AS-REQ with RENEWABLE-OK, its till (RFC 4120
   * 3.1.3); a TGS-REQ, the TGT's renew-till, or its endtime if it is not renewable (RFC 4120 2.3:
   * a ticket is renewable only as far as the TGT it came from).
   */
  readonly renewLimit: Date;
  /** For a TGS-REP: the TGT's authtime, which the ticket must carry. */
  readonly tgtAuthtime?: Date;
}

const iso = (d: Date): string => (Number.isNaN(d.getTime()) ? String(d) : d.toISOString());

/** undefined when the reply's times answer the request and this clock; else the refusal. */
export function checkReplyTimes(part: EncKdcRepPart, asked: RequestedTimes, now: Date, maxClockSkewSeconds: number): KerberosFailure | undefined {
  const what = asked.what;
  const modified = (reason: string): KerberosFailure => failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, `the ${what} ${reason} (a reply modified, or not to this request)`);
  const end = part.endtime.getTime();
  const start = (part.starttime ?? part.authtime).getTime();
  // The codec reads only valid GeneralizedTimes; a NaN here would pass every comparison below.
  const times = [part.authtime, part.starttime, part.endtime, part.renewTill].filter((t): t is Date => t !== undefined);
  if (times.some((t) => Number.isNaN(t.getTime()))) return modified('carries a time that is not one');
  if (end > asked.till.getTime()) return modified(`ends ${iso(part.endtime)}, past the ${iso(asked.till)} asked for`);
  if (part.renewTill !== undefined) {
    if (part.renewTill.getTime() > asked.renewLimit.getTime())
      return modified(`is renewable until ${iso(part.renewTill)}, past the ${iso(asked.renewLimit)} the request allows`);
    if (part.renewTill.getTime() < end) return modified(`is renewable until ${iso(part.renewTill)}, before it ends (${iso(part.endtime)})`);
  }
  if (end <= start) return modified(`ends ${iso(part.endtime)}, not after it starts (${iso(new Date(start))})`);
  if (asked.tgtAuthtime !== undefined && part.authtime.getTime() !== asked.tgtAuthtime.getTime())
    return modified(`says the logon was at ${iso(part.authtime)}, not the TGT's ${iso(asked.tgtAuthtime)}`);
  if (end <= now.getTime()) return modified(`gives a ticket that ended ${iso(part.endtime)}, before this clock's ${iso(now)}`);
  const skewMs = maxClockSkewSeconds * 1000;
  const skewed = (label: string, t: Date): KerberosFailure | undefined =>
    Math.abs(t.getTime() - now.getTime()) > skewMs
      ? failure(
          SEC_E_TIME_SKEW,
          `the ${what}'s ${label} ${iso(t)} is ${Math.round((t.getTime() - now.getTime()) / 1000)} s from this clock (skew allowed: ${maxClockSkewSeconds} s)`,
        )
      : undefined;
  if (part.starttime !== undefined) return skewed('starttime', part.starttime) ?? (asked.tgtAuthtime === undefined ? skewed('authtime', part.authtime) : undefined);
  return asked.tgtAuthtime === undefined ? skewed('authtime', part.authtime) : undefined;
}
