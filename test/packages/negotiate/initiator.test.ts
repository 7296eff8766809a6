// Negotiate's initiator (packages/negotiate/initiator.ts) in one thread with NTLM beside it (the
// harness): its NegTokenInit, the acceptor's hint, and each way an acceptor's reply can be wrong.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SECPKG_ATTR, SECPKG_NEGOTIATION } from '../../../headers/sspi.js';
import { statusName } from '../../../headers/status.js';
import { MECH_OID, NEG_STATE, packNegTokenInit, packNegTokenResp, unpackNegotiationToken, type NegTokenResp } from '../../../packages/negotiate/spnego.js';
import { handshake, negotiateHarness } from './harness.js';
import { hexBytes, MECH_TYPE_LIST_NTLM, WINDOWS_NEG_TOKEN_INIT2 } from './vectors.js';

const resp = (token: Uint8Array): NegTokenResp => {
  const { token: parsed } = unpackNegotiationToken(token);
  assert.equal(parsed.kind, 'NegTokenResp');
  return parsed as NegTokenResp;
};

describe("Negotiate's initiator", () => {
  it("opens with a NegTokenInit in the SPNEGO InitialContextToken: the mechanism list and NTLM's NEGOTIATE as the optimistic token", async () => {
    const h = await negotiateHarness();
    const creds = await h.credentials();
    const first = await h.init(creds.client, null);
    assert.equal(statusName(first.result.status), 'SEC_I_CONTINUE_NEEDED');
    const bytes = first.token!;
    assert.equal(Buffer.from(bytes.subarray(0, 10)).toString('hex'), '604806062b0601050502', "the same framing as Samba's 74-byte token");
    assert.equal(bytes.length, 74);
    const { token, framed } = unpackNegotiationToken(bytes);
    assert.ok(framed && token.kind === 'NegTokenInit');
    assert.deepEqual(token.mechTypes, [MECH_OID.NTLMSSP]);
    assert.equal(Buffer.from(token.mechTypeList!).toString('hex'), MECH_TYPE_LIST_NTLM);
    assert.equal(Buffer.from(token.mechToken!.subarray(0, 12)).toString('hex'), '4e544c4d5353500001000000');
    const state = await h.call(() => h.negotiate.table.QueryContextAttributes(first.result.NewContextHandle!, SECPKG_ATTR.NEGOTIATION_INFO));
    assert.deepEqual(state.Buffer, { PackageInfo: h.ntlm!.info, NegotiationState: SECPKG_NEGOTIATION.OPTIMISTIC });
    assert.deepEqual(h.nested.count(), { credentials: 2, contexts: 1 }, "NTLM's credentials and context are Negotiate's");
  });

  it("takes the acceptor's NegTokenInit2 as a hint (Windows' five mechanisms: NTLM is offered)", async () => {
    const h = await negotiateHarness();
    const creds = await h.credentials();
    const first = await h.init(creds.client, null, hexBytes(WINDOWS_NEG_TOKEN_INIT2));
    assert.equal(statusName(first.result.status), 'SEC_I_CONTINUE_NEEDED');
    const { token } = unpackNegotiationToken(first.token!);
    assert.ok(token.kind === 'NegTokenInit');
    assert.deepEqual(token.mechTypes, [MECH_OID.NTLMSSP]);
  });

  it('offers its own list when the hint names none of its mechanisms, and refuses a first token that is no NegTokenInit', async () => {
    const h = await negotiateHarness();
    const creds = await h.credentials();
    const kerberosOnly = packNegTokenInit({ mechTypes: [MECH_OID.KRB5], negHints: { hintName: 'x' } });
    assert.equal(statusName((await h.init(creds.client, null, kerberosOnly)).result.status), 'SEC_I_CONTINUE_NEEDED');
    const notInit = await h.init(creds.client, null, packNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE }));
    assert.equal(statusName(notInit.result.status), 'SEC_E_INVALID_TOKEN');
    assert.equal(notInit.result.NewContextHandle, undefined);
    assert.deepEqual(h.nested.count().contexts, 1, 'the failed first call left no context of NTLM behind');
  });

  it("completes against the acceptor, verifying its mechListMIC, and maps NTLM's context", async () => {
    const h = await negotiateHarness();
    const run = await handshake(h);
    assert.equal(statusName(run.client.status), 'SEC_E_OK');
    assert.equal(statusName(run.server.status), 'SEC_E_OK');
    assert.deepEqual(
      run.tokens.map((t) => t.length),
      [74, 241, run.tokens[2]!.length, 29],
    );
    assert.equal(run.client.MappedContext, true);
    assert.deepEqual(run.client.MappedPackage, { PackageId: h.ntlm!.id, ContextHandle: run.client.MappedPackage!.ContextHandle });
    // Token 3 carries no negState, as Windows and Samba send it, and both the AUTHENTICATE and the MIC.
    const third = resp(run.tokens[2]!);
    assert.equal(third.negState, undefined);
    assert.equal(third.mechListMIC!.length, 16);
    assert.equal(Buffer.from(third.responseToken!.subarray(8, 12)).toString('hex'), '03000000');
  });

  it("reads an empty responseToken beside the acceptor's last mechListMIC as no token", async () => {
    const h = await negotiateHarness();
    const run = await handshake(h, (t, leg) => (leg === 4 ? packNegTokenResp({ ...strip(resp(t)), responseToken: new Uint8Array(0) }) : t));
    assert.equal(statusName(run.client.status), 'SEC_E_OK');
  });

  const spoilReply: Array<[string, number, (token: Uint8Array) => Uint8Array, string]> = [
    ['a reject', 2, () => packNegTokenResp({ negState: NEG_STATE.REJECT }), 'SEC_E_LOGON_DENIED'],
    ['a supportedMech it did not offer', 2, (t) => packNegTokenResp({ ...strip(resp(t)), supportedMech: MECH_OID.KRB5 }), 'SEC_E_INVALID_TOKEN'],
    ['accept-completed before NTLM is done', 2, (t) => packNegTokenResp({ ...strip(resp(t)), negState: NEG_STATE.ACCEPT_COMPLETED }), 'SEC_E_INVALID_TOKEN'],
    ['a reply that is not SPNEGO', 2, (t) => t.subarray(1), 'SEC_E_INVALID_TOKEN'],
    ['a NegTokenInit for a reply', 2, () => packNegTokenInit({ mechTypes: [MECH_OID.NTLMSSP] }), 'SEC_E_INVALID_TOKEN'],
    [
      "the acceptor's mechListMIC missing (NTLM's AUTHENTICATE carried a MIC)",
      4,
      () => packNegTokenResp({ negState: NEG_STATE.ACCEPT_COMPLETED }),
      'SEC_E_INVALID_TOKEN',
    ],
    ["the acceptor's mechListMIC one bit off", 4, (t) => flip(t, t.length - 10), 'SEC_E_MESSAGE_ALTERED'],
    [
      "the acceptor's mechListMIC but accept-incomplete",
      4,
      (t) => packNegTokenResp({ ...strip(resp(t)), negState: NEG_STATE.ACCEPT_INCOMPLETE }),
      'SEC_E_INVALID_TOKEN',
    ],
  ];
  for (const [what, leg, spoil, expected] of spoilReply) {
    it(`answers ${expected} for ${what}, and leaves its context to be deleted with NTLM's`, async () => {
      const h = await negotiateHarness();
      const run = await handshake(h, (t, n) => (n === leg ? spoil(t) : t));
      assert.equal(statusName(run.client.status), expected);
      assert.equal(await h.call(() => h.negotiate.table.DeleteContext(run.clientCtx!)), 0);
      if (run.serverCtx !== null) await h.call(() => h.negotiate.table.DeleteContext(run.serverCtx!));
      assert.equal(h.nested.count().contexts, 0);
    });
  }
});

function strip(token: NegTokenResp): Omit<NegTokenResp, 'kind'> {
  const { kind: _kind, ...fields } = token;
  return fields;
}

function flip(token: Uint8Array, at: number): Uint8Array {
  const out = Uint8Array.from(token);
  out[at]! ^= 0x01;
  return out;
}
