// The DER writer and strict reader that the HTTPS certificates use: X.690's encodings for the
// lengths and OIDs a certificate has, checked against known bytes, and hostile encodings (BER
// forms, lengths past their parent) refused with the offset named.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DER_TAG, DerError, expectTlv, oid, readOid, readTlv, sequence, time, tlv, unsignedInteger } from '../../app-protocols/der.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));

describe('the DER writer', () => {
  it('writes lengths in their shortest form: one byte below 128, then 0x81 and 0x82 forms', () => {
    assert.equal(hex(tlv(0x04, new Uint8Array(5))).slice(0, 4), '0405');
    assert.equal(hex(tlv(0x04, new Uint8Array(127))).slice(0, 4), '047f');
    assert.equal(hex(tlv(0x04, new Uint8Array(128))).slice(0, 6), '048180');
    assert.equal(hex(tlv(0x04, new Uint8Array(256))).slice(0, 8), '04820100');
  });

  it('writes OIDs as X.690 8.19 does (rsaEncryption, ecdsa-with-SHA256, a 2.x arc)', () => {
    assert.equal(hex(oid('1.2.840.113549.1.1.1')), '06092a864886f70d010101');
    assert.equal(hex(oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
    assert.equal(hex(oid('2.5.29.17')), '0603551d11');
  });

  it('writes non-negative INTEGERs without leading zeros and with a zero before a high bit', () => {
    assert.equal(hex(unsignedInteger(bytes('0000017f'))), '0202017f');
    assert.equal(hex(unsignedInteger(bytes('80'))), '02020080');
    assert.equal(hex(unsignedInteger(bytes('00'))), '020100');
  });

  it('writes UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 4.1.2.5)', () => {
    assert.equal(
      Buffer.from(time(new Date('2049-12-31T23:59:59Z')))
        .subarray(2)
        .toString('latin1'),
      '491231235959Z',
    );
    assert.equal(time(new Date('2049-12-31T23:59:59Z'))[0], DER_TAG.UTC_TIME);
    assert.equal(
      Buffer.from(time(new Date('2050-01-01T00:00:00Z')))
        .subarray(2)
        .toString('latin1'),
      '20500101000000Z',
    );
  });
});

describe('the strict DER reader', () => {
  it('reads back what the writer wrote', () => {
    const written = sequence(oid('1.3.101.112'), tlv(0x05, new Uint8Array(0)));
    const outer = expectTlv(written, 0, DER_TAG.SEQUENCE, 'outer');
    assert.equal(outer.end, written.length);
    assert.equal(readOid(written, expectTlv(written, outer.start, DER_TAG.OID, 'oid', outer.end)), '1.3.101.112');
  });

  it('refuses an indefinite length (BER), a length not in its shortest form, and lengths of more than 4 bytes', () => {
    assert.throws(() => readTlv(bytes('3080 0000'), 0), { name: 'DerError', offset: 1, message: /indefinite length/ });
    assert.throws(() => readTlv(bytes('048105 0102030405'), 0), { name: 'DerError', offset: 1, message: /shortest form/ });
    assert.throws(() => readTlv(bytes('04820005 0102030405'), 0), { name: 'DerError', offset: 1, message: /shortest form/ });
    assert.throws(() => readTlv(bytes('0485000000000001'), 0), { name: 'DerError', message: /5-byte length/ });
  });

  it('refuses contents that run past the buffer or past their parent', () => {
    assert.throws(() => readTlv(bytes('0405 0102'), 0), { name: 'DerError', offset: 0, message: /run past their parent/ });
    const parent = bytes('3003 0405 01020304 05');
    const outer = readTlv(parent, 0);
    assert.throws(() => readTlv(parent, outer.start, outer.end), DerError);
    assert.throws(() => readTlv(bytes('04'), 0), { name: 'DerError', message: /runs past its parent/ });
  });

  it('refuses a multi-byte tag, a wrong tag where one is expected, and OIDs that are empty, not minimal or cut', () => {
    assert.throws(() => readTlv(bytes('1f2100'), 0), { name: 'DerError', message: /multi-byte tag/ });
    assert.throws(() => expectTlv(bytes('0400'), 0, DER_TAG.SEQUENCE, 'a sequence'), { name: 'DerError', message: /a sequence: tag 0x4, expected 0x30/ });
    const oidOf = (h: string) => {
      const b = bytes(h);
      return readOid(b, readTlv(b, 0));
    };
    assert.throws(() => oidOf('0600'), /empty OBJECT IDENTIFIER/);
    assert.throws(() => oidOf('0603 2a8001'), /leading 0x80/);
    assert.throws(() => oidOf('0602 2a86'), /ends inside an arc/);
    assert.equal(oidOf('0603 2a8648'), '1.2.840');
  });
});
