// An HTTP client with NTLM authentication, running in a client process: node:http connects from
// this worker, and InitializeSecurityContext goes through this process's SSPI library to the
// emulated LSA. As curl --ntlm does it, the NEGOTIATE_MESSAGE goes with the first request; a 401
// with "WWW-Authenticate: NTLM <CHALLENGE>" gets the AUTHENTICATE_MESSAGE on the same connection
// (one socket, kept alive: the authentication belongs to the connection); the response to that is
// the answer. A server that answers the first request with anything but such a 401 has its answer
// returned as it is.
//
// An https:// URL goes over TLS (client-proc/tls-client.ts): the certificate is checked before any
// request is sent, and the AUTHENTICATE_MESSAGE is made with the channel bindings of the
// certificate the server presented on this connection (RFC 5929 tls-server-end-point) as a
// SECBUFFER_CHANNEL_BINDINGS, so the NTLM package puts their hash in MsvAvChannelBindings, as
// WinHTTP does; args.channelBindings false leaves them out (a client that predates Extended
// Protection).
//
// args: url (http:// or https://), package, user/domain/password, method (default GET), timeoutMs
// (the whole exchange), maxBodyBytes, contextReq, tls (trust: ca, fingerprint256 or insecure),
// channelBindings (default true).

import { Agent, request, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import {
  ISC_REQ,
  SECBUFFER,
  type SecBuffer,
  SEC_E_INTERNAL_ERROR,
  SEC_E_INVALID_TOKEN,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  isSuccess,
  statusName,
  tokenBytes,
} from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import { authorization, ntlmChallenge } from '../app-protocols/index.js';
import type { CredHandle, CtxtHandle } from '../sspi/index.js';
import { acquireAppCredential, appResult, failedCall, type AppArgs, type AppContext, type AppResult } from '../process/index.js';
import { describeNetworkFailure, networkFailureResult } from './network-failure.js';
import { certificateStatus, connectionBindings, tlsTrust, TrustingAgent } from './tls-client.js';

/** ISC_REQ for HTTP: a connection-oriented context, no signing or sealing on the wire. */
const HTTP_CLIENT_REQ = ISC_REQ.CONNECTION | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT;
const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

/** The final response, as AppResult.data carries it. */
export interface HttpFetchData {
  statusCode: number;
  statusMessage: string;
  httpVersion: string;
  /** Header names and values, alternating, as received. */
  rawHeaders: string[];
  body: Uint8Array;
  /** Requests sent (1 when the server did not ask for NTLM, 2 for a full handshake). */
  requests: number;
  /** Whether the AUTHENTICATE_MESSAGE went out (the server's answer says whether it was accepted). */
  authenticateSent: boolean;
  handshakeMs: number | null;
  /** https:// only: the connection's TLS and what the client bound the authentication to. */
  tls: HttpsFetchInfo | null;
}

export interface HttpsFetchInfo {
  /** TLSv1.3, TLSv1.2, ... */
  protocol: string;
  /** The server certificate's SHA-256 fingerprint. */
  fingerprint256: string;
  /** The hash tls-server-end-point used (RFC 5929 4.1), or null when the client sent no bindings. */
  bindingHash: string | null;
  /** Why no bindings were sent, when none were. */
  noBindings?: string;
}

interface Received {
  response: IncomingMessage;
  body: Uint8Array;
  socket: Socket;
}

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  let url: URL;
  try {
    url = new URL(String(args.url));
  } catch {
    return appResult(SEC_E_INTERNAL_ERROR, `not a URL: ${JSON.stringify(args.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return appResult(SEC_E_INTERNAL_ERROR, `only http:// and https:// URLs are supported, not ${url.protocol}`);
  const https = url.protocol === 'https:';
  const trust = tlsTrust(args.tls);
  if (typeof trust === 'string') return appResult(SEC_E_INTERNAL_ERROR, `cannot fetch ${url.href}: ${trust}`);
  const sendBindings = args.channelBindings !== false;
  const pkg = String(args.package ?? 'NTLM');
  const method = String(args.method ?? 'GET');
  const timeoutMs = Number(args.timeoutMs ?? 30_000);
  const maxBody = Number(args.maxBodyBytes ?? DEFAULT_MAX_BODY);
  const contextReq = Number(args.contextReq ?? HTTP_CLIENT_REQ);
  const sspi = ctx.sspi;

  const acquired = await acquireAppCredential(sspi, pkg, 'outbound', args);
  if ('failed' in acquired) return acquired.failed;
  const credential: CredHandle = acquired.credential;
  // One socket, kept alive between the legs: NTLM authenticates the connection.
  const trusting = https ? new TrustingAgent(trust) : undefined;
  const agent = trusting ?? new Agent({ keepAlive: true, maxSockets: 1 });
  let tls: HttpsFetchInfo | null = null;
  const deadline = performance.now() + timeoutMs;
  let context: CtxtHandle | undefined;
  let requests = 0;

  async function send(token: Uint8Array): Promise<Received> {
    requests++;
    ctx.trace('HttpRequest', `${method} ${url.pathname}${url.search} Authorization NTLM ${token.byteLength} B`);
    const received = await exchange(url, method, { Authorization: authorization(token) }, agent, Math.max(1, deadline - performance.now()), maxBody);
    ctx.trace('HttpResponse', `${received.response.statusCode ?? 0} on ${received.socket.localPort ?? '?'}->${url.host}`);
    return received;
  }

  try {
    const start = performance.now();
    const first = await sspi.initializeSecurityContext({ credential, context: null, targetName: `HTTP/${url.hostname}`, contextReq, input: null });
    context = first.context;
    const negotiate = tokenOf(first.output);
    if (first.status !== SEC_I_CONTINUE_NEEDED || negotiate === undefined)
      return appResult(
        isSuccess(first.status) ? SEC_E_INTERNAL_ERROR : first.status,
        `InitializeSecurityContext (NEGOTIATE) returned ${statusName(first.status)}`,
      );
    const r1 = await send(negotiate);
    const certificate = trusting?.certificateOf(r1.socket);
    if (https) tls = { protocol: (r1.socket as TLSSocket).getProtocol() ?? 'TLS', fingerprint256: certificate?.fingerprint256 ?? '', bindingHash: null };
    const challenge = r1.response.statusCode === 401 ? ntlmChallenge(r1.response.headers['www-authenticate']) : undefined;
    if (typeof challenge === 'string') return appResult(SEC_E_INVALID_TOKEN, `the server's WWW-Authenticate is malformed: ${challenge}`);
    if (challenge === undefined || challenge.byteLength === 0) {
      // Not asked for NTLM, or the NEGOTIATE was refused: the server's answer is the answer.
      return answer(r1, requests, false, null, tls);
    }
    const input: SecBuffer[] = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: challenge }];
    if (tls !== null) {
      // The bindings of the certificate presented on the connection the AUTHENTICATE goes on.
      const bound = sendBindings ? connectionBindings(certificate) : { reason: 'channel bindings are turned off' };
      if ('bindings' in bound) {
        input.push({ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: bound.bindings });
        tls.bindingHash = bound.hash;
        ctx.trace('ChannelBindings', `tls-server-end-point ${bound.hash} of the certificate SHA-256 ${bound.fingerprint256}`);
      } else {
        tls.noBindings = bound.reason;
        ctx.trace('ChannelBindings', `none: ${bound.reason}`);
      }
    }
    const second = await sspi.initializeSecurityContext({
      credential,
      context: context ?? null,
      targetName: `HTTP/${url.hostname}`,
      contextReq,
      input,
    });
    const authenticate = tokenOf(second.output);
    if (!isSuccess(second.status) || authenticate === undefined)
      return appResult(isSuccess(second.status) ? SEC_E_INTERNAL_ERROR : second.status, failedCall('InitializeSecurityContext (AUTHENTICATE)', second));
    const r2 = await send(authenticate);
    if (r2.socket !== r1.socket)
      return appResult(SEC_E_INTERNAL_ERROR, 'the server closed the connection between the NTLM legs (NTLM needs one kept-alive connection)');
    return answer(r2, requests, true, Math.round((performance.now() - start) * 100) / 100, tls);
  } catch (error) {
    // A certificate the client does not trust is a refusal (Schannel's status), not a network failure.
    const refused = certificateStatus(error);
    if (refused !== undefined) return appResult(refused, `the server's certificate is not trusted: ${describeError(error)}`);
    const network = describeNetworkFailure(error, url.port === '' ? `${url.hostname}:${https ? 443 : 80}` : url.host);
    if (network !== undefined) return networkFailureResult(`the ${requests <= 1 ? 'first request' : 'AUTHENTICATE request'} to ${network}`);
    return appResult(SEC_E_INTERNAL_ERROR, `the request to ${url.host} failed: ${describeError(error)}`);
  } finally {
    agent.destroy();
    if (context !== undefined) await sspi.deleteSecurityContext(context);
    await sspi.freeCredentialsHandle(credential);
  }
}

function answer(received: Received, requests: number, authenticateSent: boolean, handshakeMs: number | null, tls: HttpsFetchInfo | null): AppResult {
  const { response, body } = received;
  const data: HttpFetchData = {
    statusCode: response.statusCode ?? 0,
    statusMessage: response.statusMessage ?? '',
    httpVersion: response.httpVersion,
    rawHeaders: response.rawHeaders,
    body,
    requests,
    authenticateSent,
    handshakeMs,
    tls,
  };
  return {
    status: SEC_E_OK,
    statusName: statusName(SEC_E_OK),
    detail: `HTTP ${data.statusCode} after ${requests} request(s)${authenticateSent ? ', NTLM handshake sent' : ''}`,
    data: { ...data },
  };
}

/** One request and its whole response (the body up to maxBody bytes), with the socket it used. */
function exchange(url: URL, method: string, headers: Record<string, string>, agent: Agent, timeoutMs: number, maxBody: number): Promise<Received> {
  return new Promise<Received>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : request)(url, { method, headers, agent });
    const timer = setTimeout(() => req.destroy(new Error(`no complete response within the time limit`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (response) => {
      const socket = response.socket;
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > maxBody) req.destroy(new Error(`a response body over ${maxBody} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ response, body: new Uint8Array(Buffer.concat(chunks)), socket });
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    req.end();
  });
}

/** The output token, when the call made one. */
function tokenOf(buffers: SecBuffer[]): Uint8Array | undefined {
  const token = tokenBytes(buffers);
  return token !== undefined && token.byteLength > 0 ? token : undefined;
}
