// The answers the fuzzer accepts from each SSPI function: the documented ones, plus a short list
// with reasons, and never SEC_E_INTERNAL_ERROR (a package that threw).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acceptedAnswers, isDocumentedAnswer, type FuzzedFunction } from '../../fuzz/statuses.js';
import { SEC_E_KDC_UNKNOWN_ETYPE, SEC_E_TIME_SKEW, SEC_E_WRONG_PRINCIPAL, statusByName, statusName } from '../../headers/status.js';

const FUNCTIONS: FuzzedFunction[] = [
  'InitializeSecurityContext',
  'AcceptSecurityContext',
  'MakeSignature',
  'VerifySignature',
  'EncryptMessage',
  'DecryptMessage',
];

function accepts(fn: FuzzedFunction, name: string): boolean {
  return isDocumentedAnswer(fn, statusByName(name)!);
}

describe('the answers the fuzzer accepts', () => {
  test('never include SEC_E_INTERNAL_ERROR, for any function', () => {
    for (const fn of FUNCTIONS) assert.equal(accepts(fn, 'SEC_E_INTERNAL_ERROR'), false, fn);
  });

  test('include SEC_E_OK and SEC_E_INVALID_HANDLE for every function', () => {
    for (const fn of FUNCTIONS) {
      assert.ok(accepts(fn, 'SEC_E_OK'), fn);
      assert.ok(accepts(fn, 'SEC_E_INVALID_HANDLE'), fn);
    }
  });

  test('take SEC_I_CONTINUE_NEEDED from the handshake functions only', () => {
    for (const fn of FUNCTIONS) assert.equal(accepts(fn, 'SEC_I_CONTINUE_NEEDED'), fn === 'InitializeSecurityContext' || fn === 'AcceptSecurityContext', fn);
  });

  test('take SEC_E_MESSAGE_ALTERED and SEC_E_OUT_OF_SEQUENCE from the receiving message functions, not from EncryptMessage', () => {
    for (const name of ['SEC_E_MESSAGE_ALTERED', 'SEC_E_OUT_OF_SEQUENCE']) {
      assert.ok(accepts('VerifySignature', name));
      assert.ok(accepts('DecryptMessage', name));
      assert.equal(accepts('EncryptMessage', name), false);
    }
  });

  test('refuse SEC_E_UNSUPPORTED_FUNCTION from EncryptMessage and DecryptMessage (SEC_E_QOP_NOT_SUPPORTED is the documented answer)', () => {
    assert.equal(accepts('EncryptMessage', 'SEC_E_UNSUPPORTED_FUNCTION'), false);
    assert.equal(accepts('DecryptMessage', 'SEC_E_UNSUPPORTED_FUNCTION'), false);
    assert.ok(accepts('EncryptMessage', 'SEC_E_QOP_NOT_SUPPORTED'));
  });

  test("take Kerberos' own mappings (SEC_E_WRONG_PRINCIPAL from AcceptSecurityContext, ...) from Kerberos and Negotiate only", () => {
    assert.ok(isDocumentedAnswer('AcceptSecurityContext', SEC_E_WRONG_PRINCIPAL, 'Kerberos'));
    assert.ok(isDocumentedAnswer('AcceptSecurityContext', SEC_E_WRONG_PRINCIPAL, 'Negotiate'));
    assert.equal(isDocumentedAnswer('AcceptSecurityContext', SEC_E_WRONG_PRINCIPAL, 'Example'), false);
    assert.equal(isDocumentedAnswer('AcceptSecurityContext', SEC_E_WRONG_PRINCIPAL), false);
    assert.equal(isDocumentedAnswer('InitializeSecurityContext', SEC_E_KDC_UNKNOWN_ETYPE, 'NTLM'), false);
    // NTLM's SEC_E_TIME_SKEW from AcceptSecurityContext is any package's.
    assert.ok(isDocumentedAnswer('AcceptSecurityContext', SEC_E_TIME_SKEW, 'NTLM'));
  });

  test('give a reason for every status that the function page does not list', () => {
    const justified = acceptedAnswers().filter((a) => a.reason !== null);
    assert.ok(justified.length > 0);
    for (const a of justified) assert.ok(a.reason!.length > 20, `${a.fn} ${statusName(a.status)} needs a reason`);
    assert.deepEqual(justified.map((a) => `${a.fn} ${statusName(a.status)}`).sort(), [
      'AcceptSecurityContext SEC_E_BUFFER_TOO_SMALL',
      'AcceptSecurityContext SEC_E_CONTEXT_EXPIRED',
      'AcceptSecurityContext SEC_E_MESSAGE_ALTERED',
      'AcceptSecurityContext SEC_E_TIME_SKEW',
      'AcceptSecurityContext SEC_E_WRONG_PRINCIPAL',
      'InitializeSecurityContext SEC_E_BAD_BINDINGS',
      'InitializeSecurityContext SEC_E_BUFFER_TOO_SMALL',
      'InitializeSecurityContext SEC_E_CONTEXT_EXPIRED',
      'InitializeSecurityContext SEC_E_KDC_UNKNOWN_ETYPE',
      'InitializeSecurityContext SEC_E_MESSAGE_ALTERED',
      'InitializeSecurityContext SEC_E_MUTUAL_AUTH_FAILED',
      'InitializeSecurityContext SEC_E_TIME_SKEW',
      'MakeSignature SEC_E_BUFFER_TOO_SMALL',
    ]);
  });
});
