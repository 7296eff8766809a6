// Helpers for tests that drive the transport over a bare MessageChannel: a deadline that fails a
// test instead of letting it wait forever on a broken peer (so its ports still get closed), and
// an assert.rejects matcher for the transport's errors.

import assert from 'node:assert/strict';
import { TransportError } from '../../ipc/errors.js';

/** Fails a test that would otherwise wait forever on a broken peer, so that its ports still get closed. */
export async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** For assert.rejects: a TransportError with this code (and a message matching `message`). */
export const isTransport =
  (code: string, message?: RegExp) =>
  (error: unknown): true => {
    assert.ok(error instanceof TransportError, `expected a TransportError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
