// The HTTPS side of the HTTP client app: a keep-alive agent whose connections are handed to HTTP
// only after the server's certificate has been checked (so not even the NEGOTIATE goes to a server
// the client does not trust), the trust choices `fetch` offers (the system's CAs by default,
// --ca FILE, a pinned --fingerprint, or --insecure), certificate failures under Schannel's names,
// and the channel bindings of the certificate the server presented on the connection.
//
// args.tls: { ca?: string (PEM), fingerprint256?: string ("AB:CD:..." or 64 hex digits), insecure?: boolean }

import { Agent as HttpsAgent } from 'node:https';
import type { RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { SEC_E_CERT_EXPIRED, SEC_E_UNTRUSTED_ROOT, SEC_E_WRONG_PRINCIPAL, type Status } from '../headers/index.js';
import { tlsServerEndPointBindings, type CertificateHash } from '../app-protocols/index.js';
import { NoAnswerInTime } from './network-failure.js';

/** How the client decides to trust the server's certificate. */
export type TlsTrust =
  /** The system's certificate authorities and the URL's host name, as a browser does. */
  | { kind: 'default' }
  /** Only these certificate authorities (or the self-signed certificate itself), and the host name. */
  | { kind: 'ca'; ca: string }
  /** Exactly this certificate, by its SHA-256 fingerprint; no chain or name is checked. */
  | { kind: 'fingerprint'; fingerprint256: string }
  /** Any certificate (curl -k): the channel bindings still name the certificate presented. */
  | { kind: 'insecure' };

/** Reads args.tls; a string says what is wrong. */
export function tlsTrust(value: unknown): TlsTrust | string {
  if (value === undefined || value === null) return { kind: 'default' };
  if (typeof value !== 'object') return 'args.tls is not an object';
  const { ca, fingerprint256, insecure } = value as Record<string, unknown>;
  const chosen = [ca !== undefined, fingerprint256 !== undefined, insecure === true].filter(Boolean).length;
  if (chosen > 1) return 'choose one of a CA, a fingerprint and insecure';
  if (ca !== undefined) return typeof ca === 'string' && ca.includes('-----BEGIN CERTIFICATE-----') ? { kind: 'ca', ca } : 'the CA is not PEM certificates';
  if (fingerprint256 !== undefined) {
    const normalized = typeof fingerprint256 === 'string' ? normalizeFingerprint(fingerprint256) : undefined;
    return normalized === undefined ? 'the fingerprint is not 32 bytes of hex (SHA-256)' : { kind: 'fingerprint', fingerprint256: normalized };
  }
  return insecure === true ? { kind: 'insecure' } : { kind: 'default' };
}

/** "ab:cd:..." or "abcd..." (64 hex digits, colons optional) as node prints fingerprints: upper case, colon-separated. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^sha256[:/]/i, '')
    .replace(/:/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  return hex.toUpperCase().match(/../g)!.join(':');
}

/** A certificate the client does not trust, with the Schannel status that says why. */
export class CertificateRefused extends Error {
  override readonly name = 'CertificateRefused';
  readonly status: Status;
  constructor(status: Status, message: string) {
    super(message);
    this.status = status;
  }
}

/** node's (OpenSSL's) verification codes, as Schannel's statuses name the same failures. */
export function certificateStatus(error: unknown): Status | undefined {
  if (error instanceof CertificateRefused) return error.status;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'CERT_UNTRUSTED':
    case 'CERT_SIGNATURE_FAILURE':
      return SEC_E_UNTRUSTED_ROOT;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return SEC_E_WRONG_PRINCIPAL;
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return SEC_E_CERT_EXPIRED;
    default:
      return undefined;
  }
}

/**
 * A keep-alive https.Agent (one socket: NTLM authenticates the connection) that connects, checks
 * the certificate as `trust` says, and only then gives the socket to HTTP.
 */
export class TrustingAgent extends HttpsAgent {
  private readonly trust: TlsTrust;
  /**
   * The certificate each connection's server presented, taken at the handshake: node's
   * getPeerX509Certificate() answers undefined once a kept-alive TLS 1.3 socket has gone back to the
   * agent between two requests (seen with node 20), and the AUTHENTICATE goes on such a socket.
   */
  private readonly presented = new WeakMap<Duplex, X509Certificate>();
  /** The connection open() made ahead of the first request, until a request takes it. */
  private opened: { key: string; socket: Duplex } | undefined;

  constructor(trust: TlsTrust) {
    super({ keepAlive: true, maxSockets: 1 });
    this.trust = trust;
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = options.hostname ?? options.host ?? 'localhost';
    const opened = this.opened;
    this.opened = undefined;
    if (opened !== undefined && opened.key === connectionKey(host, options.port) && !opened.socket.destroyed) {
      callback?.(null, opened.socket);
      return undefined;
    }
    opened?.socket.destroy();
    this.connectChecked(host, Number(options.port ?? 443), (error, socket) => callback?.(error, socket));
    return undefined;
  }

  /** A TLS connection, given to `callback` once the server's certificate is trusted (or with why not). */
  private connectChecked(host: string, port: number, callback: (err: Error | null, stream: Duplex) => void): Duplex {
    const trust = this.trust;
    const socket = tlsConnect({
      host,
      port,
      // RFC 6066: no SNI for an IP address; the name check then uses the address (an IP SAN).
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(trust.kind === 'ca' ? { ca: trust.ca } : {}),
      rejectUnauthorized: trust.kind === 'default' || trust.kind === 'ca',
    });
    let settled = false;
    const settle = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      if (error !== null) socket.destroy();
      callback(error, socket);
    };
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerX509Certificate();
      if (certificate === undefined) return settle(new CertificateRefused(SEC_E_UNTRUSTED_ROOT, 'the server presented no certificate'));
      if (trust.kind === 'fingerprint' && certificate.fingerprint256 !== trust.fingerprint256)
        return settle(new CertificateRefused(SEC_E_UNTRUSTED_ROOT, `the server's certificate (SHA-256 ${certificate.fingerprint256}) is not the pinned one`));
      this.presented.set(socket, certificate);
      settle(null);
    });
    socket.once('error', (error) => settle(error));
    return socket;
  }

  /**
   * Connects to the URL's server and checks its certificate before any request is made, and the
   * first request goes on that connection: a client binds its first token to the channel, as
   * WinHTTP has its connection before it calls InitializeSecurityContext (Kerberos' AP-REQ is the
   * only token the client sends, so bindings that came with a later call would bind nothing).
   */
  open(url: URL, timeoutMs: number): Promise<{ socket: Duplex; certificate: X509Certificate | undefined }> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? 443 : Number(url.port);
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const socket = this.connectChecked(host, port, (error, connected) => {
        if (timedOut) return;
        clearTimeout(timer);
        if (error !== null) return reject(error);
        this.opened = { key: connectionKey(host, port), socket: connected };
        resolve({ socket: connected, certificate: this.presented.get(connected) });
      });
      const timer = setTimeout(() => {
        timedOut = true;
        socket.destroy();
        reject(new NoAnswerInTime(`no TLS connection within the time limit`));
      }, timeoutMs);
    });
  }

  override destroy(): void {
    this.opened?.socket.destroy();
    this.opened = undefined;
    super.destroy();
  }

  /** The certificate the server presented on one of this agent's connections. */
  certificateOf(socket: Duplex): X509Certificate | undefined {
    return this.presented.get(socket);
  }
}

function connectionKey(host: string, port: string | number | null | undefined): string {
  return `${host}:${Number(port ?? 443)}`;
}

/** The channel bindings of a TLS connection whose server presented this certificate, or why there are none. */
export function connectionBindings(
  certificate: X509Certificate | undefined,
): { bindings: Uint8Array; hash: CertificateHash; fingerprint256: string } | { reason: string } {
  if (certificate === undefined) return { reason: 'the server presented no certificate' };
  const endPoint = tlsServerEndPointBindings(new Uint8Array(certificate.raw));
  return 'reason' in endPoint ? endPoint : { ...endPoint, fingerprint256: certificate.fingerprint256 };
}
