// Which side of a run failed first: a side that failed because its peer did (it hung up, or sent
// its own failure) is not the one; otherwise the server's verdict wins (a wrong password is its
// call); a client that succeeded makes the run a success.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstFailure } from '../../scenarios/index.js';
import type { AppResult } from '../../process/index.js';

const ok: AppResult = { status: 0, statusName: 'SEC_E_OK' };
const own = (statusName: string, status: number): AppResult => ({ status, statusName });
const afterPeer = (result: AppResult): AppResult => ({ ...result, afterPeer: true });
const INVALID_HANDLE = own('SEC_E_INVALID_HANDLE', 0x80090301);
const INTERNAL = own('SEC_E_INTERNAL_ERROR', 0x80090304);
const LOGON_DENIED = own('SEC_E_LOGON_DENIED', 0x8009030c);

describe('firstFailure', () => {
  it('names the client when the server only failed after the client hung up', () => {
    assert.equal(firstFailure(INVALID_HANDLE, afterPeer(INTERNAL)), 'client');
  });

  it('names the server when the client only failed after the server refused it', () => {
    assert.equal(firstFailure(afterPeer(LOGON_DENIED), LOGON_DENIED), 'server');
  });

  it("names the server's verdict when both failed on their own, and the failing side when only one did", () => {
    assert.equal(firstFailure(INTERNAL, LOGON_DENIED), 'server');
    assert.equal(firstFailure(INVALID_HANDLE, ok), 'client');
    assert.equal(firstFailure(INVALID_HANDLE, null), 'client');
    assert.equal(firstFailure(null, LOGON_DENIED), 'server');
    assert.equal(firstFailure(null, afterPeer(INTERNAL)), 'client');
  });

  it('is null when the client succeeded', () => {
    assert.equal(firstFailure(ok, ok), null);
    assert.equal(firstFailure(ok, INTERNAL), null);
  });
});
