// A TCP server that speaks MIT krb5's gss-sample protocol (ipc/gss-framing.ts), running in a
// server process: node:net listens in this worker, AcceptSecurityContext goes through this
// process's SSPI library to the emulated LSA, and the user-mode half unwraps and signs here. MIT's
// gss-client (with gss-ntlmssp) and sspi-emu's own TCP client are its peers. Per connection, as
// gss-server.c sign_server does it:
//
//   NOOP|CONTEXT_NEXT   then CONTEXT tokens, each through AcceptSecurityContext; an output token
//                       goes back as CONTEXT; a failure closes the connection (the protocol has no
//                       error token: gss-server closes too)
//   DATA [WRAPPED [ENCRYPTED]] [SEND_MIC]   a WRAPPED message through DecryptMessage (a GSS
//                       wrap token is the signature then the sealed data: SECBUFFER_TOKEN then
//                       SECBUFFER_DATA), with or without ENCRYPTED, as gss-server gss_unwraps
//                       both: ENCRYPTED only says the client asked for confidentiality (gss-client
//                       -nx wraps without it, and gss-ntlmssp seals all the same); with SEND_MIC
//                       the answer is MIC, MakeSignature over the plaintext, else an empty NOOP
//   NOOP                goodbye: the context is deleted and the connection closed
//
// A connection without a context (no CONTEXT_NEXT) is refused: this server is for authentication.
// Each token must arrive within timeoutMs (a client sending a byte a second is cut), a length over
// maxToken is refused before it is allocated, and the context is deleted whenever the connection
// ends. One log line per connection goes up the control port.
//
// args: host, port (0: any free one), package, control (MessagePort), timeoutMs, maxConnections,
// maxToken.

import { createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ASC_REQ, SECBUFFER, SECPKG_ATTR, type SecBuffer, SEC_E_OK, SEC_I_CONTINUE_NEEDED, isSuccess, statusName, tokenBytes } from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import {
  DEFAULT_MAX_TOKEN,
  TOKEN,
  tokenFlagNames,
  HandshakeTimes,
  type SocketAppSummary,
  type TcpConnectionRecord,
  FramedSocket,
  ProtocolError,
} from '../app-protocols/index.js';
import type { CredHandle, CtxtHandle } from '../sspi/index.js';
import { acquireAppCredential, failedCall, type AppArgs, type AppContext, type AppResult } from '../process/index.js';
import { serveUntilStopped, socketServerSettings } from './listen.js';

/** What gss-client asks for (mutual, replay) plus what its wrap and MIC need. */
const TCP_SERVER_REQ = ASC_REQ.MUTUAL_AUTH | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.CONFIDENTIALITY | ASC_REQ.INTEGRITY | ASC_REQ.CONNECTION;
const MAX_LOGGED_MESSAGES = 16;
const MAX_LOGGED_CHARS = 200;

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const { control, host, port, pkg, timeoutMs, maxConnections } = socketServerSettings(args);
  const maxToken = Number(args.maxToken ?? DEFAULT_MAX_TOKEN);

  const acquired = await acquireAppCredential(ctx.sspi, pkg, 'inbound', args);
  if ('failed' in acquired) {
    control.close();
    return acquired.failed;
  }
  const credential: CredHandle = acquired.credential;
  const sessions = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  const handshakeTimes = new HandshakeTimes();
  const summary: SocketAppSummary = { connections: 0, handled: 0, authenticated: 0, failed: 0, medianHandshakeMs: null };
  let nextConn = 1;

  const server = createServer((socket) => {
    const id = nextConn++;
    summary.connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const session = serve(id, socket);
    sessions.add(session);
    void session.finally(() => sessions.delete(session));
  });
  server.maxConnections = maxConnections;

  async function serve(id: number, socket: Socket): Promise<void> {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const wire = new FramedSocket(socket, maxToken, (direction, flags, length) =>
      ctx.trace(direction === 'in' ? 'TcpReceive' : 'TcpSend', `conn#${id} ${tokenFlagNames(flags)} ${length} B`),
    );
    ctx.trace('TcpAccept', `conn#${id} from ${remote}`);
    const record: TcpConnectionRecord = { connection: id, remote, user: null, status: 'SEC_E_OK', handshakeMs: null, messages: [] };
    let context: CtxtHandle | undefined;
    try {
      const hello = await wire.receive(timeoutMs);
      if ((hello.flags & TOKEN.NOOP) === 0) throw new ProtocolError('PROTOCOL', `expected NOOP to start, got ${tokenFlagNames(hello.flags)}`);
      if ((hello.flags & TOKEN.CONTEXT_NEXT) === 0) throw new ProtocolError('PROTOCOL', 'an unauthenticated connection (no CONTEXT_NEXT) is refused');

      const start = performance.now();
      for (;;) {
        const frame = await wire.receive(timeoutMs);
        if ((frame.flags & TOKEN.CONTEXT) === 0) throw new ProtocolError('PROTOCOL', `expected a CONTEXT token, got ${tokenFlagNames(frame.flags)}`);
        const r = await ctx.sspi.acceptSecurityContext({
          credential,
          context: context ?? null,
          input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: frame.token }],
          contextReq: TCP_SERVER_REQ,
        });
        if (r.context !== undefined && context === undefined) {
          context = r.context;
          ctx.trace('ContextBound', `conn#${id} context ${context.dwLower}:${context.dwUpper}`);
        }
        const out = tokenBytes(r.output);
        if (out !== undefined && out.byteLength > 0) await wire.send(TOKEN.CONTEXT, out);
        if (!isSuccess(r.status)) {
          record.handshakeMs = round(performance.now() - start);
          summary.failed++;
          record.status = statusName(r.status);
          record.note = failedCall('AcceptSecurityContext', r);
          return;
        }
        if (r.status === SEC_E_OK) break;
        if (r.status !== SEC_I_CONTINUE_NEEDED) throw new ProtocolError('PROTOCOL', `AcceptSecurityContext returned ${statusName(r.status)}`);
      }
      record.handshakeMs = round(performance.now() - start);
      handshakeTimes.add(record.handshakeMs);
      summary.authenticated++;
      const names = await ctx.sspi.queryContextAttributes(context!, SECPKG_ATTR.NAMES);
      record.user = names.buffer?.sUserName ?? '?';
      const sizes = await ctx.sspi.queryContextAttributes(context!, SECPKG_ATTR.SIZES);
      const trailer = sizes.buffer?.cbSecurityTrailer ?? 0;
      const maxSignature = sizes.buffer?.cbMaxSignature ?? 0;

      for (;;) {
        const frame = await wire.receive(timeoutMs);
        if (frame.flags & TOKEN.NOOP) break;
        if ((frame.flags & TOKEN.DATA) === 0) throw new ProtocolError('PROTOCOL', `expected DATA or NOOP, got ${tokenFlagNames(frame.flags)}`);
        const plaintext = await unwrap(context!, frame.flags, frame.token, trailer);
        if (typeof plaintext === 'string') {
          record.status = plaintext;
          record.note = 'the message did not unwrap';
          return;
        }
        if (record.messages.length < MAX_LOGGED_MESSAGES) record.messages.push(new TextDecoder().decode(plaintext).slice(0, MAX_LOGGED_CHARS));
        if (frame.flags & TOKEN.SEND_MIC) {
          const signed = await ctx.sspi.makeSignature(
            context!,
            0,
            [
              { BufferType: SECBUFFER.DATA, pvBuffer: plaintext },
              { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(maxSignature) },
            ],
            0,
          );
          if (signed.status !== SEC_E_OK) {
            record.status = statusName(signed.status);
            record.note = 'MakeSignature failed';
            return;
          }
          await wire.send(TOKEN.MIC, signed.message[1]!.pvBuffer);
        } else {
          await wire.send(TOKEN.NOOP);
        }
      }
    } catch (error) {
      record.status = error instanceof ProtocolError ? error.code : 'SEC_E_INTERNAL_ERROR';
      record.note = describeError(error);
    } finally {
      const deleted = context !== undefined;
      if (context !== undefined) await ctx.sspi.deleteSecurityContext(context);
      wire.close();
      ctx.trace('TcpClose', `conn#${id}${deleted ? ' context deleted' : ''}`);
      summary.handled++;
      if (record.note === undefined) delete record.note;
      control.post({ kind: 'connection', record, line: formatLine(record) });
      control.post({ kind: 'closed', connection: id, contextDeleted: deleted });
    }
  }

  /** The plaintext of a DATA token, or the failing status's name. */
  async function unwrap(context: CtxtHandle, flags: number, token: Uint8Array, trailer: number): Promise<Uint8Array | string> {
    if ((flags & TOKEN.WRAPPED) === 0) return token;
    // A GSS wrap token is [signature][data]: SSPI's SECBUFFER_TOKEN then SECBUFFER_DATA. A token
    // shorter than the trailer (Kerberos' unsealed wrap of a short message: its header and checksum
    // are 28 bytes) goes whole as the SECBUFFER_TOKEN: the package reads the two end to end.
    const split = Math.min(trailer, token.byteLength);
    const buffers: SecBuffer[] = [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: token.slice(0, split) },
      { BufferType: SECBUFFER.DATA, pvBuffer: token.slice(split) },
    ];
    // gss_unwrap's counterpart is DecryptMessage, whatever the client asked of gss_wrap: a package
    // whose wrap does not encrypt says so in the QOP it answers (SECQOP_WRAP_NO_ENCRYPT).
    const r = await ctx.sspi.decryptMessage(context, buffers, 0);
    if (r.status !== SEC_E_OK) return statusName(r.status);
    return r.message.find((b) => b.BufferType === SECBUFFER.DATA)?.pvBuffer ?? new Uint8Array(0);
  }

  // No new connections; cut the open ones (each session deletes its context as it ends).
  const failed = await serveUntilStopped(ctx, control, server, { protocol: 'tcp', host, port }, credential, async (closed) => {
    for (const socket of sockets) socket.destroy();
    await closed;
    while (sessions.size > 0) await Promise.all([...sessions]);
  });
  if (failed !== null) return failed;
  summary.medianHandshakeMs = handshakeTimes.median();
  return {
    status: SEC_E_OK,
    statusName: statusName(SEC_E_OK),
    detail: `served ${summary.connections} connection(s); ${summary.authenticated} authenticated, ${summary.failed} failed`,
    data: { ...summary },
  };
}

function formatLine(r: TcpConnectionRecord): string {
  const messages = r.messages.length === 0 ? '' : ` messages=${JSON.stringify(r.messages)}`;
  return `${r.remote} ${r.user ?? '-'} ${r.status} handshake=${r.handshakeMs === null ? '-' : `${r.handshakeMs}ms`} conn=${r.connection}${messages}${r.note === undefined ? '' : ` (${r.note})`}`;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
