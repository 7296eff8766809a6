// An HTTP server with Negotiate and NTLM authentication (RFC 4559), running in a server process:
// node:http listens in this worker, and every AcceptSecurityContext goes through this process's
// SSPI library to the emulated LSA. As IIS does with its default providers, it offers Negotiate
// first, then NTLM, and each scheme's tokens go to the package of that name (app-protocols/http-auth.ts).
// The authentication belongs to the connection, not to the request:
//
//   no credentials                 401  WWW-Authenticate: Negotiate, WWW-Authenticate: NTLM
//   NTLM <NEGOTIATE>               401  WWW-Authenticate: NTLM <CHALLENGE>     (a context for this connection)
//   NTLM <AUTHENTICATE>            200  "user: DOMAIN\user" and the package    (the connection is authenticated)
//   Negotiate <NegTokenInit>       401  WWW-Authenticate: Negotiate <NegTokenResp>
//   Negotiate <NegTokenResp>       200  WWW-Authenticate: Negotiate <NegTokenResp accept-completed, mechListMIC>
//                               or 401  with the bare schemes                  (the context is deleted)
//   a malformed Authorization      400, the connection and its state unchanged
//   another scheme                 401  with the bare schemes
//
// Negotiate is offered when the server's package is NTLM and the Negotiate package is loaded
// (--package negotiate offers Negotiate alone; another package's tokens go under "NTLM" alone).
// A client that sends raw NTLMSSP under "Negotiate" (some do) gets raw NTLM tokens back under it:
// Negotiate's acceptor takes them. A token under another scheme than the connection's handshake
// in progress starts a new handshake on that scheme's credential.
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
// another TLS channel, is refused with SEC_E_BAD_BINDINGS. Under Negotiate the same buffer and flag
// go to Negotiate, which passes them to the mechanism it selected.
//
// args: host, port (0: any free one), package, control (MessagePort), timeoutMs, keepAliveMs,
// maxConnections, maxHeaderSize, tls.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ASC_REQ, SECBUFFER, SECPKG_ATTR, SEC_E_INTERNAL_ERROR, SEC_E_OK, SEC_I_CONTINUE_NEEDED, isSuccess, statusName, tokenBytes, type Status } from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import {
  acceptBindings,
  parseAuthorization,
  schemeOfPackage,
  wwwAuthenticate,
  NEGOTIATE_SCHEME,
  NTLM_SCHEME,
  SOCKET_DEFAULTS,
  type HttpAuthScheme,
  HandshakeTimes,
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

/** A scheme the server offers, and the package and inbound credential its tokens go to. */
interface Offer {
  readonly scheme: HttpAuthScheme;
  /** The package's SecPkgInfo Name, as the 200 names it. */
  readonly packageName: string;
  readonly credential: CredHandle;
}

/** Where a request came from: the start of its log record. */
type RequestAt = Pick<HttpRequestRecord, 'connection' | 'remote' | 'method' | 'path'>;

interface Conn {
  readonly id: number;
  readonly socket: Socket;
  readonly remote: string;
  context: CtxtHandle | undefined;
  /** The scheme of the handshake in progress or done on this connection. */
  offer: Offer | undefined;
  /** 'challenged': a 401 with a token went out and the context waits for the client's next token. */
  stage: 'none' | 'challenged' | 'authenticated';
  user: string | null;
  /** Under Negotiate, the mechanism it selected (SECPKG_ATTR_NEGOTIATION_INFO). */
  mechanism: string | null;
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

  const offers = await offerSchemes(ctx, pkg, args);
  if ('failed' in offers) {
    control.close();
    return offers.failed;
  }
  const offered: readonly Offer[] = offers.offered;
  // The bare challenges of a 401 that starts (or restarts) a handshake, in the order offered.
  const challenges = offered.map((o) => wwwAuthenticate(undefined, o.scheme));
  const offerFor = (scheme: HttpAuthScheme): Offer | undefined => offered.find((o) => o.scheme === scheme);

  /** Every connection until its context is deleted after it closed. */
  const conns = new Map<Socket, Conn>();
  const handshakeTimes = new HandshakeTimes();
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
      offer: undefined,
      stage: 'none',
      user: null,
      mechanism: null,
      handshakeStart: 0,
      chain: Promise.resolve(),
      closed: false,
      released: new Promise<void>((resolve) => (released = resolve)),
    };
    summary.connections++;
    conns.set(socket, conn);
    ctx.trace('HttpAccept', () => `conn#${conn.id} from ${conn.remote}${tls === undefined ? '' : ` ${(socket as TLSSocket).getProtocol() ?? 'TLS'}`}`);
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
    const scheme = auth.kind === 'ntlm' ? NTLM_SCHEME : auth.kind === 'negotiate' ? NEGOTIATE_SCHEME : undefined;
    const token = auth.kind === 'ntlm' || auth.kind === 'negotiate' ? auth.token : undefined;
    ctx.trace(
      'HttpRequest',
      () =>
        `conn#${conn.id} ${base.method} ${base.path}${token !== undefined ? ` Authorization ${scheme} ${token.byteLength} B` : auth.kind === 'none' ? '' : ` Authorization ${auth.kind}`}`,
    );

    if (auth.kind === 'malformed') {
      respond(res, 400, `bad Authorization header: ${auth.reason}\n`);
      return logRequest(base, conn.user, 400, null, auth.reason);
    }
    const offer = scheme === undefined ? undefined : offerFor(scheme);
    if (token === undefined || offer === undefined) {
      if (conn.stage === 'authenticated' && auth.kind === 'none') {
        respondAuthenticated(conn, res);
        return logRequest(base, conn.user, 200, null);
      }
      respond(res, 401, `${offered.map((o) => o.scheme).join(' or ')} authentication required\n`, { 'WWW-Authenticate': challenges });
      const refused = auth.kind === 'other' ? auth.scheme : scheme;
      return logRequest(base, null, 401, null, refused === undefined ? undefined : `scheme ${refused} not offered`);
    }

    // A token: the next leg of this connection's handshake, or the first leg of a new one.
    if (conn.stage !== 'challenged' || conn.offer !== offer) {
      // A new connection's first token has no context to drop: no await for it.
      if (conn.context === undefined) clearHandshake(conn);
      else await dropContext(conn);
      conn.handshakeStart = performance.now();
    }
    conn.offer = offer;
    const r = await ctx.sspi.acceptSecurityContext({
      credential: offer.credential,
      context: conn.context ?? null,
      input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }, ...channel.input],
      contextReq,
    });
    if (r.context !== undefined && conn.context === undefined) {
      conn.context = r.context;
      const bound = r.context;
      ctx.trace('ContextBound', () => `conn#${conn.id} context ${bound.dwLower}:${bound.dwUpper}`);
    }
    const out = tokenBytes(r.output);
    const elapsed = (): number => round(performance.now() - conn.handshakeStart);

    if (r.status === SEC_I_CONTINUE_NEEDED) {
      conn.stage = 'challenged';
      respond(res, 401, `${offer.scheme} authentication continues\n`, { 'WWW-Authenticate': wwwAuthenticate(out ?? new Uint8Array(0), offer.scheme) });
      traceOut(conn, 401, offer.scheme, out);
      return logRequest(base, null, 401, null, 'challenge');
    }
    if (r.status === SEC_E_OK && conn.context !== undefined) {
      const names = await ctx.sspi.queryContextAttributes(conn.context, SECPKG_ATTR.NAMES);
      conn.user = names.buffer?.sUserName ?? '?';
      conn.mechanism = offer.scheme === NEGOTIATE_SCHEME ? await mechanismOf(conn.context) : null;
      conn.stage = 'authenticated';
      const handshakeMs = elapsed();
      handshakeTimes.add(handshakeMs);
      summary.authenticated++;
      // RFC 4559 section 5: the final token (Negotiate's accept-completed with its mechListMIC) goes with the 200.
      respondAuthenticated(conn, res, out !== undefined && out.byteLength > 0 ? { 'WWW-Authenticate': wwwAuthenticate(out, offer.scheme) } : {});
      traceOut(conn, 200, offer.scheme, out);
      return logRequest(base, conn.user, 200, handshakeMs);
    }
    // Any failure ends this handshake: a final 401 with the bare schemes, and the context is gone.
    const handshakeMs = elapsed();
    const status: Status = isSuccess(r.status) ? SEC_E_INTERNAL_ERROR : r.status;
    summary.failed++;
    await dropContext(conn);
    respond(res, 401, `authentication failed: ${statusName(status)}\n`, { 'WWW-Authenticate': challenges });
    traceOut(conn, 401, offer.scheme, undefined);
    return logRequest(base, null, 401, handshakeMs, statusName(status));
  }

  /** The package Negotiate selected, for the 200's body; '?' when the context does not say. */
  async function mechanismOf(context: CtxtHandle): Promise<string> {
    const info = await ctx.sspi.queryContextAttributes(context, SECPKG_ATTR.NEGOTIATION_INFO);
    return info.buffer?.PackageInfo.Name ?? '?';
  }

  function respondAuthenticated(conn: Conn, res: ServerResponse, headers: Record<string, string> = {}): void {
    const mechanism = conn.mechanism === null ? '' : `mechanism: ${conn.mechanism}\n`;
    respond(res, 200, `user: ${conn.user ?? '?'}\npackage: ${conn.offer?.packageName ?? '?'}\n${mechanism}`, headers);
  }

  function traceOut(conn: Conn, status: number, scheme: HttpAuthScheme, token: Uint8Array | undefined): void {
    ctx.trace('HttpResponse', () => `conn#${conn.id} ${status}${token !== undefined && token.byteLength > 0 ? ` WWW-Authenticate ${scheme} ${token.byteLength} B` : ''}`);
  }

  /** The connection is back to no handshake (its context, if any, already gone or being deleted). */
  function clearHandshake(conn: Conn): void {
    conn.context = undefined;
    conn.stage = 'none';
    conn.user = null;
    conn.mechanism = null;
  }

  async function dropContext(conn: Conn): Promise<boolean> {
    const context = conn.context;
    clearHandshake(conn);
    if (context === undefined) return false;
    await ctx.sspi.deleteSecurityContext(context);
    return true;
  }

  async function releaseConnection(conn: Conn): Promise<void> {
    const deleted = await dropContext(conn);
    ctx.trace('HttpClose', () => `conn#${conn.id}${deleted ? ' context deleted' : ''}`);
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
  // serveUntilStopped frees the first scheme's credential; the others are freed here, whatever happens.
  const [first, ...others] = offered;
  let failed: AppResult | null;
  try {
    failed = await serveUntilStopped(ctx, control, server, at, first!.credential, async (closed) => {
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
  } finally {
    for (const o of others) await ctx.sspi.freeCredentialsHandle(o.credential);
  }
  if (failed !== null) return failed;
  summary.medianHandshakeMs = handshakeTimes.median();
  return {
    status: SEC_E_OK,
    statusName: statusName(SEC_E_OK),
    detail: `served ${summary.handled} request(s) on ${summary.connections} connection(s); ${summary.authenticated} authenticated, ${summary.failed} failed`,
    data: { ...summary },
  };
}

/**
 * The schemes the server offers, Negotiate first (as IIS offers its default providers), each with
 * an inbound credential of its package: for the NTLM package, Negotiate too when it is loaded; for
 * Negotiate, Negotiate alone; for Kerberos, its raw tokens under "Negotiate" alone (IIS's
 * "Negotiate:Kerberos" provider); for another package, its tokens under "NTLM".
 */
async function offerSchemes(ctx: AppContext, pkg: string, args: AppArgs): Promise<{ offered: Offer[] } | { failed: AppResult }> {
  const info = await ctx.sspi.querySecurityPackageInfo(pkg);
  if (info.info === undefined) return { failed: appResult(info.status, failedCall(`QuerySecurityPackageInfo(${pkg})`, info)) };
  const name = info.info.Name;
  const acquired = await acquireAppCredential(ctx.sspi, pkg, 'inbound', args);
  if ('failed' in acquired) return acquired;
  const own: Offer = { scheme: schemeOfPackage(name), packageName: name, credential: acquired.credential };
  if (own.scheme === NEGOTIATE_SCHEME || name.toLowerCase() !== 'ntlm') return { offered: [own] };
  // Negotiate joins when its package is loaded; a machine without it offers NTLM alone.
  const negotiate = await ctx.sspi.querySecurityPackageInfo(NEGOTIATE_SCHEME);
  if (negotiate.info === undefined) return { offered: [own] };
  const extra = await acquireAppCredential(ctx.sspi, NEGOTIATE_SCHEME, 'inbound', args);
  if ('failed' in extra) {
    await ctx.sspi.freeCredentialsHandle(own.credential);
    return extra;
  }
  return { offered: [{ scheme: NEGOTIATE_SCHEME, packageName: negotiate.info.Name, credential: extra.credential }, own] };
}

function respond(res: ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(bytes.byteLength), ...headers });
  res.end(bytes);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
