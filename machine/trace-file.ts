// One machine's trace as a file, so that machines in separate OS processes (a domain controller, a
// member server, a workstation: `sspi-emu dc`, `serve`, `connect`, `fetch`, each with
// --trace-json FILE) can be put on one timeline. Event times in the file are absolute, on the
// clock every worker stamps its events with (ipc/trace.ts: performance.timeOrigin +
// performance.now(), milliseconds since the Unix epoch), so that the files of machines booted at
// different moments merge without any offset to guess. A file is read as what another program
// wrote: every field is checked before it is used.

import type { TraceEvent, TracePhase } from '../ipc/index.js';
import type { Machine } from './machine.js';

/** What `--trace-json FILE` writes: one machine's trace events with absolute times. */
export interface MachineTraceFile {
  format: 'sspi-emu machine trace';
  version: 1;
  /** The machine's name in a merged timeline: "dc", "member", "workstation", or what the command was given. */
  machine: string;
  /** The command that ran it ("sspi-emu dc", "sspi-emu serve --tcp"). */
  command: string;
  /** The OS process the machine ran in (its worker threads are not OS processes). */
  osPid: number;
  /** The machine's boot, in ms since the Unix epoch. */
  origin: number;
  /** Its events in time order, `t` in ms since the Unix epoch. */
  events: TraceEvent[];
}

/** An event of a merged timeline: the machine it was recorded on, `t` relative to the merge's origin. */
export type MachineTraceEvent = TraceEvent & { machine: string };

/** One machine's trace so far (its live workers flushed), ready to write as JSON. */
export async function machineTraceFile(machine: Machine, name: string, command: string): Promise<MachineTraceFile> {
  const origin = machine.trace.origin;
  const events = (await machine.events()).map((e) => ({ ...e, t: e.t + origin }));
  return { format: 'sspi-emu machine trace', version: 1, machine: name, command, osPid: process.pid, origin, events };
}

/** Thrown for a trace file that is not one (code TRACE_FILE), naming the file and what is wrong. */
export class TraceFileError extends Error {
  readonly code = 'TRACE_FILE';
  constructor(source: string, what: string) {
    super(`${source} is not an sspi-emu machine trace: ${what}`);
    this.name = 'TraceFileError';
  }
}

const PHASES: ReadonlySet<string> = new Set<TracePhase>(['call', 'return', 'event']);
const TEXT_FIELDS = ['status', 'tokenIn', 'tokenOut', 'peer', 'detail', 'stack'] as const;

/** A trace file's text, checked field by field (`source` names it in errors). */
export function parseMachineTraceFile(text: string, source: string): MachineTraceFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new TraceFileError(source, `not JSON (${(error as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TraceFileError(source, 'not an object');
  const r = raw as Record<string, unknown>;
  if (r.format !== 'sspi-emu machine trace') throw new TraceFileError(source, `format ${JSON.stringify(r.format)}`);
  if (r.version !== 1) throw new TraceFileError(source, `version ${JSON.stringify(r.version)} (this sspi-emu reads version 1)`);
  if (typeof r.machine !== 'string' || r.machine.length === 0) throw new TraceFileError(source, 'no machine name');
  if (typeof r.command !== 'string') throw new TraceFileError(source, 'no command');
  if (typeof r.osPid !== 'number' || !Number.isSafeInteger(r.osPid)) throw new TraceFileError(source, 'no osPid');
  if (typeof r.origin !== 'number' || !Number.isFinite(r.origin)) throw new TraceFileError(source, 'no origin');
  if (!Array.isArray(r.events)) throw new TraceFileError(source, 'no events');
  const events = r.events.map((e, i) => traceEvent(e, `${source}: event ${i}`));
  return { format: 'sspi-emu machine trace', version: 1, machine: r.machine, command: r.command, osPid: r.osPid, origin: r.origin, events };
}

function traceEvent(raw: unknown, where: string): TraceEvent {
  if (typeof raw !== 'object' || raw === null) throw new TraceFileError(where, 'not an object');
  const r = raw as Record<string, unknown>;
  if (typeof r.t !== 'number' || !Number.isFinite(r.t)) throw new TraceFileError(where, 'no time');
  if (typeof r.process !== 'string' || typeof r.call !== 'string') throw new TraceFileError(where, 'no process or call');
  if (typeof r.pid !== 'number' || typeof r.threadId !== 'number') throw new TraceFileError(where, 'no pid or threadId');
  if (typeof r.phase !== 'string' || !PHASES.has(r.phase)) throw new TraceFileError(where, `phase ${JSON.stringify(r.phase)}`);
  const event: TraceEvent = { t: r.t, process: r.process, pid: r.pid, threadId: r.threadId, call: r.call, phase: r.phase as TracePhase };
  for (const field of TEXT_FIELDS) {
    const value = r[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new TraceFileError(where, `${field} is not text`);
    event[field] = value;
  }
  if (r.lpc !== undefined) {
    if (typeof r.lpc !== 'number') throw new TraceFileError(where, 'lpc is not a number');
    event.lpc = r.lpc;
  }
  return event;
}

/**
 * Several machines' traces on one timeline: every event named with its machine, in time order
 * (events of one time keep their file's order, and the files' order), `t` in ms since `origin`,
 * the earliest machine's boot.
 */
export function mergeMachineTraces(files: readonly MachineTraceFile[]): { origin: number; events: MachineTraceEvent[] } {
  const origin = files.length === 0 ? 0 : Math.min(...files.map((f) => f.origin));
  const events = files.flatMap((f) => f.events.map((e) => ({ ...e, t: e.t - origin, machine: f.machine })));
  // Array.prototype.sort is stable: ties keep the order above.
  events.sort((a, b) => a.t - b.t);
  return { origin, events };
}
