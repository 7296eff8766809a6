// A process's call points: every call that crosses (SSPI functions, package entry points, LSA
// functions reaching into a process, application events) passes through here. The tracer records
// it when tracing is on; a hook, when one is set, sees it too (fault injection crashes or stalls
// the process at a named point). The tracer itself knows nothing of the hook: recording a trace
// event can never end the process.

import type { TraceEvent, TracePhase, Tracer } from '../ipc/index.js';

/** What acts at call points besides the trace (the fault injector's kill and stall). */
export interface CallPointHook {
  at(call: string, phase: TracePhase): void;
}

export type CallPointFields = Partial<Pick<TraceEvent, 'status' | 'tokenIn' | 'tokenOut' | 'peer' | 'detail' | 'stack' | 'lpc'>>;

export class CallPoints {
  hook: CallPointHook | null = null;

  readonly tracer: Tracer;

  constructor(tracer: Tracer) {
    this.tracer = tracer;
  }

  /** Whether a point does anything: callers skip building its fields when it does not. */
  get active(): boolean {
    return this.tracer.enabled || this.hook !== null;
  }

  /** Whether the trace records points (a hook alone does not need their fields). */
  get tracing(): boolean {
    return this.tracer.enabled;
  }

  point(call: string, phase: TracePhase, fields?: CallPointFields): void {
    this.hook?.at(call, phase);
    this.tracer.emit(call, phase, fields);
  }
}
