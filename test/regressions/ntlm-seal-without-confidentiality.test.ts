// Found by `sspi-emu fuzz` (ntlm/encrypt-message, ntlm/decrypt-message): on an NTLM context that
// negotiated integrity but not confidentiality, EncryptMessage and DecryptMessage answered
// SEC_E_UNSUPPORTED_FUNCTION, which neither function documents. EncryptMessage (NTLM) documents
// SEC_E_QOP_NOT_SUPPORTED for a context that does not support confidentiality (and the example
// package already answered it), so NTLM now answers that too; signing still works.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ASC_REQ, ISC_REQ, SECBUFFER } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { bootTwoProcesses, establish, type Established } from '../helpers/machine.js';

describe('an NTLM context without confidentiality', () => {
  let machine: Machine, client: AppProcess, server: AppProcess;
  let pair: Established;
  before(async () => {
    ({ machine, client, server } = await bootTwoProcesses(['ntlm']));
    pair = await establish(client, server, {
      package: 'NTLM',
      authData: { User: 'alice', Domain: '', Password: 'Passw0rd!' },
      clientReq: ISC_REQ.INTEGRITY | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.REPLAY_DETECT,
      serverReq: ASC_REQ.INTEGRITY | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.REPLAY_DETECT,
    });
  });
  after(() => machine.shutdown());

  const message = () => [
    { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(16) },
    { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from([1, 2, 3, 4]) },
  ];

  test('is established', () => {
    assert.ok(pair.ok, JSON.stringify(pair.steps));
  });

  test('answers EncryptMessage with SEC_E_QOP_NOT_SUPPORTED', async () => {
    const sealed = await client.sspi.encryptMessage(pair.clientContext!, 0, message(), 0);
    assert.equal(statusName(sealed.status), 'SEC_E_QOP_NOT_SUPPORTED');
  });

  test('answers DecryptMessage with SEC_E_QOP_NOT_SUPPORTED', async () => {
    const opened = await server.sspi.decryptMessage(pair.serverContext!, message(), 0);
    assert.equal(statusName(opened.status), 'SEC_E_QOP_NOT_SUPPORTED');
  });

  test('still signs and verifies', async () => {
    const signed = await client.sspi.makeSignature(pair.clientContext!, 0, message(), 0);
    assert.equal(statusName(signed.status), 'SEC_E_OK');
    const verified = await server.sspi.verifySignature(pair.serverContext!, signed.message, 0);
    assert.equal(statusName(verified.status), 'SEC_E_OK');
  });
});
