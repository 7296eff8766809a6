// The KDC on real loopback sockets (RFC 4120 7.2): UDP and TCP on one port, the TCP length
// prefix and what it refuses, requests answered in order on one connection, replies too large for
// a datagram turned into KRB_ERR_RESPONSE_TOO_BIG (and the client's retry over TCP), idle and
// excess connections closed, a taken port refused.

import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeRandomKey, stringToKey } from '../../../../packages/kerberos/crypto/index.js';
import {
  asRequest,
  exchangeUdp,
  getServiceTicket,
  getTgt,
  Kdc,
  KdcConnection,
  KdcDatabase,
  KdcError,
  KdcListener,
  kdcPolicy,
  readAnswer,
  type KdcPolicy,
  type KdcRequestRecord,
} from '../../../../packages/kerberos/kdc/index.js';
import { KRB_ERROR_CODE } from '../../../../packages/kerberos/messages/index.js';

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
    const tgt = await getTgt(address, { realm: REALM, client: ['alice'], password: 'pw', transport: 'udp' });
    await getServiceTicket(address, { realm: REALM, tgt, service: ['host', 'server.example.test'], transport: 'udp' });
    await getTgt(address, { realm: REALM, client: ['alice'], password: 'pw', transport: 'tcp' });
    assert.deepEqual(
      records.map((r) => `${r.exchange} ${r.transport} ${r.result}`),
      ['AS udp KDC_ERR_PREAUTH_REQUIRED', 'AS udp OK', 'TGS udp OK', 'AS tcp KDC_ERR_PREAUTH_REQUIRED', 'AS tcp OK'],
    );
  });

  it('answers requests sent one after another on one TCP connection, in order', async () => {
    const connection = await KdcConnection.open(listener.address);
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

  it('closes a TCP connection left half-way through a request for idleTimeoutMs', async () => {
    const socket = await rawConnection(listener.address.port);
    const received = readUntilClosed(socket);
    socket.write(Buffer.from([0, 0, 0, 100, 0x6a]));
    assert.equal((await received).length, 0, 'closed without an answer');
  });

  it('answers garbage over UDP with a KRB-ERROR and goes on', async () => {
    const reply = readAnswer(await exchangeUdp(listener.address, Uint8Array.of(1, 2, 3)));
    assert.equal(reply.kind === 'error' && reply.error.errorCode, KRB_ERROR_CODE.KRB_AP_ERR_MSG_TYPE);
    await getTgt(listener.address, { realm: REALM, client: ['alice'], password: 'pw', transport: 'udp' });
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
      const tgt = await getTgt(listener.address, { realm: REALM, client: ['alice'], password: 'pw', transport: 'udp' });
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
      const first = await KdcConnection.open(listener.address);
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
