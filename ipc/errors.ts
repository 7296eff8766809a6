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
  | 'REMOTE_FAILURE';

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

export type SspiEmuErrorCode = 'BOOT_FAILED' | 'SPAWN_FAILED' | 'PROCESS_EXITED' | 'NOT_LISTENING' | 'ALREADY_LISTENING' | 'APP_FAILED' | 'USAGE';

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

const TRANSPORT_CODES: ReadonlySet<string> = new Set<TransportErrorCode>(['PEER_GONE', 'CHANNEL_CLOSED', 'TIMEOUT', 'BAD_MESSAGE', 'REMOTE_FAILURE']);
const EMU_CODES: ReadonlySet<string> = new Set<SspiEmuErrorCode>([
  'BOOT_FAILED',
  'SPAWN_FAILED',
  'PROCESS_EXITED',
  'NOT_LISTENING',
  'ALREADY_LISTENING',
  'APP_FAILED',
  'USAGE',
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
