// Regression (found by `sspi-emu fuzz --package kerberos`, kerberos/kdc-reply, a rogue KDC answering
// the client): the Kerberos client took an AS-REP or TGS-REP whose cname or crealm named another
// client (RFC 4120 3.1.5 and 3.3.4 say to check them; MIT answers KRB5_KDCREP_MODIFIED), and cached
// its ticket as the caller's; it threw (SEC_E_INTERNAL_ERROR) on a reply whose session key had the
// wrong length for its etype, at the key's first use; and on an ETYPE-INFO2 asking for 16,777,215
// string-to-key iterations, which its codec allowed and the LSA work pool refuses. Here each of the
// forgeries a rogue KDC can make (fuzz/kerberos-rogue-kdc.ts FORCEABLE) goes to a machine whose
// Kerberos package asks that KDC: the ones that do not answer the request must be refused and leave
// nothing in the cache (a second call, with the rogue refusing everything, must fail too, and no
// ticket of the refused reply may come back to the KDC); the others must get a documented refusal.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ISC_REQ, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { FORCEABLE_MUST_REJECT, RogueControl, RogueKdc, ROGUE_PASSWORD, rogueTarget, rogueUser } from '../../fuzz/kerberos-rogue-kdc.js';
import { Machine } from '../../machine/machine.js';

const REALM = 'ROGUE.EXAMPLE.TEST';

describe('regression: the Kerberos client refuses KDC replies that do not answer its request', { timeout: 120_000 }, () => {
  let rogue: RogueKdc;
  let control: RogueControl;
  let machine: Machine;
  before(async () => {
    // Nobody but the lane users is asked for here: the relay's upstream is a port nothing listens on.
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

  /** One exchange with the forgery `force`: the call's status, the probe's, and what the rogue saw. */
  async function exchange(force: string | undefined): Promise<{ status: string; probe: string | undefined; mutation: string; taintedUse: string[] }> {
    const proc = await machine.spawn('client');
    try {
      const out = await proc.sspi.acquireCredentialsHandle({
        package: 'Kerberos',
        credentialUse: SECPKG_CRED.OUTBOUND,
        authData: { User: rogueUser(0), Domain: '', Password: ROGUE_PASSWORD },
      });
      assert.equal(statusName(out.status), 'SEC_E_OK');
      await control.arm(0, 7, force);
      const call = () => proc.sspi.initializeSecurityContext({ credential: out.credential!, targetName: rogueTarget(0), contextReq: ISC_REQ.CONNECTION });
      const first = await call();
      const report = await control.report(0);
      const probe = first.status === 0 ? undefined : statusName((await call()).status);
      const taintedUse = await control.release(0);
      await proc.sspi.freeCredentialsHandle(out.credential!);
      return { status: statusName(first.status), probe, mutation: report?.mutation ?? '', taintedUse };
    } finally {
      await machine.kill(proc);
    }
  }

  it('completes with the real replies (the rogue KDC makes them right)', async () => {
    const got = await exchange('tgs-rep:valid');
    assert.equal(got.status, 'SEC_E_OK', got.mutation);
  });

  for (const force of FORCEABLE_MUST_REJECT) {
    it(`refuses ${force} and keeps nothing of it`, async () => {
      const got = await exchange(force);
      assert.match(got.mutation, /must be refused/);
      assert.notEqual(got.status, 'SEC_E_OK', got.mutation);
      assert.notEqual(got.probe, 'SEC_E_OK', `the next call completed from the refused reply's ticket (${got.mutation})`);
      assert.deepEqual(got.taintedUse, []);
    });
  }

  it('refuses a session key of the wrong length for its etype as a reply it cannot use, not an internal error', async () => {
    const got = await exchange('tgs-rep:short-session-key');
    assert.match(got.mutation, /session key: short/);
    assert.equal(got.status, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', got.mutation);
  });

  it('refuses string-to-key parameters past the work pool limit as the KDC refusing the logon, not an internal error', async () => {
    const got = await exchange('as-error:s2k-16777215');
    assert.match(got.mutation, /00ffffff/);
    assert.equal(got.status, 'SEC_E_LOGON_DENIED', got.mutation);
  });
});
