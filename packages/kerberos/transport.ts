// Talking to a KDC (RFC 4120 7.2.1 and 7.2.2): a request goes over UDP first when it is short
// (no longer than udpPreferenceLimit, MIT's rule), and over TCP when it is long, when the KDC
// answers KRB_ERR_RESPONSE_TOO_BIG over UDP, or when UDP brings no answer; over TCP each message is
// its DER after a 4-byte big-endian length whose high bit must be clear. KDCs are tried in order.
//
// This runs in the LSA, on its dispatch thread, with node:dgram and node:net: it never blocks (every
// wait is an event), every socket is closed whatever happens, and the whole conversation of one call
// has one deadline, so a KDC that never answers costs the caller kdcTimeoutMs at most. A refused
// port (an ICMP port unreachable on a connected UDP socket, a TCP RST) fails at once: a machine
// whose KDC is down learns it in a round trip, not a timeout. SpShutdown aborts what is in flight.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { KRB_ERROR_CODE, unpackKrbError } from './messages/index.js';
import type { KdcAddress } from './settings.js';

/** How long a UDP request waits for its answer before the same KDC is tried over TCP (MIT waits 1 s, then more). */
export const UDP_WAIT_MS = 1000;
/** The largest reply taken over TCP: a length past it is refused before it is buffered. */
export const MAX_TCP_REPLY_BYTES = 1 << 20;

export interface KdcExchangeOptions {
  readonly kdcs: readonly KdcAddress[];
  readonly udpPreferenceLimit: number;
  /** When the whole exchange must be over: a performance.now() time. */
  readonly deadline: number;
  /** Aborts everything in flight (the package shuts down). */
  readonly signal?: AbortSignal;
}

export type KdcTransport = 'udp' | 'tcp';

export type KdcExchangeResult =
  | { readonly ok: true; readonly reply: Uint8Array; readonly kdc: KdcAddress; readonly transport: KdcTransport; readonly tries: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly tries: readonly string[] };

class Abandoned extends Error {}

/** Sends one request to the realm's KDCs and gives the first reply (or why none came). */
export async function exchangeWithKdc(request: Uint8Array, options: KdcExchangeOptions): Promise<KdcExchangeResult> {
  const tries: string[] = [];
  if (options.kdcs.length === 0) return { ok: false, reason: 'no KDC is configured for the realm', tries };
  for (const kdc of options.kdcs) {
    const where = `${kdc.host}:${kdc.port}`;
    const useUdp = request.length <= options.udpPreferenceLimit;
    if (useUdp) {
      const remaining = options.deadline - performance.now();
      if (remaining <= 0) break;
      try {
        const reply = await udpExchange(kdc, request, Math.min(UDP_WAIT_MS, remaining), options.signal);
        if (!isResponseTooBig(reply)) return { ok: true, reply, kdc, transport: 'udp', tries: [...tries, `udp ${where}: answered`] };
        tries.push(`udp ${where}: KRB_ERR_RESPONSE_TOO_BIG`);
      } catch (error) {
        if (options.signal?.aborted === true) return { ok: false, reason: 'the package is shutting down', tries };
        tries.push(`udp ${where}: ${message(error)}`);
        // A refused port refuses TCP too, almost always; TCP is still tried, as MIT does, but fails at once.
      }
    }
    const remaining = options.deadline - performance.now();
    if (remaining <= 0) {
      tries.push(`tcp ${where}: no time left`);
      break;
    }
    try {
      const reply = await tcpExchange(kdc, request, remaining, options.signal);
      return { ok: true, reply, kdc, transport: 'tcp', tries: [...tries, `tcp ${where}: answered`] };
    } catch (error) {
      if (options.signal?.aborted === true) return { ok: false, reason: 'the package is shutting down', tries };
      tries.push(`tcp ${where}: ${message(error)}`);
    }
  }
  return { ok: false, reason: `no KDC answered (${tries.join('; ') || 'out of time'})`, tries };
}

function isResponseTooBig(reply: Uint8Array): boolean {
  if (reply[0] !== 0x7e) return false; // [APPLICATION 30] KRB-ERROR
  try {
    return unpackKrbError(reply).errorCode === KRB_ERROR_CODE.KRB_ERR_RESPONSE_TOO_BIG;
  } catch {
    return false;
  }
}

function message(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === undefined ? error.message : `${error.message.replace(/^\w+ /, '')} (${code})`;
  }
  return String(error);
}

/** The address to send to: numeric hosts as they are, names through the resolver (within the time left). */
async function resolve(host: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<{ address: string; family: 4 | 6 }> {
  const family = isIP(host);
  if (family === 4 || family === 6) return { address: host, family };
  const found = await withDeadline(lookup(host), timeoutMs, signal, `resolving ${host}`);
  return { address: found.address, family: found.family === 6 ? 6 : 4 };
}

/** A promise raced against a timeout and the abort signal (the promise itself is left to settle; resolving cannot be cancelled). */
function withDeadline<T>(promise: Promise<T>, timeoutMs: number, signal: AbortSignal | undefined, what: string): Promise<T> {
  return new Promise<T>((resolveWith, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`${what}: no answer within ${Math.round(timeoutMs)} ms`))), timeoutMs);
    const onAbort = (): void => finish(() => reject(new Abandoned('aborted')));
    signal?.addEventListener('abort', onAbort, { once: true });
    let done = false;
    function finish(settle: () => void): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    }
    promise.then(
      (value) => finish(() => resolveWith(value)),
      (error: unknown) => finish(() => reject(error instanceof Error ? error : new Error(String(error)))),
    );
  });
}

/** One datagram out, the first datagram back from that address, within `timeoutMs`. */
async function udpExchange(kdc: KdcAddress, request: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
  if (signal?.aborted === true) throw new Abandoned('aborted');
  const started = performance.now();
  const { address, family } = await resolve(kdc.host, timeoutMs, signal);
  const left = timeoutMs - (performance.now() - started);
  if (left <= 0) throw new Error(`no answer within ${Math.round(timeoutMs)} ms`);
  return new Promise<Uint8Array>((resolveWith, reject) => {
    const socket: UdpSocket = createSocket(family === 6 ? 'udp6' : 'udp4');
    let done = false;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => undefined); // a late error after close must not be unhandled
      try {
        socket.close();
      } catch {
        // already closed
      }
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no answer within ${Math.round(left)} ms`))), left);
    const onAbort = (): void => finish(() => reject(new Abandoned('aborted')));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error) => finish(() => reject(error)));
    // A connected socket takes datagrams from the KDC's address alone, and hears its ICMP port unreachable.
    socket.on('message', (reply) => finish(() => resolveWith(new Uint8Array(reply))));
    socket.connect(kdc.port, address, () => {
      socket.send(request, (error) => {
        if (error) finish(() => reject(error));
      });
    });
  });
}

/** One length-prefixed request out over a fresh TCP connection, its length-prefixed reply back, within `timeoutMs`. */
function tcpExchange(kdc: KdcAddress, request: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
  if (signal?.aborted === true) return Promise.reject(new Abandoned('aborted'));
  return new Promise<Uint8Array>((resolveWith, reject) => {
    const socket: Socket = tcpConnect({ host: kdc.host, port: kdc.port });
    const chunks: Buffer[] = [];
    let received = 0;
    let expected: number | undefined;
    let done = false;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no answer within ${Math.round(timeoutMs)} ms`))), timeoutMs);
    const onAbort = (): void => finish(() => reject(new Abandoned('aborted')));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error) => finish(() => reject(error)));
    socket.on('connect', () => {
      const framed = Buffer.alloc(4 + request.length);
      framed.writeUInt32BE(request.length, 0);
      framed.set(request, 4);
      socket.write(framed);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (expected === undefined && received >= 4) {
        const head = Buffer.concat(chunks);
        const length = head.readUInt32BE(0);
        if (length & 0x80000000) return finish(() => reject(new Error('the reply sets the length prefix\'s reserved high bit')));
        if (length > MAX_TCP_REPLY_BYTES) return finish(() => reject(new Error(`a ${length}-byte reply is over the ${MAX_TCP_REPLY_BYTES}-byte limit`)));
        expected = length;
      }
      const length = expected;
      if (length !== undefined && received >= 4 + length) {
        if (received > 4 + length) return finish(() => reject(new Error(`${received - 4 - length} bytes follow the reply`)));
        const all = Buffer.concat(chunks);
        finish(() => resolveWith(new Uint8Array(all.subarray(4, 4 + length))));
      }
    });
    socket.on('end', () => finish(() => reject(new Error(expected === undefined ? 'the KDC closed the connection without a reply' : 'the reply was cut off'))));
  });
}
