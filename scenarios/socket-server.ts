// The machine's side of a socket server app: runs server-proc/http-app.js or tcp-app.js in a
// server process with a control port (ipc/socket-control.ts), waits until it listens, relays its
// events, and stops it. Used by `sspi-emu serve` and by the tests that drive the apps in-process.

import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { SspiEmuError, describeError } from '../ipc/index.js';
import {
  decodeSocketAppEvents,
  type ExtendedProtection,
  type HttpRequestRecord,
  type SocketAppEvent,
  type SocketProtocol,
  type TcpConnectionRecord,
  type TlsListening,
} from '../app-protocols/index.js';
import type { AppResult } from '../process/index.js';
import type { AppProcess } from '../machine/index.js';

/** The application module of each protocol, as runApp takes it. */
export const SOCKET_APPS: Readonly<Record<SocketProtocol, { server: string; client: string }>> = {
  http: {
    server: fileURLToPath(new URL('../server-proc/http-app.js', import.meta.url)),
    client: fileURLToPath(new URL('../client-proc/http-app.js', import.meta.url)),
  },
  tcp: {
    server: fileURLToPath(new URL('../server-proc/tcp-app.js', import.meta.url)),
    client: fileURLToPath(new URL('../client-proc/tcp-app.js', import.meta.url)),
  },
};

export interface SocketServerOptions {
  protocol: SocketProtocol;
  host?: string;
  /** 0: any free port (the bound one is in `port` once started). */
  port: number;
  /** The package's name, e.g. "NTLM". */
  package: string;
  timeoutMs?: number;
  keepAliveMs?: number;
  maxConnections?: number;
  maxHeaderSize?: number;
  maxToken?: number;
  /** HTTP only: serve HTTPS, with this certificate and key (PEM) or a self-signed one made by the server process, and this Extended Protection policy (default allowed). */
  tls?: TlsServerOptions;
}

export interface TlsServerOptions {
  certPem?: string;
  keyPem?: string;
  extendedProtection?: ExtendedProtection;
}

export interface SocketServerEvents {
  request: [record: HttpRequestRecord, line: string];
  connection: [record: TcpConnectionRecord, line: string];
  closed: [connection: number, contextDeleted: boolean];
}

/** A socket server app running in a server process. */
export class SocketServer extends EventEmitter<SocketServerEvents> {
  /** Connections closed (with their contexts deleted) so far. */
  closedConnections = 0;
  private readonly closedWaiters = new Set<{ n: number; resolve: () => void }>();

  readonly protocol: SocketProtocol;
  readonly host: string;
  readonly port: number;
  /** An HTTPS server's certificate and policy, as it said when it started listening. */
  readonly tls: TlsListening | undefined;
  private readonly controlPort: MessagePort;
  /** Settles when the app returns (after stop) or fails. */
  readonly done: Promise<AppResult>;

  private constructor(
    protocol: SocketProtocol,
    host: string,
    port: number,
    tls: TlsListening | undefined,
    controlPort: MessagePort,
    /** Settles when the app returns (after stop) or fails. */
    done: Promise<AppResult>,
  ) {
    super();
    this.protocol = protocol;
    this.host = host;
    this.port = port;
    this.tls = tls;
    this.controlPort = controlPort;
    this.done = done;
  }

  /** Runs the app in `proc` and resolves once it listens; rejects if it cannot. */
  static async start(proc: AppProcess, options: SocketServerOptions): Promise<SocketServer> {
    const { port1, port2 } = new MessageChannel();
    const args: Record<string, unknown> = { ...options, control: port2 };
    const done = proc.runApp(SOCKET_APPS[options.protocol].server, args);
    // Events that come before the server object exists (none but 'listening', in practice) wait for it.
    const early: SocketAppEvent[] = [];
    let server: SocketServer | undefined;
    let onListening: ((event: Extract<SocketAppEvent, { kind: 'listening' }>) => void) | undefined;
    // The app runs in a process: what it posts is decoded before the machine reads it.
    port1.on('message', (message: unknown) => {
      for (const event of decodeSocketAppEvents(message)) {
        if (event.kind === 'listening') onListening?.(event);
        else if (server === undefined) early.push(event);
        else server.dispatch(event);
      }
    });
    let listening: Extract<SocketAppEvent, { kind: 'listening' }>;
    try {
      listening = await new Promise((resolve, reject) => {
        onListening = resolve;
        done.then(
          (result) =>
            reject(new SspiEmuError('APP_FAILED', `the ${options.protocol} server stopped before it listened: ${result.statusName} ${result.detail ?? ''}`)),
          (error: unknown) => reject(new SspiEmuError('APP_FAILED', `the ${options.protocol} server failed: ${describeError(error)}`, { cause: error })),
        );
      });
    } catch (error) {
      port1.close();
      throw error;
    }
    server = new SocketServer(options.protocol, listening.host, listening.port, listening.tls, port1, done);
    for (const event of early) server.dispatch(event);
    void done.finally(() => port1.close()).catch(() => undefined);
    return server;
  }

  /** Tells the app to stop: it closes the listener and every connection, deletes their contexts, and returns. */
  async stop(): Promise<AppResult> {
    this.controlPort.postMessage({ kind: 'stop' });
    return this.done;
  }

  /** Resolves once `n` connections in all have closed with their contexts deleted. */
  waitClosed(n: number): Promise<void> {
    if (this.closedConnections >= n) return Promise.resolve();
    return new Promise<void>((resolve) => this.closedWaiters.add({ n, resolve }));
  }

  private dispatch(event: SocketAppEvent): void {
    if (event.kind === 'request') this.emit('request', event.record, event.line);
    else if (event.kind === 'connection') this.emit('connection', event.record, event.line);
    else if (event.kind === 'closed') {
      this.closedConnections++;
      this.emit('closed', event.connection, event.contextDeleted);
      for (const waiter of this.closedWaiters) {
        if (this.closedConnections >= waiter.n) {
          this.closedWaiters.delete(waiter);
          waiter.resolve();
        }
      }
    }
  }
}
