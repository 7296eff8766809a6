// The client's AS and TGS exchanges (packages/kerberos/kdc-client.ts) against a local MIT KDC:
// a TGT with pre-authentication (the salt and parameters from the KDC's ETYPE-INFO2), a service
// ticket the service's keytab key opens, a renewable TGT (its times within what was asked,
// packages/kerberos/reply-times.ts), and each refusal as its status: a wrong password, an
// unknown user, an unknown service, a clock five minutes off, a KDC that is not there. Skipped,
// saying so, without krb5-kdc, krb5-admin-server and krb5-user.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  SEC_E_LOGON_DENIED,
  SEC_E_NO_AUTHENTICATING_AUTHORITY,
  SEC_E_TIME_SKEW,
  statusName,
} from '../../../headers/index.js';
import { decrypt, KEY_USAGE, stringToKey, type EncryptionKey } from '../../../packages/kerberos/crypto/index.js';
import { KdcClient, kdcCall, newClientSecret, type DeriveKey } from '../../../packages/kerberos/kdc-client.js';
import { KRB_NT, TICKET_FLAGS, unpackEncTicketPart } from '../../../packages/kerberos/messages/index.js';
import { clientPrincipal, targetPrincipal } from '../../../packages/kerberos/names.js';
import { parseSettings } from '../../../packages/kerberos/settings.js';
import { isFailure } from '../../../packages/kerberos/statuses.js';
import type { CachedTicket } from '../../../packages/kerberos/tickets.js';
import { unpackKeytab } from '../../../packages/kerberos/wire.js';
import { mitKdcMissing, MitKdc } from '../../helpers/mit-kdc.js';
import { freePort } from '../../helpers/sockets.js';

const SKIP = mitKdcMissing();
const PASSWORD = 'Correct-horse-1';

/** string-to-key on this thread (the package runs it on the LSA's work pool). */
const derive: DeriveKey = async (etype, password, salt, params) => stringToKey(etype, password, salt, params);

describe('the Kerberos client against a local MIT KDC', { timeout: 120_000 }, () => {
  let kdc: MitKdc | undefined;
  let serviceKeys: EncryptionKey[] = [];

  before(async () => {
    if (SKIP) return;
    kdc = await MitKdc.start({ principals: [{ name: 'alice', password: PASSWORD }, { name: 'host/localhost' }] });
    await kdc.kadmin(`ktadd -k ${join(kdc.dir, 'service.keytab')} host/localhost`);
    serviceKeys = unpackKeytab(await readFile(join(kdc.dir, 'service.keytab'))).map((e) => e.key);
  });

  after(async () => {
    await kdc?.stop();
  });

  const client = (extra: Record<string, unknown> = {}): { kdcClient: KdcClient; settings: ReturnType<typeof parseSettings> } => {
    const settings = parseSettings({ realm: kdc!.realm, kdc: `127.0.0.1:${kdc!.port}`, ...extra });
    const offset = settings.clockOffsetSeconds * 1000;
    return { kdcClient: new KdcClient(settings, () => new Date(Date.now() + offset), derive), settings };
  };

  const alice = (password = PASSWORD, user = 'alice') => newClientSecret(clientPrincipal(user, '', kdc!.realm)!, password);

  it('gets a TGT with pre-authentication, then a service ticket that the service key opens', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const { kdcClient, settings } = client();
    const secret = alice();
    const tgt = await kdcClient.asExchange(secret, kdcCall(settings));
    assert.ok(!isFailure(tgt), isFailure(tgt) ? tgt.reason : '');
    assert.deepEqual(tgt.server.name.nameString, ['krbtgt', kdc!.realm]);
    assert.deepEqual(tgt.client.name.nameString, ['alice']);
    assert.ok((tgt.flags & TICKET_FLAGS.PRE_AUTHENT) !== 0, 'the TGT says it was pre-authenticated');
    assert.ok((tgt.flags & TICKET_FLAGS.INITIAL) !== 0);
    assert.equal(secret.known?.etype, 18, "the KDC's first choice, aes256-cts-hmac-sha1-96, is remembered for the next AS exchange");

    const server = targetPrincipal('host@localhost', kdc!.realm)!;
    assert.equal(server.name.nameType, KRB_NT.SRV_HST);
    const service = (await kdcClient.tgsExchange(tgt as CachedTicket, server, kdcCall(settings))) as CachedTicket;
    assert.ok(!isFailure(service), isFailure(service) ? (service as unknown as { reason: string }).reason : '');
    const key = serviceKeys.find((k) => k.keytype === service.ticket.encPart.etype)!;
    const part = unpackEncTicketPart(decrypt(key, KEY_USAGE.KDC_REP_TICKET, service.ticket.encPart.cipher));
    assert.deepEqual(part.cname.nameString, ['alice']);
    assert.deepEqual(part.key.keyvalue, service.sessionKey.keyvalue, "the ticket carries the session key the client was given");
  });

  it("takes MIT's renewable TGT for a life longer than its max_life (RENEWABLE-OK: renewable up to the till asked), and a service ticket with it", async (t) => {
    if (SKIP) return t.skip(SKIP);
    // The realm's max_life is 10 h: a day asked for gets 10 h, renewable (RENEWABLE-OK) until the day's end at most.
    const { kdcClient, settings } = client({ ticketLifetimeSeconds: 24 * 3600 });
    const asked = Date.now() + 24 * 3600 * 1000;
    const tgt = await kdcClient.asExchange(alice(), kdcCall(settings));
    assert.ok(!isFailure(tgt), isFailure(tgt) ? tgt.reason : '');
    assert.ok((tgt.flags & TICKET_FLAGS.RENEWABLE) !== 0, 'the TGT is renewable');
    assert.ok(tgt.renewTill !== undefined && tgt.renewTill.getTime() > tgt.endtime.getTime());
    assert.ok(tgt.renewTill.getTime() <= asked, 'renewable no further than the till asked for');
    assert.ok(tgt.endtime.getTime() <= Date.now() + 10 * 3600 * 1000 + 1000);
    const service = await kdcClient.tgsExchange(tgt, targetPrincipal('host@localhost', kdc!.realm)!, kdcCall(settings));
    assert.ok(!isFailure(service), isFailure(service) ? service.reason : '');
    assert.ok(service.endtime.getTime() <= tgt.endtime.getTime());
    assert.equal(service.authtime.getTime(), tgt.authtime.getTime(), "the service ticket carries the TGT's authtime");
  });

  it('pre-authenticates at once on the second AS exchange (the KDC named the salt the first time)', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const { kdcClient, settings } = client();
    const secret = alice();
    assert.ok(!isFailure(await kdcClient.asExchange(secret, kdcCall(settings))));
    const keysMade = secret.keys.size;
    assert.ok(!isFailure(await kdcClient.asExchange(secret, kdcCall(settings))));
    assert.equal(secret.keys.size, keysMade, 'no new key was derived');
  });

  for (const [what, make, expected] of [
    ['a wrong password', () => alice('wrong-password'), SEC_E_LOGON_DENIED],
    ['an unknown user', () => alice(PASSWORD, 'nobody'), SEC_E_LOGON_DENIED],
  ] as const) {
    it(`answers ${statusName(expected)} for ${what}`, async (t) => {
      if (SKIP) return t.skip(SKIP);
      const { kdcClient, settings } = client();
      const got = await kdcClient.asExchange(make(), kdcCall(settings));
      assert.ok(isFailure(got));
      assert.equal(statusName(got.status), statusName(expected), got.reason);
    });
  }

  it('answers SEC_E_TARGET_UNKNOWN for a service the KDC does not know', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const { kdcClient, settings } = client();
    const tgt = await kdcClient.asExchange(alice(), kdcCall(settings));
    assert.ok(!isFailure(tgt));
    const got = await kdcClient.tgsExchange(tgt as CachedTicket, targetPrincipal('HTTP/nowhere.example.test', kdc!.realm)!, kdcCall(settings));
    assert.ok(isFailure(got));
    assert.equal(statusName(got.status), 'SEC_E_TARGET_UNKNOWN', got.reason);
    assert.match(got.reason, /KDC_ERR_S_PRINCIPAL_UNKNOWN/);
  });

  it('answers SEC_E_TIME_SKEW when its clock is ten minutes off (the KDC refuses the timestamp)', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const { kdcClient, settings } = client({ clockOffsetSeconds: 600 });
    const got = await kdcClient.asExchange(alice(), kdcCall(settings));
    assert.ok(isFailure(got));
    assert.equal(statusName(got.status), statusName(SEC_E_TIME_SKEW), got.reason);
  });

  it('answers SEC_E_NO_AUTHENTICATING_AUTHORITY at once when no KDC listens', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const port = await freePort();
    const settings = parseSettings({ realm: kdc!.realm, kdc: `127.0.0.1:${port}` });
    const got = await new KdcClient(settings, () => new Date(), derive).asExchange(alice(), kdcCall(settings));
    assert.ok(isFailure(got));
    assert.equal(statusName(got.status), statusName(SEC_E_NO_AUTHENTICATING_AUTHORITY), got.reason);
    assert.match(got.reason, /ECONNREFUSED/);
  });

  it('finds the realm for the same user however its domain is written, and none for another domain', (t) => {
    if (SKIP) return t.skip(SKIP);
    for (const [user, domain] of [
      ['alice', ''],
      ['alice', 'EXAMPLE.TEST'],
      ['alice', 'example'],
      ['alice@EXAMPLE.TEST', ''],
    ] as const)
      assert.deepEqual(clientPrincipal(user, domain, 'EXAMPLE.TEST')?.name.nameString, ['alice'], `${domain}\\${user}`);
    assert.equal(clientPrincipal('alice', 'WORKGROUP', 'EXAMPLE.TEST'), undefined);
    assert.equal(clientPrincipal('alice@OTHER.TEST', '', 'EXAMPLE.TEST'), undefined);
  });
});
