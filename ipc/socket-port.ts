// LPC over a Unix socket, for an LSA that runs as its own OS process (lsaIsolation: 'process').
// A frame (ipc/frame.ts: one ArrayBuffer holding a turn's messages) goes as a 4-byte
// little-endian length and the frame's bytes; the receiving end hands each whole frame to the RPC
// peer as an ArrayBuffer, exactly as a MessagePort would deliver it. So the vocabulary, the codec,
// the taps, faults and traces are those of the thread mode; only the carrier differs.
//
// Identity: a connection's first bytes are a hello (magic and the 32-byte secret the machine gave
// the process at spawn); the LSA binds the connection to the process that secret was issued for,
// once (lsa/lpc-listener.ts). Nothing a process writes after that can claim another identity.
//
// The peer may be hostile: a length past `maxFrameBytes` cuts the connection before anything is
// allocated for it, and a peer that stops reading while this side writes is cut off once
// `maxUnsentBytes` wait in this side's memory.

import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { FramePort } from './link.js';

/** The first bytes on a connection to the LSA: "SSPI-EMU LPC" in ASCII, then the secret. */
export const HELLO_MAGIC = new Uint8Array([0x53, 0x53, 0x50, 0x49, 0x2d, 0x45, 0x4d, 0x55, 0x20, 0x4c, 0x50, 0x43]);

const HEADER_BYTES = 4;

export interface SocketPortOptions {
  /** A name for errors ("lpc:client#2"). */
  name: string;
  /** A frame longer than this cuts the connection (the peer lies or floods). */
  maxFrameBytes: number;
  /** Bytes this side may have written that the peer has not read; past it the peer is cut off. */
  maxUnsentBytes: number;
}

/** Why a socket port closed, when this side closed it for a reason of its own. */
export type SocketPortCutOff = 'frame-too-long' | 'not-reading' | 'not-a-frame';

/**
 * A FramePort over a connected stream socket. Frames that arrive before anyone listens for
 * 'message' wait (the socket paused) and are delivered, in order, once a listener is added: the
 * LSA takes a connection before it has built the peer that will read it.
 */
export class SocketFramePort extends EventEmitter implements FramePort {
  /** Set when this side cut the connection, and why. */
  cutOff: SocketPortCutOff | undefined;
  private readonly socket: Socket;
  private readonly options: SocketPortOptions;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Length of the frame being assembled, once its header has arrived. */
  private frameLength = -1;
  private started = false;
  private closed = false;

  constructor(socket: Socket, options: SocketPortOptions, leftover?: Buffer) {
    super();
    this.socket = socket;
    this.options = options;
    if (leftover !== undefined && leftover.byteLength > 0) this.append(leftover);
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      this.append(chunk);
      this.deliver();
    });
    // An error is followed by 'close'; the RPC peer learns of both as the port's close.
    socket.on('error', () => undefined);
    socket.on('close', () => this.closedNow());
  }

  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    super.on(event, listener as (...args: unknown[]) => void);
    // A connection that closed before the peer was built still tells it (the process died while the LSA logged it on).
    if (event === 'close' && this.closed) setImmediate(() => (listener as () => void)());
    if (event === 'message' && !this.started) {
      this.started = true;
      // Not synchronously: a listener is never called before on() returns.
      setImmediate(() => {
        this.deliver();
        if (!this.closed) this.socket.resume();
      });
    }
    return this;
  }

  postMessage(value: unknown): void {
    if (this.closed) return;
    if (!(value instanceof ArrayBuffer)) throw new TypeError(`${this.options.name}: a socket carries LPC frames (ArrayBuffers) only`);
    const out = Buffer.allocUnsafe(HEADER_BYTES + value.byteLength);
    out.writeUInt32LE(value.byteLength, 0);
    out.set(new Uint8Array(value), HEADER_BYTES);
    this.socket.write(out);
    if (this.socket.writableLength > this.options.maxUnsentBytes) this.cut('not-reading');
  }

  /** Closes this end after what was written has gone; the peer sees the connection close. */
  close(): void {
    if (this.closed) return;
    this.socket.end(() => this.socket.destroy());
    this.closedNow();
  }

  unref(): void {
    this.socket.unref();
  }

  private cut(why: SocketPortCutOff): void {
    this.cutOff ??= why;
    this.socket.destroy();
    this.closedNow();
  }

  private closedNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    this.buffered = 0;
    this.emit('close');
  }

  private append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
  }

  /** Hands every whole frame that has arrived to the listeners, while someone listens. */
  private deliver(): void {
    while (this.started && !this.closed) {
      if (this.frameLength < 0) {
        if (this.buffered < HEADER_BYTES) return;
        this.frameLength = this.take(HEADER_BYTES).readUInt32LE(0);
        if (this.frameLength > this.options.maxFrameBytes) {
          this.cut('frame-too-long');
          return;
        }
      }
      if (this.buffered < this.frameLength) return;
      const frame = new ArrayBuffer(this.frameLength);
      this.copyInto(new Uint8Array(frame));
      this.frameLength = -1;
      this.emit('message', frame);
    }
  }

  /** The next `n` bytes, consumed (a view into a chunk when it holds them all). */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.byteLength >= n) {
      const out = first.subarray(0, n);
      this.consume(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    this.copyInto(out);
    return out;
  }

  /** Fills `target` from the chunks, consuming what it copies. */
  private copyInto(target: Uint8Array): void {
    let offset = 0;
    while (offset < target.byteLength) {
      const chunk = this.chunks[0]!;
      const n = Math.min(chunk.byteLength, target.byteLength - offset);
      target.set(chunk.subarray(0, n), offset);
      offset += n;
      this.consume(n);
    }
  }

  private consume(n: number): void {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (n === first.byteLength) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
  }
}

/** The hello a process sends first: the magic, then its secret. */
export function helloBytes(secret: Uint8Array): Buffer {
  return Buffer.concat([HELLO_MAGIC, secret]);
}

/**
 * An app process's end of LPC to an LSA in its own OS process: connects to the LSA's socket,
 * presents the process's secret, and carries frames. A failure to connect (the LSA gone) is the
 * port's close, which fails every pending call with PEER_GONE.
 */
export function connectLpcSocket(path: string, secret: Uint8Array, name: string): SocketFramePort {
  const socket = connect(path);
  socket.write(helloBytes(secret));
  // The LSA is trusted to send sane frames, but bounded all the same (output tokens, many replies in one frame).
  return new SocketFramePort(socket, { name, maxFrameBytes: 512 * 1024 * 1024, maxUnsentBytes: 1024 * 1024 * 1024 });
}
