// The KDC reply's times against the request and the clock (packages/kerberos/reply-times.ts): the
// times a KDC gives for a normal request pass (as our KDC and MIT's give them: start and authtime
// now, an end within the till, renewable up to the till at most); each time MIT's client refuses
// as KRB5_KDCREP_MODIFIED is SEC_E_NO_AUTHENTICATING_AUTHORITY here, each it refuses as
// KRB5_KDCREP_SKEW is SEC_E_TIME_SKEW; a TGS-REP's authtime is the TGT's, however old.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusName } from '../../../headers/index.js';
import { KRB_NT, type EncKdcRepPart } from '../../../packages/kerberos/messages/index.js';
import { checkReplyTimes, type RequestedTimes } from '../../../packages/kerberos/reply-times.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const S = 1000;
const H = 3600 * S;
const at = (ms: number): Date => new Date(NOW.getTime() + ms);
const SKEW = 300;

/** The reply's enc-part with these times (`starttime: null`: none). */
function part(times: { authtime?: Date; starttime?: Date | null; endtime?: Date; renewTill?: Date }): EncKdcRepPart {
  const { starttime, ...rest } = times;
  const base: EncKdcRepPart = {
    kind: 'EncASRepPart',
    key: { keytype: 18, keyvalue: new Uint8Array(32) },
    lastReq: [],
    nonce: 1,
    flags: 0,
    authtime: NOW,
    starttime: NOW,
    endtime: at(10 * H),
    srealm: 'EXAMPLE.TEST',
    sname: { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', 'EXAMPLE.TEST'] },
  };
  const p: EncKdcRepPart = { ...base, ...rest };
  if (starttime === null) delete p.starttime;
  else if (starttime !== undefined) p.starttime = starttime;
  return p;
}

const AS: RequestedTimes = { what: 'AS-REP', till: at(10 * H), renewLimit: at(10 * H) };
// A TGT got two hours ago, renewable for a week: its service tickets carry its authtime.
const TGT_AUTHTIME = at(-2 * H);
const TGS: RequestedTimes = { what: 'TGS-REP', till: at(8 * H), renewLimit: at(7 * 24 * H), tgtAuthtime: TGT_AUTHTIME };

const verdict = (p: EncKdcRepPart, asked: RequestedTimes, now = NOW): string => {
  const got = checkReplyTimes(p, asked, now, SKEW);
  return got === undefined ? 'accepted' : statusName(got.status);
};

describe('the times of a KDC reply', () => {
  it("accepts the times a KDC gives: now, within the till, renewable up to what was asked, and a clock off within the skew", () => {
    assert.equal(verdict(part({}), AS), 'accepted');
    assert.equal(verdict(part({ endtime: at(2 * H) }), AS), 'accepted', 'a shorter life than asked');
    assert.equal(verdict(part({ endtime: at(8 * H), renewTill: at(10 * H) }), AS), 'accepted', 'RENEWABLE-OK: renewable up to the till');
    assert.equal(verdict(part({ starttime: null }), AS), 'accepted', 'no starttime: it starts at its authtime');
    assert.equal(verdict(part({}), AS, at(299 * S)), 'accepted', 'the KDC 299 s behind');
    assert.equal(verdict(part({}), AS, at(-299 * S)), 'accepted', 'the KDC 299 s ahead');
    assert.equal(verdict(part({ authtime: TGT_AUTHTIME, endtime: at(8 * H) }), TGS), 'accepted');
    assert.equal(verdict(part({ authtime: TGT_AUTHTIME, endtime: at(8 * H), renewTill: at(7 * 24 * H) }), TGS), 'accepted');
    assert.equal(verdict(part({ authtime: TGT_AUTHTIME, starttime: null, endtime: at(8 * H) }), TGS), 'accepted', "a TGS-REP without a starttime: its authtime is the TGT's, hours old");
  });

  for (const [what, p, asked, status, reason] of [
    ['an endtime past the till', part({ endtime: at(10 * H + S) }), AS, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', /past the .* asked for/],
    ["a TGS-REP's endtime past the TGT's", part({ authtime: TGT_AUTHTIME, endtime: at(9 * H) }), TGS, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', /past the .* asked for/],
    ['a renew-till past the till (RENEWABLE-OK)', part({ endtime: at(8 * H), renewTill: at(10 * H + S) }), AS, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', /renewable until .* past/],
    ["a TGS-REP renewable past the TGT's renew-till", part({ authtime: TGT_AUTHTIME, endtime: at(8 * H), renewTill: at(8 * 24 * H) }), TGS, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', /renewable until .* past/],
    ['a renew-till before the end', part({ endtime: at(8 * H), renewTill: at(7 * H) }), AS, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', /before it ends/],
    ['an endtime at its starttime', part({ endtime: NOW }), AS, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', /not after it starts/],
    ['an endtime before its starttime', part({ endtime: at(-H) }), AS, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', /not after it starts/],
    ['a ticket that has already ended', part({ authtime: at(-250 * S), starttime: at(-250 * S), endtime: at(-S) }), AS, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', /ended/],
    ["a TGS-REP's authtime that is not the TGT's", part({ authtime: at(-H), endtime: at(8 * H) }), TGS, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', /not the TGT's/],
    ['a starttime in the future past the skew (postdated, not asked for)', part({ starttime: at(301 * S) }), AS, 'SEC_E_TIME_SKEW', /starttime .* 301 s from this clock/],
    ["a TGS-REP's starttime in the future past the skew", part({ authtime: TGT_AUTHTIME, starttime: at(3600 * S), endtime: at(8 * H) }), TGS, 'SEC_E_TIME_SKEW', /starttime/],
    ['a starttime in the past past the skew', part({ authtime: at(-301 * S), starttime: at(-301 * S) }), AS, 'SEC_E_TIME_SKEW', /-301 s/],
    ["an AS-REP's authtime outside the skew", part({ authtime: at(-2 * H) }), AS, 'SEC_E_TIME_SKEW', /authtime/],
    ["an AS-REP's authtime outside the skew, no starttime", part({ authtime: at(400 * S), starttime: null }), AS, 'SEC_E_TIME_SKEW', /authtime/],
    ['a time that is not one', part({ endtime: new Date(Number.NaN) }), AS, 'SEC_E_NO_AUTHENTICATING_AUTHORITY', /not one/],
  ] as const) {
    it(`refuses ${what}: ${status}`, () => {
      const got = checkReplyTimes(p, asked, NOW, SKEW);
      assert.ok(got !== undefined, 'accepted');
      assert.equal(statusName(got.status), status, got.reason);
      assert.match(got.reason, reason);
      assert.match(got.reason, new RegExp(asked.what));
    });
  }

  it('measures the skew with the setting given', () => {
    const p = part({ starttime: at(400 * S), authtime: at(400 * S), endtime: at(10 * H) });
    assert.notEqual(checkReplyTimes(p, AS, NOW, 300), undefined);
    assert.equal(checkReplyTimes(p, AS, NOW, 600), undefined);
  });
});
