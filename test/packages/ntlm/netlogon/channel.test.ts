// Netlogon's secure channel on real sockets: the DC's server (server.ts) and a member's client
// (client.ts) together, and each against a peer that misbehaves, written here with the same
// framing: a wrong machine secret, an unknown account, another domain, the Zerologon shapes, calls
// out of order, replays, garbage; a DC that refuses connections, never answers, stalls on a logon,
// goes away and comes back, or does not know the machine's secret. Every failure is a status with
// its reason, within the logon's deadline; the server stays up for the next peer.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, statusName } from '../../../../headers/index.js';
import {
  computeCredential,
  computeSessionKey,
  frame,
  NETLOGON_CLIENT_FLAGS,
  NETLOGON_OPNUM,
  NetlogonClient,
  NetlogonServer,
  packBody,
  packSealed,
  sealMessage,
  sharedSecretOf,
  STATUS_TRUSTED_RELATIONSHIP_FAILURE,
  takeFrames,
  unpackFrame,
  type MachineAccount,
  type NetlogonReply,
  type NetlogonRequest,
  type NetlogonServerOptions,
  type SamLogonOutcome,
} from '../../../../packages/ntlm/netlogon/index.js';

const SECRET = 'm@chine-secret';
const ACCOUNTS = new Map<string, MachineAccount>([['member$', { accountName: 'MEMBER$', sharedSecret: sharedSecretOf(SECRET), rid: 1104 }]]);

/** A logon the DC answers by echoing its data back, reversed, with STATUS_SUCCESS. */
const echo: NetlogonServerOptions['samLogon'] = async (request) => ({ status: STATUS_SUCCESS, validationData: request.logonData.slice().reverse() });

const servers: NetlogonServer[] = [];
const clients: NetlogonClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function dc(options: Partial<NetlogonServerOptions> = {}, port = 0): Promise<NetlogonServer> {
  const server = await NetlogonServer.listen(
    { host: '127.0.0.1', port },
    { domainName: 'EXAMPLE', dnsDomainName: 'example.test', accounts: ACCOUNTS, samLogon: echo, ...options },
  );
  servers.push(server);
  return server;
}

function member(
  address: { host: string; port: number },
  options: { secret?: string; account?: string; domain?: string; timeoutMs?: number } = {},
): NetlogonClient {
  const client = new NetlogonClient({
    dc: address,
    domainName: options.domain ?? 'EXAMPLE',
    computerName: 'MEMBER',
    accountName: options.account ?? 'MEMBER$',
    sharedSecret: sharedSecretOf(options.secret ?? SECRET),
    timeoutMs: options.timeoutMs ?? 5000,
  });
  clients.push(client);
  return client;
}

function failed(outcome: SamLogonOutcome): { status: string; reason: string } {
  assert.equal(outcome.ok, false, `expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.ok ? { status: '', reason: '' } : { status: statusName(outcome.status), reason: outcome.reason };
}

/** A peer speaking the framing by hand: send a body, read the frames that come back, see the connection end. */
class RawPeer {
  private readonly socket: Socket;
  private pending: Buffer = Buffer.alloc(0);
  private readonly frames: Uint8Array[] = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      const taken = takeFrames(this.pending);
      this.pending = taken.rest;
      this.frames.push(...taken.frames);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(address: { host: string; port: number }): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect(address.port, address.host, () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Uint8Array): void {
    this.socket.write(frame(bytes));
  }

  call(callId: number, call: NetlogonRequest): void {
    this.send(packBody({ kind: 'request', callId, call }));
  }

  /** The next frame, or null when the connection ends first. */
  async next(): Promise<Uint8Array | null> {
    while (this.frames.length === 0) {
      if (this.socket.destroyed) return null;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.frames.shift()!;
  }

  async reply(): Promise<NetlogonReply> {
    const bytes = await this.next();
    assert.ok(bytes !== null, 'the DC closed the connection instead of answering');
    const parsed = unpackFrame(bytes);
    assert.equal(parsed.kind, 'reply');
    return (parsed as { call: NetlogonReply }).call;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const challenge = (clientChallenge: Uint8Array, domainName = 'EXAMPLE'): NetlogonRequest => ({
  opnum: NETLOGON_OPNUM.NetrServerReqChallenge,
  primaryName: 'dc',
  domainName,
  computerName: 'MEMBER',
  clientChallenge,
});
const authenticate = (clientCredential: Uint8Array, negotiateFlags = NETLOGON_CLIENT_FLAGS): NetlogonRequest => ({
  opnum: NETLOGON_OPNUM.NetrServerAuthenticate3,
  primaryName: 'dc',
  accountName: 'MEMBER$',
  secureChannelType: 2,
  computerName: 'MEMBER',
  clientCredential,
  negotiateFlags,
});
const logon = (data: Uint8Array): NetlogonRequest => ({
  opnum: NETLOGON_OPNUM.NetrLogonSamLogonEx,
  logonServer: 'dc',
  computerName: 'MEMBER',
  logonLevel: 4,
  logonDomainName: 'EXAMPLE',
  packageName: 'NTLM',
  logonData: data,
  validationLevel: 5,
});

/** A raw peer that made a proper channel: its session key, for sealing by hand. */
async function rawChannel(address: { host: string; port: number }): Promise<{ peer: RawPeer; sessionKey: Uint8Array }> {
  const peer = await RawPeer.open(address);
  const cc = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  peer.call(1, challenge(cc));
  const challenged = await peer.reply();
  assert.equal(challenged.status, STATUS_SUCCESS);
  const sessionKey = computeSessionKey(sharedSecretOf(SECRET), cc, (challenged as { serverChallenge: Uint8Array }).serverChallenge);
  peer.call(2, authenticate(computeCredential(cc, sessionKey)));
  assert.equal((await peer.reply()).status, STATUS_SUCCESS);
  return { peer, sessionKey };
}

describe('a member and its DC', () => {
  it('make a secure channel and pass logons through it, each answered to its caller, several in flight', async () => {
    const waiting: Array<() => void> = [];
    const server = await dc({
      // All ten held until the tenth arrives, then answered in the reverse order: the channel matches answers to calls by id.
      samLogon: (request, channel) =>
        new Promise((resolve) => {
          assert.equal(channel.accountName, 'MEMBER$');
          assert.equal(channel.computerName, 'MEMBER');
          waiting.push(() => resolve({ status: STATUS_SUCCESS, validationData: Uint8Array.of(request.logonData[0]!, 0xaa) }));
          if (waiting.length === 10) for (const answer of waiting.reverse()) answer();
        }),
    });
    const client = member(server.address);
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => client.samLogon('EXAMPLE', 'NTLM', Uint8Array.of(i))));
    outcomes.forEach((o, i) => assert.deepEqual(o, { ok: true, status: STATUS_SUCCESS, validationData: Uint8Array.of(i, 0xaa) }));
    const status = client.status();
    assert.equal(status.channel, 'up');
    assert.equal(status.channelsMade, 1, 'one channel for every logon');
    assert.deepEqual(status.logons, { sent: 10, answered: 10, failed: 0 });
    assert.deepEqual(server.stats().logons, { STATUS_SUCCESS: 10 });
  });

  it('refuses a wrong machine secret: STATUS_TRUSTED_RELATIONSHIP_FAILURE naming STATUS_ACCESS_DENIED, and the DC counts it', async () => {
    const server = await dc();
    const f = failed(await member(server.address, { secret: 'not the secret' }).samLogon('EXAMPLE', 'NTLM', Uint8Array.of(1)));
    assert.equal(f.status, statusName(STATUS_TRUSTED_RELATIONSHIP_FAILURE));
    assert.match(f.reason, /the DC refused the machine account MEMBER\$: NetrServerAuthenticate3 STATUS_ACCESS_DENIED \(a wrong machine secret\)/);
    assert.deepEqual(server.stats().refused, { STATUS_ACCESS_DENIED: 1 });
    assert.equal(server.stats().channels, 0);
  });

  it('refuses an unknown machine account (STATUS_NO_TRUST_SAM_ACCOUNT) and a channel for another domain (STATUS_NO_SUCH_DOMAIN)', async () => {
    const server = await dc();
    assert.match(
      failed(await member(server.address, { account: 'STRANGER$' }).samLogon('EXAMPLE', 'NTLM', Uint8Array.of(1))).reason,
      /STATUS_NO_TRUST_SAM_ACCOUNT/,
    );
    assert.match(
      failed(await member(server.address, { domain: 'OTHER' }).samLogon('OTHER', 'NTLM', Uint8Array.of(1))).reason,
      /domain OTHER: NetrServerReqChallenge STATUS_NO_SUCH_DOMAIN/,
    );
  });

  it('gives STATUS_NO_LOGON_SERVERS at once when nothing listens, and when the DC goes away mid-logon; a DC back on its port serves again', async () => {
    const server = await dc();
    const address = { ...server.address };
    await server.close();
    const refused = failed(await member(address).samLogon('EXAMPLE', 'NTLM', Uint8Array.of(1)));
    assert.equal(refused.status, 'STATUS_NO_LOGON_SERVERS');
    assert.match(refused.reason, /no DC at 127\.0\.0\.1:\d+: connect ECONNREFUSED/);

    let arrived: () => void = () => undefined;
    const logonArrived = new Promise<void>((resolve) => (arrived = resolve));
    const again = await dc({ samLogon: () => (arrived(), new Promise(() => undefined)) }, address.port);
    const client = member(address);
    const pending = client.samLogon('EXAMPLE', 'NTLM', Uint8Array.of(2));
    await logonArrived;
    await again.close();
    const gone = failed(await pending);
    assert.equal(gone.status, 'STATUS_NO_LOGON_SERVERS');
    assert.match(gone.reason, /the DC closed the connection/);
    assert.equal(client.status().channel, 'down');

    await dc({}, address.port);
    assert.deepEqual(await client.samLogon('EXAMPLE', 'NTLM', Uint8Array.of(3)), { ok: true, status: STATUS_SUCCESS, validationData: Uint8Array.of(3) });
    assert.equal(client.status().channelsMade, 2, 'a new channel to the DC that came back');
  });

  it('gives STATUS_NO_LOGON_SERVERS at the deadline when the DC stalls on a logon, drops the channel, and makes a new one for the next', async () => {
    let stall = true;
    const server = await dc({ samLogon: (request) => (stall ? new Promise(() => undefined) : echo(request, { accountName: '', computerName: '', peer: '' })) });
    const client = member(server.address, { timeoutMs: 300 });
    const f = failed(await client.samLogon('EXAMPLE', 'NTLM', Uint8Array.of(1)));
    assert.equal(f.status, 'STATUS_NO_LOGON_SERVERS');
    assert.match(f.reason, /no answer from the DC at 127\.0\.0\.1:\d+ within 300 ms \(the logon\)/);
    stall = false;
    assert.equal((await client.samLogon('EXAMPLE', 'NTLM', Uint8Array.of(4))).ok, true);
    assert.equal(client.status().channelsMade, 2);
  });

  it("gives STATUS_NO_LOGON_SERVERS at the deadline when a listener never answers the channel's first call", async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const f = failed(await member({ host: '127.0.0.1', port }, { timeoutMs: 250 }).samLogon('EXAMPLE', 'NTLM', Uint8Array.of(1)));
      assert.equal(f.status, 'STATUS_NO_LOGON_SERVERS');
      assert.match(f.reason, /within 250 ms \(making the secure channel\)/);
    } finally {
      silent.close();
    }
  });

  it("refuses a DC that does not hold the machine's secret: its ServerCredential does not verify", async () => {
    // A rogue DC: it answers both calls with success, and a credential it cannot have computed.
    const rogue = createServer((socket) => {
      let pending: Buffer = Buffer.alloc(0);
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        const taken = takeFrames(pending);
        pending = taken.rest;
        for (const bytes of taken.frames) {
          const parsed = unpackFrame(bytes);
          if (parsed.kind !== 'request') continue;
          const call: NetlogonReply =
            parsed.call.opnum === NETLOGON_OPNUM.NetrServerReqChallenge
              ? { opnum: parsed.call.opnum, status: 0, serverChallenge: new Uint8Array(randomBytes(8)) }
              : {
                  opnum: NETLOGON_OPNUM.NetrServerAuthenticate3,
                  status: 0,
                  serverCredential: new Uint8Array(randomBytes(8)),
                  negotiateFlags: NETLOGON_CLIENT_FLAGS,
                  accountRid: 1,
                };
          socket.write(frame(packBody({ kind: 'reply', callId: parsed.callId, call })));
        }
      });
    });
    await new Promise<void>((resolve) => rogue.listen(0, '127.0.0.1', resolve));
    try {
      const f = failed(await member({ host: '127.0.0.1', port: (rogue.address() as { port: number }).port }).samLogon('EXAMPLE', 'NTLM', Uint8Array.of(1)));
      assert.equal(f.status, statusName(STATUS_TRUSTED_RELATIONSHIP_FAILURE));
      assert.match(f.reason, /ServerCredential does not verify/);
    } finally {
      rogue.close();
    }
  });

  it('answers STATUS_INSUFFICIENT_RESOURCES past the logons one channel may have in flight', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const server = await dc({
      limits: { maxInFlightPerChannel: 2 },
      samLogon: async (request) => (await held, { status: STATUS_SUCCESS, validationData: request.logonData }),
    });
    const client = member(server.address);
    const first = [client.samLogon('EXAMPLE', 'NTLM', Uint8Array.of(1)), client.samLogon('EXAMPLE', 'NTLM', Uint8Array.of(2))];
    const third = await client.samLogon('EXAMPLE', 'NTLM', Uint8Array.of(3));
    assert.deepEqual(third, { ok: true, status: STATUS_INSUFFICIENT_RESOURCES, validationData: new Uint8Array(0) });
    release();
    assert.ok((await Promise.all(first)).every((o) => o.ok && o.status === STATUS_SUCCESS));
  });

  it('verify() makes the channel now, or says why not', async () => {
    const server = await dc();
    assert.deepEqual(await member(server.address).verify(), { ok: true });
    const bad = await member(server.address, { secret: 'nope' }).verify();
    assert.equal(bad.ok, false);
  });
});

describe('the DC against a peer that breaks the protocol', () => {
  it('refuses the Zerologon shapes before any credential is computed: a ClientChallenge of one repeated byte, a ClientCredential equal to the challenge', async () => {
    // Either would fail the credential check too, almost always: the DC's log says which check refused it.
    const why: string[] = [];
    const server = await dc({ hooks: { after: (r) => void (r.call === 'NetrServerAuthenticate3' && why.push(r.detail ?? '')) } });
    for (const [cc, credential] of [
      [new Uint8Array(8), new Uint8Array(8)],
      [Uint8Array.of(7, 7, 7, 7, 7, 1, 2, 3), new Uint8Array(8)],
      [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)],
    ] as const) {
      const peer = await RawPeer.open(server.address);
      peer.call(1, challenge(cc));
      assert.equal((await peer.reply()).status, STATUS_SUCCESS);
      peer.call(2, authenticate(credential));
      assert.equal(statusName((await peer.reply()).status), 'STATUS_ACCESS_DENIED');
      await peer.closed;
    }
    assert.deepEqual(server.stats().refused, { STATUS_ACCESS_DENIED: 3 });
    assert.match(why[0]!, /first five bytes are one value \(the Zerologon shape\)/);
    assert.match(why[1]!, /first five bytes are one value/);
    assert.match(why[2]!, /the ClientCredential repeats the ClientChallenge/);
  });

  it('refuses a client that does not offer AES with STATUS_NOT_SUPPORTED', async () => {
    const server = await dc();
    const peer = await RawPeer.open(server.address);
    const cc = Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2);
    peer.call(1, challenge(cc));
    const sc = ((await peer.reply()) as { serverChallenge: Uint8Array }).serverChallenge;
    peer.call(2, authenticate(computeCredential(cc, computeSessionKey(sharedSecretOf(SECRET), cc, sc)), 0x40000000));
    assert.equal(statusName((await peer.reply()).status), 'STATUS_NOT_SUPPORTED');
  });

  it('drops a connection that sends a sealed logon before the channel, Authenticate3 before a challenge, garbage, or a frame past the limit; and serves the next', async () => {
    const server = await dc();
    const attempts: Array<(peer: RawPeer) => void> = [
      (p) => p.send(packSealed(new Uint8Array(80))),
      (p) => p.call(1, authenticate(new Uint8Array(8))),
      (p) => p.send(Uint8Array.of(1, 9, 9, 9)),
      (p) => p.call(1, logon(Uint8Array.of(1))),
    ];
    for (const attempt of attempts) {
      const peer = await RawPeer.open(server.address);
      attempt(peer);
      assert.equal(await peer.next(), null, 'the DC closed the connection without answering');
    }
    const huge = await RawPeer.open(server.address);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(0x7fffffff, 0);
    (huge as unknown as { socket: Socket }).socket.write(length);
    await huge.closed;
    assert.equal(server.stats().dropped, attempts.length + 1);
    assert.equal((await member(server.address).samLogon('EXAMPLE', 'NTLM', Uint8Array.of(5))).ok, true);
  });

  it('drops a channel on a replayed sealed logon, on one sealed with another key, and on a call in the clear after the channel', async () => {
    const server = await dc();
    // A replay: the same sealed frame twice.
    {
      const { peer, sessionKey } = await rawChannel(server.address);
      const sealed = packSealed(
        sealMessage(sessionKey, 0n, 'client', packBody({ kind: 'request', callId: 3, call: logon(Uint8Array.of(1)) }), new Uint8Array(8)),
      );
      peer.send(sealed);
      assert.ok((await peer.next()) !== null, 'the first is answered');
      peer.send(sealed);
      assert.equal(await peer.next(), null);
    }
    // Another key.
    {
      const { peer } = await rawChannel(server.address);
      peer.send(
        packSealed(sealMessage(new Uint8Array(16), 0n, 'client', packBody({ kind: 'request', callId: 3, call: logon(Uint8Array.of(1)) }), new Uint8Array(8))),
      );
      assert.equal(await peer.next(), null);
    }
    // A reflected (server-side) sequence number, then a call in the clear.
    {
      const { peer, sessionKey } = await rawChannel(server.address);
      peer.send(packSealed(sealMessage(sessionKey, 0n, 'server', packBody({ kind: 'request', callId: 3, call: logon(Uint8Array.of(1)) }), new Uint8Array(8))));
      assert.equal(await peer.next(), null);
    }
    {
      const { peer } = await rawChannel(server.address);
      peer.call(3, logon(Uint8Array.of(1)));
      assert.equal(await peer.next(), null);
    }
    assert.equal(server.stats().dropped, 4);
    assert.equal(server.stats().channels, 4);
  });
});
