// The one way to call a package entry point, on either side of it: in the LSA (the LSA-mode half)
// and in an app process (the user-mode half). A call is traced, call and return, with the
// package's name and the process it works for; a fault plan may make it throw or never return;
// it has a deadline when it answers with a promise; and whatever the package does, its caller
// gets an Outcome: the value, or a PackageFault whose cause is the package's own error (message
// and stack), never an exception, whatever the package throws (hosting/values.ts).

import { fileURLToPath } from 'node:url';
import { type Awaitable, SEC_E_INTERNAL_ERROR, statusName } from '../headers/index.js';
import { PackageFault, deadlines, describeError, type TraceEvent } from '../ipc/index.js';
import type { CallPoints } from './call-points.js';
import { describeThrown } from './values.js';

export type Outcome<T> = { ok: true; value: T } | { ok: false; fault: PackageFault };

/** What hosts a package: where its calls are traced, faulted and timed. */
export interface PackageHost {
  /** Records a call point (trace, fault hooks); `active` says whether building its fields is worth it. */
  point(call: string, phase: 'call' | 'return', fields?: Partial<Pick<TraceEvent, 'status' | 'peer' | 'detail' | 'stack'>>): void;
  readonly active: boolean;
  /** Whether a fault plan makes this call of this entry throw or hang. */
  packageFault(packageName: string, entry: string): 'throw' | 'hang' | undefined;
  /** A call that answers with a promise and has not settled after this many ms is a fault (0: never). */
  readonly deadlineMs: number;
}

export interface PackageCall {
  /** The package's name (its SecPkgInfo Name, or its module spec before it has one). */
  readonly package: string;
  /** The entry point's Windows name: SpInitLsaModeContext, SpMakeSignature, LsaApLogonTerminated, ... */
  readonly entry: string;
  /** The process the call works for (in the LSA), for the trace. */
  readonly peer?: string;
  /** More for the trace's call event (built only when tracing). */
  readonly detail?: () => string;
}

/** The PackageHost of a process: its call points, its fault plan's package faults, its deadline. */
export function packageHost(points: CallPoints, packageFault: PackageHost['packageFault'], deadlineMs: number): PackageHost {
  return {
    point: (call, phase, fields) => points.point(call, phase, fields),
    get active() {
      return points.active;
    },
    packageFault,
    deadlineMs,
  };
}

/**
 * Calls `run` (one package entry point) as `call` says. A synchronous answer costs no promise, and
 * an untraced one no more than its Outcome: message functions on a mapped context come here for
 * every message, and their caller measures them against the package's bare primitives.
 */
export function callPackage<T>(host: PackageHost, call: PackageCall, run: () => Awaitable<T>): Outcome<T> | Promise<Outcome<T>> {
  const traced = host.active;
  if (traced) host.point(call.entry, 'call', { ...peerOf(call), detail: call.detail === undefined ? call.package : `${call.package}, ${call.detail()}` });
  const injected = host.packageFault(call.package, call.entry);
  let result: Awaitable<T>;
  let promised: boolean;
  try {
    if (injected === 'throw') throw new Error(`injected fault: ${call.entry} throws`);
    result = injected === 'hang' ? new Promise<T>(() => undefined) : run();
    // Reading the answer's `then` may run a getter or a Proxy trap of the package's, which may throw too.
    promised = isPromiseLike(result);
  } catch (error) {
    return finish(host, call, traced, { ok: false, fault: threw(call, error) });
  }
  if (!promised) return traced ? finish(host, call, traced, { ok: true, value: result as T }) : { ok: true, value: result as T };
  const promise = result as Promise<T>;
  return new Promise<Outcome<T>>((resolve) => {
    // The thread's one clock (ipc/deadlines.ts), not a timer per call. Whichever comes first
    // settles the outcome; the other finds it settled.
    let settled = false;
    const settle = (outcome: () => Outcome<T>): void => {
      if (settled) return;
      settled = true;
      deadline?.cancel();
      resolve(finish(host, call, traced, outcome()));
    };
    const deadline =
      host.deadlineMs > 0
        ? deadlines.after(host.deadlineMs, () =>
            settle(() => ({
              ok: false,
              fault: new PackageFault('PACKAGE_TIMEOUT', `${call.package}: ${call.entry} did not return within ${host.deadlineMs} ms`),
            })),
          )
        : undefined;
    try {
      promise.then(
        (value) => settle(() => ({ ok: true, value })),
        (error: unknown) => settle(() => ({ ok: false, fault: threw(call, error) })),
      );
    } catch (error) {
      // A thenable of the package's whose `then` throws.
      settle(() => ({ ok: false, fault: threw(call, error) }));
    }
  });
}

function peerOf(call: PackageCall): { peer?: string } {
  return call.peer === undefined ? {} : { peer: call.peer };
}

/** The call's return point (when traced), then its outcome. */
function finish<T>(host: PackageHost, call: PackageCall, traced: boolean, outcome: Outcome<T>): Outcome<T> {
  if (!traced) return outcome;
  const peer = peerOf(call);
  if (outcome.ok) {
    const status = statusOf(outcome.value);
    host.point(call.entry, 'return', status === undefined ? peer : { ...peer, status: statusName(status) });
  } else {
    const stack = packageStack(outcome.fault);
    host.point(call.entry, 'return', {
      ...peer,
      status: statusName(SEC_E_INTERNAL_ERROR),
      detail: describeError(outcome.fault),
      ...(stack === undefined ? {} : { stack }),
    });
  }
  return outcome;
}

/** A result the interface does not allow (no handle on success, not an object): the package's fault. */
export function badResult(call: Pick<PackageCall, 'package' | 'entry'>, what: string): PackageFault {
  return new PackageFault('PACKAGE_BAD_RESULT', `${call.package}: ${call.entry} returned ${what}`);
}

/**
 * The PackageFault of a throw: its message carries the package's own, its cause the error itself
 * (with its stack). Whatever was thrown (an object with no prototype, a Proxy whose traps throw, an
 * Error whose getters throw), this never throws: describeThrown reads it without trusting it, and
 * keeps as the cause only what sspi-emu's error readers can read (else a copy of the error).
 */
function threw(call: PackageCall, error: unknown): PackageFault {
  const { text, cause } = describeThrown(error);
  return new PackageFault('PACKAGE_THREW', `${call.package}: ${call.entry} threw: ${text}`, { cause });
}

/** How much of a package's stack a trace event carries. */
const MAX_STACK_CHARS = 4096;

/**
 * The stack of the package's own error behind a fault (a throw), cut where sspi-emu's own frames
 * begin (the host that called the entry point), or undefined when the package threw no Error (a
 * string) or did not throw (a deadline, a bad result).
 */
export function packageStack(fault: PackageFault): string | undefined {
  const cause = fault.cause;
  if (!(cause instanceof Error) || typeof cause.stack !== 'string') return undefined;
  const lines = cause.stack.split('\n');
  const ours = lines.findIndex(isHostFrame);
  const kept = (ours < 0 ? lines : lines.slice(0, ours)).join('\n');
  return kept.length > MAX_STACK_CHARS ? kept.slice(0, MAX_STACK_CHARS) + '\n    ...' : kept;
}

/**
 * Where sspi-emu's own code is, as stack frames name it: its compiled modules under dist/ (file
 * URLs), and, in a thread that reads source maps (every worker does, for the packages' sake; `node
 * --enable-source-maps` maps sspi-emu's frames too), the sources they map to (plain paths).
 * packages/ and test/ (and a dependency's node_modules/) hold packages, not sspi-emu's own code.
 */
const COMPILED_ROOT = new URL('../', import.meta.url);
const SOURCE_ROOT = new URL('../../', import.meta.url);
const HOST_ROOTS = [COMPILED_ROOT, SOURCE_ROOT].map((root) => ({
  forms: [root.href, fileURLToPath(root)],
  packages: ['packages/', 'test/', 'node_modules/'],
}));

/** A frame of sspi-emu's own code (the LSA, the user-mode host, the SSPI library) rather than a package's. */
function isHostFrame(line: string): boolean {
  // The compiled root first: it lies inside the source root, and its packages/ are packages too.
  for (const root of HOST_ROOTS)
    for (const form of root.forms) {
      const at = line.indexOf(form);
      if (at >= 0) return !root.packages.some((folder) => line.startsWith(folder, at + form.length));
    }
  return false;
}

/**
 * The status an entry point answered: a number, or an object's `status`; undefined for entries that
 * return nothing, for an object whose `status` cannot be read (its getter, or a Proxy trap, throws),
 * and for numbers that are no 32-bit status (NaN, fractions, out of range), which
 * callers treat as a malformed result: every caller reads a status with `>>> 0`, which would turn
 * NaN, Infinity or 2^32 into SEC_E_OK, a success the package never gave.
 */
export function statusOf(value: unknown): number | undefined {
  let status = value;
  if (typeof value === 'object' && value !== null)
    try {
      status = (value as { status?: unknown }).status;
    } catch {
      return undefined; // a getter or a Proxy trap of the package's that throws: no status
    }
  return isStatusNumber(status) ? status : undefined;
}

/** An NTSTATUS/SECURITY_STATUS as a package may write one: a 32-bit integer, signed (-2146893054) or unsigned (0x80090302). */
function isStatusNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 32;
}

function isPromiseLike<T>(value: Awaitable<T>): value is Promise<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
