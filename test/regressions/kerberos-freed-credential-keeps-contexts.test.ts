// Regression (issue 14): FreeCredentialsHandle on a Kerberos credential (SpFreeCredentialsHandle)
// wiped its password, keys and tickets at once (TicketCache.clear(), wipeClientSecret), even under an
// InitializeSecurityContext of that credential still talking to the KDC: its AS exchange then made
// its PA-ENC-TIMESTAMP from a wiped password, or its TGS exchange opened the reply with a zeroed TGT
// session key, and the call failed with a status about something else. Windows keeps a credential
// alive while a call or a context holds it: the call completes, and the contexts go on after the
// handle is freed. Seen from app processes through the real cross-worker path: a client and a server
// process on a member machine, its KDC a domain controller machine's, reached through a gate that
// holds the client's first KDC request until the test lets it go (an event, not a delay).

import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ISC_REQ, ASC_REQ, SECBUFFER, SECPKG_ATTR, SECPKG_CRED } from '../../headers/sspi.js';
import { statusName } from '../../headers/status.js';
import { Machine } from '../../index.js';
import type { CtxtHandle } from '../../sspi/index.js';
import { messagesBothWays, withMachine } from '../helpers/machine.js';

const REALM = 'EXAMPLE.TEST';
const SERVICE = 'HTTP/web.example.test';
const SERVICE_PASSWORD = 'web-service-secret-9';
/** Another service of the realm, that the member holds no key for: a client only asks for its ticket. */
const OTHER_SERVICE = 'HTTP/files.example.test';
const ALICE = { User: 'alice', Domain: REALM, Password: 'Alice-pw-1' };

/**
 * A TCP relay in front of the KDC that holds the connections it accepts while it is shut: `shut()`
 * answers a promise of the next connection's arrival, `open()` lets the held ones (and every later
 * one) through.
 */
class KdcGate {
  private server: Server | undefined;
  private arrival: (() => void) | undefined;
  private readonly held: Socket[] = [];
  private readonly sockets = new Set<Socket>();
  port = 0;
  private readonly kdcPort: number;

  constructor(kdcPort: number) {
    this.kdcPort = kdcPort;
  }

  /** From now on connections wait; resolves when the first of them has come. */
  shut(): Promise<void> {
    return new Promise<void>((resolve) => (this.arrival = resolve));
  }

  async start(): Promise<void> {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.pause();
      if (this.arrival === undefined) return this.relay(socket);
      this.held.push(socket);
      this.arrival();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  open(): void {
    this.arrival = undefined;
    for (const socket of this.held.splice(0)) this.relay(socket);
  }

  private relay(socket: Socket): void {
    const upstream = connect(this.kdcPort, '127.0.0.1');
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
    socket.resume();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

describe('regression: freeing a Kerberos credential leaves its contexts and calls in flight working', { timeout: 180_000 }, () => {
  let dc: Machine | undefined;
  before(async () => {
    dc = await Machine.boot({
      role: 'domain-controller',
      realm: REALM,
      accounts: ['alice:Alice-pw-1'],
      services: [`${SERVICE}:${SERVICE_PASSWORD}`, `${OTHER_SERVICE}:files-secret-3`],
      trace: false,
    });
  });
  after(async () => dc?.shutdown());

  /** The member machine, with its KDC at `kdcPort` (the DC's, or a gate before it), over TCP only (so the gate sees every request). */
  const member = (kdcPort: number) => ({
    packages: ['kerberos'],
    accounts: [`${SERVICE}:${SERVICE_PASSWORD}`],
    trace: false,
    packageSettings: { kerberos: { realm: REALM, kdc: `127.0.0.1:${kdcPort}`, services: [SERVICE], udpPreferenceLimit: 1, kdcTimeoutMs: 120_000 } },
  });

  it('a context mid-handshake completes after its credential is freed, then queries, signs, seals and exports', async () => {
    await withMachine(member(dc!.kdcAddress!.port), async (m) => {
      const client = await m.spawn('client');
      const server = await m.spawn('server');
      const out = await client.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
      const inb = await server.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.INBOUND });
      const first = await client.sspi.initializeSecurityContext({
        credential: out.credential!,
        targetName: SERVICE,
        contextReq: ISC_REQ.MUTUAL_AUTH | ISC_REQ.CONFIDENTIALITY,
      });
      assert.equal(statusName(first.status), 'SEC_I_CONTINUE_NEEDED');
      const c: CtxtHandle = first.context!;

      assert.equal(statusName((await client.sspi.freeCredentialsHandle(out.credential!)).status), 'SEC_E_OK');

      // Mid-handshake, the LSA answers for the context: its ticket's names, times and sizes.
      const names = await client.sspi.queryContextAttributes(c, SECPKG_ATTR.NAMES);
      assert.equal(statusName(names.status), 'SEC_E_OK');
      assert.equal(names.buffer?.sUserName, `alice@${REALM}`);
      assert.equal(statusName((await client.sspi.queryContextAttributes(c, SECPKG_ATTR.LIFESPAN)).status), 'SEC_E_OK');
      assert.equal(statusName((await client.sspi.queryContextAttributes(c, SECPKG_ATTR.SIZES)).status), 'SEC_E_OK');

      const accepted = await server.sspi.acceptSecurityContext({
        credential: inb.credential!,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: first.output[0]!.pvBuffer }],
        contextReq: ASC_REQ.MUTUAL_AUTH | ASC_REQ.CONFIDENTIALITY,
      });
      assert.equal(statusName(accepted.status), 'SEC_E_OK');
      const apRep = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: accepted.output[0]!.pvBuffer }];

      // The freed handle itself is no longer a handle; the refusal leaves the context as it was.
      const stale = await client.sspi.initializeSecurityContext({
        credential: out.credential!,
        context: c,
        targetName: SERVICE,
        contextReq: ISC_REQ.MUTUAL_AUTH,
        input: apRep,
      });
      assert.equal(statusName(stale.status), 'SEC_E_INVALID_HANDLE');
      const done = await client.sspi.initializeSecurityContext({
        credential: null,
        context: c,
        targetName: SERVICE,
        contextReq: ISC_REQ.MUTUAL_AUTH,
        input: apRep,
      });
      assert.equal(statusName(done.status), 'SEC_E_OK', 'the AP-REP completes the context of the freed credential');

      await messagesBothWays(client, c, server, accepted.context!);
      const key = await client.sspi.queryContextAttributes(c, SECPKG_ATTR.SESSION_KEY);
      assert.deepEqual(key.buffer?.SessionKey, (await server.sspi.queryContextAttributes(accepted.context!, SECPKG_ATTR.SESSION_KEY)).buffer?.SessionKey);

      // Handed to another process, it goes on there.
      const other = await m.spawn('client');
      const exported = await client.sspi.exportSecurityContext(c, 0, { importingProcess: other.pid });
      assert.equal(statusName(exported.status), 'SEC_E_OK');
      const imported = await other.sspi.importSecurityContext('Kerberos', exported.packedContext!);
      assert.equal(statusName(imported.status), 'SEC_E_OK');
      await messagesBothWays(other, imported.context!, server, accepted.context!);

      for (const [p, h] of [
        [client, c],
        [other, imported.context!],
        [server, accepted.context!],
      ] as const)
        assert.equal(statusName((await p.sspi.deleteSecurityContext(h)).status), 'SEC_E_OK');
      await server.sspi.freeCredentialsHandle(inb.credential!);
      const stats = await m.lsa.stats();
      assert.deepEqual([stats.contexts, stats.credentials], [0, 0]);
    });
  });

  it('an InitializeSecurityContext waiting for the KDC when its credential is freed completes, and its context works', async () => {
    const gate = new KdcGate(dc!.kdcAddress!.port);
    await gate.start();
    try {
      await withMachine(member(gate.port), async (m) => {
        const client = await m.spawn('client');
        const server = await m.spawn('server');
        const out = await client.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
        const inb = await server.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.INBOUND });
        // An explicit credential gets its TGT on first use: this call's AS exchange is held at the gate.
        const arrived = gate.shut();
        const starting = client.sspi.initializeSecurityContext({
          credential: out.credential!,
          targetName: SERVICE,
          contextReq: ISC_REQ.MUTUAL_AUTH | ISC_REQ.CONFIDENTIALITY,
        });
        await arrived;
        assert.equal(statusName((await client.sspi.freeCredentialsHandle(out.credential!)).status), 'SEC_E_OK');
        gate.open();
        const first = await starting;
        assert.equal(statusName(first.status), 'SEC_I_CONTINUE_NEEDED', 'the call under way keeps what it started with');

        const accepted = await server.sspi.acceptSecurityContext({
          credential: inb.credential!,
          input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: first.output[0]!.pvBuffer }],
          contextReq: ASC_REQ.MUTUAL_AUTH | ASC_REQ.CONFIDENTIALITY,
        });
        assert.equal(statusName(accepted.status), 'SEC_E_OK');
        const done = await client.sspi.initializeSecurityContext({
          credential: null,
          context: first.context!,
          targetName: SERVICE,
          contextReq: ISC_REQ.MUTUAL_AUTH,
          input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: accepted.output[0]!.pvBuffer }],
        });
        assert.equal(statusName(done.status), 'SEC_E_OK');
        await messagesBothWays(client, first.context!, server, accepted.context!);

        // The credential is gone for good: a new call with its handle is refused.
        const again = await client.sspi.initializeSecurityContext({ credential: out.credential!, targetName: SERVICE, contextReq: ISC_REQ.MUTUAL_AUTH });
        assert.equal(statusName(again.status), 'SEC_E_INVALID_HANDLE');
        await client.sspi.deleteSecurityContext(first.context!);
        await server.sspi.deleteSecurityContext(accepted.context!);
      });
    } finally {
      await gate.stop();
    }
  });

  it('one waiting for its TGS exchange (the TGT cached) when its credential is freed completes too', async () => {
    const gate = new KdcGate(dc!.kdcAddress!.port);
    await gate.start();
    try {
      await withMachine(member(gate.port), async (m) => {
        const client = await m.spawn('client');
        const out = await client.sspi.acquireCredentialsHandle({ package: 'Kerberos', credentialUse: SECPKG_CRED.OUTBOUND, authData: ALICE });
        const warm = await client.sspi.initializeSecurityContext({ credential: out.credential!, targetName: SERVICE, contextReq: ISC_REQ.MUTUAL_AUTH });
        assert.equal(statusName(warm.status), 'SEC_I_CONTINUE_NEEDED', 'the TGT and a first service ticket');
        // A service with no ticket yet: one TGS exchange, under the TGT's session key, held at the gate.
        const arrived = gate.shut();
        const starting = client.sspi.initializeSecurityContext({ credential: out.credential!, targetName: OTHER_SERVICE, contextReq: ISC_REQ.MUTUAL_AUTH });
        await arrived;
        assert.equal(statusName((await client.sspi.freeCredentialsHandle(out.credential!)).status), 'SEC_E_OK');
        gate.open();
        const first = await starting;
        assert.equal(statusName(first.status), 'SEC_I_CONTINUE_NEEDED');
        const names = await client.sspi.queryContextAttributes(first.context!, SECPKG_ATTR.NAMES);
        assert.equal(names.buffer?.sUserName, `alice@${REALM}`);
        for (const c of [warm.context!, first.context!]) assert.equal(statusName((await client.sspi.deleteSecurityContext(c)).status), 'SEC_E_OK');
      });
    } finally {
      await gate.stop();
    }
  });
});
