// The LSA work routines' test data: a PBKDF2 vector from the reference, and checked tasks of it.

import { checkWorkTask, type WorkTask } from '../../lsa/work-routines.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/** ../shared/reference/test-vectors.md section 6 (RFC 7677's SCRAM-SHA-256 example): SaltedPassword = PBKDF2-HMAC-SHA256. */
export const SCRAM_VECTOR = {
  parameter: {
    Prf: 'SHA256',
    Password: Uint8Array.from(Buffer.from('pencil')),
    Salt: hex('5b6d99689d12358eeca04b141236fa81'),
    Iterations: 4096,
    DerivedKeyLength: 32,
  },
  key: 'c4a49510323ab4f952cac1fa99441939e78ea74d6be81ddf7096e87513dc615d',
} as const;

/** A checked BCryptDeriveKeyPBKDF2 task of the vector, with `change` applied; throws when the check refuses it. */
export function pbkdf2Task(change: Record<string, unknown> = {}): WorkTask {
  const checked = checkWorkTask('BCryptDeriveKeyPBKDF2', { ...SCRAM_VECTOR.parameter, ...change });
  if (typeof checked === 'string') throw new Error(checked);
  return checked;
}
