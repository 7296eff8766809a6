// callPackage(): one package entry point runs inside it, on either side (the LSA, a user-mode
// host), and whatever the package does (returns, throws, rejects, never answers) comes back as an
// Outcome, never as an exception; the call and its return are call points (traced, hookable), and
// a fault plan can make it throw or hang.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { badResult, callPackage, packageStack, statusOf, type Outcome, type PackageHost } from '../../hosting/index.js';
import { deadlines } from '../../ipc/deadlines.js';
import { PackageFault, describeError, serializeError } from '../../ipc/errors.js';

interface Point {
  call: string;
  phase: string;
  status?: string;
  detail?: string;
  peer?: string;
  stack?: string;
}

/** A host that records its call points, with an optional injected fault and a deadline. */
function host(options: { deadlineMs?: number; fault?: 'throw' | 'hang'; active?: boolean } = {}): PackageHost & { points: Point[] } {
  const points: Point[] = [];
  return {
    points,
    point: (call, phase, fields) => points.push({ call, phase, ...fields }),
    active: options.active ?? true,
    packageFault: () => options.fault,
    deadlineMs: options.deadlineMs ?? 60_000,
  };
}

const call = { package: 'Example', entry: 'SpInitLsaModeContext', peer: 'client' } as const;

/** An outcome that is a fault, with its code and message. */
function fault<T>(outcome: Outcome<T> | Promise<Outcome<T>>): PackageFault {
  assert.ok(!(outcome instanceof Promise), 'expected a synchronous outcome');
  assert.equal(outcome.ok, false);
  return (outcome as { ok: false; fault: PackageFault }).fault;
}

describe('callPackage', () => {
  let setTimeoutSpy: ReturnType<typeof mock.method>;
  beforeEach(() => {
    setTimeoutSpy = mock.method(globalThis, 'setTimeout');
  });
  afterEach(() => mock.restoreAll());

  it('returns a synchronous value synchronously, starts no timer, and traces the call and its status', () => {
    const h = host();
    const before = setTimeoutSpy.mock.callCount();
    const outcome = callPackage(h, { ...call, detail: () => 'token in 40 bytes' }, () => ({ status: 0x00090312 }));
    assert.equal(setTimeoutSpy.mock.callCount(), before);
    assert.deepEqual(outcome, { ok: true, value: { status: 0x00090312 } });
    assert.deepEqual(h.points, [
      { call: 'SpInitLsaModeContext', phase: 'call', peer: 'client', detail: 'Example, token in 40 bytes' },
      { call: 'SpInitLsaModeContext', phase: 'return', peer: 'client', status: 'SEC_I_CONTINUE_NEEDED' },
    ]);
  });

  it('builds nothing for the trace when the host is not active', () => {
    const h = host({ active: false });
    callPackage(h, { ...call, detail: () => assert.fail('detail built without tracing') }, () => 0);
    assert.deepEqual(h.points, []);
  });

  it('turns a synchronous throw into PACKAGE_THREW that keeps the package error, and traces its message and its stack', () => {
    const h = host();
    const error = new RangeError('offset 12 is past the end');
    const f = fault(
      callPackage(h, call, () => {
        throw error;
      }),
    );
    assert.ok(f instanceof PackageFault);
    assert.equal(f.code, 'PACKAGE_THREW');
    assert.equal(f.message, 'Example: SpInitLsaModeContext threw: RangeError: offset 12 is past the end');
    assert.equal(f.cause, error, 'the package error, with its stack');
    const { stack, ...traced } = h.points.at(-1)!;
    assert.deepEqual(traced, {
      call: 'SpInitLsaModeContext',
      phase: 'return',
      peer: 'client',
      status: 'SEC_E_INTERNAL_ERROR',
      detail: 'PACKAGE_THREW: Example: SpInitLsaModeContext threw: RangeError: offset 12 is past the end',
    });
    // The package's own frames (here this test's), cut where sspi-emu's host called into it.
    assert.match(stack ?? '', /^RangeError: offset 12 is past the end\n {4}at .*package-call\.test\.js:\d+:\d+/);
    assert.doesNotMatch(stack ?? '', /hosting\/package-call\.js/);
    assert.equal(packageStack(f), stack);
  });

  it("cuts a source-mapped stack where sspi-emu's own sources begin, keeping the package's .ts frames", () => {
    // As a worker that reads source maps prints it: sspi-emu's frames as plain paths of its sources
    // (node --enable-source-maps maps them too), the package's as its own sources.
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const error = new Error('boom');
    error.stack = [
      'Error: boom',
      `    at AcceptLsaModeContext (${root}packages/example/lsa.ts:160:11)`,
      '    at /home/me/contoso/src/lsa.ts:12:3',
      `    at callPackage (${root}hosting/package-call.ts:80:14)`,
      `    at contextCall (${root}lsa/dispatch.ts:226:27)`,
    ].join('\n');
    assert.equal(
      packageStack(new PackageFault('PACKAGE_THREW', 'Example: SpAcceptLsaModeContext threw: boom', { cause: error })),
      error.stack.split('\n').slice(0, 3).join('\n'),
    );
  });

  it('carries no stack for a fault that is not a thrown Error: a thrown string, a deadline', () => {
    const h = host();
    callPackage(h, call, () => {
      throw 'a bare string';
    });
    assert.equal(h.points.at(-1)?.stack, undefined);
    assert.equal(packageStack(new PackageFault('PACKAGE_TIMEOUT', 'Example: SpGetInfo did not return within 5 ms')), undefined);
  });

  it('names a thrown non-Error by its string form', () => {
    const f = fault(
      callPackage(host(), { package: 'Example', entry: 'SpGetInfo' }, () => {
        throw 'a bare string';
      }),
    );
    assert.equal(f.message, 'Example: SpGetInfo threw: a bare string');
  });

  it("resolves a promise that resolves to its value, racing a deadline on the thread's one clock that it then cancels", async () => {
    const before = deadlines.pending;
    const pending = callPackage(host(), call, async () => 'done');
    assert.equal(deadlines.pending, before + 1, 'an asynchronous answer races one deadline');
    assert.deepEqual(await pending, { ok: true, value: 'done' });
    assert.equal(deadlines.pending, before, 'cancelled once answered (the clock then keeps the thread alive no longer: ipc/deadlines.ts)');
  });

  it('turns a rejected promise into PACKAGE_THREW, resolving rather than rejecting', async () => {
    const error = new TypeError('async kaboom');
    const outcome = await callPackage(host(), { package: 'Example', entry: 'SpAcquireCredentialsHandle' }, () => Promise.reject(error));
    assert.equal(outcome.ok, false);
    const f = (outcome as { ok: false; fault: PackageFault }).fault;
    assert.equal(f.message, 'Example: SpAcquireCredentialsHandle threw: TypeError: async kaboom');
    assert.equal(f.cause, error);
  });

  it('turns a promise that never settles into PACKAGE_TIMEOUT after the deadline', async () => {
    const outcome = await callPackage(host({ deadlineMs: 1 }), { package: 'Hanger', entry: 'SpInitLsaModeContext' }, () => new Promise<never>(() => {}));
    assert.equal(outcome.ok, false);
    const f = (outcome as { ok: false; fault: PackageFault }).fault;
    assert.equal(f.code, 'PACKAGE_TIMEOUT');
    assert.equal(f.message, 'Hanger: SpInitLsaModeContext did not return within 1 ms');
  });

  it('sets no limit with a deadline of 0: no timer starts, and a late answer still counts', async () => {
    let answer!: (value: string) => void;
    const before = setTimeoutSpy.mock.callCount();
    const pending = callPackage(host({ deadlineMs: 0 }), call, () => new Promise<string>((resolve) => (answer = resolve)));
    assert.equal(setTimeoutSpy.mock.callCount(), before);
    await new Promise((resolve) => setImmediate(resolve));
    answer('eventually');
    assert.deepEqual(await pending, { ok: true, value: 'eventually' });
  });

  it('throws or hangs where a fault plan says, without calling the package', async () => {
    let called = false;
    const f = fault(callPackage(host({ fault: 'throw' }), call, () => (called = true)));
    assert.equal(f.message, 'Example: SpInitLsaModeContext threw: injected fault: SpInitLsaModeContext throws');
    const hung = await callPackage(host({ fault: 'hang', deadlineMs: 1 }), call, () => (called = true));
    assert.equal(hung.ok, false);
    assert.equal(called, false);
  });

  it('turns a throw or a rejection of a value that cannot be turned into text into PACKAGE_THREW describing it, and traces its return', async () => {
    // What String() refuses (no prototype, a Proxy whose traps throw, a revoked Proxy, a toString that
    // throws), and Errors whose parts cannot be read (getters that throw, a cause with no prototype).
    const traps = (): never => {
      throw new Error('a trap');
    };
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    const unreadable = new RangeError('never seen');
    for (const key of ['stack', 'name', 'message', 'cause', 'code'])
      Object.defineProperty(unreadable, key, {
        get: () => {
          throw Object.create(null);
        },
      });
    const values: Array<[unknown, string, string?]> = [
      [Object.create(null), 'an object with no prototype'],
      [
        new Proxy({}, { get: traps, getPrototypeOf: traps, getOwnPropertyDescriptor: traps, has: traps, ownKeys: traps }),
        'a Proxy that cannot be turned into text',
      ],
      [revocable.proxy, 'a Proxy that cannot be turned into text'],
      [{ toString: traps, valueOf: traps }, 'an object that cannot be turned into text ([object Object])'],
      [Object.assign(Object.create(null), { [Symbol.toPrimitive]: traps }), 'an object with no prototype'],
      [unreadable, 'an Error whose message cannot be read'],
      [new Error('outer', { cause: Object.create(null) }), 'outer', ' <- an object with no prototype'],
      [new Error('outer', { cause: new Proxy({}, { getPrototypeOf: traps, get: traps }) }), 'outer', ' <- a Proxy that cannot be turned into text'],
      [Symbol('odd'), 'Symbol(odd)'],
    ];
    for (const [value, text, causes = ''] of values)
      for (const mode of ['sync', 'async'] as const) {
        const h = host();
        const answered = callPackage(h, call, () => {
          if (mode === 'sync') throw value;
          return Promise.reject(value);
        });
        const outcome = mode === 'sync' ? answered : await answered;
        assert.ok(!(outcome instanceof Promise));
        assert.equal(outcome.ok, false, `${text}, ${mode}`);
        const f = (outcome as { ok: false; fault: PackageFault }).fault;
        assert.equal(f.code, 'PACKAGE_THREW');
        assert.equal(f.message, `Example: SpInitLsaModeContext threw: ${text}`, mode);
        // Whatever reads the fault afterwards (the LPC reply, the trace) reads it without a throw.
        assert.equal(describeError(f), `PACKAGE_THREW: Example: SpInitLsaModeContext threw: ${text}${causes}`);
        assert.equal(serializeError(f).message, f.message);
        assert.deepEqual(h.points.at(-1), {
          call: 'SpInitLsaModeContext',
          phase: 'return',
          peer: 'client',
          status: 'SEC_E_INTERNAL_ERROR',
          detail: `PACKAGE_THREW: Example: SpInitLsaModeContext threw: ${text}${causes}`,
          ...(packageStack(f) === undefined ? {} : { stack: packageStack(f) }),
        });
      }
  });

  it("keeps a thrown Error as the fault's cause when it and its causes read as plain data; a copy of what can be read otherwise", async () => {
    const inner = new TypeError('inner');
    const plain = new Error('outer', { cause: inner });
    const rejected = await callPackage(host(), call, () => Promise.reject(plain));
    assert.equal((rejected as { ok: false; fault: PackageFault }).fault.cause, plain);
    const thrown = fault(
      callPackage(host(), call, () => {
        throw plain;
      }),
    );
    assert.equal(thrown.cause, plain);
    assert.equal(describeError(thrown), 'PACKAGE_THREW: Example: SpInitLsaModeContext threw: outer <- inner');

    const odd = new Error('odd one', { cause: Object.create(null) });
    const copied = fault(
      callPackage(host(), call, () => {
        throw odd;
      }),
    ).cause as Error;
    assert.notEqual(copied, odd);
    assert.equal(copied.message, 'odd one');
    assert.equal(copied.stack, odd.stack, 'the package frames, as they were');
    assert.equal(copied.cause, 'an object with no prototype');
  });

  it('turns an answer whose then cannot be read, or whose then throws, into PACKAGE_THREW', async () => {
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    const unreadable = fault(callPackage(host(), call, () => revocable.proxy));
    assert.equal(unreadable.code, 'PACKAGE_THREW');
    assert.match(unreadable.message, /^Example: SpInitLsaModeContext threw: TypeError: .*revoked/);
    const thenable = {
      then: (): never => {
        throw Object.create(null);
      },
    };
    const outcome = await callPackage(host(), call, () => thenable as unknown as Promise<number>);
    assert.equal(outcome.ok, false);
    assert.equal((outcome as { ok: false; fault: PackageFault }).fault.message, 'Example: SpInitLsaModeContext threw: an object with no prototype');
  });

  it('treats any thenable as asynchronous', async () => {
    const thenable = { then: (resolve: (v: number) => void) => resolve(7) };
    const outcome = callPackage(host({ deadlineMs: 0 }), call, () => thenable as unknown as Promise<number>);
    assert.ok(outcome instanceof Promise);
    assert.deepEqual(await outcome, { ok: true, value: 7 });
  });
});

describe('badResult', () => {
  it('makes a PACKAGE_BAD_RESULT fault naming the package, the entry point and what it returned', () => {
    const f = badResult({ package: 'Example', entry: 'SpGetInfo' }, 'no PackageInfo');
    assert.ok(f instanceof PackageFault);
    assert.equal(f.code, 'PACKAGE_BAD_RESULT');
    assert.equal(f.name, 'PackageFault');
    assert.equal(f.message, 'Example: SpGetInfo returned no PackageInfo');
  });
});

describe('statusOf', () => {
  it("reads a 32-bit status, bare or as an object's status, signed or unsigned", () => {
    assert.equal(statusOf(0), 0);
    assert.equal(statusOf(0x80090308), 0x80090308);
    assert.equal(statusOf(-2146893048), -2146893048);
    assert.equal(statusOf({ status: 0x00090312, OutputBuffer: [] }), 0x00090312);
  });

  it('reads no status from what `>>> 0` would turn into SEC_E_OK or another status: NaN, infinities, fractions, numbers outside 32 bits', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5, 1.5, 2 ** 32, -(2 ** 31) - 1, 2 ** 53])
      for (const answered of [value, { status: value }]) assert.equal(statusOf(answered), undefined, `${String(value)}`);
  });

  it('reads no status from what is no number: nothing, null, a string, a bigint, an object without one', () => {
    for (const answered of [undefined, null, '0', 0n, {}, { status: '0' }, { status: 0n }]) assert.equal(statusOf(answered), undefined);
  });

  it('reads no status, and throws nothing, from an object whose status cannot be read: a getter that throws, a revoked Proxy', () => {
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    const getter = Object.defineProperty({}, 'status', {
      get: () => {
        throw Object.create(null);
      },
    });
    for (const answered of [getter, revocable.proxy]) assert.equal(statusOf(answered), undefined);
  });
});
