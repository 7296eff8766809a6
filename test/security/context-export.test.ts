// Trust boundaries of ExportSecurityContext / ImportSecurityContext: what a process holds after an
// export is a reference the LSA issued, good for one import, by the process the exporter named.
// A third process presenting it, a second import, a made-up, altered, truncated or garbage
// reference, another process's handle, hostile raw LPC bodies: each refused with its own status,
// and nothing changes: the export still waits for its importer, and every context still works.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CONTEXT_EXPORT, type SecBuffer } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { NtlmSecurityContext } from '../../packages/ntlm/wire.js';
import { status } from '../helpers/calls.js';
import { establish, type Established } from '../helpers/machine.js';

const message = (): SecBuffer[] => [
  { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) },
  { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.of(1, 2, 3) },
];

/** The client signs a message and `server` verifies it: whether `server`'s context is the live one. */
async function verifies(client: AppProcess, pair: Established, server: AppProcess, context = pair.serverContext!): Promise<string> {
  const signed = await client.sspi.makeSignature(pair.clientContext!, 0, message(), 0);
  return statusName((await server.sspi.verifySignature(context, signed.message, 0)).status);
}

describe('exported contexts against rogue processes', { timeout: 60_000 }, () => {
  let machine: Machine, client: AppProcess, exporter: AppProcess, importer: AppProcess, rogue: AppProcess;

  before(async () => {
    machine = await Machine.boot({ packages: ['ntlm', 'example', 'null'], accounts: ['alice:Passw0rd!'], trace: false });
    client = await machine.spawn('client', { name: 'client' });
    exporter = await machine.spawn('server', { name: 'exporter' });
    importer = await machine.spawn('server', { name: 'importer' });
    rogue = await machine.spawn('server', { name: 'rogue' });
  });
  after(() => machine.shutdown());

  /** A context of `exporter`'s, exported for `importer` (DELETE_OLD unless told otherwise): its reference. */
  async function exported(flags: number = SECPKG_CONTEXT_EXPORT.DELETE_OLD, importingProcess: number | null = importer.pid) {
    const pair = await establish(client, exporter, { package: 'NTLM' });
    assert.ok(pair.ok);
    const result = await exporter.sspi.exportSecurityContext(pair.serverContext!, flags, { importingProcess });
    assert.equal(statusName(result.status), 'SEC_E_OK');
    return { pair, reference: result.packedContext! };
  }

  /** Counts that must not move when a presentation is refused. */
  async function counts(): Promise<[number, number]> {
    const stats = await machine.lsa.stats();
    return [stats.contexts, stats.exports];
  }

  it('refuses a reference presented by a process it was not meant for: SEC_E_NOT_OWNER, and the importer still gets it', async () => {
    const { pair, reference } = await exported();
    const held = await counts();
    assert.equal(statusName((await rogue.sspi.importSecurityContext('NTLM', reference)).status), 'SEC_E_NOT_OWNER');
    assert.equal(statusName((await client.sspi.importSecurityContext('NTLM', reference)).status), 'SEC_E_NOT_OWNER');
    assert.deepEqual(await counts(), held, 'nothing changed');
    assert.equal((await rogue.stats()).handles.contexts, 0);
    const imported = await importer.sspi.importSecurityContext('NTLM', reference);
    assert.equal(statusName(imported.status), 'SEC_E_OK');
    assert.equal(await verifies(client, pair, importer, imported.context!), 'SEC_E_OK');
  });

  it('refuses a reference used twice: SEC_E_CONTEXT_EXPIRED for the importer and for anyone else', async () => {
    const { pair, reference } = await exported(SECPKG_CONTEXT_EXPORT.DELETE_OLD, null);
    const imported = await importer.sspi.importSecurityContext('NTLM', reference);
    assert.equal(statusName(imported.status), 'SEC_E_OK');
    const held = await counts();
    assert.equal(statusName((await importer.sspi.importSecurityContext('NTLM', reference)).status), 'SEC_E_CONTEXT_EXPIRED');
    assert.equal(statusName((await rogue.sspi.importSecurityContext('NTLM', reference)).status), 'SEC_E_CONTEXT_EXPIRED');
    assert.deepEqual(await counts(), held, 'nothing changed');
    assert.equal(await verifies(client, pair, importer, imported.context!), 'SEC_E_OK', 'the one import still works');
  });

  it('refuses made-up, altered, truncated and garbage references, and one named for another package: SEC_E_INVALID_TOKEN', async () => {
    const { pair, reference } = await exported();
    const bytes = reference.pvBuffer;
    const held = await counts();
    const flipped = (at: number): Uint8Array => {
      const copy = Uint8Array.from(bytes);
      copy[at]! ^= 0x01;
      return copy;
    };
    const madeUp = Uint8Array.from(bytes);
    madeUp.set(randomBytes(bytes.byteLength - 8), 8);
    const presented: Array<[string, Uint8Array]> = [
      ['made up (the right header, random id and MAC)', madeUp],
      ['its id altered', flipped(10)],
      ['its MAC altered', flipped(bytes.byteLength - 1)],
      ['truncated', bytes.subarray(0, bytes.byteLength - 1)],
      ['empty', new Uint8Array(0)],
      ['garbage', randomBytes(1000)],
      ['its header altered', flipped(0)],
    ];
    for (const [what, candidate] of presented)
      for (const who of [importer, rogue])
        assert.equal(
          statusName((await who.sspi.importSecurityContext('NTLM', { BufferType: SECBUFFER.TOKEN, pvBuffer: candidate })).status),
          'SEC_E_INVALID_TOKEN',
          `${what}, presented by ${who.name}`,
        );
    assert.equal(statusName((await importer.sspi.importSecurityContext('Example', reference)).status), 'SEC_E_INVALID_TOKEN', 'another package');
    assert.equal(statusName((await importer.sspi.importSecurityContext('NoSuchPackage', reference)).status), 'SEC_E_SECPKG_NOT_FOUND');
    assert.deepEqual(await counts(), held, 'nothing changed');
    const imported = await importer.sspi.importSecurityContext('NTLM', reference);
    assert.equal(statusName(imported.status), 'SEC_E_OK', 'the real reference still works');
    assert.equal(await verifies(client, pair, importer, imported.context!), 'SEC_E_OK');
  });

  it('refuses hostile raw LPC: bodies that are not references, oversized ones, and exports of another process handle', async () => {
    machine.tap(true);
    const pair = await establish(client, exporter, { package: 'NTLM' });
    // The exporter's LSA handle values, sniffed off its channel, as an attacker on the wire would.
    const stolen = (await machine.taps())
      .filter((t) => t.channel === 'lpc:exporter' && t.direction === 'receive')
      .map((t) => (t.message as { body?: { hNewContext?: unknown } }).body?.hNewContext)
      .filter((h): h is number => typeof h === 'number');
    machine.tap(false);
    assert.ok(stolen.length > 0);
    const held = await counts();
    for (const hContext of stolen) {
      const raw = await rogue.lpcCall('SpExportSecurityContext', {
        hContext,
        fFlags: SECPKG_CONTEXT_EXPORT.DELETE_OLD,
        packedContext: new Uint8Array(8),
        importingProcess: null,
      });
      assert.equal(status(raw), 'SEC_E_INVALID_HANDLE', 'another process handle');
    }
    for (const body of [
      { pszPackage: 'NTLM', packedContext: 'not bytes' },
      { pszPackage: 'NTLM', packedContext: [1, 2, 3] },
      { pszPackage: 'NTLM', packedContext: new Uint8Array(1 << 20) },
      { pszPackage: 'NTLM' },
      { pszPackage: 'NTLM', packedContext: { BufferType: 2, pvBuffer: new Uint8Array(56) } },
    ])
      assert.equal(status(await rogue.lpcCall('SpImportSecurityContext', body)), 'SEC_E_INVALID_TOKEN');
    assert.equal(status(await rogue.lpcCall('SpImportSecurityContext', { pszPackage: 42, packedContext: new Uint8Array(56) })), 'SEC_E_SECPKG_NOT_FOUND');
    assert.equal(
      status(await rogue.lpcCall('SpExportSecurityContext', { hContext: stolen[0], fFlags: 'x', packedContext: new Uint8Array(8) })),
      'SEC_E_INVALID_PARAMETER',
    );
    assert.deepEqual(await counts(), held, 'nothing changed');
    assert.equal(await verifies(client, pair, exporter), 'SEC_E_OK', "the exporter's context is untouched");
    await exporter.sspi.deleteSecurityContext(pair.serverContext!);
  });

  it('refuses a package state that is not of the session: the importer gets SEC_E_INVALID_TOKEN and its handle is released', async () => {
    // An exporter's own (untrusted) code hands the LSA a state of its own making with its real
    // context: the importing package checks it against the ContextData the LSA kept, and refuses.
    machine.tap(true);
    const pair = await establish(client, rogue, { package: 'NTLM' });
    const hContext = (await machine.taps())
      .filter((t) => t.channel === 'lpc:rogue' && t.direction === 'receive')
      .map((t) => (t.message as { body?: { hNewContext?: unknown } }).body?.hNewContext)
      .find((h): h is number => typeof h === 'number');
    machine.tap(false);
    // A well-formed state of another session: the negotiated flags and side of this one, another key.
    const authenticate = pair.results
      .flatMap((r) => (r as { output?: SecBuffer[] }).output ?? [])
      .map((b) => b.pvBuffer)
      .find((t) => t.byteLength > 12 && t[8] === 3)!;
    const flags = new DataView(authenticate.buffer, authenticate.byteOffset).getUint32(60, true);
    const anotherSession = NtlmSecurityContext.fromSessionKey({ flags, exportedSessionKey: randomBytes(16), side: 'server' }).exportState();
    for (const packedContext of [anotherSession, new Uint8Array(568), randomBytes(100)]) {
      const raw = (await rogue.lpcCall('SpExportSecurityContext', { hContext, fFlags: 0, packedContext, importingProcess: null })) as {
        status: number;
        packedContext: Uint8Array;
      };
      assert.equal(status(raw), 'SEC_E_OK', 'the LSA takes the state as the package state: only the package can judge it');
      const before = (await importer.stats()).handles.contexts;
      const imported = await importer.sspi.importSecurityContext('NTLM', { BufferType: SECBUFFER.TOKEN, pvBuffer: raw.packedContext });
      assert.equal(statusName(imported.status), 'SEC_E_INVALID_TOKEN');
      assert.equal((await importer.stats()).handles.contexts, before, 'no handle left behind');
    }
    assert.equal(await verifies(client, pair, rogue), 'SEC_E_OK', "the rogue's own context is still whole");
    assert.equal((await machine.lsa.stats()).exports, 0, 'each refused import used its reference up');
    await rogue.sspi.deleteSecurityContext(pair.serverContext!);
  });

  it('refuses bad flags, a process that does not exist, a context not complete, and a package without export, changing nothing', async () => {
    const pair = await establish(client, exporter, { package: 'NTLM' });
    const ctx = pair.serverContext!;
    const held = await counts();
    assert.equal(statusName((await exporter.sspi.exportSecurityContext(ctx, 0x8)).status), 'SEC_E_INVALID_PARAMETER');
    assert.equal(statusName((await exporter.sspi.exportSecurityContext(ctx, SECPKG_CONTEXT_EXPORT.TO_KERNEL)).status), 'SEC_E_UNSUPPORTED_FUNCTION');
    assert.equal(statusName((await exporter.sspi.exportSecurityContext(ctx, 0, { importingProcess: 999_999 })).status), 'SEC_E_INVALID_PARAMETER');
    assert.equal(statusName((await exporter.sspi.exportSecurityContext(ctx, 0, { importingProcess: 1.5 })).status), 'SEC_E_INVALID_PARAMETER');
    assert.equal(statusName((await importer.sspi.importSecurityContext('NTLM', ctx as unknown as SecBuffer)).status), 'SEC_E_INVALID_TOKEN');
    assert.deepEqual(await counts(), held);
    assert.equal(await verifies(client, pair, exporter), 'SEC_E_OK');

    // A context in the middle of its handshake has nothing to hand over.
    const credential = await exporter.sspi.acquireCredentialsHandle({ package: 'NTLM', credentialUse: 1 /* SECPKG_CRED_INBOUND */ });
    const outbound = await client.sspi.acquireCredentialsHandle({
      package: 'NTLM',
      credentialUse: 2,
      authData: { User: 'alice', Domain: '', Password: 'Passw0rd!' },
    });
    const first = await client.sspi.initializeSecurityContext({ credential: outbound.credential!, contextReq: 0 });
    const half = await exporter.sspi.acceptSecurityContext({ credential: credential.credential!, input: first.output, contextReq: 0 });
    assert.equal(statusName(half.status), 'SEC_I_CONTINUE_NEEDED');
    assert.equal(statusName((await exporter.sspi.exportSecurityContext(half.context!, 0)).status), 'SEC_E_INVALID_HANDLE');

    // The null package's user-mode half has no SpExportSecurityContext.
    const nul = await establish(client, exporter, { package: 'Null' });
    assert.ok(nul.ok);
    assert.equal(statusName((await exporter.sspi.exportSecurityContext(nul.serverContext!, 0)).status), 'SEC_E_UNSUPPORTED_FUNCTION');
    assert.equal((await machine.lsa.stats()).exports, held[1]);
    for (const h of [ctx, half.context!, nul.serverContext!]) await exporter.sspi.deleteSecurityContext(h);
    await client.sspi.deleteSecurityContext(first.context!);
  });

  it('drops an export whose exporter or importer exits: its reference then answers SEC_E_CONTEXT_EXPIRED, and the package context is released', async () => {
    const doomed = await machine.spawn('server', { name: 'doomed-exporter' });
    const pair = await establish(client, doomed, { package: 'Example' });
    const result = await doomed.sspi.exportSecurityContext(pair.serverContext!, SECPKG_CONTEXT_EXPORT.DELETE_OLD);
    assert.equal(statusName(result.status), 'SEC_E_OK');
    const before = await machine.lsa.stats();
    await machine.kill(doomed);
    const after = await machine.lsa.stats();
    assert.equal(after.exports, before.exports - 1);
    assert.equal(after.contexts, before.contexts, 'the exporter held no handle after DELETE_OLD');
    assert.equal(statusName((await importer.sspi.importSecurityContext('Example', result.packedContext!)).status), 'SEC_E_CONTEXT_EXPIRED');

    const leaving = await machine.spawn('server', { name: 'leaving-importer' });
    const forLeaving = await exported(0, leaving.pid);
    const waiting = (await machine.lsa.stats()).exports;
    await machine.kill(leaving);
    assert.equal((await machine.lsa.stats()).exports, waiting - 1);
    assert.equal(await verifies(client, forLeaving.pair, exporter), 'SEC_E_OK', 'the exporter kept its own handle');
    await exporter.sspi.deleteSecurityContext(forLeaving.pair.serverContext!);
    const names = await client.sspi.queryContextAttributes(pair.clientContext!, SECPKG_ATTR.NAMES);
    assert.equal(statusName(names.status), 'SEC_E_OK', "the client's side is its own");
  });
});
