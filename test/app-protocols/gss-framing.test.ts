// The gss-sample framing as pure functions: frames built with packFrame and read back in any
// chunking, hostile lengths refused before anything is allocated for them.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MAX_TOKEN, FrameReader, FramingError, HEADER_LENGTH, TOKEN, packFrame, tokenFlagNames } from '../../app-protocols/gss-framing.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('gss-sample framing', () => {
  it("uses MIT's flag values", () => {
    assert.deepEqual(TOKEN, { NOOP: 0x01, CONTEXT: 0x02, DATA: 0x04, MIC: 0x08, CONTEXT_NEXT: 0x10, WRAPPED: 0x20, ENCRYPTED: 0x40, SEND_MIC: 0x80 });
    assert.equal(tokenFlagNames(0xe4), 'DATA|WRAPPED|ENCRYPTED|SEND_MIC');
    assert.equal(tokenFlagNames(TOKEN.NOOP | TOKEN.CONTEXT_NEXT), 'NOOP|CONTEXT_NEXT');
  });

  it('packs one flags byte, a big-endian 32-bit length and the token', () => {
    assert.deepEqual(packFrame(TOKEN.NOOP | TOKEN.CONTEXT_NEXT), bytes(0x11, 0, 0, 0, 0));
    assert.deepEqual(packFrame(TOKEN.CONTEXT, bytes(0xaa, 0xbb, 0xcc)), bytes(0x02, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc));
    const big = packFrame(TOKEN.DATA, new Uint8Array(0x010203));
    assert.deepEqual(big.subarray(0, HEADER_LENGTH), bytes(0x04, 0x00, 0x01, 0x02, 0x03));
  });

  it('refuses flags 0 (the v1 format) and values outside a byte when packing', () => {
    for (const flags of [0, 256, -1, 1.5])
      assert.throws(
        () => packFrame(flags),
        (e: unknown) => e instanceof FramingError && e.code === 'BAD_FLAGS',
      );
  });

  it('reads frames back whatever the chunking: whole, byte by byte, or several in one chunk', () => {
    const frames = [packFrame(0x11), packFrame(TOKEN.CONTEXT, bytes(1, 2, 3, 4, 5)), packFrame(0xe4, new Uint8Array(300).fill(7)), packFrame(TOKEN.NOOP)];
    const stream = Uint8Array.from(frames.flatMap((f) => [...f]));
    const expected = [
      { flags: 0x11, token: new Uint8Array(0) },
      { flags: 0x02, token: bytes(1, 2, 3, 4, 5) },
      { flags: 0xe4, token: new Uint8Array(300).fill(7) },
      { flags: 0x01, token: new Uint8Array(0) },
    ];
    for (const size of [1, 2, 3, 5, 7, 64, stream.byteLength]) {
      const reader = new FrameReader();
      const got = [];
      for (let i = 0; i < stream.byteLength; i += size) got.push(...reader.push(stream.subarray(i, i + size)));
      assert.deepEqual(got, expected, `chunks of ${size}`);
      assert.equal(reader.pending, 0);
      reader.end();
    }
  });

  it('refuses a length over the limit as soon as the header is in, without waiting for or allocating the token', () => {
    const reader = new FrameReader(1024);
    assert.deepEqual(reader.push(bytes(0x02, 0xff, 0xff)), []);
    assert.throws(
      () => reader.push(bytes(0xff, 0xff)),
      (e: unknown) => e instanceof FramingError && e.code === 'TOKEN_TOO_LARGE' && /4294967295 bytes is over the limit of 1024/.test(e.message),
    );
    assert.equal(new FrameReader().maxToken, DEFAULT_MAX_TOKEN);
    assert.deepEqual(
      new FrameReader(4).push(packFrame(TOKEN.CONTEXT, bytes(1, 2, 3, 4))),
      [{ flags: 2, token: bytes(1, 2, 3, 4) }],
      'exactly the limit is taken',
    );
  });

  it('refuses a v1 frame (flags byte 0)', () => {
    assert.throws(
      () => new FrameReader().push(bytes(0, 0, 0, 0, 0)),
      (e: unknown) => e instanceof FramingError && e.code === 'BAD_FLAGS',
    );
  });

  it('reports a stream that ends inside a header or a token as TRUNCATED, and one that ends between frames as fine', () => {
    for (const partial of [bytes(0x02), bytes(0x02, 0, 0, 0, 9, 1, 2)]) {
      const reader = new FrameReader();
      reader.push(partial);
      assert.throws(
        () => reader.end(),
        (e: unknown) => e instanceof FramingError && e.code === 'TRUNCATED',
      );
    }
    const reader = new FrameReader();
    reader.push(packFrame(TOKEN.NOOP));
    assert.doesNotThrow(() => reader.end());
  });
});
