// sspi.h values against the reference (sections 5 and 6), and the helpers that spell flags and
// attribute levels for traces.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ASC_REQ,
  ASC_RET,
  ISC_REQ,
  ISC_RET,
  SECBUFFER,
  SECBUFFER_READONLY,
  SECPKG_ATTR,
  SECPKG_CRED,
  SECPKG_FLAG,
  SECURITY_NATIVE_DREP,
  attributeName,
  flagNames,
} from '../../headers/sspi.js';

describe('flag tables', () => {
  it('has the ISC_REQ and ISC_RET bits of reference section 5.1', () => {
    assert.deepEqual(
      [
        ISC_REQ.DELEGATE,
        ISC_REQ.MUTUAL_AUTH,
        ISC_REQ.CONFIDENTIALITY,
        ISC_REQ.ALLOCATE_MEMORY,
        ISC_REQ.CONNECTION,
        ISC_REQ.NULL_SESSION,
        ISC_REQ.UNVERIFIED_TARGET_NAME,
      ],
      [0x1, 0x2, 0x10, 0x100, 0x800, 0x40000, 0x20000000],
    );
    assert.deepEqual([ISC_RET.INTERMEDIATE_RETURN, ISC_RET.CALL_LEVEL, ISC_RET.USED_COLLECTED_CREDS, ISC_RET.FRAGMENT_ONLY], [0x1000, 0x2000, 0x40, 0x200000]);
  });

  it('places EXTENDED_ERROR, STREAM and INTEGRITY one bit higher for ASC_REQ than for ISC_REQ, as section 5.2 warns', () => {
    assert.deepEqual([ISC_REQ.EXTENDED_ERROR, ISC_REQ.STREAM, ISC_REQ.INTEGRITY], [0x4000, 0x8000, 0x10000]);
    assert.deepEqual([ASC_REQ.EXTENDED_ERROR, ASC_REQ.STREAM, ASC_REQ.INTEGRITY], [0x8000, 0x10000, 0x20000]);
    assert.deepEqual([ASC_RET.EXTENDED_ERROR, ASC_RET.STREAM, ASC_RET.INTEGRITY, ASC_RET.THIRD_LEG_FAILED], [0x8000, 0x10000, 0x20000, 0x4000]);
  });

  it('shares the low bits from DELEGATE to CONNECTION between ISC_REQ and ASC_REQ', () => {
    for (const name of [
      'DELEGATE',
      'MUTUAL_AUTH',
      'REPLAY_DETECT',
      'SEQUENCE_DETECT',
      'CONFIDENTIALITY',
      'USE_SESSION_KEY',
      'ALLOCATE_MEMORY',
      'USE_DCE_STYLE',
      'DATAGRAM',
      'CONNECTION',
    ] as const) {
      assert.equal(ISC_REQ[name], ASC_REQ[name], name);
    }
  });

  it('has the buffer types, credential uses, capabilities and attribute levels of sections 5.3 to 6.1', () => {
    assert.deepEqual(
      [SECBUFFER.EMPTY, SECBUFFER.DATA, SECBUFFER.TOKEN, SECBUFFER.MISSING, SECBUFFER.EXTRA, SECBUFFER.PADDING, SECBUFFER.CHANNEL_BINDINGS, SECBUFFER.ALERT],
      [0, 1, 2, 4, 5, 9, 14, 17],
    );
    assert.equal(SECBUFFER_READONLY, 0x80000000);
    assert.deepEqual([SECPKG_CRED.INBOUND, SECPKG_CRED.OUTBOUND, SECPKG_CRED.BOTH, SECPKG_CRED.DEFAULT], [1, 2, 3, 4]);
    assert.deepEqual(
      [SECPKG_FLAG.INTEGRITY, SECPKG_FLAG.PRIVACY, SECPKG_FLAG.CONNECTION, SECPKG_FLAG.NEGOTIABLE, SECPKG_FLAG.APPLY_LOOPBACK],
      [0x1, 0x2, 0x10, 0x800, 0x2000000],
    );
    assert.deepEqual(
      [
        SECPKG_ATTR.SIZES,
        SECPKG_ATTR.NAMES,
        SECPKG_ATTR.SESSION_KEY,
        SECPKG_ATTR.NATIVE_NAMES,
        SECPKG_ATTR.FLAGS,
        SECPKG_ATTR.IS_LOOPBACK,
        SECPKG_ATTR.THUNK_ALL,
      ],
      [0, 1, 9, 13, 14, 37, 0x10000],
    );
    assert.equal(SECURITY_NATIVE_DREP, 0x10);
  });
});

describe('flagNames', () => {
  it('spells each set bit with its prefix, in table order', () => {
    assert.deepEqual(flagNames(ISC_REQ.CONFIDENTIALITY | ISC_REQ.MUTUAL_AUTH | ISC_REQ.CONNECTION, ISC_REQ, 'ISC_REQ_'), [
      'ISC_REQ_MUTUAL_AUTH',
      'ISC_REQ_CONFIDENTIALITY',
      'ISC_REQ_CONNECTION',
    ]);
    assert.deepEqual(flagNames(ISC_REQ.DELEGATE, ISC_REQ), ['DELEGATE'], 'no prefix by default');
  });

  it('spells nothing for 0', () => {
    assert.deepEqual(flagNames(0, ISC_REQ, 'ISC_REQ_'), []);
  });

  it('spells the bits the table has no name for as one eight-digit hex value at the end', () => {
    assert.deepEqual(flagNames(0x80000000 | ISC_REQ.INTEGRITY | 0x02000000, ISC_REQ, 'ISC_REQ_'), ['ISC_REQ_INTEGRITY', '0x82000000']);
    assert.deepEqual(flagNames(0x02000000, ISC_REQ, 'ISC_REQ_'), ['0x02000000']);
  });

  it('spells every bit of 0xFFFFFFFF, the named ones and the rest, and takes a signed value as unsigned', () => {
    const all = flagNames(0xffffffff, ISC_REQ, 'ISC_REQ_');
    assert.equal(all.length, Object.keys(ISC_REQ).length + 1);
    assert.equal(all.at(-1), '0x9e000000');
    assert.deepEqual(flagNames(-1, ISC_REQ, 'ISC_REQ_'), all);
    assert.deepEqual(flagNames(0x80000000 | 0, ISC_REQ, 'ISC_REQ_'), ['0x80000000'], 'the sign bit alone, as a signed int');
  });

  it('spells the same bit differently for ISC_REQ and ASC_REQ', () => {
    assert.deepEqual(flagNames(0x8000, ISC_REQ, 'ISC_REQ_'), ['ISC_REQ_STREAM']);
    assert.deepEqual(flagNames(0x8000, ASC_REQ, 'ASC_REQ_'), ['ASC_REQ_EXTENDED_ERROR']);
    assert.deepEqual(flagNames(0x4000, ASC_REQ, 'ASC_REQ_'), ['0x00004000'], 'ASC_REQ has no bit 0x4000');
    assert.deepEqual(flagNames(0x4000, ASC_RET, 'ASC_RET_'), ['ASC_RET_THIRD_LEG_FAILED']);
  });
});

describe('attributeName', () => {
  it('names a QueryContextAttributes level the Windows way', () => {
    assert.equal(attributeName(0), 'SECPKG_ATTR_SIZES');
    assert.equal(attributeName(13), 'SECPKG_ATTR_NATIVE_NAMES');
    assert.equal(attributeName(14), 'SECPKG_ATTR_FLAGS');
    assert.equal(attributeName(0x10000), 'SECPKG_ATTR_THUNK_ALL');
  });

  it('spells a level it has no name for in hex', () => {
    assert.equal(attributeName(0x5a), '0x5a');
    assert.equal(attributeName(23), '0x17');
    assert.equal(attributeName(-1), '0xffffffff');
  });
});
