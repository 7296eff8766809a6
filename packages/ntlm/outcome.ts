// How the NTLM legs report a failure: a value with the SSPI status and the reason, never a throw,
// so a hostile token cannot take the caller down and every refusal says why in traces and tests.

import { SEC_E_INVALID_TOKEN, type Status } from '../../headers/index.js';
import { NtlmParseError } from './messages.js';

export type Failure = { ok: false; status: Status; reason: string };

export function failure(status: Status, reason: string): Failure {
  return { ok: false, status, reason };
}

/** A malformed message: SEC_E_INVALID_TOKEN with the parser's code and offset. Other errors are bugs and propagate. */
export function parseFailure(what: string, error: unknown): Failure {
  if (error instanceof NtlmParseError) return failure(SEC_E_INVALID_TOKEN, `malformed ${what}: ${error.message} (${error.code} at offset ${error.offset})`);
  throw error;
}
