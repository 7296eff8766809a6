// A connection between two app processes: one end of a MessageChannel the machine created when a
// client connected to a name a server listens on (the seed's "port" the server monitors).
// Messages are typed by the application; receive() never hangs on a dead peer: when the other
// process exits, pending and later receives fail with TransportError('PEER_GONE').
//
// What one turn sends goes as one frame (an array of the messages) when the turn ends, as a pipe's
// writes coalesce: a postMessage wakes the other thread, and that wake-up, not the copying, is what
// a message costs (profiles of `bench`: a third of the client process's time went to one per
// message). A turn's first message does not go ahead of the rest: with many handshakes in flight
// it woke the peer for one message, and the peer then answered in small frames of its own, so that
// every thread of the path posted three to four times as often (README, "Fewer wake-ups: the
// fourth pass"). A frame that reaches MAX_FRAME_MESSAGES goes at once, so that the peer starts on it
// while the rest of the turn is still being sent (ipc/batching.ts).
// A message posted on its own (not in an array) is taken as one message.

import type { MessagePort } from 'node:worker_threads';
import { TransportError } from './errors.js';
import { deadlines, type Deadline } from './deadlines.js';
import { MAX_FRAME_MESSAGES } from './batching.js';
import type { Tracer } from './trace.js';

export class Connection<M> {
  sent = 0;
  received = 0;
  private readonly queue: M[] = [];
  private readonly waiting: Array<{ resolve: (m: M) => void; reject: (e: Error) => void; deadline: Deadline | undefined }> = [];
  private closedBy: TransportError | undefined;

  private readonly port: MessagePort;
  readonly name: string;
  private readonly tracer: Tracer;
  /** Process-wide message counters this connection adds to. */
  private readonly totals: { sent: number; received: number };

  constructor(
    port: MessagePort,
    name: string,
    tracer: Tracer,
    /** Process-wide message counters this connection adds to. */
    totals: { sent: number; received: number } = { sent: 0, received: 0 },
  ) {
    this.port = port;
    this.name = name;
    this.tracer = tracer;
    this.totals = totals;
    port.on('message', (frame: unknown) => {
      if (Array.isArray(frame)) for (const message of frame as M[]) this.arrived(message);
      else this.arrived(frame as M);
    });
    port.on('close', () => this.shutdown(new TransportError('PEER_GONE', `${name}: the peer closed the connection or its process exited`)));
  }

  get closed(): boolean {
    return this.closedBy !== undefined;
  }

  private outbox: M[] = [];

  private arrived(message: M): void {
    this.received++;
    this.totals.received++;
    this.tracer.tap(this.name, 'receive', message);
    const waiter = this.waiting.shift();
    if (waiter === undefined) this.queue.push(message);
    else {
      waiter.deadline?.cancel();
      waiter.resolve(message);
    }
  }

  /**
   * Queues a message for this turn's frame; throws if the connection is closed. A message that
   * cannot be cloned ends the connection when its frame goes (BAD_MESSAGE).
   */
  send(message: M): void {
    if (this.closedBy !== undefined) throw this.closedBy;
    this.sent++;
    this.totals.sent++;
    this.tracer.tap(this.name, 'send', message);
    this.outbox.push(message);
    // A turn's messages go together when it ends (one postMessage, one wake-up of the peer), or
    // as soon as they fill a frame.
    if (this.outbox.length >= MAX_FRAME_MESSAGES) this.flush();
    else if (!this.turnOpen) {
      this.turnOpen = true;
      setImmediate(this.endTurn);
    }
  }

  /** A message waits in the outbox for this turn's end. */
  private turnOpen = false;

  private readonly endTurn = (): void => {
    this.turnOpen = false;
    this.flush();
  };

  private readonly flush = (): void => {
    if (this.outbox.length === 0 || this.closedBy !== undefined) return;
    const frame = this.outbox;
    this.outbox = [];
    try {
      this.port.postMessage(frame);
    } catch {
      // A message in the frame cannot be cloned: the ones before it go, and the connection ends
      // there with the reason (later sends and receives fail with it), so that nothing is lost unsaid.
      for (const message of frame) {
        try {
          this.port.postMessage([message]);
        } catch (error) {
          this.shutdown(
            new TransportError('BAD_MESSAGE', `${this.name}: a message could not be sent: ${error instanceof Error ? error.message : String(error)}`),
          );
          this.port.close();
          return;
        }
      }
    }
  };

  /** The next message; rejects with PEER_GONE once the peer is gone, or TIMEOUT after `timeoutMs` (0: none). */
  receive(timeoutMs = 0): Promise<M> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closedBy !== undefined) return Promise.reject(this.closedBy);
    return new Promise<M>((resolve, reject) => {
      const waiter = { resolve, reject, deadline: undefined as Deadline | undefined };
      if (timeoutMs > 0) {
        waiter.deadline = deadlines.after(timeoutMs, () => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(new TransportError('TIMEOUT', `${this.name}: no message within ${timeoutMs} ms`));
        });
      }
      this.waiting.push(waiter);
    });
  }

  close(): void {
    this.flush();
    this.shutdown(new TransportError('CHANNEL_CLOSED', `${this.name}: closed by this side`));
    this.port.close();
  }

  private shutdown(reason: TransportError): void {
    if (this.closedBy !== undefined) return;
    this.closedBy = reason;
    for (const waiter of this.waiting.splice(0)) {
      waiter.deadline?.cancel();
      waiter.reject(reason);
    }
  }
}
