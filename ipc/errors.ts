// Failures that are not protocol outcomes. A protocol outcome is a status in a result; a
// transport failure (the peer died, the channel closed), a failure of the machine itself, a
// package that threw, or a programming failure is one of these coded errors, carried as the
// `cause` of a SEC_E_INTERNAL_ERROR where an API call hits it.
//
// One family: every error class of sspi-emu extends EmuError, whose `code` comes from a union of
// the class's codes, and registers itself, so that an error serialized to cross a port is rebuilt
// on the other side as its own class with its code, message, stack and cause.

/** The worker at the other end of a channel, and the channel itself. */
export type TransportErrorCode =
  /** The worker at the other end of the channel exited or crashed. */
  | 'PEER_GONE'
  /** This side closed the channel while calls were pending. */
  | 'CHANNEL_CLOSED'
  /** The peer did not answer within the call's time limit. */
  | 'TIMEOUT'
  /** A message arrived that is not part of the protocol. */
  | 'BAD_MESSAGE'
  /** The peer's handler failed outside any status it could report. */
  | 'REMOTE_FAILURE'
  /** The peer posted more than this side queues (faster than it is answered): it was cut off. */
  | 'FLOODED';

/** The emulated machine itself: boot, spawn, the names servers monitor, what a process may ask. */
export type MachineErrorCode =
  | 'BOOT_FAILED'
  | 'SPAWN_FAILED'
  | 'NOT_LISTENING'
  | 'ALREADY_LISTENING'
  | 'APP_FAILED'
  /** A process asked for more than its share (names, waiting calls, handles) of the machine. */
  | 'QUOTA_EXCEEDED'
  /** An option or argument of the machine's API that cannot be used, named in the message. */
  | 'BAD_OPTION'
  /** A package module of the "Security Packages" list failed to load (Machine.boot, unless asked to skip it). */
  | 'PACKAGE_LOAD_FAILED'
  /** A call named a package that is not loaded (the cause of SEC_E_SECPKG_NOT_FOUND). */
  | 'PACKAGE_NOT_LOADED';

/** A package entry point that did not answer as the interface says. */
export type PackageFaultCode = 'PACKAGE_THREW' | 'PACKAGE_TIMEOUT' | 'PACKAGE_BAD_RESULT';

/** Every code the framework's own error classes carry. */
export type ErrorCode = TransportErrorCode | MachineErrorCode | PackageFaultCode;

/** The base of every sspi-emu error: a code, a message, and (optionally) the cause. */
export abstract class EmuError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

type ErrorClass = new (code: never, message: string, options?: { cause?: unknown }) => EmuError;

/** Error classes by name, each with the codes it may carry: what rebuildError makes after a crossing. */
const REGISTRY = new Map<string, { make: ErrorClass; codes: ReadonlySet<string> }>();

/**
 * Registers an error class so that it is rebuilt as itself after crossing a port. Every class of
 * the family calls this where it is defined; a package may register its own.
 */
export function registerErrorClass<C extends string>(
  name: string,
  make: new (code: C, message: string, options?: { cause?: unknown }) => EmuError<C>,
  codes: readonly C[],
): void {
  REGISTRY.set(name, { make: make as unknown as ErrorClass, codes: new Set(codes) });
}

export class TransportError extends EmuError<TransportErrorCode> {
  override readonly name = 'TransportError';
}

/** A failure of the emulated machine itself (boot, spawn, ports), as opposed to a transport failure. */
export class SspiEmuError extends EmuError<MachineErrorCode> {
  override readonly name = 'SspiEmuError';
}

/**
 * A package entry point threw, did not return in time, or returned what the interface does not
 * allow. Its caller gets SEC_E_INTERNAL_ERROR with this as the cause; `cause` is the package's own
 * error, with its message and stack.
 */
export class PackageFault extends EmuError<PackageFaultCode> {
  override readonly name = 'PackageFault';
}

registerErrorClass('TransportError', TransportError, ['PEER_GONE', 'CHANNEL_CLOSED', 'TIMEOUT', 'BAD_MESSAGE', 'REMOTE_FAILURE', 'FLOODED']);
registerErrorClass('SspiEmuError', SspiEmuError, [
  'BOOT_FAILED',
  'SPAWN_FAILED',
  'NOT_LISTENING',
  'ALREADY_LISTENING',
  'APP_FAILED',
  'QUOTA_EXCEEDED',
  'BAD_OPTION',
  'PACKAGE_LOAD_FAILED',
  'PACKAGE_NOT_LOADED',
]);
registerErrorClass('PackageFault', PackageFault, ['PACKAGE_THREW', 'PACKAGE_TIMEOUT', 'PACKAGE_BAD_RESULT']);

/** The structured-clone-safe form of an error. */
export interface SerializedError {
  name: string;
  code?: string;
  message: string;
  stack?: string;
  cause?: SerializedError;
}

/** How deep a chain of causes is kept. */
const MAX_CAUSES = 4;

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const out: SerializedError = { name: error.name, message: error.message };
    if (typeof code === 'string') out.code = code;
    if (error.stack !== undefined) out.stack = error.stack;
    if (error.cause !== undefined && depth < MAX_CAUSES) out.cause = serializeError(error.cause, depth + 1);
    return out;
  }
  return { name: 'Error', message: String(error) };
}

/** Longest message, name or stack taken from a serialized error that crossed a port. */
const MAX_ERROR_TEXT = 16_384;

/**
 * A SerializedError as it arrived from a port that untrusted code can post on: the fields that
 * have the right types (cut to a sane length) are kept, anything else becomes a description of
 * what arrived, so that rebuilding it can never throw.
 */
export function decodeSerializedError(value: unknown, depth = 0): SerializedError {
  if (typeof value !== 'object' || value === null) return { name: 'Error', message: `a malformed error arrived (${value === null ? 'null' : typeof value})` };
  const r = value as Record<string, unknown>;
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, MAX_ERROR_TEXT) : undefined);
  const out: SerializedError = { name: text(r.name) ?? 'Error', message: text(r.message) ?? 'a malformed error arrived (no message)' };
  const code = text(r.code);
  if (code !== undefined) out.code = code.slice(0, 64);
  const stack = text(r.stack);
  if (stack !== undefined) out.stack = stack;
  if (r.cause !== undefined && depth < MAX_CAUSES) out.cause = decodeSerializedError(r.cause, depth + 1);
  return out;
}

/** The error a SerializedError describes, as its own class when that class is registered here. */
export function rebuildError(s: SerializedError): Error {
  const cause = s.cause === undefined ? undefined : rebuildError(s.cause);
  const options = cause === undefined ? undefined : { cause };
  const known = REGISTRY.get(s.name);
  let error: Error;
  if (known !== undefined && s.code !== undefined && known.codes.has(s.code)) error = new known.make(s.code as never, s.message, options);
  else {
    error = new Error(s.message, options);
    error.name = s.name;
    if (s.code !== undefined) (error as Error & { code?: string }).code = s.code;
  }
  if (s.stack !== undefined) error.stack = s.stack;
  return error;
}

/**
 * One line naming an error and its causes, for traces and CLI output: "CODE: message <- cause".
 * Nothing is said twice: a code the message already starts with (Node's "ENOENT: no such file")
 * is not repeated, and a cause whose text the line already holds adds nothing.
 */
export function describeError(error: unknown): string {
  let line = '';
  let e: unknown = error;
  for (let i = 0; e !== undefined && i <= MAX_CAUSES; i++) {
    let text: string;
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      text = typeof code === 'string' && code !== '' && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
      e = e.cause;
    } else {
      text = String(e);
      e = undefined;
    }
    if (line === '') line = text;
    else if (!line.includes(text)) line += ` <- ${text}`;
  }
  return line;
}

/**
 * For control calls, whose handlers throw coded errors on purpose (NOT_LISTENING, APP_FAILED):
 * the error the far side threw, rebuilt, in place of the REMOTE_FAILURE that carried it.
 */
export function remoteError(error: unknown): unknown {
  return error instanceof TransportError && error.code === 'REMOTE_FAILURE' && error.cause instanceof Error ? error.cause : error;
}
