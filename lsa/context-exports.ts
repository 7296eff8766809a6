// Contexts exported by one process for another (ExportSecurityContext / ImportSecurityContext):
// the LSA's side of the handoff.
//
// Windows hands the exporting application a blob that holds the context itself, keys and all, and
// whoever has the blob can import it. Here the LSA keeps the exported context and the package's
// state, and the application gets only a reference to them, for three reasons:
// - no application can forge a context: a made-up or altered reference names nothing (it carries
//   an HMAC under a key that never leaves this LSA), and what the importer learns of the context
//   (who authenticated, the flags, the session key) is the ContextData the LSA kept from the
//   handshake, not anything the exporting process wrote; the exporter contributes only the
//   package's running state (sequence numbers, keystreams), which it could spoil anyway;
// - the LSA can hand the context over exactly once, to the process the exporter named if it named
//   one, and refuse the rest with a status that says why (SEC_E_CONTEXT_EXPIRED, SEC_E_NOT_OWNER);
// - secrets cross to the importing process exactly as ContextData does to a mapped context, and
//   the reference, which is all the application holds, is worthless outside this LSA.
//
// A reference: magic "SXEX", format 1, three reserved bytes, a 16-byte random id, then
// HMAC-SHA256(key, the 24 bytes before it). An export lives until it is imported or until its
// exporter (or the process it was meant for) exits; it counts against its exporter's context
// quota meanwhile, and one process may have at most MAX_EXPORTS_PER_PROCESS waiting (each holds
// up to 16 KiB of package state: MAX_PACKED_CONTEXT).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PackageId } from '../headers/index.js';
import type { ProcessId } from '../ipc/index.js';
import type { ContextReferences, MappedRecord } from './handle-table.js';

/** An exported context waiting for its importer. */
export interface PendingExport {
  readonly exporter: ProcessId;
  /** The one process that may import it, or null for whichever presents the reference first. */
  readonly importer: ProcessId | null;
  readonly packageId: PackageId;
  /** Which load of the package holds the context (LoadedPackage.version). */
  readonly packageVersion: number;
  readonly packageHandle: number;
  /** What the LSA kept of the context when it completed mapped: the module, the package context, the ContextData's copy. */
  readonly mapped: MappedRecord;
  /** The holders of the package context; the export is one of them until it is imported or dropped. */
  readonly shared: ContextReferences;
  /** The package's state from SpExportSecurityContext (secret: it continues the session). */
  readonly packedContext: Uint8Array;
  /** SECPKG_CONTEXT_EXPORT_* as the exporter gave them. */
  readonly flags: number;
}

/** What a presented reference names. */
export type ExportLookup =
  | { kind: 'malformed' }
  | { kind: 'forged' }
  /** Issued by this LSA, but no longer held: imported already, or its exporter or importer exited. */
  | { kind: 'gone' }
  | { kind: 'held'; id: string; pending: PendingExport };

const MAGIC = [0x53, 0x58, 0x45, 0x58]; // "SXEX"
const FORMAT = 1;
const ID_AT = 8;
const ID_BYTES = 16;
const MAC_AT = ID_AT + ID_BYTES;
const MAC_BYTES = 32;
/** The size of a reference. */
export const EXPORT_REFERENCE_BYTES = MAC_AT + MAC_BYTES;
/** Exports one process may have waiting for their importers at once. */
export const MAX_EXPORTS_PER_PROCESS = 256;

export class ContextExports {
  /** The key of the references' HMACs: this LSA's own, so another LSA's references are made-up here. */
  readonly #key = randomBytes(32);
  readonly #pending = new Map<string, PendingExport>();
  readonly #byExporter = new Map<ProcessId, number>();

  /** Keeps `pending` and answers the reference the exporting application gets. */
  issue(pending: PendingExport): Uint8Array {
    const reference = new Uint8Array(EXPORT_REFERENCE_BYTES);
    reference.set(MAGIC, 0);
    reference[4] = FORMAT;
    reference.set(randomBytes(ID_BYTES), ID_AT);
    reference.set(this.#mac(reference), MAC_AT);
    this.#pending.set(idOf(reference), pending);
    this.#byExporter.set(pending.exporter, (this.#byExporter.get(pending.exporter) ?? 0) + 1);
    return reference;
  }

  /** What `reference` names; it stays held (nothing changes) until take(). */
  lookup(reference: Uint8Array): ExportLookup {
    if (reference.byteLength !== EXPORT_REFERENCE_BYTES || MAGIC.some((b, i) => reference[i] !== b) || reference[4] !== FORMAT) return { kind: 'malformed' };
    if (reference[5] !== 0 || reference[6] !== 0 || reference[7] !== 0) return { kind: 'malformed' };
    if (!timingSafeEqual(this.#mac(reference), reference.subarray(MAC_AT))) return { kind: 'forged' };
    const id = idOf(reference);
    const pending = this.#pending.get(id);
    return pending === undefined ? { kind: 'gone' } : { kind: 'held', id, pending };
  }

  /** The export leaves the table (imported); its reference is gone from now on. */
  take(id: string): PendingExport | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    const left = (this.#byExporter.get(pending.exporter) ?? 1) - 1;
    if (left === 0) this.#byExporter.delete(pending.exporter);
    else this.#byExporter.set(pending.exporter, left);
    return pending;
  }

  /** Drops the exports a process made or was meant to import (it exited); the caller releases their contexts. */
  dropProcess(pid: ProcessId): PendingExport[] {
    return this.dropWhere((pending) => pending.exporter === pid || pending.importer === pid);
  }

  /** Drops the exports `match` picks (those of a package version being unloaded); the caller releases their contexts. */
  dropWhere(match: (pending: PendingExport) => boolean): PendingExport[] {
    const dropped: PendingExport[] = [];
    for (const [id, pending] of this.#pending) {
      if (!match(pending)) continue;
      this.take(id);
      pending.packedContext.fill(0);
      dropped.push(pending);
    }
    return dropped;
  }

  /** Exports waiting: of one exporter, or all. */
  count(exporter?: ProcessId): number {
    return exporter === undefined ? this.#pending.size : (this.#byExporter.get(exporter) ?? 0);
  }

  #mac(reference: Uint8Array): Buffer {
    return createHmac('sha256', this.#key).update(reference.subarray(0, MAC_AT)).digest();
  }
}

function idOf(reference: Uint8Array): string {
  return Buffer.from(reference.buffer, reference.byteOffset + ID_AT, ID_BYTES).toString('hex');
}
