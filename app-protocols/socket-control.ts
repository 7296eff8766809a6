// The control port of a socket server app (server-proc/http-app.ts, server-proc/tcp-app.ts): a
// MessagePort the machine's side hands to the app with runApp, on which the app says where it
// listens and reports every request and connection (the events of one turn in one message), and
// the machine tells it to stop. The
// socket itself and every SSPI call stay in the server process's worker.

import { array, boolean, finite, integer, oneOf, optionalString, record, string } from '../ipc/index.js';
import { EXTENDED_PROTECTION_LEVELS, type ExtendedProtection } from './channel-bindings.js';

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

/** What an HTTPS server app says of its certificate and policy when it listens. */
export interface TlsListening {
  /** SHA-256 over the certificate's DER, "AB:CD:..." (openssl x509 -fingerprint -sha256). */
  fingerprint256: string;
  /** The certificate's subject, one RDN a line as node prints it. */
  subject: string;
  /** Whether the server made the certificate itself (no --cert given). */
  generated: boolean;
  /** The hash tls-server-end-point uses for this certificate (RFC 5929 4.1), or null where it is undefined. */
  bindingHash: string | null;
  extendedProtection: ExtendedProtection;
}

/** App to machine. */
export type SocketAppEvent =
  | { kind: 'listening'; protocol: SocketProtocol; host: string; port: number; tls?: TlsListening }
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
  /** Median handshake time, ms, of the last HANDSHAKE_TIMES_KEPT (null when none completed). */
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

/** How many of a server's latest handshake times its summary's median is taken over. */
export const HANDSHAKE_TIMES_KEPT = 65_536;

/**
 * A server app's latest handshake times, for the median in its summary: the last `kept` of them,
 * not every one of the server's life (a server under load makes thousands a second).
 */
export class HandshakeTimes {
  private readonly times: number[] = [];
  private added = 0;
  private readonly kept: number;

  constructor(kept = HANDSHAKE_TIMES_KEPT) {
    this.kept = kept;
  }

  add(ms: number): void {
    if (this.times.length < this.kept) this.times.push(ms);
    else this.times[this.added % this.kept] = ms;
    this.added++;
  }

  /** The median of the times kept, or null when there are none. */
  median(): number | null {
    return median(this.times);
  }
}

/**
 * The most events one control message carries. The app posts the events of one turn of its event
 * loop as one message (an array), because a message per request cost the server process as much
 * as node:http's own work on it; a turn with more events than this posts more than one message.
 */
export const MAX_EVENTS_PER_MESSAGE = 1024;

/** A control message as a socket server app posted it (an array of events), decoded; malformed events are dropped. */
export function decodeSocketAppEvents(value: unknown): SocketAppEvent[] {
  if (!Array.isArray(value)) return [];
  const events: SocketAppEvent[] = [];
  for (let i = 0; i < value.length && i < MAX_EVENTS_PER_MESSAGE; i++) {
    const event = decodeSocketAppEvent(value[i]);
    if (event !== undefined) events.push(event);
  }
  return events;
}

/**
 * An event as a socket server app posted it, decoded: the app runs in a process, and what a
 * process posts is checked before the machine reads it. Anything malformed is undefined (dropped).
 */
function decodeSocketAppEvent(value: unknown): SocketAppEvent | undefined {
  try {
    const r = record(value, 'the event');
    switch (r.kind) {
      case 'listening': {
        const listening: SocketAppEvent = {
          kind: 'listening',
          protocol: oneOf(r.protocol, 'protocol', PROTOCOLS),
          host: string(r.host, 'host', 256),
          port: integer(r.port, 'port', 0, 65535),
        };
        if (r.tls !== undefined) listening.tls = decodeTlsListening(r.tls);
        return listening;
      }
      case 'request':
        return { kind: 'request', record: decodeHttpRequestRecord(r.record), line: string(r.line, 'line', MAX_LINE) };
      case 'connection':
        return { kind: 'connection', record: decodeTcpConnectionRecord(r.record), line: string(r.line, 'line', MAX_LINE) };
      case 'closed':
        return {
          kind: 'closed',
          connection: integer(r.connection, 'connection', 0, Number.MAX_SAFE_INTEGER),
          contextDeleted: boolean(r.contextDeleted, 'contextDeleted'),
        };
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

const PROTOCOLS: ReadonlySet<SocketProtocol> = new Set<SocketProtocol>(['http', 'tcp']);
const EXTENDED_PROTECTION: ReadonlySet<ExtendedProtection> = new Set(EXTENDED_PROTECTION_LEVELS);

function decodeTlsListening(value: unknown): TlsListening {
  const r = record(value, 'tls');
  const fingerprint256 = string(r.fingerprint256, 'tls.fingerprint256', 95);
  if (!/^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/.test(fingerprint256)) throw new Error('tls.fingerprint256 is not a SHA-256 fingerprint');
  return {
    fingerprint256,
    subject: string(r.subject, 'tls.subject', 4096),
    generated: boolean(r.generated, 'tls.generated'),
    bindingHash: r.bindingHash === null ? null : oneOf(r.bindingHash, 'tls.bindingHash', BINDING_HASHES),
    extendedProtection: oneOf(r.extendedProtection, 'tls.extendedProtection', EXTENDED_PROTECTION),
  };
}

const BINDING_HASHES: ReadonlySet<string> = new Set(['sha224', 'sha256', 'sha384', 'sha512']);
const MAX_LINE = 16_384;

function nullableString(value: unknown, what: string): string | null {
  return value === null ? null : string(value, what, MAX_LINE);
}

function nullableNumber(value: unknown, what: string): number | null {
  return value === null ? null : finite(value, what);
}

function decodeHttpRequestRecord(value: unknown): HttpRequestRecord {
  const r = record(value, 'record');
  const out: HttpRequestRecord = {
    connection: integer(r.connection, 'connection', 0, Number.MAX_SAFE_INTEGER),
    remote: string(r.remote, 'remote', 256),
    method: string(r.method, 'method', 64),
    path: string(r.path, 'path', MAX_LINE),
    user: nullableString(r.user, 'user'),
    status: integer(r.status, 'status', 100, 999),
    handshakeMs: nullableNumber(r.handshakeMs, 'handshakeMs'),
  };
  const note = optionalString(r.note, 'note', MAX_LINE);
  if (note !== undefined) out.note = note;
  return out;
}

function decodeTcpConnectionRecord(value: unknown): TcpConnectionRecord {
  const r = record(value, 'record');
  const out: TcpConnectionRecord = {
    connection: integer(r.connection, 'connection', 0, Number.MAX_SAFE_INTEGER),
    remote: string(r.remote, 'remote', 256),
    user: nullableString(r.user, 'user'),
    status: string(r.status, 'status', 256),
    handshakeMs: nullableNumber(r.handshakeMs, 'handshakeMs'),
    messages: array(r.messages, 'messages', 64).map((m, i) => string(m, `messages[${i}]`, MAX_LINE)),
  };
  const note = optionalString(r.note, 'note', MAX_LINE);
  if (note !== undefined) out.note = note;
  return out;
}
