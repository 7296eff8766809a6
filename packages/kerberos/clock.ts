// Time as Kerberos carries it: KerberosTime is a GeneralizedTime of whole seconds, and the
// microseconds of an authenticator, a timestamp or an AP-REP go beside it (cusec, pausec).

/** A Date cut to its whole second (what a KerberosTime can hold). */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** A moment as KerberosTime and Microseconds. */
export function kerberosTimestamp(date: Date): { time: Date; usec: number } {
  const ms = date.getTime();
  return { time: new Date(Math.floor(ms / 1000) * 1000), usec: (((ms % 1000) + 1000) % 1000) * 1000 };
}

/** A KerberosTime and Microseconds as milliseconds since 1970 (microseconds cut to milliseconds). */
export function timestampMs(time: Date, usec: number): number {
  return time.getTime() + Math.floor(usec / 1000);
}
