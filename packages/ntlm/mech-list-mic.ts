// NTLM's part in SPNEGO's mechListMIC (RFC 4178 5, MS-SPNG 3.3.5.1). When NTLM runs under
// Negotiate, each side signs the initiator's DER MechTypeList with NTLM's own signing, as
// MakeSignature would sign the first message: the sequence number 0 (or, without extended session
// security, where the shared count stands) and the direction's sealing key; and verifies the
// peer's the same way. MS-SPNG 3.3.5.1 then sets each RC4 handle back to where it was, so that
// the mechListMIC and the first message the application signs use the same RC4 key state; the
// sequence numbers are not set back (Windows, gss-ntlmssp's reset_crypto and pyspnego agree): the
// application's first message carries sequence number 1 in each direction that had a mechListMIC.
//
// How Negotiate asks for it: with the buffer types sspi.h defines for this, SECBUFFER_MECHLIST (the
// MechTypeList) in the input of the last leg and SECBUFFER_MECHLIST_SIGNATURE for the signatures
// (input: the peer's; output: ours). The user-mode half learns from ContextData which directions
// had one, and starts there with fresh RC4 states: exactly the state the reset leaves.

import { SEC_E_OK } from '../../headers/index.js';
import type { NtlmSide } from './crypto.js';
import { NTLMSSP_NEGOTIATE } from './flags.js';
import { NtlmSecurityContext } from './security.js';

/** Which directions carried a mechListMIC (ContextData records this). */
export interface MechListMics {
  sent: boolean;
  received: boolean;
}

export const NO_MECH_LIST_MICS: Readonly<MechListMics> = Object.freeze({ sent: false, received: false });

/**
 * Where each direction's sequence number stands after the mechListMICs: one past each with
 * extended session security; without it both directions share one count, which every MIC advanced.
 */
export function sequenceAfter(flags: number, mics: MechListMics): { outgoing: number; incoming: number } {
  if ((flags & NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) === 0) {
    const shared = (mics.sent ? 1 : 0) + (mics.received ? 1 : 0);
    return { outgoing: shared, incoming: shared };
  }
  return { outgoing: mics.sent ? 1 : 0, incoming: mics.received ? 1 : 0 };
}

export interface MechListMicInput {
  flags: number;
  exportedSessionKey: Uint8Array;
  side: NtlmSide;
  mechList: Uint8Array;
  /** The mechListMICs this side already made or checked (the shared count without extended session security). */
  before: MechListMics;
}

/** This side's mechListMIC: MakeSignature's NTLMSSP_MESSAGE_SIGNATURE over the MechTypeList. */
export function signMechList(input: MechListMicInput): Uint8Array {
  const context = NtlmSecurityContext.fromSessionKey({
    flags: input.flags,
    exportedSessionKey: input.exportedSessionKey,
    side: input.side,
    sequence: sequenceAfter(input.flags, input.before),
  });
  try {
    return context.sign(input.mechList);
  } finally {
    context.wipe();
  }
}

/**
 * Whether the peer's mechListMIC is right, checked as VerifySignature would check the first
 * message. Any difference (checksum, sequence number, version, length) makes it wrong.
 */
export function verifyMechList(input: MechListMicInput, mic: Uint8Array): boolean {
  const context = NtlmSecurityContext.fromSessionKey({
    flags: input.flags,
    exportedSessionKey: input.exportedSessionKey,
    side: input.side,
    sequence: sequenceAfter(input.flags, input.before),
  });
  try {
    return context.verify(input.mechList, mic) === SEC_E_OK;
  } finally {
    context.wipe();
  }
}
