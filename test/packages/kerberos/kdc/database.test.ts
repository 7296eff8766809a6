// The KDC's account database: keys equal to string-to-key's with the realm's salt (or the one
// given), made in the background through the deriver it is given, a principal asked for made
// first; names found whatever their case; the checks on what it is given; its keytab.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeRandomKey, stringToKey, type EncryptionKey } from '../../../../packages/kerberos/crypto/index.js';
import { KdcDatabase, KdcError, type KdcPrincipalSpec } from '../../../../packages/kerberos/kdc/index.js';
import { packKeytab, unpackKeytab } from '../../../../packages/kerberos/wire.js';

const REALM = 'EXAMPLE.TEST';
const KRBTGT: KdcPrincipalSpec = { components: ['krbtgt', REALM], kind: 'krbtgt', keys: [makeRandomKey(18)] };
const inline = async (etype: number, password: string, salt: string): Promise<EncryptionKey> => stringToKey(etype, password, salt);

describe('the KDC database', () => {
  it("makes each password's keys with string-to-key and the realm's salt (REALM + components), or the salt given, for every etype asked", async () => {
    const db = KdcDatabase.open(
      REALM,
      [
        KRBTGT,
        { components: ['alice'], kind: 'user', password: 'pw' },
        { components: ['HTTP', 'web.example.test'], kind: 'service', password: 'pw2', salt: 'SALTY', etypes: [20, 17] },
      ],
      inline,
    );
    await db.whenDerived();
    const alice = await db.lookup(['alice'])!.ready();
    assert.deepEqual([...alice.keys()], [18, 17, 20, 19]);
    for (const [etype, key] of alice) assert.deepEqual(key, stringToKey(etype, 'pw', 'EXAMPLE.TESTalice'));
    const web = db.lookup(['HTTP', 'web.example.test'])!;
    assert.deepEqual(web.etypes, [20, 17]);
    assert.deepEqual((await web.ready()).get(20), stringToKey(20, 'pw2', 'SALTY'));
    assert.deepEqual(db.progress(), { principals: 3, ready: 3, failed: 0 });
  });

  it("finds principals whatever the case of their name, as Windows' KDC does", () => {
    const db = KdcDatabase.open(REALM, [KRBTGT, { components: ['Alice'], kind: 'user', keys: [makeRandomKey(17)] }], inline);
    assert.equal(db.lookup(['alice'])?.name, 'Alice');
    assert.equal(db.lookup(['KRBTGT', 'example.test']), db.krbtgt);
    assert.equal(db.lookup(['bob']), undefined);
  });

  it('derives in the background, a few at a time, and makes a principal asked for first', async () => {
    const order: string[] = [];
    const gates: Array<() => void> = [];
    const derive = (etype: number, password: string, salt: string): Promise<EncryptionKey> => {
      order.push(salt);
      return new Promise((resolve) => gates.push(() => resolve(stringToKey(etype, password, salt))));
    };
    const users = Array.from({ length: 8 }, (_, i): KdcPrincipalSpec => ({ components: [`u${i}`], kind: 'user', password: 'x', etypes: [17] }));
    const db = KdcDatabase.open(REALM, [KRBTGT, ...users], derive);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(order.length, 4, 'four derivations at once, the rest wait');
    assert.equal(db.progress().ready, 1, "krbtgt's keys were given");
    const late = db.lookup(['u7'])!.ready();
    assert.equal(order.at(-1), 'EXAMPLE.TESTu7', 'a principal a request waits for goes ahead of the queue');
    while (gates.length > 0) gates.shift()!();
    await late;
    // The rest follow as gates open.
    for (let i = 0; i < 20 && db.progress().ready < 9; i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (gates.length > 0) gates.shift()!();
    }
    await db.whenDerived();
    assert.deepEqual(db.progress(), { principals: 9, ready: 9, failed: 0 });
    assert.equal(order.filter((s) => s === 'EXAMPLE.TESTu7').length, 1, 'made once');
  });

  it('reports a principal whose keys could not be made (its requests are refused) and goes on with the others', async () => {
    const derive = async (etype: number, password: string, salt: string): Promise<EncryptionKey> => {
      if (salt.endsWith('broken')) throw new Error('the pool is gone');
      return stringToKey(etype, password, salt);
    };
    const db = KdcDatabase.open(
      REALM,
      [KRBTGT, { components: ['broken'], kind: 'user', password: 'x' }, { components: ['fine'], kind: 'user', password: 'x' }],
      derive,
    );
    await db.whenDerived();
    assert.deepEqual(db.progress(), { principals: 3, ready: 2, failed: 1 });
    await assert.rejects(db.lookup(['broken'])!.ready(), /the pool is gone/);
  });

  it('refuses what it cannot use, with KdcError BAD_CONFIG naming it', () => {
    const bad = (specs: KdcPrincipalSpec[], message: RegExp, realm = REALM): void =>
      assert.throws(
        () => KdcDatabase.check(realm, specs),
        (e: unknown) => e instanceof KdcError && e.code === 'BAD_CONFIG' && message.test(e.message),
      );
    bad([{ components: ['alice'], kind: 'user', password: 'x' }], /no krbtgt\/EXAMPLE.TEST/);
    bad([KRBTGT, { components: ['alice'], kind: 'user', password: 'x' }, { components: ['ALICE'], kind: 'service', password: 'y' }], /named twice/);
    bad([KRBTGT, { components: ['alice'], kind: 'user' }], /needs a password or keys/);
    bad([KRBTGT, { components: ['alice'], kind: 'user', password: 'x', keys: [makeRandomKey(17)] }], /not both/);
    bad([KRBTGT, { components: ['alice'], kind: 'user', password: 'x', etypes: [23] }], /etype 23 is not supported/);
    bad([KRBTGT, { components: ['alice'], kind: 'user', password: 'x', kvno: 0 }], /kvno/);
    bad([KRBTGT, { components: ['alice'], kind: 'user', keys: [{ keytype: 18, keyvalue: new Uint8Array(16) }] }], /wrong length/);
    bad([KRBTGT, { components: ['krbtgt', 'OTHER'], kind: 'service', password: 'x' }], /ticket-granting service/);
    bad([KRBTGT, { components: [''], kind: 'user', password: 'x' }], /non-empty components/);
    bad([KRBTGT], /not a realm name/, 'BAD REALM');
  });

  it("writes the services' keys as MIT keytab entries (the principal, its kvno, each key)", async () => {
    const key18 = makeRandomKey(18);
    const key17 = makeRandomKey(17);
    const db = KdcDatabase.open(
      REALM,
      [
        KRBTGT,
        { components: ['alice'], kind: 'user', password: 'x' },
        { components: ['host', 'server.example.test'], kind: 'service', keys: [key18, key17], kvno: 3 },
      ],
      inline,
    );
    const entries = unpackKeytab(packKeytab(await db.keytab(undefined, 1_700_000_000)));
    assert.deepEqual(
      entries.map((e) => [e.principal.components.join('/'), e.principal.realm, e.kvno, e.key.keytype, e.timestamp]),
      [
        ['host/server.example.test', REALM, 3, 18, 1_700_000_000],
        ['host/server.example.test', REALM, 3, 17, 1_700_000_000],
      ],
    );
    assert.deepEqual(entries[0]!.key.keyvalue, key18.keyvalue);
  });
});
