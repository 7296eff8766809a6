// Trust boundaries, finding 5: NTLM kept a caller's SECBUFFER_CHANNEL_BINDINGS by reference, about
// 1 MiB pinned per context and invisible in lsa.stats(). Now a context keeps the bindings' 16-byte
// hash, the LSA hands every package a private copy of exactly each input's length (a small view
// into a large buffer no longer brings the large buffer along), and lsa.stats() shows what package
// state still holds of its callers' buffers.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { packSecChannelBindings } from '../../packages/ntlm/crypto.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { bootTwoProcesses, fixturePackage } from '../helpers/machine.js';
import { drive } from '../packages/ntlm/drive.js';

const CONTEXTS = 8;
const MiB = 1 << 20;

function bindingsWith(applicationData: Uint8Array): Uint8Array {
  return packSecChannelBindings({
    initiatorAddrType: 0,
    initiatorAddress: new Uint8Array(0),
    acceptorAddrType: 0,
    acceptorAddress: new Uint8Array(0),
    applicationData,
  });
}

describe('channel bindings and what contexts keep of them', () => {
  let machine: Machine, client: AppProcess, server: AppProcess;
  before(async () => ({ machine, client, server } = await bootTwoProcesses(['ntlm'])));
  after(() => machine.shutdown());

  it('keeps nothing of a large SEC_CHANNEL_BINDINGS once the handshake is done', async () => {
    const idle = await machine.lsa.stats({ gc: true });
    const large = bindingsWith(new Uint8Array(MiB - 64).fill(7));
    for (let i = 0; i < CONTEXTS; i++) {
      const done = await drive(client, server, { clientBindings: large, serverBindings: large });
      assert.deepEqual(done.statuses, ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK', 'SEC_E_OK']);
    }
    const held = await machine.lsa.stats({ gc: true });
    assert.equal(held.contexts, idle.contexts + 2 * CONTEXTS, 'the contexts are alive');
    assert.deepEqual(held.inputsHeld, { buffers: 0, bytes: 0 }, 'no package holds an input buffer');
    assert.ok(held.arrayBuffers - idle.arrayBuffers < CONTEXTS * 64 * 1024, `${held.arrayBuffers - idle.arrayBuffers} bytes of ArrayBuffers more`);
  });

  it('brings none of a large buffer along with a small view into it', async () => {
    const idle = await machine.lsa.stats({ gc: true });
    const small = bindingsWith(new TextEncoder().encode('tls-server-end-point:0123456789abcdef'));
    const backing = new Uint8Array(4 * MiB);
    backing.set(small, 1234);
    const view = backing.subarray(1234, 1234 + small.byteLength);
    for (let i = 0; i < CONTEXTS; i++) {
      const done = await drive(client, server, { clientBindings: view, serverBindings: view });
      assert.equal(done.server, 'SEC_E_OK');
    }
    const held = await machine.lsa.stats({ gc: true });
    assert.ok(held.arrayBuffers - idle.arrayBuffers < CONTEXTS * 64 * 1024, `${held.arrayBuffers - idle.arrayBuffers} bytes of ArrayBuffers more`);
  });

  it('shows in lsa.stats() an input buffer that a package keeps', async () => {
    // The probe fixture keeps its last ApplyControlToken input, as a package with this bug would.
    const probe = await Machine.boot({ packages: [fixturePackage('keeper')], trace: false });
    try {
      const p = await probe.spawn('client');
      const cred = await p.sspi.acquireCredentialsHandle({ package: 'Keeper', credentialUse: 2 });
      const ctx = await p.sspi.initializeSecurityContext({ credential: cred.credential!, contextReq: 0 });
      assert.ok(ctx.context !== undefined);
      await p.sspi.applyControlToken(ctx.context!, [{ BufferType: 2, pvBuffer: new Uint8Array(64 * 1024) }]);
      const stats = await probe.lsa.stats({ gc: true });
      assert.deepEqual(stats.inputsHeld, { buffers: 1, bytes: 64 * 1024 });
    } finally {
      await probe.shutdown();
    }
  });
});
