// Failures that are not protocol outcomes. A protocol outcome is a status in a result; a
// transport failure (the peer died, the channel closed) or a programming failure is one of these
// coded errors, carried as the `cause` of a SEC_E_INTERNAL_ERROR where an API call hits it.
// Errors are serialized to cross a port and rebuilt on the other side so that `instanceof` and
// `code` survive.

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

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type SspiEmuErrorCode =
  | 'BOOT_FAILED'
  | 'SPAWN_FAILED'
  | 'NOT_LISTENING'
  | 'ALREADY_LISTENING'
  | 'APP_FAILED'
  /** A process asked for more than its share (names, waiting calls, handles) of the machine. */
  | 'QUOTA_EXCEEDED'
  /** An option or argument of the machine's API that cannot be used, named in the message. */
  | 'BAD_OPTION';

/** A failure of the emulated machine itself (boot, spawn, ports), as opposed to a transport failure. */
export class SspiEmuError extends Error {
  override readonly name = 'SspiEmuError';
  constructor(
    readonly code: SspiEmuErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The structured-clone-safe form of an error. */
export interface SerializedError {
  name: string;
  code?: string;
  message: string;
  stack?: string;
  cause?: SerializedError;
}

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const out: SerializedError = { name: error.name, message: error.message };
    if (typeof code === 'string') out.code = code;
    if (error.stack !== undefined) out.stack = error.stack;
    if (error.cause !== undefined && depth < 4) out.cause = serializeError(error.cause, depth + 1);
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
  if (r.cause !== undefined && depth < 4) out.cause = decodeSerializedError(r.cause, depth + 1);
  return out;
}

export function rebuildError(s: SerializedError): Error {
  const cause = s.cause === undefined ? undefined : rebuildError(s.cause);
  const options = cause === undefined ? undefined : { cause };
  let error: Error;
  if (s.name === 'TransportError' && isTransportCode(s.code)) error = new TransportError(s.code, s.message, options);
  else if (s.name === 'SspiEmuError' && isSspiEmuCode(s.code)) error = new SspiEmuError(s.code, s.message, options);
  else {
    error = new Error(s.message, options);
    error.name = s.name;
    if (s.code !== undefined) (error as Error & { code?: string }).code = s.code;
  }
  if (s.stack !== undefined) error.stack = s.stack;
  return error;
}

const TRANSPORT_CODES: ReadonlySet<string> = new Set<TransportErrorCode>(['PEER_GONE', 'CHANNEL_CLOSED', 'TIMEOUT', 'BAD_MESSAGE', 'REMOTE_FAILURE', 'FLOODED']);
const EMU_CODES: ReadonlySet<string> = new Set<SspiEmuErrorCode>([
  'BOOT_FAILED',
  'SPAWN_FAILED',
  'NOT_LISTENING',
  'ALREADY_LISTENING',
  'APP_FAILED',
  'QUOTA_EXCEEDED',
  'BAD_OPTION',
]);
function isTransportCode(code: string | undefined): code is TransportErrorCode {
  return code !== undefined && TRANSPORT_CODES.has(code);
}
function isSspiEmuCode(code: string | undefined): code is SspiEmuErrorCode {
  return code !== undefined && EMU_CODES.has(code);
}

/** One line naming an error and its causes, for traces and CLI output. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let i = 0; e !== undefined && i < 5; i++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      parts.push(typeof code === 'string' ? `${code}: ${e.message}` : e.message);
      e = e.cause;
    } else {
      parts.push(String(e));
      e = undefined;
    }
  }
  return parts.join(' <- ');
}

/**
 * For control calls, whose handlers throw coded errors on purpose (NOT_LISTENING, APP_FAILED):
 * the error the far side threw, rebuilt, in place of the REMOTE_FAILURE that carried it.
 */
export function remoteError(error: unknown): unknown {
  return error instanceof TransportError && error.code === 'REMOTE_FAILURE' && error.cause instanceof Error ? error.cause : error;
}
