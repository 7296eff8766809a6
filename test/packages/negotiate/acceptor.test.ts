// Negotiate's acceptor (packages/negotiate/acceptor.ts) in one thread with NTLM beside it: the
// server that speaks first (NegTokenInit2), the client that skips SPNEGO (raw NTLMSSP), a client
// whose first choice this server lacks (request-mic), and the initiator's mechListMIC wrong,
// missing, or an old peer's copy of the response token.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ASC_REQ, SECBUFFER, SECPKG_ATTR, SECPKG_NEGOTIATION } from '../../../headers/sspi.js';
import { statusName } from '../../../headers/status.js';
import {
  MECH_OID,
  NEG_STATE,
  packMechTypeList,
  packNegTokenInit,
  packNegTokenResp,
  unpackNegotiationToken,
  WINDOWS_HINT_NAME,
  type NegTokenResp,
} from '../../../packages/negotiate/spnego.js';
import { handshake, negotiateHarness, SERVER_REQ } from './harness.js';

const resp = (token: Uint8Array): NegTokenResp => {
  const { token: parsed } = unpackNegotiationToken(token);
  assert.equal(parsed.kind, 'NegTokenResp');
  return parsed as NegTokenResp;
};

describe("Negotiate's acceptor", () => {
  it("speaks first when AcceptSecurityContext has no input token: a NegTokenInit2 with its mechanisms and the hint name, then takes the client's NegTokenInit", async () => {
    const h = await negotiateHarness();
    const creds = await h.credentials();
    const hint = await h.accept(creds.server, null);
    assert.equal(statusName(hint.result.status), 'SEC_I_CONTINUE_NEEDED');
    const { token, framed } = unpackNegotiationToken(hint.token!);
    assert.ok(framed && token.kind === 'NegTokenInit');
    assert.deepEqual(token.mechTypes, [MECH_OID.NTLMSSP]);
    assert.deepEqual(token.negHints, { hintName: WINDOWS_HINT_NAME });
    assert.equal(token.mechToken, undefined);
    const serverCtx = hint.result.NewContextHandle!;
    assert.equal(h.nested.count().contexts, 0, 'no mechanism started yet');

    const c1 = await h.init(creds.client, null, hint.token);
    const s1 = await h.accept(null, serverCtx, c1.token);
    assert.equal(statusName(s1.result.status), 'SEC_I_CONTINUE_NEEDED');
    const c2 = await h.init(null, c1.result.NewContextHandle!, s1.token);
    const s2 = await h.accept(null, serverCtx, c2.token);
    assert.equal(statusName(s2.result.status), 'SEC_E_OK');
    const c3 = await h.init(null, c1.result.NewContextHandle!, s2.token);
    assert.equal(statusName(c3.result.status), 'SEC_E_OK');
  });

  it('answers a client that skips SPNEGO (a raw NTLMSSP NEGOTIATE) as NTLM would, in raw NTLM tokens', async () => {
    const h = await negotiateHarness();
    const negotiate = await h.credentials();
    const ntlm = await h.credentials(h.ntlm!);
    const n1 = await h.init(ntlm.client, null, undefined, h.ntlm!);
    const s1 = await h.accept(negotiate.server, null, n1.token);
    assert.equal(statusName(s1.result.status), 'SEC_I_CONTINUE_NEEDED');
    assert.equal(Buffer.from(s1.token!.subarray(0, 12)).toString('hex'), '4e544c4d5353500002000000', 'a raw CHALLENGE_MESSAGE');
    const n2 = await h.init(null, n1.result.NewContextHandle!, s1.token, h.ntlm!);
    assert.equal(statusName(n2.result.status), 'SEC_E_OK');
    const s2 = await h.accept(null, s1.result.NewContextHandle!, n2.token);
    assert.equal(statusName(s2.result.status), 'SEC_E_OK');
    assert.equal(s2.token, undefined);
    assert.equal(s2.result.MappedPackage?.PackageId, h.ntlm!.id);
    // No mechListMIC: the server's NTLM half starts at sequence 0, as the plain NTLM client's does.
    const server = await h.map(s2.result, s1.result.NewContextHandle!);
    const client = await h.map(n2.result, n1.result.NewContextHandle!, h.ntlm!);
    const data = new TextEncoder().encode('raw');
    const signature = { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) };
    await h.host.call(client.context!, 'SpMakeSignature', (t, handle) =>
      t.MakeSignature(handle, 0, [{ BufferType: SECBUFFER.DATA, pvBuffer: data }, signature], 0),
    );
    assert.equal(Buffer.from(signature.pvBuffer.subarray(12)).toString('hex'), '00000000');
    const verified = await h.host.call(server.context!, 'SpVerifySignature', (t, handle) =>
      t.VerifySignature(handle, [{ BufferType: SECBUFFER.DATA, pvBuffer: data }, signature], 0),
    );
    assert.ok(verified.ok && statusName(verified.value.status) === 'SEC_E_OK');
  });

  it("chooses the first of the client's mechanisms it has; not the client's first, it asks for the MIC and the exchange requires one", async () => {
    const h = await negotiateHarness();
    const negotiate = await h.credentials();
    const ntlm = await h.credentials(h.ntlm!);
    const mechTypes = [MECH_OID.KRB5, MECH_OID.NTLMSSP];
    const mechList = packMechTypeList(mechTypes);
    const s1 = await h.accept(negotiate.server, null, packNegTokenInit({ mechTypes, mechToken: Uint8Array.of(0x60, 0x00) }));
    assert.equal(statusName(s1.result.status), 'SEC_I_CONTINUE_NEEDED');
    assert.deepEqual(resp(s1.token!), { kind: 'NegTokenResp', negState: NEG_STATE.REQUEST_MIC, supportedMech: MECH_OID.NTLMSSP });
    const server = s1.result.NewContextHandle!;
    const mechListBuffer = { BufferType: SECBUFFER.MECHLIST, pvBuffer: mechList };

    // The client plays NTLM under SPNEGO itself, with the MechTypeList it sent.
    const n1 = await h.init(ntlm.client, null, undefined, h.ntlm!, [mechListBuffer]);
    const s2 = await h.accept(null, server, packNegTokenResp({ responseToken: n1.token! }));
    const challenge = resp(s2.token!);
    assert.equal(challenge.negState, NEG_STATE.ACCEPT_INCOMPLETE);
    assert.equal(challenge.supportedMech, undefined, 'only the first reply names the mechanism');
    const n2 = await h.init(null, n1.result.NewContextHandle!, challenge.responseToken, h.ntlm!, [mechListBuffer]);
    const mic = n2.output.find((b) => b.BufferType === SECBUFFER.MECHLIST_SIGNATURE)!.pvBuffer;
    assert.equal(mic.length, 16);
    const s3 = await h.accept(null, server, packNegTokenResp({ responseToken: n2.token!, mechListMIC: mic }));
    assert.equal(statusName(s3.result.status), 'SEC_E_OK');
    const final = resp(s3.token!);
    assert.equal(final.negState, NEG_STATE.ACCEPT_COMPLETED);
    const n3 = await h.init(null, n1.result.NewContextHandle!, undefined, h.ntlm!, [
      mechListBuffer,
      { BufferType: SECBUFFER.MECHLIST_SIGNATURE, pvBuffer: final.mechListMIC! },
    ]);
    assert.equal(statusName(n3.result.status), 'SEC_E_OK');
  });

  it('refuses a client whose list has none of its mechanisms; with ASC_REQ_EXTENDED_ERROR it says reject', async () => {
    const h = await negotiateHarness();
    const creds = await h.credentials();
    const krb5 = packNegTokenInit({ mechTypes: [MECH_OID.KRB5] });
    const plain = await h.accept(creds.server, null, krb5);
    assert.equal(statusName(plain.result.status), 'SEC_E_INVALID_TOKEN');
    assert.equal(plain.token, undefined);
    const extended = await h.accept(creds.server, null, krb5, SERVER_REQ | ASC_REQ.EXTENDED_ERROR);
    assert.equal(statusName(extended.result.status), 'SEC_E_INVALID_TOKEN');
    assert.deepEqual(resp(extended.token!), { kind: 'NegTokenResp', negState: NEG_STATE.REJECT });
    assert.equal(h.nested.count().contexts, 0);
  });

  it('refuses a NegTokenInit that lists thousands of made-up mechanisms before NTLM, and keeps no context for it', async () => {
    // Within cbMaxToken, but each context kept the list until its mechListMIC: 400 KiB a context.
    const h = await negotiateHarness();
    const creds = await h.credentials();
    const mechTypes = [...Array.from({ length: 12_000 }, (_, i) => `1.2.${1000 + i}`), MECH_OID.NTLMSSP];
    const token = packNegTokenInit({ mechTypes });
    assert.ok(token.byteLength < 65_791);
    const refused = await h.accept(creds.server, null, token);
    assert.equal(statusName(refused.result.status), 'SEC_E_INVALID_TOKEN');
    assert.equal(h.nested.count().contexts, 0);
  });

  it('refuses a NegTokenResp first, an empty mechanism list, bytes that are no token, and a token past cbMaxToken (65791)', async () => {
    const h = await negotiateHarness();
    const creds = await h.credentials();
    const huge = packNegTokenInit({ mechTypes: [MECH_OID.NTLMSSP], mechToken: new Uint8Array(65800) });
    for (const token of [packNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE }), packNegTokenInit({ mechTypes: [] }), Uint8Array.of(1, 2, 3), huge])
      assert.equal(statusName((await h.accept(creds.server, null, token)).result.status), 'SEC_E_INVALID_TOKEN');
  });

  const spoilAuthenticate: Array<[string, (r: NegTokenResp) => Uint8Array, string]> = [
    [
      "the initiator's mechListMIC missing (its AUTHENTICATE carries a MIC)",
      (r) => packNegTokenResp({ responseToken: r.responseToken! }),
      'SEC_E_INVALID_TOKEN',
    ],
    [
      "the initiator's mechListMIC one bit off",
      (r) => {
        const mic = Uint8Array.from(r.mechListMIC!);
        mic[5]! ^= 1;
        return packNegTokenResp({ responseToken: r.responseToken!, mechListMIC: mic });
      },
      'SEC_E_MESSAGE_ALTERED',
    ],
    // MS-SPNG: old peers put the response token in mechListMIC too; it is no MIC (so the MIC is missing here).
    [
      "an old peer's mechListMIC that repeats the response token",
      (r) => packNegTokenResp({ responseToken: r.responseToken!, mechListMIC: r.responseToken! }),
      'SEC_E_INVALID_TOKEN',
    ],
    ['a reject from the initiator', () => packNegTokenResp({ negState: NEG_STATE.REJECT }), 'SEC_E_LOGON_DENIED'],
    ['a NegTokenResp with nothing in it', () => packNegTokenResp({}), 'SEC_E_INVALID_TOKEN'],
  ];
  for (const [what, spoil, expected] of spoilAuthenticate) {
    it(`answers ${expected} for ${what}, creating no logon session`, async () => {
      const h = await negotiateHarness();
      const run = await handshake(h, (t, leg) => (leg === 3 ? spoil(resp(t)) : t));
      assert.equal(statusName(run.server.status), expected);
      const state = await h.call(() => h.negotiate.table.QueryContextAttributes(run.serverCtx!, SECPKG_ATTR.NEGOTIATION_INFO));
      assert.equal(statusName(state.status), 'SEC_E_OK');
      assert.equal((state.Buffer as { NegotiationState: number }).NegotiationState, SECPKG_NEGOTIATION.IN_PROGRESS);
      for (const ctx of [run.clientCtx, run.serverCtx]) assert.equal(await h.call(() => h.negotiate.table.DeleteContext(ctx!)), 0);
      assert.equal(h.nested.count().contexts, 0);
    });
  }
});
