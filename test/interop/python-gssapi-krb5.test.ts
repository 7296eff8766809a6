// python3-gssapi (Debian's, over MIT's libgssapi_krb5) with the krb5 mechanism against the Kerberos
// package, both ways, every ticket from a local MIT KDC: a Python process is the peer of a client or
// server process of the machine, the test carrying the tokens between them (a line of JSON each way).
//   Python initiates (kinit's TGT), the server process accepts with the keytab kadmin exported;
//   the client process initiates (its LSA asks the KDC), Python accepts with that keytab.
// Then each side wraps (with and without confidentiality) and signs (get_mic) what the other unwraps
// and verifies, and a message changed on its way is refused by each.
// Inside SPNEGO (python-gssapi's SPNEGO mechanism, MIT's, against the Negotiate package), both ways:
// Kerberos chosen as the initiator's first (no mechListMIC, as MIT and Windows exchange none), and
// Kerberos chosen when it was not the initiator's first (gss_set_neg_mechs puts NTLM first, or keeps
// the acceptor to the krb5 OID): then the mechListMIC exchange RFC 4178 5 requires, Kerberos MIC
// tokens over the MechTypeList each way, whose sequence numbers the messages after them must agree
// on. Skipped, saying so, without MIT's KDC or python3-gssapi.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { ASC_REQ, ISC_REQ, SECBUFFER, SECPKG_ATTR, SECPKG_CRED, SECQOP_WRAP_NO_ENCRYPT, type SecBuffer } from '../../headers/sspi.js';
import { isSuccess, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { MECH_OID, NEG_STATE_NAMES, unpackInitialContextToken, unpackNegotiationToken } from '../../packages/negotiate/wire.js';
import type { CtxtHandle } from '../../sspi/handles.js';
import { ALICE_PASSWORD, mitKdcMissing, startRealm, type Realm } from '../helpers/kerberos-realm.js';

const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import gssapi'], { stdio: 'ignore' }).status === 0);
const SKIP = mitKdcMissing() || (PYTHON === undefined ? 'python3-gssapi is not installed (apt-get install python3-gssapi)' : false);

/** The Python side: one JSON request a line on stdin, one JSON answer a line on stdout. */
const PEER = String.raw`
import base64, json, sys
import gssapi, gssapi.raw as raw
ctx = None
enc = lambda b: None if b is None else base64.b64encode(b).decode()
dec = lambda s: base64.b64decode(s)
F = gssapi.RequirementFlag
SPNEGO = gssapi.OID.from_int_seq('1.3.6.1.5.5.2')
def spnego_creds(usage, neg_mechs):
    # SPNEGO's credentials, limited to (and, initiating, ordered as) neg_mechs: gss_set_neg_mechs.
    creds = raw.acquire_cred(None, usage=usage, mechs=[SPNEGO]).creds
    raw.set_neg_mechs(creds, [gssapi.OID.from_int_seq(m) for m in neg_mechs])
    return gssapi.Credentials(creds)
for line in sys.stdin:
    req = json.loads(line)
    op = req['op']
    try:
        if op == 'init':
            name = gssapi.Name(req['target'], gssapi.NameType.hostbased_service)
            spnego = req.get('spnego', False)
            extra = {'creds': spnego_creds('initiate', req['neg_mechs'])} if 'neg_mechs' in req else {}
            ctx = gssapi.SecurityContext(name=name, usage='initiate', mech=SPNEGO if spnego else gssapi.MechType.kerberos,
                                         flags=[F.mutual_authentication, F.replay_detection, F.out_of_sequence_detection, F.confidentiality, F.integrity], **extra)
            out = {'token': enc(ctx.step()), 'complete': ctx.complete}
        elif op == 'accept':
            extra = {'creds': spnego_creds('accept', req['neg_mechs'])} if 'neg_mechs' in req else {}
            ctx = gssapi.SecurityContext(usage='accept', **extra)
            out = {'token': enc(ctx.step(dec(req['token']))), 'complete': ctx.complete}
            if ctx.complete:
                out['initiator'] = str(ctx.initiator_name)
                out['mech'] = ctx.mech.dotted_form
        elif op == 'step':
            out = {'token': enc(ctx.step(dec(req['token']))), 'complete': ctx.complete}
            if ctx.complete and not ctx.locally_initiated:
                out['initiator'] = str(ctx.initiator_name)
                out['mech'] = ctx.mech.dotted_form
        elif op == 'wrap':
            w = ctx.wrap(dec(req['data']), req['conf'])
            out = {'token': enc(w.message), 'encrypted': w.encrypted}
        elif op == 'unwrap':
            r = ctx.unwrap(dec(req['token']))
            out = {'data': enc(r.message), 'encrypted': r.encrypted}
        elif op == 'get_mic':
            out = {'mic': enc(ctx.get_signature(dec(req['data'])))}
        elif op == 'verify_mic':
            ctx.verify_signature(dec(req['data']), dec(req['mic']))
            out = {'verified': True}
        else:
            out = {'error': 'unknown op ' + op}
    except gssapi.exceptions.GSSError as e:
        out = {'error': str(e)}
    print(json.dumps(out), flush=True)
`;

interface PeerAnswer {
  token?: string | null;
  complete?: boolean;
  initiator?: string;
  mech?: string;
  data?: string;
  encrypted?: boolean;
  mic?: string;
  verified?: boolean;
  error?: string;
}

class PythonPeer {
  private readonly child: ChildProcess;
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | undefined;

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(PYTHON!, ['-c', PEER], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (this.waiting !== undefined) {
        const w = this.waiting;
        this.waiting = undefined;
        w(line);
      } else this.answers.push(line);
    });
  }

  async call(request: Record<string, unknown>): Promise<PeerAnswer> {
    this.child.stdin!.write(JSON.stringify(request) + '\n');
    const line = this.answers.shift() ?? (await new Promise<string>((resolve) => (this.waiting = resolve)));
    return JSON.parse(line) as PeerAnswer;
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    if (this.child.exitCode === null) await new Promise((resolve) => this.child.once('exit', resolve));
  }
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const bytes = (text: string | null | undefined): Uint8Array => Uint8Array.from(Buffer.from(text ?? '', 'base64'));
const utf8 = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text));

describe('python3-gssapi (MIT krb5) against the Kerberos package', { timeout: 180_000 }, () => {
  let realm: Realm | undefined;
  let machine: Machine | undefined;

  before(async () => {
    if (SKIP) return;
    realm = await startRealm();
    const kinit = await realm.kdc.kinit('alice', ALICE_PASSWORD);
    assert.equal(kinit.code, 0, kinit.stderr);
    machine = await Machine.boot({ packages: ['kerberos'], accounts: [], trace: false, packageSettings: { kerberos: realm.settings() } });
  });
  after(async () => {
    await machine?.shutdown();
    await realm?.stop();
  });

  const peerEnv = (): NodeJS.ProcessEnv => ({ ...realm!.kdc.env, KRB5_KTNAME: `FILE:${realm!.keytab}` });

  it('Python initiates, the server process accepts; wrap, unwrap, get_mic and verify_mic both ways', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const server = await machine!.spawn('server');
    const python = new PythonPeer(peerEnv());
    try {
      const cred = await server.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.INBOUND });
      assert.ok(cred.credential !== undefined, statusName(cred.status));
      const first = await python.call({ op: 'init', target: 'host@localhost' });
      assert.equal(first.error, undefined, first.error);
      const accepted = await server.sspi.acceptSecurityContext({
        credential: cred.credential,
        contextReq: 0,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: bytes(first.token) }],
      });
      assert.equal(statusName(accepted.status), 'SEC_E_OK');
      const reply = accepted.output.find((b) => b.BufferType === SECBUFFER.TOKEN)!.pvBuffer;
      const done = await python.call({ op: 'step', token: b64(reply) });
      assert.equal(done.error, undefined, done.error);
      assert.equal(done.complete, true);
      await messages(server, accepted.context!, python);
    } finally {
      await python.stop();
    }
  });

  it('the client process initiates (its LSA asks the KDC), Python accepts with the keytab; wrap, unwrap, get_mic and verify_mic both ways', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const client = await machine!.spawn('client');
    const python = new PythonPeer(peerEnv());
    try {
      const cred = await client.sspi.acquireCredentialsHandle({
        package: 'Kerberos',
        credentialUse: SECPKG_CRED.OUTBOUND,
        authData: { User: 'alice', Domain: realm!.realm, Password: ALICE_PASSWORD },
      });
      assert.ok(cred.credential !== undefined, statusName(cred.status));
      const req = ISC_REQ.MUTUAL_AUTH | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY;
      const first = await client.sspi.initializeSecurityContext({ credential: cred.credential, targetName: 'host@localhost', contextReq: req });
      assert.equal(statusName(first.status), statusName(SEC_I_CONTINUE_NEEDED));
      const accepted = await python.call({ op: 'accept', token: b64(first.output.find((b) => b.BufferType === SECBUFFER.TOKEN)!.pvBuffer) });
      assert.equal(accepted.error, undefined, accepted.error);
      assert.equal(accepted.complete, true);
      assert.equal(accepted.initiator, `alice@${realm!.realm}`);
      const second = await client.sspi.initializeSecurityContext({
        credential: cred.credential,
        context: first.context!,
        targetName: 'host@localhost',
        contextReq: req,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: bytes(accepted.token) }],
      });
      assert.equal(statusName(second.status), statusName(SEC_E_OK));
      await messages(client, first.context!, python);
    } finally {
      await python.stop();
    }
  });
});

describe('python3-gssapi SPNEGO (MIT krb5 inside) against the Negotiate package', { timeout: 180_000 }, () => {
  let realm: Realm | undefined;
  /** Kerberos and NTLM behind Negotiate, as on a Windows domain member. */
  let both: Machine | undefined;
  /** Kerberos alone behind Negotiate: an initiator's NTLM first is passed over. */
  let kerberosOnly: Machine | undefined;

  before(async () => {
    if (SKIP) return;
    realm = await startRealm();
    const kinit = await realm.kdc.kinit('alice', ALICE_PASSWORD);
    assert.equal(kinit.code, 0, kinit.stderr);
    const settings = { kerberos: realm.settings() };
    both = await Machine.boot({ packages: ['negotiate', 'ntlm', 'kerberos'], accounts: [], trace: false, packageSettings: settings });
    kerberosOnly = await Machine.boot({ packages: ['negotiate', 'kerberos'], accounts: [], trace: false, packageSettings: settings });
  });
  after(async () => {
    await both?.shutdown();
    await kerberosOnly?.shutdown();
    await realm?.stop();
  });

  /** gss-ntlmssp reads NTLM users from this file: the NTLM credential Python needs to put NTLM first. */
  const peerEnv = (): NodeJS.ProcessEnv => ({ ...realm!.kdc.env, KRB5_KTNAME: `FILE:${realm!.keytab}`, NTLM_USER_FILE: `${realm!.kdc.dir}/ntlm-users` });

  const acceptCells: Array<[string, () => Machine, string[] | undefined, string[]]> = [
    [
      "Python's SPNEGO offers krb5 first with its AP-REQ: Negotiate accepts it in one leg, accept-completed with the AP-REP, no mechListMIC",
      () => both!,
      undefined,
      ['ASC SEC_E_OK (accept-completed, krb5, AP-REP)', 'python complete'],
    ],
    [
      "Python's SPNEGO offers NTLM first (its NEGOTIATE optimistic) then krb5, to an acceptor without NTLM: request-mic, the AP exchange, then each side's Kerberos MIC over the MechTypeList",
      () => kerberosOnly!,
      [MECH_OID.NTLMSSP, MECH_OID.KRB5],
      [
        'ASC SEC_I_CONTINUE_NEEDED (request-mic, krb5)',
        'python continue (AP-REQ)',
        'ASC SEC_I_CONTINUE_NEEDED (accept-incomplete, AP-REP, mechListMIC)',
        'python complete (mechListMIC)',
        'ASC SEC_E_OK (no token)',
      ],
    ],
  ];
  for (const [what, machine, negMechs, legs] of acceptCells) {
    it(what, async (t) => {
      if (SKIP) return t.skip(SKIP);
      if (negMechs !== undefined) await writeFile(`${realm!.kdc.dir}/ntlm-users`, `${realm!.realm}:alice:${ALICE_PASSWORD}\n`);
      const server = await machine().spawn('server');
      const python = new PythonPeer(peerEnv());
      try {
        const cred = await server.sspi.acquireCredentialsHandle({ package: 'Negotiate', credentialUse: SECPKG_CRED.INBOUND });
        assert.ok(cred.credential !== undefined, statusName(cred.status));
        const first = await python.call({ op: 'init', target: 'host@localhost', spnego: true, ...(negMechs === undefined ? {} : { neg_mechs: negMechs }) });
        assert.equal(first.error, undefined, first.error);
        const seen: string[] = [];
        let token = bytes(first.token);
        let context: CtxtHandle | undefined;
        let pythonDone = false;
        for (let leg = 0; leg < 4 && token.length > 0; leg++) {
          const accepted = await server.sspi.acceptSecurityContext({
            credential: cred.credential,
            ...(context === undefined ? {} : { context }),
            contextReq: ASC_REQ.MUTUAL_AUTH | ASC_REQ.CONFIDENTIALITY | ASC_REQ.INTEGRITY | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT,
            input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }],
          });
          assert.ok(isSuccess(accepted.status), statusName(accepted.status));
          context ??= accepted.context;
          const out = accepted.output.find((b) => b.BufferType === SECBUFFER.TOKEN)?.pvBuffer ?? new Uint8Array(0);
          seen.push(`ASC ${statusName(accepted.status)} (${describeResp(out)})`);
          if (out.length === 0) break;
          const answer = await python.call({ op: 'step', token: b64(out) });
          assert.equal(answer.error, undefined, answer.error);
          pythonDone = answer.complete === true;
          token = bytes(answer.token);
          seen.push(`python ${pythonDone ? 'complete' : 'continue'}${token.length > 0 ? ` (${describePython(token)})` : ''}`);
        }
        assert.deepEqual(seen, legs);
        assert.ok(pythonDone, 'python completed');
        const info = await server.sspi.queryContextAttributes(context!, SECPKG_ATTR.NEGOTIATION_INFO);
        assert.equal(info.buffer?.PackageInfo.Name, 'Kerberos');
        const names = await server.sspi.queryContextAttributes(context!, SECPKG_ATTR.NAMES);
        assert.equal(names.buffer?.sUserName, `alice@${realm!.realm}`);
        await messages(server, context!, python);
      } finally {
        await python.stop();
      }
    });
  }

  const initiateCells: Array<[string, string[] | undefined, string, string[]]> = [
    [
      "Negotiate offers MS krb5, krb5 and NTLM with its AP-REQ; Python's SPNEGO takes the first and answers accept-completed with the AP-REP",
      undefined,
      'Kerberos',
      ['python complete (accept-completed, MS krb5, AP-REP)', 'ISC SEC_E_OK'],
    ],
    [
      "Python accepts NTLM alone (gss-ntlmssp): it passes over both Kerberos OIDs; Negotiate drops its optimistic AP-REQ's context, starts NTLM, and the NTLM mechListMICs cross",
      [MECH_OID.NTLMSSP],
      'NTLM',
      [
        'python continue (request-mic, NTLM)',
        'ISC SEC_I_CONTINUE_NEEDED (a token)',
        'python continue (accept-incomplete, a token)',
        'ISC SEC_I_CONTINUE_NEEDED (a token, mechListMIC)',
        'python complete (accept-completed, mechListMIC)',
        'ISC SEC_E_OK',
      ],
    ],
  ];
  for (const [what, negMechs, mechanism, legs] of initiateCells) {
    it(what, async (t) => {
      if (SKIP) return t.skip(SKIP);
      const client = await both!.spawn('client');
      const python = new PythonPeer(peerEnv());
      try {
        if (negMechs !== undefined) await writeFile(`${realm!.kdc.dir}/ntlm-users`, `${realm!.realm}:alice:${ALICE_PASSWORD}\n`);
        const cred = await client.sspi.acquireCredentialsHandle({
          package: 'Negotiate',
          credentialUse: SECPKG_CRED.OUTBOUND,
          authData: { User: 'alice', Domain: realm!.realm, Password: ALICE_PASSWORD },
        });
        assert.ok(cred.credential !== undefined, statusName(cred.status));
        const req = ISC_REQ.MUTUAL_AUTH | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY;
        const first = await client.sspi.initializeSecurityContext({ credential: cred.credential, targetName: 'host@localhost', contextReq: req });
        assert.equal(statusName(first.status), statusName(SEC_I_CONTINUE_NEEDED));
        const seen: string[] = [];
        let answer = await python.call({ op: 'accept', token: b64(first.output.find((b) => b.BufferType === SECBUFFER.TOKEN)!.pvBuffer), ...(negMechs === undefined ? {} : { neg_mechs: negMechs }) });
        let clientDone = false;
        for (let leg = 0; leg < 4; leg++) {
          assert.equal(answer.error, undefined, answer.error);
          const token = bytes(answer.token);
          seen.push(`python ${answer.complete ? 'complete' : 'continue'}${token.length > 0 ? ` (${describeResp(token)})` : ''}`);
          if (token.length === 0 || clientDone) break;
          const step = await client.sspi.initializeSecurityContext({
            credential: cred.credential,
            context: first.context!,
            targetName: 'host@localhost',
            contextReq: req,
            input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }],
          });
          assert.ok(isSuccess(step.status), statusName(step.status));
          clientDone = step.status === SEC_E_OK;
          const out = step.output.find((b) => b.BufferType === SECBUFFER.TOKEN)?.pvBuffer ?? new Uint8Array(0);
          seen.push(`ISC ${statusName(step.status)}${out.length > 0 ? ` (${describePython(out)})` : ''}`);
          if (out.length === 0) break;
          answer = await python.call({ op: 'step', token: b64(out) });
        }
        assert.deepEqual(seen, legs);
        assert.ok(clientDone, 'the client completed');
        assert.equal(answer.complete, true, 'python completed');
        const info = await client.sspi.queryContextAttributes(first.context!, SECPKG_ATTR.NEGOTIATION_INFO);
        assert.equal(info.buffer?.PackageInfo.Name, mechanism);
        if (mechanism === 'Kerberos') {
          assert.equal(answer.initiator, `alice@${realm!.realm}`);
          assert.equal(answer.mech, MECH_OID.KRB5);
          await messages(client, first.context!, python);
        } else {
          assert.equal(answer.mech, MECH_OID.NTLMSSP);
        }
      } finally {
        await python.stop();
      }
    });
  }
});

const MECH_SHORT: ReadonlyMap<string, string> = new Map([
  [MECH_OID.KRB5, 'krb5'],
  [MECH_OID.MS_KRB5, 'MS krb5'],
  [MECH_OID.NTLMSSP, 'NTLM'],
]);

/** A NegTokenResp, in words: its negState, the mechanism it names, and what it carries. */
function describeResp(token: Uint8Array): string {
  if (token.length === 0) return 'no token';
  const { token: parsed } = unpackNegotiationToken(token);
  if (parsed.kind !== 'NegTokenResp') return parsed.kind;
  const parts: string[] = [];
  if (parsed.negState !== undefined) parts.push(NEG_STATE_NAMES[parsed.negState]);
  if (parsed.supportedMech !== undefined) parts.push(MECH_SHORT.get(parsed.supportedMech) ?? parsed.supportedMech);
  if (parsed.responseToken !== undefined) parts.push(parsed.responseToken[0] === 0x60 && parsed.responseToken.length > 0 ? kerberosKind(parsed.responseToken) : 'a token');
  if (parsed.mechListMIC !== undefined) parts.push('mechListMIC');
  return parts.join(', ');
}

/** What an initiator's NegTokenResp carries, in words. */
function describePython(token: Uint8Array): string {
  const { token: parsed } = unpackNegotiationToken(token);
  if (parsed.kind !== 'NegTokenResp') return parsed.kind;
  const parts: string[] = [];
  if (parsed.responseToken !== undefined) parts.push(parsed.responseToken[0] === 0x60 ? kerberosKind(parsed.responseToken) : 'a token');
  if (parsed.mechListMIC !== undefined) parts.push('mechListMIC');
  return parts.join(', ');
}

/** AP-REQ or AP-REP, by the RFC 4121 TOK_ID after the GSS framing's OID. */
function kerberosKind(token: Uint8Array): string {
  const framing = unpackInitialContextToken(token);
  const tokId = (token[framing.innerStart]! << 8) | token[framing.innerStart + 1]!;
  return tokId === 0x0100 ? 'AP-REQ' : tokId === 0x0200 ? 'AP-REP' : tokId === 0x0300 ? 'KRB-ERROR' : `TOK_ID ${tokId.toString(16)}`;
}

/** Each way: sealed and unsealed wraps, MICs, and an altered message refused on each side. */
async function messages(proc: AppProcess, context: CtxtHandle, python: PythonPeer): Promise<void> {
  // Python -> us: a wrap with confidentiality (read as one SECBUFFER_STREAM), one without (as TOKEN + DATA).
  for (const conf of [true, false]) {
    const text = `from python, conf=${conf}`;
    const wrapped = await python.call({ op: 'wrap', data: b64(utf8(text)), conf });
    assert.equal(wrapped.encrypted, conf);
    const token = bytes(wrapped.token);
    const buffers: SecBuffer[] = conf
      ? [
          { BufferType: SECBUFFER.STREAM, pvBuffer: token },
          { BufferType: SECBUFFER.DATA, pvBuffer: new Uint8Array(0) },
        ]
      : [
          { BufferType: SECBUFFER.TOKEN, pvBuffer: token.slice(0, 16) },
          { BufferType: SECBUFFER.DATA, pvBuffer: token.slice(16) },
        ];
    const opened = await proc.sspi.decryptMessage(context, buffers, 0);
    assert.equal(statusName(opened.status), 'SEC_E_OK');
    assert.equal(opened.qop, conf ? 0 : SECQOP_WRAP_NO_ENCRYPT);
    assert.equal(Buffer.from(opened.message.find((b) => b.BufferType === SECBUFFER.DATA)!.pvBuffer).toString(), text);
  }
  // Us -> Python: EncryptMessage's token and data end to end are the RFC 4121 token gss_unwrap reads.
  for (const qop of [0, SECQOP_WRAP_NO_ENCRYPT]) {
    const text = `from sspi-emu, qop=${qop}`;
    const sealed = await proc.sspi.encryptMessage(
      context,
      qop,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(60) },
        { BufferType: SECBUFFER.DATA, pvBuffer: utf8(text) },
      ],
      0,
    );
    assert.equal(statusName(sealed.status), 'SEC_E_OK');
    const token = Buffer.concat([sealed.message[0]!.pvBuffer, sealed.message[1]!.pvBuffer]);
    const unwrapped = await python.call({ op: 'unwrap', token: token.toString('base64') });
    assert.equal(unwrapped.error, undefined, unwrapped.error);
    assert.equal(unwrapped.encrypted, qop === 0);
    assert.equal(Buffer.from(bytes(unwrapped.data)).toString(), text);
  }
  // MICs each way.
  const data = utf8('signed both ways');
  const mic = await python.call({ op: 'get_mic', data: b64(data) });
  const verified = await proc.sspi.verifySignature(
    context,
    [
      { BufferType: SECBUFFER.DATA, pvBuffer: data.slice() },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: bytes(mic.mic) },
    ],
    0,
  );
  assert.equal(statusName(verified.status), 'SEC_E_OK');
  const signed = await proc.sspi.makeSignature(
    context,
    0,
    [
      { BufferType: SECBUFFER.DATA, pvBuffer: data.slice() },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(28) },
    ],
    0,
  );
  assert.equal(statusName(signed.status), 'SEC_E_OK');
  const checked = await python.call({ op: 'verify_mic', data: b64(data), mic: b64(signed.message[1]!.pvBuffer) });
  assert.equal(checked.error, undefined, checked.error);
  assert.equal(checked.verified, true);

  // Altered on the way: each side refuses.
  const mic2 = await python.call({ op: 'get_mic', data: b64(data) });
  const altered = await proc.sspi.verifySignature(
    context,
    [
      { BufferType: SECBUFFER.DATA, pvBuffer: utf8('signed both wayz') },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: bytes(mic2.mic) },
    ],
    0,
  );
  assert.equal(statusName(altered.status), 'SEC_E_MESSAGE_ALTERED');
  const signed2 = await proc.sspi.makeSignature(
    context,
    0,
    [
      { BufferType: SECBUFFER.DATA, pvBuffer: data.slice() },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(28) },
    ],
    0,
  );
  const refused = await python.call({ op: 'verify_mic', data: b64(utf8('signed both wayz')), mic: b64(signed2.message[1]!.pvBuffer) });
  assert.match(refused.error ?? '', /BAD_SIG|signature|integrity/i);
}
