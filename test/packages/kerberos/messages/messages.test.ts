// The Kerberos messages codec (packages/kerberos/messages/): MIT krb5's own messages (captured in
// vectors.ts) read, decrypted where alice's password allows, and written back byte for byte;
// encodings worked out by hand from RFC 4120's module; and every rule of the module held against
// hostile input, each refusal the kit's DerError with its code and offset.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decrypt, KEY_USAGE, stringToKey } from '../../../../packages/kerberos/crypto/index.js';
import {
  DerError,
  derApplication,
  derBitString,
  derExplicit,
  derGeneralizedTime,
  derGeneralString,
  derInteger,
  derSequence,
  readTlv,
  type DerErrorCode,
} from '../../../../packages/kit/index.js';
import {
  AP_OPTIONS,
  GSS_KRB5_MECH_OID,
  GSS_KRB5_TOK_ID,
  KDC_OPTIONS,
  KRB_ERROR_CODE,
  KRB_NT,
  PA_TYPE,
  TICKET_FLAGS,
  describeKerberosToken,
  formatKerberosToken,
  kerberosFlag,
  kerberosFlagNames,
  krbErrorName,
  packApReq,
  packEncKdcRepPart,
  packEncryptedData,
  packGssKrb5Token,
  packKdcReq,
  packKerberosMessage,
  packKrbError,
  packPaEncTsEnc,
  packPrincipalName,
  unpackApReq,
  unpackEncKdcRepPart,
  unpackEncryptedData,
  unpackEtypeInfo2,
  unpackGssKrb5Token,
  unpackKdcReq,
  unpackKerberosMessage,
  unpackKrbError,
  unpackMethodData,
  unpackPaEncTsEnc,
  unpackPrincipalName,
  unpackTicket,
  type KdcRep,
  type KdcReq,
  type KrbError,
} from '../../../../packages/kerberos/messages/index.js';
import * as V from './vectors.js';

const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function throwsDer(fn: () => unknown, code: DerErrorCode, offset?: number, message?: RegExp): void {
  assert.throws(fn, (error: unknown): boolean => {
    assert.ok(error instanceof DerError, `not a DerError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (offset !== undefined) assert.equal(error.offset, offset, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

const T0 = new Date('2026-01-02T03:04:05Z');
const TGS: { nameType: number; nameString: string[] } = { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', 'EXAMPLE.TEST'] };
const asReq = (over: Partial<KdcReq['reqBody']> = {}): KdcReq => ({
  msgType: 10,
  reqBody: { kdcOptions: KDC_OPTIONS.FORWARDABLE, cname: { nameType: 1, nameString: ['alice'] }, realm: 'EXAMPLE.TEST', sname: TGS, till: T0, nonce: 1, etype: [18, 17], ...over },
});
const krbError = (over: Partial<KrbError> = {}): KrbError => ({ stime: T0, susec: 0, errorCode: 25, realm: 'EXAMPLE.TEST', sname: TGS, ...over });

describe('Kerberos messages captured from MIT krb5', () => {
  it('reads every one and writes it back byte for byte', () => {
    const types: Array<[string, string]> = [
      [V.AS_REQ, 'AS-REQ'],
      [V.PREAUTH_REQUIRED, 'KRB-ERROR'],
      [V.AS_REQ_ENC_TIMESTAMP, 'AS-REQ'],
      [V.AS_REP, 'AS-REP'],
      [V.TGS_REQ, 'TGS-REQ'],
      [V.TGS_REP, 'TGS-REP'],
    ];
    for (const [h, type] of types) {
      const m = unpackKerberosMessage(bytes(h));
      assert.equal(m.type, type);
      assert.equal(hex(packKerberosMessage(m)), h, type);
    }
  });

  it('reads the AS exchange field by field: names, options, etypes, the PREAUTH_REQUIRED error and its ETYPE-INFO2', () => {
    const req = unpackKdcReq(bytes(V.AS_REQ));
    assert.deepEqual(req.reqBody.cname, { nameType: KRB_NT.PRINCIPAL, nameString: ['alice'] });
    assert.deepEqual(req.reqBody.sname, TGS);
    assert.equal(req.reqBody.realm, V.REALM);
    assert.deepEqual(req.reqBody.etype, [18, 17, 20, 19]);
    assert.deepEqual(kerberosFlagNames(req.reqBody.kdcOptions, KDC_OPTIONS), ['RENEWABLE_OK']);
    // MIT sends an empty PA-AS-FRESHNESS (150, RFC 8070) and asks for PA-REQ-ENC-PA-REP (149, RFC 6806).
    assert.deepEqual(req.padata?.map((p) => p.padataType), [PA_TYPE.AS_FRESHNESS, PA_TYPE.REQ_ENC_PA_REP]);
    assert.equal(hex(req.reqBodyBytes!.subarray(0, 2)), '307b');

    const error = unpackKrbError(bytes(V.PREAUTH_REQUIRED));
    assert.equal(error.errorCode, KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED);
    assert.equal(error.eText, 'NEEDED_PREAUTH');
    const methods = unpackMethodData(error.eData!);
    assert.deepEqual(methods.map((p) => p.padataType), [PA_TYPE.FX_FAST, PA_TYPE.ETYPE_INFO2, PA_TYPE.ENC_TIMESTAMP, PA_TYPE.FX_COOKIE]);
    const info = unpackEtypeInfo2(methods[1]!.padataValue);
    assert.deepEqual(info, [{ etype: 18, salt: 'EXAMPLE.TESTalice' }]);
  });

  it("decrypts the PA-ENC-TIMESTAMP and the AS-REP's enc-part with alice's key, and writes both back byte for byte", () => {
    const key = stringToKey(18, V.PASSWORD, `${V.REALM}alice`);
    const req = unpackKdcReq(bytes(V.AS_REQ_ENC_TIMESTAMP));
    const ts = unpackEncryptedData(req.padata!.find((p) => p.padataType === PA_TYPE.ENC_TIMESTAMP)!.padataValue);
    const tsPlain = decrypt(key, KEY_USAGE.AS_REQ_PA_ENC_TIMESTAMP, ts.cipher);
    const timestamp = unpackPaEncTsEnc(tsPlain);
    assert.equal(hex(packPaEncTsEnc(timestamp)), hex(tsPlain));
    assert.ok(timestamp.pausec !== undefined && timestamp.pausec < 1_000_000);

    const rep = unpackKerberosMessage(bytes(V.AS_REP)).message as KdcRep;
    const plain = decrypt(key, KEY_USAGE.AS_REP_ENC_PART, rep.encPart.cipher);
    const part = unpackEncKdcRepPart(plain);
    assert.equal(hex(packEncKdcRepPart(part)), hex(plain));
    assert.equal(part.nonce, req.reqBody.nonce);
    assert.deepEqual(part.sname, TGS);
    assert.ok(part.flags & TICKET_FLAGS.INITIAL && part.flags & TICKET_FLAGS.PRE_AUTHENT, kerberosFlagNames(part.flags, TICKET_FLAGS).join());
    // MIT answers the PA-REQ-ENC-PA-REP with encrypted-pa-data ([12], RFC 6806).
    assert.ok(part.encryptedPaData !== undefined && part.encryptedPaData.length > 0);
  });

  it('reads the GSS-API tokens of gss-client and gss-server, and the same inside SPNEGO', () => {
    const token = unpackGssKrb5Token(bytes(V.GSS_AP_REQ));
    assert.equal(token.mech, GSS_KRB5_MECH_OID);
    assert.equal(token.tokId, GSS_KRB5_TOK_ID.AP_REQ);
    const apReq = unpackApReq(token.message);
    assert.deepEqual(kerberosFlagNames(apReq.apOptions, AP_OPTIONS), ['MUTUAL_REQUIRED']);
    assert.deepEqual(apReq.ticket.sname.nameString, ['host', 'localhost']);
    assert.equal(hex(packGssKrb5Token({ ...token, message: packApReq(apReq) })), V.GSS_AP_REQ);
    assert.equal(unpackGssKrb5Token(bytes(V.GSS_AP_REP)).tokId, GSS_KRB5_TOK_ID.AP_REP);
  });

  it('describes each message for people, with the encrypted parts left encrypted', () => {
    const error = describeKerberosToken(bytes(V.PREAUTH_REQUIRED));
    assert.equal(error.type, 'KRB-ERROR');
    assert.equal(error.errorCode, 'KDC_ERR_PREAUTH_REQUIRED (25)');
    assert.match(JSON.stringify(error.eData), /"salt":"EXAMPLE.TESTalice"/);
    const text = formatKerberosToken(describeKerberosToken(bytes(V.TGS_REQ)));
    assert.match(text, /^Kerberos TGS-REQ \(\d+ bytes\)\n/);
    assert.match(text, /type: 1 \(PA-TGS-REQ\)/);
    assert.match(text, /sname: host\/localhost \(\d+ \(KRB_NT_\w+\)\)/);
    assert.match(text, /cipher: \d+ bytes, encrypted: [0-9a-f]+/);
    const ap = describeKerberosToken(bytes(V.GSS_AP_REQ));
    assert.match(String(ap.framing), /^GSS-API InitialContextToken, 1\.2\.840\.113554\.1\.2\.2 \(Kerberos 5\), TOK_ID 01 00$/);
  });
});

describe('Kerberos encodings worked out from RFC 4120', () => {
  it('writes a PrincipalName as SEQUENCE { [0] INTEGER, [1] SEQUENCE OF GeneralString }', () => {
    const der = '301fa003020102a11830161b066b72627467741b0c4558414d504c452e54455354';
    assert.equal(hex(packPrincipalName(TGS)), der);
    assert.deepEqual(unpackPrincipalName(bytes(der)), TGS);
  });

  it('writes KerberosFlags as 32 bits, bit 0 the most significant (5.2.8)', () => {
    const options = KDC_OPTIONS.FORWARDABLE | KDC_OPTIONS.RENEWABLE | KDC_OPTIONS.CANONICALIZE | KDC_OPTIONS.RENEWABLE_OK;
    assert.equal(options >>> 0, 0x40810010);
    assert.equal(kerberosFlag(1), KDC_OPTIONS.FORWARDABLE);
    assert.equal(kerberosFlag(27), KDC_OPTIONS.RENEWABLE_OK);
    assert.match(hex(packKdcReq(asReq({ kdcOptions: options }))), /a0070305004081001/);
    assert.deepEqual(kerberosFlagNames(options | kerberosFlag(20), KDC_OPTIONS), ['FORWARDABLE', 'RENEWABLE', 'CANONICALIZE', 'RENEWABLE_OK', 'bit 20']);
  });

  it('writes a nonce from 2^31 with a leading zero octet, as a UInt32 (5.2.4)', () => {
    const packed = packKdcReq(asReq({ nonce: 0x9234abcd }));
    assert.match(hex(packed), /a7070205009234abcd/);
    assert.equal(unpackKdcReq(packed).reqBody.nonce, 0x9234abcd);
  });

  it('names the error codes of 7.5.9', () => {
    assert.equal(krbErrorName(25), 'KDC_ERR_PREAUTH_REQUIRED (25)');
    assert.equal(krbErrorName(37), 'KRB_AP_ERR_SKEW (37)');
    assert.equal(krbErrorName(68), 'KDC_ERR_WRONG_REALM (68)');
    assert.equal(krbErrorName(99), 'error 99');
    assert.equal(KRB_ERROR_CODE.KRB_AP_ERR_MODIFIED, 41);
  });
});

/** The fields inside a packed [APPLICATION n] SEQUENCE, to rebuild it with fields changed or added. */
function fieldsOf(packed: Uint8Array): Uint8Array {
  const outer = readTlv(packed, 0, packed.length);
  const seq = readTlv(packed, outer.contentStart, outer.end);
  return packed.slice(seq.contentStart, seq.end);
}

/** An AS-REQ written field by field with the kit's writers, so that a field can hold what pack refuses. */
function handMadeAsReq(body: Uint8Array[], head: Uint8Array[] = [derExplicit(1, derInteger(5)), derExplicit(2, derInteger(10))]): Uint8Array {
  return derApplication(10, derSequence(...head, derExplicit(4, derSequence(...body))));
}

const BODY = (etypes: number[], nonce: Uint8Array = derInteger(1)): Uint8Array[] => [
  derExplicit(0, derBitString(new Uint8Array(4))),
  derExplicit(2, derGeneralString('EXAMPLE.TEST')),
  derExplicit(5, derGeneralizedTime(T0)),
  derExplicit(7, nonce),
  derExplicit(8, derSequence(...etypes.map((e) => derInteger(e)))),
];

describe('Kerberos messages against hostile input', () => {
  it('refuses a Ticket whose tkt-vno is not 5, and a message whose msg-type is not its tag\'s', () => {
    const ticket = derApplication(1, derSequence(derExplicit(0, derInteger(4)), derExplicit(1, derGeneralString('R')), derExplicit(2, packPrincipalName(TGS)), derExplicit(3, packEncryptedData({ etype: 18, cipher: new Uint8Array(1) }))));
    throwsDer(() => unpackTicket(ticket), 'BAD_VALUE', 8, /tkt-vno is 4, not 5/);
    const wrongType = handMadeAsReq(BODY([18]), [derExplicit(1, derInteger(5)), derExplicit(2, derInteger(12))]);
    throwsDer(() => unpackKdcReq(wrongType), 'BAD_VALUE', 13, /msg-type is 12, not 10/);
    assert.doesNotThrow(() => unpackKdcReq(handMadeAsReq(BODY([18]))));
  });

  it('refuses a missing required field, a field below the first, and fields out of order; skips fields past the last', () => {
    throwsDer(() => unpackPrincipalName(derSequence(derExplicit(0, derInteger(1)))), 'BAD_TAG', 2, /PrincipalName.name-string \[1\] is missing/);
    throwsDer(() => unpackKdcReq(handMadeAsReq(BODY([18]).slice(1))), 'BAD_TAG', undefined, /KDC-REQ-BODY.kdc-options \[0\] is missing/);
    // [13] after e-data: an extension a later RFC might add, skipped.
    const extended = derApplication(30, derSequence(fieldsOf(packKrbError(krbError())), derExplicit(13, derInteger(7))));
    assert.deepEqual(unpackKrbError(extended), krbError());
    const below = derApplication(10, derSequence(derExplicit(0, derInteger(5))));
    throwsDer(() => unpackKdcReq(below), 'BAD_TAG', 4, /AS-REQ has no field \[0\]/);
    const swapped = derApplication(10, derSequence(derExplicit(2, derInteger(10)), derExplicit(1, derInteger(5))));
    throwsDer(() => unpackKdcReq(swapped), 'BAD_TAG', 9, /field \[1\] out of order/);
  });

  it('refuses KerberosFlags of other than 32 bits, Microseconds out of range, and a negative UInt32', () => {
    const short = handMadeAsReq([derExplicit(0, derBitString(new Uint8Array(3))), ...BODY([18]).slice(1)]);
    throwsDer(() => unpackKdcReq(short), 'BAD_VALUE', undefined, /KerberosFlags of 24 bits, not 32/);
    const long = handMadeAsReq([derExplicit(0, derBitString(new Uint8Array(5))), ...BODY([18]).slice(1)]);
    throwsDer(() => unpackKdcReq(long), 'BAD_VALUE', undefined, /KerberosFlags of 40 bits, not 32/);
    assert.throws(() => packKrbError(krbError({ susec: 1_000_000 })), RangeError);
    const fields = fieldsOf(packKrbError(krbError({ susec: 999_999 })));
    const badSusec = derApplication(30, derSequence(Uint8Array.from(Buffer.from(hex(fields).replace('a50502030f423f', 'a50502030f4240'), 'hex'))));
    throwsDer(() => unpackKrbError(badSusec), 'BAD_VALUE', undefined, /susec is 1000000, not a Microseconds/);
    throwsDer(() => unpackKdcReq(handMadeAsReq(BODY([18], derInteger(-5)))), 'BAD_VALUE', undefined, /-5 is out of range for a UInt32/);
    throwsDer(() => unpackKdcReq(handMadeAsReq(BODY([18], derInteger(2 ** 32)))), 'BAD_VALUE', undefined, /out of range for a UInt32/);
  });

  it('refuses more etypes than KRB_LIMITS allows before building the list', () => {
    throwsDer(() => unpackKdcReq(handMadeAsReq(BODY(new Array<number>(65).fill(18)))), 'TOO_MANY', undefined, /etype: more than 64 elements/);
    assert.equal(unpackKdcReq(handMadeAsReq(BODY(new Array<number>(64).fill(18)))).reqBody.etype.length, 64);
    assert.throws(() => packKdcReq(asReq({ etype: new Array<number>(65).fill(18) })), RangeError);
  });

  it('takes an EncASRepPart sent with EncTGSRepPart\'s tag and says which it was (5.4.2)', () => {
    const part = {
      kind: 'EncTGSRepPart' as const,
      key: { keytype: 18, keyvalue: new Uint8Array(32) },
      lastReq: [],
      nonce: 7,
      flags: TICKET_FLAGS.INITIAL,
      authtime: T0,
      endtime: T0,
      srealm: 'EXAMPLE.TEST',
      sname: TGS,
    };
    const packed = packEncKdcRepPart(part);
    assert.equal(packed[0], 0x7a);
    assert.equal(unpackEncKdcRepPart(packed).kind, 'EncTGSRepPart');
    assert.equal(packEncKdcRepPart({ ...part, kind: 'EncASRepPart' })[0], 0x79);
    throwsDer(() => unpackEncKdcRepPart(Uint8Array.of(0x7b, 0x00)), 'BAD_TAG', 0);
  });

  it('refuses a GSS-API token for another mechanism, with an unknown TOK_ID, a TOK_ID for another message, or trailing bytes', () => {
    const token = unpackGssKrb5Token(bytes(V.GSS_AP_REQ));
    assert.throws(() => packGssKrb5Token({ ...token, tokId: GSS_KRB5_TOK_ID.AP_REP }), RangeError);
    const good = bytes(V.GSS_AP_REQ);
    const tokAt = hex(good).indexOf('06092a864886f712010202') / 2 + 11;
    const unknown = good.slice();
    unknown[tokAt] = 0x04;
    throwsDer(() => unpackGssKrb5Token(unknown), 'BAD_VALUE', tokAt, /TOK_ID 04 00/);
    const other = good.slice();
    other[tokAt] = 0x02;
    throwsDer(() => unpackGssKrb5Token(other), 'BAD_TAG', tokAt + 2);
    const notKerberos = good.slice();
    notKerberos[tokAt - 2] = 0x03;
    throwsDer(() => unpackGssKrb5Token(notKerberos), 'BAD_OID', tokAt - 11);
    throwsDer(() => unpackGssKrb5Token(Uint8Array.from([...good, 0])), 'TRAILING_BYTES');
    throwsDer(() => unpackKerberosMessage(Uint8Array.of(0x70, 0x00)), 'BAD_TAG', 0, /not a Kerberos message/);
  });
});
