// The table of names servers monitor (the seed's "port" a server monitors): a server process
// listens on a name, a client process connects to it and gets one end of a fresh MessageChannel,
// the server's accept gets the other. A connect waits up to its limit for a server to start
// monitoring the name, as WaitNamedPipe would.
//
// Every request comes from a process's code, so each is bounded per process: how many names it
// monitors, how many accepts and connects it has waiting, how many connections queue unaccepted
// on one name. A request over a bound is refused with a coded error and changes nothing.

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { SspiEmuError } from '../ipc/errors.js';

/** Who asks: the table knows a process by the object the machine gave it, never by a name it claims. */
export interface NameOwner {
  readonly name: string;
  readonly alive: boolean;
}

export interface NameTableLimits {
  /** Names one process may monitor at once. */
  namesPerProcess: number;
  /** Accepts one process may have waiting at once. */
  acceptsPerProcess: number;
  /** Connects one process may have waiting for a server at once. */
  connectsPerProcess: number;
  /** Connections that may wait, unaccepted, on one name (its backlog). */
  backlog: number;
}

export const DEFAULT_NAME_LIMITS: NameTableLimits = { namesPerProcess: 256, acceptsPerProcess: 4096, connectsPerProcess: 4096, backlog: 4096 };

/** How long a connect waits for a server to start monitoring the name (as WaitNamedPipe would). */
export const CONNECT_WAIT_MS = 10_000;

interface Listening {
  owner: NameOwner;
  backlog: MessagePort[];
  waiters: Array<{ resolve: (port: MessagePort) => void; reject: (error: Error) => void }>;
}

interface PerProcess {
  names: number;
  accepts: number;
  connects: number;
}

export class NameTable {
  private readonly listening = new Map<string, Listening>();
  /** Connects waiting for a name that nobody monitors yet. */
  private readonly awaitingListen = new Map<string, Set<() => void>>();
  private readonly perProcess = new Map<NameOwner, PerProcess>();
  private closed = false;

  constructor(private readonly limits: NameTableLimits = DEFAULT_NAME_LIMITS) {}

  listen(owner: NameOwner, name: string): void {
    this.checkOpen();
    const existing = this.listening.get(name);
    if (existing !== undefined && existing.owner.alive) throw new SspiEmuError('ALREADY_LISTENING', `${name} is already monitored by ${existing.owner.name}`);
    const counts = this.countsOf(owner);
    if (counts.names >= this.limits.namesPerProcess)
      throw new SspiEmuError('QUOTA_EXCEEDED', `${owner.name} already monitors ${this.limits.namesPerProcess} names, the most one process may`);
    if (existing !== undefined) this.close(name);
    counts.names++;
    this.listening.set(name, { owner, backlog: [], waiters: [] });
    for (const wake of this.awaitingListen.get(name) ?? []) wake();
    this.awaitingListen.delete(name);
  }

  unlisten(owner: NameOwner, name: string): void {
    if (this.listening.get(name)?.owner === owner) this.close(name);
  }

  accept(owner: NameOwner, name: string): Promise<MessagePort> {
    const entry = this.listening.get(name);
    if (entry === undefined || entry.owner !== owner) return Promise.reject(new SspiEmuError('NOT_LISTENING', `${owner.name} does not monitor ${name}`));
    const queued = entry.backlog.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    const counts = this.countsOf(owner);
    if (counts.accepts >= this.limits.acceptsPerProcess)
      return Promise.reject(new SspiEmuError('QUOTA_EXCEEDED', `${owner.name} already has ${this.limits.acceptsPerProcess} accepts waiting, the most one process may`));
    counts.accepts++;
    return new Promise<MessagePort>((resolve, reject) => {
      const settle = (): void => void counts.accepts--;
      entry.waiters.push({
        resolve: (port) => {
          settle();
          resolve(port);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
    });
  }

  async connect(owner: NameOwner, name: string, waitMs = CONNECT_WAIT_MS): Promise<MessagePort> {
    this.checkOpen();
    let entry = this.listening.get(name);
    if ((entry === undefined || !entry.owner.alive) && waitMs > 0) {
      const counts = this.countsOf(owner);
      if (counts.connects >= this.limits.connectsPerProcess)
        throw new SspiEmuError('QUOTA_EXCEEDED', `${owner.name} already has ${this.limits.connectsPerProcess} connects waiting, the most one process may`);
      counts.connects++;
      try {
        await this.listenedTo(name, waitMs);
      } finally {
        counts.connects--;
      }
      entry = this.listening.get(name);
    }
    if (entry === undefined || !entry.owner.alive) throw new SspiEmuError('NOT_LISTENING', `nothing monitors ${name}${waitMs > 0 ? ` (waited ${waitMs} ms)` : ''}`);
    const waiter = entry.waiters.shift();
    if (waiter === undefined && entry.backlog.length >= this.limits.backlog)
      throw new SspiEmuError('NOT_LISTENING', `${name}: ${this.limits.backlog} connections already wait to be accepted (the backlog is full)`);
    const channel = new MessageChannel();
    if (waiter !== undefined) waiter.resolve(channel.port2);
    else entry.backlog.push(channel.port2);
    return channel.port1;
  }

  /** A process exited: the names it monitored are closed, and its waiting calls fail. */
  dropOwner(owner: NameOwner): void {
    for (const [name, entry] of this.listening) if (entry.owner === owner) this.close(name);
    this.perProcess.delete(owner);
  }

  /** The machine is shutting down: every waiting call fails at once. */
  shutdown(): void {
    this.closed = true;
    for (const waiters of this.awaitingListen.values()) for (const wake of waiters) wake();
    for (const name of [...this.listening.keys()]) this.close(name, 'the machine is shutting down');
  }

  private checkOpen(): void {
    if (this.closed) throw new SspiEmuError('NOT_LISTENING', 'the machine is shutting down');
  }

  private countsOf(owner: NameOwner): PerProcess {
    let counts = this.perProcess.get(owner);
    if (counts === undefined) {
      counts = { names: 0, accepts: 0, connects: 0 };
      this.perProcess.set(owner, counts);
    }
    return counts;
  }

  /** Resolves when `name` is monitored, or after `waitMs`, whichever comes first. */
  private listenedTo(name: string, waitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiters = this.awaitingListen.get(name) ?? new Set<() => void>();
      this.awaitingListen.set(name, waiters);
      const wake = (): void => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.awaitingListen.get(name) === waiters) this.awaitingListen.delete(name);
        resolve();
      };
      const timer = setTimeout(wake, waitMs);
      waiters.add(wake);
    });
  }

  private close(name: string, why = `${name} is no longer monitored`): void {
    const entry = this.listening.get(name);
    if (entry === undefined) return;
    this.listening.delete(name);
    const counts = this.perProcess.get(entry.owner);
    if (counts !== undefined) counts.names--;
    for (const waiter of entry.waiters) waiter.reject(new SspiEmuError('NOT_LISTENING', why));
    for (const port of entry.backlog) port.close();
  }
}
