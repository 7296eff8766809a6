// What Negotiate says about itself (packages/negotiate/info.ts): Windows' SecPkgInfo for it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECPKG_FLAG, flagNames } from '../../../headers/sspi.js';
import { SpLsaModeInitialize, SpUserModeInitialize } from '../../../packages/negotiate/index.js';
import { PACKAGE_INFO } from '../../../packages/negotiate/info.js';

describe("Negotiate's SecPkgInfo", () => {
  it('is Windows\' own: "Negotiate", "Microsoft Package Negotiator", 0x00083BB3, version 1, RPC id 9 (RPC_C_AUTHN_GSS_NEGOTIATE), cbMaxToken 65791', async () => {
    assert.equal(PACKAGE_INFO.Name, 'Negotiate');
    assert.equal(PACKAGE_INFO.Comment, 'Microsoft Package Negotiator');
    assert.equal(PACKAGE_INFO.fCapabilities, 0x00083bb3);
    assert.deepEqual(flagNames(PACKAGE_INFO.fCapabilities, SECPKG_FLAG), [
      'INTEGRITY',
      'PRIVACY',
      'CONNECTION',
      'MULTI_REQUIRED',
      'EXTENDED_ERROR',
      'IMPERSONATION',
      'ACCEPT_WIN32_NAME',
      'NEGOTIABLE',
      'GSS_COMPATIBLE',
      'LOGON',
      'RESTRICTED_TOKENS',
    ]);
    assert.equal(PACKAGE_INFO.wVersion, 1);
    assert.equal(PACKAGE_INFO.wRPCID, 9);
    assert.equal(PACKAGE_INFO.cbMaxToken, 65791);
    const table = (await SpLsaModeInitialize(0x10000)).ppTables[0]!;
    assert.deepEqual((await table.GetInfo()).PackageInfo, { ...PACKAGE_INFO });
  });

  it("has no user-mode table of its own: its contexts are mapped as their mechanism's", async () => {
    assert.deepEqual((await SpUserModeInitialize(0x10000)).ppTables, []);
  });
});
