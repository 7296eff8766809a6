// The rogue KDC of kerberos/kdc-reply (fuzz/kerberos-rogue-kdc.ts) on its own, over real loopback
// sockets: it relays everyone but its lane users to its upstream KDC byte for byte (UDP and TCP),
// answers a lane user that no input armed as the real KDC would, and its control connection answers
// what it is asked (a report, a release, an unknown operation refused).

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RogueControl, RogueKdc, rogueUser } from '../../fuzz/kerberos-rogue-kdc.js';
import { asRequest } from '../../packages/kerberos/kdc-requests.js';
import { KRB_ERROR_CODE, unpackKrbError } from '../../packages/kerberos/messages/index.js';

const REALM = 'ROGUE.TEST';
/** What the fake upstream KDC answers anything with, so that a relayed answer is recognisable. */
const UPSTREAM_REPLY = Uint8Array.of(0x7e, 0x03, 0x02, 0x01, 0x2a);

function udpAsk(port: number, datagram: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.once('message', (m) => {
      socket.close();
      resolve(new Uint8Array(m));
    });
    socket.send(datagram, port, '127.0.0.1');
  });
}

function tcpAsk(port: number, request: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        socket.destroy();
        resolve(new Uint8Array(got.subarray(4, 4 + got.readUInt32BE(0))));
      }
    });
    const framed = Buffer.alloc(4 + request.length);
    framed.writeUInt32BE(request.length, 0);
    framed.set(request, 4);
    socket.write(framed);
  });
}

describe('the rogue KDC', () => {
  let upstreamUdp: ReturnType<typeof createSocket>;
  let upstreamTcp: Server;
  let rogue: RogueKdc;
  let control: RogueControl;
  const seenUpstream: Uint8Array[] = [];

  before(async () => {
    // A fake upstream KDC on one port, UDP and TCP, that records what it gets and answers UPSTREAM_REPLY.
    upstreamTcp = createServer((socket) => {
      let got = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
          seenUpstream.push(new Uint8Array(got.subarray(4)));
          const out = Buffer.alloc(4 + UPSTREAM_REPLY.length);
          out.writeUInt32BE(UPSTREAM_REPLY.length, 0);
          out.set(UPSTREAM_REPLY, 4);
          socket.end(out);
        }
      });
    });
    await new Promise<void>((resolve) => upstreamTcp.listen(0, '127.0.0.1', resolve));
    const port = (upstreamTcp.address() as { port: number }).port;
    upstreamUdp = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      upstreamUdp.once('error', reject);
      upstreamUdp.bind(port, '127.0.0.1', resolve);
    });
    upstreamUdp.on('message', (m, rinfo) => {
      seenUpstream.push(new Uint8Array(m));
      upstreamUdp.send(UPSTREAM_REPLY, rinfo.port, rinfo.address);
    });
    rogue = await RogueKdc.start({ realm: REALM, upstream: { host: '127.0.0.1', port }, lanes: 2 });
    control = await RogueControl.connect(rogue.address.host, rogue.address.controlPort);
  });
  after(async () => {
    control?.close();
    await rogue?.close();
    upstreamUdp?.close();
    await new Promise<void>((resolve) => (upstreamTcp ? upstreamTcp.close(() => resolve()) : resolve()));
  });

  it("relays another client's request to its upstream KDC as it came, and the answer back, over UDP and TCP", async () => {
    const request = asRequest({ realm: REALM, client: ['alice'] });
    assert.deepEqual(await udpAsk(rogue.address.port, request), UPSTREAM_REPLY);
    assert.deepEqual(await tcpAsk(rogue.address.port, request), UPSTREAM_REPLY);
    assert.deepEqual(seenUpstream.slice(-2), [request, request]);
  });

  it('relays bytes that are no request at all too: the upstream KDC judges them', async () => {
    const junk = Uint8Array.of(1, 2, 3);
    assert.deepEqual(await udpAsk(rogue.address.port, junk), UPSTREAM_REPLY);
    assert.deepEqual(seenUpstream.at(-1), junk);
  });

  it('answers a lane user that no input armed as the real KDC does: pre-authentication required', async () => {
    const before = seenUpstream.length;
    const reply = await udpAsk(rogue.address.port, asRequest({ realm: REALM, client: [rogueUser(1)] }));
    assert.equal(unpackKrbError(reply).errorCode, KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED);
    assert.equal(seenUpstream.length, before);
  });

  it('relays a lane number past its lanes: it has no such user', async () => {
    assert.deepEqual(await udpAsk(rogue.address.port, asRequest({ realm: REALM, client: [rogueUser(2)] })), UPSTREAM_REPLY);
  });

  it('reports an armed lane that saw no request as unreached, and releases it with nothing presented', async () => {
    await control.arm(0, 12345);
    const report = await control.report(0);
    assert.equal(report?.strategy, 'unreached');
    assert.equal(report?.delivered, false);
    assert.equal(report?.mustReject, false);
    assert.deepEqual(await control.release(0), []);
    assert.equal(await control.report(0), undefined);
  });
});
