// Found writing a package outside the tree: `sspi-emu bench` with a package whose
// SpInitLsaModeContext never answers exited 0 at once, printing nothing, and wrote no JSON. Its
// in-process baseline calls the package directly (no LSA, so no deadline), the promise never
// settled, nothing else was left to wait for, and Node exited with the command still pending. A
// command that ends so now says so and exits 1.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sspiEmu } from '../helpers/cli.js';
import { fixturePackage } from '../helpers/machine.js';

describe('a command whose work can never finish', () => {
  it('bench with a package that never answers: exit 1, saying the command stopped before it finished', { timeout: 60_000 }, async () => {
    const r = await sspiEmu(['bench', '--quick', '--load', fixturePackage('hanger'), '--package', 'Hanger', '--concurrency', '1', '--clients', '1']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^sspi-emu: the command stopped before it finished: nothing it waits for can happen any more \(a promise that never settles/m);
  });
});
