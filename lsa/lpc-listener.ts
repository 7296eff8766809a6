// Where an LSA in its own OS process (lsaIsolation: 'process') takes app processes' LPC
// connections: a Unix socket in a directory only the machine's user can enter. Who is connecting
// is proven, never claimed: the machine gives each process a one-time secret at spawn and tells
// the LSA which process it was issued for before the process can use it (expect); a connection is
// that process's once it presented the secret in its hello, and the secret is spent. A connection
// that presents nothing in time, a wrong magic, a secret nobody issued or one already spent is
// closed at once, and counted.

import { createServer, type Server, type Socket } from 'node:net';
import { HELLO_MAGIC, LPC_SECRET_BYTES, SocketFramePort, SspiEmuError } from '../ipc/index.js';

const HELLO_BYTES = HELLO_MAGIC.byteLength + LPC_SECRET_BYTES;

export interface LpcListenerOptions {
  /** A connection must present its hello within this many ms. */
  helloTimeoutMs: number;
  /**
   * Connections that may be waiting for their hello at once; a new one past them closes the one
   * that has waited longest (a process sends its hello as it connects, so a connection that holds
   * a place without it is the one to go, not the next process's).
   */
  maxHellos: number;
  /** Spent secrets remembered, so that a second use is counted as one. */
  maxSpent: number;
  /** Frame and write bounds of each process's connection (ipc/socket-port.ts). */
  maxFrameBytes: number;
  maxUnsentBytes: number;
}

export const DEFAULT_LISTENER_OPTIONS: LpcListenerOptions = {
  helloTimeoutMs: 10_000,
  maxHellos: 64,
  maxSpent: 65_536,
  maxFrameBytes: 128 * 1024 * 1024,
  maxUnsentBytes: 256 * 1024 * 1024,
};

/** What the listener refused, by reason (lsa.stats().lpcListener). */
export interface LpcListenerStats {
  accepted: number;
  refused: { badHello: number; helloTimeout: number; tooManyHellos: number; spentSecret: number; unknownSecret: number };
}

interface Waiter {
  resolve: (port: SocketFramePort) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  name: string;
}

export class LpcListener {
  readonly path: string;
  private readonly options: LpcListenerOptions;
  private readonly server: Server;
  private readonly waiters = new Map<string, Waiter>();
  private readonly spent = new Set<string>();
  private readonly sockets = new Set<Socket>();
  /** Connections that have not presented their hello yet, oldest first: each one's refusal. */
  private readonly waitingHellos = new Set<() => void>();
  private readonly counts: LpcListenerStats = {
    accepted: 0,
    refused: { badHello: 0, helloTimeout: 0, tooManyHellos: 0, spentSecret: 0, unknownSecret: 0 },
  };

  private constructor(path: string, options: LpcListenerOptions) {
    this.path = path;
    this.options = options;
    this.server = createServer((socket) => this.hello(socket));
  }

  static async listen(path: string, options: LpcListenerOptions = DEFAULT_LISTENER_OPTIONS): Promise<LpcListener> {
    const listener = new LpcListener(path, options);
    await new Promise<void>((resolve, reject) => {
      listener.server.once('error', reject);
      listener.server.listen(path, () => {
        listener.server.off('error', reject);
        resolve();
      });
    });
    return listener;
  }

  /**
   * The connection of the process that was given `secret`, once it connects (within `timeoutMs`).
   * Call it before the process can connect: a connection with a secret not expected is refused.
   */
  expect(secret: Uint8Array, name: string, timeoutMs: number): Promise<SocketFramePort> {
    const key = Buffer.from(secret).toString('hex');
    if (secret.byteLength !== LPC_SECRET_BYTES || this.spent.has(key) || this.waiters.has(key))
      return Promise.reject(new SspiEmuError('SPAWN_FAILED', `${name}: its LPC secret is malformed or was used already`));
    return new Promise<SocketFramePort>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        this.spend(key);
        reject(new SspiEmuError('SPAWN_FAILED', `${name} did not connect to the LSA within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, { resolve, reject, timer, name });
    });
  }

  /** Gives up waiting for a process (it died before connecting): its secret is spent. */
  cancel(secret: Uint8Array): void {
    const key = Buffer.from(secret).toString('hex');
    const waiter = this.waiters.get(key);
    if (waiter === undefined) return;
    this.waiters.delete(key);
    clearTimeout(waiter.timer);
    this.spend(key);
    waiter.reject(new SspiEmuError('SPAWN_FAILED', `${waiter.name} went away before it connected to the LSA`));
  }

  stats(): LpcListenerStats {
    return { accepted: this.counts.accepted, refused: { ...this.counts.refused } };
  }

  close(): void {
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
    for (const waiter of this.waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new SspiEmuError('SPAWN_FAILED', `${waiter.name}: the LSA is shutting down`));
    }
    this.waiters.clear();
  }

  /** Reads a new connection's hello; anything else closes it. */
  private hello(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    // Every place taken: the connection that has waited longest for its hello is closed, so that
    // connections which never say it (any process can reach this socket) cannot keep out the
    // processes being spawned, whose hellos come as they connect.
    if (this.waitingHellos.size >= this.options.maxHellos) this.waitingHellos.values().next().value?.();
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (): void => {
      done = true;
      this.waitingHellos.delete(evict);
      clearTimeout(timer);
      socket.off('data', onData);
    };
    const refuse = (why: keyof LpcListenerStats['refused']): void => {
      finish();
      this.counts.refused[why]++;
      socket.destroy();
    };
    const evict = (): void => refuse('tooManyHellos');
    this.waitingHellos.add(evict);
    const timer = setTimeout(() => refuse('helloTimeout'), this.options.helloTimeoutMs);
    // A connection closed before its hello frees its place.
    socket.once('close', () => {
      if (!done) finish();
    });
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const magic = received.subarray(0, Math.min(received.byteLength, HELLO_MAGIC.byteLength));
      if (!magic.equals(Buffer.from(HELLO_MAGIC.subarray(0, magic.byteLength)))) return refuse('badHello');
      if (received.byteLength < HELLO_BYTES) return;
      finish();
      socket.pause();
      const key = received.subarray(HELLO_MAGIC.byteLength, HELLO_BYTES).toString('hex');
      this.arrived(socket, key, received.subarray(HELLO_BYTES));
    };
    socket.on('data', onData);
  }

  /** A connection presented `key`: it is the process's the machine issued it for, or it is closed. */
  private arrived(socket: Socket, key: string, leftover: Buffer): void {
    const waiter = this.waiters.get(key);
    if (waiter === undefined) {
      this.counts.refused[this.spent.has(key) ? 'spentSecret' : 'unknownSecret']++;
      socket.destroy();
      return;
    }
    this.waiters.delete(key);
    clearTimeout(waiter.timer);
    this.spend(key);
    waiter.resolve(this.bind(socket, leftover, waiter.name));
  }

  private spend(key: string): void {
    this.spent.add(key);
    if (this.spent.size > this.options.maxSpent) this.spent.delete(this.spent.values().next().value as string);
  }

  private bind(socket: Socket, leftover: Buffer, name: string): SocketFramePort {
    this.counts.accepted++;
    return new SocketFramePort(socket, { name, maxFrameBytes: this.options.maxFrameBytes, maxUnsentBytes: this.options.maxUnsentBytes }, leftover);
  }
}
