// What the socket client commands (connect, fetch) share: a HOST:PORT, an explicit identity, and
// one client process on a machine of its own that runs the app.

import { writeFile } from 'node:fs/promises';
import { AppProcess, Machine, formatTimeline } from '../machine/index.js';
import type { AppResult } from '../process/index.js';
import { lsaIsolation, packageList, wholeNumber } from './options.js';
import { UsageError } from './usage.js';

/** The exit status of a client command whose peer could not be reached or hung up: no SSPI status to blame. */
export const NETWORK_FAILURE_EXIT = 3;

/** The options of a socket client command that say what to authenticate with and how long to try. */
export interface ClientCommandValues {
  package?: string;
  load?: string[];
  user?: string;
  domain?: string;
  password?: string;
  timeout?: string;
  trace?: string;
  'lsa-isolation'?: string;
}

/** The settings every socket client app takes: the package, the identity and a deadline. */
export interface ClientAppSettings {
  package: string;
  user: string;
  domain: string;
  password: string;
  timeoutMs: number;
}

/**
 * Boots a machine with the package named by --package/--load, runs one app in a client process
 * with the identity and deadline from the options, writes the --trace timeline and shuts down.
 */
export async function runClientApp(
  values: ClientCommandValues,
  defaultTimeoutMs: number,
  run: (client: AppProcess, settings: ClientAppSettings) => Promise<AppResult>,
): Promise<AppResult> {
  const identity = userIdentity(values.user, values.domain, values.password);
  const timeoutMs = wholeNumber(values.timeout, '--timeout', defaultTimeoutMs, 1);
  const { packages, packageName } = packageList(values.load, values.package ?? 'ntlm');
  const machine = await Machine.boot({ packages, accounts: [], trace: values.trace !== undefined, ...lsaIsolation(values['lsa-isolation']) });
  try {
    const result = await run(await machine.spawn('client'), { package: packageName ?? 'ntlm', ...identity, timeoutMs });
    if (values.trace !== undefined) await writeFile(values.trace, formatTimeline(await machine.events()) + '\n');
    return result;
  } finally {
    await machine.shutdown();
  }
}

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
