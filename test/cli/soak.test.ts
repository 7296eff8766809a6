// `sspi-emu soak`'s usage errors: a --package it does not soak is refused at once, naming the ones
// it does, before any machine boots.

import { describe, it } from 'node:test';
import { assertUsageError, sspiEmu } from '../helpers/cli.js';

describe('sspi-emu soak: usage errors', () => {
  for (const pkg of ['kerberos', 'Kerberos', 'bogus']) {
    it(`refuses --package ${pkg}, naming the packages it soaks`, async () => {
      const r = await sspiEmu(['soak', '--package', pkg, '--duration', '2'], { timeoutMs: 5_000 });
      assertUsageError(r, 'soak', new RegExp(`^sspi-emu soak: --package is one of example, ntlm, negotiate, null, or a package module's path, not "${pkg}"$`));
    });
  }
});
