// The client's KDC messages (packages/kerberos/kdc-requests.ts) on their own: what the builders
// put in a request (read back with the messages module), and how an answer that is not what was
// asked for is refused, each as SEC_E_NO_AUTHENTICATING_AUTHORITY with its reason. The exchanges
// themselves are tested against our KDC (kdc/kdc.test.ts) and MIT's (kdc-client.test.ts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusName } from '../../../headers/status.js';
import { decrypt, KEY_USAGE, makeRandomKey, stringToKey } from '../../../packages/kerberos/crypto/index.js';
import { Kdc, KdcDatabase, kdcPolicy } from '../../../packages/kerberos/kdc/index.js';
import {
  asRequest,
  DEFAULT_REQUEST_ETYPES,
  encTimestamp,
  openKdcReply,
  readKdcAnswer,
  tgsRequest,
  type KdcCredentials,
} from '../../../packages/kerberos/kdc-requests.js';
import {
  KDC_OPTIONS,
  KRB_ERROR_CODE,
  KRB_NT,
  PA_TYPE,
  unpackApReq,
  unpackAuthenticator,
  unpackKdcReq,
  unpackPaEncTsEnc,
  unpackEncryptedData,
} from '../../../packages/kerberos/messages/index.js';
import { isFailure } from '../../../packages/kerberos/statuses.js';

const REALM = 'EXAMPLE.TEST';
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const aliceKey = stringToKey(18, 'pw', `${REALM}alice`);

async function realm(): Promise<Kdc> {
  const db = KdcDatabase.open(
    REALM,
    [
      { components: ['krbtgt', REALM], kind: 'krbtgt', keys: [makeRandomKey(18)] },
      { components: ['alice'], kind: 'user', password: 'pw', etypes: [18] },
      { components: ['host', 'server.example.test'], kind: 'service', keys: [makeRandomKey(18)] },
    ],
    async (etype, password, salt) => stringToKey(etype, password, salt),
  );
  return new Kdc(db, kdcPolicy(), () => T0);
}

async function tgt(kdc: Kdc): Promise<KdcCredentials> {
  const { reply } = await kdc.handle(asRequest({ realm: REALM, client: ['alice'], nonce: 7, padata: [encTimestamp(aliceKey, T0)] }, T0), 'tcp', 'test');
  const answer = readKdcAnswer(reply);
  assert.ok(!isFailure(answer) && answer.kind === 'reply');
  const opened = openKdcReply(answer.rep, aliceKey, KEY_USAGE.AS_REP_ENC_PART, 7);
  assert.ok(!isFailure(opened), isFailure(opened) ? opened.reason : '');
  return opened;
}

describe("the client's KDC messages", () => {
  it("asks as kinit and Windows ask: FORWARDABLE | RENEWABLE_OK, krbtgt/REALM, a day, 31-bit nonces, MIT's etype order; PA-ENC-TIMESTAMP sealed with usage 1", () => {
    const req = unpackKdcReq(asRequest({ realm: REALM, client: ['alice'], padata: [encTimestamp(aliceKey, T0 + 250)] }, T0));
    const body = req.reqBody;
    assert.equal(body.kdcOptions, (KDC_OPTIONS.FORWARDABLE | KDC_OPTIONS.RENEWABLE_OK) >>> 0);
    assert.deepEqual(body.cname, { nameType: KRB_NT.PRINCIPAL, nameString: ['alice'] });
    assert.deepEqual(body.sname, { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', REALM] });
    assert.equal(body.till.getTime(), T0 + 24 * 3_600_000);
    assert.ok(body.nonce > 0 && body.nonce < 2 ** 31);
    assert.deepEqual(body.etype, [...DEFAULT_REQUEST_ETYPES]);
    const pa = req.padata!.find((p) => p.padataType === PA_TYPE.ENC_TIMESTAMP)!;
    const sealed = unpackEncryptedData(pa.padataValue);
    const ts = unpackPaEncTsEnc(decrypt(aliceKey, KEY_USAGE.AS_REQ_PA_ENC_TIMESTAMP, sealed.cipher));
    assert.equal(ts.patimestamp.getTime(), T0);
    assert.equal(ts.pausec, 250_000);
  });

  it("makes PA-TGS-REQ's Authenticator with the TGT's session key (usage 7), the req-body's checksum and a subkey that seals the reply (usage 9); without one, the session key (usage 8)", async () => {
    const kdc = await realm();
    const credentials = await tgt(kdc);
    const made = tgsRequest({ realm: REALM, tgt: credentials, service: ['host', 'server.example.test'] }, T0);
    assert.equal(made.replyUsage, KEY_USAGE.TGS_REP_ENC_PART_SUBKEY);
    const req = unpackKdcReq(made.request);
    const apReq = unpackApReq(req.padata!.find((p) => p.padataType === PA_TYPE.TGS_REQ)!.padataValue);
    const authenticator = unpackAuthenticator(decrypt(credentials.sessionKey, KEY_USAGE.TGS_REQ_AUTHENTICATOR, apReq.authenticator.cipher));
    assert.deepEqual(authenticator.subkey, made.replyKey);
    assert.ok(authenticator.cksum !== undefined);
    const bare = tgsRequest({ realm: REALM, tgt: credentials, service: ['host', 'server.example.test'], subkey: null }, T0);
    assert.equal(bare.replyUsage, KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY);
    assert.equal(bare.replyKey, credentials.sessionKey);
    const { reply } = await kdc.handle(made.request, 'tcp', 'test');
    const answer = readKdcAnswer(reply);
    assert.ok(!isFailure(answer) && answer.kind === 'reply');
    assert.ok(!isFailure(openKdcReply(answer.rep, made.replyKey, made.replyUsage, made.body.nonce)));
  });

  it('refuses, as SEC_E_NO_AUTHENTICATING_AUTHORITY, an answer that does not decode, a reply for another nonce, one sealed in another key or etype', async () => {
    const garbage = readKdcAnswer(Uint8Array.of(0x6b, 0x03, 0x01, 0x02, 0x03));
    assert.ok(isFailure(garbage));
    assert.equal(statusName(garbage.status), 'SEC_E_NO_AUTHENTICATING_AUTHORITY');
    assert.match(garbage.reason, /not a KDC-REP or KRB-ERROR/);

    const kdc = await realm();
    const { reply } = await kdc.handle(asRequest({ realm: REALM, client: ['alice'], nonce: 9, padata: [encTimestamp(aliceKey, T0)] }, T0), 'tcp', 'test');
    const answer = readKdcAnswer(reply);
    assert.ok(!isFailure(answer) && answer.kind === 'reply');
    const cases: Array<[ReturnType<typeof openKdcReply>, RegExp]> = [
      [openKdcReply(answer.rep, aliceKey, KEY_USAGE.AS_REP_ENC_PART, 10), /nonce is 9, the request's 10/],
      [openKdcReply(answer.rep, stringToKey(18, 'not-pw', `${REALM}alice`), KEY_USAGE.AS_REP_ENC_PART, 9), /does not decrypt/],
      [openKdcReply(answer.rep, stringToKey(17, 'pw', `${REALM}alice`), KEY_USAGE.AS_REP_ENC_PART, 9), /etype 18, its key is 17/],
    ];
    for (const [opened, reason] of cases) {
      assert.ok(isFailure(opened));
      assert.equal(statusName(opened.status), 'SEC_E_NO_AUTHENTICATING_AUTHORITY');
      assert.match(opened.reason, reason);
    }
  });

  it('reads a KRB-ERROR as one, its code and e-text kept', async () => {
    const kdc = await realm();
    const { reply } = await kdc.handle(asRequest({ realm: REALM, client: ['nobody'] }, T0), 'udp', 'test');
    const answer = readKdcAnswer(reply);
    assert.ok(!isFailure(answer) && answer.kind === 'error');
    assert.equal(answer.error.errorCode, KRB_ERROR_CODE.KDC_ERR_C_PRINCIPAL_UNKNOWN);
    assert.match(answer.error.eText ?? '', /nobody/);
  });
});
