// app-protocols/: what applications say to each other: the default apps' messages, gss-sample
// framing over TCP, HTTP authentication (RFC 4559), the socket apps' control port, and for HTTPS the
// certificates and the channel bindings (RFC 5929) a TLS channel gives authentication.
export { DEFAULT_RECEIVE_TIMEOUT_MS, receiveAppMessage, type AppMessage } from './app-messages.js';
export {
  pem,
  selfSignedCertificate,
  signatureHash,
  type CertificateHash,
  type CertificateKeyType,
  type SelfSignedCertificate,
  type SelfSignedOptions,
  type SignatureHash,
  type SignatureHashResult,
} from './certificate.js';
export {
  DEFAULT_EXTENDED_PROTECTION,
  EXTENDED_PROTECTION_LEVELS,
  TLS_SERVER_END_POINT_PREFIX,
  acceptBindings,
  isExtendedProtection,
  tlsServerEndPointBindings,
  tlsServerEndPointData,
  tlsServerEndPointHash,
  type EndPointHash,
  type ExtendedProtection,
} from './channel-bindings.js';
export { DerError } from '../packages/kit/index.js';
export { FramedSocket, ProtocolError } from './framed-socket.js';
export { DEFAULT_MAX_TOKEN, TOKEN, tokenFlagNames } from './gss-framing.js';
export { authorization, ntlmChallenge, parseAuthorization, schemeChallenge, schemeOfPackage, wwwAuthenticate, NEGOTIATE_SCHEME, NTLM_SCHEME, type HttpAuthScheme } from './http-auth.js';
export {
  SOCKET_DEFAULTS,
  MAX_EVENTS_PER_MESSAGE,
  decodeSocketAppEvents,
  median,
  HandshakeTimes,
  HANDSHAKE_TIMES_KEPT,
  type HttpRequestRecord,
  type SocketAppCommand,
  type SocketAppEvent,
  type SocketAppSummary,
  type SocketProtocol,
  type TcpConnectionRecord,
  type TlsListening,
} from './socket-control.js';
