// The example package's user-mode half (packages/example/user.ts) on contexts mapped into real
// processes: the attributes it answers there (and NATIVE_NAMES, thunked to the LSA-mode half), and
// messages that catch tampering, replay, reordering and the wrong direction, sealing only when
// confidentiality was asked for.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, SECPKG_ATTR } from '../../../headers/sspi.js';
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
