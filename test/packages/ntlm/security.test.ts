import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { crc32 as zlibCrc32 } from 'node:zlib';
import {
  SEC_E_INVALID_TOKEN,
  SEC_E_MESSAGE_ALTERED,
  SEC_E_OK,
  SEC_E_OUT_OF_SEQUENCE,
  SEC_E_UNSUPPORTED_FUNCTION,
  statusName,
} from '../../../headers/status.js';
import { NtlmUnsupportedError, type NtlmSide } from '../../../packages/ntlm/crypto.js';
import { NTLMSSP_NEGOTIATE } from '../../../packages/ntlm/flags.js';
import { NtlmParseError } from '../../../packages/ntlm/messages.js';
import { crc32, NtlmSecurityContext } from '../../../packages/ntlm/security.js';
import { COMMON, fromHex, NTLMV1, NTLMV1_ESS, NTLMV2, toHex } from './vectors.js';

const { plaintext, randomSessionKey } = COMMON;

function pair(flags: number, exportedSessionKey: Uint8Array): { client: NtlmSecurityContext; server: NtlmSecurityContext } {
  const make = (side: NtlmSide): NtlmSecurityContext => NtlmSecurityContext.fromSessionKey({ flags, exportedSessionKey, side });
  return { client: make('client'), server: make('server') };
}

/** Asserts a status by name, so a failure prints SEC_E_* rather than a number. */
function assertStatus(actual: number, expected: number): void {
  assert.equal(statusName(actual), statusName(expected));
}

const NTLMV2_NO_KEY_EXCH = (NTLMV2.challengeFlags & ~NTLMSSP_NEGOTIATE.KEY_EXCH) >>> 0;

describe('sealing with NTLMv2 keys (MS-NLMP 4.2.4.4)', () => {
  test('seals "Plaintext" to the published data and signature', () => {
    const { client } = pair(NTLMV2.challengeFlags, randomSessionKey);
    const { status, sealed, signature } = client.seal(plaintext);
    assertStatus(status, SEC_E_OK);
    assert.equal(toHex(sealed), NTLMV2.sealedPlaintext);
    assert.equal(toHex(signature), NTLMV2.signature);
  });

  test('the server unseals the published output back to "Plaintext"', () => {
    const { server } = pair(NTLMV2.challengeFlags, randomSessionKey);
    const { status, message } = server.unseal(fromHex(NTLMV2.sealedPlaintext), fromHex(NTLMV2.signature));
    assertStatus(status, SEC_E_OK);
    assert.deepEqual(message, plaintext);
  });

  test('without KEY_EXCH the checksum is the plain HMAC (pyspnego test_seal_ntlmv2_no_key_exch)', () => {
    const { client } = pair(NTLMV2_NO_KEY_EXCH, randomSessionKey);
    const { sealed, signature } = client.seal(plaintext);
    assert.equal(toHex(sealed), NTLMV2.sealedPlaintext);
    assert.equal(toHex(signature), NTLMV2.signatureWithoutKeyExch);
  });

  test('without KEY_EXCH a MakeSignature of "Plaintext" carries the same plain checksum', () => {
    const { client } = pair(NTLMV2_NO_KEY_EXCH, randomSessionKey);
    assert.equal(toHex(client.sign(plaintext)), '01000000' + NTLMV2.plainChecksum + '00000000');
  });
});

describe('sealing with NTLMv1 and extended session security (MS-NLMP 4.2.3.4)', () => {
  test('seals "Plaintext" with the 56-bit key to the published data and unencrypted checksum', () => {
    const { client, server } = pair(NTLMV1_ESS.flags, fromHex(NTLMV1_ESS.keyExchangeKey));
    const { sealed, signature } = client.seal(plaintext);
    assert.equal(toHex(sealed), NTLMV1_ESS.sealedPlaintext);
    assert.equal(toHex(signature), NTLMV1_ESS.signature);
    const opened = server.unseal(sealed, signature);
    assertStatus(opened.status, SEC_E_OK);
    assert.deepEqual(opened.message, plaintext);
  });
});

describe('sealing with NTLMv1 without extended session security (MS-NLMP 4.2.2.4)', () => {
  test('the checksum is the CRC-32 of the plaintext', () => {
    assert.equal(crc32(plaintext), 0x93aa847d);
    assert.equal(toHex(Uint8Array.of(0x7d, 0x84, 0xaa, 0x93)), NTLMV1.crc32Plaintext);
    assert.equal(crc32(plaintext), zlibCrc32(plaintext));
    assert.equal(crc32(new Uint8Array(0)), 0);
  });

  test('seals "Plaintext" to the published data and the signature with RandomPad zeroed', () => {
    const { client } = pair(NTLMV1.challengeFlags, randomSessionKey);
    const { sealed, signature } = client.seal(plaintext);
    assert.equal(toHex(sealed), NTLMV1.sealedPlaintext);
    assert.equal(toHex(signature), NTLMV1.signature);
  });

  test('accepts the spec page form of the signature too, whose RandomPad field is still encrypted', () => {
    const { server } = pair(NTLMV1.challengeFlags, randomSessionKey);
    const { status, message } = server.unseal(fromHex(NTLMV1.sealedPlaintext), fromHex('0100000045c844e509dcd1df2e459d36'));
    assertStatus(status, SEC_E_OK);
    assert.deepEqual(message, plaintext);
  });

  test('both directions share one RC4 handle and one sequence number', () => {
    const { client, server } = pair(NTLMV1.challengeFlags, randomSessionKey);
    const first = client.seal(plaintext);
    assertStatus(server.unseal(first.sealed, first.signature).status, SEC_E_OK);
    const reply = server.seal(plaintext);
    assertStatus(client.unseal(reply.sealed, reply.signature).status, SEC_E_OK);
    assert.deepEqual(client.sequenceNumbers, { outgoing: 2, incoming: 2 });
    assert.deepEqual(server.sequenceNumbers, { outgoing: 2, incoming: 2 });
  });
});

const conversations: { name: string; flags: number; key: Uint8Array }[] = [
  { name: 'NTLMv2 with KEY_EXCH', flags: NTLMV2.challengeFlags, key: randomSessionKey },
  { name: 'NTLMv2 without KEY_EXCH', flags: NTLMV2_NO_KEY_EXCH, key: randomSessionKey },
  { name: 'NTLMv1 with extended session security', flags: NTLMV1_ESS.flags, key: fromHex(NTLMV1_ESS.keyExchangeKey) },
  { name: 'NTLMv1 without extended session security', flags: NTLMV1.challengeFlags, key: randomSessionKey },
];

for (const { name, flags, key } of conversations) {
  describe(`a conversation under ${name}`, () => {
    const text = (s: string): Uint8Array => new TextEncoder().encode(s);

    test('signs and seals in both directions, interleaved, and every message verifies', () => {
      const { client, server } = pair(flags, key);
      for (let round = 0; round < 5; round++) {
        const request = text(`request ${round}`);
        const sealed = client.seal(request);
        const opened = server.unseal(sealed.sealed, sealed.signature);
        assertStatus(opened.status, SEC_E_OK);
        assert.deepEqual(opened.message, request);
        assertStatus(server.verify(text('ack'), client.sign(text('ack'))), SEC_E_OK);

        const response = text(`response ${round}`.repeat(round + 1));
        assertStatus(client.verify(response, server.sign(response)), SEC_E_OK);
        const reply = server.seal(response);
        assert.deepEqual(client.unseal(reply.sealed, reply.signature), { status: SEC_E_OK, message: response });
      }
    });

    test('a changed message is SEC_E_MESSAGE_ALTERED', () => {
      const { client, server } = pair(flags, key);
      const signature = client.sign(text('pay 10'));
      assertStatus(server.verify(text('pay 99'), signature), SEC_E_MESSAGE_ALTERED);
    });

    test('a replayed signature is SEC_E_OUT_OF_SEQUENCE', () => {
      const { client, server } = pair(flags, key);
      const signature = client.sign(text('once'));
      assertStatus(server.verify(text('once'), signature), SEC_E_OK);
      assertStatus(server.verify(text('once'), signature), SEC_E_OUT_OF_SEQUENCE);
    });

    test('a sealed message with a flipped bit is refused and its plaintext withheld', () => {
      const { client, server } = pair(flags, key);
      const { sealed, signature } = client.seal(text('secret'));
      sealed[0] = sealed[0]! ^ 1;
      const opened = server.unseal(sealed, signature);
      assertStatus(opened.status, SEC_E_MESSAGE_ALTERED);
      assert.equal(opened.message.length, 0);
    });

    test('a message in pieces signs, seals and verifies as its concatenation does, the pieces sealed where they lie', () => {
      const whole = text('a message of several pieces, sealed as one RC4 stream: '.repeat(5));
      const cuts = [0, 1, 64, 65, 200, whole.length];
      const pieces = (bytes: Uint8Array): Uint8Array[] => cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
      const one = pair(flags, key);
      const split = pair(flags, key);

      const signed = split.client.signParts(pieces(whole), new Uint8Array(16));
      assert.deepEqual(signed, one.client.sign(whole));
      const sealedWhole = one.client.seal(whole);
      const inPlace = Uint8Array.from(whole);
      const signature = new Uint8Array(16);
      assertStatus(split.client.sealParts(pieces(inPlace), signature), SEC_E_OK);
      assert.deepEqual(inPlace, sealedWhole.sealed);
      assert.deepEqual(signature, sealedWhole.signature);

      assertStatus(split.server.verifyParts(pieces(whole), signed), SEC_E_OK);
      assertStatus(split.server.unsealParts(pieces(inPlace), signature), SEC_E_OK);
      assert.deepEqual(inPlace, whole);
    });

    test('a sealed message in pieces that fails to verify keeps its ciphertext, and the stream runs on as after a good one', () => {
      const good = pair(flags, key);
      const bad = pair(flags, key);
      for (const { client } of [good, bad]) assert.ok(client.confidentiality);
      const first = good.client.seal(text('first message'));
      const tampered = Uint8Array.from(first.sealed);
      tampered[3] = tampered[3]! ^ 0x40;
      const parts = [tampered.subarray(0, 5), tampered.subarray(5)];
      const before = Uint8Array.from(tampered);
      bad.client.seal(text('first message'));
      assertStatus(bad.server.unsealParts(parts, first.signature), SEC_E_MESSAGE_ALTERED);
      assert.deepEqual(tampered, before, 'the pieces hold the ciphertext they came with');
      assertStatus(good.server.unseal(first.sealed, first.signature).status, SEC_E_OK);

      // Both servers' handles and sequence numbers are now at the same place: the next message opens on both.
      const second = good.client.seal(text('second message'));
      bad.client.seal(text('second message'));
      assert.deepEqual(bad.server.sequenceNumbers, good.server.sequenceNumbers);
      assert.deepEqual(bad.server.unseal(second.sealed, second.signature), { status: SEC_E_OK, message: text('second message') });
      assert.deepEqual(good.server.unseal(second.sealed, second.signature), { status: SEC_E_OK, message: text('second message') });
    });

    test('a signature that is not 16 bytes is SEC_E_INVALID_TOKEN', () => {
      const { server } = pair(flags, key);
      assertStatus(server.verify(text('x'), new Uint8Array(15)), SEC_E_INVALID_TOKEN);
      assertStatus(server.unseal(text('x'), new Uint8Array(17)).status, SEC_E_INVALID_TOKEN);
    });

    test('exported mid-conversation and imported elsewhere, a context continues exactly as the original', () => {
      const { client, server } = pair(flags, key);
      for (let i = 0; i < 3; i++) {
        const m = client.seal(text(`warm-up ${i}`));
        assertStatus(server.unseal(m.sealed, m.signature).status, SEC_E_OK);
        assertStatus(client.verify(text('x'), server.sign(text('x'))), SEC_E_OK);
      }
      const moved = NtlmSecurityContext.importState(client.exportState());
      assert.equal(moved.side, 'client');
      assert.equal(moved.flags, flags);
      assert.deepEqual(moved.sequenceNumbers, client.sequenceNumbers);
      assert.deepEqual(moved.exportState(), client.exportState());

      const a = client.seal(text('after the move'));
      const b = moved.seal(text('after the move'));
      assert.deepEqual(b, a);
      assertStatus(server.unseal(b.sealed, b.signature).status, SEC_E_OK);
      const signed = server.sign(text('to the moved one'));
      assertStatus(moved.verify(text('to the moved one'), signed), SEC_E_OK);
    });

    test('resumed from the session key and an export of the same session, a context continues as the original; another session, side or flags is BAD_STATE', () => {
      const { client, server } = pair(flags, key);
      const m = client.seal(text('before'));
      assertStatus(server.unseal(m.sealed, m.signature).status, SEC_E_OK);
      const resumed = NtlmSecurityContext.resume({ flags, exportedSessionKey: key, side: 'server', state: server.exportState() });
      assert.deepEqual(resumed.sequenceNumbers, server.sequenceNumbers);
      const next = client.seal(text('after'));
      assert.deepEqual(resumed.unseal(next.sealed, next.signature), { status: SEC_E_OK, message: text('after') });

      const otherKey = Uint8Array.from(key, (b) => b ^ 0x5a);
      const refused = (state: Uint8Array, args: { flags?: number; side?: NtlmSide; key?: Uint8Array } = {}) =>
        assert.throws(
          () => NtlmSecurityContext.resume({ flags: args.flags ?? flags, exportedSessionKey: args.key ?? key, side: args.side ?? 'server', state }),
          (error: unknown) => error instanceof NtlmParseError && error.code === 'BAD_STATE',
        );
      if (flags & NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) {
        refused(pair(flags, otherKey).server.exportState(), {});
        refused(server.exportState(), { key: otherKey });
      }
      refused(client.exportState());
      refused(server.exportState(), { flags: (flags ^ NTLMSSP_NEGOTIATE.KEY_EXCH) >>> 0 });
      refused(new Uint8Array(12));
    });
  });
}

describe('contexts without SIGN or SEAL', () => {
  const alwaysSignOnly = (NTLMSSP_NEGOTIATE.ALWAYS_SIGN | NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE.NTLM) >>> 0;

  test('sign with the ALWAYS_SIGN dummy signature: Version 1 and zeros', () => {
    const { client, server } = pair(alwaysSignOnly, randomSessionKey);
    const signature = client.sign(plaintext);
    assert.equal(toHex(signature), '01000000000000000000000000000000');
    assertStatus(server.verify(plaintext, signature), SEC_E_OK);
    assertStatus(server.verify(plaintext, fromHex(NTLMV2.signature)), SEC_E_MESSAGE_ALTERED);
  });

  test('cannot seal: SEC_E_UNSUPPORTED_FUNCTION', () => {
    const { client, server } = pair(alwaysSignOnly, randomSessionKey);
    assertStatus(client.seal(plaintext).status, SEC_E_UNSUPPORTED_FUNCTION);
    assertStatus(server.unseal(plaintext, new Uint8Array(16)).status, SEC_E_UNSUPPORTED_FUNCTION);
  });
});

describe('contexts with SIGN but without SEAL (what gss-ntlmssp negotiates when no confidentiality is asked for)', () => {
  const signOnly = (NTLMV2.challengeFlags & ~NTLMSSP_NEGOTIATE.SEAL) >>> 0;

  test('seal nothing, but unseal what the peer sealed with the session sealing key, as gss-ntlmssp gss_unwrap does', () => {
    const { client, server } = pair(signOnly, randomSessionKey);
    assert.ok(!server.confidentiality && server.sealingKey);
    assertStatus(client.seal(plaintext).status, SEC_E_UNSUPPORTED_FUNCTION);
    // gss-ntlmssp's gss_wrap on such a session: the same keys (SEALKEY does not depend on SEAL), sealing.
    const { client: gssWrap } = pair(NTLMV2.challengeFlags, randomSessionKey);
    const wrapped = gssWrap.seal(plaintext);
    assert.equal(toHex(wrapped.sealed), NTLMV2.sealedPlaintext);
    assert.deepEqual(server.unseal(wrapped.sealed, wrapped.signature), { status: SEC_E_OK, message: plaintext });
  });
});

describe('refused configurations and state', () => {
  test('DATAGRAM (connectionless) is not implemented', () => {
    assert.throws(
      () => pair((NTLMV2.challengeFlags | NTLMSSP_NEGOTIATE.DATAGRAM) >>> 0, randomSessionKey),
      (error: unknown) => error instanceof NtlmUnsupportedError && /DATAGRAM/.test(error.message),
    );
  });

  test('importState refuses bytes of the wrong length, magic, format, side, or a broken RC4 state', () => {
    const good = pair(NTLMV2.challengeFlags, randomSessionKey).client.exportState();
    const expectBadState = (bytes: Uint8Array, offset: number, message: RegExp): void =>
      assert.throws(
        () => NtlmSecurityContext.importState(bytes),
        (error: unknown) => error instanceof NtlmParseError && error.code === 'BAD_STATE' && error.offset === offset && message.test(error.message),
      );
    expectBadState(good.subarray(1), good.length - 1, /expected 568/);
    const edit = (at: number, value: number): Uint8Array => {
      const copy = Uint8Array.from(good);
      copy[at] = value;
      return copy;
    };
    expectBadState(edit(0, 0), 0, /magic/);
    expectBadState(edit(4, 9), 4, /format 9/);
    expectBadState(edit(5, 2), 5, /side 2/);
    expectBadState(edit(52, good[53]!), 52, /permutation/);
    expectBadState(edit(52 + 258 + 7, good[52 + 258 + 8]!), 52 + 258, /permutation/);
  });
});

describe('moving a context between threads', () => {
  test('a client context exported here seals in a worker thread started without flags, continuing the RC4 stream', async () => {
    const { client, server } = pair(NTLMV2.challengeFlags, randomSessionKey);
    const first = client.seal(plaintext);
    assertStatus(server.unseal(first.sealed, first.signature).status, SEC_E_OK);

    // The worker imports the compiled modules itself: MD4 and RC4 must not need the OpenSSL legacy provider.
    const securityUrl = new URL('../../../packages/ntlm/security.js', import.meta.url).href;
    const md4Url = new URL('../../../packages/ntlm/md4.js', import.meta.url).href;
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      (async () => {
        const { NtlmSecurityContext } = await import(workerData.securityUrl);
        const { md4 } = await import(workerData.md4Url);
        const context = NtlmSecurityContext.importState(workerData.state);
        const sealed = context.seal(workerData.message);
        parentPort.postMessage({ sealed, state: context.exportState(), md4: md4(new Uint8Array(0)) });
      })().catch((error) => parentPort.postMessage({ error: String(error) }));
    `;
    const worker = new Worker(source, {
      eval: true,
      execArgv: [],
      workerData: { securityUrl, md4Url, state: client.exportState(), message: plaintext },
    });
    const reply = await new Promise<{
      sealed?: { status: number; sealed: Uint8Array; signature: Uint8Array };
      state?: Uint8Array;
      md4?: Uint8Array;
      error?: string;
    }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();

    assert.equal(reply.error, undefined);
    assert.ok(reply.sealed && reply.state && reply.md4);
    assert.equal(toHex(reply.md4), '31d6cfe0d16ae931b73c59d7e0c089c0');
    const opened = server.unseal(reply.sealed.sealed, reply.sealed.signature);
    assertStatus(opened.status, SEC_E_OK);
    assert.deepEqual(opened.message, plaintext);
    const back = NtlmSecurityContext.importState(reply.state);
    assert.deepEqual(back.sequenceNumbers, { outgoing: 2, incoming: 0 });
  });
});

describe('keys made per direction on first use', () => {
  for (const [name, flags] of [
    ['NTLMv2', NTLMV2.challengeFlags],
    ['NTLMv1 without extended session security', NTLMV1.challengeFlags],
  ] as const) {
    test(`${name}: a context that only signed exports the same state as one that used both directions first`, () => {
      const lazy = NtlmSecurityContext.fromSessionKey({ flags, exportedSessionKey: randomSessionKey, side: 'client' });
      const eager = NtlmSecurityContext.fromSessionKey({ flags, exportedSessionKey: randomSessionKey, side: 'client' });
      eager.exportState();
      assert.deepEqual(lazy.sign(plaintext), eager.sign(plaintext));
      assert.deepEqual(lazy.exportState(), eager.exportState());
    });
  }

  test("the caller's session key may be wiped after fromSessionKey: the context keeps its own copy", () => {
    const key = new Uint8Array(randomSessionKey);
    const client = NtlmSecurityContext.fromSessionKey({ flags: NTLMV2.challengeFlags, exportedSessionKey: key, side: 'client' });
    key.fill(0);
    assert.equal(toHex(client.seal(plaintext).signature), NTLMV2.signature);
  });

  test('wipe() zeroes the session key a direction not made yet would come from: it never signs with the real keys', () => {
    const client = NtlmSecurityContext.fromSessionKey({ flags: NTLMV2.challengeFlags, exportedSessionKey: randomSessionKey, side: 'client' });
    client.wipe();
    assert.notEqual(toHex(client.seal(plaintext).signature), NTLMV2.signature);
  });
});
