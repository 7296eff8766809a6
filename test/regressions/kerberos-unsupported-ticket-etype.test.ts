// Regression (found by `sspi-emu fuzz --package kerberos`, kerberos/ap-req): an AP-REQ whose
// ticket's enc-part named an encryption type the acceptor does not accept (1, des-cbc-crc) made
// the acceptor derive a service key of that etype from the account's password, which threw
// (KerberosCryptoError), and the LSA answered SEC_E_INTERNAL_ERROR. The etype is the peer's word:
// one this machine does not accept now has no key, SEC_E_WRONG_PRINCIPAL (KRB_AP_ERR_NOKEY).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ASC_REQ, ISC_REQ, SECBUFFER, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine } from '../../index.js';
import { packApReq, packGssKrb5Token, unpackApReq, unpackGssKrb5Token } from '../../packages/kerberos/messages/index.js';
import { withMachine } from '../helpers/machine.js';

const REALM = 'EXAMPLE.TEST';
const SERVICE = 'HTTP/web.example.test';
const SERVICE_PASSWORD = 'web-service-secret-9';

describe('regression: a ticket of an etype the acceptor does not accept', { timeout: 120_000 }, () => {
  let dc: Machine | undefined;
  before(async () => {
    dc = await Machine.boot({
      role: 'domain-controller',
      realm: REALM,
      accounts: ['alice:Alice-pw-1'],
      services: [`${SERVICE}:${SERVICE_PASSWORD}`],
      trace: false,
    });
  });
  after(async () => dc?.shutdown());

  it('is SEC_E_WRONG_PRINCIPAL, not SEC_E_INTERNAL_ERROR, for every etype the cryptosystem lacks', async () => {
    const options = {
      packages: ['kerberos'],
      accounts: [`${SERVICE}:${SERVICE_PASSWORD}`],
      trace: false,
      packageSettings: { kerberos: { realm: REALM, kdc: `127.0.0.1:${dc!.kdcAddress!.port}`, services: [SERVICE] } },
    };
    await withMachine(options, async (m) => {
      const proc = await m.spawn('client');
      const out = await proc.sspi.acquireCredentialsHandle({
        package: 'Kerberos',
        credentialUse: SECPKG_CRED.OUTBOUND,
        authData: { User: 'alice', Domain: REALM, Password: 'Alice-pw-1' },
      });
      const inb = await proc.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.INBOUND });
      for (const etype of [1, 3, 16, 23, 0, -1]) {
        const first = await proc.sspi.initializeSecurityContext({ credential: out.credential!, targetName: SERVICE, contextReq: ISC_REQ.MUTUAL_AUTH });
        assert.equal(statusName(first.status), 'SEC_I_CONTINUE_NEEDED');
        const framed = unpackGssKrb5Token(first.output[0]!.pvBuffer);
        const req = unpackApReq(framed.message);
        const changed = packGssKrb5Token({ ...framed, message: packApReq({ ...req, ticket: { ...req.ticket, encPart: { ...req.ticket.encPart, etype } } }) });
        const accepted = await proc.sspi.acceptSecurityContext({
          credential: inb.credential!,
          input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: changed }],
          contextReq: ASC_REQ.CONNECTION,
        });
        assert.equal(statusName(accepted.status), 'SEC_E_WRONG_PRINCIPAL', `etype ${etype}`);
        await proc.sspi.deleteSecurityContext(first.context!);
        if (accepted.context !== undefined) await proc.sspi.deleteSecurityContext(accepted.context);
      }
      // The acceptor still opens a good ticket.
      const good = await proc.sspi.initializeSecurityContext({ credential: out.credential!, targetName: SERVICE, contextReq: 0 });
      const ok = await proc.sspi.acceptSecurityContext({
        credential: inb.credential!,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: good.output[0]!.pvBuffer }],
        contextReq: 0,
      });
      assert.equal(statusName(ok.status), 'SEC_E_OK');
    });
  });
});
