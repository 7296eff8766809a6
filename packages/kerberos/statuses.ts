// What a Kerberos failure is to an SSPI caller: KRB-ERROR codes (from a KDC, or in an acceptor's
// error token) and the package's own refusals, each as the status Windows' Kerberos package answers
// for it (as its SSPI pages and MS-KILE describe them, and as users meet them: a wrong password is
// SEC_E_LOGON_DENIED, an unknown service SEC_E_TARGET_UNKNOWN, clocks apart SEC_E_TIME_SKEW, no KDC
// SEC_E_NO_AUTHENTICATING_AUTHORITY). A failure carries its reason too, for tests and people.

import {
  SEC_E_BAD_BINDINGS,
  SEC_E_CONTEXT_EXPIRED,
  SEC_E_INVALID_TOKEN,
  SEC_E_KDC_UNKNOWN_ETYPE,
  SEC_E_LOGON_DENIED,
  SEC_E_MUTUAL_AUTH_FAILED,
  SEC_E_NO_AUTHENTICATING_AUTHORITY,
  SEC_E_TARGET_UNKNOWN,
  SEC_E_TIME_SKEW,
  SEC_E_WRONG_PRINCIPAL,
  type Status,
} from '../../headers/index.js';
import { KRB_ERROR_CODE as E, krbErrorName } from './messages/index.js';

/** A refusal: the status the caller gets, and why (the KRB-ERROR's name, or what did not check). */
export interface KerberosFailure {
  readonly status: Status;
  readonly reason: string;
  /** The KRB-ERROR code, when a peer sent one or an acceptor answers with one. */
  readonly krbError?: number;
}

export function failure(status: Status, reason: string, krbError?: number): KerberosFailure {
  return krbError === undefined ? { status, reason } : { status, reason, krbError };
}

export function isFailure(value: unknown): value is KerberosFailure {
  return typeof value === 'object' && value !== null && 'status' in value && 'reason' in value;
}

/** Where a KRB-ERROR came from: the KDC's AS or TGS exchange, or an acceptor's error token. */
export type ErrorSource = 'as' | 'tgs' | 'ap';

/**
 * The status of a KRB-ERROR code (RFC 4120 7.5.9). Codes without an SSPI meaning of their own are a
 * refused logon (SEC_E_LOGON_DENIED), the status Windows gives a KDC's refusal it cannot name better.
 */
export function statusOfKrbError(code: number, source: ErrorSource): Status {
  switch (code) {
    case E.KDC_ERR_S_PRINCIPAL_UNKNOWN:
    case E.KDC_ERR_PRINCIPAL_NOT_UNIQUE:
    case E.KDC_ERR_SERVER_NOMATCH:
    case E.KDC_ERR_WRONG_REALM:
    case E.KDC_ERR_MUST_USE_USER2USER:
      return source === 'as' ? SEC_E_LOGON_DENIED : SEC_E_TARGET_UNKNOWN;
    case E.KRB_AP_ERR_SKEW:
    case E.KRB_AP_ERR_TKT_NYV:
      return SEC_E_TIME_SKEW;
    case E.KRB_AP_ERR_TKT_EXPIRED:
      return SEC_E_CONTEXT_EXPIRED;
    case E.KDC_ERR_ETYPE_NOSUPP:
      return SEC_E_KDC_UNKNOWN_ETYPE;
    case E.KRB_AP_ERR_MODIFIED:
    case E.KRB_AP_ERR_NOT_US:
    case E.KRB_AP_ERR_NOKEY:
    case E.KRB_AP_ERR_BADKEYVER:
      // The ticket is not for the acceptor that got it (Windows' "the target principal name is incorrect").
      return source === 'ap' ? SEC_E_WRONG_PRINCIPAL : SEC_E_LOGON_DENIED;
    case E.KRB_AP_ERR_REPEAT:
    case E.KRB_AP_ERR_MSG_TYPE:
    case E.KRB_AP_ERR_BADVERSION:
      return SEC_E_INVALID_TOKEN;
    case E.KRB_AP_ERR_INAPP_CKSUM:
      return SEC_E_BAD_BINDINGS;
    case E.KRB_AP_ERR_MUT_FAIL:
      return SEC_E_MUTUAL_AUTH_FAILED;
    case E.KDC_ERR_SVC_UNAVAILABLE:
      return SEC_E_NO_AUTHENTICATING_AUTHORITY;
    default:
      // PREAUTH_FAILED (a wrong password), C_PRINCIPAL_UNKNOWN, CLIENT_REVOKED, KEY_EXPIRED, POLICY, ...
      return SEC_E_LOGON_DENIED;
  }
}

/** A KRB-ERROR as a failure of the given exchange. */
export function krbErrorFailure(code: number, source: ErrorSource, eText?: string): KerberosFailure {
  const where = source === 'as' ? 'the KDC refused the AS-REQ' : source === 'tgs' ? 'the KDC refused the TGS-REQ' : 'the acceptor refused the AP-REQ';
  return failure(statusOfKrbError(code, source), `${where}: ${krbErrorName(code)}${eText === undefined ? '' : ` (${eText})`}`, code);
}

/**
 * The table the README shows: each KRB-ERROR this package maps, with the status. Statuses of
 * the package's own refusals are beside the code that refuses.
 */
export const KRB_ERROR_STATUSES: ReadonlyArray<readonly [string, number, ErrorSource[]]> = [
  ['KDC_ERR_C_PRINCIPAL_UNKNOWN', E.KDC_ERR_C_PRINCIPAL_UNKNOWN, ['as']],
  ['KDC_ERR_PREAUTH_FAILED', E.KDC_ERR_PREAUTH_FAILED, ['as']],
  ['KDC_ERR_CLIENT_REVOKED', E.KDC_ERR_CLIENT_REVOKED, ['as']],
  ['KDC_ERR_KEY_EXPIRED', E.KDC_ERR_KEY_EXPIRED, ['as']],
  ['KDC_ERR_S_PRINCIPAL_UNKNOWN', E.KDC_ERR_S_PRINCIPAL_UNKNOWN, ['tgs']],
  ['KDC_ERR_ETYPE_NOSUPP', E.KDC_ERR_ETYPE_NOSUPP, ['as', 'tgs']],
  ['KRB_AP_ERR_SKEW', E.KRB_AP_ERR_SKEW, ['as', 'tgs', 'ap']],
  ['KRB_AP_ERR_TKT_EXPIRED', E.KRB_AP_ERR_TKT_EXPIRED, ['tgs', 'ap']],
  ['KRB_AP_ERR_MODIFIED', E.KRB_AP_ERR_MODIFIED, ['ap']],
  ['KRB_AP_ERR_REPEAT', E.KRB_AP_ERR_REPEAT, ['ap']],
];
