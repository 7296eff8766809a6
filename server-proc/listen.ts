// The life of a socket server app in a server process worker once it holds its credential: listen
// (on the port asked for, or the free one the system picks for port 0), tell the machine where,
// serve until the machine says stop, then end every connection and give the credential back.
// Shared by the TCP and HTTP apps.

import type { Server } from 'node:net';
import { SEC_E_INTERNAL_ERROR } from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import { SOCKET_DEFAULTS, type SocketProtocol, type TlsListening } from '../app-protocols/index.js';
import { appResult, type AppArgs, type AppContext, type AppResult } from '../process/index.js';
import type { CredHandle } from '../sspi/index.js';
import { ControlPort } from './control-port.js';

/** What every socket server app is told by the machine that spawned it. */
export interface SocketServerSettings {
  control: ControlPort;
  host: string;
  port: number;
  pkg: string;
  timeoutMs: number;
  maxConnections: number;
}

/** Reads the settings every socket server app shares from its args, with the socket defaults. */
export function socketServerSettings(args: AppArgs): SocketServerSettings {
  return {
    control: ControlPort.from(args.control),
    host: String(args.host ?? SOCKET_DEFAULTS.host),
    port: Number(args.port ?? 0),
    pkg: String(args.package ?? 'NTLM'),
    timeoutMs: Number(args.timeoutMs ?? SOCKET_DEFAULTS.timeoutMs),
    maxConnections: Number(args.maxConnections ?? SOCKET_DEFAULTS.maxConnections),
  };
}

/** Listens on host:port and resolves with the bound port; rejects with the listen error. */
export function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Where a socket server app listens. */
export interface ListenAt {
  protocol: SocketProtocol;
  host: string;
  port: number;
  /** An HTTPS server's certificate and policy, told to the machine with `listening`. */
  tls?: TlsListening;
}

/**
 * Listens, posts `listening` with the bound port, waits for the stop, then closes the server (no
 * new connections) and lets `drain` end the open ones (each deleting its context) before
 * `closed`, the server's close, settles; frees the app's inbound credential and closes the control
 * port. Resolves with null after a stop, or with the app's result when it could not listen.
 */
export async function serveUntilStopped(
  ctx: AppContext,
  control: ControlPort,
  server: Server,
  at: ListenAt,
  credential: CredHandle,
  drain: (closed: Promise<void>) => Promise<void>,
): Promise<AppResult | null> {
  const { protocol, host, port, tls } = at;
  let bound: number;
  try {
    bound = await listenOn(server, host, port);
  } catch (error) {
    await ctx.sspi.freeCredentialsHandle(credential);
    control.close();
    return appResult(SEC_E_INTERNAL_ERROR, `cannot listen on ${host}:${port}`, describeError(error));
  }
  ctx.trace(protocol === 'tcp' ? 'TcpListen' : 'HttpListen', `${tls === undefined ? '' : 'https://'}${host}:${bound}`);
  control.post(tls === undefined ? { kind: 'listening', protocol, host, port: bound } : { kind: 'listening', protocol, host, port: bound, tls });
  await control.stop;
  try {
    await drain(new Promise<void>((resolve) => server.close(() => resolve())));
  } finally {
    await ctx.sspi.freeCredentialsHandle(credential);
    control.close();
  }
  return null;
}
