// The plain baseline of the HTTP socket rows (bench/http-sockets.ts): a node:http server in its
// own worker thread (as `serve --http` runs in its server process's), with the same server options
// and the same three answers, but no SSPI:
//
//   no credentials, or another scheme   401  WWW-Authenticate: NTLM
//   a connection's first NTLM token     401  WWW-Authenticate: NTLM <CHALLENGE>
//   its second                          200  "user: DOMAIN\user" and the package
//   a malformed Authorization           400
//
// The CHALLENGE is a real one of the size the NTLM package sends (built once, at start, with the
// package's own leg and the machine's names), so the load generator does the same client work
// against both servers; the AUTHENTICATE is not checked. The bench reads and resets its counts
// between rows ({ kind: 'take' }).

import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ISC_REQ } from '../../headers/index.js';
import { SOCKET_DEFAULTS, parseAuthorization, wwwAuthenticate } from '../../app-protocols/index.js';
import { challengeFor, negotiateFor, type ServerNames } from '../../packages/ntlm/wire.js';
import { listenOn } from '../../server-proc/index.js';

export interface PlainHttpData {
  host: string;
  names: ServerNames;
  /** The name the 200 reports, "DOMAIN\\user", as SECPKG_ATTR_NAMES gives it to the NTLM server. */
  user: string;
}

/** The counts since the last take. */
export interface PlainCounts {
  kind: 'counts';
  connections: number;
  requests: number;
  /** 200s: handshakes completed. */
  handshakes: number;
  /** 400s. */
  failures: number;
}

const HTTP_CLIENT_REQ = ISC_REQ.CONNECTION | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT;

function respond(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(bytes.byteLength), ...headers });
  res.end(bytes);
}

async function serve(data: PlainHttpData): Promise<void> {
  const port = parentPort!;
  const built = challengeFor(negotiateFor(HTTP_CLIENT_REQ).bytes, data.names, new Uint8Array(randomBytes(8)), new Date());
  if (!built.ok) throw new Error(`the NTLM package refused its own NEGOTIATE: ${built.reason}`);
  const challengeHeader = wwwAuthenticate(built.challenge);
  const authenticated = `user: ${data.user}\npackage: NTLM\n`;
  const counts: PlainCounts = { kind: 'counts', connections: 0, requests: 0, handshakes: 0, failures: 0 };
  /** Connections that were sent the CHALLENGE and wait to send their AUTHENTICATE. */
  const challenged = new WeakSet<Socket>();

  // The options server-proc/http-app.ts gives its server, with the socket defaults.
  const timeoutMs = SOCKET_DEFAULTS.timeoutMs;
  const server = createServer({
    maxHeaderSize: 16 * 1024,
    headersTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    keepAliveTimeout: SOCKET_DEFAULTS.keepAliveMs,
    connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(timeoutMs / 4))),
  });
  server.on('connection', () => counts.connections++);
  server.on('request', (req, res) => {
    counts.requests++;
    req.resume();
    const auth = parseAuthorization(req.headers.authorization);
    if (auth.kind === 'malformed') {
      counts.failures++;
      return respond(res, 400, `bad Authorization header: ${auth.reason}\n`);
    }
    if (auth.kind !== 'ntlm') return respond(res, 401, 'NTLM authentication required\n', { 'WWW-Authenticate': wwwAuthenticate() });
    if (!challenged.has(req.socket)) {
      challenged.add(req.socket);
      return respond(res, 401, 'NTLM authentication continues\n', { 'WWW-Authenticate': challengeHeader });
    }
    challenged.delete(req.socket);
    counts.handshakes++;
    respond(res, 200, authenticated);
  });
  const bound = await listenOn(server, data.host, 0);
  port.on('message', (message: { kind: 'take' | 'stop' }) => {
    if (message.kind === 'take') {
      port.postMessage({ ...counts });
      Object.assign(counts, { connections: 0, requests: 0, handshakes: 0, failures: 0 });
    } else {
      server.closeAllConnections();
      server.close(() => port.close());
    }
  });
  port.postMessage({ kind: 'listening', port: bound });
}

if (!isMainThread && parentPort !== null) await serve(workerData as PlainHttpData);
