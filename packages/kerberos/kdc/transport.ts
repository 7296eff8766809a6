// The KDC on the network (RFC 4120 7.2): UDP and TCP on one port.
//
// - UDP (7.2.1): one request per datagram, one reply per datagram. A reply larger than the
//   policy's maxDatagramReplyBytes is not sent; KRB_ERR_RESPONSE_TOO_BIG goes instead, and the
//   client asks again over TCP (MIT's and Windows' clients both do).
// - TCP (7.2.2): each message is preceded by its length in four big-endian octets. The length's
//   high bit is reserved for extensions, none of which is implemented: a request with it set, or
//   longer than the policy's maxRequestBytes, is answered KRB_ERR_FIELD_TOOLONG and the connection
//   closed. Requests on one connection are answered in order; a client that ends its side after
//   sending (a half-close) still gets every answer, then the KDC ends its own. A connection idle (or stuck
//   half-way through a request) for idleTimeoutMs is closed; past maxConnections, new ones are
//   closed as they come.
//
// Nothing a client sends can crash the listener: every request is answered by Kdc.handle, which
// never rejects, and socket errors end only their own connection.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { KRB_ERROR_CODE, kerberosMessageType } from '../messages/index.js';
import { KdcError } from './errors.js';
import type { Kdc, KdcRequestRecord, KdcTransport } from './kdc.js';

export interface KdcAddress {
  host: string;
  /** The port of both the UDP and the TCP listener. */
  port: number;
}

/** What a host of the KDC is told of each request (the LSA traces them; `sspi-emu dc` prints them). */
export interface KdcListenerHooks {
  /** Before a request is handled (where a fault plan may stop or kill the LSA, mid-exchange). */
  before?(exchange: 'AS' | 'TGS' | null, transport: KdcTransport, peer: string): void;
  /** After it was answered (the reply sent or being sent). */
  after?(record: KdcRequestRecord): void;
}

export interface KdcListenerStats {
  /** TCP connections open now, and taken since the start. */
  connections: number;
  connectionsTotal: number;
  /** Datagrams answered with KRB_ERR_RESPONSE_TOO_BIG. */
  tooBig: number;
  /** TCP requests answered with KRB_ERR_FIELD_TOOLONG (their connections closed). */
  tooLong: number;
  /** Datagrams dropped because too many were being handled at once. */
  dropped: number;
}

/** UDP requests handled at once (each waits at most for its principal's keys); more are dropped, as a busy KDC drops datagrams. */
const MAX_UDP_IN_FLIGHT = 4096;
/** Attempts at one free port for both UDP and TCP when any port will do. */
const PORT_ATTEMPTS = 8;
const LENGTH_BYTES = 4;

export class KdcListener {
  readonly address: KdcAddress;
  private readonly kdc: Kdc;
  private readonly tcp: Server;
  private readonly udp: UdpSocket;
  private readonly hooks: KdcListenerHooks;
  private readonly sockets = new Set<Socket>();
  private udpInFlight = 0;
  private closed = false;
  private readonly counts = { connectionsTotal: 0, tooBig: 0, tooLong: 0, dropped: 0 };

  private constructor(kdc: Kdc, tcp: Server, udp: UdpSocket, address: KdcAddress, hooks: KdcListenerHooks) {
    this.kdc = kdc;
    this.tcp = tcp;
    this.udp = udp;
    this.address = address;
    this.hooks = hooks;
    tcp.maxConnections = kdc.policy.maxConnections;
    tcp.on('connection', (socket) => this.serveConnection(socket));
    tcp.on('error', () => undefined);
    udp.on('message', (message, from) => {
      this.serveDatagram(message, `${from.address}:${from.port}`, from.port, from.address).catch(() => this.counts.dropped++);
    });
    udp.on('error', () => undefined);
  }

  /**
   * Listens on `host`:`port` over TCP and UDP (port 0: one free port for both). KdcError
   * LISTEN_FAILED when the port is taken or the address is not this host's.
   */
  static async listen(kdc: Kdc, where: { host: string; port: number }, hooks: KdcListenerHooks = {}): Promise<KdcListener> {
    const { host, port } = where;
    if (!Number.isSafeInteger(port) || port < 0 || port > 65535)
      throw new KdcError('BAD_CONFIG', `the KDC's port must be a whole number from 0 to 65535, not ${String(port)}`);
    let lastError: unknown;
    for (let attempt = 0; attempt < (port === 0 ? PORT_ATTEMPTS : 1); attempt++) {
      // Half-open: a client that shuts down its sending side after its request (as MIT's krb5kdc
      // allows) still gets the answer; our side ends once its requests are answered.
      const tcp = createServer({ pauseOnConnect: false, allowHalfOpen: true });
      let bound: number;
      try {
        bound = await listenTcp(tcp, host, port);
      } catch (error) {
        throw new KdcError('LISTEN_FAILED', `the KDC cannot listen on TCP ${host}:${port}: ${(error as Error).message}`, { cause: error });
      }
      const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
      try {
        await bindUdp(udp, host, bound);
        return new KdcListener(kdc, tcp, udp, { host, port: bound }, hooks);
      } catch (error) {
        lastError = error;
        udp.close();
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
      }
    }
    throw new KdcError('LISTEN_FAILED', `the KDC cannot listen on UDP ${host}:${port}: ${(lastError as Error).message}`, { cause: lastError });
  }

  stats(): KdcListenerStats {
    return { connections: this.sockets.size, ...this.counts };
  }

  /** Stops listening and closes every connection; requests being handled are answered to no one. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([new Promise<void>((resolve) => this.tcp.close(() => resolve())), new Promise<void>((resolve) => this.udp.close(() => resolve()))]);
  }

  private async serveDatagram(message: Buffer, peer: string, port: number, address: string): Promise<void> {
    if (this.closed) return;
    if (this.udpInFlight >= MAX_UDP_IN_FLIGHT || message.length > this.kdc.policy.maxRequestBytes) {
      this.counts.dropped++;
      return;
    }
    this.udpInFlight++;
    try {
      const request = new Uint8Array(message);
      this.hooks.before?.(exchangeOf(request), 'udp', peer);
      const { reply, record } = await this.kdc.handle(request, 'udp', peer);
      let datagram = reply;
      if (reply.length > this.kdc.policy.maxDatagramReplyBytes) {
        this.counts.tooBig++;
        datagram = this.kdc.tooBig(request, reply.length);
        record.detail = `the reply (${record.errorCode === 0 ? 'a ticket' : record.result}) is ${reply.length} bytes: asked to use TCP`;
        record.result = 'KRB_ERR_RESPONSE_TOO_BIG';
        record.errorCode = KRB_ERROR_CODE.KRB_ERR_RESPONSE_TOO_BIG;
        delete record.etype;
      }
      if (!this.closed) this.udp.send(datagram, port, address, () => undefined);
      this.hooks.after?.(record);
    } finally {
      this.udpInFlight--;
    }
  }

  private serveConnection(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.counts.connectionsTotal++;
    this.sockets.add(socket);
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const limit = this.kdc.policy.maxRequestBytes;
    let pending: Buffer = Buffer.alloc(0);
    let busy = false;
    /** The client ended its side: nothing more comes, so ours ends when what came is answered. */
    let ended = false;
    socket.setNoDelay(true);
    socket.setTimeout(this.kdc.policy.idleTimeoutMs, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    const refuse = (why: string): void => {
      this.counts.tooLong++;
      socket.end(frame(this.kdc.tooLong(why)));
      pending = Buffer.alloc(0);
      socket.removeAllListeners('data');
    };
    /** Answers the requests that have arrived whole, one at a time, in order. */
    const drain = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (!socket.destroyed && pending.length >= LENGTH_BYTES) {
          const word = pending.readUInt32BE(0);
          if ((word & 0x80000000) !== 0) return refuse('the length prefix has its reserved high bit set (RFC 4120 7.2.2 extensions are not implemented)');
          if (word > limit) return refuse(`a request of ${word} bytes is longer than the ${limit} this KDC takes`);
          if (pending.length < LENGTH_BYTES + word) return;
          const request = new Uint8Array(pending.subarray(LENGTH_BYTES, LENGTH_BYTES + word));
          pending = pending.subarray(LENGTH_BYTES + word);
          this.hooks.before?.(exchangeOf(request), 'tcp', peer);
          const { reply, record } = await this.kdc.handle(request, 'tcp', peer);
          if (!socket.destroyed) socket.write(frame(reply));
          this.hooks.after?.(record);
        }
      } finally {
        busy = false;
        if (ended && !socket.destroyed) socket.end(); // a request cut short by the client's end is never answered
      }
    };
    socket.on('end', () => {
      ended = true;
      if (!busy) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      // A client that keeps sending while its requests wait is bounded too: two whole requests' worth.
      if (pending.length + chunk.length > 2 * (LENGTH_BYTES + limit)) {
        socket.destroy();
        return;
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      drain().catch(() => socket.destroy());
    });
  }
}

function exchangeOf(request: Uint8Array): 'AS' | 'TGS' | null {
  const type = kerberosMessageType(request[0]);
  return type === 'AS-REQ' ? 'AS' : type === 'TGS-REQ' ? 'TGS' : null;
}

/** A message with its TCP length prefix. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(LENGTH_BYTES + message.length);
  out.writeUInt32BE(message.length, 0);
  out.set(message, LENGTH_BYTES);
  return out;
}

function listenTcp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function bindUdp(socket: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}
