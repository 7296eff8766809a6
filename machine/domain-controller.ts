// A domain controller's configuration, as the machine makes it for its LSA's KDC: the realm, where
// the KDC listens, its policy, and its database besides the users (the accounts): krbtgt/REALM
// and the services. Keys not made from a password (krbtgt's, a computer-like service's) are made
// here, once, at random: the LSA gets them with its configuration, so that a restarted LSA finds
// the same keys, as a DC's directory outlives a reboot, and tickets issued before still open.
// Everything is checked here, so that a bad option fails Machine.boot with BAD_OPTION before any
// LSA starts.

import { makeRandomKey } from '../packages/kerberos/crypto/index.js';
import {
  checkRealm,
  KDC_DEFAULT_ETYPES,
  KdcDatabase,
  kdcPolicy,
  parsePrincipal,
  type KdcPolicy,
  type KdcPrincipalSpec,
  type KdcRequestRecord,
} from '../packages/kerberos/kdc/index.js';
import { SspiEmuError } from '../ipc/index.js';
import type { Account, KdcConfig } from '../lsa/index.js';

export type MachineRole = 'workstation' | 'domain-controller';
export const DOMAIN_CONTROLLER = 'domain-controller';
export const MACHINE_ROLES: readonly MachineRole[] = ['workstation', 'domain-controller'];

/** MachineOptions.kdc: a domain controller's KDC. */
export interface KdcOptions {
  /** Where it listens, UDP and TCP; default 127.0.0.1 (loopback: nothing outside this host reaches it). */
  host?: string;
  /** Its port, 0 to 65535; default 0, a free one (machine.kdcAddress says which; kept across restartLsa). */
  port?: number;
  /** The realm's Kerberos policy: ticket lifetimes, clock skew, the transport's limits (packages/kerberos/kdc/policy.ts). */
  policy?: Partial<KdcPolicy>;
  /** Told of each request the KDC answers: AS or TGS, the principals, the result (`sspi-emu dc` prints them). */
  onRequest?: (record: KdcRequestRecord) => void;
}

/** MachineOptions.services' object form: a service principal in the domain controller's database. */
export interface KdcServiceOptions {
  /** "host/server.example.test", with or without "@REALM" (which must be the realm). */
  principal: string;
  /** Its keys made from this password (and `salt`); without one, a random key of each etype. */
  password?: string;
  /** The salt of a password's keys; default the realm's, REALM followed by the name's components. */
  salt?: string;
  /** Key version number, default 1. */
  kvno?: number;
  /** The etypes it has keys for, the first preferred for its tickets; default 18, 17, 20, 19. */
  etypes?: number[];
  /** Whether an AS-REQ for it as a client needs pre-authentication (default true). */
  requiresPreauth?: boolean;
}

/** "host/server.example.test:password" or "host/server.example.test" (random keys), as `sspi-emu dc --service` takes it. */
export function parseServiceSpec(spec: string): KdcServiceOptions {
  const colon = spec.indexOf(':');
  return colon < 0 ? { principal: spec } : { principal: spec.slice(0, colon), password: spec.slice(colon + 1) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function badOption(message: string, cause?: unknown): SspiEmuError {
  return new SspiEmuError('BAD_OPTION', message, cause === undefined ? undefined : { cause });
}

/** The LSA's KDC configuration for a machine booted with role 'domain-controller'. */
export function domainControllerConfig(
  options: { realm?: string; kdc?: KdcOptions; services?: Array<string | KdcServiceOptions> },
  accounts: readonly Account[],
): KdcConfig {
  const realm = options.realm;
  if (realm === undefined) throw badOption("a domain controller needs a realm (realm: 'EXAMPLE.TEST')");
  try {
    checkRealm(realm);
  } catch (error) {
    throw badOption(`realm: ${messageOf(error)}`, error);
  }
  const kdc = options.kdc ?? {};
  if (typeof kdc !== 'object' || kdc === null) throw badOption('kdc is an object: { host?, port?, policy?, onRequest? }');
  const host = kdc.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) throw badOption(`kdc.host must be an address, not ${JSON.stringify(host)}`);
  const port = kdc.port ?? 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) throw badOption(`kdc.port must be a whole number from 0 to 65535, not ${String(port)}`);
  if (kdc.onRequest !== undefined && typeof kdc.onRequest !== 'function') throw badOption('kdc.onRequest must be a function');
  let policy: Partial<KdcPolicy>;
  try {
    policy = { ...(kdc.policy ?? {}) };
    kdcPolicy(policy);
  } catch (error) {
    throw badOption(`kdc.policy: ${messageOf(error)}`, error);
  }

  // The names taken so far, case ignored as the KDC looks them up: the users first.
  const taken = new Map<string, string>();
  for (const account of accounts) taken.set(account.user.toLowerCase(), `the account ${account.user}`);
  taken.set(`krbtgt/${realm.toLowerCase()}`, `krbtgt/${realm}`);
  const principals: KdcPrincipalSpec[] = [{ components: ['krbtgt', realm], kind: 'krbtgt', keys: KDC_DEFAULT_ETYPES.map(makeRandomKey) }];
  for (const given of options.services ?? []) {
    const service = typeof given === 'string' ? parseServiceSpec(given) : given;
    if (typeof service !== 'object' || service === null || typeof service.principal !== 'string')
      throw badOption(`a service is "SPN[:PASSWORD]" or { principal, password?, salt?, kvno?, etypes? }, not ${JSON.stringify(given)}`);
    let parsed;
    try {
      parsed = parsePrincipal(service.principal);
    } catch (error) {
      throw badOption(`service ${JSON.stringify(service.principal)}: ${messageOf(error)}`, error);
    }
    if (parsed.realm !== undefined && parsed.realm !== realm)
      throw badOption(`service ${service.principal} is in realm ${parsed.realm}, not ${realm}: cross-realm is not implemented`);
    const name = parsed.components.join('/');
    const clash = taken.get(name.toLowerCase());
    if (clash !== undefined) throw badOption(`service ${name} is named twice (${clash} has that name)`);
    taken.set(name.toLowerCase(), `the service ${name}`);
    const etypes = service.etypes ?? [...KDC_DEFAULT_ETYPES];
    const spec: KdcPrincipalSpec = { components: parsed.components, kind: 'service', etypes };
    if (service.password !== undefined) spec.password = service.password;
    else {
      try {
        spec.keys = etypes.map(makeRandomKey);
      } catch (error) {
        throw badOption(`service ${name}: etypes ${JSON.stringify(etypes)}: ${messageOf(error)}`, error);
      }
    }
    if (service.salt !== undefined) spec.salt = service.salt;
    if (service.kvno !== undefined) spec.kvno = service.kvno;
    if (service.requiresPreauth !== undefined) spec.requiresPreauth = service.requiresPreauth;
    principals.push(spec);
  }
  // The database as the LSA will open it (kvnos, etypes, salts, names), checked here: a bad one fails the boot before the LSA starts.
  try {
    KdcDatabase.check(realm, [...principals, ...accounts.map((a): KdcPrincipalSpec => ({ components: [a.user], kind: 'user', password: a.password }))]);
  } catch (error) {
    throw badOption(messageOf(error), error);
  }
  return { realm, host, port, principals, policy, reportRequests: kdc.onRequest !== undefined };
}
