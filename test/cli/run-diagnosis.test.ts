// What `sspi-emu run` says when a package lacks what the default apps need: the status that failed
// first (the client's, not the server's SEC_E_INTERNAL_ERROR after the client hung up), and one
// line naming what the apps need and what this package lacked. The fixtures are the example
// package without SECPKG_ATTR_SIZES, without SECPKG_ATTR_NAMES, and without MappedContext.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixturePackage } from '../helpers/machine.js';
import { sspiEmu } from '../helpers/cli.js';

const NEEDS =
  'the default apps need from a package: MappedContext = TRUE with ContextData on the final leg (they sign and seal in their own process), ' +
  "SECPKG_ATTR_SIZES (buffer sizes for EncryptMessage and MakeSignature) and SECPKG_ATTR_NAMES (the user's name) in its user-mode " +
  'QueryContextAttributes; this package lacked ';

/** The summary of `run --quiet`: every line but the LPC count. */
async function summary(fixture: string, name: string): Promise<{ code: number | null; lines: string[] }> {
  const { code, stdout, stderr } = await sspiEmu(['run', '--quiet', '--messages', '1', '--load', fixturePackage(fixture), '--package', name]);
  assert.equal(stderr, '');
  const lines = stdout.trimEnd().split('\n');
  assert.match(lines.pop()!, /^LPC messages: /);
  return { code, lines };
}

describe("run's summary for a package that lacks what the default apps need", { timeout: 120_000 }, () => {
  it("without MappedContext: the client's SEC_E_INVALID_HANDLE first, then the server, and the line naming MappedContext", async () => {
    const { code, lines } = await summary('no-mapped', 'NoMapped');
    assert.equal(code, 1);
    assert.match(lines[0]!, /^SEC_E_INVALID_HANDLE: client: EncryptMessage failed; then server: SEC_E_INTERNAL_ERROR: the client hung up: /);
    assert.deepEqual(lines.slice(1), [NEEDS + 'MappedContext (client, server)']);
  });

  it("without SECPKG_ATTR_SIZES: the client's SEC_E_BUFFER_TOO_SMALL first, and the line naming SECPKG_ATTR_SIZES", async () => {
    const { code, lines } = await summary('no-sizes', 'NoSizes');
    assert.equal(code, 1);
    assert.match(lines[0]!, /^SEC_E_BUFFER_TOO_SMALL: client: EncryptMessage failed; then server: SEC_E_INTERNAL_ERROR: the client hung up: /);
    assert.deepEqual(lines.slice(1), [NEEDS + 'SECPKG_ATTR_SIZES (client, server)']);
  });

  it('without SECPKG_ATTR_NAMES: success, as "?", and the line naming SECPKG_ATTR_NAMES', async () => {
    const { code, lines } = await summary('no-names', 'NoNames');
    assert.equal(code, 0);
    assert.deepEqual(lines, ['SEC_E_OK: authenticated as ?; 1 sealed and 1 signed messages verified', NEEDS + 'SECPKG_ATTR_NAMES (client, server)']);
  });

  it('with everything: no such line', async () => {
    const { stdout } = await sspiEmu(['run', '--quiet', '--messages', '1']);
    assert.deepEqual(stdout.trimEnd().split('\n').length, 2, stdout);
  });

  it('carries the same in --json: the status that failed first, whose, and what was lacking', async () => {
    const { code, stdout } = await sspiEmu(['run', '--json', '--messages', '1', '--load', fixturePackage('no-mapped'), '--package', 'NoMapped']);
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as {
      status: string;
      failedFirst: string;
      server: { statusName: string; afterPeer?: boolean };
      client: { statusName: string; afterPeer?: boolean };
      lacking: unknown;
      needs: string;
      exceptions: unknown[];
    };
    assert.equal(report.status, 'SEC_E_INVALID_HANDLE');
    assert.equal(report.failedFirst, 'client');
    assert.equal(report.server.statusName, 'SEC_E_INTERNAL_ERROR');
    assert.equal(report.server.afterPeer, true);
    assert.equal(report.client.afterPeer, undefined);
    assert.deepEqual(report.lacking, [{ need: 'MappedContext', processes: ['client', 'server'] }]);
    assert.equal(report.needs, NEEDS + 'MappedContext (client, server)');
    assert.deepEqual(report.exceptions, []);
  });
});
