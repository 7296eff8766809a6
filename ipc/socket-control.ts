// The control port of a socket server app (server-proc/http-app.ts, server-proc/tcp-app.ts): a
// MessagePort the machine's side hands to the app with runApp, on which the app says where it
// listens and reports every request and connection, and the machine tells it to stop. The
// socket itself and every SSPI call stay in the server process's worker.

/** Which socket server app; also the protocol it speaks. */
export type SocketProtocol = 'http' | 'tcp';

/** One HTTP request as the server answered it (one log line). */
export interface HttpRequestRecord {
  connection: number;
  remote: string;
  method: string;
  path: string;
  /** The connection's authenticated user (SECPKG_ATTR_NAMES), if any. */
  user: string | null;
  status: number;
  /** The handshake this request completed or failed, in ms; null when it took no part in one. */
  handshakeMs: number | null;
  /** Why the answer was not a 200, in a few words (the SSPI status, the header's fault). */
  note?: string;
}

/** One TCP connection as the server ended it (one log line). */
export interface TcpConnectionRecord {
  connection: number;
  remote: string;
  user: string | null;
  /** The outcome's status name (SEC_E_OK, SEC_E_LOGON_DENIED, ...) or the protocol fault's code. */
  status: string;
  handshakeMs: number | null;
  /** The unwrapped messages, each cut to 200 characters, at most 16 of them. */
  messages: string[];
  note?: string;
}

/** App to machine. */
export type SocketAppEvent =
  | { kind: 'listening'; protocol: SocketProtocol; host: string; port: number }
  | { kind: 'request'; record: HttpRequestRecord; line: string }
  | { kind: 'connection'; record: TcpConnectionRecord; line: string }
  /** A connection closed and its security context (if any) was deleted. */
  | { kind: 'closed'; connection: number; contextDeleted: boolean };

/** Machine to app. */
export type SocketAppCommand = { kind: 'stop' };

/** What a socket server app's main returns in AppResult.data. */
export interface SocketAppSummary {
  connections: number;
  /** HTTP requests answered, or TCP connections ended. */
  handled: number;
  /** Handshakes that completed with SEC_E_OK. */
  authenticated: number;
  /** Handshakes that failed. */
  failed: number;
  /** Median handshake time, ms (null when none completed). */
  medianHandshakeMs: number | null;
}

/** The default limits, shared by the apps and the CLI's usage text. */
export const SOCKET_DEFAULTS = {
  host: '127.0.0.1',
  /** A request's headers (HTTP) or one token (TCP) must arrive within this many ms. */
  timeoutMs: 10_000,
  /** An idle keep-alive HTTP connection is closed after this many ms. */
  keepAliveMs: 5_000,
  maxConnections: 1_000,
  /** On stop, in-flight requests get this long before their connections are cut. */
  stopGraceMs: 2_000,
} as const;

/** The median of some times, or null. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
