// The LSA's per-process handle tables: a value is found only in the table of the process that
// owns it, only as the kind it was made as, and only as a number.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PackageId } from '../../headers/ntsecpkg.js';
import { asLsaHandle, asProcessId } from '../../ipc/ids.js';
import { HandleTables, releaseContext, shareContext, type HandleEntry, type HandleKind } from '../../lsa/handle-table.js';

const PKG = 3 as PackageId;
const alice = asProcessId(101);
const mallory = asProcessId(102);
const entry = (kind: HandleKind, packageHandle = 0x5000): HandleEntry => ({ kind, packageId: PKG, packageVersion: 1, packageHandle, complete: false });

describe('HandleTables', () => {
  it('retires a handle the process did not free: it is gone, and its first free (of its kind, by its owner) is answered once', () => {
    const tables = new HandleTables();
    const h = tables.create(alice, entry('credential'));
    assert.equal(tables.retire(alice, h), true);
    assert.equal(tables.lookup(alice, h, 'credential'), undefined);
    assert.deepEqual(tables.count(), { credentials: 0, contexts: 0 });
    assert.equal(tables.takeRetired(mallory, h, 'credential'), false, 'not for another process');
    assert.equal(tables.takeRetired(alice, h, 'context'), false, 'not as another kind');
    assert.equal(tables.takeRetired(alice, h, 'credential'), true);
    assert.equal(tables.takeRetired(alice, h, 'credential'), false, 'once');
    assert.equal(tables.retire(alice, h), false, 'nothing left to retire');
  });

  it('selects entries across every process, and replaces one in place under the same handle', () => {
    const tables = new HandleTables();
    const a = tables.create(alice, entry('credential', 1));
    tables.create(mallory, { ...entry('credential', 2), packageVersion: 2 });
    const picked = tables.select((e) => e.packageVersion === 1);
    assert.deepEqual(
      picked.map((p) => [p.pid, p.handle]),
      [[alice, a]],
    );
    const carried: HandleEntry = { ...entry('credential', 9), packageVersion: 2 };
    assert.equal(tables.replace(alice, a, carried), true);
    assert.equal(tables.lookup(alice, a, 'credential'), carried);
    assert.equal(tables.replace(alice, a, entry('context')), false, 'not as another kind');
    assert.deepEqual(tables.count(), { credentials: 2, contexts: 0 });
  });

  it('finds a handle in the table of the process that created it, as the kind it was made', () => {
    const tables = new HandleTables();
    const credential = entry('credential', 0x11);
    const context = entry('context', 0x22);
    const hCred = tables.create(alice, credential);
    const hCtxt = tables.create(alice, context);
    assert.equal(tables.lookup(alice, hCred, 'credential'), credential);
    assert.equal(tables.lookup(alice, hCtxt, 'context'), context);
    assert.notEqual(hCred, hCtxt);
  });

  it("misses another process's handle value, although the value exists", () => {
    const tables = new HandleTables();
    const stolen = tables.create(alice, entry('context'));
    tables.create(mallory, entry('context'));
    assert.equal(tables.lookup(mallory, stolen, 'context'), undefined);
    assert.ok(tables.lookup(alice, stolen, 'context'), 'the owner still finds it');
  });

  it('gives handle values that are unique across processes', () => {
    const tables = new HandleTables();
    const values = [alice, mallory, alice, mallory].map((pid) => tables.create(pid, entry('credential')));
    assert.equal(new Set(values).size, 4);
  });

  it('misses a credential looked up as a context, and a context looked up as a credential', () => {
    const tables = new HandleTables();
    const hCred = tables.create(alice, entry('credential'));
    const hCtxt = tables.create(alice, entry('context'));
    assert.equal(tables.lookup(alice, hCred, 'context'), undefined);
    assert.equal(tables.lookup(alice, hCtxt, 'credential'), undefined);
  });

  it('misses any value that is not a number, even one that converts to the handle', () => {
    const tables = new HandleTables();
    const h = tables.create(alice, entry('credential'));
    for (const value of [String(h), BigInt(h), { valueOf: () => h }, [h], null, undefined, true]) {
      assert.equal(tables.lookup(alice, value, 'credential'), undefined, `${typeof value} ${String(value)}`);
    }
  });

  it('misses a made-up number and a removed handle', () => {
    const tables = new HandleTables();
    const h = tables.create(alice, entry('credential'));
    assert.equal(tables.lookup(alice, h + 1, 'credential'), undefined);
    assert.equal(tables.lookup(alice, 0, 'credential'), undefined);
    assert.equal(tables.remove(alice, h), true);
    assert.equal(tables.lookup(alice, h, 'credential'), undefined);
    assert.equal(tables.remove(alice, h), false, 'a second remove finds nothing');
  });

  it("misses the value at a handle's place in another LSA generation, and values between handles", () => {
    const tables = new HandleTables(2);
    const h = tables.create(alice, entry('context'));
    const generation = 2 ** 32;
    for (const value of [h - generation, h + generation, h + 0.5, h - 0.5, Number.NaN, Infinity, -h]) {
      assert.equal(tables.lookup(alice, value, 'context'), undefined, String(value));
      assert.equal(tables.remove(alice, value as typeof h), false, String(value));
    }
    assert.equal(tables.retire(alice, h), true);
    assert.equal(tables.takeRetired(alice, h - generation, 'context'), false, 'nor a retired one');
    assert.equal(tables.takeRetired(alice, h, 'context'), true);
  });

  it("does not let one process remove another process's handle", () => {
    const tables = new HandleTables();
    const h = tables.create(alice, entry('context'));
    assert.equal(tables.remove(mallory, h), false);
    assert.ok(tables.lookup(alice, h, 'context'));
    assert.equal(tables.remove(asProcessId(999), asLsaHandle(h)), false, 'nor a process with no table at all');
  });

  it('drops a whole process and returns its contexts before its credentials, whatever the creation order', () => {
    const tables = new HandleTables();
    tables.create(alice, entry('credential', 1));
    tables.create(alice, entry('context', 2));
    tables.create(alice, entry('credential', 3));
    tables.create(alice, entry('context', 4));
    const survivor = tables.create(mallory, entry('context', 5));
    const removed = tables.removeProcess(alice);
    assert.deepEqual(
      removed.map((e) => [e.kind, e.packageHandle]),
      [
        ['context', 2],
        ['context', 4],
        ['credential', 1],
        ['credential', 3],
      ],
    );
    assert.deepEqual(tables.count(alice), { credentials: 0, contexts: 0 });
    assert.deepEqual(tables.removeProcess(alice), [], 'a second drop returns nothing');
    assert.ok(tables.lookup(mallory, survivor, 'context'), 'other processes keep their handles');
  });

  it('counts credentials and contexts for one process or for all', () => {
    const tables = new HandleTables();
    tables.create(alice, entry('credential'));
    tables.create(alice, entry('context'));
    tables.create(alice, entry('context'));
    tables.create(mallory, entry('credential'));
    assert.deepEqual(tables.count(alice), { credentials: 1, contexts: 2 });
    assert.deepEqual(tables.count(mallory), { credentials: 1, contexts: 0 });
    assert.deepEqual(tables.count(asProcessId(999)), { credentials: 0, contexts: 0 });
    assert.deepEqual(tables.count(), { credentials: 2, contexts: 2 });
  });

  it('counts the holders of a shared package context: only the last release asks for SpDeleteContext, and wipes the kept ContextData', () => {
    const held: HandleEntry = { ...entry('context'), complete: true };
    assert.equal(releaseContext({ ...held }), true, 'a context nobody shares goes with its one handle');
    const contextData = Uint8Array.of(7, 7, 7);
    const exporter: HandleEntry = {
      ...held,
      mapped: {
        module: { packageId: PKG, packageName: 'X', moduleUrl: 'file:///x.js', tableIndex: 0, modulePackages: [], thunkedLevels: [] },
        lsaContextHandle: 1,
        contextData,
      },
    };
    const shared = shareContext(exporter);
    assert.equal(shared.count, 2);
    const importer: HandleEntry = { ...held, shared, mapped: exporter.mapped };
    assert.equal(shareContext(importer), shared, 'one count for all the holders');
    assert.equal(shared.count, 3);
    assert.equal(releaseContext(exporter), false);
    assert.equal(releaseContext(importer), false);
    assert.deepEqual([...contextData], [7, 7, 7]);
    assert.equal(releaseContext({ shared, mapped: exporter.mapped }), true);
    assert.deepEqual([...contextData], [0, 0, 0]);
  });
});
