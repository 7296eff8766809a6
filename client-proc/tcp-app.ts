// A TCP client that speaks MIT krb5's gss-sample protocol (ipc/gss-framing.ts), running in a
// client process: node:net connects from this worker, InitializeSecurityContext goes through this
// process's SSPI library to the emulated LSA, and the user-mode half seals the message and checks
// the server's signature here. Its peers: sspi-emu's TCP server and MIT's gss-server (with
// gss-ntlmssp). As gss-client.c call_server does it:
//
//   NOOP|CONTEXT_NEXT, then CONTEXT tokens until InitializeSecurityContext says SEC_E_OK
//   DATA|WRAPPED|ENCRYPTED|SEND_MIC   EncryptMessage: the signature then the sealed data
//   <- MIC                            VerifySignature over the plaintext
//   NOOP                              goodbye
//
// gss-sample has no error token: a server that refuses the client (a wrong password) closes the
// connection, which the client learns when the MIC does not come.
//
// args: host, port, package, user/domain/password, message, targetName (the service, e.g.
// "host@localhost"), timeoutMs (per token, like gss-sample's 10 s select), contextReq.

import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  ISC_REQ,
  SECBUFFER,
  SECPKG_ATTR,
  type SecBuffer,
  SEC_E_INTERNAL_ERROR,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  isSuccess,
  statusName,
  tokenBytes,
} from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import { FramedSocket, ProtocolError, DEFAULT_MAX_TOKEN, TOKEN, tokenFlagNames } from '../app-protocols/index.js';
import type { CredHandle, CtxtHandle } from '../sspi/index.js';
import { acquireAppCredential, appResult, failedCall, type AppArgs, type AppContext, type AppResult } from '../process/index.js';
import { describeNetworkFailure, networkFailureResult } from './network-failure.js';

/** What gss-client asks for (mutual, replay), with confidentiality and integrity for wrap and MIC. */
export const TCP_CLIENT_REQ =
  ISC_REQ.MUTUAL_AUTH | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY | ISC_REQ.CONNECTION;
const MAX_LEGS = 10;

export interface TcpClientData {
  server: string;
  /** The client's name for itself after the handshake (SECPKG_ATTR_NAMES). */
  user: string | null;
  legs: number;
  handshakeMs: number;
  messageBytes: number;
  micVerified: boolean;
}

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const host = String(args.host ?? '127.0.0.1');
  const port = Number(args.port);
  const pkg = String(args.package ?? 'NTLM');
  const message = new TextEncoder().encode(String(args.message ?? 'hello'));
  const timeoutMs = Number(args.timeoutMs ?? 10_000);
  const contextReq = Number(args.contextReq ?? TCP_CLIENT_REQ);
  const targetName = typeof args.targetName === 'string' ? args.targetName : null;
  const server = `${host}:${port}`;
  const sspi = ctx.sspi;

  const acquired = await acquireAppCredential(sspi, pkg, 'outbound', args);
  if ('failed' in acquired) return acquired.failed;
  const credential: CredHandle = acquired.credential;

  let socket: Socket;
  try {
    socket = await open(host, port, timeoutMs);
  } catch (error) {
    await sspi.freeCredentialsHandle(credential);
    const network = describeNetworkFailure(error, server);
    return network !== undefined
      ? networkFailureResult(`cannot connect to ${network}`)
      : appResult(SEC_E_INTERNAL_ERROR, `cannot connect to ${server}: ${describeError(error)}`);
  }
  ctx.trace('TcpConnect', `${server} from ${socket.localAddress ?? '?'}:${socket.localPort ?? '?'}`);
  const wire = new FramedSocket(socket, DEFAULT_MAX_TOKEN, (direction, flags, length) =>
    ctx.trace(direction === 'in' ? 'TcpReceive' : 'TcpSend', `${tokenFlagNames(flags)} ${length} B`),
  );

  let context: CtxtHandle | undefined;
  let stage = 'the handshake';
  let sentBytes = 0; // the sealed message's token, once sent
  let serverTokens = 0; // the server's handshake tokens received
  try {
    const start = performance.now();
    await wire.send(TOKEN.NOOP | TOKEN.CONTEXT_NEXT);
    let input: SecBuffer[] | null = null;
    let legs = 0;
    for (;;) {
      if (legs > MAX_LEGS) return appResult(SEC_E_INTERNAL_ERROR, `no context after ${MAX_LEGS} tokens`);
      const r = await sspi.initializeSecurityContext({ credential, context: context ?? null, targetName, contextReq, input });
      if (r.context !== undefined && context === undefined) context = r.context;
      const out = tokenBytes(r.output);
      if (out !== undefined && out.byteLength > 0) {
        await wire.send(TOKEN.CONTEXT, out);
        legs++;
      }
      if (!isSuccess(r.status)) return appResult(r.status, failedCall('InitializeSecurityContext', r));
      if (r.status === SEC_E_OK) break;
      if (r.status !== SEC_I_CONTINUE_NEEDED) return appResult(r.status, `InitializeSecurityContext returned ${statusName(r.status)}`);
      const reply = await wire.receive(timeoutMs);
      serverTokens++;
      legs++;
      if ((reply.flags & TOKEN.CONTEXT) === 0) return appResult(SEC_E_INTERNAL_ERROR, `the server sent ${tokenFlagNames(reply.flags)} during the handshake`);
      input = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: reply.token }];
    }
    const handshakeMs = Math.round((performance.now() - start) * 100) / 100;
    ctx.markPhase('handshake');
    const names = await sspi.queryContextAttributes(context!, SECPKG_ATTR.NAMES);
    const sizes = await sspi.queryContextAttributes(context!, SECPKG_ATTR.SIZES);

    stage = 'the message';
    const sealed = await sspi.encryptMessage(
      context!,
      0,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(sizes.buffer?.cbSecurityTrailer ?? 0) },
        { BufferType: SECBUFFER.DATA, pvBuffer: message.slice() },
      ],
      0,
    );
    if (sealed.status !== SEC_E_OK) return appResult(sealed.status, failedCall('EncryptMessage', sealed));
    // A GSS wrap token is the signature then the sealed data.
    const signature = sealed.message[0]!.pvBuffer;
    const data = sealed.message[1]!.pvBuffer;
    const wrapped = new Uint8Array(signature.byteLength + data.byteLength);
    wrapped.set(signature, 0);
    wrapped.set(data, signature.byteLength);
    await wire.send(TOKEN.DATA | TOKEN.WRAPPED | TOKEN.ENCRYPTED | TOKEN.SEND_MIC, wrapped);
    sentBytes = wrapped.byteLength;

    stage = "the server's signature";
    const mic = await wire.receive(timeoutMs);
    if ((mic.flags & TOKEN.MIC) === 0) return appResult(SEC_E_INTERNAL_ERROR, `the server answered the message with ${tokenFlagNames(mic.flags)}, not MIC`);
    const verified = await sspi.verifySignature(
      context!,
      [
        { BufferType: SECBUFFER.DATA, pvBuffer: message.slice() },
        { BufferType: SECBUFFER.TOKEN, pvBuffer: mic.token },
      ],
      0,
    );
    if (verified.status !== SEC_E_OK) return appResult(verified.status, "VerifySignature of the server's MIC failed");
    ctx.markPhase('messages');
    await wire.send(TOKEN.NOOP);
    const outcome: TcpClientData = { server, user: names.buffer?.sUserName ?? null, legs, handshakeMs, messageBytes: message.byteLength, micVerified: true };
    return {
      status: SEC_E_OK,
      statusName: statusName(SEC_E_OK),
      detail: `authenticated to ${server} as ${outcome.user ?? '?'} in ${legs} tokens; sealed message sent (${message.byteLength} B), the server's signature over it verified`,
      data: { ...outcome },
    };
  } catch (error) {
    // gss-sample servers refuse a token by closing the connection without a word: once the server
    // has answered a token of ours, taking part in the handshake, a close is its refusal of the next
    // (exit 1, as gss-client's), whichever leg it came after (NTLM's client is done before the
    // server checks its AUTHENTICATE; Negotiate's waits for the mechListMIC). Before that, a close
    // is a server that hung up (a network failure).
    if (error instanceof ProtocolError && (error.code === 'CLOSED' || error.code === 'TRUNCATED') && serverTokens > 0)
      return appResult(
        SEC_E_INTERNAL_ERROR,
        `the server closed the connection ${stage === 'the handshake' ? 'during the handshake' : `before ${stage}`}: ` +
          `gss-sample servers close without a word when they refuse the authentication (a wrong password?)` +
          (sentBytes > DEFAULT_MAX_TOKEN
            ? ` or a token over their limit (the sealed message went as ${sentBytes} bytes; sspi-emu serve --tcp takes up to ${DEFAULT_MAX_TOKEN})`
            : ''),
      );
    const network = describeNetworkFailure(error, server);
    if (network !== undefined) return networkFailureResult(`${stage} failed: ${network}`);
    return appResult(SEC_E_INTERNAL_ERROR, `${stage} failed: ${describeError(error)}`);
  } finally {
    wire.close();
    if (context !== undefined) await sspi.deleteSecurityContext(context);
    await sspi.freeCredentialsHandle(credential);
  }
}

function open(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('error', onError);
  });
}
