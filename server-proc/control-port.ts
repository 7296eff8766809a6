// The app side of a socket server app's control port (app-protocols/socket-control.ts): events up,
// the stop command down. The port closing (the machine's side gone) counts as a stop.
//
// Events are buffered, as a web server buffers its access log: the first after a quiet spell goes up
// at once (on the next timer tick), later ones at most every FLUSH_INTERVAL_MS, together in one message. A
// message per request woke the machine's thread once per request, and on a machine whose cores are
// all busy each wake-up costs the posting thread its core: it was a tenth of the HTTP server
// process's time under load, and most of the machine thread's.

import { performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import { MAX_EVENTS_PER_MESSAGE, type SocketAppCommand, type SocketAppEvent } from '../app-protocols/index.js';

/** The longest an event waits in the buffer while events keep coming. */
export const FLUSH_INTERVAL_MS = 20;

export class ControlPort {
  private readonly stopped: Promise<void>;
  private closed = false;
  /** Events not yet posted. */
  private queue: SocketAppEvent[] = [];
  /** When the last message went up (performance.now()). */
  private lastFlush = -Infinity;
  private timer: NodeJS.Timeout | undefined;

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

  /** Queues the event: it goes up at once after a quiet spell, or with the others within FLUSH_INTERVAL_MS while events keep coming. */
  post(event: SocketAppEvent): void {
    if (this.closed || this.port === null) return;
    if (this.queue.push(event) >= MAX_EVENTS_PER_MESSAGE) return this.flush();
    if (this.timer !== undefined) return;
    const wait = this.lastFlush + FLUSH_INTERVAL_MS - performance.now();
    this.timer = setTimeout(this.flush, Math.max(0, wait));
  }

  /** Posts what is queued, then closes the port. */
  close(): void {
    this.flush();
    this.closed = true;
    this.port?.close();
  }

  private readonly flush = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0 || this.closed) return;
    const events = this.queue;
    this.queue = [];
    this.lastFlush = performance.now();
    this.port?.postMessage(events);
  };
}
