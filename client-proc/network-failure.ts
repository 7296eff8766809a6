// Network failures of the socket client apps, told apart from SSPI failures: a connection
// refused, a server that hung up or reset the connection, a name that does not resolve, no answer
// in time. The CLI reports these as network failures (exit 3), not as a status of the handshake.

import { SEC_E_INTERNAL_ERROR, statusName } from '../headers/index.js';
import { ProtocolError } from '../app-protocols/index.js';
import type { AppResult } from '../process/index.js';

/** What errno codes of node:net, node:http and node:dns mean, in a line. */
const ERRNO: ReadonlyMap<string, string> = new Map([
  ['ECONNREFUSED', 'connection refused (nothing listens there)'],
  ['ECONNRESET', 'the server reset the connection'],
  ['EPIPE', 'the server closed the connection'],
  ['ETIMEDOUT', 'the connection timed out'],
  ['EHOSTUNREACH', 'no route to the host'],
  ['ENETUNREACH', 'the network is unreachable'],
  ['EADDRNOTAVAIL', 'the address is not available'],
  ['ENOTFOUND', 'the name does not resolve'],
  ['EAI_AGAIN', 'the name could not be resolved (a temporary failure of the resolver)'],
  ['EAI_FAIL', 'the name could not be resolved'],
  // OpenSSL reading something that is not a TLS record where the server's hello should be.
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'the server does not speak TLS there (an http:// port?)'],
  ['ERR_SSL_PACKET_LENGTH_TOO_LONG', 'the server does not speak TLS there (an http:// port?)'],
]);

/** A client app's own time limit ran out before the server answered (or the connection was made). */
export class NoAnswerInTime extends Error {
  override readonly name = 'NoAnswerInTime';
}

/**
 * The network failure `error` is, in a line naming `peer` (HOST:PORT), or undefined when it is
 * no network failure. The error's own code or message follows in parentheses.
 */
export function describeNetworkFailure(error: unknown, peer: string): string | undefined {
  if (error instanceof ProtocolError) {
    if (error.code === 'CLOSED' || error.code === 'TRUNCATED') return `${peer}: the server hung up (${error.message})`;
    if (error.code === 'TIMEOUT') return `${peer}: the server did not answer (${error.message})`;
    return undefined;
  }
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof NoAnswerInTime) return `${peer}: the server did not answer (${e.message})`;
    const code = (e as { code?: unknown }).code;
    // node:http's "socket hang up" (code ECONNRESET): the server closed the connection before it answered.
    if (e.message === 'socket hang up') return `${peer}: the server hung up before it answered (${typeof code === 'string' ? code : e.message})`;
    if (typeof code === 'string' && ERRNO.has(code)) return `${peer}: ${ERRNO.get(code)!} (${code})`;
    if (/^no connection within \d+ ms$/.test(e.message)) return `${peer}: ${e.message}`;
  }
  return undefined;
}

/** The app's result for a network failure: SEC_E_INTERNAL_ERROR, with `networkFailure` saying what happened. */
export function networkFailureResult(networkFailure: string): AppResult {
  return { status: SEC_E_INTERNAL_ERROR, statusName: statusName(SEC_E_INTERNAL_ERROR), detail: `network failure: ${networkFailure}`, networkFailure };
}
