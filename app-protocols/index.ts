// app-protocols/: what applications say to each other: the default apps' messages, gss-sample
// framing over TCP, HTTP authentication (RFC 4559), the socket apps' control port.
export { DEFAULT_RECEIVE_TIMEOUT_MS, receiveAppMessage, type AppMessage } from './app-messages.js';
export { FramedSocket, ProtocolError } from './framed-socket.js';
export { DEFAULT_MAX_TOKEN, TOKEN, tokenFlagNames } from './gss-framing.js';
export { authorization, ntlmChallenge, parseAuthorization, wwwAuthenticate } from './http-auth.js';
export {
  SOCKET_DEFAULTS,
  MAX_EVENTS_PER_MESSAGE,
  decodeSocketAppEvents,
  median,
  type HttpRequestRecord,
  type SocketAppCommand,
  type SocketAppEvent,
  type SocketAppSummary,
  type SocketProtocol,
  type TcpConnectionRecord,
} from './socket-control.js';
