// Trace events: every call that crosses (API calls, package entry points, LSA functions) is
// recorded by the worker it runs in and shipped to the machine on a dedicated trace port, batched
// once per event-loop turn. Times are absolute (performance.timeOrigin + performance.now()), so
// events from every worker share one clock; the machine makes them relative to its boot.

import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import type { FramePort } from './link.js';

export type TracePhase = 'call' | 'return' | 'event';

export interface TraceEvent {
  /** Absolute time in ms on the shared clock (relative to the machine's boot once collected). */
  t: number;
  /** The process's name: "lsa", "client", "server", "client#2", ... */
  process: string;
  pid: number;
  threadId: number;
  /** The Windows name of the call: an SSPI function, a package entry point or an LSA function. */
  call: string;
  phase: TracePhase;
  /** The status's Windows name, on returns. */
  status?: string;
  /** Tokens as they travel, in base64, on InitializeSecurityContext/AcceptSecurityContext. */
  tokenIn?: string;
  tokenOut?: string;
  /** The other process of a call that crosses: whom the LSA works for, or whom it calls into. */
  peer?: string;
  /** Free-form detail: the package, the cause of a failure. */
  detail?: string;
  /**
   * On the return of a package entry point that threw: the package's own error's stack, from its
   * message down to the frame that called into the package (sspi-emu's frames left out).
   */
  stack?: string;
  /** On Phase events: the LPC messages this process had sent and received so far. */
  lpc?: number;
  /**
   * The machine the event was recorded on, in a timeline merged from several machines' traces
   * (machine/trace-file.ts: run --domain); absent in one machine's own trace.
   */
  machine?: string;
}

/** A copy of a message seen on a channel, sent to the machine when tapping is on (tests scan them). */
export interface TapRecord {
  /** The process that saw the message (a channel has two ends, each tapped). */
  process: string;
  channel: string;
  direction: 'send' | 'receive';
  message: unknown;
}

/** Messages on the trace port, worker to machine. */
export type TraceUpMessage = { kind: 'events'; events: TraceEvent[] } | { kind: 'taps'; taps: TapRecord[] } | { kind: 'flushed'; seq: number };
/** Messages on the trace port, machine to worker. */
export type TraceDownMessage = { kind: 'flush'; seq: number } | { kind: 'configure'; enabled: boolean; tap: boolean };

export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** The worker side of the trace port: records events cheaply and ships them in batches. */
export class Tracer {
  enabled: boolean;
  tapping = false;
  private events: TraceEvent[] = [];
  private taps: TapRecord[] = [];
  private scheduled = false;

  private readonly port: FramePort | null;
  readonly process: string;
  readonly pid: number;

  constructor(port: FramePort | null, process: string, pid: number, enabled: boolean, tapping = false) {
    this.port = port;
    this.process = process;
    this.pid = pid;
    this.enabled = enabled && port !== null;
    this.tapping = tapping && port !== null;
    port?.on('message', (value: unknown) => {
      const message = value as TraceDownMessage;
      if (message.kind === 'flush') {
        this.flush();
        port.postMessage({ kind: 'flushed', seq: message.seq } satisfies TraceUpMessage);
      } else if (message.kind === 'configure') {
        this.enabled = message.enabled;
        this.tapping = message.tap;
      }
    });
    // The trace port must not keep a worker alive on its own.
    port?.unref?.();
  }

  get hasPort(): boolean {
    return this.port !== null;
  }

  /** Records an event (when tracing is on). Call points go through hosting/call-points.ts, which also runs their hooks. */
  emit(call: string, phase: TracePhase, fields?: Partial<Pick<TraceEvent, 'status' | 'tokenIn' | 'tokenOut' | 'peer' | 'detail' | 'stack' | 'lpc'>>): void {
    if (!this.enabled) return;
    this.events.push({ t: now(), process: this.process, pid: this.pid, threadId, call, phase, ...fields });
    this.schedule();
  }

  tap(channel: string, direction: 'send' | 'receive', message: unknown): void {
    if (!this.tapping) return;
    this.taps.push({ process: this.process, channel, direction, message });
    this.schedule();
  }

  flush(): void {
    this.scheduled = false;
    if (this.port === null) return;
    if (this.events.length > 0) {
      const events = this.events;
      this.events = [];
      this.post({ kind: 'events', events });
    }
    if (this.taps.length > 0) {
      const taps = this.taps;
      this.taps = [];
      this.post({ kind: 'taps', taps }, (tap) => ({ ...tap, message: { uncloneable: true } }));
    }
  }

  /**
   * Posts a batch. A tap can hold what a peer sent that cannot be cloned again (a MessagePort
   * posted inside an LPC body): the batch then goes record by record, and a record that still
   * fails goes as `replace` makes it (or not at all), so that tracing never throws.
   */
  private post(message: { kind: 'events'; events: TraceEvent[] } | { kind: 'taps'; taps: TapRecord[] }, replace?: (record: TapRecord) => TapRecord): void {
    try {
      this.port!.postMessage(message satisfies TraceUpMessage);
      return;
    } catch {
      // fall through: one by one
    }
    const records: Array<TraceEvent | TapRecord> = message.kind === 'events' ? message.events : message.taps;
    for (const record of records) {
      const one = (r: TraceEvent | TapRecord): TraceUpMessage =>
        message.kind === 'events' ? { kind: 'events', events: [r as TraceEvent] } : { kind: 'taps', taps: [r as TapRecord] };
      try {
        this.port!.postMessage(one(record));
      } catch {
        if (replace === undefined) continue;
        try {
          this.port!.postMessage(one(replace(record as TapRecord)));
        } catch {
          // dropped: a record that cannot be described either
        }
      }
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }
}

export function toBase64(bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined || bytes.byteLength === 0) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
