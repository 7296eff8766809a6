// What the check calls a sane SecPkgInfo, judged without running the package.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldProblems, nameProblems, type LoadedInfo } from '../../check/info.js';

const SANE: LoadedInfo = {
  id: 2,
  name: 'Contoso',
  comment: 'a package',
  fCapabilities: 0x3,
  wVersion: 1,
  wRPCID: 0xffff,
  cbMaxToken: 512,
  module: 'file:///x.js',
  version: 1,
};
const NTLM: LoadedInfo = { ...SANE, id: 1, name: 'NTLM', wRPCID: 10 };

describe('SecPkgInfo, as the check judges it', () => {
  it('takes the names Windows ships, spaces inside included', () => {
    for (const name of ['NTLM', 'Kerberos', 'Negotiate', 'Microsoft Unified Security Protocol Provider', 'Contoso-2_x'])
      assert.deepEqual(nameProblems(name), [], name);
  });

  it('refuses names an application or Negotiate cannot use, saying why', () => {
    assert.deepEqual(nameProblems(''), ['it is empty']);
    assert.deepEqual(nameProblems(' Contoso'), ['it starts or ends with white space']);
    assert.deepEqual(nameProblems('Con\ntoso'), ['it has control characters']);
    assert.match(nameProblems('Kerberos,NTLM').join(), /comma/);
    assert.match(nameProblems('!NTLM').join(), /starts with "!"/);
    assert.match(nameProblems('x'.repeat(257)).join(), /257 characters/);
  });

  it('passes sane fields, and SECPKG_ID_NONE beside any other package', () => {
    assert.deepEqual(fieldProblems(SANE, [NTLM]), []);
    assert.deepEqual(fieldProblems({ ...SANE, wRPCID: 0xffff }, [{ ...NTLM, wRPCID: 0xffff }]), []);
  });

  it('refuses an RPC id another package has, a wVersion other than 1, a cbMaxToken of 0 and an empty Comment', () => {
    assert.deepEqual(fieldProblems({ ...SANE, wRPCID: 10, wVersion: 2, cbMaxToken: 0, comment: ' ' }, [NTLM]), [
      'wVersion is 2 (the documentation says 1)',
      "wRPCID 10 is NTLM's too (use SECPKG_ID_NONE, 0xFFFF, without a DCE RPC id of your own)",
      'cbMaxToken 0 is not a size from 1 to 1048576',
      'Comment is empty',
    ]);
  });
});
