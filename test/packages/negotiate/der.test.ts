// The strict DER codec (packages/negotiate/der.ts): the published OID encodings, and every form DER
// forbids refused with its code and the offset of the problem.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bitStringContents,
  DerError,
  enumeratedContents,
  lengthOctets,
  oid,
  oidContents,
  readBitString,
  readEnumerated,
  readOid,
  readTlv,
  TAG,
  tlv,
  type DerErrorCode,
} from '../../../packages/negotiate/der.js';
import { DER_OIDS, hexBytes } from './vectors.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function throwsDer(fn: () => unknown, code: DerErrorCode, offset: number): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DerError, `not a DerError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.offset, offset, error.message);
    return true;
  });
}

describe('DER', () => {
  it('encodes and reads the OIDs of test-vectors.md 7 byte for byte', () => {
    for (const [text, der] of Object.entries(DER_OIDS)) {
      assert.equal(hex(oid(text)), der, text);
      const bytes = hexBytes(der);
      assert.equal(readOid(bytes, readTlv(bytes, 0, bytes.length)), text);
    }
  });

  it('writes lengths in their shortest form, short and long', () => {
    assert.equal(hex(lengthOctets(0)), '00');
    assert.equal(hex(lengthOctets(127)), '7f');
    assert.equal(hex(lengthOctets(128)), '8180');
    assert.equal(hex(lengthOctets(255)), '81ff');
    assert.equal(hex(lengthOctets(256)), '820100');
    assert.equal(hex(lengthOctets(65791)), '830100ff');
    const value = tlv(TAG.OCTET_STRING, new Uint8Array(300));
    assert.equal(hex(value.subarray(0, 4)), '0482012c');
    assert.deepEqual(readTlv(value, 0, value.length), { tag: 4, start: 0, contentStart: 4, end: 304 });
  });

  it('refuses an indefinite length', () => throwsDer(() => readTlv(hexBytes('30800000'), 0, 4), 'INDEFINITE_LENGTH', 1));

  it('refuses a long-form length that fits the short form, and one with a leading zero octet', () => {
    throwsDer(() => readTlv(hexBytes('04817f' + '00'.repeat(127)), 0, 130), 'NON_MINIMAL_LENGTH', 1);
    throwsDer(() => readTlv(hexBytes('0482008000'), 0, 5), 'NON_MINIMAL_LENGTH', 1);
  });

  it('refuses a length past the enclosing value, a cut-off length and a length of more than 4 octets', () => {
    throwsDer(() => readTlv(hexBytes('040500'), 0, 3), 'BAD_LENGTH', 1);
    throwsDer(() => readTlv(hexBytes('0482'), 0, 2), 'TRUNCATED', 1);
    throwsDer(() => readTlv(hexBytes('04'), 0, 1), 'TRUNCATED', 1);
    throwsDer(() => readTlv(hexBytes('0485ffffffffff'), 0, 7), 'BAD_LENGTH', 1);
    // A value that fits the buffer but not its parent.
    throwsDer(() => readTlv(hexBytes('0403aabbcc'), 0, 4), 'BAD_LENGTH', 1);
  });

  it('refuses the high-tag-number form', () => throwsDer(() => readTlv(hexBytes('1f8100'), 0, 3), 'BAD_TAG', 0));

  it('refuses malformed OIDs: empty, padded, cut off, too large', () => {
    const read = (der: string) => {
      const bytes = hexBytes(der);
      return readOid(bytes, readTlv(bytes, 0, bytes.length));
    };
    throwsDer(() => read('0600'), 'BAD_OID', 0);
    throwsDer(() => read('06032b8001'), 'BAD_OID', 3);
    throwsDer(() => read('06022b86'), 'BAD_OID', 3);
    throwsDer(() => read('060b2b' + 'ff'.repeat(9) + '7f'), 'BAD_OID', 3);
    assert.equal(read('0603813402'), '2.100.2');
    assert.throws(() => oidContents('1.40'), RangeError);
    assert.throws(() => oidContents('3.1'), RangeError);
    assert.throws(() => oidContents('1.2.03'), RangeError);
  });

  it('reads ENUMERATED only in its shortest non-negative form', () => {
    const read = (der: string) => {
      const bytes = hexBytes(der);
      return readEnumerated(bytes, readTlv(bytes, 0, bytes.length));
    };
    assert.equal(read('0a0103'), 3);
    assert.equal(read('0a020080'), 128);
    assert.equal(hex(enumeratedContents(128)), '0080');
    throwsDer(() => read('0a00'), 'BAD_VALUE', 0);
    throwsDer(() => read('0a020003'), 'BAD_VALUE', 2);
    throwsDer(() => read('0a0180'), 'BAD_VALUE', 2);
  });

  it('reads BIT STRING with its unused bits zero, and refuses stray bits', () => {
    const read = (der: string) => {
      const bytes = hexBytes(der);
      return readBitString(bytes, readTlv(bytes, 0, bytes.length));
    };
    assert.deepEqual(read('03020780'), { bytes: Uint8Array.of(0x80), unusedBits: 7 });
    assert.equal(hex(bitStringContents({ bytes: Uint8Array.of(0x80), unusedBits: 7 })), '0780');
    throwsDer(() => read('0300'), 'BAD_VALUE', 0);
    throwsDer(() => read('030108'), 'BAD_VALUE', 2);
    throwsDer(() => read('030101'), 'BAD_VALUE', 2);
    throwsDer(() => read('03020781'), 'BAD_VALUE', 3);
  });
});
