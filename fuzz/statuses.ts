// The answers the fuzzer accepts from each SSPI function: the statuses the function's Windows
// documentation lists (../shared/reference/sspi-reference.md, section 3, from the sspi.h pages),
// plus the few that sspi-emu's packages document for a condition the page does not name, each
// with its reason below. SEC_E_INTERNAL_ERROR is documented for every function but is never
// accepted here: in sspi-emu it means a package threw, rejected or hung (a PackageFault), or a
// worker died, so for the fuzzer it is a bug to report with its input.

import {
  SEC_E_BAD_BINDINGS,
  SEC_E_BUFFER_TOO_SMALL,
  SEC_E_CONTEXT_EXPIRED,
  SEC_E_CRYPTO_SYSTEM_INVALID,
  SEC_E_INCOMPLETE_MESSAGE,
  SEC_E_INSUFFICIENT_MEMORY,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_KDC_UNKNOWN_ETYPE,
  SEC_E_LOGON_DENIED,
  SEC_E_MESSAGE_ALTERED,
  SEC_E_MUTUAL_AUTH_FAILED,
  SEC_E_NO_AUTHENTICATING_AUTHORITY,
  SEC_E_NO_CREDENTIALS,
  SEC_E_OK,
  SEC_E_OUT_OF_SEQUENCE,
  SEC_E_QOP_NOT_SUPPORTED,
  SEC_E_TARGET_UNKNOWN,
  SEC_E_TIME_SKEW,
  SEC_E_UNSUPPORTED_FUNCTION,
  SEC_E_WRONG_PRINCIPAL,
  SEC_I_COMPLETE_AND_CONTINUE,
  SEC_I_COMPLETE_NEEDED,
  SEC_I_CONTINUE_NEEDED,
  type Status,
} from '../headers/index.js';

/** The SSPI functions the fuzzer drives with hostile input. */
export type FuzzedFunction = 'InitializeSecurityContext' | 'AcceptSecurityContext' | 'MakeSignature' | 'VerifySignature' | 'EncryptMessage' | 'DecryptMessage';

interface Answers {
  /** Listed on the function's page (SEC_E_INTERNAL_ERROR left out: see above). */
  readonly documented: readonly Status[];
  /** Not on the page, accepted for the reason given; from the packages named only, when some are (a Kerberos mapping is no licence for another package). */
  readonly justified: ReadonlyArray<readonly [Status, string] | readonly [Status, string, readonly string[]]>;
}

/** Kerberos, and Negotiate, which answers what Kerberos beneath it answered. */
const KERBEROS: readonly string[] = ['kerberos', 'negotiate'];

/** What both handshake functions answer when they succeed: done, or more legs, or CompleteAuthToken first. */
const HANDSHAKE_SUCCESSES: readonly Status[] = [SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_I_COMPLETE_NEEDED, SEC_I_COMPLETE_AND_CONTINUE];

const ANSWERS: Readonly<Record<FuzzedFunction, Answers>> = {
  InitializeSecurityContext: {
    documented: [
      ...HANDSHAKE_SUCCESSES,
      SEC_E_INCOMPLETE_MESSAGE,
      SEC_E_INSUFFICIENT_MEMORY,
      SEC_E_INVALID_HANDLE,
      SEC_E_INVALID_TOKEN,
      SEC_E_LOGON_DENIED,
      SEC_E_NO_AUTHENTICATING_AUTHORITY,
      SEC_E_NO_CREDENTIALS,
      SEC_E_TARGET_UNKNOWN,
      SEC_E_UNSUPPORTED_FUNCTION,
      SEC_E_WRONG_PRINCIPAL,
    ],
    justified: [
      [SEC_E_MUTUAL_AUTH_FAILED, 'the example package: the server could not prove it knows K (its ServerProof is wrong); the status means exactly that'],
      [SEC_E_BUFFER_TOO_SMALL, 'the output SecBufferDesc has no SECBUFFER_TOKEN to take the token (Windows answers so for a too-small output buffer)'],
      [SEC_E_BAD_BINDINGS, 'NTLM: the SECBUFFER_CHANNEL_BINDINGS input is not a well-formed SEC_CHANNEL_BINDINGS, so no MsvAvChannelBindings can be sent'],
      [SEC_E_MESSAGE_ALTERED, "Negotiate: the acceptor's mechListMIC does not verify (RFC 4178 5, GSS_S_BAD_MIC): the mechanism list was altered on its way"],
      [
        SEC_E_TIME_SKEW,
        "Kerberos: the acceptor's or the KDC's KRB-ERROR says KRB_AP_ERR_SKEW or KRB_AP_ERR_TKT_NYV (packages/kerberos/statuses.ts), or the KDC reply's starttime or authtime is outside the clock skew (packages/kerberos/reply-times.ts); Windows answers clocks too far apart so",
        KERBEROS,
      ],
      [SEC_E_CONTEXT_EXPIRED, "Kerberos: the acceptor's or the KDC's KRB-ERROR says KRB_AP_ERR_TKT_EXPIRED: the ticket has expired", KERBEROS],
      [SEC_E_KDC_UNKNOWN_ETYPE, 'Kerberos: a KRB-ERROR says KDC_ERR_ETYPE_NOSUPP: no encryption type in common', KERBEROS],
    ],
  },
  AcceptSecurityContext: {
    documented: [
      ...HANDSHAKE_SUCCESSES,
      SEC_E_INCOMPLETE_MESSAGE,
      SEC_E_BAD_BINDINGS,
      SEC_E_INSUFFICIENT_MEMORY,
      SEC_E_INVALID_HANDLE,
      SEC_E_INVALID_TOKEN,
      SEC_E_LOGON_DENIED,
      SEC_E_NO_AUTHENTICATING_AUTHORITY,
      SEC_E_NO_CREDENTIALS,
      SEC_E_UNSUPPORTED_FUNCTION,
    ],
    justified: [
      [
        SEC_E_TIME_SKEW,
        "NTLM: the NTLMv2 response's timestamp is outside maxClockSkewSeconds (README, NTLM settings); Kerberos: the authenticator's or the ticket's time is (KRB_AP_ERR_SKEW, KRB_AP_ERR_TKT_NYV); the status means clocks too far apart",
      ],
      [SEC_E_BUFFER_TOO_SMALL, 'the output SecBufferDesc has no SECBUFFER_TOKEN to take the token'],
      [SEC_E_MESSAGE_ALTERED, "Negotiate: the initiator's mechListMIC does not verify (RFC 4178 5, GSS_S_BAD_MIC): the mechanism list was altered on its way"],
      [
        SEC_E_WRONG_PRINCIPAL,
        'Kerberos: the AP-REQ\'s ticket is not for this acceptor, or no key of its opens it (KRB_AP_ERR_NOT_US, KRB_AP_ERR_MODIFIED, KRB_AP_ERR_NOKEY); Windows\' "the target principal name is incorrect"',
        KERBEROS,
      ],
      [SEC_E_CONTEXT_EXPIRED, "Kerberos: the AP-REQ's ticket has expired (KRB_AP_ERR_TKT_EXPIRED)", KERBEROS],
    ],
  },
  MakeSignature: {
    documented: [SEC_E_OK, SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN, SEC_E_OUT_OF_SEQUENCE, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_QOP_NOT_SUPPORTED],
    justified: [[SEC_E_BUFFER_TOO_SMALL, 'the SECBUFFER_TOKEN is smaller than cbMaxSignature; EncryptMessage documents this status for the same condition']],
  },
  VerifySignature: {
    documented: [SEC_E_OK, SEC_E_OUT_OF_SEQUENCE, SEC_E_MESSAGE_ALTERED, SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN, SEC_E_QOP_NOT_SUPPORTED],
    justified: [],
  },
  EncryptMessage: {
    documented: [
      SEC_E_OK,
      SEC_E_BUFFER_TOO_SMALL,
      SEC_E_CONTEXT_EXPIRED,
      SEC_E_CRYPTO_SYSTEM_INVALID,
      SEC_E_INSUFFICIENT_MEMORY,
      SEC_E_INVALID_HANDLE,
      SEC_E_INVALID_TOKEN,
      SEC_E_QOP_NOT_SUPPORTED,
    ],
    justified: [],
  },
  DecryptMessage: {
    documented: [
      SEC_E_OK,
      SEC_E_BUFFER_TOO_SMALL,
      SEC_E_CRYPTO_SYSTEM_INVALID,
      SEC_E_INCOMPLETE_MESSAGE,
      SEC_E_INVALID_HANDLE,
      SEC_E_INVALID_TOKEN,
      SEC_E_MESSAGE_ALTERED,
      SEC_E_OUT_OF_SEQUENCE,
      SEC_E_QOP_NOT_SUPPORTED,
    ],
    justified: [],
  },
};

/** True when `status` is an answer `fn` may give (documented, or justified above; a package's own justification only with its name). */
export function isDocumentedAnswer(fn: FuzzedFunction, status: Status, packageName?: string): boolean {
  const answers = ANSWERS[fn];
  const pkg = packageName?.toLowerCase();
  return (
    answers.documented.includes(status >>> 0) ||
    answers.justified.some(([s, , packages]) => s === status >>> 0 && (packages === undefined || (pkg !== undefined && packages.includes(pkg))))
  );
}

/** Every accepted answer of every fuzzed function, with the reason for the ones the page does not list. */
export function acceptedAnswers(): ReadonlyArray<{ fn: FuzzedFunction; status: Status; reason: string | null }> {
  return (Object.keys(ANSWERS) as FuzzedFunction[]).flatMap((fn) => [
    ...ANSWERS[fn].documented.map((status) => ({ fn, status, reason: null })),
    ...ANSWERS[fn].justified.map(([status, reason]) => ({ fn, status, reason })),
  ]);
}
