// The Netlogon secure channel's cryptography (MS-NRPC's AES variant): a known answer computed with
// impacket's dcerpc.v5.nrpc (ComputeSessionKeyAES, ComputeNetlogonCredentialAES, SEAL), live
// cross-checks against impacket on random inputs each run (skipped, saying so, without
// python3-impacket), the Zerologon checks, and properties of sealing: what seals opens, and any
// change, replay, reordering or reflection does not.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  acceptableClientChallenge,
  computeCredential,
  computeSessionKey,
  sealMessage,
  sequenceBytes,
  sharedSecretOf,
  SIGNATURE_BYTES,
  unsealMessage,
} from '../../../../packages/ntlm/netlogon/index.js';
import { runProgram } from '../../../helpers/cli.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/**
 * Computed with impacket 0.10.0 (Debian's python3-impacket): ComputeSessionKeyAES('Machine$ecret-1',
 * cc, sc), ComputeNetlogonCredentialAES of each challenge, and SEAL(b'hello netlogon', confounder,
 * 5, sk, aes=True) with its ComputeNetlogonSignatureAES's Python 3 bytes/str slip mended. impacket
 * writes the 8-byte-checksum NL_AUTH_SIGNATURE; the values are those of NL_AUTH_SHA2_SIGNATURE's
 * fields, which this implementation lays out in full (the Checksum field 32 bytes, 24 of them zero).
 */
const VECTOR = {
  secret: 'Machine$ecret-1',
  ntHash: '294181d54e5787816708d5dc8a9f94df',
  clientChallenge: '3a0b5c1d7e2f4051',
  serverChallenge: '9f8e7d6c5b4a3928',
  sessionKey: '44e5a3b086f0204937728655c7e36451',
  clientCredential: '1c24cba93b06ed51',
  serverCredential: 'b986d06eff67d4fc',
  seal: {
    message: 'hello netlogon',
    sequence: 5n,
    confounder: '0102030405060708',
    header: '13001a00ffff0000',
    encryptedSequence: '5a05da2e3f735bca',
    checksum: '40dca4ccd9e4154c',
    encryptedConfounder: 'dd938956aaedc997',
    encryptedMessage: '1867a129c3a445b5385bb8188bde',
  },
};

describe('the Netlogon AES session key and credentials (MS-NRPC 3.1.4.3.1, 3.1.4.4.1)', () => {
  it('makes the shared secret, session key and both credentials impacket makes', () => {
    const secret = sharedSecretOf(VECTOR.secret);
    assert.equal(hex(secret), VECTOR.ntHash);
    const sk = computeSessionKey(secret, unhex(VECTOR.clientChallenge), unhex(VECTOR.serverChallenge));
    assert.equal(hex(sk), VECTOR.sessionKey);
    assert.equal(hex(computeCredential(unhex(VECTOR.clientChallenge), sk)), VECTOR.clientCredential);
    assert.equal(hex(computeCredential(unhex(VECTOR.serverChallenge), sk)), VECTOR.serverCredential);
  });

  it('refuses a ClientChallenge whose first five bytes are one value (the Zerologon shape), and takes others', () => {
    assert.equal(acceptableClientChallenge(new Uint8Array(8)), false);
    assert.equal(acceptableClientChallenge(unhex('4141414141ffeedd')), false);
    assert.equal(acceptableClientChallenge(unhex('4141414142000000')), true);
    assert.equal(acceptableClientChallenge(unhex(VECTOR.clientChallenge)), true);
    assert.equal(acceptableClientChallenge(new Uint8Array(7)), false, 'a challenge is 8 bytes');
  });

  it('gives a zero credential for an all-zero challenge under about one key in 256: why the check exists', () => {
    let zeros = 0;
    for (let i = 0; i < 2048; i++) if (computeCredential(new Uint8Array(8), new Uint8Array(randomBytes(16))).every((b) => b === 0)) zeros++;
    assert.ok(zeros > 0 && zeros < 40, `${zeros} zero credentials in 2048 keys`);
  });
});

describe('sealing a message (NL_AUTH_SHA2_SIGNATURE, MS-NRPC 3.3.4.2.1 and 3.3.4.2.2)', () => {
  const sk = unhex(VECTOR.sessionKey);
  const v = VECTOR.seal;

  it("seals as impacket's SEAL does: the header, the sealed sequence number, the checksum, the sealed confounder and message", () => {
    const sealed = sealMessage(sk, v.sequence, 'client', new Uint8Array(Buffer.from(v.message)), unhex(v.confounder));
    assert.equal(sealed.length, SIGNATURE_BYTES + v.message.length);
    assert.equal(hex(sealed.subarray(0, 8)), v.header);
    assert.equal(hex(sealed.subarray(8, 16)), v.encryptedSequence);
    assert.equal(hex(sealed.subarray(16, 24)), v.checksum);
    assert.equal(hex(sealed.subarray(24, 48)), '00'.repeat(24));
    assert.equal(hex(sealed.subarray(48, 56)), v.encryptedConfounder);
    assert.equal(hex(sealed.subarray(56)), v.encryptedMessage);
    const opened = unsealMessage(sk, v.sequence, 'client', sealed);
    assert.ok(opened.ok);
    assert.equal(Buffer.from(opened.message).toString(), v.message);
  });

  it("marks the client's sequence numbers (0x80 in the fifth byte) and not the server's", () => {
    assert.equal(hex(sequenceBytes(5n, 'client')), '0000000580000000');
    assert.equal(hex(sequenceBytes(5n, 'server')), '0000000500000000');
    assert.equal(hex(sequenceBytes(0x1_0000_0002n, 'server')), '0000000200000001');
  });

  it('opens what it seals, any message, sequence number and side', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
        fc.constantFrom('client' as const, 'server' as const),
        (message, sequence, side) => {
          const key = new Uint8Array(randomBytes(16));
          const opened = unsealMessage(key, sequence, side, sealMessage(key, sequence, side, message, new Uint8Array(randomBytes(8))));
          assert.ok(opened.ok);
          assert.deepEqual(opened.message, message);
        },
      ),
      { seed: 20261207, numRuns: 200 },
    );
  });

  it("refuses any changed byte, a replayed or skipped sequence number, the other side's message, another key", () => {
    const message = new Uint8Array(Buffer.from('NetrLogonSamLogonEx'));
    const sealed = sealMessage(sk, 7n, 'client', message, new Uint8Array(randomBytes(8)));
    for (let i = 0; i < sealed.length; i++) {
      const changed = sealed.slice();
      changed[i]! ^= 0x01;
      assert.equal(unsealMessage(sk, 7n, 'client', changed).ok, false, `byte ${i} changed`);
    }
    assert.match(reason(unsealMessage(sk, 8n, 'client', sealed)), /not the sequence number expected \(8 from the client\)/);
    assert.match(reason(unsealMessage(sk, 6n, 'client', sealed)), /not the sequence number expected/);
    assert.match(reason(unsealMessage(sk, 7n, 'server', sealed)), /not the sequence number expected \(7 from the server\)/, 'a reflected message');
    assert.equal(unsealMessage(new Uint8Array(randomBytes(16)), 7n, 'client', sealed).ok, false);
    assert.match(reason(unsealMessage(sk, 7n, 'client', sealed.subarray(0, 40))), /shorter than its signature/);
  });
});

function reason(u: ReturnType<typeof unsealMessage>): string {
  assert.equal(u.ok, false);
  return u.ok ? '' : u.reason;
}

// ---------------------------------------------------------------------------------------------
// impacket, live

const PYTHON = ['/usr/bin/python3', 'python3'].find((python) => spawnSync(python, ['-c', 'import impacket.dcerpc.v5.nrpc'], { stdio: 'ignore' }).status === 0);
const NO_IMPACKET = PYTHON === undefined ? 'impacket not installed (apt-get install python3-impacket)' : false;

/** Reads cases as JSON on stdin, answers impacket's values as JSON. */
const IMPACKET = `
import sys, json, hmac, hashlib
from impacket.dcerpc.v5 import nrpc
# impacket 0.10's ComputeNetlogonSignatureAES adds a str to bytes under Python 3; the same HMAC, in bytes.
def signature(authSignature, message, confounder, sessionKey):
    hm = hmac.new(key=sessionKey, digestmod=hashlib.sha256)
    hm.update(authSignature.getData()[:8]); hm.update(confounder); hm.update(bytes(message))
    return hm.digest()[:8] + b'\\x00' * 24
nrpc.ComputeNetlogonSignatureAES = signature
h = bytes.fromhex
out = []
for c in json.load(sys.stdin):
    sk = nrpc.ComputeSessionKeyAES(c['secret'], h(c['cc']), h(c['sc']))
    enc, sig = nrpc.SEAL(h(c['message']), h(c['confounder']), c['sequence'], sk, aes=True)
    out.append({'sk': sk.hex(), 'ccred': nrpc.ComputeNetlogonCredentialAES(h(c['cc']), sk).hex(), 'sig': sig.getData().hex(), 'enc': enc.hex()})
print(json.dumps(out))
`;

describe('against impacket (random inputs)', { skip: NO_IMPACKET }, () => {
  it('agrees on session keys, credentials and sealed messages', async () => {
    const cases = Array.from({ length: 24 }, (_, i) => ({
      secret: randomBytes(12).toString('base64'),
      cc: randomBytes(8).toString('hex'),
      sc: randomBytes(8).toString('hex'),
      message: randomBytes(i * 13).toString('hex'),
      confounder: randomBytes(8).toString('hex'),
      sequence: i * 1_000_003,
    }));
    const run = await runProgram(PYTHON!, ['-c', IMPACKET], { input: JSON.stringify(cases), timeoutMs: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    const answers = JSON.parse(run.stdout) as Array<{ sk: string; ccred: string; sig: string; enc: string }>;
    cases.forEach((c, i) => {
      const a = answers[i]!;
      const sk = computeSessionKey(sharedSecretOf(c.secret), unhex(c.cc), unhex(c.sc));
      assert.equal(hex(sk), a.sk, JSON.stringify(c));
      assert.equal(hex(computeCredential(unhex(c.cc), sk)), a.ccred, JSON.stringify(c));
      const sealed = sealMessage(sk, BigInt(c.sequence), 'client', unhex(c.message), unhex(c.confounder));
      // impacket's 32-byte token: header, sequence number, 8-byte checksum, confounder.
      assert.equal(hex(sealed.subarray(0, 24)) + hex(sealed.subarray(48, 56)), a.sig, JSON.stringify(c));
      assert.equal(hex(sealed.subarray(56)), a.enc, JSON.stringify(c));
    });
  });
});
