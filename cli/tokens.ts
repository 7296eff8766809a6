// The tokens the command line spells out (`decode`, `run --json`): an NTLM message, or a SPNEGO
// token with the mechanism token inside it described too (NTLM's; a Kerberos token stays hex
// until that package has a decoder). The packages' own describers do the work.

import {
  describeNegotiationToken,
  formatNegotiationToken,
  isSpnegoToken,
  type InnerDescriber,
  type NegotiationTokenDescription,
} from '../packages/negotiate/wire.js';
import { describeNtlmMessage, formatNtlmMessage, NtlmParseError, type NtlmMessageDescription } from '../packages/ntlm/wire.js';

export type TokenDescription = NtlmMessageDescription | NegotiationTokenDescription;

/** "NTLMSSP\0": an NTLM message's first bytes. */
export function isNtlmMessage(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).toString('latin1') === 'NTLMSSP\0';
}

/** A mechanism token inside SPNEGO: NTLM's, described; anything else left to hex. */
const describeInner: InnerDescriber = (token) => {
  if (!isNtlmMessage(token)) return undefined;
  try {
    return { mechanism: 'NTLMSSP', decoded: describeNtlmMessage(token) };
  } catch (error) {
    if (error instanceof NtlmParseError) return undefined;
    throw error;
  }
};

/** The token field by field: SPNEGO when it is SPNEGO, NTLM otherwise (NtlmParseError or DerError when it is neither). */
export function describeToken(bytes: Uint8Array): TokenDescription {
  return isSpnegoToken(bytes) ? describeNegotiationToken(bytes, describeInner) : describeNtlmMessage(bytes);
}

export function formatToken(description: TokenDescription): string {
  if (description.type === 'NegTokenInit' || description.type === 'NegTokenInit2' || description.type === 'NegTokenResp')
    return formatNegotiationToken(description as NegotiationTokenDescription, (inner) =>
      inner.mechanism === 'NTLMSSP' ? formatNtlmMessage(inner.decoded as NtlmMessageDescription) : undefined,
    );
  return formatNtlmMessage(description as NtlmMessageDescription);
}
