// Negotiate against python-gssapi (Debian python3-gssapi) with the SPNEGO mechanism
// (1.3.6.1.5.5.2), which MIT's SPNEGO drives over gss-ntlmssp: code nobody here wrote, in its own
// OS process, the tokens passed by the test to a client or server process of a real machine.
//   a Python initiator (gss_acquire_cred_with_password, gss_init_sec_context) -> AcceptSecurityContext
//   InitializeSecurityContext -> a Python acceptor (NTLM_USER_FILE, gss_accept_sec_context)
// Both mechListMICs cross between the implementations; then each side wraps (sealed) and signs a
// message that the other unwraps and verifies: gss_wrap/gss_get_mic (get_signature) against DecryptMessage/
// VerifySignature, EncryptMessage/MakeSignature against gss_unwrap/gss_verify_mic (verify_signature). That only works
// when both reset NTLM's RC4 state after the mechListMIC (MS-SPNG 3.3.5.1) and agree on the
// sequence numbers after it. KRB5_CONFIG=/dev/null keeps Kerberos out. Skipped, saying so, when
// python3-gssapi or gss-ntlmssp is missing.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CLIENT_REQ } from '../../client-proc/app.js';
import { SECBUFFER, SECPKG_ATTR, SECPKG_CRED, tokenBytes, type SecBuffer } from '../../headers/sspi.js';
import { SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName } from '../../headers/status.js';
import { Machine, type AppProcess } from '../../machine/machine.js';
import { MECH_OID, unpackNegotiationToken } from '../../packages/negotiate/wire.js';
import { DEFAULT_SERVER_REQ } from '../../server-proc/app.js';
import type { CredHandle, CtxtHandle } from '../../sspi/handles.js';
import { hasGssNtlmssp } from '../helpers/sockets.js';

/** Debian's python3 first (where apt puts python3-gssapi), then whatever python3 is on PATH. */
const PYTHON = ['/usr/bin/python3', 'python3'].find((python) => spawnSync(python, ['-c', 'import gssapi, gssapi.raw'], { stdio: 'ignore' }).status === 0);
const SKIP =
  PYTHON === undefined
    ? 'python3-gssapi is not installed (apt-get install python3-gssapi)'
    : !hasGssNtlmssp()
      ? 'the gss-ntlmssp mechanism is not installed (apt-get install gss-ntlmssp)'
      : false;

/**
 * The Python side: one JSON object per line each way. Its tokens as {token, complete}, then
 * {complete, peer, mech}, then its wrapped and signed messages; it answers ours with what it
 * unwrapped and verified. A GSS error is {error} and exit 3.
 */
const SCRIPT = String.raw`
import sys, json, base64, gssapi, gssapi.raw as raw
SPNEGO = gssapi.OID.from_int_seq('1.3.6.1.5.5.2')
def send(**o): print(json.dumps(o), flush=True)
def recv(): return json.loads(sys.stdin.readline())
b64 = lambda b: base64.b64encode(b).decode()
flags = gssapi.RequirementFlag
try:
    if sys.argv[1] == 'initiate':
        name = gssapi.Name(sys.argv[2], gssapi.NameType.user)
        creds = raw.acquire_cred_with_password(name, sys.argv[3].encode(), usage='initiate', mechs=[SPNEGO]).creds
        ctx = gssapi.SecurityContext(name=gssapi.Name('HTTP@localhost', gssapi.NameType.hostbased_service), creds=gssapi.Credentials(creds),
            mech=SPNEGO, usage='initiate', flags=[flags.integrity, flags.confidentiality, flags.replay_detection, flags.out_of_sequence_detection])
        token = ctx.step()
    else:
        ctx = gssapi.SecurityContext(usage='accept')
        token = None
    while True:
        if token: send(token=b64(token), complete=ctx.complete)
        if ctx.complete: break
        token = ctx.step(base64.b64decode(recv()['token']))
    send(complete=True, peer=str(ctx.initiator_name).rstrip('\x00'), mech=ctx.mech.dotted_form)
    wrapped = ctx.wrap(b'sealed by python-gssapi', True)
    send(wrap=b64(wrapped.message), encrypted=wrapped.encrypted, mic=b64(ctx.get_signature(b'signed by python-gssapi')))
    ours = recv()
    unwrapped = ctx.unwrap(base64.b64decode(ours['wrap']))
    ctx.verify_signature(ours['message'].encode(), base64.b64decode(ours['mic']))
    send(unwrapped=unwrapped.message.decode(), encrypted=unwrapped.encrypted, verified=True)
except gssapi.exceptions.GSSError as e:
    send(error=str(e))
    sys.exit(3)
except Exception as e:
    send(error=repr(e))
    sys.exit(4)
`;

interface PyMessage {
  token?: string;
  complete?: boolean;
  peer?: string;
  mech?: string;
  wrap?: string;
  encrypted?: boolean;
  mic?: string;
  unwrapped?: string;
  verified?: boolean;
  error?: string;
}

/** The Python process, read one line at a time in order. */
class Python {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private readonly queued: PyMessage[] = [];
  private waiting: ((m: PyMessage) => void) | undefined;
  private stderr = '';
  private gone = false;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(PYTHON!, ['-c', SCRIPT, ...args], { env: { ...process.env, KRB5_CONFIG: '/dev/null', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as PyMessage;
      if (this.waiting !== undefined) {
        const wake = this.waiting;
        this.waiting = undefined;
        wake(message);
      } else this.queued.push(message);
    });
    void this.exited.then(() => {
      this.gone = true;
      this.waiting?.({ error: `python exited: ${this.stderr}` });
    });
  }

  /** Its next message; once it has exited with nothing more said, an error naming its stderr. */
  next(): Promise<PyMessage> {
    const queued = this.queued.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.gone) return Promise.resolve({ error: `python exited: ${this.stderr}` });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  send(message: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

/** The mechListMIC of a NegTokenResp in base64, if it has one. */
function micOf(base64: string): Uint8Array | undefined {
  const { token } = unpackNegotiationToken(bytes(base64));
  return token.kind === 'NegTokenResp' ? token.mechListMIC : undefined;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const bytes = (base64: string): Uint8Array => Uint8Array.from(Buffer.from(base64, 'base64'));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * The message phase, the same whichever side initiated: Python's sealed and signed messages opened
 * and verified in `proc`, then `proc`'s sealed and signed messages sent for Python to open and verify.
 */
async function exchangeMessages(py: Python, proc: AppProcess, context: CtxtHandle): Promise<{ unwrapped: string; verified: PyMessage }> {
  const theirs = await py.next();
  assert.equal(theirs.error, undefined, theirs.error);
  assert.equal(theirs.encrypted, true);
  // A GSS wrap token of NTLM is the signature, then the sealed data (as gss-ntlmssp and the TCP app have it).
  const wrapped = bytes(theirs.wrap!);
  const opened = await proc.sspi.decryptMessage(
    context,
    [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: wrapped.slice(0, 16) },
      { BufferType: SECBUFFER.DATA, pvBuffer: wrapped.slice(16) },
    ],
    0,
  );
  assert.equal(statusName(opened.status), 'SEC_E_OK', "DecryptMessage of python-gssapi's gss_wrap");
  const unwrapped = new TextDecoder().decode(opened.message.find((b) => b.BufferType === SECBUFFER.DATA)!.pvBuffer);
  const checked = await proc.sspi.verifySignature(
    context,
    [
      { BufferType: SECBUFFER.DATA, pvBuffer: text('signed by python-gssapi') },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: bytes(theirs.mic!) },
    ],
    0,
  );
  assert.equal(statusName(checked.status), 'SEC_E_OK', "VerifySignature of python-gssapi's gss_get_mic");

  const sizes = await proc.sspi.queryContextAttributes(context, SECPKG_ATTR.SIZES);
  const sealed = await proc.sspi.encryptMessage(
    context,
    0,
    [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(sizes.buffer!.cbSecurityTrailer) },
      { BufferType: SECBUFFER.DATA, pvBuffer: text('sealed by sspi-emu') },
    ],
    0,
  );
  assert.equal(statusName(sealed.status), 'SEC_E_OK');
  const part = (buffers: SecBuffer[], type: number): Uint8Array => buffers.find((b) => b.BufferType === type)!.pvBuffer;
  const signed = await proc.sspi.makeSignature(
    context,
    0,
    [
      { BufferType: SECBUFFER.DATA, pvBuffer: text('signed by sspi-emu') },
      { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(sizes.buffer!.cbMaxSignature) },
    ],
    0,
  );
  assert.equal(statusName(signed.status), 'SEC_E_OK');
  py.send({
    wrap: b64(Buffer.concat([part(sealed.message, SECBUFFER.TOKEN), part(sealed.message, SECBUFFER.DATA)])),
    message: 'signed by sspi-emu',
    mic: b64(part(signed.message, SECBUFFER.TOKEN)),
  });
  return { unwrapped, verified: await py.next() };
}

describe('python-gssapi with SPNEGO (over gss-ntlmssp) and Negotiate, both ways, messages after the mechListMICs', { timeout: 120_000 }, () => {
  let machine: Machine;
  let client: AppProcess;
  let server: AppProcess;
  let dir = '';
  let users = '';
  const running: Python[] = [];

  before(async () => {
    if (SKIP) return;
    machine = await Machine.boot({ packages: ['ntlm', 'negotiate'], accounts: ['alice:Passw0rd!'], trace: false });
    client = await machine.spawn('client');
    server = await machine.spawn('server');
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-python-gssapi-'));
    users = join(dir, 'ntlm-users');
    await writeFile(users, 'WORKGROUP:alice:Passw0rd!\n');
  });

  after(async () => {
    for (const py of running) py.stop();
    await machine?.shutdown();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  function python(args: string[], env: NodeJS.ProcessEnv = {}): Python {
    const py = new Python(args, env);
    running.push(py);
    return py;
  }

  async function inbound(): Promise<CredHandle> {
    const r = await server.sspi.acquireCredentialsHandle({ package: 'Negotiate', credentialUse: SECPKG_CRED.INBOUND });
    assert.ok(r.credential !== undefined, statusName(r.status));
    return r.credential;
  }

  async function outbound(password: string): Promise<CredHandle> {
    const authData = { User: 'alice', Domain: 'WORKGROUP', Password: password };
    const r = await client.sspi.acquireCredentialsHandle({ package: 'Negotiate', credentialUse: SECPKG_CRED.OUTBOUND, authData });
    assert.ok(r.credential !== undefined, statusName(r.status));
    return r.credential;
  }

  /** Python initiates; the server process accepts. The statuses of AcceptSecurityContext, and Python's last word. */
  async function pythonInitiates(password: string) {
    const py = python(['initiate', 'WORKGROUP\\alice', password]);
    const credential = await inbound();
    let context: CtxtHandle | undefined;
    const statuses: string[] = [];
    let m = await py.next();
    const first = m.token;
    const theirs: string[] = [];
    while (m.token !== undefined) {
      theirs.push(m.token);
      const r = await server.sspi.acceptSecurityContext({
        credential,
        context: context ?? null,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: bytes(m.token) }],
        contextReq: DEFAULT_SERVER_REQ,
      });
      context = r.context ?? context;
      statuses.push(statusName(r.status));
      const out = tokenBytes(r.output);
      if (out !== undefined && out.byteLength > 0) py.send({ token: b64(out) });
      if (r.status !== SEC_I_CONTINUE_NEEDED && r.status !== SEC_E_OK) break;
      m = await py.next();
    }
    return { py, credential, context, statuses, last: m, first, theirs };
  }

  /** The client process initiates; Python accepts. The statuses of InitializeSecurityContext, and Python's last word. */
  async function pythonAccepts(password: string) {
    const py = python(['accept'], { NTLM_USER_FILE: users });
    const credential = await outbound(password);
    let context: CtxtHandle | undefined;
    const statuses: string[] = [];
    let input: Uint8Array | undefined;
    let m: PyMessage = {};
    const theirs: string[] = [];
    for (;;) {
      const r = await client.sspi.initializeSecurityContext({
        credential,
        context: context ?? null,
        targetName: 'HTTP/localhost',
        contextReq: DEFAULT_CLIENT_REQ,
        input: input === undefined ? null : [{ BufferType: SECBUFFER.TOKEN, pvBuffer: input }],
      });
      context = r.context ?? context;
      statuses.push(statusName(r.status));
      const out = tokenBytes(r.output);
      if (out !== undefined && out.byteLength > 0) py.send({ token: b64(out) });
      if (r.status !== SEC_I_CONTINUE_NEEDED) {
        m = await py.next();
        break;
      }
      m = await py.next();
      if (m.token === undefined) break;
      theirs.push(m.token);
      input = bytes(m.token);
    }
    return { py, credential, context, statuses, last: m, theirs };
  }

  it("a Python initiator authenticates to AcceptSecurityContext (Negotiate), and each side opens and verifies the other's sealed and signed messages", async (t) => {
    if (SKIP) return t.skip(SKIP);
    const { py, credential, context, statuses, last, first, theirs } = await pythonInitiates('Passw0rd!');
    const init = unpackNegotiationToken(bytes(first!)).token;
    assert.equal(init.kind, 'NegTokenInit', 'SPNEGO, not a raw NTLM token');
    assert.deepEqual(init.kind === 'NegTokenInit' ? init.mechTypes : [], [MECH_OID.NTLMSSP]);
    assert.deepEqual(statuses, ['SEC_I_CONTINUE_NEEDED', 'SEC_E_OK'], 'NegTokenInit, then the AUTHENTICATE with its mechListMIC');
    assert.equal(micOf(theirs[1]!)?.byteLength, 16, "python-gssapi's mechListMIC came with its AUTHENTICATE (and AcceptSecurityContext checked it)");
    // SPNEGO's context reports the mechanism it negotiated.
    assert.deepEqual([last.complete, last.mech], [true, MECH_OID.NTLMSSP], JSON.stringify(last));
    const names = await server.sspi.queryContextAttributes(context!, SECPKG_ATTR.NAMES);
    assert.equal(names.buffer?.sUserName, 'SSPI-EMU\\alice');
    const { unwrapped, verified } = await exchangeMessages(py, server, context!);
    assert.equal(unwrapped, 'sealed by python-gssapi');
    assert.deepEqual(verified, { unwrapped: 'sealed by sspi-emu', encrypted: true, verified: true });
    assert.equal(await py.exited, 0);
    await server.sspi.deleteSecurityContext(context!);
    await server.sspi.freeCredentialsHandle(credential);
  });

  it('InitializeSecurityContext (Negotiate) authenticates to a Python acceptor, checks its mechListMIC, and each side opens and verifies the other\'s messages', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const { py, credential, context, statuses, last, theirs } = await pythonAccepts('Passw0rd!');
    assert.equal(micOf(theirs.at(-1)!)?.byteLength, 16, "python-gssapi's accept-completed carried its mechListMIC, which InitializeSecurityContext checked");
    assert.deepEqual(
      statuses,
      ['SEC_I_CONTINUE_NEEDED', 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK'],
      "NegTokenInit; the AUTHENTICATE and mechListMIC; the acceptor's accept-completed and mechListMIC checked",
    );
    assert.deepEqual([last.complete, last.mech], [true, MECH_OID.NTLMSSP], JSON.stringify(last));
    assert.equal(last.peer, 'WORKGROUP\\alice', 'the name gss-ntlmssp reports (with a trailing NUL, cut by the script)');
    const { unwrapped, verified } = await exchangeMessages(py, client, context!);
    assert.equal(unwrapped, 'sealed by python-gssapi');
    assert.deepEqual(verified, { unwrapped: 'sealed by sspi-emu', encrypted: true, verified: true });
    assert.equal(await py.exited, 0);
    await client.sspi.deleteSecurityContext(context!);
    await client.sspi.freeCredentialsHandle(credential);
  });

  it('refuses a Python initiator with a wrong password (SEC_E_LOGON_DENIED), and a Python acceptor refuses ours', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const ours = await pythonInitiates('wrong');
    assert.deepEqual(ours.statuses, ['SEC_I_CONTINUE_NEEDED', 'SEC_E_LOGON_DENIED']);
    ours.py.stop();
    if (ours.context !== undefined) await server.sspi.deleteSecurityContext(ours.context);
    await server.sspi.freeCredentialsHandle(ours.credential);

    const theirs = await pythonAccepts('wrong');
    assert.match(theirs.last.error ?? '', /./, 'python-gssapi reports a GSS error');
    assert.equal(await theirs.py.exited, 3);
    if (theirs.context !== undefined) await client.sspi.deleteSecurityContext(theirs.context);
    await client.sspi.freeCredentialsHandle(theirs.credential);
  });

  it('leaves no context or credential in the LSA', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const stats = await machine.lsa.stats();
    assert.equal(stats.contexts, 0, JSON.stringify(stats.perProcess));
    assert.equal(stats.credentials, 0, JSON.stringify(stats.perProcess));
  });
});
