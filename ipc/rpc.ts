// A typed request/reply peer over one port (a MessagePort, or another carrier of ipc/link.ts): the
// LPC path between an app process and the LSA runs on it in both directions (the process calls
// Sp* entry points; the LSA calls back into the process for client buffers and ClientCallback).
//
// Why not comlink here: reference/ipc-costs.md measures comlink at 0.28x raw messages on a
// 12-hop handshake path, and a request id plus a Map of resolvers at 0.74x. So messages are plain
// objects whose `op` is the Windows name, correlated by a counter, and every reply settles exactly
// one pending call. Outgoing messages are queued and posted as one frame per event-loop turn, so
// a thread woken once drains and answers a whole batch (the batching ipc-costs.md recommends);
// a frame that reaches MAX_FRAME_MESSAGES goes at once, so that the peer starts on it while this
// thread's turn goes on (ipc/batching.ts).
//
// When the port closes (the peer's worker exited) every pending call rejects at once with a
// TransportError('PEER_GONE'); nothing waits forever.
//
// The peer may be hostile (an app process's code can post anything on its ports): nothing that
// arrives can throw out of receive(), a malformed message is counted and dropped, a malformed
// failure is described rather than rebuilt, and a reply that cannot be cloned (a package returned
// a function) goes back as a failure of that one call instead of closing the channel.

import { performance } from 'node:perf_hooks';
import { MessagePort, type TransferListItem } from 'node:worker_threads';
import { approximateBytes } from './decode.js';
import { TransportError, decodeSerializedError, rebuildError, serializeError, type SerializedError } from './errors.js';
import type { FrameCodec } from './frame.js';
import { deadlines, type Deadline } from './deadlines.js';
import { MAX_FRAME_MESSAGES } from './batching.js';
import { HandleMap } from './handle-map.js';
import type { FramePort } from './link.js';

/** An operation's request body and reply body. Replies always carry a status. */
export interface OpSpec {
  request: object;
  reply: object;
}
export type OpMap = { [op: string]: OpSpec };

export type CallMessage<M extends OpMap> = {
  [K in keyof M & string]: { kind: 'call'; id: number; op: K; body: M[K]['request'] };
}[keyof M & string];
export type ReturnMessage<M extends OpMap> = {
  [K in keyof M & string]: { kind: 'return'; id: number; op: K; body: M[K]['reply'] };
}[keyof M & string];
/** The handler on the far side failed without a status to report (a bug there, not a protocol outcome). */
export interface FailMessage {
  kind: 'fail';
  id: number;
  op: string;
  error: SerializedError;
}
/** Everything that crosses one RPC port, in either direction. */
export type RpcMessage<Out extends OpMap, In extends OpMap> = CallMessage<Out> | CallMessage<In> | ReturnMessage<Out> | ReturnMessage<In> | FailMessage;

/**
 * A reply that moves transferables (a MessagePort) to the caller instead of copying them; a
 * handler returns `transferring(body, [port])` where it would return `body`.
 */
export class Transferring<T> {
  readonly body: T;
  readonly transfer: TransferListItem[];

  constructor(body: T, transfer: TransferListItem[]) {
    this.body = body;
    this.transfer = transfer;
  }
}

export function transferring<T>(body: T, transfer: TransferListItem[]): Transferring<T> {
  return new Transferring(body, transfer);
}

type Reply<T> = T | Transferring<T>;

/**
 * The serving side of each op. A body arrives as `unknown` (the peer may be hostile): each handler
 * decodes it into its op's request, or refuses it, before reading a field.
 */
export type Handlers<In extends OpMap> = {
  [K in keyof In & string]: (body: unknown) => Reply<In[K]['reply']> | Promise<Reply<In[K]['reply']>>;
};

/**
 * Decides what becomes of an outgoing message: `send` queues it for this turn's frame (call it
 * twice to send it twice, later to delay it), `sendLast` queues it after everything else of this
 * turn, and not calling either drops it. Fault injection is one (faults/); messages that move
 * transferables never pass through a filter.
 */
export type OutgoingFilter = (message: unknown, send: (message: unknown) => void, sendLast: (message: unknown) => void) => void;

/** Sees every message a peer sends or receives (message counting, byte scanning in tests). */
export type Tap = (direction: 'send' | 'receive', message: unknown) => void;

export interface RpcPeerOptions {
  /** A name for errors and traces, e.g. "lpc:client#2". */
  name: string;
  /** Rejects a call with TransportError('TIMEOUT') when no reply comes in this many ms (0: never). */
  callTimeoutMs?: number;
  /** What such a timeout likely means on this channel, appended to its message (a process's LPC: the LSA is stuck). */
  timeoutHint?: string;
  /** A framed peer's largest frame; a peer that posts a larger one is cut off (a socket checks its own length prefix). */
  maxFrameBytes?: number;
  /**
   * Messages handled per event-loop turn (default: all as they come). The rest wait in this
   * peer's inbox for the next turn, so that a peer posting floods cannot keep the thread from
   * the other ports' messages.
   */
  maxMessagesPerTurn?: number;
  /** Messages that may wait in the inbox; a peer that posts more is cut off: the channel closes with FLOODED. */
  maxInbox?: number;
  /** Bytes (about) the messages waiting in the inbox may hold; past it the peer is cut off likewise. */
  maxInboxBytes?: number;
  /**
   * Calls this side keeps outstanding (sent, not yet answered); later calls wait here, in this
   * side's own memory, until one is answered (default: no limit). Backpressure, as an LPC port's
   * message quota gives it.
   */
  maxOutstanding?: number;
  /**
   * How a turn's messages become one frame on the port (ipc/frame.ts: one transferred
   * ArrayBuffer); without one, each frame is the messages themselves, structured-cloned. A
   * framed peer takes nothing else from its port: whatever else arrives is refused.
   */
  codec?: FrameCodec;
}

interface Pending {
  op: string;
  resolve: (value: never) => void;
  reject: (error: Error) => void;
  deadline: Deadline | undefined;
  /** Posted to the peer (it counts against maxOutstanding), or still waiting here. */
  sent: boolean;
}

export class RpcPeer<Out extends OpMap, In extends OpMap> {
  readonly name: string;
  /** Messages (not frames) sent and received on this port, for the message-count tests and stats. */
  sent = 0;
  received = 0;
  /** Messages that arrived malformed (not part of the protocol) and were dropped. */
  refused = 0;
  /** Frames (postMessage calls) sent and received: a turn's messages go as one. */
  framesSent = 0;
  framesReceived = 0;
  /** Milliseconds spent encoding and decoding frames (a framed peer only). */
  codecMs = 0;
  private nextId = 1;
  /** The calls waiting for a reply, by id (not a Map: ipc/handle-map.ts). */
  private readonly pending = new HandleMap<Pending>();
  private outbox: unknown[] = [];
  /** Transfer lists of the messages in the outbox that have one, by their index there. */
  private outboxTransfers = new Map<number, TransferListItem[]>();
  private flushScheduled = false;
  private closedBy: TransportError | undefined;
  private readonly callTimeoutMs: number;
  private readonly timeoutHint: string | undefined;
  private readonly maxFrameBytes: number;
  private readonly taps = new Set<Tap>();
  private readonly closeListeners = new Set<(reason: TransportError) => void>();
  private readonly maxOutstanding: number;
  /** Calls sent and not yet settled. */
  private outstanding = 0;
  /** Calls waiting for an outstanding slot, oldest first (a settled one is skipped). */
  private unsent: Array<{ id: number; message: unknown; transfer: TransferListItem[] | undefined }> = [];
  private readonly perTurn: number;
  private readonly maxInbox: number;
  private readonly maxInboxBytes: number;
  /** Bytes (about) of the messages in the inbox, weighed as they wait. */
  private inboxBytes = 0;
  private readonly inboxWeights: number[] = [];
  /** Messages this turn may still handle. */
  private budget: number;
  private budgetResetScheduled = false;
  /** Messages waiting for a later turn, from `inboxHead` on. */
  private inbox: unknown[] = [];
  private inboxHead = 0;

  private readonly port: FramePort;
  private handlers: Handlers<In> | null;
  private readonly codec: FrameCodec | undefined;

  /**
   * `handlers` answer the peer's calls; pass null when they can only be built once the peer
   * exists, and hand them to serve() before yielding to the event loop.
   */
  constructor(port: FramePort, handlers: Handlers<In> | null, options: RpcPeerOptions) {
    this.port = port;
    this.handlers = handlers;
    this.name = options.name;
    this.callTimeoutMs = options.callTimeoutMs ?? 0;
    this.timeoutHint = options.timeoutHint;
    this.maxFrameBytes = options.maxFrameBytes ?? Infinity;
    this.maxOutstanding = options.maxOutstanding ?? Infinity;
    this.perTurn = options.maxMessagesPerTurn ?? Infinity;
    this.maxInbox = options.maxInbox ?? Infinity;
    this.maxInboxBytes = options.maxInboxBytes ?? Infinity;
    this.budget = this.perTurn;
    this.codec = options.codec;
    port.on('message', (frame: unknown) => {
      // Node may go on delivering what was queued before a close took effect: none of it is handled.
      if (this.closedBy !== undefined) return;
      this.framesReceived++;
      let messages: unknown[];
      let sizes: number[] | undefined;
      if (this.codec === undefined) messages = Array.isArray(frame) ? frame : [frame];
      else {
        if (frame instanceof ArrayBuffer && frame.byteLength > this.maxFrameBytes)
          return this.cutOff(`${this.name}: the peer posted a frame of ${frame.byteLength} bytes, past the ${this.maxFrameBytes} this side takes; it is cut off`);
        const started = performance.now();
        const decoded = this.codec.decode(frame);
        this.codecMs += performance.now() - started;
        this.received += decoded.malformed;
        this.refused += decoded.malformed;
        if (decoded.overBudget === true)
          return this.cutOff(`${this.name}: the peer posted a frame of more values than its codec takes (no calls need as many); it is cut off`);
        messages = decoded.messages;
        sizes = decoded.sizes;
      }
      if (this.perTurn === Infinity) {
        for (const message of messages) this.receive(message);
        return;
      }
      // What this turn can take is handled now; only what must wait is weighed and kept.
      let i = 0;
      if (this.inboxHead === this.inbox.length) for (; i < messages.length && this.budget > 0 && this.closedBy === undefined; i++) this.take(messages[i]);
      for (; i < messages.length; i++) {
        const weight = this.maxInboxBytes === Infinity ? 0 : (sizes?.[i] ?? approximateBytes(messages[i], this.maxInboxBytes));
        this.inbox.push(messages[i]);
        this.inboxWeights.push(weight);
        this.inboxBytes += weight;
      }
      if (this.inbox.length - this.inboxHead > this.maxInbox || this.inboxBytes > this.maxInboxBytes) this.flooded();
      else this.drain();
    });
    port.on('close', () => this.shutdown(new TransportError('PEER_GONE', `${this.name}: the peer's channel closed (its process exited)`)));
  }

  get closed(): boolean {
    return this.closedBy !== undefined;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Messages that arrived and wait for a later turn. */
  get inboxCount(): number {
    return this.inbox.length - this.inboxHead;
  }

  /** What becomes of each outgoing message (fault injection), or null: it is sent. */
  outgoingFilter: OutgoingFilter | null = null;
  private held: unknown[] = [];
  private readonly sendNow = (message: unknown): void => this.enqueue(message);
  private readonly sendLast = (message: unknown): void => {
    if (this.closedBy !== undefined) return;
    this.held.push(message);
    this.scheduleFlush();
  };

  serve(handlers: Handlers<In>): void {
    this.handlers = handlers;
  }

  addTap(tap: Tap): () => void {
    this.taps.add(tap);
    return () => this.taps.delete(tap);
  }

  onClose(listener: (reason: TransportError) => void): void {
    if (this.closedBy !== undefined) listener(this.closedBy);
    else this.closeListeners.add(listener);
  }

  /**
   * Sends a request and resolves with the reply body; rejects only with a TransportError.
   * `timeoutMs` overrides the peer's call time limit for this call (0: none).
   */
  call<K extends keyof Out & string>(op: K, body: Out[K]['request'], transfer?: TransferListItem[], timeoutMs = this.callTimeoutMs): Promise<Out[K]['reply']> {
    if (this.closedBy !== undefined) return Promise.reject(this.closedBy);
    const id = this.nextId++;
    return new Promise<Out[K]['reply']>((resolve, reject) => {
      // One clock for every pending call of the thread (ipc/deadlines.ts), not a timer per call.
      const deadline =
        timeoutMs > 0
          ? deadlines.after(timeoutMs, () => {
              this.settle(id);
              reject(new TransportError('TIMEOUT', `${this.name}: ${op} got no reply within ${timeoutMs} ms${this.timeoutHint === undefined ? '' : `: ${this.timeoutHint}`}`));
            })
          : undefined;
      const message = { kind: 'call', id, op, body };
      const pending: Pending = { op, resolve: resolve as (value: never) => void, reject, deadline, sent: false };
      this.pending.set(id, pending);
      if (this.outstanding < this.maxOutstanding) this.send(pending, message, transfer);
      else this.unsent.push({ id, message, transfer });
    });
  }

  private send(pending: Pending, message: unknown, transfer: TransferListItem[] | undefined): void {
    pending.sent = true;
    this.outstanding++;
    this.post(message, transfer);
  }

  /** Forgets a call (answered, failed, timed out); a slot it held goes to the next waiting call. */
  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    if (pending === undefined) return undefined;
    this.pending.delete(id);
    pending.deadline?.cancel();
    if (pending.sent) {
      this.outstanding--;
      while (this.outstanding < this.maxOutstanding && this.unsent.length > 0) {
        const next = this.unsent.shift()!;
        const waiting = this.pending.get(next.id);
        if (waiting !== undefined && !waiting.sent) this.send(waiting, next.message, next.transfer);
      }
    }
    return pending;
  }

  /** Closes this end: pending calls reject with CHANNEL_CLOSED and the port is released. */
  close(): void {
    this.flush();
    this.shutdown(new TransportError('CHANNEL_CLOSED', `${this.name}: the channel was closed`));
    this.port.close();
  }

  /** Handles inbox messages while this turn's budget lasts; the next turn gets a new budget. */
  private drain(): void {
    while (this.budget > 0 && this.inboxHead < this.inbox.length && this.closedBy === undefined) {
      const message = this.inbox[this.inboxHead];
      this.inboxBytes -= this.inboxWeights[this.inboxHead]!;
      this.inbox[this.inboxHead++] = undefined;
      this.take(message);
    }
    if (this.inboxHead === this.inbox.length) {
      this.inbox = [];
      this.inboxWeights.length = 0;
      this.inboxHead = 0;
      this.inboxBytes = 0;
    } else if (this.inboxHead > 4096 && this.inboxHead * 2 > this.inbox.length) {
      // A steady stream never empties the inbox: drop the handled slots so that it does not grow.
      this.inbox = this.inbox.slice(this.inboxHead);
      this.inboxWeights.splice(0, this.inboxHead);
      this.inboxHead = 0;
    }
  }

  /** One message of this turn's budget. */
  private take(message: unknown): void {
    this.budget--;
    this.receive(message);
    if (!this.budgetResetScheduled) {
      this.budgetResetScheduled = true;
      setImmediate(() => {
        this.budgetResetScheduled = false;
        this.budget = this.perTurn;
        if (this.inboxHead < this.inbox.length) this.drain();
      });
    }
  }

  /** The peer posts faster than this side will queue: it is cut off. */
  private flooded(): void {
    const waiting = this.inbox.length - this.inboxHead;
    const bytes = this.inboxBytes;
    this.cutOff(
      `${this.name}: the peer posted ${waiting} messages (about ${bytes} bytes) more than were handled, past the ${this.maxInbox} messages or ${this.maxInboxBytes} bytes this side queues; it is cut off`,
    );
  }

  /** Closes the channel on a peer that posted what no peer following the protocol does (FLOODED). */
  private cutOff(why: string): void {
    this.inbox = [];
    this.inboxWeights.length = 0;
    this.inboxHead = 0;
    this.inboxBytes = 0;
    this.shutdown(new TransportError('FLOODED', why));
    this.port.removeAllListeners('message');
    this.port.close();
  }

  private receive(message: unknown): void {
    this.received++;
    try {
      for (const tap of this.taps) tap('receive', message);
      if (!isRpcMessage(message)) {
        this.refused++;
        return;
      }
      if (message.kind === 'call') {
        this.answer(message.id, message.op, message.body);
        return;
      }
      const known = this.pending.get(message.id);
      // A reply that arrives after its call timed out, was never asked for, or answers a call not sent yet.
      if (known === undefined || !known.sent) return;
      const pending = this.settle(message.id)!;
      if (message.kind === 'return') pending.resolve(message.body as never);
      else
        pending.reject(
          new TransportError('REMOTE_FAILURE', `${this.name}: ${pending.op} failed in the peer`, { cause: rebuildError(decodeSerializedError(message.error)) }),
        );
    } catch {
      // Nothing a peer sends may throw in this side's code; what could not be handled is dropped.
      this.refused++;
    }
  }

  /** Runs the handler of a call and posts its reply; a handler that answers synchronously is answered in this turn, with no promise. */
  private answer(id: number, op: string, body: unknown): void {
    const handlers = this.handlers as Record<string, (b: unknown) => unknown> | null;
    const handler = handlers !== null && Object.hasOwn(handlers, op) ? handlers[op] : undefined;
    if (handler === undefined) {
      this.post({ kind: 'fail', id, op, error: serializeError(new TransportError('BAD_MESSAGE', `no handler for ${JSON.stringify(op.slice(0, 100))}`)) });
      return;
    }
    let reply: unknown;
    try {
      reply = handler(body);
    } catch (error) {
      this.answerFailure(id, op, error);
      return;
    }
    if (reply instanceof Promise)
      reply.then(
        (settled: unknown) => this.answerWith(id, op, settled),
        (error: unknown) => this.answerFailure(id, op, error),
      );
    else this.answerWith(id, op, reply);
  }

  private answerWith(id: number, op: string, reply: unknown): void {
    if (this.closedBy !== undefined) {
      if (reply instanceof Transferring) closeUnsent(reply.transfer);
      return;
    }
    try {
      if (reply instanceof Transferring) this.post({ kind: 'return', id, op, body: reply.body }, reply.transfer);
      else this.post({ kind: 'return', id, op, body: reply });
    } catch (error) {
      this.answerFailure(id, op, error);
    }
  }

  private answerFailure(id: number, op: string, error: unknown): void {
    // A body the handler's decoder refused is the peer's fault, and counted as such.
    if (error instanceof TransportError && error.code === 'BAD_MESSAGE') this.refused++;
    if (this.closedBy === undefined) this.post({ kind: 'fail', id, op, error: serializeError(error) });
  }

  private post(message: unknown, transfer?: TransferListItem[]): void {
    this.sent++;
    for (const tap of this.taps) tap('send', message);
    if (this.codec !== undefined && transfer !== undefined && transfer.length > 0) {
      this.unsendable(message, new TransportError('BAD_MESSAGE', 'a framed channel moves no transferables'));
      return;
    }
    if (this.outgoingFilter !== null && transfer === undefined) {
      this.outgoingFilter(message, this.sendNow, this.sendLast);
      return;
    }
    this.enqueue(message, transfer);
  }

  private enqueue(message: unknown, transfer?: TransferListItem[]): void {
    if (this.closedBy !== undefined) {
      closeUnsent(transfer);
      return;
    }
    if (transfer !== undefined && transfer.length > 0) this.outboxTransfers.set(this.outbox.length, transfer);
    this.outbox.push(message);
    if (this.outbox.length >= MAX_FRAME_MESSAGES) this.flush();
    else this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /** The turn's end: what is left of its messages goes (bound once: a closure per turn otherwise). */
  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Posts the queued messages as one frame (a full frame's early flush leaves the turn's end scheduled). */
  private flush(): void {
    if (this.held.length > 0) this.outbox.push(...this.held.splice(0));
    if (this.outbox.length === 0 || this.closedBy !== undefined) return;
    const batch = this.outbox;
    const transfers = this.outboxTransfers;
    this.outbox = [];
    // A new map only when this one holds transfer lists (a framed channel never has any).
    if (transfers.size > 0) this.outboxTransfers = new Map();
    if (this.codec !== undefined) {
      const started = performance.now();
      const encoded = this.codec.encode(batch, (message, error) => this.unsendable(message, error));
      this.codecMs += performance.now() - started;
      if (encoded.byteLength > 0) {
        this.framesSent++;
        this.port.postMessage(encoded, [encoded]);
      }
      return;
    }
    const transferList = transfers.size === 0 ? [] : [...transfers.values()].flat();
    try {
      this.framesSent++;
      this.port.postMessage(batch.length === 1 ? batch[0] : batch, transferList);
    } catch {
      // Something in the batch cannot be cloned or transferred: send what can go, one by one.
      for (const [index, message] of batch.entries()) this.postAlone(message, transfers.get(index) ?? []);
    }
  }

  /** Posts one message; one that cannot be cloned fails its own call instead of the channel. */
  private postAlone(message: unknown, transfer: TransferListItem[]): void {
    try {
      this.port.postMessage(message, transfer);
    } catch (error) {
      closeUnsent(transfer);
      this.unsendable(message, error);
    }
  }

  /**
   * A message that could not be sent (it holds what cannot be cloned or encoded): a call of this
   * side fails at once; a reply goes back as a failure of that one call, in the next frame.
   */
  private unsendable(message: unknown, error: unknown): void {
    const m = message as { kind?: unknown; id?: unknown; op?: unknown };
    const id = typeof m.id === 'number' ? m.id : -1;
    const op = typeof m.op === 'string' ? m.op : '?';
    const failure = new TransportError(
      'BAD_MESSAGE',
      `${this.name}: ${op}'s ${m.kind === 'call' ? 'request' : 'reply'} could not be sent: ${describeCloneError(error)}`,
    );
    if (m.kind === 'call') {
      this.settle(id)?.reject(failure);
      return;
    }
    if (m.kind !== 'return') return;
    const fail = { kind: 'fail', id, op, error: serializeError(failure) };
    if (this.codec !== undefined) {
      this.enqueue(fail);
      return;
    }
    try {
      this.port.postMessage(fail);
    } catch (second) {
      this.shutdown(new TransportError('CHANNEL_CLOSED', `${this.name}: a message could not be posted`, { cause: second }));
    }
  }

  private shutdown(reason: TransportError): void {
    if (this.closedBy !== undefined) return;
    this.closedBy = reason;
    for (const transfer of this.outboxTransfers.values()) closeUnsent(transfer);
    for (const waiting of this.unsent) closeUnsent(waiting.transfer);
    this.outbox = [];
    this.outboxTransfers = new Map();
    this.unsent = [];
    for (const [id, pending] of this.pending.entries()) {
      this.pending.delete(id);
      pending.deadline?.cancel();
      pending.reject(new TransportError(reason.code, `${reason.message}; ${pending.op} was pending`, { cause: reason }));
    }
    for (const listener of this.closeListeners) listener(reason);
    this.closeListeners.clear();
  }
}

/**
 * Closes the MessagePorts of a message that will never be posted (its channel closed first, or it
 * could not be cloned). A port left open here is still entangled with its other end, which would
 * wait for an answer or a 'close' that never comes: the machine answers a server's Accept with the
 * server's end of a client's new connection, and when the server died meanwhile the client went on
 * waiting for its reply until its receive time limit (`chaos` counted those as hangs).
 */
function closeUnsent(transfer: readonly TransferListItem[] | undefined): void {
  if (transfer === undefined) return;
  for (const item of transfer) if (item instanceof MessagePort) item.close();
}

function describeCloneError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function isRpcMessage(
  m: unknown,
): m is { kind: 'call'; id: number; op: string; body: unknown } | { kind: 'return'; id: number; op: string; body: unknown } | FailMessage {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as { kind?: unknown; id?: unknown; op?: unknown };
  return (r.kind === 'call' || r.kind === 'return' || r.kind === 'fail') && typeof r.id === 'number' && typeof r.op === 'string';
}
