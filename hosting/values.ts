// What a package hands its host, read without trusting it. A package may throw, reject with, or
// leave in a result any JavaScript value: an object with no prototype (no toString), a Proxy whose
// traps throw (or a revoked one), an object whose toString or a getter throws, an Error whose
// message, stack or cause is one of those. Describing such a value runs in the host that called
// the package (the LSA, an app process), so it must never throw: every reading here is one the
// value cannot make throw, or one inside a try.

import { types } from 'node:util';

/**
 * How deep a chain of causes sspi-emu's error readers follow (ipc/errors.ts: describeError,
 * serializeError): the package's error and its causes, down to this many levels, are read.
 */
const MAX_CAUSES = 4;

/** Text for any value, never throwing: its string form, or what it is when it has none. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  // number, bigint, boolean, undefined, symbol: String() takes them all (a template literal would not take a symbol).
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return String(value);
  try {
    return String(value);
  } catch {
    return untextable(value);
  }
}

/** An object String() refused (no prototype, a Proxy, a toString or valueOf that throws), described without converting it. */
function untextable(value: object): string {
  // Not even its prototype is read from a Proxy: a trap may throw.
  if (types.isProxy(value)) return 'a Proxy that cannot be turned into text';
  if (Object.getPrototypeOf(value) === null) return typeof value === 'function' ? 'a function with no prototype' : 'an object with no prototype';
  try {
    // Reads Symbol.toStringTag, which may be a getter that throws.
    return `an object that cannot be turned into text (${Object.prototype.toString.call(value)})`;
  } catch {
    return 'an object that cannot be turned into text';
  }
}

/** The name of a typed array's kind ("Uint16Array") from its internal slot: no getter of the package's runs. */
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)!.get! as (
  this: unknown,
) => string;

/**
 * What a value is, in a few words, for a message about a result that is not what it should be:
 * "null", "a string", "a Proxy", "an array", "a Uint16Array"; no code of the value's runs.
 */
export function valueKind(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' || typeof value === 'function') {
    if (types.isProxy(value)) return 'a Proxy';
    if (Array.isArray(value)) return 'an array';
    if (types.isTypedArray(value)) return `a ${typedArrayName.call(value)}`;
    return typeof value === 'function' ? 'a function' : 'an object';
  }
  return `a ${typeof value}`; // a string, a number, a bigint, a boolean, a symbol
}

/**
 * A thrown value (or a rejection's reason) as its host reports it: `text`, the package's message
 * ("RangeError: offset 12 is past the end", "a bare string", "an object with no prototype"), and
 * `cause`, what the fault keeps as its cause. That is the package's error itself when sspi-emu's
 * error readers (describeError, serializeError, packageStack) can read it and its causes without
 * running any code of the package's; otherwise a plain Error copied from what of it can be read
 * (its message, name, stack and causes), or for a value that is no Error its text.
 */
export function describeThrown(value: unknown): { text: string; cause: unknown } {
  if (!isError(value)) {
    const text = describeValue(value);
    return { text, cause: text };
  }
  const name = readString(value, 'name') ?? 'Error';
  const text = `${name === 'Error' ? '' : name + ': '}${errorMessage(value)}`;
  return { text, cause: readable(value, 0, new Set()) ? value : copyError(value, 0) };
}

/** Whether a value is an Error (instanceof runs a Proxy's getPrototypeOf trap, which may throw). */
function isError(value: unknown): value is Error {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/** A property read that cannot throw: undefined if the read threw. */
function read(value: object, key: string): { value: unknown } | undefined {
  try {
    return { value: (value as Record<string, unknown>)[key] };
  } catch {
    return undefined;
  }
}

function readString(value: object, key: string): string | undefined {
  const got = read(value, key);
  return typeof got?.value === 'string' ? got.value : undefined;
}

/** An Error's message: a string as it is, anything else as text, one that cannot be read said so. */
function errorMessage(error: Error): string {
  const got = read(error, 'message');
  return got === undefined ? 'an Error whose message cannot be read' : describeValue(got.value);
}

/**
 * The getter V8 gives an Error's stack, where it is an accessor (in the Node versions where it is a
 * data property, undefined): a stack read through it runs no package code.
 */
const NATIVE_STACK_GETTER = Object.getOwnPropertyDescriptor(new Error(), 'stack')?.get;

/**
 * Whether sspi-emu's error readers can read `error` (an Error) and its causes without running any
 * of the package's code: no Proxy on its prototype chain, name, message, stack, code and cause
 * plain data (name and message strings, stack a string if any), and each cause down to the depth
 * they read a primitive or such an Error. A cause that is another object is not: they would turn
 * it into text.
 */
function readable(error: unknown, depth: number, seen: Set<object>): boolean {
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return typeof error !== 'symbol';
  if (depth > MAX_CAUSES || seen.has(error)) return true; // not read that deep; a cycle is read once round
  seen.add(error);
  try {
    if (!hasPlainChain(error) || !(error instanceof Error)) return false;
    const name = plainProperty(error, 'name');
    const message = plainProperty(error, 'message');
    const stack = plainProperty(error, 'stack');
    const code = plainProperty(error, 'code');
    const cause = plainProperty(error, 'cause');
    if (name === undefined || message === undefined || stack === undefined || code === undefined || cause === undefined) return false;
    if (typeof name.value !== 'string' || typeof message.value !== 'string') return false;
    if (stack.value !== undefined && typeof stack.value !== 'string') return false;
    return readable(cause.value, depth + 1, seen);
  } catch {
    return false;
  }
}

/** Whether no object on `value`'s prototype chain is a Proxy (whose traps a reading would run). */
function hasPlainChain(value: object): boolean {
  for (let o: object | null = value; o !== null; o = Object.getPrototypeOf(o) as object | null) if (types.isProxy(o)) return false;
  return true;
}

/**
 * A property of an object whose prototype chain has no Proxy, looked up without running a getter:
 * its value when it is a data property (or absent), undefined when it is an accessor (for `stack`,
 * V8's own getter is read).
 */
function plainProperty(value: object, key: string): { value: unknown } | undefined {
  for (let o: object | null = value; o !== null; o = Object.getPrototypeOf(o) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(o, key);
    if (descriptor === undefined) continue;
    if ('value' in descriptor) return { value: descriptor.value };
    if (key === 'stack' && NATIVE_STACK_GETTER !== undefined && descriptor.get === NATIVE_STACK_GETTER) return { value: (value as Error).stack };
    return undefined;
  }
  return { value: undefined };
}

/** A plain Error made of what of `error` can be read: its message, name, stack, code and causes. */
function copyError(error: Error, depth: number): Error {
  const copy = new Error(errorMessage(error));
  const name = readString(error, 'name');
  if (name !== undefined && name !== 'Error') copy.name = name;
  // The package's own stack, or none (rather than this function's).
  const stack = readString(error, 'stack');
  if (stack === undefined) delete copy.stack;
  else copy.stack = stack;
  const code = readString(error, 'code');
  if (code !== undefined) (copy as { code?: string }).code = code;
  if (depth < MAX_CAUSES) {
    // A cause that cannot be read is left out.
    const cause = read(error, 'cause');
    if (cause !== undefined && cause.value !== undefined) copy.cause = copyCause(cause.value, depth + 1);
  }
  return copy;
}

function copyCause(cause: unknown, depth: number): unknown {
  if (isError(cause)) return copyError(cause, depth);
  return typeof cause === 'string' || typeof cause === 'number' || typeof cause === 'boolean' ? cause : describeValue(cause);
}
