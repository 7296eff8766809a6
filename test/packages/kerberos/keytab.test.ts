// MIT's keytab format (packages/kerberos/keytab.ts) against MIT's own tools: keytabs written by
// ktutil read here, keytabs written here read by `klist -k -e -K` and by ktutil (whose rkt/wkt
// writes them back as we would, but for its own timestamps), and every malformed file refused with a KeytabError naming its
// offset. Properties: pack then unpack is the identity; any bytes only ever give entries or a
// KeytabError. The MIT suites skip, saying so, without krb5-user.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringToKey } from '../../../packages/kerberos/crypto/index.js';
import { KeytabError, packKeytab, unpackKeytab, type KeytabEntry, type KeytabErrorCode } from '../../../packages/kerberos/wire.js';
import { runProgram } from '../../helpers/cli.js';

const KTUTIL = ['/usr/bin/ktutil', '/usr/sbin/ktutil'].find((path) => spawnSync(path, ['-V'], { stdio: 'ignore' }).error === undefined);
const KLIST = ['/usr/bin/klist'].find((path) => spawnSync(path, ['-V'], { stdio: 'ignore' }).error === undefined);
const NO_MIT = KTUTIL === undefined || KLIST === undefined ? 'ktutil/klist not installed (apt-get install krb5-user)' : false;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const PASSWORD = 'pässword with spaces';

function throwsKeytab(fn: () => unknown, code: KeytabErrorCode, offset: number): void {
  assert.throws(fn, (error: unknown): boolean => {
    assert.ok(error instanceof KeytabError, `not a KeytabError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.offset, offset, error.message);
    return true;
  });
}

const entry = (over: Partial<KeytabEntry> = {}): KeytabEntry => ({
  principal: { realm: 'EXAMPLE.TEST', components: ['HTTP', 'web.example.test'], nameType: 1 },
  timestamp: 1_767_225_600,
  kvno: 2,
  key: { keytype: 18, keyvalue: Uint8Array.from({ length: 32 }, (_, i) => i) },
  ...over,
});

describe('keytab files', () => {
  it('writes MIT\'s layout: version 0x0502, a size, the counted names, name type, timestamp, 8-bit kvno, key, 32-bit kvno', () => {
    const file = packKeytab([entry()]);
    const expected =
      '0502' +
      '00000059' + // the entry's size: 89 bytes
      '0002' +
      '000c' + hex(Buffer.from('EXAMPLE.TEST')) +
      '0004' + hex(Buffer.from('HTTP')) +
      '0010' + hex(Buffer.from('web.example.test')) +
      '00000001' + // KRB_NT_PRINCIPAL
      '6955b900' + // 2026-01-01T00:00:00Z
      '02' +
      '0012' + '0020' + hex(entry().key.keyvalue) +
      '00000002';
    assert.equal(hex(file), expected);
    assert.deepEqual(unpackKeytab(file), [entry()]);
  });

  it('takes the 32-bit kvno when present and not zero, the 8-bit one otherwise, and keeps a kvno above 255', () => {
    const big = packKeytab([entry({ kvno: 300 })]);
    assert.equal(big[big.length - 5 - 32 - 4]!, 300 & 0xff);
    assert.equal(unpackKeytab(big)[0]!.kvno, 300);
    // An entry without the 32-bit trailer (older writers), and one whose trailer is zero.
    const noTrailer = packKeytab([entry({ kvno: 7 })]).slice(0, -4);
    noTrailer[5] = noTrailer[5]! - 4;
    assert.equal(unpackKeytab(noTrailer)[0]!.kvno, 7);
    const zero = packKeytab([entry({ kvno: 7 })]);
    zero.fill(0, zero.length - 4);
    assert.equal(unpackKeytab(zero)[0]!.kvno, 7);
  });

  it('skips holes (negative sizes) and bytes past the 32-bit kvno, and keeps negative name types', () => {
    const one = packKeytab([entry({ kvno: 1 })]).subarray(2);
    const two = packKeytab([entry({ kvno: 2, principal: { realm: 'R', components: ['x'], nameType: -128 } })]).subarray(2);
    const hole = Uint8Array.of(0xff, 0xff, 0xff, 0xf8, ...new Uint8Array(8));
    const withExtra = Uint8Array.from([...one]);
    withExtra[3] = withExtra[3]! + 3;
    const file = Uint8Array.from([0x05, 0x02, ...withExtra, 1, 2, 3, ...hole, ...two]);
    assert.deepEqual(
      unpackKeytab(file).map((e) => [e.kvno, e.principal.nameType]),
      [
        [1, 1],
        [2, -128],
      ],
    );
  });

  it('refuses another version, a cut-off file, a record past the end, and an entry whose fields run past it', () => {
    throwsKeytab(() => unpackKeytab(Uint8Array.of(0x05)), 'TRUNCATED', 0);
    throwsKeytab(() => unpackKeytab(Uint8Array.of(0x05, 0x01)), 'BAD_VERSION', 0);
    const good = packKeytab([entry()]);
    throwsKeytab(() => unpackKeytab(good.subarray(0, 4)), 'TRUNCATED', 2);
    throwsKeytab(() => unpackKeytab(good.subarray(0, good.length - 1)), 'TRUNCATED', 2);
    throwsKeytab(() => unpackKeytab(Uint8Array.of(0x05, 0x02, 0, 0, 0, 0)), 'BAD_ENTRY', 2);
    const longRealm = good.slice();
    longRealm[9] = 0xff; // the realm's length, past the entry
    throwsKeytab(() => unpackKeytab(longRealm), 'BAD_ENTRY', 10);
    const noComponents = good.slice();
    noComponents[7] = 0;
    throwsKeytab(() => unpackKeytab(noComponents), 'BAD_ENTRY', 6);
    const notUtf8 = good.slice();
    notUtf8[10] = 0xff;
    throwsKeytab(() => unpackKeytab(notUtf8), 'BAD_ENTRY', 8);
    assert.throws(() => packKeytab([entry({ kvno: -1 })]), RangeError);
    assert.throws(() => packKeytab([entry({ principal: { realm: 'R', components: [], nameType: 1 } })]), RangeError);
  });

  const anyEntry: fc.Arbitrary<KeytabEntry> = fc.record(
    {
      principal: fc.record(
        {
          realm: fc.string({ maxLength: 20 }),
          components: fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { minLength: 1, maxLength: 4 }),
          nameType: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        },
        { noNullPrototype: true },
      ),
      timestamp: fc.integer({ min: 0, max: 0xffffffff }),
      kvno: fc.integer({ min: 1, max: 0xffffffff }),
      key: fc.record({ keytype: fc.integer({ min: 0, max: 0xffff }), keyvalue: fc.uint8Array({ maxLength: 64 }) }, { noNullPrototype: true }),
    },
    { noNullPrototype: true },
  );

  it('reads back every keytab it writes', () => {
    fc.assert(
      fc.property(fc.array(anyEntry, { maxLength: 5 }), (entries) => {
        const file = packKeytab(entries);
        assert.deepEqual(unpackKeytab(file), entries);
        assert.deepEqual(packKeytab(unpackKeytab(file)), file);
      }),
      { seed: 0x6b74_0001, numRuns: 300 },
    );
  });

  it('gives entries or a KeytabError with an offset inside the file for any bytes at all', () => {
    const mutatedFile = fc.tuple(fc.array(anyEntry, { minLength: 1, maxLength: 3 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), fc.nat()).map(
      ([entries, edits, cut]) => {
        const file = packKeytab(entries);
        for (const [at, value] of edits) file[at % file.length] = value;
        return file.subarray(0, cut % 3 === 0 ? file.length - (cut % 7) : file.length);
      },
    );
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }).map((b) => Uint8Array.from([0x05, 0x02, ...b])), mutatedFile), (file) => {
        try {
          unpackKeytab(file);
        } catch (error) {
          if (!(error instanceof KeytabError)) throw error;
          assert.ok(error.offset >= 0 && error.offset <= file.length, `offset ${error.offset} outside ${file.length} bytes`);
        }
      }),
      { seed: 0x6b74_0002, numRuns: 600 },
    );
  });
});

describe('keytab files and MIT krb5 (ktutil, klist)', { skip: NO_MIT, timeout: 60_000 }, () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-keytab-'));
    await writeFile(join(dir, 'krb5.conf'), ''); // no site configuration reaches the tools
    env = { ...process.env, KRB5_CONFIG: join(dir, 'krb5.conf') };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads what ktutil writes: principals, kvnos, etypes, and the keys of our string-to-key', async () => {
    const file = join(dir, 'mit.keytab');
    const script = [
      'addent -password -p alice@EXAMPLE.TEST -k 3 -e aes256-cts-hmac-sha1-96',
      PASSWORD,
      'addent -password -p HTTP/web.example.test@EXAMPLE.TEST -k 300 -e aes128-cts-hmac-sha256-128',
      PASSWORD,
      `wkt ${file}`,
      'quit',
    ];
    const run = await runProgram(KTUTIL!, [], { input: script.join('\n') + '\n', env });
    assert.equal(run.code, 0, run.stderr);
    const entries = unpackKeytab(await readFile(file));
    assert.deepEqual(
      entries.map((e) => [e.principal.components.join('/'), e.principal.realm, e.principal.nameType, e.kvno, e.key.keytype]),
      [
        ['alice', 'EXAMPLE.TEST', 1, 3, 18],
        ['HTTP/web.example.test', 'EXAMPLE.TEST', 1, 300, 19],
      ],
    );
    assert.equal(hex(entries[0]!.key.keyvalue), hex(stringToKey(18, PASSWORD, 'EXAMPLE.TESTalice').keyvalue));
    assert.equal(hex(entries[1]!.key.keyvalue), hex(stringToKey(19, PASSWORD, 'EXAMPLE.TESTHTTPweb.example.test').keyvalue));
    assert.ok(Math.abs(entries[0]!.timestamp - Date.now() / 1000) < 600, 'the timestamp is now');
    // What we write of the same entries is what ktutil wrote, byte for byte.
    assert.equal(hex(packKeytab(entries)), hex(await readFile(file)));
  });

  it('writes keytabs that klist -k -e -K lists entry by entry, and that ktutil reads and writes back as we would', async () => {
    const entries = [
      entry({ kvno: 5 }),
      entry({ kvno: 5, key: { keytype: 17, keyvalue: Uint8Array.from({ length: 16 }, (_, i) => 0xf0 | i) } }),
      entry({ principal: { realm: 'EXAMPLE.TEST', components: ['svc'], nameType: 1 }, kvno: 1000, key: { keytype: 20, keyvalue: new Uint8Array(32).fill(0xab) } }),
    ];
    const file = join(dir, 'ours.keytab');
    await writeFile(file, packKeytab(entries));
    const listed = await runProgram(KLIST!, ['-k', '-e', '-K', file], { env });
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.split('\n').filter((l) => /^\s*\d+ /.test(l));
    assert.equal(lines.length, 3, listed.stdout);
    assert.match(lines[0]!, /^\s*5 HTTP\/web\.example\.test@EXAMPLE\.TEST \(aes256-cts-hmac-sha1-96\)\s+\(0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\)$/);
    assert.match(lines[1]!, /^\s*5 HTTP\/web\.example\.test@EXAMPLE\.TEST \(aes128-cts-hmac-sha1-96\)\s+\(0xf0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\)$/);
    assert.match(lines[2]!, new RegExp(`^\\s*1000 svc@EXAMPLE\\.TEST \\(aes256-cts-hmac-sha384-192\\)\\s+\\(0x${'ab'.repeat(32)}\\)$`));
    const copy = join(dir, 'copy.keytab');
    const run = await runProgram(KTUTIL!, [], { input: `rkt ${file}\nwkt ${copy}\nquit\n`, env });
    assert.equal(run.code, 0, run.stderr);
    // ktutil stamps the entries it writes with the time of writing; all else is what we wrote.
    const mit = unpackKeytab(await readFile(copy));
    assert.deepEqual(
      mit.map(({ timestamp: _t, ...rest }) => rest),
      entries.map(({ timestamp: _t, ...rest }) => rest),
    );
    assert.equal(hex(await readFile(copy)), hex(packKeytab(entries.map((e, i) => ({ ...e, timestamp: mit[i]!.timestamp })))));
  });
});
