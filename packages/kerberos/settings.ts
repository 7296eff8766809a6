// The Kerberos package's settings: what Windows keeps under HKLM\SYSTEM\CurrentControlSet\Control\Lsa\
// Kerberos\Parameters and learns from the domain it joined (the realm, its KDCs through the DC
// locator), given here by the LSA configuration's entry "kerberos" as SECPKG_PARAMETERS.PackageSettings
// (Machine.boot({ packageSettings: { kerberos: { ... } } }), or the CLI's --realm, --kdc, --keytab).
//
//   realm                  the realm this machine belongs to (EXAMPLE.TEST). None: the machine is in
//                          no realm, and every InitializeSecurityContext answers
//                          SEC_E_NO_AUTHENTICATING_AUTHORITY at once, without a packet (so Negotiate
//                          falls back to NTLM), and an inbound credential is SEC_E_NO_CREDENTIALS.
//   kdc                    its KDCs, "host:port" (port 88 when left out), one or a list, tried in
//                          order. The DC locator's DNS SRV lookup is not emulated: a realm without a
//                          kdc has none to ask (SEC_E_NO_AUTHENTICATING_AUTHORITY).
//   keytab                 an MIT keytab (0x0502) holding this machine's service keys, for the acceptor
//                          (a member server's own keys; MIT's kadmin ktadd writes one). Read at
//                          SpInitialize, so a bad file stops the load naming it, and again at each
//                          inbound AcquireCredentialsHandle (a key added since is found).
//   services               service principals (host/server.example.test) whose keys the acceptor
//                          derives from the LSA's account store: the account of that name's password,
//                          salted as MIT and Windows salt by default (the realm, then the name's
//                          components). The domain's machine accounts will use this.
//   maxClockSkewSeconds    how far a peer's clock may be from ours (authenticators, ticket times);
//                          default 300, Windows' and MIT's five minutes. Outside it: SEC_E_TIME_SKEW.
//   etypes                 the encryption types asked for and accepted, most preferred first, by
//                          number or MIT name; default aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96,
//                          aes256-cts-hmac-sha384-192, aes128-cts-hmac-sha256-128.
//   udpPreferenceLimit     a KDC request longer than this goes over TCP first; shorter ones go over UDP
//                          first, then TCP (RFC 4120 7.2.1; MIT's udp_preference_limit, default 1465);
//                          1 means TCP always.
//   kdcTimeoutMs           how long one call may spend talking to KDCs, all requests and KDCs
//                          together (default 5000); past it the call answers
//                          SEC_E_NO_AUTHENTICATING_AUTHORITY. Keep it below the LSA's
//                          packageCallTimeoutMs (10 s by default).
//   ticketLifetimeSeconds  the lifetime asked for a TGT (default 36000, ten hours); the KDC may give less.
//   clockOffsetSeconds     this machine's clock runs that far from the host's (default 0): what a
//                          machine with a wrong clock sees, for trying SEC_E_TIME_SKEW.
//
// An unknown key or a value of the wrong type makes SpInitialize throw, so the LSA's load diagnostic
// names the setting (a typo must not silently leave the default in force).

import { readFileSync } from 'node:fs';
import { isSupportedEtype, SUPPORTED_ETYPES, encryptionTypeInfo } from './crypto/index.js';
import { EmuError } from '../kit/index.js';
import { unpackKeytab, type KeytabEntry } from './keytab.js';

export interface KdcAddress {
  readonly host: string;
  readonly port: number;
}

export interface KerberosSettings {
  readonly realm: string | undefined;
  readonly kdcs: readonly KdcAddress[];
  readonly keytab: string | undefined;
  readonly services: readonly string[];
  readonly maxClockSkewSeconds: number;
  readonly etypes: readonly number[];
  readonly udpPreferenceLimit: number;
  readonly kdcTimeoutMs: number;
  readonly ticketLifetimeSeconds: number;
  readonly clockOffsetSeconds: number;
}

export const KERBEROS_PORT = 88;

export const DEFAULT_SETTINGS: KerberosSettings = Object.freeze({
  realm: undefined,
  kdcs: [],
  keytab: undefined,
  services: [],
  maxClockSkewSeconds: 300,
  etypes: SUPPORTED_ETYPES,
  udpPreferenceLimit: 1465,
  kdcTimeoutMs: 5000,
  ticketLifetimeSeconds: 36_000,
  clockOffsetSeconds: 0,
});

/** A package setting that cannot be used; its message names the setting. */
export class KerberosSettingsError extends EmuError<'BAD_SETTING'> {
  override readonly name = 'KerberosSettingsError';
  constructor(message: string) {
    super('BAD_SETTING', message);
  }
}

const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'realm',
  'kdc',
  'keytab',
  'services',
  'maxClockSkewSeconds',
  'etypes',
  'udpPreferenceLimit',
  'kdcTimeoutMs',
  'ticketLifetimeSeconds',
  'clockOffsetSeconds',
]);

/** Reads PackageSettings; throws KerberosSettingsError for an unknown key or a bad value. */
export function parseSettings(raw: Readonly<Record<string, unknown>>): KerberosSettings {
  for (const key of Object.keys(raw))
    if (!KNOWN_KEYS.has(key)) throw new KerberosSettingsError(`unknown Kerberos setting ${JSON.stringify(key)} (known: ${[...KNOWN_KEYS].join(', ')})`);
  const realm = optionalString('realm', raw.realm);
  if (realm !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(realm))
    throw new KerberosSettingsError(`realm must be a realm name such as EXAMPLE.TEST, not ${JSON.stringify(realm)}`);
  const settings: KerberosSettings = {
    realm,
    kdcs: kdcList(raw.kdc),
    keytab: optionalString('keytab', raw.keytab),
    services: stringList('services', raw.services),
    maxClockSkewSeconds: number('maxClockSkewSeconds', raw.maxClockSkewSeconds, DEFAULT_SETTINGS.maxClockSkewSeconds, 0, 7 * 24 * 3600),
    etypes: etypeList(raw.etypes),
    udpPreferenceLimit: number('udpPreferenceLimit', raw.udpPreferenceLimit, DEFAULT_SETTINGS.udpPreferenceLimit, 1, 65_535),
    kdcTimeoutMs: number('kdcTimeoutMs', raw.kdcTimeoutMs, DEFAULT_SETTINGS.kdcTimeoutMs, 1, 600_000),
    ticketLifetimeSeconds: number('ticketLifetimeSeconds', raw.ticketLifetimeSeconds, DEFAULT_SETTINGS.ticketLifetimeSeconds, 60, 10 * 365 * 24 * 3600),
    clockOffsetSeconds: number('clockOffsetSeconds', raw.clockOffsetSeconds, 0, -10 * 365 * 24 * 3600, 10 * 365 * 24 * 3600),
  };
  if (settings.keytab !== undefined) readKeytabFile(settings.keytab); // a bad file stops the load, naming it
  return settings;
}

/** The keytab's entries; KerberosSettingsError naming the file when it cannot be read or is not a keytab. */
export function readKeytabFile(path: string): KeytabEntry[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new KerberosSettingsError(`keytab ${path} cannot be read: ${(error as Error).message}`);
  }
  try {
    return unpackKeytab(bytes);
  } catch (error) {
    throw new KerberosSettingsError(`keytab ${path} is not an MIT keytab: ${(error as Error).message}`);
  }
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  throw new KerberosSettingsError(`${name} must be a non-empty string, not ${JSON.stringify(value)}`);
}

function stringList(name: string, value: unknown): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (Array.isArray(list) && list.every((v) => typeof v === 'string' && v.length > 0)) return [...(list as string[])];
  throw new KerberosSettingsError(`${name} must be a string or a list of strings, not ${JSON.stringify(value)}`);
}

function number(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  throw new KerberosSettingsError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
}

/** "host:port", "host" (port 88), "[::1]:88". */
export function parseKdcAddress(text: string): KdcAddress | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (match === null) return undefined;
  const port = match[3] === undefined ? KERBEROS_PORT : Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

function kdcList(value: unknown): KdcAddress[] {
  const list = stringList('kdc', value);
  return list.map((text) => {
    const address = parseKdcAddress(text);
    if (address === undefined) throw new KerberosSettingsError(`kdc ${JSON.stringify(text)} is not HOST or HOST:PORT`);
    return address;
  });
}

function etypeList(value: unknown): readonly number[] {
  if (value === undefined) return DEFAULT_SETTINGS.etypes;
  if (!Array.isArray(value) || value.length === 0) throw new KerberosSettingsError(`etypes must be a non-empty list, not ${JSON.stringify(value)}`);
  const names = new Map(SUPPORTED_ETYPES.map((e) => [encryptionTypeInfo(e).name, e]));
  const out: number[] = [];
  for (const item of value) {
    const etype = typeof item === 'number' ? item : typeof item === 'string' ? names.get(item) : undefined;
    if (etype === undefined || !isSupportedEtype(etype))
      throw new KerberosSettingsError(`etypes: ${JSON.stringify(item)} is not a supported encryption type (${[...names.keys()].join(', ')}, or their numbers)`);
    if (!out.includes(etype)) out.push(etype);
  }
  return out;
}
