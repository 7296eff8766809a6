// Calls into a package are contained: a package that throws, rejects, answers garbage or never
// answers fails only the call it was given. Its caller gets SEC_E_INTERNAL_ERROR with a
// PackageFault as the cause; the LSA and the other packages keep serving.

import type { Awaitable } from '../headers/ntsecpkg.js';

export type PackageFaultCode = 'PACKAGE_THREW' | 'PACKAGE_TIMEOUT' | 'PACKAGE_BAD_RESULT';

export class PackageFault extends Error {
  override readonly name = 'PackageFault';
  constructor(
    readonly code: PackageFaultCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; fault: PackageFault };

/**
 * Runs `fn` (one package entry point). A synchronous answer costs nothing extra; an asynchronous
 * one races a timer of `timeoutMs` (0: no limit).
 */
export function contain<T>(packageName: string, entry: string, timeoutMs: number, fn: () => Awaitable<T>): Outcome<T> | Promise<Outcome<T>> {
  let result: Awaitable<T>;
  try {
    result = fn();
  } catch (error) {
    return { ok: false, fault: threw(packageName, entry, error) };
  }
  if (!isPromiseLike(result)) return { ok: true, value: result };
  const promise = result;
  return new Promise<Outcome<T>>((resolve) => {
    const timer =
      timeoutMs > 0
        ? setTimeout(
            () => resolve({ ok: false, fault: new PackageFault('PACKAGE_TIMEOUT', `${packageName}: ${entry} did not return within ${timeoutMs} ms`) }),
            timeoutMs,
          )
        : undefined;
    promise.then(
      (value) => {
        if (timer !== undefined) clearTimeout(timer);
        resolve({ ok: true, value });
      },
      (error: unknown) => {
        if (timer !== undefined) clearTimeout(timer);
        resolve({ ok: false, fault: threw(packageName, entry, error) });
      },
    );
  });
}

export function badResult(packageName: string, entry: string, what: string): PackageFault {
  return new PackageFault('PACKAGE_BAD_RESULT', `${packageName}: ${entry} returned ${what}`);
}

function threw(packageName: string, entry: string, error: unknown): PackageFault {
  const message = error instanceof Error ? error.message : String(error);
  return new PackageFault('PACKAGE_THREW', `${packageName}: ${entry} threw: ${message}`, { cause: error });
}

function isPromiseLike<T>(value: Awaitable<T>): value is Promise<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
