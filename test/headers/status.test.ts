// Status codes against the reference tables (section 4, read from the document itself by
// test/helpers/reference.ts): values, names, and which are successes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as status from '../../headers/status.js';
import { hex32, isSuccess, statusByName, statusName } from '../../headers/status.js';
import { REFERENCE_PATH, readReference } from '../helpers/reference.js';

const REFERENCE = readReference();
const STATUS_NAME = /^(SEC_[EI]|STATUS)_/;
/** Reference sections 4.1 (SECURITY_STATUS) and 4.2 (NTSTATUS), as the document prints them. */
const PUBLISHED: Array<[string, number]> = [...(REFERENCE?.values ?? [])].filter(([name]) => STATUS_NAME.test(name));
const exported = (): Array<[string, number]> =>
  Object.entries(status as unknown as Record<string, unknown>).filter(
    (entry): entry is [string, number] => typeof entry[1] === 'number' && STATUS_NAME.test(entry[0]),
  );

describe('status codes against the reference', { skip: REFERENCE === undefined ? `no reference at ${REFERENCE_PATH}` : false }, () => {
  it('exports every status the reference publishes, and no other', () => {
    assert.ok(PUBLISHED.length > 100, `${PUBLISHED.length} statuses read from the reference`);
    assert.deepEqual(
      exported()
        .map(([name]) => name)
        .sort(),
      PUBLISHED.map(([name]) => name).sort(),
    );
  });

  for (const [name, value] of PUBLISHED) {
    it(`has ${name} = ${hex32(value)}, and names it back`, () => {
      assert.equal((status as unknown as Record<string, number>)[name], value);
      assert.equal(statusName(value), value === 0 ? 'SEC_E_OK' : name, 'STATUS_SUCCESS is spelled SEC_E_OK');
      assert.equal(statusByName(name), value);
    });
  }
});

describe('status codes', () => {
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
    for (const [name, value] of exported()) assert.equal(statusName(value), value === 0 ? 'SEC_E_OK' : name);
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
