// The table of names servers monitor (the seed's "port" a server monitors), as named pipes work:
// a server process listens on a name and accepts, as ConnectNamedPipe waits for a client; a
// client's connect pairs with an accept that is waiting, or waits for one (as WaitNamedPipe does
// for a free instance) up to its limit. The pair gets the two ends of a fresh MessageChannel. The
// machine never holds a channel nobody has taken: a connection exists only once both ends are
// claimed, so no process can make the machine keep what it posts into one.
//
// Every request comes from a process's code, so each is bounded per process: how many names it
// monitors, how many accepts and connects it has waiting, how many connects wait on one name. A
// request over a bound is refused with a coded error and changes nothing.

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { SspiEmuError } from '../ipc/index.js';

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
  /** Connects one process may have waiting at once. */
  connectsPerProcess: number;
  /** Connects that may wait on one name for an accept. */
  connectsPerName: number;
}

export const DEFAULT_NAME_LIMITS: NameTableLimits = { namesPerProcess: 256, acceptsPerProcess: 4096, connectsPerProcess: 4096, connectsPerName: 4096 };

/** How long a connect waits for a server to monitor the name and accept (as WaitNamedPipe would). */
export const CONNECT_WAIT_MS = 10_000;

interface Waiter {
  owner: NameOwner;
  resolve: (port: MessagePort) => void;
  reject: (error: Error) => void;
}

interface Listening {
  owner: NameOwner;
  /** Accepts of the owner, waiting for a client. */
  accepts: Waiter[];
  /** Connects waiting for an accept. */
  connects: Waiter[];
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

  private readonly limits: NameTableLimits;

  constructor(limits: NameTableLimits = DEFAULT_NAME_LIMITS) {
    this.limits = limits;
  }

  listen(owner: NameOwner, name: string): void {
    this.checkOpen();
    const existing = this.listening.get(name);
    if (existing !== undefined && existing.owner.alive) throw new SspiEmuError('ALREADY_LISTENING', `${name} is already monitored by ${existing.owner.name}`);
    const counts = this.countsOf(owner);
    if (counts.names >= this.limits.namesPerProcess)
      throw new SspiEmuError('QUOTA_EXCEEDED', `${owner.name} already monitors ${this.limits.namesPerProcess} names, the most one process may`);
    if (existing !== undefined) this.close(name);
    counts.names++;
    this.listening.set(name, { owner, accepts: [], connects: [] });
    for (const wake of this.awaitingListen.get(name) ?? []) wake();
    this.awaitingListen.delete(name);
  }

  unlisten(owner: NameOwner, name: string): void {
    if (this.listening.get(name)?.owner === owner) this.close(name);
  }

  /** The server's end of the next connection to `name`: a waiting client's, or the next one to come. */
  accept(owner: NameOwner, name: string): Promise<MessagePort> {
    const entry = this.listening.get(name);
    if (entry === undefined || entry.owner !== owner) return Promise.reject(new SspiEmuError('NOT_LISTENING', `${owner.name} does not monitor ${name}`));
    const client = entry.connects.shift();
    if (client !== undefined) return Promise.resolve(pair(client));
    return this.wait(
      owner,
      'accepts',
      entry.accepts,
      this.limits.acceptsPerProcess,
      0,
      () => `${owner.name} already has ${this.limits.acceptsPerProcess} accepts waiting`,
    );
  }

  /** The client's end of a connection to `name`, once a server accepts it, within `waitMs`. */
  async connect(owner: NameOwner, name: string, waitMs = CONNECT_WAIT_MS): Promise<MessagePort> {
    this.checkOpen();
    const deadline = Date.now() + waitMs;
    let entry = this.listening.get(name);
    if ((entry === undefined || !entry.owner.alive) && waitMs > 0) {
      await this.listenedTo(owner, name, waitMs);
      entry = this.listening.get(name);
    }
    if (entry === undefined || !entry.owner.alive)
      throw new SspiEmuError('NOT_LISTENING', `nothing monitors ${name}${waitMs > 0 ? ` (waited ${waitMs} ms)` : ''}`);
    const server = entry.accepts.shift();
    if (server !== undefined) return pair(server);
    const left = deadline - Date.now();
    if (left <= 0) throw new SspiEmuError('NOT_LISTENING', `${name} is busy: ${entry.owner.name} is not accepting (as ERROR_PIPE_BUSY)`);
    if (entry.connects.length >= this.limits.connectsPerName)
      throw new SspiEmuError('NOT_LISTENING', `${name} is busy: ${this.limits.connectsPerName} connects already wait for ${entry.owner.name} to accept`);
    return this.wait(
      owner,
      'connects',
      entry.connects,
      this.limits.connectsPerProcess,
      left,
      () => `${owner.name} already has ${this.limits.connectsPerProcess} connects waiting`,
      () => new SspiEmuError('NOT_LISTENING', `${name} is busy: ${entry.owner.name} accepted no connection within ${waitMs} ms`),
    );
  }

  /** A process exited: the names it monitored are closed, and its waiting calls fail. */
  dropOwner(owner: NameOwner): void {
    for (const [name, entry] of this.listening) {
      if (entry.owner === owner) this.close(name);
      else for (const w of entry.connects.filter((c) => c.owner === owner)) this.cancel(entry.connects, w);
    }
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

  /** Queues a waiter (an accept or a connect), within the owner's bound, for `timeoutMs` (0: until paired or closed). */
  private wait(
    owner: NameOwner,
    kind: 'accepts' | 'connects',
    queue: Waiter[],
    limit: number,
    timeoutMs: number,
    overLimit: () => string,
    timedOut?: () => Error,
  ): Promise<MessagePort> {
    const counts = this.countsOf(owner);
    if (counts[kind] >= limit) return Promise.reject(new SspiEmuError('QUOTA_EXCEEDED', `${overLimit()}, the most one process may`));
    counts[kind]++;
    return new Promise<MessagePort>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        counts[kind]--;
        if (timer !== undefined) clearTimeout(timer);
      };
      const waiter: Waiter = {
        owner,
        resolve: (port) => {
          done();
          resolve(port);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      if (timeoutMs > 0 && timedOut !== undefined) timer = setTimeout(() => this.cancel(queue, waiter, timedOut()), timeoutMs);
      queue.push(waiter);
    });
  }

  private cancel(queue: Waiter[], waiter: Waiter, error: Error = new SspiEmuError('NOT_LISTENING', `${waiter.owner.name} is gone`)): void {
    const at = queue.indexOf(waiter);
    if (at < 0) return;
    queue.splice(at, 1);
    waiter.reject(error);
  }

  /** Resolves when `name` is monitored, or after `waitMs`, whichever comes first. */
  private listenedTo(owner: NameOwner, name: string, waitMs: number): Promise<void> {
    const counts = this.countsOf(owner);
    if (counts.connects >= this.limits.connectsPerProcess)
      return Promise.reject(
        new SspiEmuError('QUOTA_EXCEEDED', `${owner.name} already has ${this.limits.connectsPerProcess} connects waiting, the most one process may`),
      );
    counts.connects++;
    return new Promise<void>((resolve) => {
      const waiters = this.awaitingListen.get(name) ?? new Set<() => void>();
      this.awaitingListen.set(name, waiters);
      const wake = (): void => {
        clearTimeout(timer);
        counts.connects--;
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
    for (const waiter of [...entry.accepts.splice(0), ...entry.connects.splice(0)]) waiter.reject(new SspiEmuError('NOT_LISTENING', why));
  }
}

/** Pairs a waiting end with a new channel: the waiter gets one end, the caller the other. */
function pair(waiter: Waiter): MessagePort {
  const channel = new MessageChannel();
  waiter.resolve(channel.port1);
  return channel.port2;
}
