// The mechanisms Negotiate may select, in its order of preference, each by the package that
// implements it (found in the LSA by its SecPkgInfo name) and its OIDs. This table is the only
// place Negotiate knows a mechanism: Kerberos is offered whenever a package named "Kerberos" with
// SECPKG_FLAG_NEGOTIABLE is loaded and can start (a realm, a KDC that gives a service ticket for
// the target); NTLM is the fallback.
//
// Windows offers Kerberos first, under the OID Windows 2000 sent by mistake
// (1.2.840.48018.1.2.2) and then the right one, then NTLM (MS-SPNG 1.4, the NegTokenInit2 of
// test-vectors.md 7). NegoEx and user-to-user Kerberos are not offered.

import { MECH_OID, unpackInitialContextToken } from './spnego.js';

export interface Mechanism {
  /** The package that implements it, by its SecPkgInfo name. */
  readonly packageName: string;
  /** Its OIDs: all are recognized in a peer's list; all are offered, in this order. */
  readonly oids: readonly string[];
  /**
   * Whether a first token is this mechanism's own, sent without SPNEGO (clients that skip it:
   * MS-SPNG accepts a raw NTLMSSP token, and a raw GSS Kerberos token).
   */
  readonly isRawToken: (token: Uint8Array) => boolean;
  /**
   * When the mechanism takes part in the mechListMIC exchange (RFC 4178 5), that is, when
   * Negotiate gives it SECBUFFER_MECHLIST: 'always' for NTLM, whose AUTHENTICATE's MIC makes the
   * exchange mandatory (MS-SPNG 3.1.5.1); 'when-required' for Kerberos, only when SPNEGO requires it
   * (the mechanism chosen was not the initiator's first, or the acceptor asked with request-mic)
   * or the peer sent one, as MIT's SPNEGO and Windows do: the usual Kerberos exchange carries none.
   */
  readonly mechListMic: 'always' | 'when-required';
  /** Whether the initiator may fall back to it after the mechanisms before it failed to start (Negotiate's allowNtlmFallback). */
  readonly isFallback: boolean;
}

/** "NTLMSSP\0", with which every NTLM message starts (MS-NLMP 2.2.1). */
const NTLMSSP_SIGNATURE = [0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00];

function startsWithNtlmssp(token: Uint8Array): boolean {
  return token.length >= NTLMSSP_SIGNATURE.length && NTLMSSP_SIGNATURE.every((b, i) => token[i] === b);
}

/** A GSS InitialContextToken (RFC 2743 3.1) whose OID is one of `oids`. */
function initialContextTokenOf(oids: readonly string[]): (token: Uint8Array) => boolean {
  return (token) => {
    if (token[0] !== 0x60) return false;
    try {
      return oids.includes(unpackInitialContextToken(token).mech);
    } catch {
      return false;
    }
  };
}

/** Most preferred first. */
export const MECHANISMS: readonly Mechanism[] = Object.freeze([
  {
    packageName: 'Kerberos',
    oids: [MECH_OID.MS_KRB5, MECH_OID.KRB5],
    isRawToken: initialContextTokenOf([MECH_OID.MS_KRB5, MECH_OID.KRB5]),
    mechListMic: 'when-required',
    isFallback: false,
  },
  { packageName: 'NTLM', oids: [MECH_OID.NTLMSSP], isRawToken: startsWithNtlmssp, mechListMic: 'always', isFallback: true },
]);

/** The mechanism an OID names, if Negotiate knows it. */
export function mechanismOf(oid: string): Mechanism | undefined {
  return MECHANISMS.find((m) => m.oids.includes(oid));
}
