// ntsecpkg.h's helpers: what SpImportSecurityContext receives, laid out by the LSA and read by the
// package (packImportedContext / unpackImportedContext), read only when it is exactly that.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packImportedContext, unpackImportedContext } from '../../headers/ntsecpkg.js';

describe('the imported context layout', () => {
  const ContextData = Uint8Array.from([1, 2, 3, 4, 5]);
  const PackedContext = Uint8Array.from([9, 8, 7]);

  it('reads back the ContextData and the PackedContext it was made of, as copies', () => {
    const packed = packImportedContext({ ContextData, PackedContext });
    assert.equal(packed.byteLength, 16 + 5 + 3);
    assert.deepEqual([...packed.subarray(0, 5)], [0x53, 0x58, 0x49, 0x43, 1]);
    const read = unpackImportedContext(packed)!;
    assert.deepEqual(read, { ContextData, PackedContext });
    packed.fill(0);
    assert.deepEqual(read, { ContextData, PackedContext }, 'the parts do not share the packed bytes');
    assert.deepEqual(unpackImportedContext(packImportedContext({ ContextData: new Uint8Array(0), PackedContext: new Uint8Array(0) })), {
      ContextData: new Uint8Array(0),
      PackedContext: new Uint8Array(0),
    });
  });

  it('refuses anything else: short, wrong magic or format, reserved bytes set, lengths that do not add up', () => {
    const good = packImportedContext({ ContextData, PackedContext });
    const altered = (at: number, value: number): Uint8Array => {
      const copy = Uint8Array.from(good);
      copy[at] = value;
      return copy;
    };
    for (const bad of [
      new Uint8Array(0),
      good.subarray(0, 15),
      good.subarray(0, good.byteLength - 1),
      Uint8Array.from([...good, 0]),
      altered(0, 0x54),
      altered(4, 2),
      altered(6, 1),
      altered(8, 6),
      altered(12, 0xff),
      altered(15, 0x80),
    ])
      assert.equal(unpackImportedContext(bad), undefined);
  });
});
