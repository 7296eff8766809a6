// `sspi-emu fuzz --generator`: a name that is no generator of the packages and target is a usage
// error listing the ones that are (their own and the generic ones), before anything is fuzzed.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatorsFor } from '../../fuzz/index.js';
import { assertUsageError, sspiEmu } from '../helpers/cli.js';

/** The names `known: ...` lists in a usage error's line. */
function known(stderr: string): string[] {
  const match = /\(known: (.*)\)$/m.exec(stderr);
  assert.ok(match !== null, stderr);
  return match[1]!.split(', ');
}

describe('sspi-emu fuzz --generator: usage errors', () => {
  it('names every generator of the packages and target when the name is none of them', async () => {
    const r = await sspiEmu(['fuzz', '--generator', 'bogus', '--iterations', '5']);
    assertUsageError(r, 'fuzz', /^sspi-emu fuzz: no generator "bogus" for these packages and target \(known: .+\)$/);
    const expected = new Set(
      (['ntlm', 'example', 'negotiate', 'kerberos', 'generic'] as const).flatMap((set) => generatorsFor(set, ['tokens', 'messages']).map((g) => g.name)),
    );
    assert.deepEqual(new Set(known(r.stderr)), expected);
  });

  it('lists only what the package and target have', async () => {
    const r = await sspiEmu(['fuzz', '--package', 'ntlm', '--target', 'tokens', '--generator', 'ntlm/bogus']);
    assertUsageError(r, 'fuzz', /no generator "ntlm\/bogus"/);
    const expected = [...generatorsFor('ntlm', ['tokens']), ...generatorsFor('generic', ['tokens'])].map((g) => g.name);
    assert.ok(expected.length > 0);
    assert.deepEqual(new Set(known(r.stderr)), new Set(expected));
    // --generic: the generic ones alone.
    const generic = await sspiEmu(['fuzz', '--package', 'ntlm', '--generic', '--generator', 'ntlm/authenticate']);
    assertUsageError(generic, 'fuzz', /no generator "ntlm\/authenticate"/);
    assert.deepEqual(new Set(known(generic.stderr)), new Set(generatorsFor('generic', ['tokens', 'messages']).map((g) => g.name)));
  });
});
