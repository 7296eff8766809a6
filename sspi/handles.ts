// What the application holds: CredHandle and CtxtHandle, SecHandle-shaped ({ dwLower, dwUpper }),
// with dwLower the package id and dwUpper a record in this process's own table. The record holds
// the LSA's handle value and, once the context is mapped, the user-mode context. Handle values
// start at a random point in each process, so one process's value means nothing in another.

import type { LSA_SEC_HANDLE, PackageId, SecpkgUserFunctionTable } from '../headers/ntsecpkg.js';
import type { LsaHandle } from '../ipc/ids.js';

declare const credHandleBrand: unique symbol;
declare const ctxtHandleBrand: unique symbol;

/** CredHandle: a credential handle as the application holds it. */
export type CredHandle = { readonly dwLower: number; readonly dwUpper: number } & { readonly [credHandleBrand]: 'CredHandle' };
/** CtxtHandle: a security context handle as the application holds it. */
export type CtxtHandle = { readonly dwLower: number; readonly dwUpper: number } & { readonly [ctxtHandleBrand]: 'CtxtHandle' };

/** A context's user-mode half in this process, after SpInitUserModeContext. */
export interface UserModeContext {
  readonly table: SecpkgUserFunctionTable;
  /** The package's LSA-mode handle, which the user-mode functions take as ContextHandle. */
  readonly lsaContextHandle: LSA_SEC_HANDLE;
}

export interface CredentialRecord {
  readonly kind: 'credential';
  readonly packageId: PackageId;
  readonly lsa: LsaHandle;
}

export interface ContextRecord {
  readonly kind: 'context';
  readonly packageId: PackageId;
  readonly lsa: LsaHandle;
  user: UserModeContext | null;
  /** QueryContextAttributes levels answered in the LSA even when the context is mapped. */
  thunkedLevels: readonly number[];
}

/** How many deleted handle values are remembered, so that a second delete answers SEC_E_OK. */
const DELETED_MEMORY = 4096;

export class LocalHandleTable {
  private readonly records = new Map<number, CredentialRecord | ContextRecord>();
  /** Deleted handle values (dwUpper) and the package (dwLower) each belonged to. */
  private readonly deleted = new Map<number, number>();
  private next = 0x1000 + Math.floor(Math.random() * 0x7fff_0000);

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

  /** Whether `handle` names a context this process deleted (a second delete is not an error). */
  wasDeleted(handle: unknown): boolean {
    return isSecHandle(handle) && this.deleted.get(handle.dwUpper) === handle.dwLower;
  }

  remove(handle: CredHandle | CtxtHandle): void {
    this.records.delete(handle.dwUpper);
    this.deleted.set(handle.dwUpper, handle.dwLower);
    if (this.deleted.size > DELETED_MEMORY) this.deleted.delete(this.deleted.keys().next().value as number);
  }

  private insert(record: CredentialRecord | ContextRecord): number {
    const value = this.next;
    this.next = this.next >= 0xffff_fff0 ? 0x1000 : this.next + 1;
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
