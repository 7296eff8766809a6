// The KDC on real loopback sockets (RFC 4120 7.2): UDP and TCP on one port, the TCP length
// prefix and what it refuses, requests answered in order on one connection, replies too large for
// a datagram turned into KRB_ERR_RESPONSE_TOO_BIG (and the client's retry over TCP), idle and
// excess connections closed, a taken port refused. The client is the Kerberos package's own
// (packages/kerberos/kdc-client.ts over transport.ts), the one every machine uses.

import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { makeRandomKey, stringToKey } from '../../../../packages/kerberos/crypto/index.js';
import { Kdc, KdcDatabase, KdcError, KdcListener, kdcPolicy, type KdcPolicy, type KdcRequestRecord } from '../../../../packages/kerberos/kdc/index.js';
import { KdcClient, kdcCall, newClientSecret } from '../../../../packages/kerberos/kdc-client.js';
import { asRequest, readKdcAnswer, type KdcAnswer } from '../../../../packages/kerberos/kdc-requests.js';
import { KRB_ERROR_CODE } from '../../../../packages/kerberos/messages/index.js';
import { clientPrincipal, targetPrincipal } from '../../../../packages/kerberos/names.js';
import { parseSettings } from '../../../../packages/kerberos/settings.js';
import { isFailure } from '../../../../packages/kerberos/statuses.js';
import type { CachedTicket } from '../../../../packages/kerberos/tickets.js';
import { exchangeWithKdc } from '../../../../packages/kerberos/transport.js';

const REALM = 'EXAMPLE.TEST';

async function startKdc(policy: Partial<KdcPolicy> = {}, records: KdcRequestRecord[] = []): Promise<KdcListener> {
  const db = KdcDatabase.open(
    REALM,
    [
      { components: ['krbtgt', REALM], kind: 'krbtgt', keys: [makeRandomKey(18), makeRandomKey(17)] },
      { components: ['alice'], kind: 'user', password: 'pw', etypes: [18] },
      { components: ['host', 'server.example.test'], kind: 'service', keys: [makeRandomKey(18)] },
    ],
    async (etype, password, salt) => stringToKey(etype, password, salt),
  );
  return KdcListener.listen(new Kdc(db, kdcPolicy(policy)), { host: '127.0.0.1', port: 0 }, { after: (r) => records.push(r) });
}

function readAnswer(bytes: Uint8Array): KdcAnswer {
  const answer = readKdcAnswer(bytes);
  if (isFailure(answer)) assert.fail(answer.reason);
  return answer;
}

/**
 * The package's KDC client for this KDC: over UDP first (short requests, udpPreferenceLimit's
 * default) or TCP only (udpPreferenceLimit 1, MIT's way of saying so).
 */
function packageClient(address: { host: string; port: number }, transport: 'udp' | 'tcp'): { tgt(): Promise<CachedTicket>; serviceTicket(tgt: CachedTicket): Promise<CachedTicket> } {
  const settings = parseSettings({ realm: REALM, kdc: `${address.host}:${address.port}`, ...(transport === 'tcp' ? { udpPreferenceLimit: 1 } : {}) });
  const client = new KdcClient(settings, () => new Date(), async (etype, password, salt, params) => stringToKey(etype, password, salt, params));
  const settled = (got: CachedTicket | { reason: string }): CachedTicket => {
    if (isFailure(got)) assert.fail(got.reason);
    return got as CachedTicket;
  };
  return {
    tgt: async () => settled(await client.asExchange(newClientSecret(clientPrincipal('alice', '', REALM)!, 'pw'), kdcCall(settings))),
    serviceTicket: async (tgt) => settled(await client.tgsExchange(tgt, targetPrincipal('host/server.example.test', REALM)!, kdcCall(settings))),
  };
}

/** One request after another on one TCP connection: each reply read whole before the next goes. */
class OneConnection {
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private readonly socket: Socket;
  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake?.();
    });
  }

  static async open(port: number): Promise<OneConnection> {
    return new OneConnection(await rawConnection(port));
  }

  async exchange(request: Uint8Array): Promise<Uint8Array> {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(request.length);
    this.socket.write(Buffer.concat([head, request]));
    while (this.buffered.length < 4 || this.buffered.length < 4 + this.buffered.readUInt32BE(0))
      await new Promise<void>((resolve) => (this.wake = resolve));
    const length = this.buffered.readUInt32BE(0);
    const reply = new Uint8Array(this.buffered.subarray(4, 4 + length));
    this.buffered = this.buffered.subarray(4 + length);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Everything a raw TCP connection receives until the KDC closes it. */
function readUntilClosed(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => socket.on('close', () => resolve(Buffer.concat(chunks))));
}

function rawConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function errorCodeOf(framed: Buffer): number {
  assert.ok(framed.length >= 4);
  const length = framed.readUInt32BE(0);
  const answer = readAnswer(new Uint8Array(framed.subarray(4, 4 + length)));
  assert.equal(answer.kind, 'error');
  return (answer as { error: { errorCode: number } }).error.errorCode;
}

describe('the KDC on UDP and TCP (RFC 4120 7.2)', { timeout: 60_000 }, () => {
  let listener: KdcListener;
  const records: KdcRequestRecord[] = [];

  before(async () => {
    listener = await startKdc({ idleTimeoutMs: 200 }, records);
  });
  after(() => listener.close());

  it('answers on one port over UDP and over TCP', async () => {
    const address = listener.address;
    assert.ok(address.port > 0);
    const overUdp = packageClient(address, 'udp');
    await overUdp.serviceTicket(await overUdp.tgt());
    await packageClient(address, 'tcp').tgt();
    assert.deepEqual(
      records.map((r) => `${r.exchange} ${r.transport} ${r.result}`),
      ['AS udp KDC_ERR_PREAUTH_REQUIRED', 'AS udp OK', 'TGS udp OK', 'AS tcp KDC_ERR_PREAUTH_REQUIRED', 'AS tcp OK'],
    );
  });

  it('answers requests sent one after another on one TCP connection, in order', async () => {
    const connection = await OneConnection.open(listener.address.port);
    try {
      const a = readAnswer(await connection.exchange(asRequest({ realm: REALM, client: ['alice'] })));
      const b = readAnswer(await connection.exchange(asRequest({ realm: REALM, client: ['nobody'] })));
      assert.equal(a.kind === 'error' && a.error.errorCode, KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED);
      assert.equal(b.kind === 'error' && b.error.errorCode, KRB_ERROR_CODE.KDC_ERR_C_PRINCIPAL_UNKNOWN);
    } finally {
      connection.close();
    }
  });

  it('answers two requests that arrive in one TCP segment, both, in order', async () => {
    const socket = await rawConnection(listener.address.port);
    const one = asRequest({ realm: REALM, client: ['alice'] });
    const two = asRequest({ realm: REALM, client: ['nobody'] });
    const frame = (m: Uint8Array): Buffer => Buffer.concat([Buffer.from([0, 0, (m.length >> 8) & 0xff, m.length & 0xff]), Buffer.from(m)]);
    const chunks: Buffer[] = [];
    const both = new Promise<Buffer>((resolve) =>
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.length >= 4 && all.length >= 8 + all.readUInt32BE(0) && all.length >= 4 + all.readUInt32BE(0) + 4 + all.readUInt32BE(4 + all.readUInt32BE(0)))
          resolve(all);
      }),
    );
    socket.write(Buffer.concat([frame(one), frame(two)]));
    const all = await both;
    socket.destroy();
    const first = all.readUInt32BE(0);
    assert.equal(errorCodeOf(all), KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED);
    assert.equal(errorCodeOf(all.subarray(4 + first)), KRB_ERROR_CODE.KDC_ERR_C_PRINCIPAL_UNKNOWN);
  });

  it('answers a length with its reserved high bit set, or longer than it takes, KRB_ERR_FIELD_TOOLONG and closes the connection', async () => {
    for (const header of [Buffer.from([0x80, 0, 0, 10]), Buffer.from([0x00, 0x10, 0, 0])]) {
      const socket = await rawConnection(listener.address.port);
      const received = readUntilClosed(socket);
      socket.write(header);
      assert.equal(errorCodeOf(await received), KRB_ERROR_CODE.KRB_ERR_FIELD_TOOLONG);
    }
    assert.ok(listener.stats().tooLong >= 2);
  });

  it("answers a request whose client ended its side right after it (a half-close, which MIT's krb5kdc answers too), then ends its own", async () => {
    // A KDC whose key derivation waits until the test lets it go: the answer is due only after the
    // client's end has reached the KDC.
    let derive!: () => void;
    const called = new Promise<void>((resolve) => (derive = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const db = KdcDatabase.open(
      REALM,
      [
        { components: ['krbtgt', REALM], kind: 'krbtgt', keys: [makeRandomKey(18)] },
        { components: ['alice'], kind: 'user', password: 'pw', etypes: [18] },
      ],
      async (etype, password, salt) => {
        derive();
        await released;
        return stringToKey(etype, password, salt);
      },
    );
    const gated = await KdcListener.listen(new Kdc(db, kdcPolicy()), { host: '127.0.0.1', port: 0 });
    try {
      const socket = await rawConnection(gated.address.port);
      const received = readUntilClosed(socket);
      const request = asRequest({ realm: REALM, client: ['alice'] });
      const head = Buffer.alloc(4);
      head.writeUInt32BE(request.length);
      const finished = new Promise((resolve) => socket.once('finish', resolve));
      socket.end(Buffer.concat([head, request]));
      await called;
      // Our FIN is sent ('finish'; on loopback it is in the KDC's receive queue at once). A request
      // on a second connection, made after it, is read by the KDC no sooner than that FIN: once it is
      // answered, the KDC has seen the first connection end.
      await finished;
      const second = await OneConnection.open(gated.address.port);
      const other = readAnswer(await second.exchange(Uint8Array.of(0x30, 0x00)));
      assert.equal(other.kind === 'error' && other.error.errorCode, KRB_ERROR_CODE.KRB_AP_ERR_MSG_TYPE);
      second.close();
      release();
      assert.equal(errorCodeOf(await received), KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED, 'answered, then closed');
    } finally {
      await gated.close();
    }
  });

  it('closes a TCP connection left half-way through a request for idleTimeoutMs', async () => {
    const socket = await rawConnection(listener.address.port);
    const received = readUntilClosed(socket);
    socket.write(Buffer.from([0, 0, 0, 100, 0x6a]));
    assert.equal((await received).length, 0, 'closed without an answer');
  });

  it('answers garbage over UDP with a KRB-ERROR and goes on', async () => {
    const sent = await exchangeWithKdc(Uint8Array.of(1, 2, 3), { kdcs: [listener.address], udpPreferenceLimit: 1465, deadline: performance.now() + 10_000 });
    assert.ok(sent.ok && sent.transport === 'udp', JSON.stringify(sent.tries));
    const reply = readAnswer(sent.reply);
    assert.equal(reply.kind === 'error' && reply.error.errorCode, KRB_ERROR_CODE.KRB_AP_ERR_MSG_TYPE);
    await packageClient(listener.address, 'udp').tgt();
  });

  it('refuses a port that is taken: KdcError LISTEN_FAILED', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const db = KdcDatabase.open(REALM, [{ components: ['krbtgt', REALM], kind: 'krbtgt', keys: [makeRandomKey(18)] }], async () => makeRandomKey(18));
      await assert.rejects(
        KdcListener.listen(new Kdc(db, kdcPolicy()), { host: '127.0.0.1', port }),
        (e: unknown) => e instanceof KdcError && e.code === 'LISTEN_FAILED',
      );
    } finally {
      blocker.close();
    }
  });
});

describe('the KDC: replies too large for a datagram', { timeout: 60_000 }, () => {
  it('answers KRB_ERR_RESPONSE_TOO_BIG over UDP for a reply past maxDatagramReplyBytes, and the client gets its ticket over TCP', async () => {
    const records: KdcRequestRecord[] = [];
    const listener = await startKdc({ maxDatagramReplyBytes: 256 }, records);
    try {
      const tgt = await packageClient(listener.address, 'udp').tgt();
      assert.ok(tgt.ticket.encPart.cipher.length > 0);
      assert.deepEqual(
        records.map((r) => `${r.transport} ${r.result}`),
        ['udp KDC_ERR_PREAUTH_REQUIRED', 'udp KRB_ERR_RESPONSE_TOO_BIG', 'tcp OK'],
      );
      assert.equal(listener.stats().tooBig, 1);
    } finally {
      await listener.close();
    }
  });

  it('takes at most maxConnections TCP connections at once; those past it are closed', async () => {
    const listener = await startKdc({ maxConnections: 1 });
    try {
      const first = await OneConnection.open(listener.address.port);
      const second = await rawConnection(listener.address.port);
      const closed = readUntilClosed(second);
      assert.equal((await closed).length, 0);
      readAnswer(await first.exchange(asRequest({ realm: REALM, client: ['alice'] })));
      first.close();
    } finally {
      await listener.close();
    }
  });
});
