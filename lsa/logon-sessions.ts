// Logon sessions, keyed by LUID: one for each process spawned as an account (an interactive
// logon), one for each client a package authenticates (a network logon, CreateLogonSession), and
// the credentials packages attach to them (AddCredential/GetCredentials/DeleteCredential).

import type { LUID, PackageId } from '../headers/index.js';
import { HandleMap } from '../ipc/index.js';

/** SYSTEM_LUID and ANONYMOUS_LOGON_LUID (winnt.h). */
export const SYSTEM_LUID: LUID = 0x3e7n;
export const ANONYMOUS_LOGON_LUID: LUID = 0x3e6n;

/**
 * Whether a value is a LUID as LUIDs are here (headers' LUID): a bigint, HighPart << 32 | LowPart,
 * with winnt.h's LONG HighPart and DWORD LowPart, so a signed 64-bit value, as the headers read one
 * from bytes (ntsecapi.ts readLuid). Nothing else names a logon session: not a number (5 and 5n
 * would be two keys for one LUID), not a { LowPart, HighPart } object (its identity would be its
 * key), not a bigint past 64 bits.
 */
export function isLuid(value: unknown): value is LUID {
  return typeof value === 'bigint' && BigInt.asIntN(64, value) === value;
}

export interface LogonSession {
  readonly logonId: LUID;
  readonly logonType: number;
  /** The account, for sessions created for a process spawned as one. */
  readonly account: string | null;
  /**
   * Package credentials, by package and primary key; made with the first one (a network logon,
   * one per client a server authenticated, usually has none, and an empty Map costs 180 bytes).
   */
  credentials: Map<PackageId, Map<string, Uint8Array>> | undefined;
}

export class LogonSessions {
  private next: LUID = 0x10000n + BigInt(Math.floor(Math.random() * 0x1000));
  private readonly sessions = new SessionTable();

  get size(): number {
    return this.sessions.size;
  }

  /**
   * A new session: with the LUID asked for, or a fresh one for none (null, undefined or 0n).
   * Undefined when that LUID is in use, or is not a LUID (isLuid): callers that take a LUID from a
   * package check it first, to answer STATUS_INVALID_PARAMETER.
   */
  create(logonType: number, account: string | null, requested?: LUID | null): LogonSession | undefined {
    let logonId = requested ?? null;
    if (logonId !== null && !isLuid(logonId)) return undefined;
    if (logonId === null || logonId === 0n) {
      // A LUID asked for explicitly may already sit where the counter is going: step past it.
      do logonId = this.next++;
      while (this.sessions.has(logonId));
    } else if (this.sessions.has(logonId)) return undefined;
    const session: LogonSession = { logonId, logonType, account, credentials: undefined };
    this.sessions.set(logonId, session);
    return session;
  }

  get(logonId: LUID): LogonSession | undefined {
    return this.sessions.get(logonId);
  }

  delete(logonId: LUID): boolean {
    return this.sessions.delete(logonId);
  }

  addCredential(logonId: LUID, packageId: PackageId, primaryKey: string, credentials: Uint8Array): boolean {
    const session = this.sessions.get(logonId);
    if (session === undefined) return false;
    // A copy made through the array's internal slots: a package's subclass of Uint8Array runs none
    // of its code here (slice would call its constructor).
    const copy = new Uint8Array(credentials);
    session.credentials ??= new Map();
    let byKey = session.credentials.get(packageId);
    if (byKey === undefined) {
      byKey = new Map();
      session.credentials.set(packageId, byKey);
    }
    byKey.set(primaryKey, copy);
    return true;
  }

  /** The `index`-th credential of a package in a session (GetCredentials' QueryContext walks them). */
  credentialAt(logonId: LUID, packageId: PackageId, index: number): [string, Uint8Array] | undefined {
    const byKey = this.sessions.get(logonId)?.credentials?.get(packageId);
    if (byKey === undefined) return undefined;
    let i = 0;
    for (const entry of byKey) if (i++ === index) return entry;
    return undefined;
  }

  credential(logonId: LUID, packageId: PackageId, primaryKey: string): Uint8Array | undefined {
    return this.sessions.get(logonId)?.credentials?.get(packageId)?.get(primaryKey);
  }

  /** Drops what a package stored in every session (it was unloaded). */
  dropPackageCredentials(packageId: PackageId): void {
    for (const session of this.sessions.values()) session.credentials?.delete(packageId);
  }

  deleteCredential(logonId: LUID, packageId: PackageId, primaryKey: string): boolean {
    return this.sessions.get(logonId)?.credentials?.get(packageId)?.delete(primaryKey) ?? false;
  }
}

/**
 * Sessions by LUID. A network logon session is made and deleted with every client a server
 * authenticates, so the table churns as an LSA's handle tables do: LUIDs a number holds exactly
 * (every one the counter makes) are kept in a HandleMap (ipc/handle-map.ts: no rebuilt tables
 * pinning young objects), any other LUID a caller asks for in a Map beside it.
 */
class SessionTable {
  private readonly exact = new HandleMap<LogonSession>();
  private readonly others = new Map<LUID, LogonSession>();

  /** Whether a number holds the LUID exactly (every one the counter makes does). */
  private static numeric(logonId: LUID): boolean {
    return logonId >= 0n && logonId <= MAX_EXACT_LUID;
  }

  get size(): number {
    return this.exact.size + this.others.size;
  }

  /** The session of a LUID; undefined for anything that is not one (isLuid), which no session has. */
  get(logonId: LUID): LogonSession | undefined {
    if (!isLuid(logonId)) return undefined;
    return SessionTable.numeric(logonId) ? this.exact.get(Number(logonId)) : this.others.get(logonId);
  }

  has(logonId: LUID): boolean {
    return this.get(logonId) !== undefined;
  }

  set(logonId: LUID, session: LogonSession): void {
    if (SessionTable.numeric(logonId)) this.exact.set(Number(logonId), session);
    else this.others.set(logonId, session);
  }

  delete(logonId: LUID): boolean {
    if (!isLuid(logonId)) return false;
    return SessionTable.numeric(logonId) ? this.exact.delete(Number(logonId)) : this.others.delete(logonId);
  }

  *values(): IterableIterator<LogonSession> {
    for (const [, session] of this.exact) yield session;
    yield* this.others.values();
  }
}

const MAX_EXACT_LUID = BigInt(Number.MAX_SAFE_INTEGER);
