// Coded errors cross a port as plain objects and come back as the same classes: serializeError,
// a structured clone (what postMessage does), then rebuildError.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SspiEmuError, TransportError, describeError, rebuildError, serializeError, type SerializedError } from '../../ipc/errors.js';

/** What the far side of a port sees. */
const acrossPort = (error: unknown): Error => rebuildError(structuredClone(serializeError(error)));

describe('serializeError', () => {
  it('keeps the name, code, message, stack and cause of a TransportError', () => {
    const inner = new Error('the inner failure');
    const error = new TransportError('PEER_GONE', 'the peer went away', { cause: inner });
    const s = serializeError(error);
    assert.equal(s.name, 'TransportError');
    assert.equal(s.code, 'PEER_GONE');
    assert.equal(s.message, 'the peer went away');
    assert.equal(s.stack, error.stack);
    assert.deepEqual({ name: s.cause?.name, message: s.cause?.message, code: s.cause?.code }, { name: 'Error', message: 'the inner failure', code: undefined });
  });

  it('turns a thrown non-Error into an Error named by its string form', () => {
    assert.deepEqual(serializeError('plain text'), { name: 'Error', message: 'plain text' });
    assert.deepEqual(serializeError(42), { name: 'Error', message: '42' });
    assert.deepEqual(serializeError(undefined), { name: 'Error', message: 'undefined' });
  });

  it('stops a cause chain at five levels, so a cause cycle cannot loop forever', () => {
    const cyclic = new Error('me again');
    (cyclic as { cause?: unknown }).cause = cyclic;
    let levels = 0;
    for (let s: SerializedError | undefined = serializeError(cyclic); s !== undefined; s = s.cause) levels++;
    assert.equal(levels, 5);
  });

  it('gives a form that survives a structured clone unchanged', () => {
    const s = serializeError(new SspiEmuError('SPAWN_FAILED', 'no worker', { cause: new TypeError('bad spec') }));
    assert.deepEqual(structuredClone(s), s);
  });
});

describe('rebuildError', () => {
  it('rebuilds a TransportError with its class, code, message and stack', () => {
    const original = new TransportError('TIMEOUT', 'no reply within 5 ms');
    const rebuilt = acrossPort(original);
    assert.ok(rebuilt instanceof TransportError);
    assert.equal(rebuilt.code, 'TIMEOUT');
    assert.equal(rebuilt.message, 'no reply within 5 ms');
    assert.equal(rebuilt.name, 'TransportError');
    assert.equal(rebuilt.stack, original.stack);
  });

  it('rebuilds an SspiEmuError with its class and code', () => {
    const rebuilt = acrossPort(new SspiEmuError('BOOT_FAILED', 'the LSA did not start'));
    assert.ok(rebuilt instanceof SspiEmuError);
    assert.equal(rebuilt.code, 'BOOT_FAILED');
    assert.equal(rebuilt.message, 'the LSA did not start');
  });

  it('rebuilds a whole cause chain, each link with its own class and code', () => {
    const chain = new TransportError('REMOTE_FAILURE', 'outer', {
      cause: new Error('plain', {
        cause: new SspiEmuError('APP_FAILED', 'coded', { cause: Object.assign(new RangeError('innermost'), { code: 'ERR_OUT_OF_RANGE' }) }),
      }),
    });
    const outer = acrossPort(chain);
    assert.ok(outer instanceof TransportError);
    const plain = outer.cause;
    assert.ok(plain instanceof Error && !(plain instanceof TransportError));
    assert.equal(plain.message, 'plain');
    const coded = plain.cause;
    assert.ok(coded instanceof SspiEmuError);
    assert.equal(coded.code, 'APP_FAILED');
    assert.equal(coded.message, 'coded');
    const innermost = coded.cause as Error & { code?: string };
    assert.ok(innermost instanceof Error);
    assert.equal(innermost.name, 'RangeError');
    assert.equal(innermost.code, 'ERR_OUT_OF_RANGE');
    assert.equal(innermost.message, 'innermost');
    assert.equal(innermost.cause, undefined);
  });

  it('does not make a TransportError or SspiEmuError of a serialized form whose code is not one of theirs', () => {
    const forgedTransport = rebuildError({ name: 'TransportError', code: 'NOT_A_CODE', message: 'forged' });
    assert.ok(!(forgedTransport instanceof TransportError));
    assert.equal(forgedTransport.name, 'TransportError');
    assert.equal((forgedTransport as { code?: string }).code, 'NOT_A_CODE');
    const codeless = rebuildError({ name: 'SspiEmuError', message: 'no code' });
    assert.ok(!(codeless instanceof SspiEmuError));
    assert.equal(codeless.message, 'no code');
  });
});

describe('describeError', () => {
  it('spells an error and its causes on one line, each with its code', () => {
    const error = new TransportError('REMOTE_FAILURE', 'SpInitLsaModeContext failed in the peer', {
      cause: new SspiEmuError('APP_FAILED', 'the app threw', { cause: new Error('disk on fire') }),
    });
    assert.equal(describeError(error), 'REMOTE_FAILURE: SpInitLsaModeContext failed in the peer <- APP_FAILED: the app threw <- disk on fire');
  });

  it('ends the line with a cause that is not an Error, in its string form', () => {
    assert.equal(describeError(new Error('outer', { cause: 'a string cause' })), 'outer <- a string cause');
    assert.equal(describeError('thrown text'), 'thrown text');
  });

  it('says a cause cycle once, and stops', () => {
    const cyclic = new TransportError('TIMEOUT', 'again');
    (cyclic as { cause?: unknown }).cause = cyclic;
    assert.equal(describeError(cyclic), 'TIMEOUT: again');
  });

  it('never says a thing twice: a code the message starts with, a cause the message already holds', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'x.js'"), { code: 'ENOENT' });
    assert.equal(describeError(enoent), "ENOENT: no such file or directory, open 'x.js'");
    const inner = new Error('kaboom');
    const outer = new TransportError('REMOTE_FAILURE', 'Example: SpGetInfo threw: kaboom', { cause: inner });
    assert.equal(describeError(outer), 'REMOTE_FAILURE: Example: SpGetInfo threw: kaboom');
  });
});
