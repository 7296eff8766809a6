// --account USER:PASSWORD or DOMAIN\USER:PASSWORD, as run, run --domain, serve and dc take it: a
// malformed one (no colon, an empty user name, an empty domain) is the same usage error on each,
// said before any machine boots, not a failed boot.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertUsageError, sspiEmu } from '../helpers/cli.js';

const COMMANDS: ReadonlyArray<{ command: string; args: string[] }> = [
  { command: 'run', args: ['run'] },
  { command: 'run', args: ['run', '--domain', '--quiet'] },
  { command: 'serve', args: ['serve', '--http', '--port', '0'] },
  { command: 'dc', args: ['dc', '--realm', 'EXAMPLE.TEST', '--port', '0'] },
];

const MALFORMED: ReadonlyArray<[spec: string, why: string]> = [
  ['alice', ''],
  [':x', ': the user name is empty'],
  ['CORP\\:pw', ': the user name is empty'],
  ['\\alice:pw', ': the domain is empty'],
];

describe('--account: usage errors', { timeout: 120_000 }, () => {
  for (const { command, args } of COMMANDS) {
    it(`${args.join(' ')} refuses a malformed --account with exit 2 and the forms it takes`, async () => {
      await Promise.all(
        MALFORMED.map(async ([spec, why]) => {
          const r = await sspiEmu([...args, '--account', 'bob:Hunter2hunter2', '--account', spec], { timeoutMs: 60_000 });
          assertUsageError(r, command);
          assert.equal(
            r.stderr.split('\n')[0],
            `sspi-emu ${command}: --account ${JSON.stringify(spec)} is not USER:PASSWORD or DOMAIN\\USER:PASSWORD${why}`,
            `${args.join(' ')} --account ${spec}`,
          );
        }),
      );
    });
  }
});
