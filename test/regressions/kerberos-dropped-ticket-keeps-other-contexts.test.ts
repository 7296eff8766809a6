// Regression (found by `sspi-emu fuzz --package kerberos`, kerberos/ap-rep, 16 inputs in flight):
// a client context that got a KRB-ERROR KRB_AP_ERR_MODIFIED (or TKT_EXPIRED) in place of its AP-REP
// drops the service ticket from the cache, which zeroed the ticket's session key; every other
// context of the same identity still waiting for its AP-REP then read its own, valid AP-REP with a
// zero key and answered SEC_E_MUTUAL_AUTH_FAILED. One acceptor's refusal (or a hostile peer's
// KRB-ERROR) must not break other handshakes: a waiting context now holds its own copy of the key.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ASC_REQ, ISC_REQ, SECBUFFER, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine } from '../../index.js';
import { GSS_KRB5_TOK_ID, KRB_ERROR_CODE, KRB_NT, packKrbError } from '../../packages/kerberos/messages/index.js';
import { withMachine } from '../helpers/machine.js';

const REALM = 'EXAMPLE.TEST';
const SERVICE = 'HTTP/web.example.test';
const SERVICE_PASSWORD = 'web-service-secret-9';

/** The acceptor's KRB-ERROR context token (TOK_ID 03 00) with `code`. */
function errorToken(code: number): Uint8Array {
  const message = packKrbError({
    stime: new Date(Math.floor(Date.now() / 1000) * 1000),
    susec: 0,
    errorCode: code,
    realm: REALM,
    sname: { nameType: KRB_NT.SRV_HST, nameString: ['HTTP', 'web.example.test'] },
  });
  // The framing by hand: packGssKrb5Token is for the three context tokens, this is one of them.
  const oid = Uint8Array.of(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02);
  const body = Uint8Array.from([...oid, GSS_KRB5_TOK_ID.KRB_ERROR >> 8, 0, ...message]);
  const length = body.length < 0x80 ? [body.length] : body.length < 0x100 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 0xff];
  return Uint8Array.from([0x60, ...length, ...body]);
}

describe('regression: a service ticket dropped by one context leaves the others working', { timeout: 120_000 }, () => {
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

  for (const code of [KRB_ERROR_CODE.KRB_AP_ERR_MODIFIED, KRB_ERROR_CODE.KRB_AP_ERR_TKT_EXPIRED]) {
    it(`a KRB-ERROR ${code} to one context; another context's AP-REP still completes it`, async () => {
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
        const start = () => proc.sspi.initializeSecurityContext({ credential: out.credential!, targetName: SERVICE, contextReq: ISC_REQ.MUTUAL_AUTH });
        const a = await start();
        const b = await start();
        assert.equal(statusName(b.status), 'SEC_I_CONTINUE_NEEDED');
        const accepted = await proc.sspi.acceptSecurityContext({
          credential: inb.credential!,
          input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: b.output[0]!.pvBuffer }],
          contextReq: ASC_REQ.MUTUAL_AUTH,
        });
        assert.equal(statusName(accepted.status), 'SEC_E_OK');
        const refused = await proc.sspi.initializeSecurityContext({
          credential: out.credential!,
          context: a.context!,
          targetName: SERVICE,
          contextReq: ISC_REQ.MUTUAL_AUTH,
          input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: errorToken(code) }],
        });
        assert.notEqual(statusName(refused.status), 'SEC_E_OK');
        const completed = await proc.sspi.initializeSecurityContext({
          credential: out.credential!,
          context: b.context!,
          targetName: SERVICE,
          contextReq: ISC_REQ.MUTUAL_AUTH,
          input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: accepted.output[0]!.pvBuffer }],
        });
        assert.equal(statusName(completed.status), 'SEC_E_OK', "the other context's own AP-REP");
        for (const c of [a.context, b.context, accepted.context]) if (c !== undefined) await proc.sspi.deleteSecurityContext(c);
      });
    });
  }
});
