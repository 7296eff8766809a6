// Decoding what arrives from a port that untrusted code can post on. Whoever receives a message
// from a process (the LSA, the machine) reads it through these: each takes `unknown` and returns
// the typed value or throws a TransportError('BAD_MESSAGE') naming the field, so that a handler
// written over typed requests never touches a field it has not checked. Structured clone cannot
// carry getters or functions, so a value checked here stays what it was checked to be.

import { MessagePort } from 'node:worker_threads';
import { TransportError } from './errors.js';

/** Refuses a message: the receiver answers it (or drops it) and changes nothing. */
export function badMessage(what: string): never {
  throw new TransportError('BAD_MESSAGE', what);
}

/** A plain object (not null, not an array), as a record of unknown fields. */
export function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) badMessage(`${what} is not an object`);
  return value as Record<string, unknown>;
}

export function string(value: unknown, what: string, maxLength: number): string {
  if (typeof value !== 'string') badMessage(`${what} is not a string`);
  if (value.length > maxLength) badMessage(`${what} is longer than ${maxLength} characters`);
  return value;
}

export function optionalString(value: unknown, what: string, maxLength: number): string | undefined {
  return value === undefined ? undefined : string(value, what, maxLength);
}

/** An integer in [min, max]. */
export function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) badMessage(`${what} is not an integer from ${min} to ${max}`);
  return value;
}

/** A finite number. */
export function finite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) badMessage(`${what} is not a finite number`);
  return value;
}

export function boolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') badMessage(`${what} is not a boolean`);
  return value;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(value: unknown, what: string, allowed: ReadonlySet<T>): T {
  if (typeof value !== 'string' || !allowed.has(value as T)) badMessage(`${what} is not one of ${[...allowed].join(', ')}`);
  return value as T;
}

export function array(value: unknown, what: string, maxLength: number): unknown[] {
  if (!Array.isArray(value)) badMessage(`${what} is not an array`);
  if (value.length > maxLength) badMessage(`${what} has more than ${maxLength} entries`);
  return value;
}

export function messagePort(value: unknown, what: string): MessagePort {
  if (!(value instanceof MessagePort)) badMessage(`${what} is not a MessagePort`);
  return value;
}

export function bytes(value: unknown, what: string, maxLength: number): Uint8Array {
  if (!(value instanceof Uint8Array)) badMessage(`${what} is not a Uint8Array`);
  if (value.byteLength > maxLength) badMessage(`${what} is longer than ${maxLength} bytes`);
  return value;
}

/**
 * About how many bytes a structured-cloned value holds (typed arrays and ArrayBuffers by their
 * length, strings by theirs, 16 for anything else), walked only until `limit` is passed.
 */
export function approximateBytes(value: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  const seen = new Set<object>();
  while (stack.length > 0 && total <= limit) {
    const v = stack.pop();
    if (typeof v === 'string') total += v.length;
    else if (ArrayBuffer.isView(v)) total += v.byteLength;
    else if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer)) total += v.byteLength;
    else if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) continue;
      seen.add(v);
      total += 16;
      // Every entry costs at least 8: a huge object or array passes the limit without being walked whole.
      const push = (x: unknown): boolean => {
        total += 8;
        stack.push(x);
        return total <= limit;
      };
      if (v instanceof Map) {
        for (const [k, x] of v) if (!push(k) || !push(x)) break;
      } else if (v instanceof Set) {
        for (const x of v) if (!push(x)) break;
      } else {
        for (const k in v) if (!push(k) || !push((v as Record<string, unknown>)[k])) break;
      }
    } else total += 8;
  }
  return total;
}
