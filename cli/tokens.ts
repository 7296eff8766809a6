// The tokens the command line spells out (`decode`, `run --json`): an NTLM message, a Kerberos
// message (bare, or in the RFC 4121 GSS-API framing), or a SPNEGO token with the mechanism token
// inside it described too (NTLM's or Kerberos's). The packages' own describers do the work.

import {
  describeKerberosToken,
  describeKerberosTokenWithKeys,
  formatKerberosToken,
  isKerberosToken,
  type DecodeKey,
  type KerberosTokenDescription,
} from '../packages/kerberos/wire.js';
import {
  describeNegotiationToken,
  formatNegotiationToken,
  isSpnegoToken,
  type InnerDescriber,
  type NegotiationTokenDescription,
} from '../packages/negotiate/wire.js';
import { describeNtlmMessage, formatNtlmMessage, NtlmParseError, type NtlmMessageDescription } from '../packages/ntlm/wire.js';
import { DerError } from '../packages/kit/index.js';

export type TokenDescription = NtlmMessageDescription | NegotiationTokenDescription | KerberosTokenDescription;

/** "NTLMSSP\0": an NTLM message's first bytes. */
export function isNtlmMessage(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.subarray(0, 8)).toString('latin1') === 'NTLMSSP\0';
}

/** A Kerberos message described, its encrypted parts opened with `keys` when there are any (`decode --keytab`, ...). */
const describeKerberos = (bytes: Uint8Array, keys: readonly DecodeKey[]): KerberosTokenDescription =>
  keys.length === 0 ? describeKerberosToken(bytes) : describeKerberosTokenWithKeys(bytes, keys);

/** A mechanism token inside SPNEGO: NTLM's or Kerberos's, described; anything else (or one that does not parse) left to hex. */
const describeInner = (keys: readonly DecodeKey[]): InnerDescriber => (token) => {
  try {
    if (isNtlmMessage(token)) return { mechanism: 'NTLMSSP', decoded: describeNtlmMessage(token) };
    if (isKerberosToken(token)) return { mechanism: 'Kerberos', decoded: describeKerberos(token, keys) };
    return undefined;
  } catch (error) {
    if (error instanceof NtlmParseError || error instanceof DerError) return undefined;
    throw error;
  }
};

/**
 * The token field by field: SPNEGO, Kerberos or NTLM (NtlmParseError or DerError when it is none of
 * them). Kerberos' encrypted parts, bare or inside SPNEGO, are opened where `keys` can.
 */
export function describeToken(bytes: Uint8Array, keys: readonly DecodeKey[] = []): TokenDescription {
  if (isSpnegoToken(bytes)) return describeNegotiationToken(bytes, describeInner(keys));
  if (isKerberosToken(bytes)) return describeKerberos(bytes, keys);
  return describeNtlmMessage(bytes);
}

const KERBEROS_TYPES: ReadonlySet<string> = new Set(['AS-REQ', 'AS-REP', 'TGS-REQ', 'TGS-REP', 'AP-REQ', 'AP-REP', 'KRB-CRED', 'KRB-ERROR']);

export function formatToken(description: TokenDescription): string {
  if (description.type === 'NegTokenInit' || description.type === 'NegTokenInit2' || description.type === 'NegTokenResp')
    return formatNegotiationToken(description as NegotiationTokenDescription, (inner) =>
      inner.mechanism === 'NTLMSSP'
        ? formatNtlmMessage(inner.decoded as NtlmMessageDescription)
        : inner.mechanism === 'Kerberos'
          ? formatKerberosToken(inner.decoded as KerberosTokenDescription)
          : undefined,
    );
  if (KERBEROS_TYPES.has(description.type)) return formatKerberosToken(description as KerberosTokenDescription);
  return formatNtlmMessage(description as NtlmMessageDescription);
}
