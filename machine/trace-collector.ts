// The machine's side of every worker's trace port: collects trace events on one clock (relative
// to the machine's boot), collects tapped channel traffic when tapping is on, and can flush a
// live worker (ask it to send what it holds, and wait until it has, or until its deadline).
//
// A trace port is one an app process's code can post on, so everything that arrives is decoded
// here: a malformed message is counted and dropped, and every event and tap is stamped with the
// identity of the port it came in on (process name, pid, thread id), never with what its body
// claims. What a worker can make the machine keep is bounded.

import {
  approximateBytes,
  type FramePort,
  type TapRecord,
  type TraceDownMessage,
  type TraceEvent,
  type TracePhase,
  type TraceUpMessage,
} from '../ipc/index.js';

/** Who is behind a trace port, as the machine knows it (from the spawn, not from any message). */
export interface TraceSourceIdentity {
  name: string;
  pid: number;
  threadId: number;
}

export interface TraceCollectorLimits {
  /** Events kept per worker; later ones are counted as dropped. */
  maxEventsPerSource: number;
  /** Characters of text (details, tokens in base64) kept per worker's events. */
  maxEventCharsPerSource: number;
  /** Tap records kept per worker. */
  maxTapsPerSource: number;
  /** Bytes (about: typed arrays, strings) of tapped messages kept per worker. */
  maxTapBytesPerSource: number;
  /** How long flush() waits for one worker before reporting it unresponsive. */
  flushTimeoutMs: number;
}

export const DEFAULT_TRACE_LIMITS: TraceCollectorLimits = {
  maxEventsPerSource: 1_000_000,
  maxEventCharsPerSource: 64 * 1024 * 1024,
  maxTapsPerSource: 1_000_000,
  maxTapBytesPerSource: 256 * 1024 * 1024,
  flushTimeoutMs: 2_000,
};

/** With tracing off only Phase marks are kept (runs count LPC per phase by them), small ones, this many per worker. */
const MAX_PHASE_MARKS_UNTRACED = 10_000;
const MAX_PHASE_DETAIL = 64;

/** What the collector refused or dropped from one worker. */
export interface TraceSourceReport {
  name: string;
  pid: number;
  /** Messages that were not part of the trace protocol. */
  malformed: number;
  /** Events and taps beyond the limits. */
  dropped: number;
}

interface Source {
  port: FramePort;
  identity: TraceSourceIdentity;
  alive: boolean;
  flushes: Map<number, () => void>;
  events: number;
  eventChars: number;
  phaseMarks: number;
  taps: number;
  tapBytes: number;
  malformed: number;
  dropped: number;
}

const PHASES: ReadonlySet<string> = new Set<TracePhase>(['call', 'return', 'event']);
/** Longest text field of an event (tokens travel in base64: 1 MiB of token is 1.4 M characters). */
const MAX_TEXT = 2_000_000;
const MAX_NAME = 256;

export class TraceCollector {
  private readonly events: TraceEvent[] = [];
  private readonly taps: TapRecord[] = [];
  private readonly sources = new Set<Source>();
  private readonly reports = new Map<number, TraceSourceReport>();
  private nextSeq = 1;
  private enabled: boolean;
  private tapping = false;

  /** The machine's boot time on the shared clock; event times are made relative to it. */
  readonly origin: number;
  private readonly limits: TraceCollectorLimits;

  constructor(
    /** The machine's boot time on the shared clock; event times are made relative to it. */
    origin: number,
    enabled: boolean,
    limits: TraceCollectorLimits = DEFAULT_TRACE_LIMITS,
  ) {
    this.origin = origin;
    this.limits = limits;
    this.enabled = enabled;
  }

  /** Starts collecting from a worker's trace port. */
  attach(port: FramePort, identity: TraceSourceIdentity): void {
    const source: Source = {
      port,
      identity,
      alive: true,
      flushes: new Map(),
      events: 0,
      eventChars: 0,
      phaseMarks: 0,
      taps: 0,
      tapBytes: 0,
      malformed: 0,
      dropped: 0,
    };
    this.sources.add(source);
    port.on('message', (message: unknown) => {
      try {
        this.receive(source, message);
      } catch {
        source.malformed++;
      }
    });
    port.on('close', () => this.detach(source));
    port.unref?.();
  }

  /** The worker behind `port` exited: stop waiting for it. */
  workerExited(port: FramePort): void {
    for (const source of this.sources) if (source.port === port) this.detach(source);
  }

  /**
   * Asks every live worker for what it still holds; resolves when all have answered, exited or
   * missed the deadline. Returns the names of the workers that missed it (unresponsive).
   */
  async flush(): Promise<string[]> {
    const unresponsive: string[] = [];
    await Promise.all(
      [...this.sources].map(
        (source) =>
          new Promise<void>((resolve) => {
            if (!source.alive) return resolve();
            const seq = this.nextSeq++;
            const timer = setTimeout(() => {
              source.flushes.delete(seq);
              unresponsive.push(source.identity.name);
              resolve();
            }, this.limits.flushTimeoutMs);
            source.flushes.set(seq, () => {
              clearTimeout(timer);
              resolve();
            });
            source.port.postMessage({ kind: 'flush', seq } satisfies TraceDownMessage);
          }),
      ),
    );
    return unresponsive;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  get isTapping(): boolean {
    return this.tapping;
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    for (const source of this.sources) this.configure(source);
  }

  setTapping(tapping: boolean): void {
    this.tapping = tapping;
    for (const source of this.sources) this.configure(source);
  }

  /** Every event so far, in time order. */
  allEvents(): TraceEvent[] {
    return [...this.events].sort((a, b) => a.t - b.t);
  }

  /** Every tapped message so far. */
  allTaps(): TapRecord[] {
    return [...this.taps];
  }

  /** What was refused or dropped, per worker that sent anything malformed or too much. */
  problems(): TraceSourceReport[] {
    const live = [...this.sources].map((s) => this.report(s));
    const gone = [...this.reports.values()].filter((r) => !live.some((l) => l.pid === r.pid));
    return [...live, ...gone].filter((r) => r.malformed > 0 || r.dropped > 0);
  }

  clear(): void {
    this.events.length = 0;
    this.taps.length = 0;
  }

  private receive(source: Source, message: unknown): void {
    if (typeof message !== 'object' || message === null) {
      source.malformed++;
      return;
    }
    const m = message as Partial<Record<keyof TraceUpMessage | 'events' | 'taps' | 'seq', unknown>>;
    if (m.kind === 'events' && Array.isArray(m.events)) {
      for (const raw of m.events) {
        const event = this.decodeEvent(source, raw);
        if (event === undefined) {
          source.malformed++;
          continue;
        }
        if (!this.enabled) {
          // Phase marks are kept with tracing off: runs count LPC messages per phase by them. Only small ones, and few.
          if (event.call !== 'Phase' || textOf(event) > MAX_PHASE_DETAIL || source.phaseMarks >= MAX_PHASE_MARKS_UNTRACED) continue;
          source.phaseMarks++;
        }
        const chars = textOf(event);
        if (source.events >= this.limits.maxEventsPerSource || source.eventChars + chars > this.limits.maxEventCharsPerSource) source.dropped++;
        else {
          source.events++;
          source.eventChars += chars;
          this.events.push(event);
        }
      }
    } else if (m.kind === 'taps' && Array.isArray(m.taps)) {
      for (const raw of m.taps) {
        const tap = decodeTap(source, raw);
        if (tap === undefined) {
          source.malformed++;
          continue;
        }
        if (!this.tapping) continue;
        const bytes = approximateBytes(tap.message, this.limits.maxTapBytesPerSource - source.tapBytes + 1);
        if (source.taps >= this.limits.maxTapsPerSource || source.tapBytes + bytes > this.limits.maxTapBytesPerSource) source.dropped++;
        else {
          source.taps++;
          source.tapBytes += bytes;
          this.taps.push(tap);
        }
      }
    } else if (m.kind === 'flushed' && typeof m.seq === 'number') {
      const done = source.flushes.get(m.seq);
      source.flushes.delete(m.seq);
      done?.();
    } else {
      source.malformed++;
    }
  }

  /** One event as its worker sent it, with the worker's identity in place of whatever it claimed. */
  private decodeEvent(source: Source, raw: unknown): TraceEvent | undefined {
    if (typeof raw !== 'object' || raw === null) return undefined;
    const r = raw as Record<string, unknown>;
    if (typeof r.t !== 'number' || !Number.isFinite(r.t) || !isText(r.call, MAX_NAME) || typeof r.phase !== 'string' || !PHASES.has(r.phase)) return undefined;
    const { name, pid, threadId } = source.identity;
    const event: TraceEvent = { t: r.t - this.origin, process: name, pid, threadId, call: r.call, phase: r.phase as TracePhase };
    for (const field of ['status', 'tokenIn', 'tokenOut', 'peer', 'detail', 'stack'] as const) {
      const value = r[field];
      if (value === undefined) continue;
      if (!isText(value, MAX_TEXT)) return undefined;
      event[field] = value;
    }
    if (r.lpc !== undefined) {
      if (typeof r.lpc !== 'number' || !Number.isFinite(r.lpc)) return undefined;
      event.lpc = r.lpc;
    }
    return event;
  }

  private configure(source: Source): void {
    if (source.alive) source.port.postMessage({ kind: 'configure', enabled: this.enabled, tap: this.tapping } satisfies TraceDownMessage);
  }

  private report(source: Source): TraceSourceReport {
    return { name: source.identity.name, pid: source.identity.pid, malformed: source.malformed, dropped: source.dropped };
  }

  private detach(source: Source): void {
    if (!source.alive) return;
    source.alive = false;
    for (const resolve of source.flushes.values()) resolve();
    source.flushes.clear();
    this.sources.delete(source);
    if (source.malformed > 0 || source.dropped > 0) this.reports.set(source.identity.pid, this.report(source));
  }
}

/** Characters of text an event carries. */
function textOf(event: TraceEvent): number {
  return (
    (event.status?.length ?? 0) +
    (event.tokenIn?.length ?? 0) +
    (event.tokenOut?.length ?? 0) +
    (event.peer?.length ?? 0) +
    (event.detail?.length ?? 0) +
    (event.stack?.length ?? 0)
  );
}

function isText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length <= max;
}

/** A tap record, stamped with the process whose port it came in on. */
function decodeTap(source: Source, raw: unknown): TapRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (!isText(r.channel, MAX_NAME) || (r.direction !== 'send' && r.direction !== 'receive')) return undefined;
  return { process: source.identity.name, channel: r.channel, direction: r.direction, message: r.message };
}
