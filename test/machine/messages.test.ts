// After the handshake: signing and sealing on a mapped context run in the app process, send no
// LPC message, and catch tampering, replay and reordering.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECBUFFER, type SecBuffer } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import type { AppProcess } from '../../machine/machine.js';
import type { CtxtHandle } from '../../sspi/handles.js';
import { establish, withMachine } from '../helpers/machine.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function seal(proc: AppProcess, ctx: CtxtHandle, message: string): Promise<SecBuffer[]> {
  const r = await proc.sspi.encryptMessage(
    ctx,
    0,
    [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
      { BufferType: SECBUFFER.DATA, pvBuffer: text(message) },
    ],
    0,
  );
  assert.equal(statusName(r.status), 'SEC_E_OK');
  return r.message;
}

async function sign(proc: AppProcess, ctx: CtxtHandle, message: string): Promise<SecBuffer[]> {
  const r = await proc.sspi.makeSignature(
    ctx,
    0,
    [
      { BufferType: SECBUFFER.DATA, pvBuffer: text(message) },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
    ],
    0,
  );
  assert.equal(statusName(r.status), 'SEC_E_OK');
  return r.message;
}

const copy = (buffers: SecBuffer[]): SecBuffer[] => buffers.map((b) => ({ BufferType: b.BufferType, pvBuffer: b.pvBuffer.slice() }));

describe('messages on a mapped context', () => {
  it('signs and seals in the app process with zero LPC messages, counted at the channel', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const { clientContext, serverContext } = await establish(client, server);
      const before = [(await client.stats()).lpc, (await server.stats()).lpc, (await machine.lsa.stats()).lpc];
      for (let i = 0; i < 20; i++) {
        const sealed = await seal(client, clientContext!, `secret ${i}`);
        assert.notDeepEqual(sealed[1]!.pvBuffer, text(`secret ${i}`), 'the data is encrypted in place');
        const opened = await server.sspi.decryptMessage(serverContext!, sealed, 0);
        assert.equal(statusName(opened.status), 'SEC_E_OK');
        assert.equal(new TextDecoder().decode(opened.message[1]!.pvBuffer), `secret ${i}`);
        const signed = await sign(server, serverContext!, `reply ${i}`);
        const verified = await client.sspi.verifySignature(clientContext!, signed, 0);
        assert.equal(statusName(verified.status), 'SEC_E_OK');
      }
      const after = [(await client.stats()).lpc, (await server.stats()).lpc, (await machine.lsa.stats()).lpc];
      assert.deepEqual(after, before);
    });
  });

  it('answers SEC_E_MESSAGE_ALTERED for a tampered message or signature and accepts the untouched one after', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const { clientContext, serverContext } = await establish(client, server);
      const sealed = await seal(client, clientContext!, 'pay 10 to bob');
      const tampered = copy(sealed);
      tampered[1]!.pvBuffer[4]! ^= 0x01;
      assert.equal(statusName((await server.sspi.decryptMessage(serverContext!, tampered, 0)).status), 'SEC_E_MESSAGE_ALTERED');
      const badTrailer = copy(sealed);
      badTrailer[0]!.pvBuffer[20]! ^= 0x80;
      assert.equal(statusName((await server.sspi.decryptMessage(serverContext!, badTrailer, 0)).status), 'SEC_E_MESSAGE_ALTERED');
      assert.equal(
        statusName((await server.sspi.decryptMessage(serverContext!, copy(sealed), 0)).status),
        'SEC_E_OK',
        'a failed check consumes no sequence number',
      );

      const signed = await sign(client, clientContext!, 'hello');
      const changed = copy(signed);
      changed[0]!.pvBuffer = text('jello');
      assert.equal(statusName((await server.sspi.verifySignature(serverContext!, changed, 0)).status), 'SEC_E_MESSAGE_ALTERED');
      assert.equal(statusName((await server.sspi.verifySignature(serverContext!, signed, 0)).status), 'SEC_E_OK');
    });
  });

  it('answers SEC_E_OUT_OF_SEQUENCE for a replayed or reordered message', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const { clientContext, serverContext } = await establish(client, server);
      const first = await seal(client, clientContext!, 'one');
      const second = await seal(client, clientContext!, 'two');
      const third = await sign(client, clientContext!, 'three');
      assert.equal(statusName((await server.sspi.decryptMessage(serverContext!, copy(second), 0)).status), 'SEC_E_OUT_OF_SEQUENCE', 'reordered');
      assert.equal(statusName((await server.sspi.decryptMessage(serverContext!, copy(first), 0)).status), 'SEC_E_OK');
      assert.equal(statusName((await server.sspi.decryptMessage(serverContext!, copy(first), 0)).status), 'SEC_E_OUT_OF_SEQUENCE', 'replayed');
      assert.equal(statusName((await server.sspi.decryptMessage(serverContext!, copy(second), 0)).status), 'SEC_E_OK');
      assert.equal(statusName((await server.sspi.verifySignature(serverContext!, third, 0)).status), 'SEC_E_OK', 'signatures and seals share the sequence');
    });
  });

  it('refuses a message from the wrong direction: a client cannot open its own sealed message', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const { clientContext } = await establish(client, server);
      const sealed = await seal(client, clientContext!, 'to the server');
      assert.equal(statusName((await client.sspi.decryptMessage(clientContext!, sealed, 0)).status), 'SEC_E_MESSAGE_ALTERED');
    });
  });

  it('answers SEC_E_QOP_NOT_SUPPORTED for sealing when confidentiality was not requested', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
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
      assert.equal(statusName(r.status), 'SEC_E_QOP_NOT_SUPPORTED');
      assert.equal(
        statusName(
          (
            await client.sspi.makeSignature(
              clientContext!,
              0,
              [
                { BufferType: SECBUFFER.DATA, pvBuffer: text('x') },
                { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
              ],
              0,
            )
          ).status,
        ),
        'SEC_E_OK',
      );
    });
  });

  it('answers SEC_E_INVALID_TOKEN for a message without its token buffer, and SEC_E_INVALID_HANDLE before the context is mapped', async () => {
    await withMachine({}, async (machine) => {
      const server = await machine.spawn('server');
      const client = await machine.spawn('client');
      const { clientContext } = await establish(client, server);
      const r = await client.sspi.encryptMessage(clientContext!, 0, [{ BufferType: SECBUFFER.DATA, pvBuffer: text('x') }], 0);
      assert.equal(statusName(r.status), 'SEC_E_INVALID_TOKEN');
      const partial = await client.sspi.acquireCredentialsHandle({
        package: 'Example',
        credentialUse: 2,
        authData: { User: 'alice', Domain: '', Password: 'Passw0rd!' },
      });
      const leg1 = await client.sspi.initializeSecurityContext({ credential: partial.credential!, contextReq: 0 });
      assert.equal(statusName(leg1.status), 'SEC_I_CONTINUE_NEEDED');
      const early = await client.sspi.makeSignature(
        leg1.context!,
        0,
        [
          { BufferType: SECBUFFER.DATA, pvBuffer: text('x') },
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(24) },
        ],
        0,
      );
      assert.equal(statusName(early.status), 'SEC_E_INVALID_HANDLE');
    });
  });
});
