// The KDC's two exchanges, in-process: requests made with our messages module go straight to
// Kdc.handle (no sockets), on a clock the tests move, and every reply is read back with the same
// module and opened with the keys it must be sealed in: the client's key made from its password
// (AS-REP), the service's key (tickets), the TGT's session key or the subkey (TGS-REP).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decrypt, KEY_USAGE, makeRandomKey, stringToKey, verifyChecksum, type EncryptionKey } from '../../../../packages/kerberos/crypto/index.js';
import {
  AD_TYPE,
  KDC_OPTIONS,
  KRB_ERROR_CODE,
  KRB_MSG_TYPE,
  PA_TYPE,
  packApReq,
  packKdcReq,
  TICKET_FLAGS,
  unpackChecksum,
  unpackEncTicketPart,
  unpackEtypeInfo2,
  unpackKdcReq,
  unpackKerberosMessage,
  unpackMethodData,
  type EncTicketPart,
  type KdcRep,
  type KdcReq,
  type KrbError,
  type Ticket,
} from '../../../../packages/kerberos/messages/index.js';
import { Kdc, KdcDatabase, kdcPolicy, type KdcPrincipalSpec } from '../../../../packages/kerberos/kdc/index.js';
import {
  asRequest,
  encTimestamp,
  openKdcReply,
  readKdcAnswer,
  tgsRequest,
  type KdcAnswer,
  type KdcCredentials,
} from '../../../../packages/kerberos/kdc-requests.js';
import { isFailure } from '../../../../packages/kerberos/statuses.js';

const REALM = 'EXAMPLE.TEST';
const PASSWORD = 'Passw0rd!';
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

/** A realm with alice (all four etypes), old (aes128 only, an explicit salt), nopre (no pre-authentication), two services. */
function realm(extra: KdcPrincipalSpec[] = []): { kdc: Kdc; db: KdcDatabase; clock: { now: number } } {
  const clock = { now: T0 };
  const db = KdcDatabase.open(
    REALM,
    [
      { components: ['krbtgt', REALM], kind: 'krbtgt', keys: [18, 17, 20, 19].map(makeRandomKey) },
      { components: ['alice'], kind: 'user', password: PASSWORD },
      { components: ['old'], kind: 'user', password: PASSWORD, etypes: [17], salt: 'a-salt-of-its-own' },
      { components: ['nopre'], kind: 'user', password: PASSWORD, requiresPreauth: false },
      { components: ['host', 'server.example.test'], kind: 'service', keys: [18, 17].map(makeRandomKey) },
      { components: ['HTTP', 'web.example.test'], kind: 'service', password: 'web-secret', etypes: [20] },
      ...extra,
    ],
    async (etype, password, salt) => stringToKey(etype, password, salt),
  );
  return { kdc: new Kdc(db, kdcPolicy(), () => clock.now), db, clock };
}

/** The Kerberos package's client reads the KDC's answers (packages/kerberos/kdc-requests.ts): it must understand them. */
function readAnswer(bytes: Uint8Array): KdcAnswer {
  const answer = readKdcAnswer(bytes);
  if (isFailure(answer)) assert.fail(answer.reason);
  return answer;
}

/** A reply opened as the package's client opens it: it must open with `key` and answer `nonce`. */
function openReply(rep: KdcRep, key: EncryptionKey, usage: number, nonce: number): KdcCredentials {
  const opened = openKdcReply(rep, key, usage, nonce);
  if (isFailure(opened)) assert.fail(opened.reason);
  return opened;
}

async function ask(kdc: Kdc, request: Uint8Array): Promise<KdcAnswer> {
  const { reply } = await kdc.handle(request, 'tcp', 'test');
  return readAnswer(reply);
}

async function refused(kdc: Kdc, request: Uint8Array, code: number): Promise<KrbError> {
  const answer = await ask(kdc, request);
  assert.equal(answer.kind, 'error', 'a KRB-ERROR');
  const error = (answer as { error: KrbError }).error;
  assert.equal(error.errorCode, code, `error ${error.errorCode} (${error.eText}), expected ${code}`);
  return error;
}

async function replied(kdc: Kdc, request: Uint8Array): Promise<KdcRep> {
  const answer = await ask(kdc, request);
  assert.equal(answer.kind, 'reply', answer.kind === 'error' ? `KRB-ERROR ${answer.error.errorCode}: ${answer.error.eText}` : '');
  return (answer as { rep: KdcRep }).rep;
}

const aliceKey = (etype = 18): EncryptionKey => stringToKey(etype, PASSWORD, `${REALM}alice`);

async function keyOf(db: KdcDatabase, name: string[], etype: number): Promise<EncryptionKey> {
  const keys = await db.lookup(name)!.ready();
  return keys.get(etype)!;
}

async function openTicket(db: KdcDatabase, ticket: Ticket): Promise<EncTicketPart> {
  const key = await keyOf(db, ticket.sname.nameString, ticket.encPart.etype);
  return unpackEncTicketPart(decrypt(key, KEY_USAGE.KDC_REP_TICKET, ticket.encPart.cipher));
}

/** alice's TGT: the AS exchange with pre-authentication. */
async function tgtOf(kdc: Kdc, clock: { now: number }, options = (KDC_OPTIONS.FORWARDABLE | KDC_OPTIONS.RENEWABLE) >>> 0): Promise<KdcCredentials> {
  const nonce = 4242;
  const rep = await replied(kdc, asRequest({ realm: REALM, client: ['alice'], nonce, options, padata: [encTimestamp(aliceKey(), clock.now)] }, clock.now));
  return openReply(rep, aliceKey(), KEY_USAGE.AS_REP_ENC_PART, nonce);
}

describe('the KDC: the AS exchange (RFC 4120 3.1)', () => {
  it("answers an AS-REQ without pre-authentication KDC_ERR_PREAUTH_REQUIRED, with METHOD-DATA: PA-ENC-TIMESTAMP and PA-ETYPE-INFO2 in the client's order, with the realm's salt", async () => {
    const { kdc } = realm();
    const error = await refused(kdc, asRequest({ realm: REALM, client: ['alice'], etypes: [17, 23, 18] }, T0), KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED);
    assert.deepEqual(error.cname?.nameString, ['alice']);
    assert.deepEqual(error.sname.nameString, ['krbtgt', REALM]);
    const methods = unpackMethodData(error.eData!);
    assert.deepEqual(
      methods.map((m) => m.padataType),
      [PA_TYPE.ENC_TIMESTAMP, PA_TYPE.ETYPE_INFO2],
    );
    assert.doesNotMatch(String(methods.map((m) => m.padataType)), new RegExp(`\\b${PA_TYPE.FX_FAST}\\b`), 'FAST is not offered');
    assert.deepEqual(unpackEtypeInfo2(methods[1]!.padataValue), [
      { etype: 17, salt: 'EXAMPLE.TESTalice' },
      { etype: 18, salt: 'EXAMPLE.TESTalice' },
    ]);
  });

  it("issues a TGT for PA-ENC-TIMESTAMP under the password's key: the reply opens with that key, the ticket with krbtgt's, with the flags and times asked for within the policy", async () => {
    const { kdc, db, clock } = realm();
    const nonce = 77;
    const till = new Date(T0 + 24 * HOUR);
    const rtime = new Date(T0 + 30 * 24 * HOUR);
    const request = asRequest(
      {
        realm: REALM,
        client: ['alice'],
        nonce,
        till,
        rtime,
        options: (KDC_OPTIONS.FORWARDABLE | KDC_OPTIONS.RENEWABLE) >>> 0,
        padata: [encTimestamp(aliceKey(), clock.now)],
      },
      clock.now,
    );
    const rep = await replied(kdc, request);
    assert.equal(rep.msgType, KRB_MSG_TYPE.AS_REP);
    assert.equal(rep.encPart.etype, 18);
    assert.equal(rep.encPart.kvno, 1);
    const part = openReply(rep, aliceKey(), KEY_USAGE.AS_REP_ENC_PART, nonce).part;
    assert.equal(part.kind, 'EncASRepPart');
    const flags = TICKET_FLAGS.INITIAL | TICKET_FLAGS.PRE_AUTHENT | TICKET_FLAGS.FORWARDABLE | TICKET_FLAGS.RENEWABLE;
    assert.equal(part.flags, flags >>> 0);
    assert.equal(part.authtime.getTime(), T0);
    assert.equal(part.endtime.getTime(), T0 + 10 * HOUR, "the policy's 10 hours, not the 24 asked for");
    assert.equal(part.renewTill?.getTime(), T0 + 7 * 24 * HOUR, "the policy's 7 days, not the 30 asked for");
    assert.deepEqual(part.sname.nameString, ['krbtgt', REALM]);
    const ticket = await openTicket(db, rep.ticket);
    assert.equal(rep.ticket.encPart.etype, 18, "sealed in krbtgt's preferred key");
    assert.deepEqual(ticket.cname.nameString, ['alice']);
    assert.equal(ticket.crealm, REALM);
    assert.deepEqual(ticket.key, part.key, 'the same session key in the ticket and the reply');
    assert.equal(ticket.key.keytype, 18);
    assert.equal(ticket.flags, part.flags);
    assert.equal(ticket.authorizationData, undefined, 'no PAC (not implemented)');
  });

  it("seals the reply in the etype of the timestamp and picks the session key from the client's list among the service's keys", async () => {
    const { kdc, db } = realm();
    const rep = await replied(
      kdc,
      asRequest({ realm: REALM, client: ['alice'], etypes: [19, 17, 18], nonce: 1, padata: [encTimestamp(aliceKey(17), T0)] }, T0),
    );
    assert.equal(rep.encPart.etype, 17);
    const part = openReply(rep, aliceKey(17), KEY_USAGE.AS_REP_ENC_PART, 1).part;
    assert.equal(part.key.keytype, 19, "the first of the client's etypes krbtgt has");
    assert.equal((await openTicket(db, rep.ticket)).key.keytype, 19);
  });

  it("answers a wrong password KDC_ERR_PREAUTH_FAILED (with the same METHOD-DATA, as MIT's KDC), a timestamp 6 minutes off KRB_AP_ERR_SKEW, and takes one 4 minutes off", async () => {
    const { kdc } = realm();
    const wrong = stringToKey(18, 'not it', `${REALM}alice`);
    const failed = await refused(
      kdc,
      asRequest({ realm: REALM, client: ['alice'], padata: [encTimestamp(wrong, T0)] }, T0),
      KRB_ERROR_CODE.KDC_ERR_PREAUTH_FAILED,
    );
    assert.ok(unpackMethodData(failed.eData!).some((m) => m.padataType === PA_TYPE.ETYPE_INFO2));
    await refused(kdc, asRequest({ realm: REALM, client: ['alice'], padata: [encTimestamp(aliceKey(), T0 + 6 * 60_000)] }, T0), KRB_ERROR_CODE.KRB_AP_ERR_SKEW);
    await refused(kdc, asRequest({ realm: REALM, client: ['alice'], padata: [encTimestamp(aliceKey(), T0 - 6 * 60_000)] }, T0), KRB_ERROR_CODE.KRB_AP_ERR_SKEW);
    await replied(kdc, asRequest({ realm: REALM, client: ['alice'], padata: [encTimestamp(aliceKey(), T0 + 4 * 60_000)] }, T0));
  });

  it("answers an unknown client KDC_ERR_C_PRINCIPAL_UNKNOWN, an unknown service KDC_ERR_S_PRINCIPAL_UNKNOWN, another realm KDC_ERR_WRONG_REALM, another realm's TGS KDC_ERR_S_PRINCIPAL_UNKNOWN", async () => {
    const { kdc } = realm();
    const unknown = await refused(kdc, asRequest({ realm: REALM, client: ['nobody'] }, T0), KRB_ERROR_CODE.KDC_ERR_C_PRINCIPAL_UNKNOWN);
    assert.equal(unknown.eText, "Client 'nobody@EXAMPLE.TEST' not found in Kerberos database");
    await refused(kdc, asRequest({ realm: REALM, client: ['alice'], service: ['host', 'nowhere'] }, T0), KRB_ERROR_CODE.KDC_ERR_S_PRINCIPAL_UNKNOWN);
    await refused(kdc, asRequest({ realm: 'OTHER.TEST', client: ['alice'] }, T0), KRB_ERROR_CODE.KDC_ERR_WRONG_REALM);
    const crossRealm = await refused(
      kdc,
      asRequest({ realm: REALM, client: ['alice'], service: ['krbtgt', 'OTHER.TEST'] }, T0),
      KRB_ERROR_CODE.KDC_ERR_S_PRINCIPAL_UNKNOWN,
    );
    assert.match(crossRealm.eText!, /cross-realm is not implemented/);
    await refused(kdc, asRequest({ realm: REALM, client: ['krbtgt', REALM] }, T0), KRB_ERROR_CODE.KDC_ERR_C_PRINCIPAL_UNKNOWN);
  });

  it('negotiates etypes: KDC_ERR_ETYPE_NOSUPP when none in common, the one in common otherwise, with an explicit salt in ETYPE-INFO2', async () => {
    const { kdc } = realm();
    await refused(kdc, asRequest({ realm: REALM, client: ['alice'], etypes: [23, 3] }, T0), KRB_ERROR_CODE.KDC_ERR_ETYPE_NOSUPP);
    await refused(kdc, asRequest({ realm: REALM, client: ['old'], etypes: [18, 20] }, T0), KRB_ERROR_CODE.KDC_ERR_ETYPE_NOSUPP);
    const hint = await refused(kdc, asRequest({ realm: REALM, client: ['old'], etypes: [18, 17] }, T0), KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED);
    const info = unpackEtypeInfo2(unpackMethodData(hint.eData!).find((m) => m.padataType === PA_TYPE.ETYPE_INFO2)!.padataValue);
    assert.deepEqual(info, [{ etype: 17, salt: 'a-salt-of-its-own' }]);
    const key = stringToKey(17, PASSWORD, 'a-salt-of-its-own');
    const rep = await replied(kdc, asRequest({ realm: REALM, client: ['old'], etypes: [18, 17], nonce: 5, padata: [encTimestamp(key, T0)] }, T0));
    assert.equal(openReply(rep, key, KEY_USAGE.AS_REP_ENC_PART, 5).part.key.keytype, 18, "the session key is krbtgt's business, not the client key's");
  });

  it('issues a TGT without pre-authentication to a principal that does not require it: PA-ETYPE-INFO2 in the reply, no PRE-AUTHENT flag', async () => {
    const { kdc } = realm();
    const rep = await replied(kdc, asRequest({ realm: REALM, client: ['nopre'], nonce: 9 }, T0));
    const info = unpackEtypeInfo2(rep.padata!.find((p) => p.padataType === PA_TYPE.ETYPE_INFO2)!.padataValue);
    assert.deepEqual(info, [{ etype: 18, salt: 'EXAMPLE.TESTnopre' }]);
    const part = openReply(rep, stringToKey(18, PASSWORD, 'EXAMPLE.TESTnopre'), KEY_USAGE.AS_REP_ENC_PART, 9).part;
    assert.equal(part.flags & TICKET_FLAGS.PRE_AUTHENT, 0);
    assert.notEqual(part.flags & TICKET_FLAGS.INITIAL, 0);
  });

  it("answers PA-REQ-ENC-PA-REP (RFC 6806) with the reply key's checksum of the whole request and the ENC-PA-REP flag", async () => {
    const { kdc } = realm();
    const request = asRequest(
      {
        realm: REALM,
        client: ['alice'],
        nonce: 3,
        padata: [encTimestamp(aliceKey(), T0), { padataType: PA_TYPE.REQ_ENC_PA_REP, padataValue: new Uint8Array(0) }],
      },
      T0,
    );
    const part = openReply(await replied(kdc, request), aliceKey(), KEY_USAGE.AS_REP_ENC_PART, 3).part;
    assert.notEqual(part.flags & TICKET_FLAGS.ENC_PA_REP, 0);
    const pa = part.encryptedPaData?.find((p) => p.padataType === PA_TYPE.REQ_ENC_PA_REP);
    const cksum = unpackChecksum(pa!.padataValue);
    assert.ok(verifyChecksum(cksum.cksumtype, aliceKey(), KEY_USAGE.AS_REQ, request, cksum.checksum));
    const other = asRequest({ realm: REALM, client: ['alice'], nonce: 4 }, T0);
    assert.ok(!verifyChecksum(cksum.cksumtype, aliceKey(), KEY_USAGE.AS_REQ, other, cksum.checksum));
  });

  it('refuses options it does not implement or that belong to the TGS exchange with KDC_ERR_BADOPTION, and a future start with KDC_ERR_CANNOT_POSTDATE', async () => {
    const { kdc } = realm();
    for (const option of [
      KDC_OPTIONS.POSTDATED,
      KDC_OPTIONS.ALLOW_POSTDATE,
      KDC_OPTIONS.RENEW,
      KDC_OPTIONS.VALIDATE,
      KDC_OPTIONS.ENC_TKT_IN_SKEY,
      KDC_OPTIONS.REQUEST_ANONYMOUS,
    ])
      await refused(
        kdc,
        asRequest({ realm: REALM, client: ['alice'], options: option, padata: [encTimestamp(aliceKey(), T0)] }, T0),
        KRB_ERROR_CODE.KDC_ERR_BADOPTION,
      );
    const body = unpackKdcReq(asRequest({ realm: REALM, client: ['alice'], padata: [encTimestamp(aliceKey(), T0)] }, T0));
    body.reqBody.from = new Date(T0 + HOUR);
    await refused(kdc, packKdcReq(body), KRB_ERROR_CODE.KDC_ERR_CANNOT_POSTDATE);
    await refused(
      kdc,
      asRequest({ realm: REALM, client: ['alice'], till: new Date(T0 - HOUR), padata: [encTimestamp(aliceKey(), T0)] }, T0),
      KRB_ERROR_CODE.KDC_ERR_NEVER_VALID,
    );
  });

  it("makes a ticket renewable with RENEWABLE-OK when the life asked for is longer than the policy's, and not otherwise", async () => {
    const { kdc } = realm();
    const ask = async (till: number): Promise<EncTicketPart | ReturnType<typeof openReply>['part']> =>
      openReply(
        await replied(
          kdc,
          asRequest(
            { realm: REALM, client: ['alice'], nonce: 1, till: new Date(till), options: KDC_OPTIONS.RENEWABLE_OK, padata: [encTimestamp(aliceKey(), T0)] },
            T0,
          ),
        ),
        aliceKey(),
        KEY_USAGE.AS_REP_ENC_PART,
        1,
      ).part;
    const long = await ask(T0 + 24 * HOUR);
    assert.notEqual(long.flags & TICKET_FLAGS.RENEWABLE, 0);
    assert.equal(long.renewTill?.getTime(), T0 + 24 * HOUR, 'renewable until the till asked for (MIT checks renew-till <= till)');
    const short = await ask(T0 + 2 * HOUR);
    assert.equal(short.flags & TICKET_FLAGS.RENEWABLE, 0);
    assert.equal(short.endtime.getTime(), T0 + 2 * HOUR);
  });
});

describe('the KDC: the TGS exchange (RFC 4120 3.3)', () => {
  it("issues a service ticket for a TGT: the reply sealed in the subkey (usage 9), the ticket in the service's key, its flags carried over from the TGT", async () => {
    const { kdc, db, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    const { request, replyKey, replyUsage } = tgsRequest(
      { realm: REALM, tgt, service: ['host', 'server.example.test'], nonce: 11, options: KDC_OPTIONS.FORWARDABLE },
      clock.now,
    );
    assert.equal(replyUsage, KEY_USAGE.TGS_REP_ENC_PART_SUBKEY);
    const rep = await replied(kdc, request);
    assert.equal(rep.msgType, KRB_MSG_TYPE.TGS_REP);
    assert.equal(rep.encPart.kvno, undefined, 'a session key has no kvno');
    const st = openReply(rep, replyKey, replyUsage, 11);
    assert.equal(st.part.kind, 'EncTGSRepPart');
    assert.deepEqual(st.part.sname.nameString, ['host', 'server.example.test']);
    const ticket = await openTicket(db, rep.ticket);
    assert.deepEqual(ticket.cname.nameString, ['alice']);
    assert.deepEqual(ticket.key, st.part.key);
    assert.equal(ticket.authtime.getTime(), tgt.part.authtime.getTime(), "the TGT's authtime");
    assert.equal(ticket.flags & TICKET_FLAGS.INITIAL, 0);
    assert.notEqual(ticket.flags & TICKET_FLAGS.PRE_AUTHENT, 0);
    assert.notEqual(ticket.flags & TICKET_FLAGS.FORWARDABLE, 0);
    assert.notEqual(ticket.flags & TICKET_FLAGS.TRANSITED_POLICY_CHECKED, 0);
    assert.ok(ticket.endtime.getTime() <= tgt.part.endtime.getTime());
  });

  it("seals the reply in the TGT's session key (usage 8) without a subkey, and picks the session key among the service's etypes", async () => {
    const { kdc, db, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    const { request, replyKey, replyUsage } = tgsRequest(
      { realm: REALM, tgt, service: ['HTTP', 'web.example.test'], subkey: null, nonce: 12, etypes: [18, 20] },
      clock.now,
    );
    assert.equal(replyUsage, KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY);
    const rep = await replied(kdc, request);
    assert.equal(openReply(rep, replyKey, replyUsage, 12).part.key.keytype, 20);
    assert.equal(rep.ticket.encPart.etype, 20);
    const webKey = stringToKey(20, 'web-secret', `${REALM}HTTPweb.example.test`);
    assert.deepEqual(await keyOf(db, ['HTTP', 'web.example.test'], 20), webKey, "a service's password keys use the realm's salt");
    await refused(
      kdc,
      tgsRequest({ realm: REALM, tgt, service: ['HTTP', 'web.example.test'], etypes: [18, 17] }, clock.now).request,
      KRB_ERROR_CODE.KDC_ERR_ETYPE_NOSUPP,
    );
  });

  it('answers an unknown service KDC_ERR_S_PRINCIPAL_UNKNOWN and another realm KDC_ERR_WRONG_REALM', async () => {
    const { kdc, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    const error = await refused(
      kdc,
      tgsRequest({ realm: REALM, tgt, service: ['host', 'nowhere.example.test'] }, clock.now).request,
      KRB_ERROR_CODE.KDC_ERR_S_PRINCIPAL_UNKNOWN,
    );
    assert.deepEqual(error.cname?.nameString, ['alice']);
    await refused(
      kdc,
      tgsRequest({ realm: 'OTHER.TEST', tgt, service: ['host', 'server.example.test'] }, clock.now).request,
      KRB_ERROR_CODE.KDC_ERR_WRONG_REALM,
    );
  });

  it("checks the Authenticator's checksum over the req-body's bytes: a body changed after it was made is KRB_AP_ERR_MODIFIED", async () => {
    const { kdc, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    /** The request with its req-body changed after the Authenticator's checksum was made over it. */
    const tampered = (change: (body: KdcReq['reqBody']) => void): Uint8Array => {
      const req = unpackKdcReq(tgsRequest({ realm: REALM, tgt, service: ['host', 'server.example.test'] }, clock.now).request);
      change(req.reqBody);
      return packKdcReq(req);
    };
    await refused(kdc, tampered((body) => (body.sname = { nameType: 1, nameString: ['HTTP', 'web.example.test'] })), KRB_ERROR_CODE.KRB_AP_ERR_MODIFIED);
    await refused(kdc, tampered((body) => (body.till = new Date(T0 + 100 * HOUR))), KRB_ERROR_CODE.KRB_AP_ERR_MODIFIED);
  });

  it('refuses an expired TGT (KRB_AP_ERR_TKT_EXPIRED), an Authenticator off by more than the skew (KRB_AP_ERR_SKEW), and a ticket that does not decrypt (KRB_AP_ERR_BAD_INTEGRITY)', async () => {
    const { kdc, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    await refused(
      kdc,
      tgsRequest({ realm: REALM, tgt, service: ['host', 'server.example.test'] }, clock.now - 10 * 60_000).request,
      KRB_ERROR_CODE.KRB_AP_ERR_SKEW,
    );
    const cipher = new Uint8Array(tgt.ticket.encPart.cipher);
    cipher[20] = cipher[20]! ^ 1;
    const forged = { ...tgt, ticket: { ...tgt.ticket, encPart: { ...tgt.ticket.encPart, cipher } } };
    await refused(
      kdc,
      tgsRequest({ realm: REALM, tgt: forged, service: ['host', 'server.example.test'] }, clock.now).request,
      KRB_ERROR_CODE.KRB_AP_ERR_BAD_INTEGRITY,
    );
    clock.now = T0 + 11 * HOUR;
    const expired = await refused(
      kdc,
      tgsRequest({ realm: REALM, tgt, service: ['host', 'server.example.test'] }, clock.now).request,
      KRB_ERROR_CODE.KRB_AP_ERR_TKT_EXPIRED,
    );
    assert.match(expired.eText!, /expired/);
  });

  it('renews a renewable TGT (RENEW): a new end, the same session key; refuses one past its renew-till (KRB_AP_ERR_TKT_EXPIRED) and one not renewable (KDC_ERR_BADOPTION)', async () => {
    const { kdc, db, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    clock.now = T0 + 9 * HOUR;
    const renew = tgsRequest({ realm: REALM, tgt, service: ['krbtgt', REALM], nonce: 31, options: KDC_OPTIONS.RENEW }, clock.now);
    const rep = await replied(kdc, renew.request);
    const renewed = openReply(rep, renew.replyKey, renew.replyUsage, 31);
    assert.equal(renewed.part.endtime.getTime(), T0 + 19 * HOUR, 'the same life, from now');
    assert.equal(renewed.part.renewTill?.getTime(), tgt.part.renewTill?.getTime());
    const ticket = await openTicket(db, rep.ticket);
    assert.deepEqual(ticket.key, tgt.part.key, 'a renewed ticket keeps its session key');
    assert.equal(ticket.flags & TICKET_FLAGS.INITIAL, 0);
    // A TGT renewable for 12 hours: renewed at 9 hours it ends at its renew-till; a minute past it
    // (within the clock skew, so the ticket itself still passes) it cannot be renewed again.
    clock.now = T0;
    const short = openReply(
      await replied(
        kdc,
        asRequest(
          {
            realm: REALM,
            client: ['alice'],
            nonce: 32,
            rtime: new Date(T0 + 12 * HOUR),
            options: KDC_OPTIONS.RENEWABLE,
            padata: [encTimestamp(aliceKey(), T0)],
          },
          T0,
        ),
      ),
      aliceKey(),
      KEY_USAGE.AS_REP_ENC_PART,
      32,
    );
    assert.equal(short.part.renewTill?.getTime(), T0 + 12 * HOUR);
    clock.now = T0 + 9 * HOUR;
    const again = tgsRequest({ realm: REALM, tgt: short, service: ['krbtgt', REALM], nonce: 33, options: KDC_OPTIONS.RENEW }, clock.now);
    const last = openReply(await replied(kdc, again.request), again.replyKey, again.replyUsage, 33);
    assert.equal(last.part.endtime.getTime(), T0 + 12 * HOUR, 'no later than the renew-till');
    clock.now = T0 + 12 * HOUR + 60_000;
    const late = await refused(
      kdc,
      tgsRequest(
        { realm: REALM, tgt: { ...last, sessionKey: short.sessionKey }, service: ['krbtgt', REALM], options: KDC_OPTIONS.RENEW },
        clock.now,
      ).request,
      KRB_ERROR_CODE.KRB_AP_ERR_TKT_EXPIRED,
    );
    assert.match(late.eText!, /could be renewed until/);
    clock.now = T0;
    const plain = await tgtOf(kdc, clock, 0);
    await refused(
      kdc,
      tgsRequest({ realm: REALM, tgt: plain, service: ['krbtgt', REALM], options: KDC_OPTIONS.RENEW }, clock.now).request,
      KRB_ERROR_CODE.KDC_ERR_BADOPTION,
    );
  });

  it('makes a forwarded TGT from a forwardable one (FORWARDED) and refuses it from one that is not', async () => {
    const { kdc, db, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    const forward = tgsRequest(
      { realm: REALM, tgt, service: ['krbtgt', REALM], nonce: 41, options: (KDC_OPTIONS.FORWARDED | KDC_OPTIONS.FORWARDABLE) >>> 0 },
      clock.now,
    );
    const rep = await replied(kdc, forward.request);
    const ticket = await openTicket(db, rep.ticket);
    assert.notEqual(ticket.flags & TICKET_FLAGS.FORWARDED, 0);
    const plain = await tgtOf(kdc, clock, 0);
    await refused(
      kdc,
      tgsRequest({ realm: REALM, tgt: plain, service: ['krbtgt', REALM], options: KDC_OPTIONS.FORWARDED }, clock.now).request,
      KRB_ERROR_CODE.KDC_ERR_BADOPTION,
    );
  });

  it('takes only a TGT unless renewing (KDC_ERR_POLICY), and refuses what it does not implement: S4U2Self, user-to-user, S4U2Proxy, postdating', async () => {
    const { kdc, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    const st = openReply(
      await replied(kdc, tgsRequest({ realm: REALM, tgt, service: ['host', 'server.example.test'], subkey: null, nonce: 51 }, clock.now).request),
      tgt.part.key,
      KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY,
      51,
    );
    await refused(kdc, tgsRequest({ realm: REALM, tgt: st, service: ['host', 'server.example.test'] }, clock.now).request, KRB_ERROR_CODE.KDC_ERR_POLICY);
    for (const option of [KDC_OPTIONS.ENC_TKT_IN_SKEY, KDC_OPTIONS.CNAME_IN_ADDL_TKT, KDC_OPTIONS.POSTDATED, KDC_OPTIONS.VALIDATE, KDC_OPTIONS.PROXY])
      await refused(
        kdc,
        tgsRequest({ realm: REALM, tgt, service: ['host', 'server.example.test'], options: option }, clock.now).request,
        KRB_ERROR_CODE.KDC_ERR_BADOPTION,
      );
    const s4u = unpackKdcReq(tgsRequest({ realm: REALM, tgt, service: ['host', 'server.example.test'] }, clock.now).request);
    s4u.padata!.push({ padataType: PA_TYPE.FOR_USER, padataValue: new Uint8Array([0x30, 0]) });
    const error = await refused(kdc, packKdcReq(s4u), KRB_ERROR_CODE.KDC_ERR_PADATA_TYPE_NOSUPP);
    assert.match(error.eText!, /S4U2Self/);
    const bare = unpackKdcReq(tgsRequest({ realm: REALM, tgt, service: ['host', 'server.example.test'] }, clock.now).request);
    await refused(kdc, packKdcReq({ ...bare, padata: [] }), KRB_ERROR_CODE.KDC_ERR_PADATA_TYPE_NOSUPP);
  });

  it("answers a FAST-armored TGS-REQ as a KDC without FAST does: the armor left unread, the outer request answered (what MIT's client sends)", async () => {
    const { kdc, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    const made = tgsRequest({ realm: REALM, tgt, service: ['host', 'server.example.test'], nonce: 61 }, clock.now);
    const armored = unpackKdcReq(made.request);
    armored.padata!.push({ padataType: PA_TYPE.FX_FAST, padataValue: new Uint8Array([0xa0, 0x02, 0x30, 0x00]) });
    openReply(await replied(kdc, packKdcReq(armored)), made.replyKey, made.replyUsage, 61);
  });

  it("copies the TGS-REQ's enc-authorization-data (sealed in the subkey, usage 5, or the session key, usage 4) into the ticket", async () => {
    const { kdc, db, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    const ad = [{ adType: AD_TYPE.IF_RELEVANT, adData: Uint8Array.of(0x30, 0x00) }];
    for (const subkey of [undefined, null]) {
      const made = tgsRequest({ realm: REALM, tgt, subkey, service: ['host', 'server.example.test'], nonce: 71, authorizationData: ad }, clock.now);
      const rep = await replied(kdc, made.request);
      assert.deepEqual((await openTicket(db, rep.ticket)).authorizationData, ad);
    }
  });
});

describe('the KDC: what it takes', () => {
  it('answers bytes that are not a KDC request with a KRB-ERROR: KRB_AP_ERR_MSG_TYPE for another message, KRB_ERR_GENERIC for one that does not decode', async () => {
    const { kdc } = realm();
    await refused(
      kdc,
      packApReq({
        apOptions: 0,
        ticket: { realm: REALM, sname: { nameType: 2, nameString: ['krbtgt', REALM] }, encPart: { etype: 18, cipher: new Uint8Array(40) } },
        authenticator: { etype: 18, cipher: new Uint8Array(40) },
      }),
      KRB_ERROR_CODE.KRB_AP_ERR_MSG_TYPE,
    );
    await refused(kdc, Uint8Array.of(0x6a, 0x03, 0x30, 0x01, 0x00), KRB_ERROR_CODE.KRB_ERR_GENERIC);
    await refused(kdc, new Uint8Array(0), KRB_ERROR_CODE.KRB_AP_ERR_MSG_TYPE);
  });

  it('never fails and always answers a message that decodes, whatever the bytes (random, and mutated AS-REQs and TGS-REQs)', async () => {
    const { kdc, clock } = realm();
    const tgt = await tgtOf(kdc, clock);
    const seeds = [
      asRequest({ realm: REALM, client: ['alice'], padata: [encTimestamp(aliceKey(), T0)] }, T0),
      tgsRequest({ realm: REALM, tgt, service: ['host', 'server.example.test'] }, T0).request,
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }))
            .map(([seed, edits]) => {
              const copy = new Uint8Array(seed);
              for (const [at, value] of edits) copy[at % copy.length] = value;
              return copy;
            }),
        ),
        async (bytes) => {
          const { reply, record } = await kdc.handle(bytes, 'udp', 'fuzz');
          const message = unpackKerberosMessage(reply);
          assert.ok(['KRB-ERROR', 'AS-REP', 'TGS-REP'].includes(message.type));
          assert.equal(record.errorCode === 0, message.type !== 'KRB-ERROR');
        },
      ),
      { numRuns: 300, seed: 14 },
    );
  });

  it('counts what it did, and records the principals and results', async () => {
    const { kdc, clock } = realm();
    await tgtOf(kdc, clock);
    const { record } = await kdc.handle(asRequest({ realm: REALM, client: ['nobody'] }, T0), 'udp', '127.0.0.1:1');
    assert.deepEqual(
      { exchange: record.exchange, client: record.client, server: record.server, result: record.result, transport: record.transport },
      { exchange: 'AS', client: 'nobody@EXAMPLE.TEST', server: 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST', result: 'KDC_ERR_C_PRINCIPAL_UNKNOWN', transport: 'udp' },
    );
    const stats = kdc.stats();
    assert.equal(stats.as, 2);
    assert.equal(stats.issued, 1);
    assert.deepEqual(stats.refused, { KDC_ERR_C_PRINCIPAL_UNKNOWN: 1 });
  });
});
