// Negotiate over HTTP against Samba's SPNEGO and NTLMSSP (Debian samba-common-bin's ntlm_auth,
// driven over its helper protocol: YR, TT, KK, AF, NA lines of base64 tokens), code nobody here
// wrote, in its own OS process:
//   ntlm_auth --helper-protocol=gss-spnego-client -> sspi-emu serve --http (the test relays its
//     tokens: YR gives the NegTokenInit, each 401's token goes back as TT, KK is the next token,
//     and the 200's final token as TT must get AF: Samba checked the server's mechListMIC; an
//     altered one gets BH NT_STATUS_ACCESS_DENIED)
//   ntlm_auth --helper-protocol=ntlmssp-client-1 -> serve --http, raw NTLMSSP under "Negotiate"
//   sspi-emu fetch --package Negotiate -> ntlm_auth --helper-protocol=gss-spnego (the acceptor,
//     behind a small HTTP server in the test: YR/KK with the client's tokens, TT to a 401, AF to
//     the 200 with its final token, NA to a final 401)
// ntlm_auth's acceptor checks NTLM responses through winbindd, or, given --password, against that
// one password itself (Samba's local_pw_check: any user name, no domain, no winbindd), which is
// what runs here. Its smb.conf is the test's own (a workgroup and a NetBIOS name; every directory
// in a temporary one). Skipped, saying so, when ntlm_auth is not installed.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { NEG_STATE, unpackNegotiationToken, type NegTokenResp } from '../../packages/negotiate/wire.js';
import { RawHttp, hasProgram, sspiEmu, startServe, type Program } from '../helpers/sockets.js';

const SKIP = hasProgram('ntlm_auth') ? false : 'ntlm_auth not installed (apt-get install samba-common-bin)';

/** A temporary smb.conf: what ntlm_auth reads, with nothing written outside `dir`. */
async function sambaConfig(dir: string): Promise<string> {
  for (const sub of ['lock', 'state', 'cache', 'private', 'pid']) await mkdir(join(dir, sub), { recursive: true });
  const file = join(dir, 'smb.conf');
  await writeFile(
    file,
    [
      '[global]',
      '\tworkgroup = WORKGROUP',
      '\tnetbios name = NTLMAUTHTEST',
      `\tlock directory = ${join(dir, 'lock')}`,
      `\tstate directory = ${join(dir, 'state')}`,
      `\tcache directory = ${join(dir, 'cache')}`,
      `\tprivate dir = ${join(dir, 'private')}`,
      `\tpid directory = ${join(dir, 'pid')}`,
      '',
    ].join('\n'),
  );
  return file;
}

/** One ntlm_auth helper process: a line in, a line out, in order. */
class Helper {
  readonly child: ChildProcess;
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  private stderr = '';

  constructor(args: string[]) {
    this.child = spawn('ntlm_auth', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (this.waiting === undefined) this.answers.push(line);
      else {
        const wake = this.waiting;
        this.waiting = undefined;
        wake(line);
      }
    });
    this.child.once('exit', () => this.waiting?.(`EXITED ${this.stderr}`));
  }

  /** Sends one request line and reads the answer line. */
  ask(line: string): Promise<string> {
    this.child.stdin!.write(`${line}\n`);
    const answered = this.answers.shift();
    if (answered !== undefined) return Promise.resolve(answered);
    if (this.child.exitCode !== null) return Promise.resolve(`EXITED ${this.stderr}`);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

/** "CODE [token] [arg]" as ntlm_auth prints it. */
function parse(line: string): { code: string; token: string | undefined; rest: string[] } {
  const [code = '', token, ...rest] = line.split(' ');
  return { code, token: token === undefined || token === '*' ? undefined : token, rest };
}

function negTokenResp(base64: string): NegTokenResp {
  const { token } = unpackNegotiationToken(Uint8Array.from(Buffer.from(base64, 'base64')));
  assert.equal(token.kind, 'NegTokenResp');
  return token as NegTokenResp;
}

/** The token of a "Negotiate <base64>" header. */
function negotiateToken(header: string | undefined): string | undefined {
  return /^Negotiate ([A-Za-z0-9+/=]+)$/.exec(header ?? '')?.[1];
}

describe("Samba's ntlm_auth as the initiator against sspi-emu serve --http (Negotiate)", { timeout: 120_000 }, () => {
  let dir = '';
  let config = '';
  let server: { program: Program; port: number } | undefined;
  const helpers: Helper[] = [];

  before(async () => {
    if (SKIP) return;
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-ntlm-auth-'));
    config = await sambaConfig(dir);
    server = await startServe(['--http', '--port', '0', '--account', 'alice:Passw0rd!']);
  });

  after(async () => {
    for (const h of helpers) h.stop();
    await server?.program.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  function helper(protocol: string, password: string): Helper {
    const h = new Helper([`--configfile=${config}`, `--helper-protocol=${protocol}`, '--username=alice', '--domain=WORKGROUP', `--password=${password}`]);
    helpers.push(h);
    return h;
  }

  /**
   * Relays ntlm_auth's gss-spnego-client tokens to the server on one connection until the server's
   * answer is not a 401 with a token; the server's final token (if any) goes to ntlm_auth too,
   * through `finalTransit`. What each side said.
   */
  async function relay(h: Helper, features?: string, finalTransit: (token: string) => string = (t) => t) {
    if (features !== undefined) assert.equal(await h.ask(`SF ${features}`), 'OK');
    const first = parse(await h.ask('YR'));
    assert.equal(first.code, 'YR');
    const conn = await RawHttp.open(server!.port);
    const sent: string[] = [first.token!];
    try {
      let response = await conn.request({ Authorization: `Negotiate ${first.token}` });
      for (;;) {
        const token = negotiateToken(response?.headers['www-authenticate']);
        if (response?.status !== 401 || token === undefined) break;
        const next = parse(await h.ask(`TT ${token}`));
        assert.equal(next.code, 'KK', `ntlm_auth answered the server's token: ${next.code} ${next.rest.join(' ')}`);
        sent.push(next.token!);
        response = await conn.request({ Authorization: `Negotiate ${next.token}` });
      }
      const final = negotiateToken(response?.headers['www-authenticate']);
      const verdict = response?.status === 200 && final !== undefined ? parse(await h.ask(`TT ${finalTransit(final)}`)) : undefined;
      return { sent, response, final, verdict };
    } finally {
      conn.close();
    }
  }

  it('authenticates with SPNEGO (NTLMSSP inside, no signing asked for: no mechListMIC either way), and ntlm_auth accepts the final token', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const { sent, response, final, verdict } = await relay(helper('gss-spnego-client', 'Passw0rd!'));
    const init = unpackNegotiationToken(Uint8Array.from(Buffer.from(sent[0]!, 'base64'))).token;
    assert.equal(init.kind, 'NegTokenInit', "Samba's first token is SPNEGO's");
    assert.equal(response?.status, 200);
    assert.equal(response?.body, 'user: SSPI-EMU\\alice\npackage: Negotiate\nmechanism: NTLM\n');
    const done = negTokenResp(final!);
    assert.equal(done.negState, NEG_STATE.ACCEPT_COMPLETED);
    assert.equal(done.mechListMIC, undefined, 'Samba negotiated no signing, so neither side made a mechListMIC');
    assert.equal(verdict?.code, 'AF', `ntlm_auth took the final token: ${JSON.stringify(verdict)}`);
  });

  it('with signing and sealing asked for, both mechListMICs cross, and ntlm_auth checks the server\'s', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const { sent, response, final, verdict } = await relay(helper('gss-spnego-client', 'Passw0rd!'), 'NTLMSSP_FEATURE_SIGN NTLMSSP_FEATURE_SEAL');
    assert.equal(negTokenResp(sent[1]!).mechListMIC?.byteLength, 16, "Samba's mechListMIC with its AUTHENTICATE (checked by AcceptSecurityContext)");
    assert.equal(response?.status, 200);
    assert.equal(negTokenResp(final!).mechListMIC?.byteLength, 16, "the server's mechListMIC in the 200's token");
    assert.equal(verdict?.code, 'AF');
  });

  it("makes ntlm_auth refuse a final token whose mechListMIC was altered on the way (BH NT_STATUS_ACCESS_DENIED): Samba checks the server's MIC", async (t) => {
    if (SKIP) return t.skip(SKIP);
    const altered = (base64: string): string => {
      const token = Buffer.from(base64, 'base64');
      token[token.byteLength - 6]! ^= 0x01; // inside the MIC's checksum, the token's last field
      return token.toString('base64');
    };
    const { response, verdict } = await relay(helper('gss-spnego-client', 'Passw0rd!'), 'NTLMSSP_FEATURE_SIGN NTLMSSP_FEATURE_SEAL', altered);
    assert.equal(response?.status, 200, 'the server accepted the client');
    // gensec's SPNEGO fails the MIC with NT_STATUS_ACCESS_DENIED, which ntlm_auth reports as BH.
    assert.deepEqual([verdict?.code, verdict?.token], ['BH', 'NT_STATUS_ACCESS_DENIED'], `ntlm_auth refused the altered MIC: ${JSON.stringify(verdict)}`);
  });

  it('refuses a wrong password with a final 401 (SEC_E_LOGON_DENIED)', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const { response, verdict } = await relay(helper('gss-spnego-client', 'wrong'));
    assert.equal(response?.status, 401);
    assert.equal(response?.body, 'authentication failed: SEC_E_LOGON_DENIED\n');
    assert.equal(verdict, undefined);
  });

  it('takes raw NTLMSSP (ntlmssp-client-1) under the Negotiate scheme: 200, no final token', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const h = helper('ntlmssp-client-1', 'Passw0rd!');
    const first = parse(await h.ask('YR'));
    assert.equal(Buffer.from(first.token!, 'base64').toString('latin1', 0, 8), 'NTLMSSP\0');
    const conn = await RawHttp.open(server!.port);
    try {
      const challenge = await conn.request({ Authorization: `Negotiate ${first.token}` });
      const raw = negotiateToken(challenge?.headers['www-authenticate']);
      assert.equal(Buffer.from(raw ?? '', 'base64').toString('latin1', 0, 8), 'NTLMSSP\0', 'a raw CHALLENGE_MESSAGE back');
      const authenticate = parse(await h.ask(`TT ${raw}`));
      assert.equal(authenticate.code, 'AF');
      const final = await conn.request({ Authorization: `Negotiate ${authenticate.token}` });
      assert.equal(final?.status, 200);
      assert.equal(final?.body, 'user: SSPI-EMU\\alice\npackage: Negotiate\nmechanism: NTLM\n');
      assert.equal(final?.headers['www-authenticate'], undefined);
    } finally {
      conn.close();
    }
  });

  it('stops with every context deleted', async (t) => {
    if (SKIP) return t.skip(SKIP);
    assert.equal((await server!.program.stop()).code, 0);
    assert.match(server!.program.lines.at(-1) ?? '', /contexts left in the LSA: 0$/);
  });
});

/**
 * An HTTP server whose acceptor is ntlm_auth --helper-protocol=gss-spnego, one helper per
 * connection (the authentication belongs to the connection), as RFC 4559 has it.
 */
class NtlmAuthServer {
  private readonly server: Server;
  private readonly helpers = new Map<Socket, { helper: Helper; first: boolean }>();
  /** Each answer line of ntlm_auth, in order. */
  readonly answers: string[] = [];
  port = 0;

  constructor(config: string, password: string) {
    this.server = createServer();
    this.server.on('connection', (socket: Socket) => {
      const helper = new Helper([`--configfile=${config}`, '--helper-protocol=gss-spnego', `--password=${password}`]);
      this.helpers.set(socket, { helper, first: true });
      socket.once('close', () => {
        helper.stop();
        this.helpers.delete(socket);
      });
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const state = this.helpers.get(req.socket)!;
    const token = negotiateToken(req.headers.authorization);
    if (token === undefined) {
      res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
      return;
    }
    const line = await state.helper.ask(`${state.first ? 'YR' : 'KK'} ${token}`);
    state.first = false;
    this.answers.push(line);
    const { code, token: out, rest } = parse(line);
    const challenge = out === undefined ? {} : { 'WWW-Authenticate': `Negotiate ${out}` };
    if (code === 'TT') res.writeHead(401, challenge).end();
    else if (code === 'AF') res.writeHead(200, challenge).end(`user: ${rest.join(' ')}\n`);
    else res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end(`${line}\n`);
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const { helper } of this.helpers.values()) helper.stop();
  }
}

describe("sspi-emu fetch --package Negotiate against Samba's ntlm_auth as the acceptor (gss-spnego, --password)", { timeout: 120_000 }, () => {
  let dir = '';
  let acceptor: NtlmAuthServer | undefined;

  before(async () => {
    if (SKIP) return;
    dir = await mkdtemp(join(tmpdir(), 'sspi-emu-ntlm-auth-'));
    acceptor = await new NtlmAuthServer(await sambaConfig(dir), 'Passw0rd!').listen();
  });

  after(async () => {
    await acceptor?.close();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  const fetch = (password: string) =>
    sspiEmu(['fetch', `http://127.0.0.1:${acceptor!.port}/`, '--package', 'Negotiate', '--user', 'WORKGROUP\\alice', '--password', password, '-i']);

  it("authenticates; Samba's accept-completed token with its mechListMIC goes with the 200, and fetch verifies it (exit 0)", async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await fetch('Passw0rd!');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\n/);
    assert.match(r.stdout, /\n\nuser: WORKGROUP\\alice\n$/, "ntlm_auth's AF names the user");
    const final = parse(acceptor!.answers.at(-1)!);
    assert.equal(final.code, 'AF');
    const done = negTokenResp(final.token!);
    assert.equal(done.negState, NEG_STATE.ACCEPT_COMPLETED);
    assert.equal(done.mechListMIC?.byteLength, 16, "Samba's mechListMIC, checked by fetch before it took the 200");
    assert.deepEqual(
      acceptor!.answers.slice(-2).map((l) => l.split(' ')[0]),
      ['TT', 'AF'],
    );
  });

  it('is refused with a wrong password: ntlm_auth answers NA (NT_STATUS_LOGON_FAILURE), fetch exits 1', async (t) => {
    if (SKIP) return t.skip(SKIP);
    const r = await fetch('wrong');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^HTTP\/1\.1 401 Unauthorized\n/);
    assert.match(acceptor!.answers.at(-1) ?? '', /^NA \* NT_STATUS_LOGON_FAILURE$/);
  });
});
