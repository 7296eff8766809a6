// Options shared by the socket commands (connect, fetch): a HOST:PORT and an explicit identity.

import { UsageError } from './usage.js';

/** "HOST:PORT" (an IPv6 host in brackets). */
export function hostPort(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port < 1 || port > 65535) throw new UsageError(`--tcp ${JSON.stringify(value)} is not HOST:PORT`);
  return { host: match[1] ?? match[2]!, port };
}

/** --user (DOMAIN\user too), --domain, --password as an explicit identity. */
export function userIdentity(
  user: string | undefined,
  domain: string | undefined,
  password: string | undefined,
): { user: string; domain: string; password: string } {
  if (user === undefined || password === undefined) throw new UsageError('--user and --password are required');
  const slash = user.indexOf('\\');
  if (slash >= 0 && domain !== undefined) throw new UsageError('give the domain either in --user DOMAIN\\user or with --domain, not both');
  const name = slash >= 0 ? user.slice(slash + 1) : user;
  if (name.length === 0) throw new UsageError('--user is empty');
  return { user: name, domain: slash >= 0 ? user.slice(0, slash) : (domain ?? ''), password };
}
