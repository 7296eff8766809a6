// An HTTP client with NTLM or Negotiate authentication, running in a client process: node:http
// connects from this worker, and InitializeSecurityContext goes through this process's SSPI
// library to the emulated LSA. The package's first token goes with the first request (as curl
// --ntlm and curl --negotiate send it), under the scheme of the package: "Negotiate" for the
// Negotiate package (RFC 4559: a SPNEGO NegTokenInit) and for Kerberos (its raw AP-REQ, which
// RFC 4559 acceptors take as HTTP.sys does), "NTLM" for any other. Each 401 that carries
// a token under that scheme gets the package's next token on the same connection (one socket, kept
// alive: the authentication belongs to the connection), until the server answers otherwise:
//
//   NTLM:       NEGOTIATE -> 401 CHALLENGE -> AUTHENTICATE -> 200
//   Negotiate:  NegTokenInit -> 401 NegTokenResp -> NegTokenResp (AUTHENTICATE, mechListMIC)
//               -> 200 with "WWW-Authenticate: Negotiate <NegTokenResp accept-completed, mechListMIC>"
//   Negotiate with Kerberos (the client's machine in a realm, a service ticket for HTTP/host):
//               NegTokenInit (AP-REQ) -> 200 with "WWW-Authenticate: Negotiate <accept-completed, AP-REP>"
//
// A final token with the answer (RFC 4559 section 5) goes to InitializeSecurityContext, which must
// answer SEC_E_OK: that is where Negotiate checks the server's mechListMIC (mutual authentication
// of the negotiation), or Kerberos the AP-REP (mutual authentication of the server: Negotiate asks
// for ISC_REQ_MUTUAL_AUTH, as WinHTTP does). A 2xx that ends a handshake whose context is not complete (Negotiate's
// final token missing) is refused, not returned. A server that answers the first request with
// anything but a 401 with a token has its answer returned as it is.
//
// An https:// URL goes over TLS (client-proc/tls-client.ts): the connection is made and its
// certificate checked before the first InitializeSecurityContext, and every call, the first
// included, carries the channel bindings of the certificate the server presented on it (RFC 5929
// tls-server-end-point) as a SECBUFFER_CHANNEL_BINDINGS, as WinHTTP does: the NTLM package (under
// Negotiate too) puts their hash in MsvAvChannelBindings, Kerberos in the AP-REQ authenticator's
// checksum (its AP-REQ is the first and only token); args.channelBindings false leaves them out
// (a client that predates Extended Protection).
//
// args: url (http:// or https://), package, user/domain/password, method (default GET), timeoutMs
// (the whole exchange), maxBodyBytes, contextReq, tls (trust: ca, fingerprint256 or insecure),
// channelBindings (default true).

import { Agent, request, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
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
import { authorization, schemeChallenge, schemeOfPackage, NEGOTIATE_SCHEME, type HttpAuthScheme } from '../app-protocols/index.js';
import type { CredHandle, CtxtHandle } from '../sspi/index.js';
import { acquireAppCredential, appResult, failedCall, type AppArgs, type AppContext, type AppResult } from '../process/index.js';
import { describeNetworkFailure, networkFailureResult, NoAnswerInTime } from './network-failure.js';
import { certificateStatus, connectionBindings, tlsTrust, TrustingAgent } from './tls-client.js';

/** ISC_REQ for HTTP: a connection-oriented context, no signing or sealing on the wire. */
const HTTP_CLIENT_REQ = ISC_REQ.CONNECTION | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT;
/** Negotiate's adds mutual authentication: Kerberos then proves the server with the AP-REP in the final token (NTLM has none to give). */
const HTTP_NEGOTIATE_REQ = HTTP_CLIENT_REQ | ISC_REQ.MUTUAL_AUTH;
const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

/** The final response, as AppResult.data carries it. */
export interface HttpFetchData {
  statusCode: number;
  statusMessage: string;
  httpVersion: string;
  /** Header names and values, alternating, as received. */
  rawHeaders: string[];
  body: Uint8Array;
  /** The scheme the client authenticated with: "Negotiate" for the Negotiate and Kerberos packages, "NTLM" for the others. */
  scheme: HttpAuthScheme;
  /** Requests sent (1 when the server did not ask for the scheme or for Negotiate with Kerberos, 2 for an NTLM handshake, 2 for Negotiate with NTLM). */
  requests: number;
  /**
   * Whether a token that authenticates went out (NTLM's AUTHENTICATE_MESSAGE answering the server's
   * CHALLENGE, or Kerberos' AP-REQ the server answered with a final token): the server's answer says
   * whether it was accepted.
   */
  authenticateSent: boolean;
  /** Whether the answer carried a final token, which InitializeSecurityContext accepted (Negotiate's mechListMIC, or Kerberos' AP-REP). */
  finalTokenVerified: boolean;
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
  const scheme: HttpAuthScheme = schemeOfPackage(pkg);
  const contextReq = Number(args.contextReq ?? (scheme === NEGOTIATE_SCHEME ? HTTP_NEGOTIATE_REQ : HTTP_CLIENT_REQ));
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

  const targetName = `HTTP/${url.hostname}`;

  async function send(token: Uint8Array): Promise<Received> {
    requests++;
    ctx.trace('HttpRequest', `${method} ${url.pathname}${url.search} Authorization ${scheme} ${token.byteLength} B`);
    const received = await exchange(url, method, { Authorization: authorization(token, scheme) }, agent, Math.max(1, deadline - performance.now()), maxBody);
    ctx.trace('HttpResponse', `${received.response.statusCode ?? 0} on ${received.socket.localPort ?? '?'}->${url.host}`);
    return received;
  }

  try {
    const start = performance.now();
    // Over TLS the connection comes first: every call, the first included (Kerberos' AP-REQ is the
    // only token it sends), carries the bindings of the certificate presented on it.
    const channel: SecBuffer[] = [];
    let connection: Duplex | undefined;
    if (trusting !== undefined) {
      const opened = await trusting.open(url, Math.max(1, deadline - performance.now()));
      connection = opened.socket;
      tls = { protocol: (opened.socket as TLSSocket).getProtocol() ?? 'TLS', fingerprint256: opened.certificate?.fingerprint256 ?? '', bindingHash: null };
      const bound = sendBindings ? connectionBindings(opened.certificate) : { reason: 'channel bindings are turned off' };
      if ('bindings' in bound) {
        channel.push({ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: bound.bindings });
        tls.bindingHash = bound.hash;
        ctx.trace('ChannelBindings', `tls-server-end-point ${bound.hash} of the certificate SHA-256 ${bound.fingerprint256}`);
      } else {
        tls.noBindings = bound.reason;
        ctx.trace('ChannelBindings', `none: ${bound.reason}`);
      }
    }
    const first = await sspi.initializeSecurityContext({ credential, context: null, targetName, contextReq, input: channel.length > 0 ? channel : null });
    context = first.context;
    const firstToken = tokenOf(first.output);
    // Kerberos without mutual authentication is complete with its AP-REQ, the one token it sends.
    const completeAtFirst = first.status === SEC_E_OK;
    if ((first.status !== SEC_I_CONTINUE_NEEDED && !completeAtFirst) || firstToken === undefined)
      return appResult(
        isSuccess(first.status) ? SEC_E_INTERNAL_ERROR : first.status,
        `InitializeSecurityContext (the first ${scheme} token) returned ${statusName(first.status)}`,
      );
    const r1 = await send(firstToken);
    if (connection !== undefined && r1.socket !== connection)
      return appResult(
        SEC_E_INTERNAL_ERROR,
        `the TLS connection the first token was bound to closed before its request went (${scheme} over HTTPS needs one connection)`,
      );

    let received = r1;
    let answered = completeAtFirst; // a token of ours that authenticates went out (one answering the server's, or a complete AP-REQ)
    let complete = completeAtFirst; // InitializeSecurityContext said SEC_E_OK
    for (;;) {
      const offered = schemeChallenge(received.response.headers['www-authenticate'], scheme);
      if (typeof offered === 'string') return appResult(SEC_E_INVALID_TOKEN, `the server's WWW-Authenticate is malformed: ${offered}`);
      const token = offered !== undefined && offered.byteLength > 0 ? offered : undefined;
      const status = received.response.statusCode ?? 0;
      const elapsed = (): number => Math.round((performance.now() - start) * 100) / 100;

      if (status === 401) {
        // Not asked for the scheme, the first token refused, or a final refusal: the server's answer is the answer.
        if (token === undefined || complete) return answer(received, scheme, requests, answered, false, answered ? elapsed() : null, tls);
        const step = await sspi.initializeSecurityContext({
          credential,
          context: context ?? null,
          targetName,
          contextReq,
          input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }, ...channel],
        });
        const out = tokenOf(step.output);
        if (!isSuccess(step.status)) return appResult(step.status, failedCall(`InitializeSecurityContext (answering the server's ${scheme} token)`, step));
        if (out === undefined)
          return appResult(SEC_E_INTERNAL_ERROR, `InitializeSecurityContext returned ${statusName(step.status)} with no token to send after the server's 401`);
        complete = step.status === SEC_E_OK;
        answered = true;
        received = await send(out);
        if (received.socket !== r1.socket)
          return appResult(
            SEC_E_INTERNAL_ERROR,
            `the server closed the connection between the ${scheme} legs (${scheme} over HTTP needs one kept-alive connection)`,
          );
        continue;
      }
      // The server's answer. A final token (RFC 4559 section 5) must complete the context: after our
      // answer to its 401, or, Kerberos' one leg, straight after our first token.
      if (token !== undefined) {
        if (complete) return appResult(SEC_E_INVALID_TOKEN, `the server sent a ${scheme} token with its ${status} after the context was complete`);
        const last = await sspi.initializeSecurityContext({
          credential,
          context: context ?? null,
          targetName,
          contextReq,
          input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }, ...channel],
        });
        if (last.status !== SEC_E_OK)
          return appResult(
            isSuccess(last.status) ? SEC_E_INVALID_TOKEN : last.status,
            `the server's final ${scheme} token with its ${status} did not complete the context: ${failedCall('InitializeSecurityContext', last)}`,
          );
        return answer(received, scheme, requests, true, true, elapsed(), tls);
      }
      if (!answered) return answer(received, scheme, requests, false, false, null, tls);
      // No final token: a 2xx the client cannot trust (Negotiate's mechListMIC never came) is refused.
      if (!complete && status >= 200 && status < 300)
        return appResult(
          SEC_E_INVALID_TOKEN,
          `the server answered ${status} without its final ${scheme} token: the handshake is not complete (no mutual authentication, no mechListMIC)`,
        );
      return answer(received, scheme, requests, true, false, elapsed(), tls);
    }
  } catch (error) {
    // A certificate the client does not trust is a refusal (Schannel's status), not a network failure.
    const refused = certificateStatus(error);
    if (refused !== undefined) return appResult(refused, `the server's certificate is not trusted: ${describeError(error)}`);
    const network = describeNetworkFailure(error, url.port === '' ? `${url.hostname}:${https ? 443 : 80}` : url.host);
    if (network !== undefined) return networkFailureResult(`the ${requests <= 1 ? 'first request' : `request ${requests}`} to ${network}`);
    return appResult(SEC_E_INTERNAL_ERROR, `the request to ${url.host} failed: ${describeError(error)}`);
  } finally {
    agent.destroy();
    if (context !== undefined) await sspi.deleteSecurityContext(context);
    await sspi.freeCredentialsHandle(credential);
  }
}

function answer(
  received: Received,
  scheme: HttpAuthScheme,
  requests: number,
  authenticateSent: boolean,
  finalTokenVerified: boolean,
  handshakeMs: number | null,
  tls: HttpsFetchInfo | null,
): AppResult {
  const { response, body } = received;
  const data: HttpFetchData = {
    statusCode: response.statusCode ?? 0,
    statusMessage: response.statusMessage ?? '',
    httpVersion: response.httpVersion,
    rawHeaders: response.rawHeaders,
    body,
    scheme,
    requests,
    authenticateSent,
    finalTokenVerified,
    handshakeMs,
    tls,
  };
  const handshake = authenticateSent ? `, ${scheme} handshake sent${finalTokenVerified ? ", the server's final token verified" : ''}` : '';
  return {
    status: SEC_E_OK,
    statusName: statusName(SEC_E_OK),
    detail: `HTTP ${data.statusCode} after ${requests} request(s)${handshake}`,
    data: { ...data },
  };
}

/** One request and its whole response (the body up to maxBody bytes), with the socket it used. */
function exchange(url: URL, method: string, headers: Record<string, string>, agent: Agent, timeoutMs: number, maxBody: number): Promise<Received> {
  return new Promise<Received>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : request)(url, { method, headers, agent });
    const timer = setTimeout(() => req.destroy(new NoAnswerInTime(`no complete response within the time limit`)), timeoutMs);
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
