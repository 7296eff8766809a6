// Kerberos messages described with keys (packages/kerberos/decode-keys.ts): tokens built with the
// package's own code (the initiator's makeApRequest, the message packers, the cryptosystem) and
// opened with a keytab, a password and a raw key, each part with its RFC 4120 key usage; keys found
// in one part open the next (ticket -> authenticator); a wrong key leaves a part "not opened"; a
// plaintext that does not parse is an error at its offset; the key specs refuse what is not a key.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DerError } from '../../../packages/kit/index.js';
import { encrypt, KEY_USAGE, makeRandomKey, stringToKey, type EncryptionKey } from '../../../packages/kerberos/crypto/index.js';
import { makeApRequest } from '../../../packages/kerberos/ap-exchange.js';
import { GSS_C, GSS_CHECKSUM_TYPE, packGssChecksum } from '../../../packages/kerberos/gss-checksum.js';
import { asRequest, encTimestamp, tgsRequest } from '../../../packages/kerberos/kdc-requests.js';
import {
  GSS_KRB5_MECH_OID,
  GSS_KRB5_TOK_ID,
  KRB_MSG_TYPE,
  KRB_NT,
  packApRep,
  packApReq,
  packAuthenticator,
  packEncApRepPart,
  packEncKdcRepPart,
  packEncKrbCredPart,
  packEncTicketPart,
  packGssKrb5Token,
  packKdcRep,
  packKrbCred,
  TICKET_FLAGS,
  type PrincipalName,
  type Ticket,
} from '../../../packages/kerberos/messages/index.js';
import {
  DecodeKeyError,
  describeKerberosTokenWithKeys,
  keytabDecodeKeys,
  packKeytab,
  passwordDecodeKeys,
  rawDecodeKey,
  unpackKeytab,
} from '../../../packages/kerberos/wire.js';
import type { CachedTicket } from '../../../packages/kerberos/tickets.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const REALM = 'EXAMPLE.TEST';
const SERVICE = { nameType: KRB_NT.SRV_HST, nameString: ['HTTP', 'web01.example.test'] };
const ALICE = { nameType: KRB_NT.PRINCIPAL, nameString: ['alice'] };
const SERVICE_PASSWORD = 'Web01-service-pw';
const ALICE_PASSWORD = 'Alice-pw-1';
const serviceKey = stringToKey(18, SERVICE_PASSWORD, `${REALM}HTTPweb01.example.test`);
const aliceKey = stringToKey(18, ALICE_PASSWORD, `${REALM}alice`);
const krbtgtKey = makeRandomKey(18);
const NOW = new Date('2026-12-07T12:00:00Z');
const LATER = new Date('2026-12-07T22:00:00Z');

type Obj = { [key: string]: unknown };
const at = (value: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v as Obj | unknown[] | undefined)?.[k as keyof typeof v], value);

/** A ticket for `server` with `sessionKey`, sealed in `key` (usage 2), as a KDC issues it. */
function ticketFor(server: PrincipalName, sessionKey: EncryptionKey, key: EncryptionKey, kvno: number): Ticket {
  const part = packEncTicketPart({
    flags: TICKET_FLAGS.FORWARDABLE | TICKET_FLAGS.PRE_AUTHENT,
    key: sessionKey,
    crealm: REALM,
    cname: ALICE,
    transited: { trType: 1, contents: new Uint8Array(0) },
    authtime: NOW,
    endtime: LATER,
  });
  return { realm: REALM, sname: server, encPart: { etype: key.keytype, kvno, cipher: encrypt(key, KEY_USAGE.KDC_REP_TICKET, part) } };
}

function apRequest(): { token: Uint8Array; sessionKey: EncryptionKey; subkey: EncryptionKey } {
  const sessionKey = makeRandomKey(18);
  const ticket: CachedTicket = {
    client: { name: ALICE, realm: REALM },
    server: { name: SERVICE, realm: REALM },
    ticket: ticketFor(SERVICE, sessionKey, serviceKey, 2),
    sessionKey,
    flags: 0,
    authtime: NOW,
    starttime: undefined,
    endtime: LATER,
    renewTill: undefined,
  };
  const bindingsHash = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const request = makeApRequest({ ticket, gssFlags: GSS_C.MUTUAL | GSS_C.SEQUENCE | GSS_C.CONF | GSS_C.INTEG, bindingsHash, mutual: true, now: NOW });
  return { token: request.token, sessionKey, subkey: request.subkey };
}

const keytab = keytabDecodeKeys(
  unpackKeytab(
    packKeytab([
      { principal: { realm: REALM, components: ['HTTP', 'web01.example.test'], nameType: KRB_NT.SRV_HST }, timestamp: 0, kvno: 2, key: serviceKey },
      { principal: { realm: REALM, components: ['HTTP', 'web01.example.test'], nameType: KRB_NT.SRV_HST }, timestamp: 0, kvno: 1, key: makeRandomKey(18) },
    ]),
  ),
);

describe('describeKerberosTokenWithKeys: an AP-REQ in its GSS-API framing', () => {
  const { token, sessionKey, subkey } = apRequest();

  function assertOpened(described: unknown, ticketStatus: RegExp): void {
    assert.match(String(at(described, 'ticket', 'encPart', 'status')), ticketStatus);
    const ticketPart = at(described, 'ticket', 'encPart', 'plaintext');
    assert.equal(at(ticketPart, 'cname'), 'alice@EXAMPLE.TEST (1 (KRB_NT_PRINCIPAL))');
    assert.equal(at(ticketPart, 'key', 'keyvalue'), hex(sessionKey.keyvalue), 'the session key the KDC put in the ticket');
    assert.match(String(at(ticketPart, 'flags')), /FORWARDABLE.*PRE_AUTHENT/);
    assert.equal(at(ticketPart, 'endtime'), '2026-12-07T22:00:00Z');
    assert.equal(
      at(described, 'authenticator', 'status'),
      'decrypted with the session key of the ticket of alice@EXAMPLE.TEST (key usage 11)',
    );
    const authenticator = at(described, 'authenticator', 'plaintext');
    assert.equal(at(authenticator, 'cname'), 'alice@EXAMPLE.TEST (1 (KRB_NT_PRINCIPAL))');
    assert.equal(at(authenticator, 'cksum', 'flags'), '0x0000003a (GSS_C_MUTUAL_FLAG, GSS_C_SEQUENCE_FLAG, GSS_C_CONF_FLAG, GSS_C_INTEG_FLAG)');
    assert.equal(at(authenticator, 'cksum', 'bindings'), '0102030405060708090a0b0c0d0e0f10');
    assert.equal(at(authenticator, 'subkey', 'keyvalue'), hex(subkey.keyvalue));
    assert.equal(at(authenticator, 'ctime'), '2026-12-07T12:00:00Z');
  }

  it('opens the ticket with the keytab entry of its kvno (usage 2) and the authenticator with the session key found (usage 11)', () => {
    const described = describeKerberosTokenWithKeys(token, keytab);
    assert.equal(described.type, 'AP-REQ');
    assertOpened(described, /^decrypted with keytab entry HTTP\/web01\.example\.test@EXAMPLE\.TEST kvno 2 aes256-cts-hmac-sha1-96 \(key usage 2\)$/);
  });

  it("opens it with the service's password (string-to-key with the default salt)", () => {
    const described = describeKerberosTokenWithKeys(token, passwordDecodeKeys(`HTTP/web01.example.test@${REALM}:${SERVICE_PASSWORD}`));
    assertOpened(described, /^decrypted with password of HTTP\/web01\.example\.test@EXAMPLE\.TEST \(aes256-cts-hmac-sha1-96\) \(key usage 2\)$/);
  });

  it('opens it with a raw key given by MIT name or by number', () => {
    for (const etype of ['aes256-cts-hmac-sha1-96', '18']) {
      const described = describeKerberosTokenWithKeys(token, [rawDecodeKey(`${etype}:${hex(serviceKey.keyvalue)}`)]);
      assertOpened(described, /^decrypted with key aes256-cts-hmac-sha1-96 [0-9a-f]{8}\.\.\. \(key usage 2\)$/);
    }
  });

  it('opens the authenticator alone with the session key given raw', () => {
    const described = describeKerberosTokenWithKeys(token, [rawDecodeKey(`18:${hex(sessionKey.keyvalue)}`)]);
    assert.match(String(at(described, 'ticket', 'encPart', 'status')), /^not opened: no key opened it \(1 key of etype 18 \(aes256-cts-hmac-sha1-96\) kvno 2 tried, key usage 2\)$/);
    assert.match(String(at(described, 'authenticator', 'status')), /^decrypted with key aes256-cts-hmac-sha1-96 .* \(key usage 11\)$/);
  });

  it('leaves both parts "not opened" with a wrong key, and says when no key of the etype was given', () => {
    const wrong = describeKerberosTokenWithKeys(token, [rawDecodeKey(`18:${hex(makeRandomKey(18).keyvalue)}`)]);
    assert.match(String(at(wrong, 'ticket', 'encPart', 'status')), /^not opened: no key opened it/);
    assert.match(String(at(wrong, 'authenticator', 'status')), /^not opened: no key opened it/);
    assert.equal(at(wrong, 'ticket', 'encPart', 'plaintext'), undefined);
    const other = describeKerberosTokenWithKeys(token, [rawDecodeKey(`17:${hex(makeRandomKey(17).keyvalue)}`)]);
    assert.equal(at(other, 'ticket', 'encPart', 'status'), 'not opened: no key given for etype 18 (aes256-cts-hmac-sha1-96) kvno 2');
    assert.equal(at(other, 'authenticator', 'status'), 'not opened: no key given for etype 18 (aes256-cts-hmac-sha1-96)');
  });

  it('shows a plaintext that does not parse as an error at its offset', () => {
    // A "ticket" whose plaintext is an EncTicketPart cut short: it decrypts, then does not read.
    const whole = packEncTicketPart({ flags: 0, key: makeRandomKey(18), crealm: REALM, cname: ALICE, transited: { trType: 1, contents: new Uint8Array(0) }, authtime: NOW, endtime: LATER });
    const sealed = encrypt(serviceKey, KEY_USAGE.KDC_REP_TICKET, whole.subarray(0, 20));
    const rep = packKdcRep({
      msgType: KRB_MSG_TYPE.AS_REP,
      cname: ALICE,
      crealm: REALM,
      ticket: { realm: REALM, sname: SERVICE, encPart: { etype: 18, kvno: 2, cipher: sealed } },
      encPart: { etype: 18, kvno: 1, cipher: encrypt(aliceKey, KEY_USAGE.AS_REP_ENC_PART, new Uint8Array([0x30, 0x00])) },
    });
    const described = describeKerberosTokenWithKeys(rep, keytab);
    assert.match(String(at(described, 'ticket', 'encPart', 'status')), /^decrypted with keytab entry .* kvno 2 /);
    assert.match(String(at(described, 'ticket', 'encPart', 'plaintext', 'error')), /^not a valid EncTicketPart: .*\([A-Z_]+ at byte offset \d+ of the 20-byte plaintext\)$/);
    assert.equal(at(described, 'ticket', 'encPart', 'plaintext', 'bytes'), hex(whole.subarray(0, 20)));
  });
});

describe('describeKerberosTokenWithKeys: KDC replies, AP-REP and KRB-CRED', () => {
  it("opens an AS-REP's enc-part with the client's password (usage 3) and shows the session key it carries", () => {
    const sessionKey = makeRandomKey(18);
    const tgsName = { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', REALM] };
    const encPart = packEncKdcRepPart({
      kind: 'EncASRepPart',
      key: sessionKey,
      lastReq: [{ lrType: 0, lrValue: NOW }],
      nonce: 12345,
      flags: TICKET_FLAGS.INITIAL,
      authtime: NOW,
      endtime: LATER,
      srealm: REALM,
      sname: tgsName,
    });
    const rep = packKdcRep({
      msgType: KRB_MSG_TYPE.AS_REP,
      cname: ALICE,
      crealm: REALM,
      ticket: ticketFor(tgsName, sessionKey, krbtgtKey, 1),
      encPart: { etype: 18, kvno: 1, cipher: encrypt(aliceKey, KEY_USAGE.AS_REP_ENC_PART, encPart) },
    });
    const described = describeKerberosTokenWithKeys(rep, passwordDecodeKeys(`alice@${REALM}:${ALICE_PASSWORD}`));
    assert.match(String(at(described, 'ticket', 'encPart', 'status')), /^not opened: no key opened it/);
    assert.equal(at(described, 'encPart', 'status'), 'decrypted with password of alice@EXAMPLE.TEST (aes256-cts-hmac-sha1-96) (key usage 3)');
    assert.equal(at(described, 'encPart', 'plaintext', 'key', 'keyvalue'), hex(sessionKey.keyvalue));
    assert.equal(at(described, 'encPart', 'plaintext', 'nonce'), 12345);
    assert.equal(at(described, 'encPart', 'plaintext', 'sname'), 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST (2 (KRB_NT_SRV_INST))');
    // With the krbtgt key too, the TGT opens first and its session key is the one the enc-part gives.
    const both = describeKerberosTokenWithKeys(rep, [...passwordDecodeKeys(`alice@${REALM}:${ALICE_PASSWORD}`), rawDecodeKey(`18:${hex(krbtgtKey.keyvalue)}`)]);
    assert.equal(at(both, 'ticket', 'encPart', 'plaintext', 'key', 'keyvalue'), hex(sessionKey.keyvalue));
  });

  it("opens a TGS-REP's enc-part with the TGT session key (usage 8) or the TGS-REQ subkey (usage 9)", () => {
    for (const usage of [KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY, KEY_USAGE.TGS_REP_ENC_PART_SUBKEY]) {
      const replyKey = makeRandomKey(18);
      const sessionKey = makeRandomKey(18);
      const encPart = packEncKdcRepPart({ kind: 'EncTGSRepPart', key: sessionKey, lastReq: [], nonce: 7, flags: 0, authtime: NOW, endtime: LATER, srealm: REALM, sname: SERVICE });
      const rep = packKdcRep({
        msgType: KRB_MSG_TYPE.TGS_REP,
        cname: ALICE,
        crealm: REALM,
        ticket: ticketFor(SERVICE, sessionKey, serviceKey, 2),
        encPart: { etype: 18, cipher: encrypt(replyKey, usage, encPart) },
      });
      const described = describeKerberosTokenWithKeys(rep, [rawDecodeKey(`18:${hex(replyKey.keyvalue)}`)]);
      assert.match(String(at(described, 'encPart', 'status')), new RegExp(`^decrypted with key aes256-cts-hmac-sha1-96 .* \\(key usage ${usage}\\)$`));
      assert.equal(at(described, 'encPart', 'plaintext', 'tag'), 'EncTGSRepPart');
      assert.equal(at(described, 'encPart', 'plaintext', 'key', 'keyvalue'), hex(sessionKey.keyvalue));
    }
  });

  it("opens an AP-REP (usage 12) with the session key and shows the acceptor's subkey", () => {
    const sessionKey = makeRandomKey(17);
    const acceptorSubkey = makeRandomKey(17);
    const part = packEncApRepPart({ ctime: NOW, cusec: 42, subkey: acceptorSubkey, seqNumber: 99 });
    const rep = packApRep({ encPart: { etype: 17, cipher: encrypt(sessionKey, KEY_USAGE.AP_REP_ENC_PART, part) } });
    const token = packGssKrb5Token({ mech: GSS_KRB5_MECH_OID, tokId: GSS_KRB5_TOK_ID.AP_REP, message: rep });
    const described = describeKerberosTokenWithKeys(token, [rawDecodeKey(`aes128-cts-hmac-sha1-96:${hex(sessionKey.keyvalue)}`)]);
    assert.match(String(at(described, 'encPart', 'status')), /^decrypted with key aes128-cts-hmac-sha1-96 .* \(key usage 12\)$/);
    assert.equal(at(described, 'encPart', 'plaintext', 'subkey', 'keyvalue'), hex(acceptorSubkey.keyvalue));
    assert.equal(at(described, 'encPart', 'plaintext', 'seqNumber'), 99);
  });

  it("opens a KRB-CRED's enc-part (usage 14), and shows an etype 0 one as sent in the clear", () => {
    const sessionKey = makeRandomKey(18);
    const forwarded = makeRandomKey(18);
    const credPart = packEncKrbCredPart({ ticketInfo: [{ key: forwarded, prealm: REALM, pname: ALICE }] });
    const tickets = [ticketFor(SERVICE, forwarded, serviceKey, 2)];
    const sealed = packKrbCred({ tickets, encPart: { etype: 18, cipher: encrypt(sessionKey, KEY_USAGE.KRB_CRED_ENC_PART, credPart) } });
    const described = describeKerberosTokenWithKeys(sealed, [rawDecodeKey(`18:${hex(sessionKey.keyvalue)}`)]);
    assert.match(String(at(described, 'encPart', 'status')), /\(key usage 14\)$/);
    assert.equal(at(described, 'encPart', 'plaintext', 'ticketInfo', 0, 'key', 'keyvalue'), hex(forwarded.keyvalue));
    assert.equal(at(described, 'encPart', 'plaintext', 'ticketInfo', 0, 'pname'), 'alice@EXAMPLE.TEST (1 (KRB_NT_PRINCIPAL))');
    const clear = describeKerberosTokenWithKeys(packKrbCred({ tickets, encPart: { etype: 0, cipher: credPart } }), keytab);
    assert.equal(at(clear, 'encPart', 'status'), 'not encrypted (etype 0)');
    assert.equal(at(clear, 'encPart', 'plaintext', 'ticketInfo', 0, 'key', 'keyvalue'), hex(forwarded.keyvalue));
    assert.equal(at(clear, 'tickets', 0, 'encPart', 'plaintext', 'key', 'keyvalue'), hex(forwarded.keyvalue), 'the ticket opened with the keytab');
  });
});

describe('describeKerberosTokenWithKeys: requests', () => {
  it("opens a TGS-REQ's TGT with the krbtgt key, its authenticator with the TGT's session key (usage 7), and the enc-authorization-data with the subkey found (usage 5)", () => {
    const tgsName = { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', REALM] };
    const sessionKey = makeRandomKey(18);
    const subkey = makeRandomKey(18);
    const { request } = tgsRequest({
      realm: REALM,
      tgt: { ticket: ticketFor(tgsName, sessionKey, krbtgtKey, 3), sessionKey, client: { name: ALICE, realm: REALM } },
      service: SERVICE,
      subkey,
      authorizationData: [{ adType: 1, adData: Uint8Array.of(0x30, 0x00) }],
    });
    const described = describeKerberosTokenWithKeys(request, [rawDecodeKey(`18:${hex(krbtgtKey.keyvalue)}`)]);
    const apReq = at(described, 'padata', 0, 'value');
    assert.equal(at(apReq, 'ticket', 'encPart', 'plaintext', 'key', 'keyvalue'), hex(sessionKey.keyvalue));
    assert.equal(at(apReq, 'authenticator', 'status'), 'decrypted with the session key of the ticket of alice@EXAMPLE.TEST (key usage 7)');
    assert.equal(at(apReq, 'authenticator', 'plaintext', 'subkey', 'keyvalue'), hex(subkey.keyvalue));
    assert.equal(at(described, 'reqBody', 'encAuthorizationData', 'status'), 'decrypted with the subkey of the authenticator (key usage 5)');
    assert.deepEqual(at(described, 'reqBody', 'encAuthorizationData', 'plaintext'), [{ adType: '1 (AD-IF-RELEVANT)', adData: '3000' }]);
  });

  it("opens an AS-REQ's PA-ENC-TIMESTAMP with the client's password (usage 1)", () => {
    const request = asRequest({ realm: REALM, client: ALICE, padata: [encTimestamp(aliceKey, NOW.getTime())] });
    const described = describeKerberosTokenWithKeys(request, passwordDecodeKeys(`alice@${REALM}:${ALICE_PASSWORD}`));
    const ts = at(described, 'padata', 0, 'value');
    assert.equal(at(ts, 'status'), 'decrypted with password of alice@EXAMPLE.TEST (aes256-cts-hmac-sha1-96) (key usage 1)');
    assert.equal(at(ts, 'plaintext', 'patimestamp'), '2026-12-07T12:00:00Z');
  });

  it("opens a KRB-CRED delegated in the authenticator's 0x8003 checksum with the session key", () => {
    const sessionKey = makeRandomKey(18);
    const forwarded = makeRandomKey(18);
    const tgsName = { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', REALM] };
    const cred = packKrbCred({
      tickets: [ticketFor(tgsName, forwarded, krbtgtKey, 3)],
      encPart: { etype: 18, cipher: encrypt(sessionKey, KEY_USAGE.KRB_CRED_ENC_PART, packEncKrbCredPart({ ticketInfo: [{ key: forwarded }] })) },
    });
    const authenticator = packAuthenticator({
      crealm: REALM,
      cname: ALICE,
      cksum: { cksumtype: GSS_CHECKSUM_TYPE, checksum: packGssChecksum({ bindingsHash: new Uint8Array(16), flags: GSS_C.DELEG | GSS_C.MUTUAL, delegation: cred }) },
      cusec: 0,
      ctime: NOW,
    });
    const apReq = packApReq({
      apOptions: 0,
      ticket: ticketFor(SERVICE, sessionKey, serviceKey, 2),
      authenticator: { etype: 18, cipher: encrypt(sessionKey, KEY_USAGE.AP_REQ_AUTHENTICATOR, authenticator) },
    });
    const described = describeKerberosTokenWithKeys(apReq, keytab);
    const cksum = at(described, 'authenticator', 'plaintext', 'cksum');
    assert.equal(at(cksum, 'flags'), '0x00000003 (GSS_C_DELEG_FLAG, GSS_C_MUTUAL_FLAG)');
    assert.equal(at(cksum, 'delegation', 'encPart', 'status'), 'decrypted with the session key of the ticket of alice@EXAMPLE.TEST (key usage 14)');
    assert.equal(at(cksum, 'delegation', 'encPart', 'plaintext', 'ticketInfo', 0, 'key', 'keyvalue'), hex(forwarded.keyvalue));
    assert.match(String(at(cksum, 'delegation', 'tickets', 0, 'encPart', 'status')), /^not opened: no key opened it/, 'the TGT needs the krbtgt key');
  });

  it('describes any plaintext a key opens: fields, or a DER error at an offset, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('EncTicketPart', 'Authenticator'), (plain, kind) => {
        const sessionKey = makeRandomKey(18);
        const ticket: Ticket =
          kind === 'EncTicketPart'
            ? { realm: REALM, sname: SERVICE, encPart: { etype: 18, kvno: 2, cipher: encrypt(serviceKey, KEY_USAGE.KDC_REP_TICKET, plain) } }
            : ticketFor(SERVICE, sessionKey, serviceKey, 2);
        const authenticator = kind === 'Authenticator' ? plain : new Uint8Array([0x30, 0x00]);
        const token = packApReq({ apOptions: 0, ticket, authenticator: { etype: 18, cipher: encrypt(sessionKey, KEY_USAGE.AP_REQ_AUTHENTICATOR, authenticator) } });
        let described;
        try {
          described = describeKerberosTokenWithKeys(token, keytab);
        } catch (error) {
          assert.fail(`threw ${error instanceof DerError ? 'DerError' : String(error)}`);
        }
        const part = kind === 'EncTicketPart' ? at(described, 'ticket', 'encPart') : at(described, 'authenticator');
        assert.match(String(at(part, 'status')), /^decrypted with /);
        const plaintext = at(part, 'plaintext');
        const error = at(plaintext, 'error');
        if (error !== undefined) assert.match(String(error), new RegExp(`^not a valid ${kind}: .* at byte offset \\d+ of the ${plain.length}-byte plaintext\\)$`));
      }),
      { numRuns: 300 },
    );
  });
});

describe('the key specs', () => {
  it('refuse what is not a key, saying why', () => {
    const refused = (fn: () => unknown, message: RegExp): void =>
      assert.throws(fn, (e: unknown) => e instanceof DecodeKeyError && e.code === 'BAD_KEY' && message.test(e.message));
    refused(() => rawDecodeKey('aes256-cts-hmac-sha1-96'), /is not ETYPE:HEX/);
    refused(() => rawDecodeKey('rc4-hmac:00'), /not a supported encryption type \(aes256-cts-hmac-sha1-96 or 18/);
    refused(() => rawDecodeKey('23:' + '00'.repeat(16)), /not a supported encryption type/);
    refused(() => rawDecodeKey('18:' + '00'.repeat(16)), /the key is 32 bytes, 64 hex digits/);
    refused(() => rawDecodeKey('17:zz' + '00'.repeat(15)), /the key is 16 bytes/);
    refused(() => passwordDecodeKeys('alice:pw'), /is not PRINCIPAL@REALM:PASSWORD/);
    refused(() => passwordDecodeKeys('nopassword'), /is not PRINCIPAL@REALM:PASSWORD/);
  });

  it("leaves out keytab entries of etypes the cryptosystem lacks, and names each entry's principal, kvno and etype", () => {
    const keys = keytabDecodeKeys([
      { principal: { realm: REALM, components: ['host', 'a'], nameType: 3 }, timestamp: 0, kvno: 5, key: { keytype: 23, keyvalue: new Uint8Array(16) } },
      { principal: { realm: REALM, components: ['host', 'a'], nameType: 3 }, timestamp: 0, kvno: 5, key: makeRandomKey(20) },
    ]);
    assert.deepEqual(
      keys.map((k) => k.source),
      ['keytab entry host/a@EXAMPLE.TEST kvno 5 aes256-cts-hmac-sha384-192'],
    );
  });
});
