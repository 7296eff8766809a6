// The LSA's handle tables, one per process. A handle value the SSPI library sends is looked up in
// the table of the process whose channel it came in on, so another process's value, a deleted one
// and a made-up one all miss alike: SEC_E_INVALID_HANDLE. Values are unique across processes (one
// counter for the whole LSA), so a stolen value really does exist, just not in the thief's table.
// Values carry the LSA's generation above the low 32 bits, so a handle a process kept from an LSA
// that died is never a handle of the LSA that replaced it.

import type { LSA_SEC_HANDLE, LUID, PackageId } from '../headers/index.js';
import { asLsaHandle, HandleMap, type LsaHandle, type MappedContextDelivery, type ProcessId } from '../ipc/index.js';

export type HandleKind = 'credential' | 'context';

/**
 * How many hold one package context (its packageHandle) when more than one handle does: a process
 * that exported it and kept its handle, the export waiting to be imported, the importing process.
 * SpDeleteContext goes to the package with the last of them.
 */
export interface ContextReferences {
  count: number;
}

/**
 * What a credential was acquired with, when the LSA can acquire it again from a new version of its
 * package (a reload): no explicit credentials (those were in the process's memory at the time).
 */
export interface CredentialAcquire {
  readonly principal: string | null;
  readonly credentialUse: number;
  readonly logonId: LUID | null;
}

/** The part of a mapped context's delivery that is its package's, the same for every context of one load of it. */
export type MappedModule = Readonly<Omit<MappedContextDelivery, 'lsaContextHandle' | 'contextData'>>;

/**
 * What the LSA keeps of a context that completed with MappedContext, for a process that imports it
 * later: whose user-mode half it maps into (shared by every context of that package load), the
 * package context's handle there, and the LSA's own copy of the ContextData the process was
 * delivered. Not the delivery itself: its module fields are the package's, and a copy of them per
 * context was most of what a live context cost the LSA.
 */
export interface MappedRecord {
  readonly module: MappedModule;
  readonly lsaContextHandle: LSA_SEC_HANDLE;
  readonly contextData: Uint8Array;
}

export interface HandleEntry {
  readonly kind: HandleKind;
  readonly packageId: PackageId;
  /** Which load of the package made the handle (LoadedPackage.version): a reload closes the old version's. */
  readonly packageVersion: number;
  /** The package's own handle value, which the package alone interprets. */
  readonly packageHandle: LSA_SEC_HANDLE;
  /** For contexts: the package reported the context complete (SEC_E_OK). */
  complete: boolean;
  /** For a context that completed with MappedContext: what an import delivers to the importing process. */
  mapped?: MappedRecord;
  /** Set once the package context has more than this one holder (exports and imports). */
  shared?: ContextReferences;
  /** For credentials acquired without explicit credentials: how to acquire them again. */
  acquire?: CredentialAcquire;
  /** For contexts: the input bytes its calls carried, charged to its process (ProcessQuota.contextBytes). */
  charged?: number;
}

/**
 * One holder of a package context lets go: true when it was the last, and SpDeleteContext is due
 * (the LSA's copy of its ContextData is wiped then).
 */
export function releaseContext(holder: { shared?: ContextReferences; mapped?: MappedRecord }): boolean {
  if (holder.shared !== undefined && --holder.shared.count > 0) return false;
  holder.mapped?.contextData.fill(0);
  return true;
}

/** One more holder of the package context `holder` names; the references the two now share. */
export function shareContext(holder: { shared?: ContextReferences }): ContextReferences {
  holder.shared ??= { count: 1 };
  holder.shared.count++;
  return holder.shared;
}

/** Handle values of one generation stay below this; the generation is counted in units of it. */
const GENERATION_SPAN = 2 ** 32;
/** Generations beyond this would take handle values past 2^53, where numbers stop being exact. */
const MAX_GENERATION = 2 ** 20;

/**
 * A handle's place in its generation (its value less the generation's base): small integers, which
 * V8 keeps in the Map itself, where the handle values (past 2^32) would each be a heap number.
 */
type Slot = number;

interface ProcessTable {
  /** Not a Map: handles come and go with every handshake (ipc/handle-map.ts). */
  readonly entries: HandleMap<HandleEntry>;
  /**
   * Handles the LSA closed without the process asking (their package was unloaded or reloaded):
   * freeing or deleting one answers SEC_E_OK once, as it would have; anything else misses.
   */
  readonly retired: HandleMap<HandleKind>;
  credentials: number;
  contexts: number;
  /** The `charged` bytes of its entries. */
  contextBytes: number;
}

export class HandleTables {
  private readonly base: number;
  // Start at an arbitrary point so that handle values carry no meaning (as pointers would not).
  private next = 0x10000 + Math.floor(Math.random() * 0x10000) * 0x10;
  private readonly byProcess = new Map<ProcessId, ProcessTable>();
  /** Counts over every process, kept as handles come and go (stats and quotas read them often). */
  private readonly totals = { credentials: 0, contexts: 0 };

  readonly generation: number;

  constructor(generation = 1) {
    this.generation = generation;
    if (!Number.isInteger(generation) || generation < 1 || generation > MAX_GENERATION)
      throw new RangeError(`an LSA generation is an integer from 1 to ${MAX_GENERATION}`);
    this.base = generation * GENERATION_SPAN;
  }

  create(pid: ProcessId, entry: HandleEntry): LsaHandle {
    const slot = this.next;
    const handle = asLsaHandle(this.base + slot);
    // Wrapping inside the generation's span: 2^28 handles later a value may come back, long after its first owner freed it.
    this.next = this.next + 0x10 >= GENERATION_SPAN ? 0x10000 : this.next + 0x10;
    const table = this.tableOf(pid);
    table.entries.set(slot, entry);
    this.adjust(table, entry.kind, 1);
    return handle;
  }

  /** The entry of `handle` in `pid`'s table, if it is there and of the given kind. */
  lookup(pid: ProcessId, handle: unknown, kind: HandleKind): HandleEntry | undefined {
    if (typeof handle !== 'number') return undefined;
    const entry = this.byProcess.get(pid)?.entries.get(this.slot(handle));
    return entry?.kind === kind ? entry : undefined;
  }

  remove(pid: ProcessId, handle: LsaHandle): boolean {
    const table = this.byProcess.get(pid);
    const entry = table?.entries.get(this.slot(handle));
    if (table === undefined || entry === undefined) return false;
    table.entries.delete(this.slot(handle));
    this.adjust(table, entry.kind, -1);
    table.contextBytes -= entry.charged ?? 0;
    return true;
  }

  /** Charges `bytes` of input to a context of `pid`'s (the calls that carried them succeeded): counted until the handle goes. */
  charge(pid: ProcessId, entry: HandleEntry, bytes: number): void {
    const table = this.byProcess.get(pid);
    if (table === undefined) return;
    entry.charged = (entry.charged ?? 0) + bytes;
    table.contextBytes += bytes;
  }

  /** The input bytes `pid`'s live contexts were charged. */
  contextBytes(pid: ProcessId): number {
    return this.byProcess.get(pid)?.contextBytes ?? 0;
  }

  /** Puts `entry` in place of the one `handle` names in `pid`'s table (a credential carried to a new package version). */
  replace(pid: ProcessId, handle: LsaHandle, entry: HandleEntry): boolean {
    const table = this.byProcess.get(pid);
    const old = table?.entries.get(this.slot(handle));
    if (table === undefined || old === undefined || old.kind !== entry.kind) return false;
    table.entries.set(this.slot(handle), entry);
    return true;
  }

  /** Every handle whose entry `match` picks, in every process's table. */
  select(match: (entry: HandleEntry) => boolean): Array<{ pid: ProcessId; handle: LsaHandle; entry: HandleEntry }> {
    const out: Array<{ pid: ProcessId; handle: LsaHandle; entry: HandleEntry }> = [];
    for (const [pid, table] of this.byProcess)
      for (const [slot, entry] of this.oldestFirst(table)) if (match(entry)) out.push({ pid, handle: asLsaHandle(this.base + slot), entry });
    return out;
  }

  /** Removes a handle the process did not free itself; its first free or delete answers SEC_E_OK (takeRetired). */
  retire(pid: ProcessId, handle: LsaHandle): boolean {
    const entry = this.byProcess.get(pid)?.entries.get(this.slot(handle));
    if (entry === undefined || !this.remove(pid, handle)) return false;
    this.byProcess.get(pid)!.retired.set(this.slot(handle), entry.kind);
    return true;
  }

  /** Whether `handle` was retired in `pid`'s table as a handle of this kind; true once. */
  takeRetired(pid: ProcessId, handle: unknown, kind: HandleKind): boolean {
    const retired = this.byProcess.get(pid)?.retired;
    if (typeof handle !== 'number' || retired?.get(this.slot(handle)) !== kind) return false;
    retired.delete(this.slot(handle));
    return true;
  }

  /** Drops a process's whole table (the process died) and returns what it held, contexts first, each kind oldest first. */
  removeProcess(pid: ProcessId): HandleEntry[] {
    const table = this.byProcess.get(pid);
    this.byProcess.delete(pid);
    if (table === undefined) return [];
    this.totals.credentials -= table.credentials;
    this.totals.contexts -= table.contexts;
    const entries = this.oldestFirst(table).map(([, entry]) => entry);
    return [...entries.filter((e) => e.kind === 'context'), ...entries.filter((e) => e.kind === 'credential')];
  }

  /** A table's entries in the order they were made: slots are handed out in order (wrapping within the span), so the further behind `next`, the older. */
  private oldestFirst(table: ProcessTable): Array<[Slot, HandleEntry]> {
    const age = (slot: Slot): number => (this.next - slot + GENERATION_SPAN) % GENERATION_SPAN;
    return [...table.entries].sort((a, b) => age(b[0]) - age(a[0]));
  }

  /** Handles of one process, or of all of them. */
  count(pid?: ProcessId): { credentials: number; contexts: number } {
    if (pid === undefined) return { ...this.totals };
    const table = this.byProcess.get(pid);
    return { credentials: table?.credentials ?? 0, contexts: table?.contexts ?? 0 };
  }

  /** Where a handle value would be kept: another generation's, or a made-up value, lands on a slot no handle has. */
  private slot(handle: number): Slot {
    return handle - this.base;
  }

  private adjust(table: ProcessTable, kind: HandleKind, by: 1 | -1): void {
    if (kind === 'credential') {
      table.credentials += by;
      this.totals.credentials += by;
    } else {
      table.contexts += by;
      this.totals.contexts += by;
    }
  }

  private tableOf(pid: ProcessId): ProcessTable {
    let table = this.byProcess.get(pid);
    if (table === undefined) {
      table = { entries: new HandleMap(), retired: new HandleMap(), credentials: 0, contexts: 0, contextBytes: 0 };
      this.byProcess.set(pid, table);
    }
    return table;
  }
}
