// Status codes against the reference tables (section 4): values, names, and which are successes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as status from '../../headers/status.js';
import { hex32, isSuccess, statusByName, statusName } from '../../headers/status.js';

/** A sample of reference section 4.1 (SECURITY_STATUS) and 4.2 (NTSTATUS), as printed there. */
const REFERENCE: Array<[string, number]> = [
  ['SEC_E_OK', 0x00000000],
  ['SEC_I_CONTINUE_NEEDED', 0x00090312],
  ['SEC_I_COMPLETE_NEEDED', 0x00090313],
  ['SEC_I_COMPLETE_AND_CONTINUE', 0x00090314],
  ['SEC_I_SIGNATURE_NEEDED', 0x0009035c],
  ['SEC_I_ASYNC_CALL_PENDING', 0x00090368],
  ['SEC_E_INSUFFICIENT_MEMORY', 0x80090300],
  ['SEC_E_INVALID_HANDLE', 0x80090301],
  ['SEC_E_UNSUPPORTED_FUNCTION', 0x80090302],
  ['SEC_E_INTERNAL_ERROR', 0x80090304],
  ['SEC_E_SECPKG_NOT_FOUND', 0x80090305],
  ['SEC_E_INVALID_TOKEN', 0x80090308],
  ['SEC_E_QOP_NOT_SUPPORTED', 0x8009030a],
  ['SEC_E_LOGON_DENIED', 0x8009030c],
  ['SEC_E_UNKNOWN_CREDENTIALS', 0x8009030d],
  ['SEC_E_MESSAGE_ALTERED', 0x8009030f],
  ['SEC_E_OUT_OF_SEQUENCE', 0x80090310],
  ['SEC_E_BAD_PKGID', 0x80090316],
  ['SEC_E_INCOMPLETE_MESSAGE', 0x80090318],
  ['SEC_E_BUFFER_TOO_SMALL', 0x80090321],
  ['SEC_E_WRONG_PRINCIPAL', 0x80090322],
  ['SEC_E_DECRYPT_FAILURE', 0x80090330],
  ['SEC_E_BAD_BINDINGS', 0x80090346],
  ['SEC_E_INVALID_PARAMETER', 0x8009035d],
  ['SEC_E_POLICY_NLTM_ONLY', 0x8009035f],
  ['SEC_E_INSUFFICIENT_BUFFERS', 0x8009036b],
  ['STATUS_PENDING', 0x00000103],
  ['STATUS_BUFFER_OVERFLOW', 0x80000005],
  ['STATUS_NOT_IMPLEMENTED', 0xc0000002],
  ['STATUS_ACCESS_VIOLATION', 0xc0000005],
  ['STATUS_INVALID_PARAMETER', 0xc000000d],
  ['STATUS_NO_MEMORY', 0xc0000017],
  ['STATUS_OBJECT_NAME_NOT_FOUND', 0xc0000034],
  ['STATUS_NO_SUCH_LOGON_SESSION', 0xc000005f],
  ['STATUS_NO_SUCH_USER', 0xc0000064],
  ['STATUS_WRONG_PASSWORD', 0xc000006a],
  ['STATUS_LOGON_FAILURE', 0xc000006d],
  ['STATUS_ACCOUNT_DISABLED', 0xc0000072],
  ['STATUS_INTERNAL_ERROR', 0xc00000e5],
  ['STATUS_LOGON_SESSION_COLLISION', 0xc0000105],
  ['STATUS_ACCOUNT_LOCKED_OUT', 0xc0000234],
];

describe('status codes', () => {
  for (const [name, value] of REFERENCE) {
    it(`has ${name} = ${hex32(value)}, and names it back`, () => {
      assert.equal((status as unknown as Record<string, number>)[name], value);
      assert.equal(statusName(value), name);
      assert.equal(statusByName(name), value);
    });
  }

  it('has STATUS_SUCCESS equal to SEC_E_OK, and spells 0 as SEC_E_OK', () => {
    assert.equal(status.STATUS_SUCCESS, status.SEC_E_OK);
    assert.equal(statusName(0), 'SEC_E_OK');
  });

  it('finds 0 by either of its names, STATUS_SUCCESS and SEC_E_OK', () => {
    assert.equal(statusByName('STATUS_SUCCESS'), 0);
    assert.equal(statusByName('SEC_E_OK'), 0);
  });

  it('has every SEC_E_* value in the SSPI facility with the top bit set, and every SEC_I_* with it clear', () => {
    for (const [name, value] of Object.entries(status)) {
      if (typeof value !== 'number' || name === 'SEC_E_OK') continue;
      if (name.startsWith('SEC_E_')) assert.equal(value >>> 16, 0x8009, name);
      if (name.startsWith('SEC_I_')) assert.equal(value >>> 16, 0x0009, name);
    }
  });

  it('names every exported status constant by its own name, or by SEC_E_OK for 0', () => {
    for (const [name, value] of Object.entries(status)) {
      if (typeof value !== 'number' || !/^(SEC_[EI]|STATUS)_/.test(name)) continue;
      assert.equal(statusName(value), value === 0 ? 'SEC_E_OK' : name);
    }
  });
});

describe('statusName', () => {
  it('spells an unknown status as eight upper-case hex digits', () => {
    assert.equal(statusName(0x12345678), '0x12345678');
    assert.equal(statusName(0x8009ffff), '0x8009FFFF');
    assert.equal(statusName(7), '0x00000007');
    assert.equal(statusByName('0x00000007'), undefined);
    assert.equal(statusByName('SEC_E_NO_SUCH_THING'), undefined);
  });

  it('names a status given as a signed 32-bit number by its unsigned value, as Windows prints it', () => {
    assert.equal(statusName(0x80090308 | 0), 'SEC_E_INVALID_TOKEN');
    assert.equal(statusName(-1073741715), 'STATUS_LOGON_FAILURE');
  });
});

describe('isSuccess', () => {
  it('counts SEC_E_OK, every SEC_I_* and STATUS_PENDING as success', () => {
    for (const value of [
      status.SEC_E_OK,
      status.SEC_I_CONTINUE_NEEDED,
      status.SEC_I_COMPLETE_NEEDED,
      status.SEC_I_COMPLETE_AND_CONTINUE,
      status.SEC_I_ASYNC_CALL_PENDING,
      status.STATUS_PENDING,
    ]) {
      assert.equal(isSuccess(value), true, statusName(value));
    }
  });

  it('counts every SEC_E_* error, NTSTATUS errors and warnings as failure, signed or not', () => {
    for (const value of [
      status.SEC_E_INVALID_TOKEN,
      status.SEC_E_INTERNAL_ERROR,
      status.STATUS_LOGON_FAILURE,
      status.STATUS_BUFFER_OVERFLOW,
      status.SEC_E_INVALID_HANDLE | 0,
    ]) {
      assert.equal(isSuccess(value), false, statusName(value));
    }
  });
});

describe('hex32', () => {
  it('prints the unsigned 32-bit value in eight upper-case hex digits', () => {
    assert.equal(hex32(0x9035c), '0x0009035C');
    assert.equal(hex32(-1), '0xFFFFFFFF');
  });
});
