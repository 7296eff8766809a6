// The LSA's account store: the --account forms, finding an account by any of the names a client
// may give, and the OpenSamUser/GetUserCredentials/CloseSamUser lifecycle.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PRIMARY_CRED_CLEAR_PASSWORD } from '../../headers/ntsecpkg.js';
import { AccountStore, parseAccount } from '../../lsa/accounts.js';

describe('parseAccount', () => {
  it('reads "user:password" into the default domain', () => {
    assert.deepEqual(parseAccount('alice:Passw0rd!', 'SSPI-EMU'), { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' });
  });

  it('reads "DOMAIN\\user:password" into that domain', () => {
    assert.deepEqual(parseAccount('CORP\\bob:hunter2', 'SSPI-EMU'), { user: 'bob', domain: 'CORP', password: 'hunter2' });
  });

  it('keeps every colon after the first in the password, and a backslash in the password', () => {
    assert.deepEqual(parseAccount('carol:a:b::c', 'D'), { user: 'carol', domain: 'D', password: 'a:b::c' });
    assert.deepEqual(parseAccount('CORP\\dave:back\\slash', 'D'), { user: 'dave', domain: 'CORP', password: 'back\\slash' });
  });

  it('refuses a spec without a password, without a name, or with an empty user name', () => {
    assert.throws(() => parseAccount('alice', 'D'), { message: 'account "alice" is not USER:PASSWORD or DOMAIN\\USER:PASSWORD' });
    assert.throws(() => parseAccount(':secret', 'D'), /is not USER:PASSWORD/);
    assert.throws(() => parseAccount('CORP\\:secret', 'D'), { message: 'account "CORP\\\\:secret" has an empty user name' });
  });
});

describe('AccountStore', () => {
  const store = () =>
    new AccountStore([
      { user: 'Alice', domain: 'SSPI-EMU', password: 'Passw0rd!' },
      { user: 'bob', domain: 'SSPI-EMU', password: 'hunter2' },
    ]);

  it('finds an account by "user", "DOMAIN\\user", another domain\'s "OTHER\\user" and "user@domain"', () => {
    const accounts = store();
    for (const name of ['Alice', 'SSPI-EMU\\Alice', 'OTHER\\Alice', 'Alice@sspi-emu.local', 'Alice@elsewhere']) {
      assert.equal(accounts.find(name)?.password, 'Passw0rd!', name);
    }
  });

  it('finds names case-insensitively and keeps the configured case', () => {
    const accounts = store();
    for (const name of ['alice', 'ALICE', 'sspi-emu\\aLiCe', 'ALICE@SSPI-EMU']) assert.equal(accounts.find(name)?.user, 'Alice', name);
  });

  it('finds no account for an unknown user, whatever the form', () => {
    const accounts = store();
    for (const name of ['carol', 'SSPI-EMU\\carol', 'carol@sspi-emu', '', 'SSPI-EMU\\', '@alice']) assert.equal(accounts.find(name), undefined, name);
    assert.equal(accounts.size, 2);
  });

  it('opens a user, hands out its primary credentials for a logon id, and closes it', () => {
    const accounts = store();
    const handle = accounts.openUser('sspi-emu\\alice');
    assert.notEqual(handle, undefined);
    assert.equal(accounts.openHandles, 1);
    assert.deepEqual(accounts.userCredentials(handle!, 0x1234n), {
      LogonId: 0x1234n,
      DownlevelName: 'Alice',
      DomainName: 'SSPI-EMU',
      Password: 'Passw0rd!',
      Flags: PRIMARY_CRED_CLEAR_PASSWORD,
    });
    assert.equal(accounts.closeUser(handle!), true);
    assert.equal(accounts.openHandles, 0);
    assert.equal(accounts.userCredentials(handle!, 0x1234n), undefined, 'a closed handle gives nothing');
    assert.equal(accounts.closeUser(handle!), false, 'a second close fails');
  });

  it('gives each open its own handle, and none for an unknown user', () => {
    const accounts = store();
    const first = accounts.openUser('alice');
    const second = accounts.openUser('alice');
    const bob = accounts.openUser('bob');
    assert.equal(new Set([first, second, bob]).size, 3);
    assert.equal(accounts.openUser('nobody'), undefined);
    assert.equal(accounts.openHandles, 3);
    accounts.closeUser(first!);
    assert.equal(accounts.userCredentials(second!, 1n)?.DownlevelName, 'Alice', 'closing one handle leaves the other open');
    assert.equal(accounts.userCredentials(12345, 1n), undefined, 'a made-up handle gives nothing');
  });
});
