// The machine's side of every worker's trace port: collects trace events on one clock (relative
// to the machine's boot), collects tapped channel traffic when tapping is on, and can flush a
// live worker (ask it to send what it holds, and wait until it has).

import type { MessagePort } from 'node:worker_threads';
import type { TapRecord, TraceDownMessage, TraceEvent, TraceUpMessage } from '../ipc/trace.js';

interface Source {
  port: MessagePort;
  name: string;
  alive: boolean;
  flushes: Map<number, () => void>;
}

export class TraceCollector {
  private readonly events: TraceEvent[] = [];
  private readonly taps: TapRecord[] = [];
  private readonly sources = new Set<Source>();
  private nextSeq = 1;
  private enabled: boolean;
  private tapping = false;

  constructor(
    /** The machine's boot time on the shared clock; event times are made relative to it. */
    readonly origin: number,
    enabled: boolean,
  ) {
    this.enabled = enabled;
  }

  /** Starts collecting from a worker's trace port. */
  attach(port: MessagePort, name: string): void {
    const source: Source = { port, name, alive: true, flushes: new Map() };
    this.sources.add(source);
    port.on('message', (message: TraceUpMessage) => {
      if (message.kind === 'events') {
        for (const event of message.events) this.events.push({ ...event, t: event.t - this.origin });
      } else if (message.kind === 'taps') {
        this.taps.push(...message.taps);
      } else {
        source.flushes.get(message.seq)?.();
        source.flushes.delete(message.seq);
      }
    });
    port.on('close', () => this.detach(source));
    port.unref();
  }

  /** The worker behind `port` exited: stop waiting for it. */
  workerExited(port: MessagePort): void {
    for (const source of this.sources) if (source.port === port) this.detach(source);
  }

  /** Asks every live worker for what it still holds; resolves when all have answered or exited. */
  async flush(): Promise<void> {
    await Promise.all(
      [...this.sources].map(
        (source) =>
          new Promise<void>((resolve) => {
            if (!source.alive) return resolve();
            const seq = this.nextSeq++;
            source.flushes.set(seq, resolve);
            source.port.postMessage({ kind: 'flush', seq } satisfies TraceDownMessage);
          }),
      ),
    );
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

  clear(): void {
    this.events.length = 0;
    this.taps.length = 0;
  }

  private configure(source: Source): void {
    if (source.alive) source.port.postMessage({ kind: 'configure', enabled: this.enabled, tap: this.tapping } satisfies TraceDownMessage);
  }

  private detach(source: Source): void {
    source.alive = false;
    for (const resolve of source.flushes.values()) resolve();
    source.flushes.clear();
    this.sources.delete(source);
  }
}
