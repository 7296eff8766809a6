// The example package's user-mode half (packages/example/user.ts) on contexts mapped into real
// processes: the attributes it answers there (and NATIVE_NAMES, thunked to the LSA-mode half), and
// messages that catch tampering, replay, reordering and the wrong direction, sealing only when
// confidentiality was asked for.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packImportedContext } from '../../../headers/ntsecpkg.js';
import { ASC_RET, ISC_RET, SECBUFFER, SECPKG_ATTR, SECPKG_CONTEXT_EXPORT, type SecBuffer } from '../../../headers/sspi.js';
import { ExampleUserPackage } from '../../../packages/example/user.js';
import { packContextData } from '../../../packages/example/wire.js';
import { copy, seal, sign, status, text, withClientAndServer } from '../../helpers/calls.js';
import { establish } from '../../helpers/machine.js';

describe('the example package on a mapped context', () => {
  it('answers QueryContextAttributes for the levels the issue names', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      const done = await establish(client, server);
      const ctx = done.clientContext!;
      const sizes = await client.sspi.queryContextAttributes(ctx, SECPKG_ATTR.SIZES);
      assert.deepEqual(sizes.buffer, { cbMaxToken: 512, cbMaxSignature: 24, cbBlockSize: 0, cbSecurityTrailer: 24 });
      const names = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NAMES);
      assert.equal(names.buffer?.sUserName, 'SSPI-EMU\\alice');
      const info = await client.sspi.queryContextAttributes(ctx, SECPKG_ATTR.PACKAGE_INFO);
      assert.equal(info.buffer?.PackageInfo.Name, 'Example');
      const flags = await client.sspi.queryContextAttributes(ctx, SECPKG_ATTR.FLAGS);
      assert.equal(typeof flags.buffer?.Flags, 'number');
      const life = await client.sspi.queryContextAttributes(ctx, SECPKG_ATTR.LIFESPAN);
      assert.equal(typeof life.buffer?.tsExpiry, 'bigint');
      const clientKey = await client.sspi.queryContextAttributes(ctx, SECPKG_ATTR.SESSION_KEY);
      const serverKey = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.SESSION_KEY);
      assert.equal(clientKey.buffer?.SessionKey.byteLength, 32);
      assert.deepEqual(clientKey.buffer?.SessionKey, serverKey.buffer?.SessionKey);
      const native = await server.sspi.queryContextAttributes(done.serverContext!, SECPKG_ATTR.NATIVE_NAMES);
      assert.equal(native.buffer?.sClientName, 'SSPI-EMU\\alice', 'NATIVE_NAMES is thunked to the LSA');
    });
  });

  it('answers SEC_E_MESSAGE_ALTERED for a tampered message or signature and accepts the untouched one after', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      const { clientContext, serverContext } = await establish(client, server);
      const sealed = await seal(client, clientContext!, 'pay 10 to bob');
      const tampered = copy(sealed);
      tampered[1]!.pvBuffer[4]! ^= 0x01;
      assert.equal(status(await server.sspi.decryptMessage(serverContext!, tampered, 0)), 'SEC_E_MESSAGE_ALTERED');
      const badTrailer = copy(sealed);
      badTrailer[0]!.pvBuffer[20]! ^= 0x80;
      assert.equal(status(await server.sspi.decryptMessage(serverContext!, badTrailer, 0)), 'SEC_E_MESSAGE_ALTERED');
      assert.equal(status(await server.sspi.decryptMessage(serverContext!, copy(sealed), 0)), 'SEC_E_OK', 'a failed check consumes no sequence number');

      const signed = await sign(client, clientContext!, 'hello');
      const changed = copy(signed);
      changed[0]!.pvBuffer = text('jello');
      assert.equal(status(await server.sspi.verifySignature(serverContext!, changed, 0)), 'SEC_E_MESSAGE_ALTERED');
      assert.equal(status(await server.sspi.verifySignature(serverContext!, signed, 0)), 'SEC_E_OK');
    });
  });

  it('answers SEC_E_OUT_OF_SEQUENCE for a replayed or reordered message', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      const { clientContext, serverContext } = await establish(client, server);
      const first = await seal(client, clientContext!, 'one');
      const second = await seal(client, clientContext!, 'two');
      const third = await sign(client, clientContext!, 'three');
      assert.equal(status(await server.sspi.decryptMessage(serverContext!, copy(second), 0)), 'SEC_E_OUT_OF_SEQUENCE', 'reordered');
      assert.equal(status(await server.sspi.decryptMessage(serverContext!, copy(first), 0)), 'SEC_E_OK');
      assert.equal(status(await server.sspi.decryptMessage(serverContext!, copy(first), 0)), 'SEC_E_OUT_OF_SEQUENCE', 'replayed');
      assert.equal(status(await server.sspi.decryptMessage(serverContext!, copy(second), 0)), 'SEC_E_OK');
      assert.equal(status(await server.sspi.verifySignature(serverContext!, third, 0)), 'SEC_E_OK', 'signatures and seals share the sequence');
    });
  });

  it('refuses a message from the wrong direction: a client cannot open its own sealed message', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      const { clientContext } = await establish(client, server);
      const sealed = await seal(client, clientContext!, 'to the server');
      assert.equal(status(await client.sspi.decryptMessage(clientContext!, sealed, 0)), 'SEC_E_MESSAGE_ALTERED');
    });
  });

  it('answers SEC_E_QOP_NOT_SUPPORTED for sealing when confidentiality was not requested', async () => {
    await withClientAndServer({}, async ({ client, server }) => {
      const { clientContext } = await establish(client, server, { clientReq: 0x10000 /* ISC_REQ_INTEGRITY */ });
      const r = await client.sspi.encryptMessage(
        clientContext!,
        0,
        [
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
          { BufferType: SECBUFFER.DATA, pvBuffer: text('x') },
        ],
        0,
      );
      assert.equal(status(r), 'SEC_E_QOP_NOT_SUPPORTED');
      assert.equal(
        status(
          await client.sspi.makeSignature(
            clientContext!,
            0,
            [
              { BufferType: SECBUFFER.DATA, pvBuffer: text('x') },
              { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
            ],
            0,
          ),
        ),
        'SEC_E_OK',
      );
    });
  });
});

describe("the example package's export and import (the user-mode tables alone)", () => {
  const sessionKey = new Uint8Array(32).fill(7);
  const contextData = (role: 1 | 2) => packContextData({ role, flags: ASC_RET.INTEGRITY | ASC_RET.CONFIDENTIALITY, sessionKey, name: 'SSPI-EMU\\alice' });
  const message = (s: string): SecBuffer[] => [
    { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
    { BufferType: SECBUFFER.DATA, pvBuffer: text(s) },
  ];
  const userTable = () => new ExampleUserPackage().table();

  it('hands over the two sequence numbers only, and the importer continues from them with the keys of the ContextData', async () => {
    const client = userTable();
    const exporter = userTable();
    const importer = userTable();
    // Both ends are "server-side" contexts mapped from the same ContextData in two processes; the client is role 1.
    assert.equal(await client.InitUserModeContext(1, packContextData({ role: 1, flags: ISC_RET.INTEGRITY, sessionKey, name: 'SSPI-EMU\\alice' })), 0);
    assert.equal(await exporter.InitUserModeContext(1, contextData(2)), 0);
    for (let i = 0; i < 3; i++) {
      const m = message(`m${i}`);
      assert.equal(status({ status: await client.MakeSignature(1, 0, m, 0) }), 'SEC_E_OK');
      assert.equal(status(await exporter.VerifySignature(1, m, 0)), 'SEC_E_OK');
    }
    const exported = (await exporter.ExportContext(1, 0)) as { status: number; PackedContext: Uint8Array };
    assert.equal(status(exported), 'SEC_E_OK');
    assert.deepEqual([...exported.PackedContext], [1, 0, 0, 0, 0, 3, 0, 0, 0], 'format 1, send 0, receive 3: no key in it');
    const reset = (await exporter.ExportContext(1, SECPKG_CONTEXT_EXPORT.RESET_NEW)) as { PackedContext: Uint8Array };
    assert.deepEqual([...reset.PackedContext], [1, 0, 0, 0, 0, 0, 0, 0, 0]);

    const imported = (await importer.ImportContext(packImportedContext({ ContextData: contextData(2), PackedContext: exported.PackedContext }), null)) as {
      status: number;
      ContextHandle: number;
    };
    assert.equal(status(imported), 'SEC_E_OK');
    assert.ok(imported.ContextHandle >= 2 ** 40, 'apart from the handles mapped contexts go by');
    const next = message('m3');
    assert.equal(status({ status: await client.MakeSignature(1, 0, next, 0) }), 'SEC_E_OK');
    assert.equal(status(await importer.VerifySignature(imported.ContextHandle, next, 0)), 'SEC_E_OK');
    const names = await importer.QueryContextAttributes(imported.ContextHandle, SECPKG_ATTR.NAMES);
    assert.deepEqual(names.Buffer, { sUserName: 'SSPI-EMU\\alice' });
  });

  it('refuses what is not laid out by the LSA, or whose state or ContextData is malformed: SEC_E_INVALID_TOKEN', async () => {
    const importer = userTable();
    const state = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0);
    for (const packed of [
      new Uint8Array(0),
      state,
      packImportedContext({ ContextData: contextData(2), PackedContext: state.subarray(1) }),
      packImportedContext({ ContextData: contextData(2), PackedContext: Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0) }),
      packImportedContext({ ContextData: new Uint8Array(10), PackedContext: state }),
    ])
      assert.equal(status(await importer.ImportContext(packed, null)), 'SEC_E_INVALID_TOKEN');
    assert.equal(status(await importer.ExportContext(12345, 0)), 'SEC_E_INVALID_HANDLE');
  });
});
