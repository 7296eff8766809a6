// The cryptosystem against implementations nobody here wrote, with random inputs each run (printed
// with any difference):
// - impacket's impacket.krb5.crypto (Debian's python3-impacket): string-to-key, encryption with a
//   given confounder, decryption both ways, checksums, PRF and KRB-FX-CF2 for 17 and 18 (the
//   version Debian ships has no RFC 8009 etypes);
// - MIT krb5's ktutil (Debian's krb5-user): `addent -password ... -s SALT` then `wkt` writes a
//   keytab whose keys are MIT's string-to-key, for all four etypes at their default counts.
// Each suite skips, saying so, when its tool is missing.

import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  cf2,
  decrypt,
  encrypt,
  encryptionTypeInfo,
  makeChecksum,
  makeRandomKey,
  prf,
  requiredChecksumType,
  stringToKey,
  type EncryptionKey,
} from '../../../../packages/kerberos/crypto/index.js';
import { runProgram } from '../../../helpers/cli.js';
import { toHex } from './vectors.js';

const hex = (bytes: Uint8Array): string => toHex(bytes);
const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

// ---------------------------------------------------------------------------------------------
// impacket

/** Debian's python3 first (where apt puts python3-impacket), then whatever python3 is on PATH. */
const PYTHON = ['/usr/bin/python3', 'python3'].find((python) => spawnSync(python, ['-c', 'import impacket.krb5.crypto'], { stdio: 'ignore' }).status === 0);
const NO_IMPACKET = PYTHON === undefined ? 'impacket not installed (apt-get install python3-impacket)' : false;

/** Reads a JSON list of operations on stdin, answers a JSON list of hex results (or "error: ..." for a refusal). */
const IMPACKET = `
import sys, json
from impacket.krb5 import crypto
h = bytes.fromhex
def run(c):
    op = c['op']
    key = lambda k: crypto.Key(k['keytype'], h(k['keyvalue']))
    if op == 's2k':
        return crypto.string_to_key(c['etype'], h(c['password']), h(c['salt']), h(c['params']) if c['params'] else None).contents.hex()
    if op == 'encrypt':
        return crypto.encrypt(key(c['key']), c['usage'], h(c['plaintext']), h(c['confounder'])).hex()
    if op == 'decrypt':
        try:
            return crypto.decrypt(key(c['key']), c['usage'], h(c['ciphertext'])).hex()
        except crypto.InvalidChecksum as e:
            return 'error: InvalidChecksum'
    if op == 'checksum':
        return crypto.make_checksum(c['cksumtype'], key(c['key']), c['usage'], h(c['data'])).hex()
    if op == 'prf':
        return crypto.prf(key(c['key']), h(c['input'])).hex()
    if op == 'cf2':
        return crypto.cf2(c['etype'], key(c['key1']), key(c['key2']), h(c['pepper1']), h(c['pepper2'])).contents.hex()
    raise ValueError(op)
json.dump([run(c) for c in json.load(sys.stdin)], sys.stdout)
`;

type Operation = Record<string, unknown> & { op: string };

async function impacket(operations: Operation[]): Promise<string[]> {
  const run = await runProgram(PYTHON!, ['-c', IMPACKET], { input: JSON.stringify(operations), timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  const results = JSON.parse(run.stdout) as string[];
  assert.equal(results.length, operations.length);
  return results;
}

const wire = (key: EncryptionKey) => ({ keytype: key.keytype, keyvalue: hex(key.keyvalue) });
const usage = (): number => randomInt(0, 2 ** 32 - 1);

/** Compares results case by case, printing the inputs of any difference so that it can be replayed. */
function sameResults(operations: Operation[], theirs: string[], ours: string[]): void {
  const differences = operations.flatMap((operation, i) => (theirs[i] === ours[i] ? [] : [{ operation, impacket: theirs[i], ours: ours[i] }]));
  assert.deepEqual(differences, []);
}

describe('against impacket.krb5.crypto (random inputs)', { skip: NO_IMPACKET, timeout: 180_000 }, () => {
  for (const etype of [17, 18] as const) {
    test(`etype ${etype}: string-to-key of random passwords and salts, at the default count and at random counts`, async () => {
      const operations = Array.from({ length: 24 }, (_, i) => {
        const params = i % 3 === 0 ? '' : randomInt(1, 3000).toString(16).padStart(8, '0'); // the four octets of s2kparams
        return { op: 's2k', etype, password: hex(randomBytes(randomInt(0, 70))), salt: hex(randomBytes(randomInt(0, 70))), params };
      });
      const ours = operations.map((o) =>
        hex(stringToKey(etype, unhex(o.password), unhex(o.salt), o.params === '' ? undefined : unhex(o.params), { allowWeakIterations: true }).keyvalue),
      );
      sameResults(operations, await impacket(operations), ours);
    });

    test(`etype ${etype}: encryption of random plaintexts (0 to 300 bytes) under random usages, with the same confounder, is byte for byte the same`, async () => {
      const operations = Array.from({ length: 150 }, () => ({
        op: 'encrypt',
        key: wire(makeRandomKey(etype)),
        usage: usage(),
        plaintext: hex(randomBytes(randomInt(0, 301))),
        confounder: hex(randomBytes(16)),
      }));
      const ours = operations.map((o) =>
        hex(encrypt({ keytype: etype, keyvalue: unhex(o.key.keyvalue) }, o.usage, unhex(o.plaintext), { confounder: unhex(o.confounder) })),
      );
      sameResults(operations, await impacket(operations), ours);
    });

    test(`etype ${etype}: impacket decrypts what we encrypt (random confounders), and refuses it under another usage`, async () => {
      const cases = Array.from({ length: 80 }, () => ({ key: makeRandomKey(etype), usage: usage(), plaintext: randomBytes(randomInt(0, 301)) }));
      const operations = cases.flatMap(({ key, usage: u, plaintext }) => {
        const ciphertext = hex(encrypt(key, u, plaintext));
        return [
          { op: 'decrypt', key: wire(key), usage: u, ciphertext },
          { op: 'decrypt', key: wire(key), usage: (u ^ 1) >>> 0, ciphertext },
        ];
      });
      const expected = cases.flatMap(({ plaintext }) => [hex(plaintext), 'error: InvalidChecksum']);
      sameResults(operations, await impacket(operations), expected);
    });

    test(`etype ${etype}: we decrypt what impacket encrypts`, async () => {
      const operations = Array.from({ length: 80 }, () => ({
        op: 'encrypt',
        key: wire(makeRandomKey(etype)),
        usage: usage(),
        plaintext: hex(randomBytes(randomInt(0, 301))),
        confounder: hex(randomBytes(16)),
      }));
      const ciphertexts = await impacket(operations);
      const ours = operations.map((o, i) => hex(decrypt({ keytype: etype, keyvalue: unhex(o.key.keyvalue) }, o.usage, unhex(ciphertexts[i]!))));
      sameResults(
        operations,
        operations.map((o) => o.plaintext),
        ours,
      );
    });

    test(`etype ${etype}: checksums (cksumtype ${requiredChecksumType(etype)}) and the PRF of random data`, async () => {
      const operations = Array.from({ length: 60 }, (_, i) =>
        i % 2 === 0
          ? {
              op: 'checksum',
              cksumtype: requiredChecksumType(etype),
              key: wire(makeRandomKey(etype)),
              usage: usage(),
              data: hex(randomBytes(randomInt(0, 301))),
            }
          : { op: 'prf', key: wire(makeRandomKey(etype)), input: hex(randomBytes(randomInt(0, 301))) },
      );
      const ours = operations.map((o) => {
        const key = { keytype: etype, keyvalue: unhex(o.key.keyvalue) };
        return o.op === 'checksum' ? hex(makeChecksum(o.cksumtype!, key, o.usage!, unhex(o.data!))) : hex(prf(key, unhex(o.input!)));
      });
      sameResults(operations, await impacket(operations), ours);
    });

    test(`etype ${etype}: KRB-FX-CF2 of random keys and peppers`, async () => {
      const operations = Array.from({ length: 20 }, () => ({
        op: 'cf2',
        etype,
        key1: wire(makeRandomKey(etype)),
        key2: wire(makeRandomKey(etype)),
        pepper1: hex(randomBytes(randomInt(1, 40))),
        pepper2: hex(randomBytes(randomInt(1, 40))),
      }));
      const ours = operations.map((o) => {
        const key = (k: { keyvalue: string }) => ({ keytype: etype, keyvalue: unhex(k.keyvalue) });
        return hex(cf2(key(o.key1), key(o.key2), unhex(o.pepper1), unhex(o.pepper2)).keyvalue);
      });
      sameResults(operations, await impacket(operations), ours);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// MIT ktutil

const KTUTIL = ['/usr/bin/ktutil', '/usr/sbin/ktutil'].find((path) => spawnSync(path, ['-V'], { stdio: 'ignore' }).error === undefined);
const NO_KTUTIL = KTUTIL === undefined ? 'ktutil not installed (apt-get install krb5-user)' : false;

interface KeytabEntry {
  principal: string;
  kvno: number;
  keytype: number;
  keyvalue: Uint8Array;
}

/** The entries of an MIT keytab (file format version 0x0502: big-endian, counted strings, optional 32-bit kvno). */
function readKeytab(bytes: Buffer): KeytabEntry[] {
  assert.equal(bytes.readUInt16BE(0), 0x0502, 'keytab version 0x0502');
  const entries: KeytabEntry[] = [];
  let at = 2;
  while (at + 4 <= bytes.length) {
    const size = bytes.readInt32BE(at);
    at += 4;
    if (size < 0) {
      at += -size; // a hole left by a deleted entry
      continue;
    }
    const end = at + size;
    let p = at;
    const counted = (): Buffer => {
      const length = bytes.readUInt16BE(p);
      const value = bytes.subarray(p + 2, p + 2 + length);
      p += 2 + length;
      return value;
    };
    const components = bytes.readUInt16BE(p);
    p += 2;
    const realm = counted().toString('utf8');
    const names = Array.from({ length: components }, () => counted().toString('utf8'));
    p += 4 + 4; // name type, timestamp
    let kvno = bytes.readUInt8(p);
    p += 1;
    const keytype = bytes.readUInt16BE(p);
    p += 2;
    const keyvalue = new Uint8Array(counted());
    if (end - p >= 4) kvno = bytes.readUInt32BE(p);
    entries.push({ principal: `${names.join('/')}@${realm}`, kvno, keytype, keyvalue });
    at = end;
  }
  return entries;
}

/** Passwords with spaces inside, punctuation and non-ASCII letters (read by ktutil as one line); salts as ktutil's parser takes one word. */
const PASSWORD_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~ éßøü漢字'];
const SALT_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.@-_'];
const pick = (chars: string[], min: number, max: number): string =>
  Array.from({ length: randomInt(min, max + 1) }, () => chars[randomInt(0, chars.length)]).join('');

describe('against MIT ktutil (string-to-key, random passwords and salts)', { skip: NO_KTUTIL, timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sspi-emu-ktutil-'));
    writeFileSync(join(dir, 'krb5.conf'), ''); // no site configuration reaches ktutil
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the keytab MIT writes for each etype at its default count holds our string-to-key', async () => {
    const cases = Array.from({ length: 6 }, () => ({ password: pick(PASSWORD_CHARS, 1, 30).trim() || 'x', salt: pick(SALT_CHARS, 1, 40) }));
    const etypes = [17, 18, 19, 20] as const;
    const keytab = join(dir, 'random.keytab');
    const script: string[] = [];
    cases.forEach((c, i) => {
      for (const etype of etypes)
        script.push(`addent -password -p alice@EXAMPLE.TEST -k ${i + 1} -e ${encryptionTypeInfo(etype).name} -s ${c.salt}`, c.password);
    });
    script.push(`wkt ${keytab}`, 'quit');
    const run = await runProgram(KTUTIL!, [], { input: script.join('\n') + '\n', env: { ...process.env, KRB5_CONFIG: join(dir, 'krb5.conf') } });
    assert.equal(run.code, 0, run.stderr);
    const entries = readKeytab(readFileSync(keytab));
    assert.equal(entries.length, cases.length * etypes.length, run.stdout + run.stderr);
    const differences = entries.flatMap((entry) => {
      const c = cases[entry.kvno - 1]!;
      const ours = hex(stringToKey(entry.keytype, c.password, c.salt).keyvalue);
      return ours === hex(entry.keyvalue) ? [] : [{ etype: entry.keytype, password: c.password, salt: c.salt, mit: hex(entry.keyvalue), ours }];
    });
    assert.deepEqual(differences, []);
    assert.deepEqual([...new Set(entries.map((e) => e.keytype))].sort(), [17, 18, 19, 20]);
  });
});
