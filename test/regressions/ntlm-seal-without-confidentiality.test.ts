// Found by `sspi-emu fuzz` (ntlm/encrypt-message, ntlm/decrypt-message): on an NTLM context that
// negotiated integrity but not confidentiality, EncryptMessage and DecryptMessage answered
// SEC_E_UNSUPPORTED_FUNCTION, which neither function documents. EncryptMessage (NTLM) documents
// SEC_E_QOP_NOT_SUPPORTED for a context that does not support confidentiality (and the example
// package already answered it), so NTLM now answers that too; signing still works.
//
// Then MIT gss-client (issue 13): gss-ntlmssp negotiates SIGN without SEAL when the application
// asks for no confidentiality, and its gss_wrap seals all the same, with the sealing key SIGN gave
// the session; gss-ntlmssp's gss_unwrap opens such messages. DecryptMessage now does too (what an
// interoperable acceptor accepts), while EncryptMessage keeps SEC_E_QOP_NOT_SUPPORTED without SEAL
// (this side sends only what was negotiated). A context without SIGN or SEAL has no sealing key:
// DecryptMessage answers SEC_E_QOP_NOT_SUPPORTED there.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ASC_REQ, ISC_REQ, SECBUFFER, SECPKG_ATTR, tokenBytes, type SecBuffer } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { NTLMSSP_NEGOTIATE, NtlmSecurityContext, unpackAuthenticate } from '../../packages/ntlm/wire.js';
import { bootTwoProcesses, establish, type Established } from '../helpers/machine.js';

/** The NegotiateFlags of the AUTHENTICATE the client sent: the last token InitializeSecurityContext produced. */
function authenticateFlags(pair: Established): number {
  const tokens = pair.results.flatMap((r) => {
    const output = (r as { output?: SecBuffer[] }).output;
    const token = output === undefined ? undefined : tokenBytes(output);
    return token === undefined || token.byteLength === 0 ? [] : [token];
  });
  return unpackAuthenticate(tokens.find((t) => t[8] === 3)!).flags;
}

const message = () => [
  { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) },
  { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from([1, 2, 3, 4]) },
];

describe('an NTLM context with integrity but without confidentiality', () => {
  let machine: Machine, client: AppProcess, server: AppProcess;
  // Two contexts: one whose client process signs, one whose client side is played by the test
  // (each direction's sequence number and RC4 state run on, so the two must not share one).
  let pair: Established, wrapped: Established;
  before(async () => {
    ({ machine, client, server } = await bootTwoProcesses(['ntlm']));
    const options = {
      package: 'NTLM',
      authData: { User: 'alice', Domain: '', Password: 'Passw0rd!' },
      clientReq: ISC_REQ.INTEGRITY | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.REPLAY_DETECT,
      serverReq: ASC_REQ.INTEGRITY | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.REPLAY_DETECT,
    };
    pair = await establish(client, server, options);
    wrapped = await establish(client, server, options);
  });
  after(() => machine.shutdown());

  test('is established with SIGN and without SEAL', () => {
    assert.ok(pair.ok, JSON.stringify(pair.steps));
    const flags = authenticateFlags(pair);
    assert.notEqual(flags & NTLMSSP_NEGOTIATE.SIGN, 0);
    assert.equal(flags & NTLMSSP_NEGOTIATE.SEAL, 0);
  });

  test('answers EncryptMessage with SEC_E_QOP_NOT_SUPPORTED', async () => {
    const sealed = await client.sspi.encryptMessage(pair.clientContext!, 0, message(), 0);
    assert.equal(statusName(sealed.status), 'SEC_E_QOP_NOT_SUPPORTED');
  });

  test('unseals in DecryptMessage what the peer sealed with the session sealing key, as gss-ntlmssp wraps, and refuses it altered', async () => {
    // The client side as gss-ntlmssp keeps it: keys from the exported session key and the negotiated
    // flags. SEAL is added only so that this class agrees to seal: SEALKEY does not depend on it
    // (MS-NLMP 3.4.5.3), so the keystream is the one gss-ntlmssp's gss_wrap uses without it.
    const key = await client.sspi.queryContextAttributes(wrapped.clientContext!, SECPKG_ATTR.SESSION_KEY);
    const peer = NtlmSecurityContext.fromSessionKey({
      flags: authenticateFlags(wrapped) | NTLMSSP_NEGOTIATE.SEAL,
      exportedSessionKey: key.buffer!.SessionKey,
      side: 'client',
    });
    const plaintext = new TextEncoder().encode('wrapped by a peer that did not negotiate SEAL');
    const first = peer.seal(plaintext);
    const opened = await server.sspi.decryptMessage(
      wrapped.serverContext!,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: first.signature },
        { BufferType: SECBUFFER.DATA, pvBuffer: first.sealed },
      ],
      0,
    );
    assert.equal(statusName(opened.status), 'SEC_E_OK');
    assert.deepEqual(opened.message[1]!.pvBuffer, plaintext);

    const second = peer.seal(plaintext);
    second.sealed[0]! ^= 1;
    const altered = await server.sspi.decryptMessage(
      wrapped.serverContext!,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: second.signature },
        { BufferType: SECBUFFER.DATA, pvBuffer: second.sealed },
      ],
      0,
    );
    assert.equal(statusName(altered.status), 'SEC_E_MESSAGE_ALTERED');
  });

  test('still signs and verifies', async () => {
    const signed = await client.sspi.makeSignature(pair.clientContext!, 0, message(), 0);
    assert.equal(statusName(signed.status), 'SEC_E_OK');
    const verified = await server.sspi.verifySignature(pair.serverContext!, signed.message, 0);
    assert.equal(statusName(verified.status), 'SEC_E_OK');
  });
});

describe('an NTLM context with neither integrity nor confidentiality', () => {
  let machine: Machine, client: AppProcess, server: AppProcess;
  let pair: Established;
  before(async () => {
    ({ machine, client, server } = await bootTwoProcesses(['ntlm']));
    pair = await establish(client, server, {
      package: 'NTLM',
      authData: { User: 'alice', Domain: '', Password: 'Passw0rd!' },
      clientReq: ISC_REQ.CONNECTION,
      serverReq: ASC_REQ.CONNECTION,
    });
  });
  after(() => machine.shutdown());

  test('has no sealing key: DecryptMessage answers SEC_E_QOP_NOT_SUPPORTED', async () => {
    assert.ok(pair.ok, JSON.stringify(pair.steps));
    const flags = authenticateFlags(pair);
    assert.equal(flags & (NTLMSSP_NEGOTIATE.SIGN | NTLMSSP_NEGOTIATE.SEAL), 0);
    const opened = await server.sspi.decryptMessage(pair.serverContext!, message(), 0);
    assert.equal(statusName(opened.status), 'SEC_E_QOP_NOT_SUPPORTED');
  });
});
