// The secret scan of the check: a password in any encoding a package might use, and the one way
// an explicit password may travel (from a process into the LSA).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findSecret, intoLsa, leaks } from '../../check/secrets.js';
import type { TapRecord } from '../../ipc/index.js';

const SECRET = 'Ck-s3cret';

describe('the secret scan', () => {
  it('finds the password raw, in UTF-16, in hex either case, in base64, and as text inside bytes', () => {
    const forms: unknown[] = [
      { s: `x${SECRET}y` },
      [Buffer.from(SECRET, 'utf16le')],
      { deep: { hex: Buffer.from(SECRET).toString('hex').toUpperCase() } },
      Buffer.from(SECRET).toString('base64'),
      new Uint8Array(Buffer.from(`prefix ${Buffer.from(SECRET).toString('hex')}`)),
    ];
    for (const form of forms) assert.notDeepEqual(findSecret(form, SECRET), [], JSON.stringify(form));
    assert.deepEqual(findSecret({ a: 'Ck-s3cre', b: new Uint8Array(8) }, SECRET), []);
  });

  it('lets the password travel only from a process into the LSA', () => {
    const carrying = { op: 'CopyFromClientBuffer', body: { BufferToCopy: Buffer.from(SECRET, 'utf16le') } };
    const taps: TapRecord[] = [
      { process: 'client', channel: 'lpc:client', direction: 'send', message: carrying },
      { process: 'lsa', channel: 'lpc:client', direction: 'receive', message: carrying },
      { process: 'lsa', channel: 'lpc:server', direction: 'send', message: { op: 'SpAcceptLsaModeContext', body: { ContextData: SECRET } } },
      { process: 'client', channel: 'app:client->svc#1', direction: 'send', message: { kind: 'token', token: Buffer.from(SECRET) } },
    ];
    assert.deepEqual(
      taps.map((t) => intoLsa(t)),
      [true, true, false, false],
    );
    assert.deepEqual(leaks(taps, SECRET), [
      'lsa send on lpc:server (SpAcceptLsaModeContext) at .body.ContextData',
      'client send on app:client->svc#1 at .token',
    ]);
  });
});
