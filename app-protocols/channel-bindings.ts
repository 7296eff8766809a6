// Channel bindings for authentication over TLS: RFC 5929's tls-server-end-point, the binding that
// Windows (HTTP.sys, WinHTTP, IIS, .NET), requests-ntlm and pyspnego compute for HTTPS, carried to
// the security package as a SEC_CHANNEL_BINDINGS in a SECBUFFER_CHANNEL_BINDINGS input buffer; and
// the server's Extended Protection for Authentication policy, which says how a client's missing
// bindings are taken. Both sides derive the binding from the certificate the server presented, so a
// client talking TLS to a relay gets the relay's certificate, and its AUTHENTICATE_MESSAGE, passed
// on to the real server, carries the wrong hash (SEC_E_BAD_BINDINGS there).
//
// Nothing here is NTLM's: a Negotiate or Kerberos context takes the same buffer and flags.

import { createHash } from 'node:crypto';
import { ASC_REQ, SECBUFFER, packSecChannelBindings, type SecBuffer } from '../headers/index.js';
import { signatureHash, type CertificateHash } from './certificate.js';

/** RFC 5929 section 4: the prefix of tls-server-end-point's application data. */
export const TLS_SERVER_END_POINT_PREFIX = 'tls-server-end-point:';

/**
 * The server's Extended Protection for Authentication setting, as IIS names it (tokenChecking
 * None/Allow/Require; HTTP.sys's hardening Legacy/Medium/Strict; .NET's PolicyEnforcement
 * Never/WhenSupported/Always).
 */
export type ExtendedProtection = 'none' | 'allowed' | 'required';
export const EXTENDED_PROTECTION_LEVELS: readonly ExtendedProtection[] = ['none', 'allowed', 'required'];
export const DEFAULT_EXTENDED_PROTECTION: ExtendedProtection = 'allowed';

export function isExtendedProtection(value: unknown): value is ExtendedProtection {
  return typeof value === 'string' && (EXTENDED_PROTECTION_LEVELS as readonly string[]).includes(value);
}

/** A certificate's tls-server-end-point hash, or why the binding is undefined for it. */
export type EndPointHash = { hash: CertificateHash; value: Uint8Array } | { hash: undefined; reason: string };

/**
 * RFC 5929 4.1: the hash of the certificate's DER with the hash function of its signature
 * algorithm, except that MD5 and SHA-1 are replaced by SHA-256. A signature algorithm with no
 * single hash (Ed25519, Ed448) leaves the binding undefined.
 */
export function tlsServerEndPointHash(certificateDer: Uint8Array): EndPointHash {
  const signature = signatureHash(certificateDer);
  if (signature.hash === undefined) return { hash: undefined, reason: `no tls-server-end-point binding is defined: ${signature.reason}` };
  const hash: CertificateHash = signature.hash === 'md5' || signature.hash === 'sha1' ? 'sha256' : signature.hash;
  return { hash, value: new Uint8Array(createHash(hash).update(certificateDer).digest()) };
}

/** "tls-server-end-point:" followed by the hash's bytes (not hex), as application data. */
export function tlsServerEndPointData(hash: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(TLS_SERVER_END_POINT_PREFIX);
  const out = new Uint8Array(prefix.length + hash.length);
  out.set(prefix);
  out.set(hash, prefix.length);
  return out;
}

/**
 * The SEC_CHANNEL_BINDINGS for a TLS channel whose server presented this certificate: only
 * application data, no addresses (as Schannel's SECPKG_ATTR_ENDPOINT_BINDINGS gives it), or why it
 * is undefined.
 */
export function tlsServerEndPointBindings(certificateDer: Uint8Array): { bindings: Uint8Array; hash: CertificateHash } | { reason: string } {
  const endPoint = tlsServerEndPointHash(certificateDer);
  if (endPoint.hash === undefined) return { reason: endPoint.reason };
  return {
    hash: endPoint.hash,
    bindings: packSecChannelBindings({
      initiatorAddrType: 0,
      initiatorAddress: new Uint8Array(0),
      acceptorAddrType: 0,
      acceptorAddress: new Uint8Array(0),
      applicationData: tlsServerEndPointData(endPoint.value),
    }),
  };
}

/**
 * What a server application adds to AcceptSecurityContext for its Extended Protection setting, as
 * HTTP.sys and .NET do: "none" passes no bindings (nothing is checked); "allowed" passes them with
 * ASC_REQ_ALLOW_MISSING_BINDINGS (a client that sends none passes, a client that sends others is
 * refused); "required" passes them without it (a client must send these bindings).
 */
export function acceptBindings(policy: ExtendedProtection, bindings: Uint8Array | undefined): { input: SecBuffer[]; contextReq: number } {
  if (policy === 'none' || bindings === undefined) return { input: [], contextReq: 0 };
  return {
    input: [{ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: bindings }],
    contextReq: policy === 'allowed' ? ASC_REQ.ALLOW_MISSING_BINDINGS : 0,
  };
}
