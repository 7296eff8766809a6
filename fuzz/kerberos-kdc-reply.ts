// kerberos/kdc-reply: the client side of the KDC exchanges under a rogue KDC (fuzz/kerberos-rogue-kdc.ts,
// which the runner starts and gives the fuzzed machine as its KDC). Each input, on its lane:
//
//   1. AcquireCredentialsHandle with the lane user's explicit credentials (a fresh identity: an
//      empty ticket cache, no salt learnt yet);
//   2. the rogue KDC armed with the input's seed: one reply of the exchange will be hostile;
//   3. InitializeSecurityContext for the lane's service: the package sends AS-REQ, AS-REQ with
//      PA-ENC-TIMESTAMP and TGS-REQ, and gets the hostile reply where it was planned (judged);
//   4. what the rogue sent; then, if the call did not complete, InitializeSecurityContext again on
//      the same credential while the rogue refuses every request (the probe): it may complete only
//      from a ticket the package kept, and no ticket of a reply it had to refuse may come back to the
//      KDC;
//   5. the contexts deleted, the credential freed.
//
// Expectations besides a documented answer: the real reply in a valid framing completes (SEC_E_OK);
// a reply that never comes whole over TCP (a lying length prefix, cut off, closed, reset, silent)
// ends the call with SEC_E_NO_AUTHENTICATING_AUTHORITY;
// a reply whose nonce, client, service or realms are not the request's, or whose enc-part is under
// another key or key usage, or whose times the request did not ask for or are outside the client's
// clock skew (RFC 4120 3.1.5, 3.3.4: an endtime past the till, a renew-till past what was asked, a
// starttime or AS authtime far from the clock, a TGS-REP authtime not the TGT's, a ticket already
// over), or a replayed one, never completes the call, and no ticket of it is kept
// (the probe neither completes nor presents it); no call outlives the package's KDC deadline
// (kdcTimeoutMs) by more than HANG_MARGIN_MS.

import { performance } from 'node:perf_hooks';
import { SECPKG_CRED, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_OK, statusName } from '../headers/index.js';
import { CLIENT_REQ, dropContext, type FuzzEnv, type GeneratorSpec, type Trial } from './generator.js';
import { RogueControl, ROGUE_PASSWORD, rogueTarget, rogueUser } from './kerberos-rogue-kdc.js';
import type { Rng } from './rng.js';

/** The fuzzed machine's kdcTimeoutMs (the package's default, which the runner keeps). */
export const KDC_DEADLINE_MS = 5000;
/**
 * How far past the deadline a call may end before it counts as a hang: the deadline covers the
 * KDC conversation; the call's own work (string-to-key, LPC) and a loaded machine come on top.
 */
export const HANG_MARGIN_MS = 4000;

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

async function kdcReplyInput(env: FuzzEnv, control: RogueControl, rng: Rng, lane: number, trial: Trial): Promise<void> {
  const { sspi } = env;
  const acquired = await sspi.acquireCredentialsHandle({
    package: env.packageName,
    credentialUse: SECPKG_CRED.OUTBOUND,
    authData: { User: rogueUser(lane), Domain: '', Password: ROGUE_PASSWORD },
  });
  if (acquired.credential === undefined) {
    trial.hostile('setup', new Uint8Array(0), "the lane user's AcquireCredentialsHandle");
    trial.violations.push(`AcquireCredentialsHandle for ${rogueUser(lane)}: ${statusName(acquired.status)}`);
    return;
  }
  const credential = acquired.credential;
  try {
    await control.arm(lane, rng.next());
    const began = performance.now();
    const first = await sspi.initializeSecurityContext({ credential, contextReq: CLIENT_REQ, targetName: rogueTarget(lane) });
    const took = performance.now() - began;
    const report = await control.report(lane);
    if (report === undefined) throw new Error(`the rogue KDC has no report for lane ${lane}`);
    trial.hostile(
      report.strategy,
      fromHex(report.replyHex),
      `${report.mutation}${report.replyBytes > report.replyHex.length / 2 ? ` (${report.replyBytes} bytes)` : ''}`,
    );
    const status = trial.answer('InitializeSecurityContext', first);
    await dropContext(sspi, first.context, trial.violations, 'the client context');
    if (took > KDC_DEADLINE_MS + HANG_MARGIN_MS)
      trial.violations.push(`InitializeSecurityContext took ${Math.round(took)} ms, past the KDC deadline of ${KDC_DEADLINE_MS} ms`);
    if (report.expectOk) trial.expectStatus(status, SEC_E_OK, 'InitializeSecurityContext with the real replies');
    if (report.expectNoAuthority)
      trial.expectStatus(status, SEC_E_NO_AUTHENTICATING_AUTHORITY, `InitializeSecurityContext whose KDC reply never came whole (${report.delivery})`);
    if (report.mustReject) trial.expect(status !== SEC_E_OK, `InitializeSecurityContext accepted a reply it must refuse (${report.mutation})`);
    if (status !== SEC_E_OK) {
      // The probe: the rogue now refuses everything, so only a kept ticket can complete it.
      const probe = await sspi.initializeSecurityContext({ credential, contextReq: CLIENT_REQ, targetName: rogueTarget(lane) });
      trial.record('InitializeSecurityContext', probe);
      await dropContext(sspi, probe.context, trial.violations, 'the probe context');
      if (report.mustReject)
        trial.expect(probe.status !== SEC_E_OK, `after refusing the reply, the next InitializeSecurityContext completed from a ticket of it left in the cache`);
    }
    for (const use of await control.release(lane)) trial.violations.push(use);
  } finally {
    const freed = await sspi.freeCredentialsHandle(credential);
    if (freed.status !== SEC_E_OK) trial.violations.push(`FreeCredentialsHandle: ${statusName(freed.status)}`);
  }
}

export const KDC_REPLY_GENERATOR: GeneratorSpec = {
  name: 'kerberos/kdc-reply',
  packageKey: 'kerberos',
  target: 'tokens',
  fn: 'InitializeSecurityContext',
  describe:
    "a rogue KDC's AS-REP, TGS-REP and KRB-ERROR (real replies mutated: DER, bytes, nonce, names, keys, key usages, times not asked for, ETYPE-INFO2, replays; lying TCP framing) -> the client's InitializeSecurityContext",
  create: async (env: FuzzEnv) => {
    const rogue = env.rogueKdc;
    if (rogue === undefined) throw new Error("kerberos/kdc-reply needs the run's rogue KDC (FuzzEnv.rogueKdc)");
    const control = await RogueControl.connect(rogue.host, rogue.controlPort);
    return {
      run: (rng, lane, trial) => kdcReplyInput(env, control, rng, lane, trial),
      close: () => {
        control.close();
        return Promise.resolve([]);
      },
    };
  },
};
