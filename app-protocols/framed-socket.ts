// A TCP socket carrying gss-sample frames (gss-framing.ts), for the TCP server and client apps:
// receive() the next frame within a time limit, send() one and wait until it is written. The
// socket is paused while frames wait unread, so a peer cannot make it buffer without bound, and a
// framing fault (a v1 flags byte, a length over the limit) ends the connection at once.

import type { Socket } from 'node:net';
import { FrameReader, FramingError, packFrame, type Frame, type FramingErrorCode } from './gss-framing.js';
import { EmuError, registerErrorClass } from '../ipc/index.js';

export type ProtocolErrorCode = FramingErrorCode | 'PROTOCOL' | 'TIMEOUT' | 'CLOSED';

/** The peer broke the protocol, went away, or was too slow; `code` says which. */
export class ProtocolError extends EmuError<ProtocolErrorCode> {
  override readonly name = 'ProtocolError';
}
registerErrorClass('ProtocolError', ProtocolError, ['TOKEN_TOO_LARGE', 'TRUNCATED', 'BAD_FLAGS', 'PROTOCOL', 'TIMEOUT', 'CLOSED']);

/** Frames that may wait unread before the socket is paused. */
const HIGH_WATER = 4;

export class FramedSocket {
  private readonly reader: FrameReader;
  private readonly queue: Frame[] = [];
  private waiter: { resolve: (frame: Frame) => void; reject: (error: Error) => void } | null = null;
  private failure: ProtocolError | null = null;

  readonly socket: Socket;
  /** Called for every frame in or out (for the trace). */
  private readonly onFrame?: (direction: 'in' | 'out', flags: number, length: number) => void;

  constructor(
    socket: Socket,
    maxToken: number,
    /** Called for every frame in or out (for the trace). */
    onFrame?: (direction: 'in' | 'out', flags: number, length: number) => void,
  ) {
    this.socket = socket;
    this.onFrame = onFrame;
    this.reader = new FrameReader(maxToken);
    // Tokens are small and each waits for an answer: Nagle's algorithm would hold them for the peer's delayed ACK.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch (error) {
        const code = error instanceof FramingError ? error.code : 'PROTOCOL';
        this.fail(new ProtocolError(code, error instanceof Error ? error.message : String(error), { cause: error }));
        socket.destroy();
        return;
      }
      for (const frame of frames) this.deliver(frame);
      if (this.queue.length >= HIGH_WATER) socket.pause();
    });
    socket.on('end', () => {
      try {
        this.reader.end();
        this.fail(new ProtocolError('CLOSED', 'the peer closed the connection'));
      } catch (error) {
        this.fail(new ProtocolError('TRUNCATED', error instanceof Error ? error.message : String(error), { cause: error }));
      }
    });
    socket.on('error', (error) => this.fail(new ProtocolError('CLOSED', `the connection failed: ${error.message}`, { cause: error })));
    socket.on('close', () => this.fail(new ProtocolError('CLOSED', 'the connection closed')));
  }

  /** The next frame; rejects with TIMEOUT after `timeoutMs` (0: no limit), CLOSED, TRUNCATED, ... */
  receive(timeoutMs: number): Promise<Frame> {
    const queued = this.queue.shift();
    if (queued !== undefined) {
      if (this.queue.length < HIGH_WATER && this.socket.isPaused()) this.socket.resume();
      return Promise.resolve(queued);
    }
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.socket.isPaused()) this.socket.resume();
    return new Promise<Frame>((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.waiter = null;
              reject(new ProtocolError('TIMEOUT', `no complete token within ${timeoutMs} ms`));
            }, timeoutMs)
          : undefined;
      this.waiter = {
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  /** Writes one frame; resolves once it is handed to the kernel. */
  send(flags: number, token?: Uint8Array): Promise<void> {
    const frame = packFrame(flags, token);
    this.onFrame?.('out', flags, token?.byteLength ?? 0);
    return new Promise<void>((resolve, reject) => {
      if (this.socket.destroyed) return reject(new ProtocolError('CLOSED', 'cannot send: the connection is closed'));
      this.socket.write(frame, (error) => (error ? reject(new ProtocolError('CLOSED', `cannot send: ${error.message}`, { cause: error })) : resolve()));
    });
  }

  /** Ends the connection after what was written is flushed. */
  close(): void {
    if (this.socket.destroyed) return;
    this.socket.end(() => this.socket.destroy());
    // A peer that never reads nor closes does not hold the socket open.
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  private deliver(frame: Frame): void {
    this.onFrame?.('in', frame.flags, frame.token.byteLength);
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter.resolve(frame);
    } else {
      this.queue.push(frame);
    }
  }

  private fail(error: ProtocolError): void {
    if (this.failure !== null) return;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(error);
  }
}
