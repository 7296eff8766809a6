// Logon sessions keyed by LUID, and the credentials packages attach to them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PackageId } from '../../headers/ntsecpkg.js';
import { ANONYMOUS_LOGON_LUID, LogonSessions, SYSTEM_LUID, isLuid } from '../../lsa/logon-sessions.js';

const NTLM = 1 as PackageId;
const KERBEROS = 2 as PackageId;
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('LogonSessions', () => {
  it('creates sessions with fresh, distinct LUIDs and finds them by LUID', () => {
    const sessions = new LogonSessions();
    const interactive = sessions.create(2, 'alice');
    const network = sessions.create(3, null, null);
    const zero = sessions.create(3, null, 0n);
    assert.ok(interactive && network && zero);
    assert.equal(new Set([interactive.logonId, network.logonId, zero.logonId]).size, 3, 'null and 0 both ask for a fresh LUID');
    assert.equal(sessions.size, 3);
    assert.equal(sessions.get(interactive.logonId), interactive);
    assert.deepEqual([interactive.logonType, interactive.account], [2, 'alice']);
    assert.ok(![SYSTEM_LUID, ANONYMOUS_LOGON_LUID].includes(network.logonId), 'a fresh LUID is never a well-known one');
  });

  it('keeps LUIDs past what a number holds exactly apart from their neighbours, and finds, lists and deletes them like the rest', () => {
    const sessions = new LogonSessions();
    const big = 0x7fff_ffff_ffff_ffffn;
    const nextToBig = big - 1n;
    const pastExact = BigInt(Number.MAX_SAFE_INTEGER) + 2n; // Number() would round it onto MAX_SAFE_INTEGER + 1
    for (const luid of [big, nextToBig, pastExact, pastExact - 1n, 0x7777n]) assert.equal(sessions.create(3, null, luid)?.logonId, luid);
    assert.equal(sessions.create(3, null, pastExact), undefined, 'in use');
    assert.equal(sessions.size, 5);
    assert.equal(sessions.get(big)?.logonId, big);
    assert.equal(sessions.get(nextToBig)?.logonId, nextToBig);
    assert.ok(sessions.addCredential(pastExact, NTLM, 'k', bytes(1)));
    assert.ok(sessions.addCredential(0x7777n, NTLM, 'k', bytes(2)));
    sessions.dropPackageCredentials(NTLM);
    assert.equal(sessions.credential(pastExact, NTLM, 'k'), undefined, 'a package unloaded: its credentials gone from every session');
    assert.equal(sessions.credential(0x7777n, NTLM, 'k'), undefined);
    assert.ok(sessions.delete(big));
    assert.equal(sessions.get(big), undefined);
    assert.equal(sessions.get(nextToBig)?.logonId, nextToBig);
    assert.equal(sessions.size, 4);
  });

  it('takes a LUID only as the headers have one, a bigint of 64 bits (HighPart signed), and finds no session for anything else', () => {
    for (const luid of [0n, 5n, -2n, 2n ** 63n - 1n, -(2n ** 63n)]) assert.ok(isLuid(luid), String(luid));
    for (const other of [5, 0, '5', 2n ** 63n, 2n ** 64n, -(2n ** 63n) - 1n, { LowPart: 5, HighPart: 0 }, Symbol('luid'), null, undefined])
      assert.ok(!isLuid(other), String(other));
    const sessions = new LogonSessions();
    const five = sessions.create(3, null, 5n)!;
    const loose = sessions as unknown as { create(t: number, a: null, id: unknown): unknown; get(id: unknown): unknown; delete(id: unknown): boolean };
    assert.equal(loose.create(3, null, 5), undefined, 'the number 5 is not the LUID 5n');
    assert.equal(loose.create(3, null, { LowPart: 1, HighPart: 0 }), undefined);
    assert.equal(loose.get(5), undefined);
    assert.equal(loose.get(Symbol('luid')), undefined, 'a symbol is not looked up (it would throw where a LUID is compared)');
    assert.equal(loose.delete(5), false);
    assert.equal(sessions.get(5n), five);
    assert.equal(sessions.size, 1);
  });

  it('creates a session with the LUID asked for, and refuses one already in use', () => {
    const sessions = new LogonSessions();
    assert.equal(sessions.create(3, null, 0x7777n)?.logonId, 0x7777n);
    assert.equal(sessions.create(3, null, 0x7777n), undefined);
    assert.equal(sessions.size, 1);
  });

  it('gives a fresh LUID even when an earlier session was created with the LUID that would have come next', () => {
    const sessions = new LogonSessions();
    const first = sessions.create(3, null)!;
    const taken = sessions.create(3, null, first.logonId + 1n)!;
    const fresh = sessions.create(3, null);
    assert.ok(fresh, 'a session without a requested LUID is always created');
    assert.ok(![first.logonId, taken.logonId].includes(fresh.logonId));
    assert.equal(sessions.size, 3);
  });

  it('deletes a session once', () => {
    const sessions = new LogonSessions();
    const { logonId } = sessions.create(3, null)!;
    assert.equal(sessions.delete(logonId), true);
    assert.equal(sessions.get(logonId), undefined);
    assert.equal(sessions.delete(logonId), false);
    assert.equal(sessions.size, 0);
  });

  it('keeps a copy of a credential, found by package and primary key', () => {
    const sessions = new LogonSessions();
    const { logonId } = sessions.create(3, null)!;
    const secret = bytes(1, 2, 3);
    assert.equal(sessions.addCredential(logonId, NTLM, 'primary', secret), true);
    secret.fill(0);
    assert.deepEqual(sessions.credential(logonId, NTLM, 'primary'), bytes(1, 2, 3), 'the caller changing its buffer changes nothing');
    assert.equal(sessions.credential(logonId, KERBEROS, 'primary'), undefined, "another package's credentials are separate");
    assert.equal(sessions.credential(logonId, NTLM, 'other'), undefined);
  });

  it('refuses a credential for a session that does not exist', () => {
    const sessions = new LogonSessions();
    assert.equal(sessions.addCredential(0xdeadn, NTLM, 'primary', bytes(1)), false);
    assert.equal(sessions.credential(0xdeadn, NTLM, 'primary'), undefined);
  });

  it("walks a package's credentials in the order they were added, and stops past the last", () => {
    const sessions = new LogonSessions();
    const { logonId } = sessions.create(3, null)!;
    sessions.addCredential(logonId, NTLM, 'first', bytes(1));
    sessions.addCredential(logonId, KERBEROS, 'theirs', bytes(9));
    sessions.addCredential(logonId, NTLM, 'second', bytes(2));
    assert.deepEqual(sessions.credentialAt(logonId, NTLM, 0), ['first', bytes(1)]);
    assert.deepEqual(sessions.credentialAt(logonId, NTLM, 1), ['second', bytes(2)]);
    assert.equal(sessions.credentialAt(logonId, NTLM, 2), undefined);
    assert.equal(sessions.credentialAt(0xdeadn, NTLM, 0), undefined);
  });

  it('replaces a credential added again under the same key', () => {
    const sessions = new LogonSessions();
    const { logonId } = sessions.create(3, null)!;
    sessions.addCredential(logonId, NTLM, 'primary', bytes(1));
    sessions.addCredential(logonId, NTLM, 'primary', bytes(2));
    assert.deepEqual(sessions.credential(logonId, NTLM, 'primary'), bytes(2));
    assert.equal(sessions.credentialAt(logonId, NTLM, 1), undefined);
  });

  it('deletes a credential once', () => {
    const sessions = new LogonSessions();
    const { logonId } = sessions.create(3, null)!;
    sessions.addCredential(logonId, NTLM, 'primary', bytes(1));
    assert.equal(sessions.deleteCredential(logonId, NTLM, 'primary'), true);
    assert.equal(sessions.credential(logonId, NTLM, 'primary'), undefined);
    assert.equal(sessions.deleteCredential(logonId, NTLM, 'primary'), false);
    assert.equal(sessions.deleteCredential(0xdeadn, NTLM, 'primary'), false);
  });
});
