// contain(): one package entry point runs inside it, and whatever the package does (returns,
// throws, rejects, never answers) comes back as an Outcome, never as an exception.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { PackageFault, badResult, contain, type Outcome } from '../../lsa/containment.js';

/** An outcome that is a fault, with its code and message. */
function fault<T>(outcome: Outcome<T> | Promise<Outcome<T>>): PackageFault {
  assert.ok(!(outcome instanceof Promise), 'expected a synchronous outcome');
  assert.equal(outcome.ok, false);
  return (outcome as { ok: false; fault: PackageFault }).fault;
}

describe('contain', () => {
  let setTimeoutSpy: ReturnType<typeof mock.method>;
  let clearTimeoutSpy: ReturnType<typeof mock.method>;
  beforeEach(() => {
    setTimeoutSpy = mock.method(globalThis, 'setTimeout');
    clearTimeoutSpy = mock.method(globalThis, 'clearTimeout');
  });
  afterEach(() => mock.restoreAll());

  it('returns a synchronous value synchronously, and starts no timer for it', () => {
    const before = setTimeoutSpy.mock.callCount();
    const outcome = contain('Example', 'SpGetInfo', 60_000, () => 42);
    assert.equal(setTimeoutSpy.mock.callCount(), before);
    assert.deepEqual(outcome, { ok: true, value: 42 });
  });

  it('turns a synchronous throw into PACKAGE_THREW with the error as the cause', () => {
    const error = new Error('kaboom');
    const f = fault(
      contain('Example', 'SpInitLsaModeContext', 60_000, () => {
        throw error;
      }),
    );
    assert.ok(f instanceof PackageFault);
    assert.equal(f.code, 'PACKAGE_THREW');
    assert.equal(f.message, 'Example: SpInitLsaModeContext threw: kaboom');
    assert.equal(f.cause, error);
  });

  it('names a thrown non-Error by its string form', () => {
    const f = fault(
      contain('Example', 'SpGetInfo', 0, () => {
        throw 'a bare string';
      }),
    );
    assert.equal(f.message, 'Example: SpGetInfo threw: a bare string');
  });

  it('resolves a promise that resolves to its value, and clears the timer it raced', async () => {
    const before = setTimeoutSpy.mock.callCount();
    const pending = contain('Example', 'SpAcceptLsaModeContext', 60_000, async () => 'done');
    assert.equal(setTimeoutSpy.mock.callCount(), before + 1, 'an asynchronous answer races one timer');
    const timer = setTimeoutSpy.mock.calls.at(-1)!.result;
    assert.deepEqual(await pending, { ok: true, value: 'done' });
    assert.ok(clearTimeoutSpy.mock.calls.some((call) => call.arguments[0] === timer));
  });

  it('turns a rejected promise into PACKAGE_THREW, resolving rather than rejecting', async () => {
    const error = new TypeError('async kaboom');
    const outcome = await contain('Example', 'SpAcquireCredentialsHandle', 60_000, () => Promise.reject(error));
    assert.equal(outcome.ok, false);
    const f = (outcome as { ok: false; fault: PackageFault }).fault;
    assert.equal(f.code, 'PACKAGE_THREW');
    assert.equal(f.message, 'Example: SpAcquireCredentialsHandle threw: async kaboom');
    assert.equal(f.cause, error);
  });

  it('turns a promise that never settles into PACKAGE_TIMEOUT after the time limit', async () => {
    const outcome = await contain('Hanger', 'SpInitLsaModeContext', 1, () => new Promise<never>(() => {}));
    assert.equal(outcome.ok, false);
    const f = (outcome as { ok: false; fault: PackageFault }).fault;
    assert.equal(f.code, 'PACKAGE_TIMEOUT');
    assert.equal(f.message, 'Hanger: SpInitLsaModeContext did not return within 1 ms');
  });

  it('sets no limit with a timeout of 0: no timer starts, and a late answer still counts', async () => {
    let answer!: (value: string) => void;
    const before = setTimeoutSpy.mock.callCount();
    const pending = contain('Slow', 'SpInitLsaModeContext', 0, () => new Promise<string>((resolve) => (answer = resolve)));
    assert.equal(setTimeoutSpy.mock.callCount(), before);
    await new Promise((resolve) => setImmediate(resolve));
    answer('eventually');
    assert.deepEqual(await pending, { ok: true, value: 'eventually' });
  });

  it('treats any thenable as asynchronous', async () => {
    const thenable = { then: (resolve: (v: number) => void) => resolve(7) };
    const outcome = contain('Example', 'SpGetInfo', 0, () => thenable as unknown as Promise<number>);
    assert.ok(outcome instanceof Promise);
    assert.deepEqual(await outcome, { ok: true, value: 7 });
  });
});

describe('badResult', () => {
  it('makes a PACKAGE_BAD_RESULT fault naming the package, the entry point and what it returned', () => {
    const f = badResult('Example', 'SpGetInfo', 'no PackageInfo');
    assert.ok(f instanceof PackageFault);
    assert.equal(f.code, 'PACKAGE_BAD_RESULT');
    assert.equal(f.name, 'PackageFault');
    assert.equal(f.message, 'Example: SpGetInfo returned no PackageInfo');
  });
});
