// The Negotiate fuzz generators' DER mutations (fuzz/negotiate.ts), without workers: each header
// form DER forbids is refused by the package's own codec with its code, and an extension field
// leaves the token readable as it was.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { derMutation, parseTree } from '../../fuzz/negotiate.js';
import { Rng } from '../../fuzz/rng.js';
import { DerError, unpackNegotiationToken } from '../../packages/negotiate/wire.js';
import { SEC_E_INVALID_TOKEN, SEC_I_CONTINUE_NEEDED } from '../../headers/status.js';
import { hexBytes, SAMBA_NEG_TOKEN_INIT } from '../packages/negotiate/vectors.js';

describe('the Negotiate fuzz generators', () => {
  it('read a token as a tree of TLVs down to its primitive values', () => {
    const tree = parseTree(hexBytes(SAMBA_NEG_TOKEN_INIT), 0, 74);
    assert.equal(tree.length, 1);
    assert.equal(tree[0]!.tag, 0x60);
  });

  it('make headers DER forbids, which the codec refuses, and extension fields, which it reads past', () => {
    const token = hexBytes(SAMBA_NEG_TOKEN_INIT);
    const seen = new Set<string>();
    const rng = new Rng(7);
    for (let i = 0; i < 600; i++) {
      const m = derMutation(rng, token, SEC_I_CONTINUE_NEEDED);
      const kind = m.mutation.split(' ')[1]!;
      seen.add(kind);
      if (m.expected === SEC_E_INVALID_TOKEN) {
        assert.throws(
          () => unpackNegotiationToken(m.bytes),
          (e: unknown) => e instanceof DerError && ['INDEFINITE_LENGTH', 'NON_MINIMAL_LENGTH', 'BAD_TAG'].includes(e.code),
          m.mutation,
        );
      } else if (m.mutation.startsWith('der: extension')) {
        assert.equal(m.expected, SEC_I_CONTINUE_NEEDED);
        assert.deepEqual(unpackNegotiationToken(m.bytes), unpackNegotiationToken(token), m.mutation);
      }
    }
    for (const kind of ['indefinite', 'non-minimal', 'high-tag', 'extension']) assert.ok(seen.has(kind), `${kind} in ${[...seen].join(', ')}`);
  });
});
