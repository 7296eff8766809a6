// The app side of a socket server app's control port (app-protocols/socket-control.ts): events up,
// the stop command down. The port closing (the machine's side gone) counts as a stop. Events are
// posted once per turn of the event loop, all of that turn's in one message: under load a server
// answers many requests per turn, and one postMessage per request (a structured clone and a wake-up
// of the machine's thread each) was a tenth of the HTTP server process's time.

import type { MessagePort } from 'node:worker_threads';
import { MAX_EVENTS_PER_MESSAGE, type SocketAppCommand, type SocketAppEvent } from '../app-protocols/index.js';

export class ControlPort {
  private readonly stopped: Promise<void>;
  private closed = false;
  /** Events of this turn, not yet posted. */
  private queue: SocketAppEvent[] = [];

  private readonly port: MessagePort | null;

  constructor(port: MessagePort | null) {
    this.port = port;
    this.stopped = new Promise<void>((resolve) => {
      if (port === null) return;
      port.on('message', (command: SocketAppCommand) => {
        if (command?.kind === 'stop') resolve();
      });
      port.on('close', () => resolve());
    });
  }

  /** The port args.control carries, or null when the app was started without one. */
  static from(value: unknown): ControlPort {
    const port = value !== null && typeof value === 'object' && typeof (value as MessagePort).postMessage === 'function' ? (value as MessagePort) : null;
    return new ControlPort(port);
  }

  /** Resolves when the machine says stop (never, without a port: the process is killed instead). */
  get stop(): Promise<void> {
    return this.stopped;
  }

  /** Queues the event; the turn's events go up together once the turn is over (or when MAX_EVENTS_PER_MESSAGE are waiting). */
  post(event: SocketAppEvent): void {
    if (this.closed || this.port === null) return;
    const waiting = this.queue.push(event);
    if (waiting === 1) setImmediate(this.flush);
    else if (waiting >= MAX_EVENTS_PER_MESSAGE) this.flush();
  }

  /** Posts what is queued, then closes the port. */
  close(): void {
    this.flush();
    this.closed = true;
    this.port?.close();
  }

  private readonly flush = (): void => {
    if (this.queue.length === 0 || this.closed) return;
    const events = this.queue;
    this.queue = [];
    this.port?.postMessage(events);
  };
}
