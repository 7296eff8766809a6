import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nfold } from '../../../../packages/kerberos/crypto/nfold.js';
import { MIT_NFOLD, RFC3961_NFOLD, toHex } from './vectors.js';

describe('nfold', () => {
  for (const vector of RFC3961_NFOLD)
    test(`gives RFC 3961 A.1's ${vector.bits}-fold of ${JSON.stringify(new TextDecoder().decode(vector.input))}`, () => {
      assert.equal(toHex(nfold(vector.input, vector.bits / 8)), vector.output);
    });

  for (const vector of MIT_NFOLD)
    test(`gives MIT t_nfold.c's 192-fold of ${JSON.stringify(new TextDecoder().decode(vector.input))}`, () => {
      assert.equal(toHex(nfold(vector.input, vector.bits / 8)), vector.output);
    });

  test('returns the input unchanged when the output is as long as the input', () => {
    const input = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    assert.deepEqual(nfold(input, 16), input);
  });

  test('refuses an empty input and a size that is not a positive whole number of bytes', () => {
    assert.throws(() => nfold(new Uint8Array(0), 16), RangeError);
    assert.throws(() => nfold(new Uint8Array(1), 0), RangeError);
    assert.throws(() => nfold(new Uint8Array(1), 1.5), RangeError);
  });
});
