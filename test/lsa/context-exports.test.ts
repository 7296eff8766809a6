// The LSA's table of exported contexts: a reference names exactly the export it was issued for,
// once; a made-up, altered, truncated or another LSA's reference names nothing; an export goes
// with its exporter or the process it was meant for.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PackageId } from '../../headers/ntsecpkg.js';
import { asProcessId } from '../../ipc/index.js';
import { ContextExports, EXPORT_REFERENCE_BYTES, type PendingExport } from '../../lsa/context-exports.js';
import type { MappedRecord } from '../../lsa/handle-table.js';

const A = asProcessId(1001);
const B = asProcessId(1002);
const C = asProcessId(1003);

function pending(exporter = A, importer: typeof B | null = B): PendingExport {
  const mapped: MappedRecord = {
    module: {
      packageId: 2 as PackageId,
      packageName: 'NTLM',
      moduleUrl: 'file:///x/ntlm.js',
      tableIndex: 0,
      modulePackages: [{ packageId: 2 as PackageId, name: 'NTLM' }],
      thunkedLevels: [],
    },
    lsaContextHandle: 7,
    contextData: Uint8Array.of(1, 2, 3),
  };
  return {
    exporter,
    importer,
    packageId: 2 as PackageId,
    packageVersion: 1,
    packageHandle: 7,
    mapped,
    shared: { count: 1 },
    packedContext: Uint8Array.of(4, 5, 6),
    flags: 0,
  };
}

describe('ContextExports', () => {
  it('issues a 56-byte reference that names its export until it is taken, then nothing', () => {
    const exports = new ContextExports();
    const kept = pending();
    const reference = exports.issue(kept);
    assert.equal(reference.byteLength, EXPORT_REFERENCE_BYTES);
    assert.equal(exports.count(), 1);
    assert.equal(exports.count(A), 1);
    assert.equal(exports.count(B), 0);
    const found = exports.lookup(reference);
    assert.equal(found.kind, 'held');
    assert.equal(found.kind === 'held' ? found.pending : undefined, kept);
    assert.equal(exports.lookup(reference).kind, 'held', 'a lookup changes nothing');
    assert.equal(exports.take(found.kind === 'held' ? found.id : ''), kept);
    assert.deepEqual(exports.lookup(reference), { kind: 'gone' });
    assert.equal(exports.count(), 0);
    assert.equal(exports.count(A), 0);
  });

  it('tells a made-up or altered reference (forged) from one that is not a reference at all (malformed)', () => {
    const exports = new ContextExports();
    const reference = exports.issue(pending());
    for (const at of [8, 23, 24, EXPORT_REFERENCE_BYTES - 1]) {
      const altered = Uint8Array.from(reference);
      altered[at]! ^= 1;
      assert.deepEqual(exports.lookup(altered), { kind: 'forged' }, `byte ${at} changed`);
    }
    const madeUp = Uint8Array.from(reference);
    madeUp.fill(0x41, 8);
    assert.deepEqual(exports.lookup(madeUp), { kind: 'forged' });
    // Another LSA's reference (another key) is made-up here.
    assert.deepEqual(new ContextExports().lookup(reference), { kind: 'forged' });
    for (const [what, bytes] of [
      ['empty', new Uint8Array(0)],
      ['truncated', reference.subarray(0, EXPORT_REFERENCE_BYTES - 1)],
      ['one byte too many', Uint8Array.from([...reference, 0])],
      ['garbage', new Uint8Array(EXPORT_REFERENCE_BYTES).fill(0xff)],
    ] as const)
      assert.deepEqual(exports.lookup(bytes), { kind: 'malformed' }, what);
    for (const at of [0, 4, 5, 7]) {
      const altered = Uint8Array.from(reference);
      altered[at]! ^= 1;
      assert.deepEqual(exports.lookup(altered), { kind: 'malformed' }, `header byte ${at} changed`);
    }
    assert.equal(exports.lookup(reference).kind, 'held', 'none of it touched the real one');
  });

  it('drops the exports of a process that exits, and those meant for it, wiping their package state', () => {
    const exports = new ContextExports();
    const fromA = pending(A, B);
    const forC = pending(B, C);
    const unrelated = pending(B, null);
    const references = [fromA, forC, unrelated].map((p) => exports.issue(p));
    assert.deepEqual(exports.dropProcess(A), [fromA]);
    assert.deepEqual([...fromA.packedContext], [0, 0, 0]);
    assert.deepEqual(exports.dropProcess(C), [forC]);
    assert.deepEqual(
      references.map((r) => exports.lookup(r).kind),
      ['gone', 'gone', 'held'],
    );
    assert.equal(exports.count(B), 1);
  });
});
