// The LSA's work routines (lsa/work-routines.ts), in this thread: PBKDF2 against published
// vectors, and what checkWorkTask refuses before anything crosses to a pool thread.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkWorkTask, runWorkTask, wipeWorkTask, WORK_LIMITS, type WorkTask } from '../../lsa/work-routines.js';
import { pbkdf2Task, SCRAM_VECTOR } from '../helpers/work.js';

const text = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'utf8'));
const task = (parameter: Record<string, unknown>): WorkTask => pbkdf2Task(parameter);

describe('the LSA work routines', () => {
  it('derive PBKDF2-HMAC-SHA256 as RFC 7677 (4096 iterations) and PBKDF2-HMAC-SHA1 as RFC 3962 B', () => {
    assert.equal(Buffer.from(runWorkTask(task({}))).toString('hex'), SCRAM_VECTOR.key);
    const sha1 = { Prf: 'SHA1', Password: text('password'), Salt: text('ATHENA.MIT.EDUraeburn'), Iterations: 1, DerivedKeyLength: 32 };
    assert.equal(Buffer.from(runWorkTask(task(sha1))).toString('hex'), 'cdedb5281bb2f801565a1122b25635150ad1f7a04bb9f3a333ecc0e2e1f70837');
  });

  it("copies the package's buffers: a change to them after the check changes nothing, and wiping the task leaves them alone", () => {
    const password = text('pencil');
    const checked = task({ Password: password });
    password.fill(0x41);
    assert.equal(Buffer.from(runWorkTask(checked)).toString('hex'), SCRAM_VECTOR.key);
    const again = text('pencil');
    const other = task({ Password: again });
    wipeWorkTask(other);
    assert.deepEqual(other.parameter.Password, new Uint8Array(6));
    assert.equal(Buffer.from(again).toString(), 'pencil');
  });

  it('refuses a routine it does not have, whatever its name, and a parameter that is not one', () => {
    for (const name of ['CreateProcess', '__proto__', 'constructor', 'toString', 42, null])
      assert.match(String(checkWorkTask(name, SCRAM_VECTOR.parameter)), /^no work routine/, String(name));
    assert.equal(checkWorkTask('BCryptDeriveKeyPBKDF2', null), 'BCryptDeriveKeyPBKDF2: the parameter is not an object');
  });

  it('refuses each field out of its type or bounds, naming it', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['Prf', { Prf: 'MD5' }],
      ['Prf', { Prf: 'sha256' }],
      ['Password', { Password: 'pencil' }],
      ['Password', { Password: new Uint8Array(WORK_LIMITS.passwordBytes + 1) }],
      ['Salt', { Salt: [1, 2, 3] }],
      ['Iterations', { Iterations: 0 }],
      ['Iterations', { Iterations: 1.5 }],
      ['Iterations', { Iterations: WORK_LIMITS.iterations + 1 }],
      ['DerivedKeyLength', { DerivedKeyLength: 0 }],
      ['DerivedKeyLength', { DerivedKeyLength: WORK_LIMITS.derivedKeyBytes + 1 }],
    ];
    for (const [field, change] of cases) {
      const reason = checkWorkTask('BCryptDeriveKeyPBKDF2', { ...SCRAM_VECTOR.parameter, ...change });
      assert.equal(typeof reason, 'string', field);
      assert.match(reason as string, new RegExp(`^BCryptDeriveKeyPBKDF2: ${field} `), field);
    }
  });
});
