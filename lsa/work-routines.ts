// The LSA's work routines: the CPU-heavy, stateless package work that CreateThread runs off the
// LSA's dispatch thread (headers/ntsecpkg.ts, LsaWorkRoutines). The pool's threads load this
// module and nothing else: a package names a routine and passes its parameter, never code. A
// package is trusted as a DLL in lsass is, and could run any code on the dispatch thread anyway;
// what a fixed module keeps is that the pool's threads, shared by every package, hold no state
// between tasks and no package's code, so that no package can see another's passwords there, and
// that each parameter is checked once, here, before it crosses.
//
// Only routines that pay for the crossing belong here (`sspi-emu bench`, the pool rows): handing a
// task to a pool thread and taking its answer costs the dispatch thread 0.1 to 0.6 ms, more than
// a dozen HMACs, so PBKDF2 at thousands of iterations (2 ms) pays and an NT hash (one MD4 of a
// password) or a proof check does not.

import { pbkdf2Sync } from 'node:crypto';
import type { LsaWorkRoutine, LsaWorkRoutines, Pbkdf2Parameters } from '../headers/index.js';

/** One task for a pool thread: a routine and its checked parameter (structured-cloneable). */
export type WorkTask = { [R in LsaWorkRoutine]: { routine: R; parameter: LsaWorkRoutines[R]['parameter'] } }[LsaWorkRoutine];

/**
 * What one task may ask, so that every task is finite: a bug in a package cannot tie a pool thread
 * up for minutes (a million PBKDF2-SHA256 iterations take about half a second here). The byte
 * bounds lie far past what a call brings into the LSA (2 MiB of buffers), so that no password a
 * process can send is refused here.
 */
export const WORK_LIMITS = { passwordBytes: 16 << 20, saltBytes: 16 << 20, iterations: 1_000_000, derivedKeyBytes: 1024 } as const;

const PRF_DIGESTS: ReadonlyMap<string, string> = new Map([
  ['SHA1', 'sha1'],
  ['SHA256', 'sha256'],
  ['SHA384', 'sha384'],
  ['SHA512', 'sha512'],
]);

/** The routines, by name; a null-prototype record, so that `__proto__` or `constructor` names nothing. */
const ROUTINES: { readonly [R in LsaWorkRoutine]: (parameter: LsaWorkRoutines[R]['parameter']) => LsaWorkRoutines[R]['output'] } = Object.assign(
  Object.create(null) as object,
  {
    BCryptDeriveKeyPBKDF2: (p: Pbkdf2Parameters): Uint8Array =>
      new Uint8Array(pbkdf2Sync(p.Password, p.Salt, p.Iterations, p.DerivedKeyLength, PRF_DIGESTS.get(p.Prf)!)),
  },
);

function isBytes(value: unknown, max: number): value is Uint8Array {
  return value instanceof Uint8Array && value.byteLength <= max;
}

function isCount(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= max;
}

/**
 * The task for a routine and parameter as a package passed them, with private copies of its
 * buffers (the package may change or wipe its own meanwhile), or why it is not one.
 */
export function checkWorkTask(routine: unknown, parameter: unknown): WorkTask | string {
  if (routine !== 'BCryptDeriveKeyPBKDF2') return `no work routine ${JSON.stringify(String(routine)).slice(0, 80)}`;
  if (typeof parameter !== 'object' || parameter === null) return `${routine}: the parameter is not an object`;
  const { Prf, Password, Salt, Iterations, DerivedKeyLength } = parameter as Partial<Record<keyof Pbkdf2Parameters, unknown>>;
  if (typeof Prf !== 'string' || !PRF_DIGESTS.has(Prf)) return `${routine}: Prf must be SHA1, SHA256, SHA384 or SHA512`;
  if (!isBytes(Password, WORK_LIMITS.passwordBytes)) return `${routine}: Password must be a Uint8Array of at most ${WORK_LIMITS.passwordBytes} bytes`;
  if (!isBytes(Salt, WORK_LIMITS.saltBytes)) return `${routine}: Salt must be a Uint8Array of at most ${WORK_LIMITS.saltBytes} bytes`;
  if (!isCount(Iterations, WORK_LIMITS.iterations)) return `${routine}: Iterations must be a whole number from 1 to ${WORK_LIMITS.iterations}`;
  if (!isCount(DerivedKeyLength, WORK_LIMITS.derivedKeyBytes))
    return `${routine}: DerivedKeyLength must be a whole number from 1 to ${WORK_LIMITS.derivedKeyBytes}`;
  return {
    routine,
    parameter: { Prf: Prf as Pbkdf2Parameters['Prf'], Password: Uint8Array.from(Password), Salt: Uint8Array.from(Salt), Iterations, DerivedKeyLength },
  };
}

/** Runs one checked task, in whatever thread calls it (a pool thread, or the dispatch thread when the pool is off). */
export function runWorkTask(task: WorkTask): Uint8Array {
  return ROUTINES[task.routine](task.parameter);
}

/** Wipes the secrets a task carried, once it ran (the copies checkWorkTask made, or their clones on a pool thread). */
export function wipeWorkTask(task: WorkTask): void {
  task.parameter.Password.fill(0);
}
