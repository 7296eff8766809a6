// The load generator of the HTTP socket rows (bench/http-sockets.ts): N clients in this one worker,
// each opening a connection per handshake and sending on it, kept alive, the three requests of NTLM
// over HTTP (RFC 4559 as Windows and curl use it):
//
//   GET /                              -> 401  WWW-Authenticate: NTLM
//   GET /  Authorization: NTLM <NEGOTIATE>    -> 401  WWW-Authenticate: NTLM <CHALLENGE>
//   GET /  Authorization: NTLM <AUTHENTICATE> -> 200  (Connection: close: the handshake's last request)
//
// The client side of NTLM is the package's own initiator legs over bytes (packages/ntlm/wire.ts:
// negotiateFor, authenticateFor; NTLMv2 with the MIC), with the NT hash computed once, as the LSA
// keeps it: no SSPI and no LSA on this side, so that the servers are what is measured. HTTP is
// spoken over node:net with the little this needs (a request string out; the status, the
// WWW-Authenticate and Content-Length headers and the body in), because node:http's client would
// cost about as much per request as the servers it measures. The same generator drives both
// servers; a response that is not the one expected is a failure, counted by what went wrong.

import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort } from 'node:worker_threads';
import { ISC_REQ } from '../../headers/index.js';
import { authorization, ntlmChallenge } from '../../app-protocols/index.js';
import { authenticateFor, negotiateFor, ntowfv1, type ClientIdentity } from '../../packages/ntlm/wire.js';

/** What the bench asks of one run. */
export interface LoadRun {
  kind: 'run';
  host: string;
  port: number;
  clients: number;
  warmupMs: number;
  durationMs: number;
  user: string;
  domain: string;
  password: string;
}

/** What one run reports: handshakes that completed after the warm-up, and every failure. */
export interface LoadResult {
  kind: 'done';
  completed: number;
  /** ms from the end of the warm-up to the last completion. */
  elapsedMs: number;
  /** Handshake latencies (connect to the 200's last byte), ms, of the completed handshakes. */
  latencies: number[];
  failures: number;
  /** Failures by what went wrong ("request 2: status 500", "ECONNRESET", ...). */
  byReason: Record<string, number>;
}

/** ISC_REQ as client-proc/http-app.ts asks: a connection-oriented context, no signing or sealing on the wire. */
const HTTP_CLIENT_REQ = ISC_REQ.CONNECTION | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** Longer response heads than this are not HTTP from these servers (an NTLM CHALLENGE header is under 1 KiB). */
const MAX_HEAD = 32 * 1024;

interface Response {
  status: number;
  wwwAuthenticate: string[];
  body: Buffer;
}

class HandshakeError extends Error {}
/** One error for every close: a connection closes after each handshake, and an Error's stack costs. */
const CLOSED = new HandshakeError('the server closed the connection');

/** One connection: requests go out one at a time, each response is read whole before the next. */
class Connection {
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: Response) => void; reject: (e: Error) => void } | undefined;
  private failed: Error | undefined;
  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(CLOSED));
  }

  static open(host: string, port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new Connection(socket));
      });
    });
  }

  request(head: string): Promise<Response> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise<Response>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(head);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    this.failed ??= error;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(this.failed);
  }

  /** A whole response in the buffer (head, then Content-Length bytes) goes to the waiting request. */
  private parse(): void {
    if (this.waiting === undefined) return;
    const end = this.buffered.indexOf(HEAD_END);
    if (end < 0) {
      if (this.buffered.length > MAX_HEAD) this.fail(new HandshakeError('a response head over 32 KiB'));
      return;
    }
    const lines = this.buffered.toString('latin1', 0, end).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (status === null) return this.fail(new HandshakeError('not an HTTP/1.1 status line'));
    let length = -1;
    const wwwAuthenticate: string[] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      if (name === 'content-length') length = Number(line.slice(colon + 1).trim());
      else if (name === 'www-authenticate') wwwAuthenticate.push(line.slice(colon + 1).trim());
    }
    if (!(length >= 0)) return this.fail(new HandshakeError('a response without Content-Length'));
    const bodyStart = end + HEAD_END.length;
    if (this.buffered.length < bodyStart + length) return;
    const body = this.buffered.subarray(bodyStart, bodyStart + length);
    this.buffered = this.buffered.subarray(bodyStart + length);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting.resolve({ status: Number(status[1]), wwwAuthenticate, body });
  }
}

function requestHead(host: string, token: Uint8Array | undefined, last: boolean): string {
  return `GET / HTTP/1.1\r\nHost: ${host}\r\n${token === undefined ? '' : `Authorization: ${authorization(token)}\r\n`}${last ? 'Connection: close\r\n' : ''}\r\n`;
}

function expect(step: number, response: Response, status: number): void {
  if (response.status !== status) throw new HandshakeError(`request ${step}: status ${response.status}`);
}

/** One handshake on a new connection: the three requests, each answer checked. */
async function handshake(run: LoadRun, identity: ClientIdentity): Promise<void> {
  const conn = await Connection.open(run.host, run.port);
  try {
    const hostHeader = `${run.host}:${run.port}`;
    const first = await conn.request(requestHead(hostHeader, undefined, false));
    expect(1, first, 401);
    const offered = ntlmChallenge(first.wwwAuthenticate);
    if (!(offered instanceof Uint8Array) || offered.byteLength !== 0) throw new HandshakeError('request 1: no bare WWW-Authenticate: NTLM');
    const negotiate = negotiateFor(HTTP_CLIENT_REQ);
    const second = await conn.request(requestHead(hostHeader, negotiate.bytes, false));
    expect(2, second, 401);
    const challenge = ntlmChallenge(second.wwwAuthenticate);
    if (!(challenge instanceof Uint8Array) || challenge.byteLength === 0) throw new HandshakeError('request 2: no CHALLENGE in WWW-Authenticate');
    const authenticate = authenticateFor({ negotiate, challenge, identity, targetName: `HTTP/${run.host}`, channelBindingsHash: undefined, now: new Date() });
    if (!authenticate.ok) throw new HandshakeError(`the CHALLENGE was refused: ${authenticate.reason}`);
    const third = await conn.request(requestHead(hostHeader, authenticate.bytes, true));
    expect(3, third, 200);
  } finally {
    conn.close();
  }
}

async function load(run: LoadRun): Promise<LoadResult> {
  const identity: ClientIdentity = { user: run.user, domain: run.domain, ntHash: ntowfv1(run.password), workstation: 'LOADGEN' };
  const start = performance.now();
  const warmEnd = start + run.warmupMs;
  const deadline = warmEnd + run.durationMs;
  const latencies: number[] = [];
  const byReason: Record<string, number> = {};
  let failures = 0;
  let last = warmEnd;
  // Every client starts a handshake before the deadline and finishes it: each completes at least one after the warm-up.
  await Promise.all(
    Array.from({ length: run.clients }, async () => {
      do {
        const t0 = performance.now();
        try {
          await handshake(run, identity);
          const t1 = performance.now();
          if (t1 >= warmEnd) {
            latencies.push(t1 - t0);
            last = Math.max(last, t1);
          }
        } catch (error) {
          failures++;
          const reason = error instanceof HandshakeError ? error.message : ((error as NodeJS.ErrnoException).code ?? String(error));
          byReason[reason] = (byReason[reason] ?? 0) + 1;
        }
      } while (performance.now() < deadline);
    }),
  );
  return { kind: 'done', completed: latencies.length, elapsedMs: last - warmEnd, latencies, failures, byReason };
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  port.on('message', (message: LoadRun) => {
    void load(message).then((result) => port.postMessage(result));
  });
  port.postMessage({ kind: 'ready' });
}
