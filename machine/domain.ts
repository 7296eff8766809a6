// Netlogon's configuration, as the machine makes it for its LSA: a domain controller's (where it
// listens, its members' machine accounts) and a domain member's (its domain, its DC, its machine
// account). A member "joins" by being given the machine account both sides share: the DC is told
// "MEMBER:SECRET" (MachineOptions.machineAccounts, `sspi-emu dc --machine`), the member its DC and
// the same secret (MachineOptions.join, `serve --domain --dc --machine`), as an offline domain
// join (djoin) or a pre-created computer account provisions both ends. The secret never crosses a
// socket: the two sides prove it to each other (packages/ntlm/netlogon).
// Everything is checked here, so that a bad option fails Machine.boot with BAD_OPTION before any
// LSA starts.

import { SspiEmuError } from '../ipc/index.js';
import type { NetlogonMemberConfig, NetlogonServerConfig, NetlogonServerRecord } from '../lsa/index.js';

/** MachineOptions.netlogon: a domain controller's Netlogon. */
export interface NetlogonOptions {
  /** Where it listens (TCP); default 127.0.0.1. */
  host?: string;
  /** Its port, 0 to 65535; default 0, a free one (machine.netlogonAddress says which; kept across restartLsa). */
  port?: number;
  /** Told of each call it answers (NetrServerReqChallenge, NetrServerAuthenticate3, NetrLogonSamLogonEx); `sspi-emu dc` prints them. */
  onRequest?: (record: NetlogonServerRecord) => void;
}

/** A member's machine account: "NAME:SECRET" or its object form. */
export interface MachineAccountOptions {
  /** The computer's NetBIOS name; its account is NAME$. */
  name: string;
  password: string;
}

/** MachineOptions.join: the domain a workstation or member server has joined. */
export interface DomainJoinOptions {
  /** The domain: its NetBIOS name ("EXAMPLE") or its DNS name or realm ("EXAMPLE.TEST", whose NetBIOS name is then EXAMPLE). */
  domain: string;
  /** Its DNS name, when `domain` is the NetBIOS one; default `domain` in lower case. */
  dnsName?: string;
  /** The DC's Netlogon: "HOST:PORT" or { host, port } (`sspi-emu dc` prints it: "netlogon listening on HOST:PORT"). */
  dc: string | { host: string; port: number };
  /** This machine's account, "NAME:SECRET" or { name, password }: the secret the DC was given for it. The machine's computer name is NAME. */
  machineAccount: string | MachineAccountOptions;
  /**
   * How long a pass-through logon may take, the secure channel included, before the logon fails
   * with SEC_E_NO_AUTHENTICATING_AUTHORITY (a DC down or stalled); default 4000 ms. It must be
   * shorter than packageCallTimeoutMs, so that the client learns the status, not a timeout.
   */
  timeoutMs?: number;
}

export const DEFAULT_NETLOGON_TIMEOUT_MS = 4000;

function badOption(message: string): SspiEmuError {
  return new SspiEmuError('BAD_OPTION', message);
}

/** A NetBIOS computer or domain name: 1 to 15 characters, none of those Windows forbids. */
const NETBIOS = /^[A-Za-z0-9!#%&'()\-^_{}~]{1,15}$/;

/** "NAME:SECRET" or { name, password }, checked. */
export function parseMachineAccount(given: string | MachineAccountOptions, what: string): MachineAccountOptions {
  let account: MachineAccountOptions;
  if (typeof given === 'string') {
    const colon = given.indexOf(':');
    if (colon <= 0) throw badOption(`${what} ${JSON.stringify(given)} is not NAME:SECRET`);
    account = { name: given.slice(0, colon), password: given.slice(colon + 1) };
  } else if (typeof given === 'object' && given !== null) account = given;
  else throw badOption(`${what} is "NAME:SECRET" or { name, password }, not ${JSON.stringify(given)}`);
  const name = account.name.endsWith('$') ? account.name.slice(0, -1) : account.name;
  if (typeof name !== 'string' || !NETBIOS.test(name))
    throw badOption(`${what}: ${JSON.stringify(account.name)} is not a computer name (1 to 15 letters, digits, - or _)`);
  if (typeof account.password !== 'string' || account.password.length === 0) throw badOption(`${what} ${name}: the machine secret is empty`);
  return { name: name.toUpperCase(), password: account.password };
}

/** "HOST:PORT" or { host, port }, checked. */
export function parseHostPort(given: string | { host: string; port: number }, what: string): { host: string; port: number } {
  let host: unknown;
  let port: unknown;
  if (typeof given === 'string') {
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(given);
    if (match === null) throw badOption(`${what} ${JSON.stringify(given)} is not HOST:PORT`);
    host = match[1] ?? match[2];
    port = Number(match[3]);
  } else if (typeof given === 'object' && given !== null) ({ host, port } = given);
  if (typeof host !== 'string' || host.length === 0) throw badOption(`${what}: the host must be an address, not ${JSON.stringify(host)}`);
  if (typeof port !== 'number' || !Number.isSafeInteger(port) || port < 1 || port > 65535)
    throw badOption(`${what}: the port must be a whole number from 1 to 65535, not ${String(port)}`);
  return { host, port };
}

/** The NetBIOS and DNS names of a domain given by either ("EXAMPLE" or "EXAMPLE.TEST"). */
export function domainNames(name: string, dnsName: string | undefined): { domainName: string; dnsDomainName: string } {
  if (typeof name !== 'string' || name.length === 0)
    throw badOption(`join.domain must be the domain's name ("EXAMPLE" or "EXAMPLE.TEST"), not ${JSON.stringify(name)}`);
  const netbios = name.includes('.') ? name.split('.')[0]! : name;
  if (!NETBIOS.test(netbios)) throw badOption(`join.domain: ${JSON.stringify(netbios)} is not a NetBIOS domain name`);
  return { domainName: netbios.toUpperCase(), dnsDomainName: (dnsName ?? name).toLowerCase() };
}

/** A member's Netlogon configuration (and its computer name: its machine account's). */
export function memberConfig(join: DomainJoinOptions, packageCallTimeoutMs: number): { netlogon: NetlogonMemberConfig; computerName: string } {
  if (typeof join !== 'object' || join === null) throw badOption('join is an object: { domain, dc, machineAccount, dnsName?, timeoutMs? }');
  const { domainName, dnsDomainName } = domainNames(join.domain, join.dnsName);
  const dc = parseHostPort(join.dc, 'join.dc');
  const account = parseMachineAccount(join.machineAccount, 'join.machineAccount');
  const timeoutMs = join.timeoutMs ?? Math.min(DEFAULT_NETLOGON_TIMEOUT_MS, Math.max(1, packageCallTimeoutMs - 1000));
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw badOption(`join.timeoutMs must be a whole number of ms from 1, not ${String(timeoutMs)}`);
  if (packageCallTimeoutMs > 0 && timeoutMs >= packageCallTimeoutMs)
    throw badOption(
      `join.timeoutMs (${timeoutMs}) must be shorter than packageCallTimeoutMs (${packageCallTimeoutMs}): a logon must fail with a status before its call times out`,
    );
  return {
    netlogon: { role: 'member', domainName, dnsDomainName, dc, accountName: `${account.name}$`, password: account.password, timeoutMs },
    computerName: account.name,
  };
}

/** A domain controller's Netlogon configuration. */
export function domainControllerNetlogon(
  options: { netlogon?: NetlogonOptions; machineAccounts?: Array<string | MachineAccountOptions> },
  names: { domainName: string; dnsDomainName: string; computerName: string },
): NetlogonServerConfig {
  const netlogon = options.netlogon ?? {};
  if (typeof netlogon !== 'object' || netlogon === null) throw badOption('netlogon is an object: { host?, port?, onRequest? }');
  const host = netlogon.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) throw badOption(`netlogon.host must be an address, not ${JSON.stringify(host)}`);
  const port = netlogon.port ?? 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) throw badOption(`netlogon.port must be a whole number from 0 to 65535, not ${String(port)}`);
  if (netlogon.onRequest !== undefined && typeof netlogon.onRequest !== 'function') throw badOption('netlogon.onRequest must be a function');
  if (options.machineAccounts !== undefined && !Array.isArray(options.machineAccounts)) throw badOption('machineAccounts is a list of "NAME:SECRET"');
  const accounts = (options.machineAccounts ?? []).map((a) => parseMachineAccount(a, 'machine account'));
  const seen = new Set<string>();
  for (const a of accounts) {
    if (seen.has(a.name)) throw badOption(`machine account ${a.name} is given twice`);
    if (a.name === names.computerName.toUpperCase()) throw badOption(`machine account ${a.name} is the domain controller's own name`);
    seen.add(a.name);
  }
  return {
    role: 'domain-controller',
    host,
    port,
    domainName: names.domainName,
    dnsDomainName: names.dnsDomainName,
    machineAccounts: accounts,
    reportRequests: netlogon.onRequest !== undefined,
  };
}
