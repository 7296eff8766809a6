// The LSA's configuration: what Windows keeps in the registry (the "Security Packages" list,
// package settings) and the local SAM's accounts, handed to the LSA worker at boot.

import type { Account } from './accounts.js';
import type { KdcConfig } from './kdc-host.js';
import type { NetlogonConfig } from './netlogon-host.js';
import type { WorkPoolConfig } from './work-pool.js';

export interface LsaConfig {
  /** The "Security Packages" list: built-in package names or module paths / file URLs, in load order. */
  packages: string[];
  accounts: Account[];
  /** The emulated machine's names (NetBIOS and DNS), as packages see them in SECPKG_PARAMETERS. */
  computerName: string;
  dnsComputerName: string;
  domainName: string;
  dnsDomainName: string;
  /** A package call that has not returned after this many ms fails with SEC_E_INTERNAL_ERROR (0: never). */
  packageCallTimeoutMs: number;
  /**
   * A package module whose top level has not settled after this many ms (a top-level await that
   * never finishes) is reported as failed to load, at stage import, and the LSA goes on.
   */
  packageLoadTimeoutMs: number;
  /** Package-specific settings, by the package's entry in `packages` (case-insensitive), given to SpInitialize. */
  packageSettings: Record<string, Record<string, unknown>>;
  /**
   * The last version of a module an earlier LSA of this machine loaded (a reload), by its entry:
   * this LSA loads the next one. Processes that lived through the restart imported that version's
   * user-mode half under its URL, which must not name other code now (lsa/package-reload.ts).
   */
  packageVersions?: Record<string, number>;
  /** What one process may have of the LSA (lsa/scheduler.ts, lsa/dispatch.ts). */
  quota: ProcessQuota;
  /** The LSA's work pool, where CreateThread runs the work routines (lsa/work-pool.ts). */
  workPool: WorkPoolConfig;
  /** A domain controller's KDC (lsa/kdc-host.ts), which this LSA runs over its accounts; absent on other machines. */
  kdc?: KdcConfig;
  /** Netlogon (lsa/netlogon-host.ts): a domain controller's (its members' machine accounts) or a member's (its DC and machine account); absent in no domain. */
  netlogon?: NetlogonConfig;
}

/**
 * What one process may have of the LSA at once. A call past a limit is answered
 * SEC_E_INSUFFICIENT_MEMORY, with a cause naming the limit, and changes nothing.
 */
export interface ProcessQuota {
  /** Credential handles one process may hold. */
  credentials: number;
  /** Security contexts one process may hold (complete or in the middle of a handshake). */
  contexts: number;
  /**
   * Bytes of input (tokens, target names) the calls of one process's live contexts carried: what
   * it can have packages keep for it, since a package keeps what a context needs of its inputs
   * (NTLM its NEGOTIATE and CHALLENGE for the MIC, the target name). A count of contexts alone let
   * one process with megabyte target names hold gigabytes of the LSA within its quota.
   */
  contextBytes: number;
  /** LPC calls the LSA runs for one process at once. */
  runningCalls: number;
  /** LPC calls of one process that may wait for their turn; more are refused. */
  queuedCalls: number;
  /** Bytes (buffers and strings) the waiting calls of one process may hold; more are refused. */
  queuedBytes: number;
  /** LPC calls the LSA runs at once, all processes together. */
  concurrentCalls: number;
}

/** Generous: far more than an application needs, far less than what would exhaust the LSA. */
export const DEFAULT_QUOTA: ProcessQuota = {
  credentials: 100_000,
  contexts: 100_000,
  contextBytes: 256 * 1024 * 1024,
  runningCalls: 8,
  queuedCalls: 4096,
  queuedBytes: 32 * 1024 * 1024,
  concurrentCalls: 64,
};

/** The largest work pool a machine may ask for. */
export const MAX_WORK_POOL_THREADS = 64;

/** One thread, started by the first task (see the README's Performance section for why). */
export const DEFAULT_WORK_POOL: WorkPoolConfig = { threads: 1 };

/** Packages that ship with sspi-emu, by the name the configuration uses. */
export const BUILTIN_PACKAGES: ReadonlyMap<string, URL> = new Map([
  ['example', new URL('../packages/example/index.js', import.meta.url)],
  ['ntlm', new URL('../packages/ntlm/index.js', import.meta.url)],
  ['negotiate', new URL('../packages/negotiate/index.js', import.meta.url)],
  ['kerberos', new URL('../packages/kerberos/index.js', import.meta.url)],
  ['null', new URL('../packages/null/index.js', import.meta.url)],
]);

/**
 * The built-in packages another built-in one drives through the LSA, and so needs loaded beside
 * it: Negotiate's mechanisms. For a machine booted with one package by name (the bench, chaos).
 */
export function packagesAlongside(spec: string): string[] {
  return spec.toLowerCase() === 'negotiate' ? ['ntlm'] : [];
}

/**
 * The "Security Packages" list when none is given: the real packages (null is for benchmarks).
 * Negotiate is there as on Windows; it finds its mechanisms (NTLM) when it is first used, so the
 * order does not matter.
 */
export const DEFAULT_PACKAGES: readonly string[] = ['example', 'ntlm', 'negotiate'];
