// Network failures of the socket client apps, told apart from SSPI failures, each in a line that
// names the peer and what happened. A name that does not resolve is tested with the error node:dns
// gives (ENOTFOUND, EAI_AGAIN), without a lookup: the tests send nothing beyond this machine.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../app-protocols/index.js';
import { describeNetworkFailure, networkFailureResult, NoAnswerInTime } from '../../client-proc/network-failure.js';

/** An error as node:net, node:http or node:dns makes it: a message and an errno code. */
function errno(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('describeNetworkFailure', () => {
  it('names a refused connection, a reset, a name that does not resolve, a host out of reach', () => {
    const peer = 'example.test:80';
    assert.equal(
      describeNetworkFailure(errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), peer),
      `${peer}: connection refused (nothing listens there) (ECONNREFUSED)`,
    );
    assert.equal(describeNetworkFailure(errno('ECONNRESET', 'read ECONNRESET'), peer), `${peer}: the server reset the connection (ECONNRESET)`);
    assert.equal(describeNetworkFailure(errno('ENOTFOUND', 'getaddrinfo ENOTFOUND example.test'), peer), `${peer}: the name does not resolve (ENOTFOUND)`);
    assert.match(describeNetworkFailure(errno('EAI_AGAIN', 'getaddrinfo EAI_AGAIN example.test'), peer) ?? '', /could not be resolved.*\(EAI_AGAIN\)$/);
    assert.equal(describeNetworkFailure(errno('EHOSTUNREACH', 'connect EHOSTUNREACH'), peer), `${peer}: no route to the host (EHOSTUNREACH)`);
  });

  it("names node:http's socket hang up, and a server that closed the gss-sample connection or never answered", () => {
    assert.equal(describeNetworkFailure(errno('ECONNRESET', 'socket hang up'), 'h:1'), 'h:1: the server hung up before it answered (ECONNRESET)');
    assert.equal(
      describeNetworkFailure(new ProtocolError('CLOSED', 'the peer closed the connection'), 'h:1'),
      'h:1: the server hung up (the peer closed the connection)',
    );
    assert.equal(
      describeNetworkFailure(new ProtocolError('TIMEOUT', 'no complete token within 10 ms'), 'h:1'),
      'h:1: the server did not answer (no complete token within 10 ms)',
    );
  });

  it("names an app's own time limit running out (NoAnswerInTime), and TLS spoken to a server that does not", () => {
    assert.equal(describeNetworkFailure(new NoAnswerInTime('no complete response within the time limit'), 'h:1'), 'h:1: the server did not answer (no complete response within the time limit)');
    assert.equal(
      describeNetworkFailure(errno('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'), 'h:1'),
      'h:1: the server does not speak TLS there (an http:// port?) (ERR_SSL_WRONG_VERSION_NUMBER)',
    );
  });

  it('finds the network error behind a wrapping error, and is undefined for anything else', () => {
    assert.match(describeNetworkFailure(new Error('request failed', { cause: errno('ECONNREFUSED', 'refused') }), 'h:1') ?? '', /connection refused/);
    assert.equal(describeNetworkFailure(new Error('something else'), 'h:1'), undefined);
    assert.equal(describeNetworkFailure(new ProtocolError('BAD_FLAGS', 'flags 0x00'), 'h:1'), undefined);
    assert.equal(describeNetworkFailure('a string', 'h:1'), undefined);
  });

  it('makes an app result that says it is a network failure', () => {
    assert.deepEqual(networkFailureResult('h:1: connection refused'), {
      status: 0x80090304,
      statusName: 'SEC_E_INTERNAL_ERROR',
      detail: 'network failure: h:1: connection refused',
      networkFailure: 'h:1: connection refused',
    });
  });
});
