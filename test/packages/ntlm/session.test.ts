// Messages on NTLM contexts mapped into the client and server processes: signed and sealed both
// ways, interleaved, with the RC4 state of each direction running on (MS-NLMP 3.4), and no LPC
// message while they run. Tampered messages are SEC_E_MESSAGE_ALTERED, replayed or reordered
// ones SEC_E_OUT_OF_SEQUENCE.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SECBUFFER, SECBUFFER_READONLY, type SecBuffer } from '../../../headers/sspi.js';
import { statusName } from '../../../headers/status.js';
import { Machine, type AppProcess } from '../../../machine/machine.js';
import type { CtxtHandle } from '../../../sspi/handles.js';
import { drive } from './drive.js';
import { bootTwoProcesses } from '../../helpers/machine.js';

interface Peer {
  proc: AppProcess;
  context: CtxtHandle;
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}

async function seal(from: Peer, plaintext: string): Promise<SecBuffer[]> {
  const result = await from.proc.sspi.encryptMessage(
    from.context,
    0,
    [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) },
      { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from(plaintext) },
    ],
    0,
  );
  assert.equal(statusName(result.status), 'SEC_E_OK');
  assert.equal(result.message[0]!.pvBuffer.length, 16, 'the trailer is one 16-byte NTLMSSP_MESSAGE_SIGNATURE');
  assert.notEqual(text(result.message[1]!.pvBuffer), plaintext, 'the data is sealed in place');
  return result.message;
}

async function unseal(to: Peer, buffers: SecBuffer[]): Promise<{ status: string; plaintext: string }> {
  const result = await to.proc.sspi.decryptMessage(to.context, buffers, 0);
  return { status: statusName(result.status), plaintext: text(result.message.find((b) => b.BufferType === SECBUFFER.DATA)!.pvBuffer) };
}

async function sign(from: Peer, data: string): Promise<{ data: Uint8Array; signature: Uint8Array }> {
  const bytes = Buffer.from(data);
  const result = await from.proc.sspi.makeSignature(
    from.context,
    0,
    [
      { BufferType: SECBUFFER.DATA, pvBuffer: bytes },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) },
    ],
    0,
  );
  assert.equal(statusName(result.status), 'SEC_E_OK');
  return { data: bytes, signature: result.message[1]!.pvBuffer };
}

async function verify(to: Peer, signed: { data: Uint8Array; signature: Uint8Array }): Promise<string> {
  const result = await to.proc.sspi.verifySignature(
    to.context,
    [
      { BufferType: SECBUFFER.DATA, pvBuffer: signed.data },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: signed.signature },
    ],
    0,
  );
  return statusName(result.status);
}

async function lpcCount(...procs: AppProcess[]): Promise<number> {
  let total = 0;
  for (const p of procs) {
    const { lpc } = await p.stats();
    total += lpc.sent + lpc.received;
  }
  return total;
}

describe('NTLM messages between the client and server processes', () => {
  let machine: Machine, clientProc: AppProcess, serverProc: AppProcess;
  before(async () => ({ machine, client: clientProc, server: serverProc } = await bootTwoProcesses(['ntlm'])));
  after(() => machine.shutdown());

  /** A fresh pair of mapped contexts. */
  async function pair(): Promise<{ client: Peer; server: Peer }> {
    const driven = await drive(clientProc, serverProc);
    assert.equal(driven.server, 'SEC_E_OK');
    return { client: { proc: clientProc, context: driven.clientContext! }, server: { proc: serverProc, context: driven.serverContext! } };
  }

  test('200 signed and sealed messages, interleaved both ways, all verify and send no LPC message', async () => {
    const { client, server } = await pair();
    const before = await lpcCount(clientProc, serverProc);
    for (let i = 0; i < 50; i++) {
      const body = `#${i} ` + 'x'.repeat((i * 37) % 300);
      const toServer = await seal(client, `c2s ${body}`);
      const fromServer = await seal(server, `s2c ${body}`);
      const signedByClient = await sign(client, `signed c2s ${body}`);
      const signedByServer = await sign(server, `signed s2c ${body}`);
      // Seals and signatures share one sequence per direction: each side takes the other's in the
      // order they were made, while the two directions interleave freely.
      assert.deepEqual(await unseal(client, fromServer), { status: 'SEC_E_OK', plaintext: `s2c ${body}` });
      assert.deepEqual(await unseal(server, toServer), { status: 'SEC_E_OK', plaintext: `c2s ${body}` });
      assert.equal(await verify(client, signedByServer), 'SEC_E_OK');
      assert.equal(await verify(server, signedByClient), 'SEC_E_OK');
    }
    assert.equal(await lpcCount(clientProc, serverProc), before, 'signing and sealing ran in the processes, not in the LSA');
  });

  test('the same plaintext sealed twice gives different ciphertexts: the RC4 stream runs on', async () => {
    const { client } = await pair();
    const first = await seal(client, 'same message');
    const second = await seal(client, 'same message');
    assert.notDeepEqual(first[1]!.pvBuffer, second[1]!.pvBuffer);
    assert.notDeepEqual(first[0]!.pvBuffer, second[0]!.pvBuffer);
  });

  test('a sealed message with one bit flipped is SEC_E_MESSAGE_ALTERED and its data stays sealed', async () => {
    const { client, server } = await pair();
    const sealed = await seal(client, 'transfer 100 to bob');
    const data = Uint8Array.from(sealed[1]!.pvBuffer);
    data[3]! ^= 0x01;
    const result = await server.proc.sspi.decryptMessage(server.context, [sealed[0]!, { BufferType: SECBUFFER.DATA, pvBuffer: data }], 0);
    assert.equal(statusName(result.status), 'SEC_E_MESSAGE_ALTERED');
    assert.deepEqual(result.message[1]!.pvBuffer, data);
  });

  test('a sealed message with its signature altered is SEC_E_MESSAGE_ALTERED', async () => {
    const { client, server } = await pair();
    const sealed = await seal(client, 'hello');
    const signature = Uint8Array.from(sealed[0]!.pvBuffer);
    signature[5]! ^= 0x80;
    assert.equal((await unseal(server, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: signature }, sealed[1]!])).status, 'SEC_E_MESSAGE_ALTERED');
  });

  test('a sealed message delivered twice is SEC_E_OUT_OF_SEQUENCE the second time', async () => {
    const { client, server } = await pair();
    const sealed = await seal(client, 'once only');
    assert.equal((await unseal(server, sealed)).status, 'SEC_E_OK');
    assert.equal((await unseal(server, sealed)).status, 'SEC_E_OUT_OF_SEQUENCE');
  });

  test('sealed messages delivered out of order are SEC_E_OUT_OF_SEQUENCE', async () => {
    const { client, server } = await pair();
    await seal(client, 'first');
    const second = await seal(client, 'second');
    assert.equal((await unseal(server, second)).status, 'SEC_E_OUT_OF_SEQUENCE');
  });

  test('a signed message with its data altered is SEC_E_MESSAGE_ALTERED', async () => {
    const { client, server } = await pair();
    const signed = await sign(client, 'pay 10');
    assert.equal(await verify(server, { data: Buffer.from('pay 99'), signature: signed.signature }), 'SEC_E_MESSAGE_ALTERED');
  });

  test('a signed message verified twice is SEC_E_OUT_OF_SEQUENCE the second time', async () => {
    const { client, server } = await pair();
    const signed = await sign(client, 'hello');
    assert.equal(await verify(server, signed), 'SEC_E_OK');
    assert.equal(await verify(server, signed), 'SEC_E_OUT_OF_SEQUENCE');
  });

  test('a signature the server made does not verify as one from the client (each direction has its own keys)', async () => {
    const { server } = await pair();
    const signed = await sign(server, 'reflected');
    assert.notEqual(await verify(server, signed), 'SEC_E_OK');
  });

  test('several DATA buffers are sealed as one stream, and a read-only one is left as it is', async () => {
    const { client, server } = await pair();
    const header = Uint8Array.from(Buffer.from('header'));
    const result = await client.proc.sspi.encryptMessage(
      client.context,
      0,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) },
        { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from('part one, ') },
        { BufferType: SECBUFFER.DATA | SECBUFFER_READONLY, pvBuffer: header },
        { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from('part two') },
      ],
      0,
    );
    assert.equal(statusName(result.status), 'SEC_E_OK');
    assert.deepEqual(result.message[2]!.pvBuffer, header);
    const opened = await server.proc.sspi.decryptMessage(server.context, result.message, 0);
    assert.equal(statusName(opened.status), 'SEC_E_OK');
    assert.equal(text(opened.message[1]!.pvBuffer) + text(opened.message[3]!.pvBuffer), 'part one, part two');
  });

  test('a signature buffer shorter than 16 bytes is SEC_E_BUFFER_TOO_SMALL, a missing one SEC_E_INVALID_TOKEN', async () => {
    const { client } = await pair();
    const short = await client.proc.sspi.makeSignature(
      client.context,
      0,
      [
        { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from('x') },
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(8) },
      ],
      0,
    );
    assert.equal(statusName(short.status), 'SEC_E_BUFFER_TOO_SMALL');
    const none = await client.proc.sspi.encryptMessage(client.context, 0, [{ BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from('x') }], 0);
    assert.equal(statusName(none.status), 'SEC_E_INVALID_TOKEN');
    const qop = await client.proc.sspi.encryptMessage(
      client.context,
      0x80000001,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) },
        { BufferType: SECBUFFER.DATA, pvBuffer: Buffer.from('x') },
      ],
      0,
    );
    assert.equal(statusName(qop.status), 'SEC_E_QOP_NOT_SUPPORTED');
  });
});
