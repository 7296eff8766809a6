// The app process's own handle table: CredHandle and CtxtHandle values are found only as issued
// here, with the package id they were issued with, as the kind they were issued as.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PackageId } from '../../headers/ntsecpkg.js';
import { asLsaHandle } from '../../ipc/ids.js';
import { LocalHandleTable, type ContextRecord, type CredentialRecord } from '../../sspi/handles.js';

const PKG = 4 as PackageId;
const OTHER_PKG = 5 as PackageId;
const credential = (): CredentialRecord => ({ kind: 'credential', packageId: PKG, lsa: asLsaHandle(0x10010), generation: 1 });
const context = (): ContextRecord => ({ kind: 'context', packageId: PKG, lsa: asLsaHandle(0x10020), generation: 1, user: null, thunkedLevels: [] });

describe('LocalHandleTable', () => {
  it('remembers a deleted handle with its package: the same value under another package was never deleted', () => {
    const table = new LocalHandleTable();
    const h = table.addContext(context());
    table.remove(h);
    assert.equal(table.wasDeleted(h), true);
    assert.equal(table.wasDeleted({ dwLower: OTHER_PKG, dwUpper: h.dwUpper }), false);
  });

  it('issues SecHandles whose dwLower is the package id, and finds their records', () => {
    const table = new LocalHandleTable();
    const credRecord = credential();
    const ctxtRecord = context();
    const hCred = table.addCredential(credRecord);
    const hCtxt = table.addContext(ctxtRecord);
    assert.equal(hCred.dwLower, PKG);
    assert.equal(hCtxt.dwLower, PKG);
    assert.notEqual(hCred.dwUpper, hCtxt.dwUpper);
    assert.equal(table.credential(hCred), credRecord);
    assert.equal(table.context(hCtxt), ctxtRecord);
    assert.deepEqual(table.size, { credentials: 1, contexts: 1 });
  });

  it('finds a handle by value, not by identity: a copy of the handle works', () => {
    const table = new LocalHandleTable();
    const hCtxt = table.addContext(context());
    assert.ok(table.context({ dwLower: hCtxt.dwLower, dwUpper: hCtxt.dwUpper }));
  });

  it('misses a credential handle used as a context, and a context handle used as a credential', () => {
    const table = new LocalHandleTable();
    const hCred = table.addCredential(credential());
    const hCtxt = table.addContext(context());
    assert.equal(table.context(hCred), undefined);
    assert.equal(table.credential(hCtxt), undefined);
  });

  it('misses a handle whose dwLower names another package', () => {
    const table = new LocalHandleTable();
    const hCtxt = table.addContext(context());
    assert.equal(table.context({ dwLower: OTHER_PKG, dwUpper: hCtxt.dwUpper }), undefined);
  });

  it('misses a value it never issued, such as one issued by another process', () => {
    const mine = new LocalHandleTable();
    const theirs = new LocalHandleTable();
    const own = mine.addContext(context());
    let foreign = theirs.addContext(context());
    if (foreign.dwUpper === own.dwUpper) foreign = theirs.addContext(context()); // the random starting points met
    assert.equal(mine.context(foreign), undefined);
    assert.equal(mine.context({ dwLower: PKG, dwUpper: own.dwUpper + 1 }), undefined);
  });

  it('misses anything that is not shaped like a SecHandle', () => {
    const table = new LocalHandleTable();
    const h = table.addContext(context());
    for (const value of [
      null,
      undefined,
      h.dwUpper,
      String(h.dwUpper),
      { dwUpper: h.dwUpper },
      { dwLower: String(h.dwLower), dwUpper: h.dwUpper },
      [h.dwLower, h.dwUpper],
    ]) {
      assert.equal(table.context(value), undefined, JSON.stringify(value));
      assert.equal(table.wasDeleted(value), false, JSON.stringify(value));
    }
  });

  it('forgets a removed handle but remembers that it was deleted', () => {
    const table = new LocalHandleTable();
    const hCtxt = table.addContext(context());
    const live = table.addContext(context());
    assert.equal(table.wasDeleted(hCtxt), false);
    table.remove(hCtxt);
    assert.equal(table.context(hCtxt), undefined);
    assert.equal(table.wasDeleted(hCtxt), true);
    assert.equal(table.wasDeleted(live), false);
    assert.equal(table.wasDeleted({ dwLower: PKG, dwUpper: live.dwUpper + 1000 }), false, 'a value never issued was never deleted');
    assert.deepEqual(table.size, { credentials: 0, contexts: 1 });
  });

  it('remembers every deletion, however many came after it, without keeping the deleted values', () => {
    const table = new LocalHandleTable();
    const first = table.addContext(context());
    table.remove(first);
    for (let i = 0; i < 100_000; i++) table.remove(table.addContext(context()));
    assert.equal(table.wasDeleted(first), true);
    assert.deepEqual(table.size, { credentials: 0, contexts: 0 });
  });

  it('never calls a credential handle a deleted context, nor a value under another package', () => {
    const table = new LocalHandleTable();
    const cred = table.addCredential(credential());
    table.remove(cred);
    assert.equal(table.wasDeleted(cred), false, 'a credential is not a context');
    const ctxt = table.addContext(context());
    table.remove(ctxt);
    assert.equal(table.wasDeleted({ dwLower: OTHER_PKG, dwUpper: ctxt.dwUpper }), false);
    assert.equal(table.wasDeleted({ dwLower: PKG, dwUpper: ctxt.dwUpper + 8192 }), false, 'the next serial was never issued');
  });
});
