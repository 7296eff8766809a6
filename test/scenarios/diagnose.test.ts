// Reading a run's trace for the package under test: its exceptions with their stacks, and what the
// default apps needed and did not get (a context never mapped into a process, SECPKG_ATTR_SIZES or
// SECPKG_ATTR_NAMES refused).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceEvent } from '../../ipc/index.js';
import { diagnoseRun, formatNeeds } from '../../scenarios/index.js';

let t = 0;
const event = (process: string, call: string, phase: TraceEvent['phase'], fields: Partial<TraceEvent> = {}): TraceEvent => ({
  t: t++,
  process,
  pid: process === 'lsa' ? 0 : process === 'client' ? 1000 : 1004,
  threadId: 1,
  call,
  phase,
  ...fields,
});

describe('diagnoseRun', () => {
  it('finds a process whose context was never mapped, and the attributes a process was refused', () => {
    const events = [
      event('client', 'InitializeSecurityContext', 'return', { status: 'SEC_E_OK' }),
      event('server', 'AcceptSecurityContext', 'return', { status: 'SEC_E_OK' }),
      event('lsa', 'MappedContext', 'event', { peer: 'server' }),
      event('server', 'QueryContextAttributes', 'call', { detail: 'SECPKG_ATTR_NAMES' }),
      event('server', 'QueryContextAttributes', 'return', { status: 'SEC_E_UNSUPPORTED_FUNCTION' }),
      event('server', 'QueryContextAttributes', 'call', { detail: 'SECPKG_ATTR_SIZES' }),
      event('server', 'QueryContextAttributes', 'return', { status: 'SEC_E_OK' }),
      event('client', 'QueryContextAttributes', 'call', { detail: 'SECPKG_ATTR_NAMES' }),
      event('client', 'QueryContextAttributes', 'return', { status: 'SEC_E_INVALID_HANDLE' }),
    ];
    const { lacking, exceptions } = diagnoseRun(events);
    assert.deepEqual(lacking, [
      { need: 'MappedContext', processes: ['client'] },
      { need: 'SECPKG_ATTR_NAMES', processes: ['client', 'server'] },
    ]);
    assert.deepEqual(exceptions, []);
    assert.match(formatNeeds(lacking), /; this package lacked MappedContext \(client\), SECPKG_ATTR_NAMES \(client, server\)$/);
  });

  it("lists each package exception with the process, the entry point, the message and the package's stack", () => {
    const stack = 'Error: boom\n    at SealMessage (file:///pkg/user.js:3:9)';
    const events = [
      event('client', 'SpSealMessage', 'call'),
      event('client', 'SpSealMessage', 'return', { status: 'SEC_E_INTERNAL_ERROR', detail: 'PACKAGE_THREW: P: SpSealMessage threw: boom', stack }),
      event('lsa', 'SpGetInfo', 'return', { status: 'SEC_E_INTERNAL_ERROR', detail: 'PACKAGE_THREW: P: SpGetInfo threw: a bare string' }),
      event('lsa', 'SpInitLsaModeContext', 'return', {
        status: 'SEC_E_INTERNAL_ERROR',
        detail: 'PACKAGE_TIMEOUT: P: SpInitLsaModeContext did not return within 5 ms',
      }),
    ];
    assert.deepEqual(diagnoseRun(events).exceptions, [
      { process: 'client', entry: 'SpSealMessage', message: 'PACKAGE_THREW: P: SpSealMessage threw: boom', stack },
      { process: 'lsa', entry: 'SpGetInfo', message: 'PACKAGE_THREW: P: SpGetInfo threw: a bare string' },
    ]);
  });

  it("lists the package's timeouts and bad results as faults, and a query that timed out is no lack of the attribute", () => {
    const events = [
      event('client', 'InitializeSecurityContext', 'return', { status: 'SEC_E_OK' }),
      event('lsa', 'MappedContext', 'event', { peer: 'client' }),
      event('client', 'QueryContextAttributes', 'call', { detail: 'SECPKG_ATTR_SIZES' }),
      event('client', 'SpQueryContextAttributes', 'return', { status: 'SEC_E_INTERNAL_ERROR', detail: 'PACKAGE_TIMEOUT: P: SpQueryContextAttributes did not return within 5 ms' }),
      event('client', 'QueryContextAttributes', 'return', { status: 'SEC_E_INTERNAL_ERROR' }),
      event('lsa', 'SpDeleteContext', 'return', { status: 'SEC_E_INTERNAL_ERROR', detail: 'PACKAGE_TIMEOUT: P: SpDeleteContext did not return within 5 ms' }),
      event('lsa', 'SpAcceptLsaModeContext', 'return', { status: 'SEC_E_INTERNAL_ERROR', detail: 'PACKAGE_BAD_RESULT: P: SpAcceptLsaModeContext returned a malformed result' }),
    ];
    const { faults, lacking, exceptions } = diagnoseRun(events);
    assert.deepEqual(
      faults.map((f) => [f.process, f.entry]),
      [
        ['client', 'SpQueryContextAttributes'],
        ['lsa', 'SpDeleteContext'],
        ['lsa', 'SpAcceptLsaModeContext'],
      ],
    );
    assert.deepEqual(exceptions, []);
    assert.deepEqual(lacking, [], 'the client queried SIZES and the package timed out: not a lack of it');
  });

  it('says nothing of a run that had what it needed', () => {
    const events = [event('client', 'InitializeSecurityContext', 'return', { status: 'SEC_E_OK' }), event('lsa', 'MappedContext', 'event', { peer: 'client' })];
    assert.deepEqual(diagnoseRun(events), { exceptions: [], faults: [], lacking: [] });
    assert.equal(formatNeeds([]), '');
  });
});
