// The app side of a socket server app's control port (ipc/socket-control.ts): events up, the stop
// command down. The port closing (the machine's side gone) counts as a stop.

import type { MessagePort } from 'node:worker_threads';
import type { SocketAppCommand, SocketAppEvent } from '../app-protocols/index.js';

export class ControlPort {
  private readonly stopped: Promise<void>;
  private closed = false;

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

  post(event: SocketAppEvent): void {
    if (!this.closed) this.port?.postMessage(event);
  }

  close(): void {
    this.closed = true;
    this.port?.close();
  }
}
