// The statuses each SSPI function may answer, as its Windows page documents them: the fuzzer's
// lists (fuzz/statuses.ts) for the handshake and message functions, and here the others the
// check calls (../shared/reference/sspi-reference.md, section 2). SEC_E_INTERNAL_ERROR is judged
// apart (package.exceptions): in sspi-emu it means a package threw, rejected or hung.

import {
  SEC_E_INSUFFICIENT_MEMORY,
  SEC_E_INTERNAL_ERROR,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_MESSAGE_ALTERED,
  SEC_E_NOT_OWNER,
  SEC_E_NO_CREDENTIALS,
  SEC_E_OK,
  SEC_E_OUT_OF_SEQUENCE,
  SEC_E_SECPKG_NOT_FOUND,
  SEC_E_UNKNOWN_CREDENTIALS,
  SEC_E_UNSUPPORTED_FUNCTION,
  statusByName,
  type Status,
} from '../headers/index.js';
import type { TraceEvent } from '../ipc/index.js';
import { isDocumentedAnswer, type FuzzedFunction } from '../fuzz/index.js';

const FUZZED: ReadonlySet<string> = new Set<FuzzedFunction>([
  'InitializeSecurityContext',
  'AcceptSecurityContext',
  'MakeSignature',
  'VerifySignature',
  'EncryptMessage',
  'DecryptMessage',
]);

const OTHERS: ReadonlyMap<string, readonly Status[]> = new Map([
  ['AcquireCredentialsHandle', [SEC_E_OK, SEC_E_INSUFFICIENT_MEMORY, SEC_E_NO_CREDENTIALS, SEC_E_NOT_OWNER, SEC_E_SECPKG_NOT_FOUND, SEC_E_UNKNOWN_CREDENTIALS]],
  ['FreeCredentialsHandle', [SEC_E_OK, SEC_E_INVALID_HANDLE]],
  ['DeleteSecurityContext', [SEC_E_OK, SEC_E_INVALID_HANDLE]],
  // The page says "SEC_E_OK, otherwise nonzero (e.g. SEC_E_INVALID_HANDLE, SEC_E_UNSUPPORTED_FUNCTION)".
  ['QueryContextAttributes', [SEC_E_OK, SEC_E_INVALID_HANDLE, SEC_E_UNSUPPORTED_FUNCTION, SEC_E_INSUFFICIENT_MEMORY]],
  ['CompleteAuthToken', [SEC_E_OK, SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN, SEC_E_OUT_OF_SEQUENCE, SEC_E_MESSAGE_ALTERED]],
  ['QuerySecurityPackageInfo', [SEC_E_OK, SEC_E_SECPKG_NOT_FOUND]],
]);

/**
 * Not on the pages, accepted for a reason: a package that does not sign or seal at all answers the
 * message functions SEC_E_UNSUPPORTED_FUNCTION (the README's rule for what is not implemented;
 * Schannel does not support MakeSignature either). A package that claims the capability and
 * answers so fails sign.round-trip or seal.round-trip instead.
 */
const UNSUPPORTED_ACCEPTED: ReadonlySet<string> = new Set(['MakeSignature', 'VerifySignature', 'EncryptMessage', 'DecryptMessage']);

/** True when `status` is on `api`'s documented list (or accepted above); false for a function the check does not judge. */
export function documented(api: string, status: Status): boolean {
  if (status >>> 0 === SEC_E_UNSUPPORTED_FUNCTION && UNSUPPORTED_ACCEPTED.has(api)) return true;
  if (FUZZED.has(api)) return isDocumentedAnswer(api as FuzzedFunction, status);
  return OTHERS.get(api)?.includes(status >>> 0) ?? false;
}

/** The SSPI functions a process's trace records with their status. */
const SSPI_CALLS: ReadonlySet<string> = new Set([...FUZZED, ...OTHERS.keys()]);

/** Each answer in the trace of an app process that its function's page does not list, described once. */
export function undocumentedAnswers(events: readonly TraceEvent[]): { judged: number; undocumented: string[] } {
  let count = 0;
  const undocumented = new Set<string>();
  for (const e of events) {
    if (e.process === 'lsa' || e.phase !== 'return' || !SSPI_CALLS.has(e.call) || e.status === undefined) continue;
    count++;
    const status = statusByName(e.status);
    if (status === SEC_E_INTERNAL_ERROR) continue; // package.exceptions reports these, with their cause
    if (status === undefined || !documented(e.call, status)) undocumented.add(`${e.call} answered ${e.status} in ${e.process}`);
  }
  return { judged: count, undocumented: [...undocumented] };
}

/**
 * Every SEC_E_INTERNAL_ERROR of the run with where it arose and why: the trace's entry points
 * (an LSA-mode or user-mode Sp* call that threw, rejected or timed out) and the causes the SSPI
 * results carried.
 */
export function faults(events: readonly TraceEvent[], causes: ReadonlyArray<{ api: string; process: string; cause: string }>): string[] {
  const out = new Set<string>();
  for (const e of events) {
    if (e.phase !== 'return' || e.status !== 'SEC_E_INTERNAL_ERROR') continue;
    if (SSPI_CALLS.has(e.call) && e.detail === undefined) continue; // its entry point's own event says why
    out.add(`${e.call} in ${e.process}${e.detail === undefined ? '' : `: ${e.detail}`}`);
  }
  for (const c of causes) out.add(`${c.api} in ${c.process}: ${c.cause}`);
  return [...out];
}
