// Regression (issue 14, from `sspi-emu fuzz --package kerberos`, kerberos/kdc-request): the KDC
// answered KRB_ERR_GENERIC to every request that did not decode, where RFC 4120 has a code for what
// was wrong: another protocol version (KDC_ERR_BAD_PVNO; KRB_AP_ERR_BADVERSION for the AP-REQ in
// PA-TGS-REQ and its ticket, 3.2.3), a msg-type that is not the message's (KRB_AP_ERR_MSG_TYPE); and
// any PA-TGS-REQ it could not read was KRB_AP_ERR_MSG_TYPE, even bytes that were no message at all.
//
// Each malformed request goes to the DC machine's KDC over TCP and its answer's code is checked; and,
// when MIT's krb5kdc is installed, the same bytes go to a local MIT KDC of the same realm, whose
// answer is checked against what MIT is recorded to answer (`mit`): the same code, or, where they
// differ, MIT's own and why ours is not it (`differs`): MIT sends nothing for a request that does not
// decode (the connection closed), where every request here gets a KRB-ERROR saying what was wrong.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Machine } from '../../index.js';
import {
  KDC_OPTIONS,
  KRB_ERROR_CODE,
  KRB_MSG_TYPE,
  KRB_NT,
  krbErrorName,
  packApRep,
  packApReq,
  packEncryptedData,
  packKdcReq,
  packKrbError,
  PA_TYPE,
  unpackKerberosMessage,
  type KdcReqBody,
  type PaData,
  type Ticket,
} from '../../packages/kerberos/messages/index.js';
import { MitKdc, mitKdcMissing } from '../helpers/mit-kdc.js';

const REALM = 'EXAMPLE.TEST';
const E = KRB_ERROR_CODE;
const NO_REPLY = 'no reply';

const wholeSeconds = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);

function body(changes: Partial<KdcReqBody> = {}): KdcReqBody {
  return {
    kdcOptions: KDC_OPTIONS.FORWARDABLE,
    cname: { nameType: KRB_NT.PRINCIPAL, nameString: ['alice'] },
    realm: REALM,
    sname: { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', REALM] },
    till: wholeSeconds(Date.now() + 3600_000),
    nonce: 0x1234567,
    etype: [18, 17],
    ...changes,
  };
}

const asReq = (changes: Partial<KdcReqBody> = {}, padata?: PaData[]): Uint8Array =>
  packKdcReq({ msgType: KRB_MSG_TYPE.AS_REQ, reqBody: body(changes), ...(padata === undefined ? {} : { padata }) });

/** A TGT-shaped ticket no key opens (its ciphertext is filler). */
const TICKET: Ticket = {
  realm: REALM,
  sname: { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', REALM] },
  encPart: { etype: 18, kvno: 1, cipher: new Uint8Array(200).fill(7) },
};
const apReq = (ticket: Ticket = TICKET): Uint8Array => packApReq({ apOptions: 0, ticket, authenticator: { etype: 18, cipher: new Uint8Array(100).fill(9) } });

function tgsReq(paTgsReq: Uint8Array | undefined): Uint8Array {
  const { cname: _cname, ...rest } = body({ sname: { nameType: KRB_NT.SRV_HST, nameString: ['HTTP', 'web.example.test'] } });
  return packKdcReq({
    msgType: KRB_MSG_TYPE.TGS_REQ,
    reqBody: rest as KdcReqBody,
    ...(paTgsReq === undefined ? {} : { padata: [{ padataType: PA_TYPE.TGS_REQ, padataValue: paTgsReq }] }),
  });
}

/** `bytes` with the first occurrence of `from` overwritten by `to` (a field's DER, found by its bytes). */
function patched(bytes: Uint8Array, from: number[], to: number[]): Uint8Array {
  const out = Buffer.from(bytes);
  const at = out.indexOf(Buffer.from(from));
  if (at < 0) throw new Error(`no ${Buffer.from(from).toString('hex')} to patch`);
  Buffer.from(to).copy(out, at);
  return new Uint8Array(out);
}

// [1] INTEGER 5 (KDC-REQ's pvno), [2] INTEGER 10 (its msg-type); [0] INTEGER 5 and [1] INTEGER 14 in an AP-REQ.
const KDC_PVNO = [0xa1, 0x03, 0x02, 0x01, 0x05];
const KDC_MSG_TYPE_AS = [0xa2, 0x03, 0x02, 0x01, 0x0a];
const KDC_MSG_TYPE_TGS = [0xa2, 0x03, 0x02, 0x01, 0x0c];
const AP_PVNO = [0xa0, 0x03, 0x02, 0x01, 0x05];
const AP_MSG_TYPE = [0xa1, 0x03, 0x02, 0x01, 0x0e];

interface Case {
  name: string;
  bytes: () => Uint8Array;
  /** Our KDC's code. */
  ours: number;
  /** MIT krb5kdc 1.20's answer: the same as ours unless `differs` says otherwise. */
  mit?: number | typeof NO_REPLY;
  /** Why ours is not MIT's. */
  differs?: string;
}

const CASES: Case[] = [
  {
    name: 'an AS-REQ of protocol version 4',
    bytes: () => patched(asReq(), KDC_PVNO, [0xa1, 0x03, 0x02, 0x01, 0x04]),
    ours: E.KDC_ERR_BAD_PVNO,
    mit: NO_REPLY,
    differs: 'MIT drops a request that does not decode',
  },
  {
    name: 'a TGS-REQ of protocol version 6',
    bytes: () => patched(tgsReq(apReq()), KDC_PVNO, [0xa1, 0x03, 0x02, 0x01, 0x06]),
    ours: E.KDC_ERR_BAD_PVNO,
    mit: NO_REPLY,
    differs: 'MIT drops a request that does not decode',
  },
  {
    name: 'an AS-REQ whose msg-type says TGS-REQ',
    bytes: () => patched(asReq(), KDC_MSG_TYPE_AS, KDC_MSG_TYPE_TGS),
    ours: E.KRB_AP_ERR_MSG_TYPE,
    mit: E.KRB_ERR_GENERIC,
    differs: 'RFC 4120 7.5.9 has KRB_AP_ERR_MSG_TYPE for it; MIT answers KRB_ERR_GENERIC ("VALIDATE_MESSAGE_TYPE")',
  },
  {
    name: 'a TGS-REQ whose msg-type says AS-REQ',
    bytes: () => patched(tgsReq(apReq()), KDC_MSG_TYPE_TGS, KDC_MSG_TYPE_AS),
    ours: E.KRB_AP_ERR_MSG_TYPE,
    mit: NO_REPLY,
    differs: 'MIT drops a request that does not decode',
  },
  {
    name: 'an AP-REQ sent to the KDC',
    bytes: () => apReq(),
    ours: E.KRB_AP_ERR_MSG_TYPE,
    mit: NO_REPLY,
    differs: 'MIT drops what is neither an AS-REQ nor a TGS-REQ',
  },
  {
    name: 'a KRB-ERROR sent to the KDC',
    bytes: () => packKrbError({ stime: wholeSeconds(Date.now()), susec: 0, errorCode: E.KRB_ERR_GENERIC, realm: REALM, sname: TICKET.sname }),
    ours: E.KRB_AP_ERR_MSG_TYPE,
    mit: NO_REPLY,
    differs: 'MIT drops what is neither an AS-REQ nor a TGS-REQ',
  },
  {
    name: 'an AS-REQ cut short',
    bytes: () => asReq().subarray(0, 40),
    ours: E.KRB_ERR_GENERIC,
    mit: NO_REPLY,
    differs: 'MIT drops a request that does not decode',
  },
  {
    name: 'an AS-REQ with an indefinite length (BER)',
    bytes: () => Uint8Array.from([0x6a, 0x80, ...asReq().subarray(2), 0, 0]),
    ours: E.KRB_ERR_GENERIC,
    mit: NO_REPLY,
    differs: 'MIT drops a request that does not decode',
  },
  {
    name: 'an AS-REQ followed by two bytes in its frame',
    bytes: () => Uint8Array.from([...asReq(), 0, 0]),
    ours: E.KRB_ERR_GENERIC,
    mit: E.KDC_ERR_PREAUTH_REQUIRED,
    differs: 'MIT reads the first message and ignores what follows; the codec here takes a message whole (DER)',
  },
  { name: 'an AS-REQ with no etype', bytes: () => asReq({ etype: [] }), ours: E.KDC_ERR_ETYPE_NOSUPP },
  { name: 'an AS-REQ with DES etypes only', bytes: () => asReq({ etype: [1, 3] }), ours: E.KDC_ERR_ETYPE_NOSUPP },
  {
    name: 'an AS-REQ for an unknown client',
    bytes: () => asReq({ cname: { nameType: KRB_NT.PRINCIPAL, nameString: ['nobody'] } }),
    ours: E.KDC_ERR_C_PRINCIPAL_UNKNOWN,
  },
  {
    name: 'an AS-REQ for an unknown service',
    bytes: () => asReq({ sname: { nameType: KRB_NT.SRV_INST, nameString: ['nosuch', 'host'] } }),
    ours: E.KDC_ERR_S_PRINCIPAL_UNKNOWN,
  },
  {
    name: 'an AS-REQ asking for ENC-TKT-IN-SKEY',
    bytes: () => asReq({ kdcOptions: KDC_OPTIONS.FORWARDABLE | KDC_OPTIONS.ENC_TKT_IN_SKEY }),
    ours: E.KDC_ERR_BADOPTION,
  },
  { name: 'an AS-REQ asking for VALIDATE', bytes: () => asReq({ kdcOptions: KDC_OPTIONS.FORWARDABLE | KDC_OPTIONS.VALIDATE }), ours: E.KDC_ERR_BADOPTION },
  {
    name: 'an AS-REQ whose PA-ENC-TIMESTAMP does not decrypt',
    bytes: () => asReq({}, [{ padataType: PA_TYPE.ENC_TIMESTAMP, padataValue: packEncryptedData({ etype: 18, cipher: new Uint8Array(60).fill(3) }) }]),
    ours: E.KDC_ERR_PREAUTH_FAILED,
  },
  {
    name: 'an AS-REQ with an unknown padata type only',
    bytes: () => asReq({}, [{ padataType: 999, padataValue: Uint8Array.of(0) }]),
    ours: E.KDC_ERR_PREAUTH_REQUIRED,
  },
  { name: 'a TGS-REQ without PA-TGS-REQ', bytes: () => tgsReq(undefined), ours: E.KDC_ERR_PADATA_TYPE_NOSUPP },
  { name: 'a TGS-REQ whose PA-TGS-REQ is no message', bytes: () => tgsReq(Uint8Array.of(1, 2, 3)), ours: E.KRB_ERR_GENERIC },
  { name: 'a TGS-REQ whose PA-TGS-REQ holds a ticket no key opens', bytes: () => tgsReq(apReq()), ours: E.KRB_AP_ERR_BAD_INTEGRITY },
  {
    name: "a TGS-REQ whose PA-TGS-REQ's AP-REQ is of protocol version 4",
    bytes: () => tgsReq(patched(apReq(), AP_PVNO, [0xa0, 0x03, 0x02, 0x01, 0x04])),
    ours: E.KRB_AP_ERR_BADVERSION,
    mit: E.KDC_ERR_BAD_PVNO,
    differs: "RFC 4120 3.2.3 (which 3.3.2 applies to the TGS) has KRB_AP_ERR_BADVERSION; MIT answers its decoder's KDC_ERR_BAD_PVNO",
  },
  {
    name: "a TGS-REQ whose PA-TGS-REQ's ticket is of version 4",
    bytes: () => tgsReq(patchTicketVno(apReq())),
    ours: E.KRB_AP_ERR_BADVERSION,
    mit: E.KDC_ERR_BAD_PVNO,
    differs: "as for the AP-REQ's version",
  },
  {
    name: "a TGS-REQ whose PA-TGS-REQ's AP-REQ says msg-type 15",
    bytes: () => tgsReq(patched(apReq(), AP_MSG_TYPE, [0xa1, 0x03, 0x02, 0x01, 0x0f])),
    ours: E.KRB_AP_ERR_MSG_TYPE,
    mit: E.KRB_AP_ERR_BAD_INTEGRITY,
    differs: 'RFC 4120 3.2.3 has KRB_AP_ERR_MSG_TYPE; MIT does not check the msg-type and goes on to the ticket',
  },
  {
    name: 'a TGS-REQ whose PA-TGS-REQ holds an AP-REP',
    bytes: () => tgsReq(packApRep({ encPart: { etype: 18, cipher: new Uint8Array(40) } })),
    ours: E.KRB_AP_ERR_MSG_TYPE,
    mit: E.KRB_ERR_GENERIC,
    differs: 'RFC 4120 3.2.3 has KRB_AP_ERR_MSG_TYPE for a message that is not an AP-REQ',
  },
  {
    name: 'a TGS-REQ whose PA-TGS-REQ holds a ticket of another kvno',
    bytes: () => tgsReq(apReq({ ...TICKET, encPart: { ...TICKET.encPart, kvno: 9 } })),
    ours: E.KRB_AP_ERR_BADKEYVER,
    mit: E.KRB_ERR_GENERIC,
    differs: 'RFC 4120 3.2.3 has KRB_AP_ERR_BADKEYVER for a key version the server does not hold',
  },
  {
    name: "a TGS-REQ whose PA-TGS-REQ holds another realm's ticket",
    bytes: () => tgsReq(apReq({ ...TICKET, realm: 'OTHER.TEST', sname: { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', 'OTHER.TEST'] } })),
    ours: E.KRB_AP_ERR_NOT_US,
    mit: E.KDC_ERR_S_PRINCIPAL_UNKNOWN,
    differs: "RFC 4120 3.2.3 has KRB_AP_ERR_NOT_US for a ticket not for this server; MIT looks the other realm's krbtgt up and does not find it",
  },
];

/** The AP-REQ with its ticket's tkt-vno made 4: the second [0] INTEGER 5, after the AP-REQ's own pvno. */
function patchTicketVno(bytes: Uint8Array): Uint8Array {
  const out = Buffer.from(bytes);
  const pvno = out.indexOf(Buffer.from(AP_PVNO));
  const tktVno = out.indexOf(Buffer.from(AP_PVNO), pvno + 1);
  if (pvno < 0 || tktVno < 0) throw new Error("no ticket's tkt-vno to patch");
  out[tktVno + 4] = 0x04;
  return new Uint8Array(out);
}

/** Sends one request over TCP (RFC 4120 7.2.2); the KRB-ERROR's code, the name of what else came, or NO_REPLY when the KDC closed without a word. */
function ask(port: number, request: Uint8Array): Promise<number | string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (answer: number | string): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(answer);
    };
    socket.on('connect', () => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(request.length);
      socket.end(Buffer.concat([length, request]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4 || received.length < 4 + received.readUInt32BE(0)) return;
      const message = unpackKerberosMessage(new Uint8Array(received.subarray(4, 4 + received.readUInt32BE(0))));
      finish(message.type === 'KRB-ERROR' ? message.message.errorCode : message.type);
    });
    socket.on('close', () => finish(NO_REPLY));
    socket.on('error', (error) => (settled ? undefined : reject(error)));
  });
}

const named = (answer: number | string): string => (typeof answer === 'number' ? krbErrorName(answer) : answer);

describe('regression: the KDC answers a malformed request with the code RFC 4120 has for it', { timeout: 180_000 }, () => {
  let dc: Machine | undefined;
  before(async () => {
    dc = await Machine.boot({
      role: 'domain-controller',
      realm: REALM,
      accounts: ['alice:Alice-pw-1'],
      services: ['HTTP/web.example.test:web-secret-1'],
      trace: false,
    });
  });
  after(async () => dc?.shutdown());

  it('answers each with its code, over TCP', async () => {
    const wrong: string[] = [];
    for (const c of CASES) {
      const got = await ask(dc!.kdcAddress!.port, c.bytes());
      if (got !== c.ours) wrong.push(`${c.name}: ${named(got)}, expected ${named(c.ours)}`);
    }
    assert.deepEqual(wrong, []);
  });

  const SKIP = mitKdcMissing();
  it("MIT's krb5kdc answers the same bytes the same way, or as recorded where it differs", async (t) => {
    if (SKIP) return t.skip(SKIP);
    const mit = await MitKdc.start({ realm: REALM, principals: [{ name: 'alice', password: 'Alice-pw-1' }, { name: 'HTTP/web.example.test' }] });
    try {
      const wrong: string[] = [];
      for (const c of CASES) {
        const expected = c.mit ?? c.ours;
        const got = await ask(mit.port, c.bytes());
        if (got !== expected)
          wrong.push(`${c.name}: MIT answered ${named(got)}, recorded ${named(expected)}${c.differs === undefined ? '' : ` (${c.differs})`}`);
      }
      assert.deepEqual(wrong, []);
    } finally {
      await mit.stop();
    }
  });
});
