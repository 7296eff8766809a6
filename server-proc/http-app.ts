// An HTTP server with NTLM authentication, running in a server process: node:http listens in this
// worker, and every AcceptSecurityContext goes through this process's SSPI library to the
// emulated LSA. NTLM over HTTP authenticates the connection, not the request (ipc/http-auth.ts):
//
//   no credentials               401  WWW-Authenticate: NTLM
//   NTLM <NEGOTIATE>             401  WWW-Authenticate: NTLM <CHALLENGE>   (a context for this connection)
//   NTLM <AUTHENTICATE>          200  "user: DOMAIN\user" and the package  (the connection is authenticated)
//                             or 401  WWW-Authenticate: NTLM               (the context is deleted)
//   a malformed Authorization    400, the connection and its state unchanged
//   another scheme               401  WWW-Authenticate: NTLM
//
// Each connection has its own context, never shared; requests on one connection are handled one
// at a time, in order; the context is deleted when the connection closes. Slow clients are cut by
// the headers/request timeout, idle keep-alive connections by the keep-alive timeout, oversized
// headers by node's parser (431) before they are buffered. One log line per request goes up the
// control port (ipc/socket-control.ts); stop closes the listener and every connection and waits
// until their contexts are deleted.
//
// With args.tls it is an HTTPS server (server-proc/tls-server.ts): TLS is terminated here, and every
// AcceptSecurityContext gets the certificate's channel bindings (RFC 5929 tls-server-end-point) as
// a SECBUFFER_CHANNEL_BINDINGS, with ASC_REQ_ALLOW_MISSING_BINDINGS or without it as the Extended
// Protection policy says (app-protocols/channel-bindings.ts), so a relayed AUTHENTICATE, bound to
// another TLS channel, is refused with SEC_E_BAD_BINDINGS.
//
// args: host, port (0: any free one), package, control (MessagePort), timeoutMs, keepAliveMs,
// maxConnections, maxHeaderSize, tls.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ASC_REQ, SECBUFFER, SECPKG_ATTR, SEC_E_INTERNAL_ERROR, SEC_E_OK, SEC_I_CONTINUE_NEEDED, isSuccess, statusName, tokenBytes } from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import {
  acceptBindings,
  parseAuthorization,
  wwwAuthenticate,
  SOCKET_DEFAULTS,
  median,
  type HttpRequestRecord,
  type SocketAppSummary,
} from '../app-protocols/index.js';
import type { CredHandle, CtxtHandle } from '../sspi/index.js';
import { acquireAppCredential, appResult, failedCall, type AppArgs, type AppContext, type AppResult } from '../process/index.js';
import { serveUntilStopped, socketServerSettings } from './listen.js';
import { tlsServerSetup } from './tls-server.js';

/** ASC_REQ for HTTP: a connection-oriented context; signing and sealing are not used by HTTP. */
const HTTP_SERVER_REQ = ASC_REQ.CONNECTION | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT;
/** node's own default, stated: a 1 MiB header is refused (431) at 16 KiB, never buffered whole. */
const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;

/** Where a request came from: the start of its log record. */
type RequestAt = Pick<HttpRequestRecord, 'connection' | 'remote' | 'method' | 'path'>;

interface Conn {
  readonly id: number;
  readonly socket: Socket;
  readonly remote: string;
  context: CtxtHandle | undefined;
  /** 'challenged': a CHALLENGE went out and the context waits for the AUTHENTICATE. */
  stage: 'none' | 'challenged' | 'authenticated';
  user: string | null;
  handshakeStart: number;
  /** Requests on this connection, one after the other. */
  chain: Promise<void>;
  closed: boolean;
  /** Resolves once the connection closed and its context is deleted. */
  released: Promise<void>;
}

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const { control, host, port, pkg, timeoutMs, maxConnections } = socketServerSettings(args);
  const keepAliveMs = Number(args.keepAliveMs ?? SOCKET_DEFAULTS.keepAliveMs);
  const maxHeaderSize = Number(args.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE);

  const tls = tlsServerSetup(args.tls, host);
  if (typeof tls === 'string') {
    control.close();
    return appResult(SEC_E_INTERNAL_ERROR, `cannot serve HTTPS: ${tls}`);
  }
  // What every AcceptSecurityContext of this server adds for the channel: the same for all connections
  // (tls-server-end-point binds the server's certificate, not one connection).
  const channel = acceptBindings(tls?.extendedProtection ?? 'none', tls?.bindings);
  const contextReq = HTTP_SERVER_REQ | channel.contextReq;

  const info = await ctx.sspi.querySecurityPackageInfo(pkg);
  if (info.info === undefined) {
    control.close();
    return appResult(info.status, failedCall(`QuerySecurityPackageInfo(${pkg})`, info));
  }
  const packageName = info.info.Name;
  const acquired = await acquireAppCredential(ctx.sspi, pkg, 'inbound', args);
  if ('failed' in acquired) {
    control.close();
    return acquired.failed;
  }
  const credential: CredHandle = acquired.credential;

  /** Every connection until its context is deleted after it closed. */
  const conns = new Map<Socket, Conn>();
  const handshakeTimes: number[] = [];
  const summary: SocketAppSummary = { connections: 0, handled: 0, authenticated: 0, failed: 0, medianHandshakeMs: null };
  let nextConn = 1;

  const httpOptions = {
    maxHeaderSize,
    headersTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    keepAliveTimeout: keepAliveMs,
    // node checks the two timeouts above on this interval (30 s by default): make it fit them.
    connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(timeoutMs / 4))),
  };
  // A TLS handshake must finish within the same time as a request's headers.
  const server =
    tls === undefined ? createServer(httpOptions) : createHttpsServer({ ...httpOptions, cert: tls.certPem, key: tls.keyPem, handshakeTimeout: timeoutMs });
  server.maxConnections = maxConnections;

  /** HTTPS: every TCP connection, so that those still in their TLS handshake (not in `conns`) are cut on stop. */
  const handshaking = new Set<Socket>();
  if (tls !== undefined) {
    server.on('connection', (socket: Socket) => {
      handshaking.add(socket);
      socket.once('close', () => handshaking.delete(socket));
    });
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      // A client that refuses the certificate (curl without -k) or does not speak TLS: no request, no context.
      ctx.trace('TlsClientError', `from ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}: ${error.code ?? error.message}`);
    });
  }

  // The HTTP request's socket: the TCP socket, or for HTTPS the TLS socket once its handshake is done.
  server.on(tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
    let released!: () => void;
    const conn: Conn = {
      id: nextConn++,
      socket,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      context: undefined,
      stage: 'none',
      user: null,
      handshakeStart: 0,
      chain: Promise.resolve(),
      closed: false,
      released: new Promise<void>((resolve) => (released = resolve)),
    };
    summary.connections++;
    conns.set(socket, conn);
    ctx.trace('HttpAccept', `conn#${conn.id} from ${conn.remote}${tls === undefined ? '' : ` ${(socket as TLSSocket).getProtocol() ?? 'TLS'}`}`);
    socket.once('close', () => {
      conn.closed = true;
      // After the request in hand (if any): the context is deleted once nothing uses it.
      void conn.chain
        .then(() => releaseConnection(conn))
        .catch((error: unknown) => ctx.log(`conn#${conn.id}: release failed: ${describeError(error)}`))
        .finally(() => {
          conns.delete(socket);
          released();
        });
    });
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const conn = conns.get(req.socket);
    if (conn === undefined || conn.closed) {
      res.destroy();
      return;
    }
    conn.chain = conn.chain.then(() =>
      handle(conn, req, res).catch((error: unknown) => {
        ctx.log(`conn#${conn.id}: ${describeError(error)}`);
        if (!res.headersSent) respond(res, 500, 'internal error\n');
        else res.destroy();
      }),
    );
  });

  // Errors before a request exists: a header over maxHeaderSize (431), a slow client's timeout
  // (408), bytes that are not HTTP (400). node would answer them the same way on its own; the
  // listener logs them. A client that reset its connection gets no answer and no log line: it
  // asked nothing (an HTTPS client that refuses the certificate after the handshake does this).
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const conn = conns.get(socket);
    if (error.code === 'ECONNRESET') {
      socket.destroy();
      ctx.trace('HttpClientReset', `conn#${conn?.id ?? '?'} from ${conn?.remote ?? `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`}`);
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
    logRequest(
      { connection: conn?.id ?? 0, remote: conn?.remote ?? '?', method: '-', path: '-' },
      conn?.user ?? null,
      status,
      null,
      error.code ?? error.message,
    );
  });

  async function handle(conn: Conn, req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume(); // a body is not used; read and drop it so the connection stays usable
    const auth = parseAuthorization(req.headers.authorization);
    const base: RequestAt = { connection: conn.id, remote: conn.remote, method: req.method ?? '-', path: req.url ?? '-' };
    ctx.trace(
      'HttpRequest',
      `conn#${conn.id} ${base.method} ${base.path}${auth.kind === 'ntlm' ? ` Authorization NTLM ${auth.token.byteLength} B` : auth.kind === 'none' ? '' : ` Authorization ${auth.kind}`}`,
    );

    if (auth.kind === 'malformed') {
      respond(res, 400, `bad Authorization header: ${auth.reason}\n`);
      return logRequest(base, conn.user, 400, null, auth.reason);
    }
    if (auth.kind === 'none' || auth.kind === 'other') {
      if (conn.stage === 'authenticated' && auth.kind === 'none') {
        respondAuthenticated(conn, res);
        return logRequest(base, conn.user, 200, null);
      }
      respond(res, 401, 'NTLM authentication required\n', { 'WWW-Authenticate': wwwAuthenticate() });
      return logRequest(base, null, 401, null, auth.kind === 'other' ? `scheme ${auth.scheme} not offered` : undefined);
    }

    // An NTLM token: the next leg of this connection's handshake, or the first leg of a new one.
    if (conn.stage !== 'challenged') {
      await dropContext(conn);
      conn.handshakeStart = performance.now();
    }
    const r = await ctx.sspi.acceptSecurityContext({
      credential,
      context: conn.context ?? null,
      input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: auth.token }, ...channel.input],
      contextReq,
    });
    if (r.context !== undefined && conn.context === undefined) {
      conn.context = r.context;
      ctx.trace('ContextBound', `conn#${conn.id} context ${r.context.dwLower}:${r.context.dwUpper}`);
    }
    const out = tokenBytes(r.output);
    const elapsed = (): number => round(performance.now() - conn.handshakeStart);

    if (r.status === SEC_I_CONTINUE_NEEDED) {
      conn.stage = 'challenged';
      respond(res, 401, 'NTLM authentication continues\n', { 'WWW-Authenticate': wwwAuthenticate(out ?? new Uint8Array(0)) });
      traceOut(conn, 401, out);
      return logRequest(base, null, 401, null, 'challenge');
    }
    if (r.status === SEC_E_OK && conn.context !== undefined) {
      const names = await ctx.sspi.queryContextAttributes(conn.context, SECPKG_ATTR.NAMES);
      conn.user = names.buffer?.sUserName ?? '?';
      conn.stage = 'authenticated';
      const handshakeMs = elapsed();
      handshakeTimes.push(handshakeMs);
      summary.authenticated++;
      // RFC 4559 section 5: a final token (mutual authentication) goes with the 200.
      respondAuthenticated(conn, res, out !== undefined && out.byteLength > 0 ? { 'WWW-Authenticate': wwwAuthenticate(out) } : {});
      traceOut(conn, 200, out);
      return logRequest(base, conn.user, 200, handshakeMs);
    }
    // Any failure ends this handshake: a final 401, and the context is gone.
    const handshakeMs = elapsed();
    const status = isSuccess(r.status) ? SEC_E_INTERNAL_ERROR : r.status;
    summary.failed++;
    await dropContext(conn);
    respond(res, 401, `authentication failed: ${statusName(status)}\n`, { 'WWW-Authenticate': wwwAuthenticate() });
    traceOut(conn, 401, undefined);
    return logRequest(base, null, 401, handshakeMs, statusName(status));
  }

  function respondAuthenticated(conn: Conn, res: ServerResponse, headers: Record<string, string> = {}): void {
    respond(res, 200, `user: ${conn.user ?? '?'}\npackage: ${packageName}\n`, headers);
  }

  function traceOut(conn: Conn, status: number, token: Uint8Array | undefined): void {
    ctx.trace('HttpResponse', `conn#${conn.id} ${status}${token !== undefined && token.byteLength > 0 ? ` WWW-Authenticate NTLM ${token.byteLength} B` : ''}`);
  }

  async function dropContext(conn: Conn): Promise<boolean> {
    const context = conn.context;
    conn.context = undefined;
    conn.stage = 'none';
    conn.user = null;
    if (context === undefined) return false;
    await ctx.sspi.deleteSecurityContext(context);
    return true;
  }

  async function releaseConnection(conn: Conn): Promise<void> {
    const deleted = await dropContext(conn);
    ctx.trace('HttpClose', `conn#${conn.id}${deleted ? ' context deleted' : ''}`);
    control.post({ kind: 'closed', connection: conn.id, contextDeleted: deleted });
  }

  function logRequest(at: RequestAt, user: string | null, status: number, handshakeMs: number | null, note?: string): void {
    // One shape for every record, built whole (no member deleted, none undefined): it is cloned to the machine.
    const record: HttpRequestRecord = { connection: at.connection, remote: at.remote, method: at.method, path: at.path, user, status, handshakeMs };
    if (note !== undefined) record.note = note;
    summary.handled++;
    const line = `${record.method} ${record.path} ${record.user ?? '-'} ${record.status} handshake=${record.handshakeMs === null ? '-' : `${record.handshakeMs}ms`} conn=${record.connection}${record.note === undefined ? '' : ` (${record.note})`}`;
    control.post({ kind: 'request', record, line });
  }

  // No new connections; idle ones now; busy ones after the grace period; then every
  // connection's context is deleted before the app returns.
  const at = tls === undefined ? { protocol: 'http' as const, host, port } : { protocol: 'http' as const, host, port, tls: tls.listening };
  const failed = await serveUntilStopped(ctx, control, server, at, credential, async (closed) => {
    server.closeIdleConnections();
    const grace = setTimeout(() => {
      server.closeAllConnections();
      // HTTPS: node's list of HTTP connections does not hold those still in their TLS handshake.
      for (const socket of handshaking) socket.destroy();
    }, SOCKET_DEFAULTS.stopGraceMs);
    await closed;
    clearTimeout(grace);
    for (const socket of conns.keys()) socket.destroy();
    await Promise.all([...conns.values()].map((conn) => conn.released));
  });
  if (failed !== null) return failed;
  summary.medianHandshakeMs = median(handshakeTimes);
  return {
    status: SEC_E_OK,
    statusName: statusName(SEC_E_OK),
    detail: `served ${summary.handled} request(s) on ${summary.connections} connection(s); ${summary.authenticated} authenticated, ${summary.failed} failed`,
    data: { ...summary },
  };
}

function respond(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(bytes.byteLength), ...headers });
  res.end(bytes);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
