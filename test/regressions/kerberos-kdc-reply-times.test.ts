// Regression (found by `sspi-emu fuzz --package kerberos`, kerberos/kdc-reply, a rogue KDC answering
// the client): the Kerberos client took AS-REPs and TGS-REPs whose times MIT's client refuses
// (verify_as_reply, krb5int_process_tgs_reply): an endtime past the till it asked for, a renew-till
// past what it asked for, an authtime or a starttime outside the clock skew (a postdated ticket it
// never asked for), a ticket already over, and cached their tickets. Here each time forgery the
// rogue KDC makes (fuzz/kerberos-rogue-replies.ts FORCEABLE_TIMES) goes to a machine whose Kerberos
// package asks that KDC: each must be refused with its status (SEC_E_TIME_SKEW for the clock,
// SEC_E_NO_AUTHENTICATING_AUTHORITY for a reply that does not answer the request, as for a forged
// cname) and leave nothing in the cache (a second call, with the rogue refusing everything, must
// fail too, and no ticket of the refused reply may come back to the KDC).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ISC_REQ, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { RogueControl, RogueKdc, ROGUE_PASSWORD, rogueTarget, rogueUser } from '../../fuzz/kerberos-rogue-kdc.js';
import { FORCEABLE_TIMES } from '../../fuzz/kerberos-rogue-replies.js';
import { Machine } from '../../machine/machine.js';

const REALM = 'ROGUE.EXAMPLE.TEST';

/** The status each forgery gets: the clock's refusals, and the TGS-REP's authtime, which must be the TGT's rather than near the clock. */
function expected(force: string): string {
  if (force.endsWith(':times-not-yet-valid') || force === 'as-rep:times-authtime-far') return 'SEC_E_TIME_SKEW';
  return 'SEC_E_NO_AUTHENTICATING_AUTHORITY';
}

describe('regression: the Kerberos client refuses KDC replies whose times it did not ask for', { timeout: 180_000 }, () => {
  let rogue: RogueKdc;
  let control: RogueControl;
  let machine: Machine;
  before(async () => {
    // Nobody but the lane user is asked for here: the relay's upstream is a port nothing listens on.
    rogue = await RogueKdc.start({ realm: REALM, upstream: { host: '127.0.0.1', port: 9 }, lanes: 1 });
    control = await RogueControl.connect(rogue.address.host, rogue.address.controlPort);
    machine = await Machine.boot({
      packages: ['kerberos'],
      trace: false,
      packageSettings: { kerberos: { realm: REALM, kdc: `127.0.0.1:${rogue.address.port}` } },
    });
  });
  after(async () => {
    await machine?.shutdown();
    control?.close();
    await rogue?.close();
  });

  it('covers every time forgery, on both replies', () => {
    assert.equal(FORCEABLE_TIMES.length, 18);
    for (const step of ['as-rep', 'tgs-rep'])
      for (const what of ['end-past-till', 'renew-past-till', 'authtime-far', 'not-yet-valid', 'expired'])
        assert.ok(FORCEABLE_TIMES.includes(`${step}:times-${what}`), `${step}:times-${what}`);
  });

  for (const force of FORCEABLE_TIMES) {
    it(`refuses ${force} with ${expected(force)} and keeps nothing of it`, async () => {
      const proc = await machine.spawn('client');
      try {
        const out = await proc.sspi.acquireCredentialsHandle({
          package: 'Kerberos',
          credentialUse: SECPKG_CRED.OUTBOUND,
          authData: { User: rogueUser(0), Domain: '', Password: ROGUE_PASSWORD },
        });
        assert.equal(statusName(out.status), 'SEC_E_OK');
        await control.arm(0, 11, force);
        const call = () => proc.sspi.initializeSecurityContext({ credential: out.credential!, targetName: rogueTarget(0), contextReq: ISC_REQ.CONNECTION });
        const first = await call();
        const report = await control.report(0);
        assert.match(report?.mutation ?? '', /must be refused: times: /);
        assert.equal(report?.mustReject, true);
        assert.equal(statusName(first.status), expected(force), report?.mutation);
        const probe = await call();
        assert.notEqual(statusName(probe.status), 'SEC_E_OK', `the next call completed from the refused reply's ticket (${report?.mutation})`);
        assert.deepEqual(await control.release(0), []);
        await proc.sspi.freeCredentialsHandle(out.credential!);
      } finally {
        await machine.kill(proc);
      }
    });
  }
});
