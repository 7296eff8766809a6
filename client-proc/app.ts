// The default client application: connect to the name the server monitors, run the
// InitializeSecurityContext loop (forwarding each token to the server and each reply back into
// the next call), then send N sealed and N signed messages and check the server's replies.
//
// args: server (the listening name), package, user/domain/password (explicit credentials; absent:
// the process's own logon), targetName, contextReq (ISC_REQ_* bits), messages (N), connectWaitMs
// (how long to wait for the server to monitor the name), receiveTimeoutMs (how long to wait for
// each of the server's messages, default 30 s).

import {
  ISC_REQ,
  SECBUFFER,
  SECPKG_ATTR,
  type SecBuffer,
  SEC_E_INTERNAL_ERROR,
  SEC_E_MESSAGE_ALTERED,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  isSuccess,
  statusName,
  type Status,
  tokenBytes,
} from '../headers/index.js';
import { DEFAULT_RECEIVE_TIMEOUT_MS, receiveAppMessage, type AppMessage } from '../app-protocols/index.js';
import { type Connection, describeError } from '../ipc/index.js';
import { acquireAppCredential, afterPeer, appResult, failedCall, type AppArgs, type AppContext, type AppResult } from '../process/index.js';
import type { CtxtHandle } from '../sspi/index.js';

export const DEFAULT_CLIENT_REQ =
  ISC_REQ.MUTUAL_AUTH | ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONNECTION;

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const server = String(args.server ?? 'sspi-demo');
  const pkg = String(args.package ?? 'Example');
  const messages = Number(args.messages ?? 3);
  const contextReq = Number(args.contextReq ?? DEFAULT_CLIENT_REQ);
  const timeoutMs = Number(args.receiveTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS);
  const sspi = ctx.sspi;

  const acquired = await acquireAppCredential(sspi, pkg, 'outbound', args);
  if ('failed' in acquired) {
    await tellServer(ctx, server, args, acquired.failed.status);
    return acquired.failed;
  }
  const credential = acquired.credential;

  let conn: Connection<AppMessage>;
  try {
    conn = await ctx.connect<AppMessage>(server, args.connectWaitMs === undefined ? undefined : Number(args.connectWaitMs));
  } catch (error) {
    await sspi.freeCredentialsHandle(credential);
    return appResult(SEC_E_INTERNAL_ERROR, `cannot connect to ${server}`, describeError(error));
  }

  let context: CtxtHandle | undefined;
  try {
    const handshake = await runHandshake(ctx, conn, credential, contextReq, typeof args.targetName === 'string' ? args.targetName : null, timeoutMs);
    context = handshake.context;
    ctx.markPhase('handshake');
    if (handshake.status !== SEC_E_OK || context === undefined) {
      const result = appResult(handshake.status, handshake.detail);
      return handshake.afterPeer === true ? afterPeer(result) : result;
    }

    const names = await sspi.queryContextAttributes(context, SECPKG_ATTR.NAMES);
    const exchanged = await exchangeMessages(ctx, conn, context, messages, timeoutMs);
    if (exchanged.status !== SEC_E_OK) {
      const result = appResult(exchanged.status, exchanged.detail);
      return exchanged.afterPeer === true ? afterPeer(result) : result;
    }
    ctx.markPhase('messages');
    conn.send({ kind: 'bye' });
    return {
      status: SEC_E_OK,
      statusName: statusName(SEC_E_OK),
      detail: `authenticated as ${names.buffer?.sUserName ?? '?'}; ${messages} sealed and ${messages} signed messages verified`,
      data: { user: names.buffer?.sUserName ?? null, legs: handshake.legs, messages },
    };
  } catch (error) {
    return afterPeer(appResult(SEC_E_INTERNAL_ERROR, 'the connection to the server failed', describeError(error)));
  } finally {
    if (context !== undefined) await sspi.deleteSecurityContext(context);
    await sspi.freeCredentialsHandle(credential);
    if (!conn.closed) conn.close();
  }
}

async function runHandshake(
  ctx: AppContext,
  conn: Connection<AppMessage>,
  credential: Parameters<AppContext['sspi']['initializeSecurityContext']>[0]['credential'],
  contextReq: number,
  targetName: string | null,
  timeoutMs: number,
): Promise<{ status: Status; context?: CtxtHandle; legs: number; detail?: string; afterPeer?: boolean }> {
  let context: CtxtHandle | undefined;
  let input: SecBuffer[] | null = null;
  let legs = 0;
  const failed = (status: Status, detail: string) => ({ status, ...(context === undefined ? {} : { context }), legs, detail });
  try {
    return await loop();
  } catch (error) {
    // The connection broke (the server died); the context made so far is still ours to delete.
    return { ...failed(SEC_E_INTERNAL_ERROR, `the server went away during the handshake: ${describeError(error)}`), afterPeer: true };
  }

  async function loop(): Promise<{ status: Status; context?: CtxtHandle; legs: number; detail?: string; afterPeer?: boolean }> {
    for (;;) {
      const r = await ctx.sspi.initializeSecurityContext({ credential, context: context ?? null, targetName, contextReq, input });
      context = r.context ?? context;
      if (!isSuccess(r.status)) {
        conn.send({ kind: 'failed', status: r.status });
        return {
          status: r.status,
          ...(context === undefined ? {} : { context }),
          legs,
          detail: failedCall('InitializeSecurityContext', r),
        };
      }
      const token = tokenBytes(r.output);
      const sent = token !== undefined && token.byteLength > 0;
      if (sent) {
        conn.send({ kind: 'token', token });
        legs++;
      }
      // Done with nothing to send: the server finished first (its 'accepted' carried the token just
      // consumed, as in a mutual authentication), so there is no answer to wait for.
      if (r.status === SEC_E_OK && !sent && input !== null) return { status: SEC_E_OK, ...(context === undefined ? {} : { context }), legs };
      if (r.status !== SEC_E_OK && r.status !== SEC_I_CONTINUE_NEEDED) {
        return { status: r.status, ...(context === undefined ? {} : { context }), legs, detail: `unexpected ${statusName(r.status)}` };
      }
      const reply = await receiveAppMessage(conn, timeoutMs);
      if (reply.kind === 'failed')
        return { status: reply.status, ...(context === undefined ? {} : { context }), legs, detail: 'the server rejected the handshake', afterPeer: true };
      if (reply.kind === 'token') {
        legs++;
        input = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: reply.token }];
        continue;
      }
      if (reply.kind === 'accepted') {
        if (r.status === SEC_E_OK) return { status: SEC_E_OK, ...(context === undefined ? {} : { context }), legs };
        if (reply.token === undefined) return failed(SEC_E_INTERNAL_ERROR, 'the server accepted before the client finished');
        legs++;
        input = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: reply.token }];
        continue;
      }
      return failed(SEC_E_INTERNAL_ERROR, `unexpected ${reply.kind} message during the handshake`);
    }
  }
}

async function exchangeMessages(
  ctx: AppContext,
  conn: Connection<AppMessage>,
  context: CtxtHandle,
  count: number,
  timeoutMs: number,
): Promise<{ status: Status; detail?: string; afterPeer?: boolean }> {
  const text = new TextEncoder();
  const sizes = await ctx.sspi.queryContextAttributes(context, SECPKG_ATTR.SIZES);
  const trailer = sizes.buffer?.cbSecurityTrailer ?? 0;
  const maxSignature = sizes.buffer?.cbMaxSignature ?? 0;
  for (let i = 1; i <= count; i++) {
    const plaintext = `message ${i} from ${ctx.name}`;
    const sealed = await ctx.sspi.encryptMessage(
      context,
      0,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(trailer) },
        { BufferType: SECBUFFER.DATA, pvBuffer: text.encode(plaintext) },
      ],
      0,
    );
    if (sealed.status !== SEC_E_OK) return { status: sealed.status, detail: failedCall('EncryptMessage', sealed) };
    conn.send({ kind: 'sealed', buffers: sealed.message });
    const reply = await receiveAppMessage(conn, timeoutMs);
    if (reply.kind !== 'sealed')
      return {
        status: reply.kind === 'rejected' ? reply.status : SEC_E_INTERNAL_ERROR,
        detail: `the server answered a sealed message with ${reply.kind}`,
        afterPeer: reply.kind === 'rejected',
      };
    const opened = await ctx.sspi.decryptMessage(context, reply.buffers, 0);
    if (opened.status !== SEC_E_OK) return { status: opened.status, detail: failedCall('DecryptMessage of the reply', opened) };
    const echo = new TextDecoder().decode(opened.message.find((b) => b.BufferType === SECBUFFER.DATA)?.pvBuffer);
    if (echo !== `echo: ${plaintext}`) return { status: SEC_E_MESSAGE_ALTERED, detail: `the server echoed ${JSON.stringify(echo)}` };
  }
  for (let i = 1; i <= count; i++) {
    const data = text.encode(`signed ${i} from ${ctx.name}`);
    const signed = await ctx.sspi.makeSignature(
      context,
      0,
      [
        { BufferType: SECBUFFER.DATA, pvBuffer: data },
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(maxSignature) },
      ],
      0,
    );
    if (signed.status !== SEC_E_OK) return { status: signed.status, detail: failedCall('MakeSignature', signed) };
    conn.send({ kind: 'signed', data, signature: signed.message[1]!.pvBuffer });
    const reply = await receiveAppMessage(conn, timeoutMs);
    if (reply.kind !== 'signed')
      return {
        status: reply.kind === 'rejected' ? reply.status : SEC_E_INTERNAL_ERROR,
        detail: `the server answered a signed message with ${reply.kind}`,
        afterPeer: reply.kind === 'rejected',
      };
    const verified = await ctx.sspi.verifySignature(
      context,
      [
        { BufferType: SECBUFFER.DATA, pvBuffer: reply.data },
        { BufferType: SECBUFFER.TOKEN, pvBuffer: reply.signature },
      ],
      0,
    );
    if (verified.status !== SEC_E_OK) return { status: verified.status, detail: failedCall('VerifySignature of the reply', verified) };
  }
  return { status: SEC_E_OK };
}

/**
 * A client with no credential still connects and says so, as it says any failure during the
 * handshake: the server waits for its connection (a server's accept has no deadline), so a client
 * that just went away would leave it waiting forever. A server that is not there is no news.
 */
async function tellServer(ctx: AppContext, server: string, args: AppArgs, status: Status): Promise<void> {
  try {
    const conn = await ctx.connect<AppMessage>(server, args.connectWaitMs === undefined ? undefined : Number(args.connectWaitMs));
    conn.send({ kind: 'failed', status });
    conn.close();
  } catch {
    // Nothing monitors the name: nobody waits for this client.
  }
}
