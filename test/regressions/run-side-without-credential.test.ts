// `sspi-emu run` hung forever when the client's AcquireCredentialsHandle failed: the client app
// returned without connecting and the server app waited in accept, which has no deadline. When the
// server's failed, the client waited out its 10 s connect deadline and learned only that nothing
// monitored the name. Now a client without a credential connects and says so, and a server without
// one monitors its name and refuses each client with its status: both runs end at once, the side
// without a credential named first, the other side told why.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDemo } from '../../scenarios/index.js';
import { fixturePackage } from '../helpers/machine.js';

const packages = ['example', fixturePackage('no-credential')];

describe('a run where one side gets no credential', () => {
  it('ends when the client has none: the client named first, the server told the client abandoned', { timeout: 60_000 }, async () => {
    const report = await runDemo({ packages, package: 'NoOutbound', trace: false });
    assert.equal(report.statusName, 'SEC_E_NO_CREDENTIALS');
    assert.equal(report.failedFirst, 'client');
    assert.match(report.client?.detail ?? '', /AcquireCredentialsHandle\(NoOutbound\) failed/);
    assert.equal(report.server?.statusName, 'SEC_E_NO_CREDENTIALS');
    assert.equal(report.server?.detail, 'the client abandoned the handshake');
  });

  it("ends when the server has none: the server named first, the client refused with the server's status", { timeout: 60_000 }, async () => {
    const report = await runDemo({ packages, package: 'NoInbound', trace: false });
    assert.equal(report.statusName, 'SEC_E_NO_CREDENTIALS');
    assert.equal(report.failedFirst, 'server');
    assert.match(report.server?.detail ?? '', /AcquireCredentialsHandle\(NoInbound\) failed/);
    assert.equal(report.client?.statusName, 'SEC_E_NO_CREDENTIALS');
    assert.equal(report.client?.detail, 'the server rejected the handshake');
  });
});
