// python3-gssapi (Debian's, over MIT's libgssapi_krb5) with the krb5 mechanism against the Kerberos
// package, both ways, every ticket from a local MIT KDC: a Python process is the peer of a client or
// server process of the machine, the test carrying the tokens between them (a line of JSON each way).
//   Python initiates (kinit's TGT), the server process accepts with the keytab kadmin exported;
//   the client process initiates (its LSA asks the KDC), Python accepts with that keytab.
// Then each side wraps (with and without confidentiality) and signs (get_mic) what the other unwraps
// and verifies, and a message changed on its way is refused by each. Skipped, saying so, without
// MIT's KDC or python3-gssapi.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { ISC_REQ, SECBUFFER, SECPKG_CRED, SECQOP_WRAP_NO_ENCRYPT, type SecBuffer } from '../../headers/sspi.js';
import { SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import type { CtxtHandle } from '../../sspi/handles.js';
import { ALICE_PASSWORD, mitKdcMissing, startRealm, type Realm } from '../helpers/kerberos-realm.js';

const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import gssapi'], { stdio: 'ignore' }).status === 0);
const SKIP = mitKdcMissing() || (PYTHON === undefined ? 'python3-gssapi is not installed (apt-get install python3-gssapi)' : false);

/** The Python side: one JSON request a line on stdin, one JSON answer a line on stdout. */
const PEER = String.raw`
import base64, json, sys
import gssapi
ctx = None
enc = lambda b: None if b is None else base64.b64encode(b).decode()
dec = lambda s: base64.b64decode(s)
F = gssapi.RequirementFlag
for line in sys.stdin:
    req = json.loads(line)
    op = req['op']
    try:
        if op == 'init':
            name = gssapi.Name(req['target'], gssapi.NameType.hostbased_service)
            ctx = gssapi.SecurityContext(name=name, usage='initiate', mech=gssapi.MechType.kerberos,
                                         flags=[F.mutual_authentication, F.replay_detection, F.out_of_sequence_detection, F.confidentiality, F.integrity])
            out = {'token': enc(ctx.step()), 'complete': ctx.complete}
        elif op == 'accept':
            ctx = gssapi.SecurityContext(usage='accept')
            out = {'token': enc(ctx.step(dec(req['token']))), 'complete': ctx.complete, 'initiator': str(ctx.initiator_name)}
        elif op == 'step':
            out = {'token': enc(ctx.step(dec(req['token']))), 'complete': ctx.complete}
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
