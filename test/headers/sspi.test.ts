// sspi.h values against the reference (sections 1, 5 and 6, read from the document itself: the
// tables and definitions test/helpers/reference.ts parses), and the helpers that spell flags and
// attribute levels for traces.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as sspi from '../../headers/sspi.js';
import {
  ASC_REQ,
  ASC_RET,
  ISC_REQ,
  ISC_RET,
  SECBUFFER,
  SECPKG_ATTR,
  SECPKG_CONTEXT_EXPORT,
  SECPKG_CRED,
  SECPKG_FLAG,
  SECPKG_NEGOTIATION,
  attributeName,
  flagNames,
} from '../../headers/sspi.js';
import { REFERENCE_PATH, readReference } from '../helpers/reference.js';

const REFERENCE = readReference();

/** The header's tables, each with the prefix the reference spells its members with. */
const TABLES: ReadonlyArray<[string, Readonly<Record<string, number>>]> = [
  ['ISC_REQ_', ISC_REQ],
  ['ISC_RET_', ISC_RET],
  ['ASC_REQ_', ASC_REQ],
  ['ASC_RET_', ASC_RET],
  ['SECPKG_CRED_', SECPKG_CRED],
  ['SECBUFFER_', SECBUFFER],
  ['SECPKG_FLAG_', SECPKG_FLAG],
  ['SECPKG_ATTR_', SECPKG_ATTR],
  ['SECPKG_NEGOTIATION_', SECPKG_NEGOTIATION],
  ['SECPKG_CONTEXT_EXPORT_', SECPKG_CONTEXT_EXPORT],
];

/** The header's constants the reference publishes in no table or definition (only in passing, or not at all). */
const UNPUBLISHED = new Set(['SECPKG_CRED_ATTR_NAMES', 'SEC_WINNT_AUTH_IDENTITY_UNICODE', 'TIMESTAMP_NEVER']);

describe('sspi.h against the reference', { skip: REFERENCE === undefined ? `no reference at ${REFERENCE_PATH}` : false }, () => {
  const published = REFERENCE?.values ?? new Map<string, number>();

  it('reads the reference without a name published twice with two values', () => {
    assert.deepEqual(REFERENCE?.conflicts, []);
  });

  for (const [prefix, table] of TABLES) {
    it(`has every ${prefix}* value as the reference publishes it`, () => {
      const members = Object.entries(table);
      assert.ok(members.length > 0);
      for (const [name, value] of members) assert.equal(value, published.get(prefix + name), prefix + name);
    });
  }

  it('has every other numeric constant of sspi.h as the reference publishes it', () => {
    const singles = Object.entries(sspi).filter(([name, value]) => /^[A-Z][A-Z0-9_]+$/.test(name) && typeof value === 'number');
    assert.ok(singles.some(([name]) => name === 'SECURITY_NATIVE_DREP') && singles.some(([name]) => name === 'SECBUFFER_READONLY'));
    for (const [name, value] of singles) if (!UNPUBLISHED.has(name)) assert.equal(value, published.get(name), name);
  });
});

describe('flag tables', () => {
  it('places EXTENDED_ERROR, STREAM and INTEGRITY one bit higher for ASC_REQ than for ISC_REQ, as section 5.2 warns', () => {
    for (const name of ['EXTENDED_ERROR', 'STREAM', 'INTEGRITY'] as const) {
      assert.equal(ASC_REQ[name], ISC_REQ[name] * 2, `ASC_REQ_${name}`);
      assert.equal(ASC_RET[name], ISC_RET[name] * 2, `ASC_RET_${name}`);
    }
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
