// What the application holds: CredHandle and CtxtHandle, SecHandle-shaped ({ dwLower, dwUpper }),
// with dwLower the package id and dwUpper a record in this process's own table. The record holds
// the LSA's handle value and, once the context is mapped, the user-mode context. Handle values
// start at a random point in each process, so one process's value means nothing in another.
//
// dwUpper is a serial number with the package id and the kind in its low bits, one serial counter
// per package and kind, never reused. So the table knows every value it ever issued without
// keeping any: a value whose serial is behind its counter and that is not live was deleted, which
// is how a second DeleteSecurityContext answers SEC_E_OK however many deletes came between.

import type { LSA_SEC_HANDLE, PackageId, SecpkgUserFunctionTable } from '../headers/index.js';
import { HandleMap, type LsaHandle } from '../ipc/index.js';

declare const credHandleBrand: unique symbol;
declare const ctxtHandleBrand: unique symbol;

/** CredHandle: a credential handle as the application holds it. */
export type CredHandle = { readonly dwLower: number; readonly dwUpper: number } & { readonly [credHandleBrand]: 'CredHandle' };
/** CtxtHandle: a security context handle as the application holds it. */
export type CtxtHandle = { readonly dwLower: number; readonly dwUpper: number } & { readonly [ctxtHandleBrand]: 'CtxtHandle' };

/** A context's user-mode half in this process, after SpInitUserModeContext. */
export interface UserModeContext {
  readonly table: SecpkgUserFunctionTable;
  /** The package's name, for the trace of its calls. */
  readonly packageName: string;
  /** The package's LSA-mode handle, which the user-mode functions take as ContextHandle. */
  readonly lsaContextHandle: LSA_SEC_HANDLE;
}

export interface CredentialRecord {
  readonly kind: 'credential';
  readonly packageId: PackageId;
  readonly lsa: LsaHandle;
  /** Which LSA issued `lsa` (the library counts the LSAs it was connected to); an older one's handles are dead. */
  readonly generation: number;
}

export interface ContextRecord {
  readonly kind: 'context';
  readonly packageId: PackageId;
  readonly lsa: LsaHandle;
  readonly generation: number;
  user: UserModeContext | null;
  /** QueryContextAttributes levels answered in the LSA even when the context is mapped. */
  thunkedLevels: readonly number[];
}

/** dwUpper = serial * SERIAL_UNIT + packageId * 2 + kind bit. */
const SERIAL_UNIT = 2 ** 13;
const MAX_PACKAGE_ID = SERIAL_UNIT / 2 - 1;
/** Serials start at a random point below this (and stay far below 2^53 / SERIAL_UNIT). */
const SERIAL_START_SPAN = 2 ** 31;

interface SerialRange {
  readonly start: number;
  next: number;
}

export class LocalHandleTable {
  /** Not a Map: a context comes and goes with every handshake (ipc/handle-map.ts). */
  private readonly records = new HandleMap<CredentialRecord | ContextRecord>();
  /** The serials issued so far for each package and kind (keyed by the low bits of dwUpper). */
  private readonly issued = new Map<number, SerialRange>();

  get size(): { credentials: number; contexts: number } {
    let credentials = 0;
    for (const r of this.records.values()) if (r.kind === 'credential') credentials++;
    return { credentials, contexts: this.records.size - credentials };
  }

  addCredential(record: CredentialRecord): CredHandle {
    return { dwLower: record.packageId, dwUpper: this.insert(record) } as unknown as CredHandle;
  }

  addContext(record: ContextRecord): CtxtHandle {
    return { dwLower: record.packageId, dwUpper: this.insert(record) } as unknown as CtxtHandle;
  }

  credential(handle: unknown): CredentialRecord | undefined {
    const record = this.lookup(handle);
    return record?.kind === 'credential' ? record : undefined;
  }

  context(handle: unknown): ContextRecord | undefined {
    const record = this.lookup(handle);
    return record?.kind === 'context' ? record : undefined;
  }

  /** Whether `handle` names a context this process was issued and no longer holds (a second delete is not an error). */
  wasDeleted(handle: unknown): boolean {
    if (!isSecHandle(handle) || !Number.isSafeInteger(handle.dwUpper) || handle.dwUpper < 0 || this.records.has(handle.dwUpper)) return false;
    const low = handle.dwUpper % SERIAL_UNIT;
    if (low % 2 !== 1 || (low - 1) / 2 !== handle.dwLower) return false;
    const range = this.issued.get(low);
    const serial = Math.floor(handle.dwUpper / SERIAL_UNIT);
    return range !== undefined && serial >= range.start && serial < range.next;
  }

  remove(handle: CredHandle | CtxtHandle): void {
    this.records.delete(handle.dwUpper);
  }

  private insert(record: CredentialRecord | ContextRecord): number {
    if (!Number.isInteger(record.packageId) || record.packageId < 0 || record.packageId > MAX_PACKAGE_ID)
      throw new RangeError(`package id ${record.packageId} does not fit a handle (0 to ${MAX_PACKAGE_ID})`);
    const low = record.packageId * 2 + (record.kind === 'context' ? 1 : 0);
    let range = this.issued.get(low);
    if (range === undefined) {
      const start = 1 + Math.floor(Math.random() * SERIAL_START_SPAN);
      range = { start, next: start };
      this.issued.set(low, range);
    }
    const value = range.next++ * SERIAL_UNIT + low;
    this.records.set(value, record);
    return value;
  }

  private lookup(handle: unknown): CredentialRecord | ContextRecord | undefined {
    if (!isSecHandle(handle)) return undefined;
    const record = this.records.get(handle.dwUpper);
    return record !== undefined && record.packageId === handle.dwLower ? record : undefined;
  }
}

function isSecHandle(value: unknown): value is { dwLower: number; dwUpper: number } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { dwLower?: unknown }).dwLower === 'number' &&
    typeof (value as { dwUpper?: unknown }).dwUpper === 'number'
  );
}
