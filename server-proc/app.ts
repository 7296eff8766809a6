// The default server application: monitor a name, accept connections (each handled on its own),
// run the AcceptSecurityContext loop on each, then answer sealed messages with a sealed echo and
// signed messages with a signed acknowledgement until the client says bye.
//
// args: name (the name to monitor), package, contextReq (ASC_REQ_* bits), connections (how many
// to serve before returning; 0: until the process is killed), receiveTimeoutMs (how long to wait
// for each of a client's messages before giving up on it, default 30 s).

import {
  ASC_REQ,
  SECBUFFER,
  SECPKG_ATTR,
  type SecBuffer,
  SEC_E_INTERNAL_ERROR,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  isSuccess,
  statusName,
  type Status,
  tokenBytes,
} from '../headers/index.js';
import { DEFAULT_RECEIVE_TIMEOUT_MS, receiveAppMessage, type AppMessage } from '../app-protocols/index.js';
import { type Connection, describeError } from '../ipc/index.js';
import type { CredHandle, CtxtHandle } from '../sspi/index.js';
import { acquireAppCredential, failedCall, isPeerGone, type AppArgs, type AppContext, type AppResult, type Listener } from '../process/index.js';

export const DEFAULT_SERVER_REQ =
  ASC_REQ.MUTUAL_AUTH | ASC_REQ.CONFIDENTIALITY | ASC_REQ.INTEGRITY | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.CONNECTION;

interface SessionOutcome {
  status: Status;
  user: string | null;
  messages: number;
  detail?: string;
  /** It failed because the client did first (see AppResult.afterPeer). */
  afterPeer?: boolean;
}

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const name = String(args.name ?? 'sspi-demo');
  const pkg = String(args.package ?? 'Example');
  const contextReq = Number(args.contextReq ?? DEFAULT_SERVER_REQ);
  const limit = Number(args.connections ?? 1);
  const timeoutMs = Number(args.receiveTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS);

  const acquired = await acquireAppCredential(ctx.sspi, pkg, 'inbound', args);
  const listener = await ctx.listen<AppMessage>(name);
  if ('failed' in acquired) return refuseAll(ctx, listener, limit, timeoutMs, acquired.failed);
  const credential = acquired.credential;
  const sessions: Promise<SessionOutcome>[] = [];
  try {
    while (limit === 0 || sessions.length < limit) {
      const conn = await listener.accept();
      sessions.push(serve(ctx, conn, credential, contextReq, timeoutMs));
    }
    const outcomes = await Promise.all(sessions);
    const last = outcomes[outcomes.length - 1];
    const failed = outcomes.find((o) => o.status !== SEC_E_OK);
    const status = failed?.status ?? SEC_E_OK;
    return {
      status,
      statusName: statusName(status),
      detail: failed?.detail ?? `served ${outcomes.length} connection(s); last client ${last?.user ?? '?'}`,
      data: { sessions: outcomes.map((o) => ({ status: statusName(o.status), user: o.user, messages: o.messages })) },
      ...(failed?.afterPeer === true ? { afterPeer: true } : {}),
    };
  } finally {
    await listener.close();
    await ctx.sspi.freeCredentialsHandle(credential);
  }
}

/**
 * A server with no credential still monitors its name and refuses each client with its status,
 * as a server refuses a handshake: a client that found nobody listening would wait out its connect
 * deadline to learn only that nothing monitors the name, not why.
 */
async function refuseAll(ctx: AppContext, listener: Listener<AppMessage>, limit: number, timeoutMs: number, failed: AppResult): Promise<AppResult> {
  try {
    for (let served = 0; limit === 0 || served < limit; served++) {
      const conn = await listener.accept();
      try {
        // The client's first message (its token, or its own failure) is answered with the refusal.
        const first = await receiveAppMessage(conn, timeoutMs);
        if (first.kind !== 'failed') conn.send({ kind: 'failed', status: failed.status });
      } catch {
        // The client went away or said nothing: the refusal is this server's result all the same.
      } finally {
        if (!conn.closed) conn.close();
      }
    }
    return failed;
  } finally {
    await listener.close();
  }
}

/** One client connection: the handshake, then the message loop. */
async function serve(ctx: AppContext, conn: Connection<AppMessage>, credential: CredHandle, contextReq: number, timeoutMs: number): Promise<SessionOutcome> {
  let context: CtxtHandle | undefined;
  try {
    for (;;) {
      const message = await receiveAppMessage(conn, timeoutMs);
      if (message.kind === 'failed') return { status: message.status, user: null, messages: 0, detail: 'the client abandoned the handshake', afterPeer: true };
      if (message.kind !== 'token') return { status: SEC_E_INTERNAL_ERROR, user: null, messages: 0, detail: `unexpected ${message.kind} during the handshake` };
      const input: SecBuffer[] = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: message.token }];
      const r = await ctx.sspi.acceptSecurityContext({ credential, context: context ?? null, input, contextReq });
      context = r.context ?? context;
      const token = tokenBytes(r.output);
      if (!isSuccess(r.status)) {
        ctx.markPhase('handshake');
        conn.send({ kind: 'failed', status: r.status });
        return { status: r.status, user: null, messages: 0, detail: failedCall('AcceptSecurityContext', r) };
      }
      if (r.status === SEC_I_CONTINUE_NEEDED) {
        conn.send({ kind: 'token', token: token ?? new Uint8Array(0) });
        continue;
      }
      conn.send(token !== undefined && token.byteLength > 0 ? { kind: 'accepted', token } : { kind: 'accepted' });
      ctx.markPhase('handshake');
      break;
    }
    const names = await ctx.sspi.queryContextAttributes(context!, SECPKG_ATTR.NAMES);
    const user = names.buffer?.sUserName ?? null;
    ctx.log(`authenticated ${user ?? '?'}`);
    const messages = await answerMessages(ctx, conn, context!, timeoutMs);
    ctx.markPhase('messages');
    return { status: messages.status, user, messages: messages.count, ...(messages.detail === undefined ? {} : { detail: messages.detail }) };
  } catch (error) {
    const hungUp = isPeerGone(error);
    return {
      status: SEC_E_INTERNAL_ERROR,
      user: null,
      messages: 0,
      detail: hungUp ? `the client hung up: ${describeError(error)}` : `the connection failed: ${describeError(error)}`,
      ...(hungUp ? { afterPeer: true } : {}),
    };
  } finally {
    if (context !== undefined) await ctx.sspi.deleteSecurityContext(context);
    if (!conn.closed) conn.close();
  }
}

async function answerMessages(
  ctx: AppContext,
  conn: Connection<AppMessage>,
  context: CtxtHandle,
  timeoutMs: number,
): Promise<{ status: Status; count: number; detail?: string }> {
  const sizes = await ctx.sspi.queryContextAttributes(context, SECPKG_ATTR.SIZES);
  const trailer = sizes.buffer?.cbSecurityTrailer ?? 0;
  const maxSignature = sizes.buffer?.cbMaxSignature ?? 0;
  let count = 0;
  for (;;) {
    const message = await receiveAppMessage(conn, timeoutMs);
    if (message.kind === 'bye') return { status: SEC_E_OK, count };
    if (message.kind === 'sealed') {
      const opened = await ctx.sspi.decryptMessage(context, message.buffers, 0);
      if (opened.status !== SEC_E_OK) {
        conn.send({ kind: 'rejected', status: opened.status });
        return { status: opened.status, count, detail: failedCall('DecryptMessage', opened) };
      }
      const text = new TextDecoder().decode(opened.message.find((b) => b.BufferType === SECBUFFER.DATA)?.pvBuffer);
      const sealed = await ctx.sspi.encryptMessage(
        context,
        0,
        [
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(trailer) },
          { BufferType: SECBUFFER.DATA, pvBuffer: new TextEncoder().encode(`echo: ${text}`) },
        ],
        0,
      );
      if (sealed.status !== SEC_E_OK) {
        conn.send({ kind: 'rejected', status: sealed.status });
        return { status: sealed.status, count, detail: failedCall('EncryptMessage', sealed) };
      }
      conn.send({ kind: 'sealed', buffers: sealed.message });
    } else if (message.kind === 'signed') {
      const verified = await ctx.sspi.verifySignature(
        context,
        [
          { BufferType: SECBUFFER.DATA, pvBuffer: message.data },
          { BufferType: SECBUFFER.TOKEN, pvBuffer: message.signature },
        ],
        0,
      );
      if (verified.status !== SEC_E_OK) {
        conn.send({ kind: 'rejected', status: verified.status });
        return { status: verified.status, count, detail: failedCall('VerifySignature', verified) };
      }
      const ack = new TextEncoder().encode(`ack: ${new TextDecoder().decode(message.data)}`);
      const signed = await ctx.sspi.makeSignature(
        context,
        0,
        [
          { BufferType: SECBUFFER.DATA, pvBuffer: ack },
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(maxSignature) },
        ],
        0,
      );
      if (signed.status !== SEC_E_OK) {
        conn.send({ kind: 'rejected', status: signed.status });
        return { status: signed.status, count, detail: failedCall('MakeSignature', signed) };
      }
      conn.send({ kind: 'signed', data: ack, signature: signed.message[1]!.pvBuffer });
    } else {
      return { status: SEC_E_INTERNAL_ERROR, count, detail: `unexpected ${message.kind} after the handshake` };
    }
    count++;
  }
}
