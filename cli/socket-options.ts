// What the socket commands share: for the clients (connect, fetch) a HOST:PORT, an explicit
// identity, and one client process on a machine of its own that runs the app; for HTTPS the
// server's certificate files (serve) and how the client trusts the server (fetch).

import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DEFAULT_EXTENDED_PROTECTION, EXTENDED_PROTECTION_LEVELS, isExtendedProtection, type ExtendedProtection } from '../app-protocols/index.js';
import { normalizeFingerprint } from '../client-proc/index.js';
import { describeError } from '../ipc/index.js';
import { AppProcess, Machine } from '../machine/index.js';
import type { AppResult } from '../process/index.js';
import { lsaIsolation, packageList, realmSettings, tracing, wholeNumber, writeTraceFiles } from './options.js';
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
  'trace-json'?: string;
  'lsa-isolation'?: string;
  realm?: string;
  kdc?: string[];
  keytab?: string;
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
 * with the identity and deadline from the options, writes the --trace and --trace-json files
 * (the machine named `command`) and shuts down.
 */
export async function runClientApp(
  values: ClientCommandValues,
  command: 'connect' | 'fetch',
  defaultTimeoutMs: number,
  run: (client: AppProcess, settings: ClientAppSettings) => Promise<AppResult>,
): Promise<AppResult> {
  const identity = userIdentity(values.user, values.domain, values.password);
  const timeoutMs = wholeNumber(values.timeout, '--timeout', defaultTimeoutMs, 1);
  const { packages, packageName } = packageList(values.load, values.package ?? 'ntlm', values.realm);
  const machine = await Machine.boot({
    packages,
    accounts: [],
    trace: tracing(values),
    ...lsaIsolation(values['lsa-isolation']),
    ...realmSettings(values),
  });
  try {
    const result = await run(await machine.spawn('client'), { package: packageName ?? 'ntlm', ...identity, timeoutMs });
    await writeTraceFiles(machine, values, command, `sspi-emu ${command}`);
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

/** --cert FILE and --key FILE as PEM text, checked: a certificate, a key, and the key the certificate's. */
export async function serverCertificate(certFile: string | undefined, keyFile: string | undefined): Promise<{ certPem: string; keyPem: string } | undefined> {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) throw new UsageError('--cert and --key go together (neither: a self-signed certificate is made)');
  const certPem = await readText(certFile, '--cert');
  const keyPem = await readText(keyFile, '--key');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch (error) {
    throw new UsageError(`--cert ${certFile} is not a PEM certificate: ${describeError(error)}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw new UsageError(`--key ${keyFile} is not a PEM private key: ${describeError(error)}`);
  }
  if (!certificate.checkPrivateKey(key)) throw new UsageError(`--key ${keyFile} is not the key of the certificate in --cert ${certFile}`);
  return { certPem, keyPem };
}

/** --extended-protection none|allowed|required. */
export function extendedProtection(value: string | undefined): ExtendedProtection {
  if (value === undefined) return DEFAULT_EXTENDED_PROTECTION;
  if (!isExtendedProtection(value)) throw new UsageError(`--extended-protection takes ${EXTENDED_PROTECTION_LEVELS.join(', ')}, not ${JSON.stringify(value)}`);
  return value;
}

/** The options of `fetch` that say how to trust an https:// server. */
export interface TrustValues {
  insecure?: boolean;
  ca?: string;
  fingerprint?: string;
}

/** --insecure, --ca FILE or --fingerprint SHA256 as the HTTP client app's args.tls (at most one; none: the system's CAs). */
export async function clientTrust(values: TrustValues): Promise<{ insecure: true } | { ca: string } | { fingerprint256: string } | undefined> {
  const given = [values.insecure === true, values.ca !== undefined, values.fingerprint !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError('give one of --insecure, --ca and --fingerprint');
  if (values.insecure === true) return { insecure: true };
  if (values.ca !== undefined) {
    const ca = await readText(values.ca, '--ca');
    try {
      new X509Certificate(ca);
    } catch (error) {
      throw new UsageError(`--ca ${values.ca} is not a PEM certificate: ${describeError(error)}`);
    }
    return { ca };
  }
  if (values.fingerprint !== undefined) {
    const fingerprint256 = normalizeFingerprint(values.fingerprint);
    if (fingerprint256 === undefined)
      throw new UsageError(`--fingerprint takes a SHA-256 fingerprint (64 hex digits, colons allowed), not ${JSON.stringify(values.fingerprint)}`);
    return { fingerprint256 };
  }
  return undefined;
}

async function readText(file: string, option: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${option} ${file}: ${describeError(error)}`);
  }
}
