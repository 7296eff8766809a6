// The package's own MD5 and HMAC-MD5 (md5.ts): the RFC 1321 and RFC 2202 vectors, and agreement
// with node:crypto (OpenSSL) around every padding boundary, for messages fed in pieces, and on both
// sides of the length above which an HMAC is handed to node:crypto.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { HmacMd5Key, hmacMd5, hmacMd5Into, Md5, md5, NATIVE_FROM_BYTES } from '../../../packages/ntlm/md5.js';
import { fromHex, toHex } from './vectors.js';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const pattern = (length: number, seed = 1): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
const opensslMd5 = (...parts: Uint8Array[]): string => toHex(parts.reduce((h, p) => h.update(p), createHash('md5')).digest());
const opensslHmac = (key: Uint8Array, ...parts: Uint8Array[]): string => toHex(parts.reduce((h, p) => h.update(p), createHmac('md5', key)).digest());

describe('md5', () => {
  // RFC 1321 appendix A.5, "Test suite".
  const rfc1321: [string, string][] = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
  ];
  for (const [input, digest] of rfc1321) {
    test(`hashes ${JSON.stringify(input)} to the RFC 1321 A.5 digest`, () => {
      assert.equal(toHex(md5(ascii(input))), digest);
    });
  }

  test('agrees with OpenSSL for every length from 0 to 200 bytes, across the 56- and 64-byte padding boundaries', () => {
    for (let length = 0; length <= 200; length++) assert.equal(toHex(md5(pattern(length))), opensslMd5(pattern(length)), `length ${length}`);
  });

  test('agrees with OpenSSL for 100,000 bytes (a length past 2^16 bits)', () => {
    assert.equal(toHex(md5(pattern(100_000))), opensslMd5(pattern(100_000)));
  });

  test('hashes a message given in pieces of any size as the whole', () => {
    const whole = pattern(300, 7);
    for (const cuts of [[1], [63], [64], [65], [3, 60, 1], [64, 64, 1], [100, 150, 20], [0, 0, 299]]) {
      const pieces: Uint8Array[] = [];
      let at = 0;
      for (const n of cuts) pieces.push(whole.subarray(at, (at += n)));
      pieces.push(whole.subarray(at));
      assert.equal(toHex(md5(...pieces)), opensslMd5(whole), `cuts ${cuts.join(',')}`);
    }
  });

  test('an Md5 reset and reused gives each message its own digest', () => {
    const hash = new Md5();
    const out = new Uint8Array(16);
    assert.equal(toHex(hash.update(ascii('abc')).digestInto(out)), '900150983cd24fb0d6963f7d28e17f72');
    assert.equal(toHex(hash.reset().update(ascii('a')).digestInto(out)), '0cc175b9c0f1b6a831c399e269772661');
  });

  test('reads pieces that are views into a larger buffer at odd offsets', () => {
    const backing = pattern(1000, 3);
    const view = backing.subarray(13, 13 + 517);
    assert.equal(toHex(md5(view)), opensslMd5(Uint8Array.from(view)));
  });
});

describe('HMAC-MD5', () => {
  // RFC 2202 section 2, test cases 1 to 7.
  const rfc2202: Array<[string, Uint8Array, Uint8Array, string]> = [
    ['1', new Uint8Array(16).fill(0x0b), ascii('Hi There'), '9294727a3638bb1c13f48ef8158bfc9d'],
    ['2', ascii('Jefe'), ascii('what do ya want for nothing?'), '750c783e6ab0b503eaa86e310a5db738'],
    ['3', new Uint8Array(16).fill(0xaa), new Uint8Array(50).fill(0xdd), '56be34521d144c88dbb8c733f0e8b3f6'],
    ['4', fromHex('0102030405060708090a0b0c0d0e0f10111213141516171819'), new Uint8Array(50).fill(0xcd), '697eaf0aca3a3aea3a75164746ffaa79'],
    ['5', new Uint8Array(16).fill(0x0c), ascii('Test With Truncation'), '56461ef2342edc00f9bab995690efd4c'],
    ['6', new Uint8Array(80).fill(0xaa), ascii('Test Using Larger Than Block-Size Key - Hash Key First'), '6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd'],
    [
      '7',
      new Uint8Array(80).fill(0xaa),
      ascii('Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data'),
      '6f630fad67cda0ee1fb1f562db3aa53e',
    ],
  ];
  for (const [name, key, data, mac] of rfc2202) {
    test(`gives the RFC 2202 test case ${name} MAC, one-shot and with a prepared key`, () => {
      assert.equal(toHex(hmacMd5(key, data)), mac);
      assert.equal(toHex(new HmacMd5Key(key).mac(data)), mac);
    });
  }

  test('agrees with OpenSSL for messages of 0 to 200 bytes in two pieces, one-shot and with a prepared key', () => {
    const key = pattern(16, 9);
    const prepared = new HmacMd5Key(key);
    const seqNum = Uint8Array.of(5, 0, 0, 0);
    for (let length = 0; length <= 200; length++) {
      const message = pattern(length);
      const expected = opensslHmac(key, seqNum, message);
      assert.equal(toHex(hmacMd5(key, seqNum, message)), expected, `one-shot, length ${length}`);
      assert.equal(toHex(prepared.mac(seqNum, message)), expected, `prepared, length ${length}`);
    }
  });

  test(`agrees with OpenSSL just below and at ${NATIVE_FROM_BYTES} bytes, where node:crypto takes over, and far above`, () => {
    const key = pattern(16, 4);
    const prepared = new HmacMd5Key(key);
    for (const length of [NATIVE_FROM_BYTES - 5, NATIVE_FROM_BYTES - 4, NATIVE_FROM_BYTES, 65_536]) {
      const parts = [Uint8Array.of(1, 2, 3, 4), pattern(length - 4)];
      const expected = opensslHmac(key, ...parts);
      assert.equal(toHex(hmacMd5(key, ...parts)), expected, `one-shot, ${length} bytes`);
      assert.equal(toHex(prepared.mac(...parts)), expected, `prepared, ${length} bytes`);
    }
  });

  test('writes the MAC at the offset asked for and nowhere else', () => {
    const out = new Uint8Array(20).fill(0xee);
    hmacMd5Into(ascii('Jefe'), [ascii('what do ya want for nothing?')], out, 2);
    assert.equal(toHex(out), 'eeee' + '750c783e6ab0b503eaa86e310a5db738' + 'eeee');
  });

  test('a prepared key gives the same MAC every time, and one changed key byte changes it', () => {
    const key = pattern(16);
    const prepared = new HmacMd5Key(key);
    const first = toHex(prepared.mac(ascii('message')));
    assert.equal(toHex(prepared.mac(ascii('message'))), first);
    key[0] = key[0]! ^ 1;
    assert.equal(toHex(prepared.mac(ascii('message'))), first, 'the prepared key kept its own copy');
    assert.notEqual(toHex(new HmacMd5Key(key).mac(ascii('message'))), first);
  });

  test('a wiped key no longer gives its MAC', () => {
    const prepared = new HmacMd5Key(pattern(16));
    const before = toHex(prepared.mac(ascii('message')));
    prepared.wipe();
    assert.notEqual(toHex(prepared.mac(ascii('message'))), before);
  });
});
