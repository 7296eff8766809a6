// The rogue KDC's reply makers (fuzz/kerberos-rogue-replies.ts) on their own: the raw DER they build
// where the message packers refuse is what it says it is. (Every forgery they make by name is sent
// to a real client in test/regressions/kerberos-rogue-kdc-reply.test.ts.)

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deeplyNested, tlv } from '../../fuzz/kerberos-rogue-replies.js';
import { unpackKdcRep } from '../../packages/kerberos/messages/index.js';

describe('the rogue KDC reply makers', () => {
  it('nests SEQUENCEs as deep as asked, with lengths that add up, in one pass', () => {
    const bytes = deeplyNested(0x6b, 100_000);
    assert.equal(bytes[0], 0x6b);
    let at = 1 + (bytes[1]! & 0x80 ? 1 + (bytes[1]! & 0x7f) : 1);
    let depth = 0;
    while (bytes[at] === 0x30) {
      const first = bytes[at + 1]!;
      const n = first & 0x80 ? first & 0x7f : 0;
      let length = first & 0x80 ? 0 : first;
      for (let i = 0; i < n; i++) length = length * 256 + bytes[at + 2 + i]!;
      assert.equal(at + 2 + n + length, bytes.length, `level ${depth}`);
      at += 2 + n;
      depth++;
    }
    assert.equal(depth, 100_000);
    assert.deepEqual([...bytes.subarray(at)], [0x05, 0x00]);
    assert.throws(() => unpackKdcRep(bytes));
  });

  it('writes DER lengths in the short form below 128 and the shortest long form above', () => {
    assert.deepEqual([...tlv(0x04, new Uint8Array(3)).subarray(0, 2)], [0x04, 0x03]);
    assert.deepEqual([...tlv(0x04, new Uint8Array(200)).subarray(0, 3)], [0x04, 0x81, 200]);
    assert.deepEqual([...tlv(0x04, new Uint8Array(70_000)).subarray(0, 5)], [0x04, 0x83, 0x01, 0x11, 0x70]);
  });
});
