// SEC_WINNT_AUTH_IDENTITY_W marshalled flat: a round trip keeps every character, and a buffer
// whose offsets or lengths point anywhere but inside it reads as nothing at all.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEC_WINNT_AUTH_IDENTITY_ANSI, SEC_WINNT_AUTH_IDENTITY_UNICODE } from '../../headers/sspi.js';
import { packAuthIdentity, unpackAuthIdentity } from '../../sspi/auth-identity.js';

const HEADER = 28;
const ALICE = { User: 'alice', Domain: 'SSPI-EMU', Password: 'Passw0rd!' };

/** A packed identity with one header field (a ULONG at `at`) replaced. */
function withField(at: number, value: number): Uint8Array {
  const bytes = packAuthIdentity(ALICE);
  new DataView(bytes.buffer).setUint32(at, value, true);
  return bytes;
}

describe('packAuthIdentity', () => {
  it('lays out three offset/length pairs in characters, the flags, then the UTF-16LE strings', () => {
    const bytes = packAuthIdentity(ALICE);
    const view = new DataView(bytes.buffer);
    const header = [0, 4, 8, 12, 16, 20, 24].map((at) => view.getUint32(at, true));
    assert.deepEqual(header, [HEADER, 5, HEADER + 10, 8, HEADER + 26, 9, SEC_WINNT_AUTH_IDENTITY_UNICODE]);
    assert.equal(bytes.byteLength, HEADER + 2 * (5 + 8 + 9));
    assert.equal(Buffer.from(bytes.subarray(HEADER, HEADER + 10)).toString('utf16le'), 'alice');
  });
});

describe('unpackAuthIdentity', () => {
  it('reads back what was packed, with the UNICODE flag by default and the given flags otherwise', () => {
    assert.deepEqual(unpackAuthIdentity(packAuthIdentity(ALICE)), { ...ALICE, Flags: SEC_WINNT_AUTH_IDENTITY_UNICODE });
    assert.equal(unpackAuthIdentity(packAuthIdentity({ ...ALICE, Flags: SEC_WINNT_AUTH_IDENTITY_ANSI }))?.Flags, SEC_WINNT_AUTH_IDENTITY_ANSI);
  });

  it('keeps non-ASCII text, characters outside the BMP and empty strings', () => {
    const identity = { User: 'José Ñúñez', Domain: 'ΕΛΛΆΔΑ', Password: 'пароль-日本語-🔑', Flags: SEC_WINNT_AUTH_IDENTITY_UNICODE };
    assert.deepEqual(unpackAuthIdentity(packAuthIdentity(identity)), identity);
    const empty = { User: '', Domain: '', Password: '', Flags: SEC_WINNT_AUTH_IDENTITY_UNICODE };
    assert.deepEqual(unpackAuthIdentity(packAuthIdentity(empty)), empty);
  });

  it('reads a view into a larger buffer by its own bounds', () => {
    const packed = packAuthIdentity(ALICE);
    const backing = new Uint8Array(packed.byteLength + 64).fill(0xee);
    backing.set(packed, 32);
    assert.deepEqual(unpackAuthIdentity(backing.subarray(32, 32 + packed.byteLength)), { ...ALICE, Flags: SEC_WINNT_AUTH_IDENTITY_UNICODE });
  });

  it('reads nothing from a buffer shorter than the header', () => {
    assert.equal(unpackAuthIdentity(new Uint8Array(0)), undefined);
    assert.equal(unpackAuthIdentity(packAuthIdentity(ALICE).subarray(0, HEADER - 1)), undefined);
  });

  it('reads nothing when an offset points into the header', () => {
    for (const at of [0, 8, 16]) assert.equal(unpackAuthIdentity(withField(at, HEADER - 2)), undefined, `offset field at ${at}`);
  });

  it('reads nothing when a string runs past the end of the buffer', () => {
    const bytes = packAuthIdentity(ALICE);
    assert.equal(unpackAuthIdentity(bytes.subarray(0, bytes.byteLength - 1)), undefined, 'the password loses its last byte');
    assert.equal(unpackAuthIdentity(withField(20, 10)), undefined, 'the password claims one character more than there is');
    assert.equal(unpackAuthIdentity(withField(16, bytes.byteLength)), undefined, 'the password starts at the end');
    assert.equal(unpackAuthIdentity(withField(0, 0xffffffff)), undefined, 'the user starts at 4 GiB');
  });

  it('reads nothing past the end of a view, even where the backing buffer has bytes', () => {
    const packed = packAuthIdentity(ALICE);
    const backing = new Uint8Array(packed.byteLength + 64);
    backing.set(packed);
    new DataView(backing.buffer).setUint32(20, 9 + 20, true);
    assert.ok(unpackAuthIdentity(backing), 'the whole backing buffer holds the longer password');
    assert.equal(unpackAuthIdentity(backing.subarray(0, packed.byteLength)), undefined);
  });

  it('reads nothing when a length is over 256 characters, and reads 256', () => {
    assert.equal(unpackAuthIdentity(packAuthIdentity({ ...ALICE, User: 'u'.repeat(257) })), undefined);
    assert.equal(unpackAuthIdentity(packAuthIdentity({ ...ALICE, Password: 'p'.repeat(257) })), undefined);
    assert.equal(unpackAuthIdentity(packAuthIdentity({ ...ALICE, User: 'u'.repeat(256) }))?.User.length, 256);
    assert.equal(unpackAuthIdentity(withField(4, 0xffffffff)), undefined, 'a length of 4G characters');
  });
});
