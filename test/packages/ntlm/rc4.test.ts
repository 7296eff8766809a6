import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rc4, RC4_STATE_BYTES } from '../../../packages/ntlm/rc4.js';
import { fromHex, toHex } from './vectors.js';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

function keystream(rc4: Rc4, length: number): Uint8Array {
  return rc4.process(new Uint8Array(length));
}

describe('Rc4', () => {
  test('produces the RFC 6229 keystream for the 40-bit key 0x0102030405 at offsets 0, 16, 240 and 256', () => {
    const stream = keystream(new Rc4(fromHex('0102030405')), 272);
    assert.equal(toHex(stream.subarray(0, 16)), 'b2396305f03dc027ccc3524a0a1118a8');
    assert.equal(toHex(stream.subarray(16, 32)), '6982944f18fc82d589c403a47a0d0919');
    assert.equal(toHex(stream.subarray(240, 256)), '28cb1132c96ce286421dcaadb8b69eae');
    assert.equal(toHex(stream.subarray(256, 272)), '1cfcf62b03eddb641d77dfcf7f8d8c93');
  });

  test('produces the RFC 6229 keystream for the 128-bit key 0x0102...10 at offset 0', () => {
    const stream = keystream(new Rc4(fromHex('0102030405060708090a0b0c0d0e0f10')), 16);
    assert.equal(toHex(stream), '9ac7cc9a609d1ef7b2932899cde41b97');
  });

  test('encrypts the classic Key/Plaintext, Wiki/pedia and Secret/Attack at dawn examples', () => {
    assert.equal(toHex(new Rc4(ascii('Key')).process(ascii('Plaintext'))), 'bbf316e8d940af0ad3');
    assert.equal(toHex(new Rc4(ascii('Wiki')).process(ascii('pedia'))), '1021bf0420');
    assert.equal(toHex(new Rc4(ascii('Secret')).process(ascii('Attack at dawn'))), '45a01f645fc35b383552544b9bf5');
  });

  test('continues the stream across calls, so pieces encrypt as the whole would', () => {
    const whole = keystream(new Rc4(ascii('Key')), 100);
    const rc4 = new Rc4(ascii('Key'));
    const pieces = [keystream(rc4, 1), keystream(rc4, 0), keystream(rc4, 33), keystream(rc4, 66)];
    assert.deepEqual(Uint8Array.from(pieces.flatMap((p) => [...p])), whole);
  });

  test('process returns a new array and leaves its input alone; processInPlace writes into it', () => {
    const input = ascii('Plaintext');
    const output = new Rc4(ascii('Key')).process(input);
    assert.notEqual(output, input);
    assert.equal(new TextDecoder().decode(input), 'Plaintext');
    new Rc4(ascii('Key')).processInPlace(input);
    assert.deepEqual(input, output);
  });

  test('decrypts with a second cipher on the same key', () => {
    const sealed = new Rc4(ascii('Secret')).process(ascii('Attack at dawn'));
    assert.equal(new TextDecoder().decode(new Rc4(ascii('Secret')).process(sealed)), 'Attack at dawn');
  });

  test('exports 258 bytes of state that resume the stream exactly where it stopped', () => {
    const original = new Rc4(fromHex('0102030405'));
    keystream(original, 1000);
    const state = original.exportState();
    assert.equal(state.length, RC4_STATE_BYTES);
    const resumed = Rc4.importState(state);
    assert.deepEqual(keystream(resumed, 300), keystream(original, 300));
  });

  test('exports the S-box, then i, then j', () => {
    const fresh = new Rc4(fromHex('0102030405')).exportState();
    assert.equal(fresh[256], 0);
    assert.equal(fresh[257], 0);
    assert.deepEqual(
      [...fresh.subarray(0, 256)].sort((a, b) => a - b),
      Array.from({ length: 256 }, (_, n) => n),
    );
    const rc4 = new Rc4(fromHex('0102030405'));
    keystream(rc4, 3);
    assert.equal(rc4.exportState()[256], 3);
  });

  test('refuses state of the wrong length or whose S-box is not a permutation', () => {
    assert.throws(() => Rc4.importState(new Uint8Array(257)), { name: 'RangeError', message: /258 bytes, got 257/ });
    const state = new Rc4(ascii('Key')).exportState();
    state[0] = state[1]!;
    assert.throws(() => Rc4.importState(state), { name: 'RangeError', message: /not a permutation/ });
  });

  test('rewinds to a snapshot: the same keystream again, and forward to a later snapshot', () => {
    const rc4 = new Rc4(ascii('Key'));
    keystream(rc4, 10);
    const mark = rc4.snapshot(new Uint8Array(RC4_STATE_BYTES));
    const once = keystream(rc4, 50);
    const later = rc4.snapshot(new Uint8Array(RC4_STATE_BYTES));
    rc4.rewind(mark);
    assert.deepEqual(keystream(rc4, 50), once);
    rc4.rewind(mark);
    rc4.rewind(later);
    assert.deepEqual(keystream(rc4, 20), keystream(new Rc4(ascii('Key')), 80).subarray(60));
    assert.throws(() => rc4.rewind(new Uint8Array(10)), RangeError);
  });

  test('processInPlace over a range leaves the bytes outside it alone', () => {
    const data = new Uint8Array(10).fill(0xaa);
    new Rc4(ascii('Key')).processInPlace(data, 2, 5);
    const expected = new Uint8Array(3).fill(0xaa);
    new Rc4(ascii('Key')).processInPlace(expected);
    assert.deepEqual(data, Uint8Array.of(0xaa, 0xaa, ...expected, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa));
  });

  test('refuses an empty key and one longer than 256 bytes', () => {
    assert.throws(() => new Rc4(new Uint8Array(0)), RangeError);
    assert.throws(() => new Rc4(new Uint8Array(257)), RangeError);
  });
});
