// A TCP proxy on loopback that passes bytes both ways unchanged and records the framed records it
// sees, in the order it saw them: how the interop tests capture what real peers (MIT kinit and
// krb5kdc, gss-client and gss-server) say to each other. A record is recorded when the proxy has
// it whole and before it is passed on, so once a program that got its answer has exited, every
// record of its exchange is here: no waiting on time.

import { connect, createServer, type Server, type Socket } from 'node:net';

/** How records are framed on the stream: a fixed header that says how long the body is. */
export interface Framing {
  readonly headerLength: number;
  /** The body's length from the header. */
  bodyLength(header: Uint8Array): number;
}

/** Kerberos over TCP (RFC 4120 7.2.2): a 4-byte big-endian length, its high bit reserved. */
export const KERBEROS_TCP: Framing = {
  headerLength: 4,
  bodyLength: (h) => ((h[0]! & 0x7f) << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!,
};

/** MIT's gss-sample programs (app-protocols/gss-framing.ts): a flags byte, then a 4-byte big-endian length. */
export const GSS_SAMPLE: Framing = {
  headerLength: 5,
  bodyLength: (h) => ((h[1]! << 24) | (h[2]! << 16) | (h[3]! << 8) | h[4]!) >>> 0,
};

export interface ProxyRecord {
  /** Which side sent it: the one that connected to the proxy, or the one the proxy connected to. */
  from: 'client' | 'server';
  /** The connection it came on, numbered from 1 in the order clients connected. */
  connection: number;
  header: Uint8Array;
  body: Uint8Array;
}

/** Cuts a stream into records as bytes arrive. */
class Deframer {
  private pending = Buffer.alloc(0);
  private readonly framing: Framing;
  private readonly emit: (header: Uint8Array, body: Uint8Array) => void;

  constructor(framing: Framing, emit: (header: Uint8Array, body: Uint8Array) => void) {
    this.framing = framing;
    this.emit = emit;
  }

  push(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    for (;;) {
      const { headerLength } = this.framing;
      if (this.pending.length < headerLength) return;
      const header = new Uint8Array(this.pending.subarray(0, headerLength));
      const length = this.framing.bodyLength(header);
      if (this.pending.length < headerLength + length) return;
      this.emit(header, new Uint8Array(this.pending.subarray(headerLength, headerLength + length)));
      this.pending = this.pending.subarray(headerLength + length);
    }
  }
}

export class RecordingProxy {
  readonly records: ProxyRecord[] = [];
  /** Where the proxy forwards to; may be set after it starts (the target's port known later). */
  target: { host: string; port: number } | undefined;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private connections = 0;

  private constructor(server: Server) {
    this.server = server;
  }

  static start(framing: Framing, target?: { host: string; port: number }): Promise<RecordingProxy> {
    const server = createServer();
    const proxy = new RecordingProxy(server);
    proxy.target = target;
    server.on('connection', (client) => proxy.accept(client, framing));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(proxy));
    });
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** The bodies recorded so far, in order, with where they came from. */
  bodies(): Array<{ from: 'client' | 'server'; body: Uint8Array }> {
    return this.records.map(({ from, body }) => ({ from, body }));
  }

  private accept(client: Socket, framing: Framing): void {
    const connection = ++this.connections;
    const target = this.target;
    if (target === undefined) {
      client.destroy();
      return;
    }
    const server = connect(target);
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        server.destroy();
      });
    }
    const fromClient = new Deframer(framing, (header, body) => this.records.push({ from: 'client', connection, header, body }));
    const fromServer = new Deframer(framing, (header, body) => this.records.push({ from: 'server', connection, header, body }));
    client.on('data', (chunk: Buffer) => {
      fromClient.push(chunk);
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      fromServer.push(chunk);
      client.write(chunk);
    });
    client.on('end', () => server.end());
    server.on('end', () => client.end());
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
