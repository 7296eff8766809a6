// Negotiate's LSA-mode half (packages/negotiate/lsa.ts) in one thread with NTLM beside it:
// credentials of its mechanisms, contexts that own their mechanism's, what it answers before its
// mechanism's half is mapped, the mapped half signing and sealing exactly as NTLM's own, and the
// applications' channel bindings reaching NTLM.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASC_REQ, SECBUFFER, SECPKG_ATTR, SECPKG_CRED_ATTR, SECPKG_NEGOTIATION, type SecBuffer } from '../../../headers/sspi.js';
import { statusName } from '../../../headers/status.js';
import { PACKAGE_INFO } from '../../../packages/negotiate/info.js';
import { unpackContextData } from '../../../packages/ntlm/context-data.js';
import { NtlmSecurityContext } from '../../../packages/ntlm/security.js';
import { bindings } from '../ntlm/drive.js';
import { handshake, negotiateHarness, SERVER_REQ, type HandshakeOptions } from './harness.js';

describe("Negotiate's LSA-mode half", () => {
  it("acquires a credential of NTLM through the LSA, answers with NTLM's names, and frees it with its own", async () => {
    const h = await negotiateHarness();
    const creds = await h.credentials();
    assert.deepEqual(h.nested.count(), { credentials: 2, contexts: 0 });
    const names = await h.call(() => h.negotiate.table.QueryCredentialsAttributes(creds.client, SECPKG_CRED_ATTR.NAMES));
    assert.deepEqual(names, { status: 0, Buffer: { sUserName: 'SSPI-EMU\\alice' } });
    assert.equal(await h.call(() => h.negotiate.table.FreeCredentialsHandle(creds.client)), 0);
    assert.equal(statusName(await h.call(() => h.negotiate.table.FreeCredentialsHandle(creds.client))), 'SEC_E_INVALID_HANDLE');
    assert.deepEqual(h.nested.count(), { credentials: 1, contexts: 0 });
  });

  it('answers SEC_E_SECPKG_NOT_FOUND for a credential when no mechanism is loaded', async () => {
    const h = await negotiateHarness({ withNtlm: false });
    const result = await h.call(() => h.negotiate.table.AcquireCredentialsHandle(null, 2, null, null, null, null));
    assert.equal(statusName(result.status), 'SEC_E_SECPKG_NOT_FOUND');
  });

  it("keeps a credential's mechanisms while a context made with it lives, and frees everything with the context", async () => {
    const h = await negotiateHarness();
    const creds = await h.credentials();
    const first = await h.init(creds.client, null);
    await h.call(() => h.negotiate.table.FreeCredentialsHandle(creds.client));
    assert.deepEqual(h.nested.count(), { credentials: 2, contexts: 1 }, "the context holds the client's NTLM credential");
    const state = await h.call(() => h.negotiate.table.QueryContextAttributes(first.result.NewContextHandle!, SECPKG_ATTR.SIZES));
    assert.equal((state.Buffer as { cbMaxToken: number }).cbMaxToken, 2888, "NTLM's sizes once NTLM is chosen");
    assert.equal(await h.call(() => h.negotiate.table.DeleteContext(first.result.NewContextHandle!)), 0);
    assert.deepEqual(h.nested.count(), { credentials: 1, contexts: 0 });
  });

  it("answers Negotiate's own package info while no mechanism is chosen", async () => {
    const h = await negotiateHarness();
    const creds = await h.credentials();
    const hint = await h.accept(creds.server, null);
    const info = await h.call(() => h.negotiate.table.QueryContextAttributes(hint.result.NewContextHandle!, SECPKG_ATTR.NEGOTIATION_INFO));
    assert.deepEqual(info.Buffer, { PackageInfo: { ...PACKAGE_INFO }, NegotiationState: SECPKG_NEGOTIATION.IN_PROGRESS });
    const sizes = await h.call(() => h.negotiate.table.QueryContextAttributes(hint.result.NewContextHandle!, SECPKG_ATTR.SIZES));
    assert.equal((sizes.Buffer as { cbMaxToken: number }).cbMaxToken, 65791);
  });

  it("completes with MappedContext naming NTLM's context, whose ContextData records the two mechListMICs", async () => {
    const h = await negotiateHarness();
    const run = await handshake(h);
    for (const result of [run.client, run.server]) {
      assert.equal(result.MappedContext, true);
      assert.equal(result.MappedPackage?.PackageId, h.ntlm!.id);
      assert.ok(h.nested.owns(h.negotiate.id, h.ntlm!.id, 'context', result.MappedPackage!.ContextHandle));
      assert.deepEqual(unpackContextData(result.ContextData!).mechListMics, { sent: true, received: true });
    }
  });

  it("signs and seals exactly as NTLM's own context with the same key would after the mechListMIC (sequence 1, fresh RC4)", async () => {
    const h = await negotiateHarness();
    const run = await handshake(h);
    const client = await h.map(run.client, run.clientCtx!);
    const server = await h.map(run.server, run.serverCtx!);
    assert.equal(client.context?.packageName, 'NTLM', "the user-mode half is NTLM's");
    const data = unpackContextData(run.client.ContextData!);
    const reference = NtlmSecurityContext.fromSessionKey({
      flags: data.flags,
      exportedSessionKey: data.exportedSessionKey,
      side: 'client',
      sequence: { outgoing: 1, incoming: 1 },
    });
    for (const text of ['first', 'second']) {
      const message = new TextEncoder().encode(text);
      const token: SecBuffer = { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) };
      const signed = await h.host.call(client.context!, 'SpMakeSignature', (t, handle) =>
        t.MakeSignature(handle, 0, [{ BufferType: SECBUFFER.DATA, pvBuffer: message }, token], 0),
      );
      assert.ok(signed.ok && signed.value === 0);
      assert.deepEqual(token.pvBuffer, reference.sign(message));
      const verified = await h.host.call(server.context!, 'SpVerifySignature', (t, handle) =>
        t.VerifySignature(handle, [{ BufferType: SECBUFFER.DATA, pvBuffer: message }, token], 0),
      );
      assert.ok(verified.ok && statusName(verified.value.status) === 'SEC_E_OK');
    }
    const sealed = new TextEncoder().encode('sealed');
    const trailer: SecBuffer = { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) };
    const data2: SecBuffer = { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(sealed) };
    await h.host.call(server.context!, 'SpSealMessage', (t, handle) => t.SealMessage(handle, 0, [trailer, data2], 0));
    const opened = await h.host.call(client.context!, 'SpUnsealMessage', (t, handle) => t.UnsealMessage(handle, [trailer, data2], 0));
    assert.ok(opened.ok && statusName(opened.value.status) === 'SEC_E_OK');
    assert.deepEqual(data2.pvBuffer, sealed);
    const info = await h.host.call(client.context!, 'SpQueryContextAttributes', (t, handle) => t.QueryContextAttributes(handle, SECPKG_ATTR.NEGOTIATION_INFO));
    assert.ok(info.ok);
    assert.deepEqual(info.value.Buffer, { PackageInfo: h.ntlm!.info, NegotiationState: SECPKG_NEGOTIATION.COMPLETE });
  });

  it("deletes a completed context and its mechanism's, and a second delete is SEC_E_INVALID_HANDLE", async () => {
    const h = await negotiateHarness();
    const run = await handshake(h);
    for (const ctx of [run.clientCtx!, run.serverCtx!]) {
      assert.equal(await h.call(() => h.negotiate.table.DeleteContext(ctx)), 0);
      assert.equal(statusName(await h.call(() => h.negotiate.table.DeleteContext(ctx))), 'SEC_E_INVALID_HANDLE');
    }
    assert.equal(h.nested.count().contexts, 0);
  });

  it("passes the applications' channel bindings and each call's ASC_REQ_ALLOW_MISSING_BINDINGS to NTLM, which checks them", async () => {
    const cb = (data: string): SecBuffer[] => [{ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: bindings(`tls-server-end-point:${data}`) }];
    const outcome = async (options: HandshakeOptions) => {
      const run = await handshake(await negotiateHarness(), undefined, options);
      return [statusName(run.client.status), statusName(run.server.status)];
    };
    assert.deepEqual(await outcome({ clientExtra: cb('0123'), serverExtra: cb('0123') }), ['SEC_E_OK', 'SEC_E_OK']);
    // A relay: the client's bindings name another channel.
    assert.deepEqual(await outcome({ clientExtra: cb('4567'), serverExtra: cb('0123') }), ['SEC_I_CONTINUE_NEEDED', 'SEC_E_BAD_BINDINGS']);
    // Extended Protection "Required": a client without bindings is refused; "Allowed" lets it in.
    assert.deepEqual(await outcome({ serverExtra: cb('0123') }), ['SEC_I_CONTINUE_NEEDED', 'SEC_E_BAD_BINDINGS']);
    assert.deepEqual(await outcome({ serverExtra: cb('0123'), serverReq: SERVER_REQ | ASC_REQ.ALLOW_MISSING_BINDINGS }), ['SEC_E_OK', 'SEC_E_OK']);
  });
});
