// The HTTPS side of the HTTP server app: its certificate (the one given, or a self-signed one made
// here, in the server process, so that its private key never leaves the process that serves with
// it), the channel bindings of that certificate (RFC 5929 tls-server-end-point), and the Extended
// Protection policy that says what AcceptSecurityContext is told about them. TLS is terminated in
// this worker by node:https, as HTTP.sys terminates it for IIS before the request reaches SSPI.
//
// args.tls: { certPem?: string, keyPem?: string, extendedProtection?: 'none'|'allowed'|'required' }

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import {
  DEFAULT_EXTENDED_PROTECTION,
  isExtendedProtection,
  selfSignedCertificate,
  tlsServerEndPointBindings,
  type ExtendedProtection,
  type TlsListening,
} from '../app-protocols/index.js';
import { describeError } from '../ipc/index.js';

/** An HTTPS server's setup, ready for https.createServer and AcceptSecurityContext. */
export interface TlsServerSetup {
  certPem: string;
  keyPem: string;
  /** The SEC_CHANNEL_BINDINGS of the certificate, when tls-server-end-point is defined for it. */
  bindings: Uint8Array | undefined;
  extendedProtection: ExtendedProtection;
  listening: TlsListening;
}

/**
 * Reads args.tls; undefined for plain HTTP, a string saying what is wrong when the certificate,
 * key or policy cannot be used.
 */
export function tlsServerSetup(tls: unknown, host: string): TlsServerSetup | undefined | string {
  if (tls === undefined || tls === null) return undefined;
  if (typeof tls !== 'object') return 'args.tls is not an object';
  const { certPem: givenCert, keyPem: givenKey, extendedProtection: policy } = tls as Record<string, unknown>;
  const extendedProtection = policy ?? DEFAULT_EXTENDED_PROTECTION;
  if (!isExtendedProtection(extendedProtection)) return `extendedProtection must be none, allowed or required, not ${JSON.stringify(policy)}`;
  if ((givenCert === undefined) !== (givenKey === undefined)) return 'a certificate needs its key, and a key its certificate';
  if (givenCert !== undefined && (typeof givenCert !== 'string' || typeof givenKey !== 'string')) return 'certPem and keyPem must be PEM text';

  let certPem: string;
  let keyPem: string;
  let generated = false;
  if (givenCert === undefined) {
    // The names a client on this machine would use, and the host listened on.
    const altNames = ['localhost', '127.0.0.1', '::1'];
    if (host !== '0.0.0.0' && host !== '::' && !altNames.includes(host) && (isIP(host) !== 0 || /^[A-Za-z0-9.-]+$/.test(host))) altNames.push(host);
    ({ certPem, keyPem } = selfSignedCertificate({ commonName: 'localhost', altNames }));
    generated = true;
  } else {
    certPem = givenCert;
    keyPem = givenKey as string;
  }

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem); // the first certificate of a chain: the one the server presents
    if (!certificate.checkPrivateKey(createPrivateKey(keyPem))) return "the key is not the certificate's";
  } catch (error) {
    return `the certificate or key cannot be read: ${describeError(error)}`;
  }
  const endPoint = tlsServerEndPointBindings(new Uint8Array(certificate.raw));
  if ('reason' in endPoint && extendedProtection === 'required')
    return `Extended Protection "required" needs channel bindings, and ${endPoint.reason} (RFC 5929 4.1); use a certificate signed with RSA or ECDSA`;
  return {
    certPem,
    keyPem,
    bindings: 'bindings' in endPoint ? endPoint.bindings : undefined,
    extendedProtection,
    listening: {
      fingerprint256: certificate.fingerprint256,
      subject: certificate.subject,
      generated,
      bindingHash: 'hash' in endPoint ? endPoint.hash : null,
      extendedProtection,
    },
  };
}
