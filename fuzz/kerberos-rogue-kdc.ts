// A rogue KDC on loopback for `sspi-emu fuzz --package kerberos` (generator kerberos/kdc-reply): the
// attack "a rogue or compromised KDC, or someone on the network path, answers the workstation". It
// runs in the fuzz runner's main thread (fuzz/runner.ts) and is the KDC the fuzzed machine's
// Kerberos package is given (its `kdc` setting); it listens on UDP and TCP (RFC 4120 7.2.1, 7.2.2)
// and serves two kinds of client:
//
//   - lane clients (rogue<N>, for service HTTP/rogue<N>.fuzz.sspi-emu.local): the fuzz app arms a
//     lane over the control connection with a seed, then makes the package acquire a TGT and a
//     service ticket; one reply of that exchange (to the first AS-REQ, to the pre-authenticated
//     AS-REQ, or to the TGS-REQ) is replaced by a hostile one derived from the real reply, which
//     the real KDC code (packages/kerberos/kdc/) makes in process with the lane user's keys: DER-
//     and byte-level mutations, semantic ones (nonce, cname, crealm, sname, srealm, the enc-part's
//     key and key usage, times, session keys, tickets), KRB-ERRORs of any code with hostile e-data
//     (PREAUTH_REQUIRED with hostile ETYPE-INFO2), replayed replies, and hostile TCP framing
//     (length prefixes that lie, replies cut off, connections closed, reset or left silent).
//     Every other reply is the real KDC's. The hostile replies are made in kerberos-rogue-replies.ts;
//     this module is the server: lanes, transports, the relay and the control connection.
//   - everyone else (the run account and the other Kerberos generators): relayed to the domain
//     controller's KDC as they are, so the rest of the run sees its real KDC.
//
// The control connection (JSON lines over TCP, loopback) arms a lane, asks what was sent (which
// also turns the lane to its probe phase) and releases it. In the probe phase every AS-REQ is
// refused and so is every TGS-REQ; a TGS-REQ that presents a ticket from a reply the client had to
// refuse is recorded (released lanes report it): the client cached a TGT it should not have.

import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { makeRandomKey, stringToKey, SUPPORTED_ETYPES } from '../packages/kerberos/crypto/index.js';
import { Kdc, KdcDatabase, kdcPolicy, type KdcPrincipalSpec } from '../packages/kerberos/kdc/index.js';
import { KRB_ERROR_CODE, KRB_MSG_TYPE, PA_TYPE, unpackApReq, unpackKdcReq, type KdcReq } from '../packages/kerberos/messages/index.js';
import { concatBytes, toHex } from './bytes.js';
import { FORCEABLE, HostileReplies, ROGUE_PASSWORD, ROGUE_SALT, rogueTarget, rogueUser, type Hostile, type RogueStep } from './kerberos-rogue-replies.js';
import { Rng } from './rng.js';

export { deeplyNested, FORCEABLE, FORCEABLE_MUST_REJECT, ROGUE_PASSWORD, rogueTarget, rogueUser, type RogueStep } from './kerberos-rogue-replies.js';

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Where a rogue KDC listens: its KDC port (UDP and TCP) and its control port (TCP). */
export interface RogueKdcAddress {
  host: string;
  port: number;
  controlPort: number;
}

export interface RogueKdcOptions {
  realm: string;
  /** The real KDC that everything not a lane's is relayed to. */
  upstream: { host: string; port: number };
  /** Lane users and services to make: 0 to lanes-1. */
  lanes: number;
  /** Test hook: report the unchanged real replies as replies the client had to refuse (a lying fixture, to prove the check fails). */
  liar?: boolean;
}

/** How the hostile reply travels: as a datagram, over TCP after the datagram was dropped, or over TCP after KRB_ERR_RESPONSE_TOO_BIG with a framing. */
type Delivery = 'udp' | 'udp-drop' | 'tcp';

type Framing =
  | 'framed'
  | 'split'
  | 'long-close'
  | 'long-hang'
  | 'high-bit'
  | 'all-ones'
  | 'over-limit'
  | 'zero'
  | 'short'
  | 'trailing'
  | 'close'
  | 'partial-close'
  | 'silence'
  | 'reset';

/** What a lane's hostile reply was, for the fuzz app's trial. */
export interface RogueReport {
  step: RogueStep;
  delivery: string;
  strategy: string;
  mutation: string;
  /** The hostile reply's bytes in hex (at most 4096 bytes), and its length. */
  replyHex: string;
  replyBytes: number;
  /** Whether it reached the client (an earlier reply may have ended the exchange first). */
  delivered: boolean;
  /** The client must not accept it: no SEC_E_OK, no ticket of it cached. */
  mustReject: boolean;
  /** The reply is the real KDC's, delivered in a valid framing: the call must complete with SEC_E_OK. */
  expectOk: boolean;
  /**
   * The reply went over TCP in a framing no client may take (a length prefix that lies, a reply
   * cut off, the connection closed, reset or left silent): the call must end, by the package's
   * deadline at the latest, with SEC_E_NO_AUTHENTICATING_AUTHORITY (no KDC answered).
   */
  expectNoAuthority: boolean;
}

interface Lane {
  rng: Rng;
  phase: 'hostile' | 'probe';
  step: RogueStep;
  delivery: Delivery;
  framing: Framing;
  force: string | undefined;
  hostile: Hostile | undefined;
  delivered: boolean;
  /** Whether the target step's datagram was already dropped or turned away (udp-drop, tcp). */
  deferred: boolean;
  /** The nonce of the request the hostile reply answers: a copy of that request (UDP, then TCP) gets it again. */
  targetNonce: number | undefined;
  /** The hostile reply being made (the real KDC answers first): a second copy of the request waits for the same one. */
  making: Promise<Hostile> | undefined;
  tainted: Set<string>;
  taintedUse: string[];
}

/** What the KDC side does with one request. */
type Action = { kind: 'reply'; bytes: Uint8Array; framing?: Framing } | { kind: 'drop' };

const MAX_HEX = 4096;
/** The largest datagram the rogue sends; a larger hostile reply goes over TCP (after KRB_ERR_RESPONSE_TOO_BIG). */
const MAX_DATAGRAM = 65_000;
const MAX_REQUEST = 1 << 20;
/** How long a relayed request waits for the real KDC. */
const RELAY_WAIT_MS = 4000;
function lengthPrefix(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

// ---------------------------------------------------------------------------------------------
// The rogue KDC

export class RogueKdc {
  readonly address: RogueKdcAddress;
  private readonly options: RogueKdcOptions;
  private readonly kdc: Kdc;
  private readonly replies: HostileReplies;
  private readonly lanes = new Map<number, Lane>();
  private readonly udp: UdpSocket;
  private readonly tcp: Server;
  private readonly control: Server;
  private readonly sockets = new Set<Socket>();
  private readonly relays = new Set<UdpSocket>();
  private closed = false;

  private constructor(options: RogueKdcOptions, kdc: Kdc, replies: HostileReplies, udp: UdpSocket, tcp: Server, control: Server) {
    this.options = options;
    this.kdc = kdc;
    this.replies = replies;
    this.udp = udp;
    this.tcp = tcp;
    this.control = control;
    const port = (tcp.address() as { port: number }).port;
    this.address = { host: '127.0.0.1', port, controlPort: (control.address() as { port: number }).port };
  }

  /** Makes the lane principals' keys, then listens on one port for UDP and TCP (a free one: it tries again if UDP's is taken) and on a control port. */
  static async start(options: RogueKdcOptions): Promise<RogueKdc> {
    const userKeys = new Map(SUPPORTED_ETYPES.map((e) => [e, stringToKey(e, ROGUE_PASSWORD, ROGUE_SALT)] as const));
    const krbtgtKeys = new Map(SUPPORTED_ETYPES.map((e) => [e, makeRandomKey(e)] as const));
    const realm = options.realm;
    const specs: KdcPrincipalSpec[] = [{ components: ['krbtgt', realm], kind: 'krbtgt', keys: [...krbtgtKeys.values()] }];
    for (let lane = 0; lane < Math.max(1, options.lanes); lane++) {
      specs.push({ components: [rogueUser(lane)], kind: 'user', keys: [...userKeys.values()], salt: ROGUE_SALT });
      specs.push({ components: rogueTarget(lane).split('/'), kind: 'service', keys: SUPPORTED_ETYPES.map((e) => makeRandomKey(e)) });
    }
    const db = KdcDatabase.open(realm, specs, () => Promise.reject(new Error('the rogue KDC gives every key')));
    await db.whenDerived();
    const kdc = new Kdc(db, kdcPolicy({}));
    for (let attempt = 0; ; attempt++) {
      const tcp = createServer();
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(0, '127.0.0.1', () => resolve());
      });
      const port = (tcp.address() as { port: number }).port;
      const udp = createSocket('udp4');
      const bound = await new Promise<boolean>((resolve) => {
        udp.once('error', () => resolve(false));
        udp.bind(port, '127.0.0.1', () => resolve(true));
      });
      if (!bound) {
        udp.close();
        tcp.close();
        if (attempt < 20) continue;
        throw new Error('the rogue KDC found no port free for both UDP and TCP');
      }
      const control = createServer();
      await new Promise<void>((resolve, reject) => {
        control.once('error', reject);
        control.listen(0, '127.0.0.1', () => resolve());
      });
      const replies = new HostileReplies(realm, userKeys, krbtgtKeys, options.liar === true);
      const rogue = new RogueKdc(options, kdc, replies, udp, tcp, control);
      rogue.serve();
      return rogue;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    for (const r of this.relays) r.close();
    await Promise.all([
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
      new Promise<void>((resolve) => this.control.close(() => resolve())),
      new Promise<void>((resolve) => this.udp.close(() => resolve())),
    ]);
  }

  // -------------------------------------------------------------------------------------------
  // Control

  /** Arms a lane: its next exchange gets one hostile reply, chosen from `seed` (or the named one). */
  arm(lane: number, seed: number, force?: string): void {
    const rng = new Rng(seed);
    const forced = force !== undefined && FORCEABLE.includes(force) ? force : undefined;
    const step: RogueStep =
      forced !== undefined
        ? (forced.split(':')[0] as RogueStep)
        : rng.weighted<RogueStep>([
            [3, 'as-error'],
            [4, 'as-rep'],
            [4, 'tgs-rep'],
          ]);
    const delivery: Delivery =
      forced !== undefined
        ? 'udp'
        : rng.weighted<Delivery>([
            [12, 'udp'],
            [1, 'udp-drop'],
            [7, 'tcp'],
          ]);
    const framing: Framing =
      delivery !== 'tcp'
        ? 'framed'
        : rng.weighted<Framing>([
            [10, 'framed'],
            [3, 'split'],
            [1, 'long-close'],
            [0.3, 'long-hang'],
            [1, 'high-bit'],
            [0.5, 'all-ones'],
            [0.5, 'over-limit'],
            [1, 'zero'],
            [1, 'short'],
            [1, 'trailing'],
            [1, 'close'],
            [1, 'partial-close'],
            [0.3, 'silence'],
            [1, 'reset'],
          ]);
    this.lanes.set(lane, {
      rng,
      phase: 'hostile',
      step,
      delivery,
      framing,
      force: forced,
      hostile: undefined,
      delivered: false,
      deferred: false,
      targetNonce: undefined,
      making: undefined,
      tainted: new Set(),
      taintedUse: [],
    });
  }

  /** What the lane's hostile reply was; the lane turns to its probe phase. */
  report(lane: number): RogueReport | undefined {
    const l = this.lanes.get(lane);
    if (l === undefined) return undefined;
    l.phase = 'probe';
    const h = l.hostile;
    const delivery = l.delivery === 'tcp' ? `tcp ${l.framing}` : l.delivery;
    if (h === undefined)
      return {
        step: l.step,
        delivery,
        strategy: 'unreached',
        mutation: `no ${l.step} was asked for`,
        replyHex: '',
        replyBytes: 0,
        delivered: false,
        mustReject: false,
        expectOk: false,
        expectNoAuthority: false,
      };
    const validFraming = l.framing === 'framed' || l.framing === 'split';
    return {
      step: l.step,
      delivery,
      strategy: h.strategy,
      mutation: `${l.step}: ${h.mutation} [${delivery}]`,
      replyHex: toHex(h.bytes.subarray(0, MAX_HEX)),
      replyBytes: h.bytes.length,
      delivered: l.delivered,
      mustReject: h.mustReject,
      expectOk: h.expectOk && validFraming && l.delivered,
      // Bytes after a whole reply may come in a later segment, after the client took the reply: no expectation for 'trailing'.
      expectNoAuthority: l.delivered && l.delivery === 'tcp' && !validFraming && l.framing !== 'trailing',
    };
  }

  /** Forgets the lane; returns the tickets of refused replies that the client presented afterwards. */
  release(lane: number): string[] {
    const l = this.lanes.get(lane);
    this.lanes.delete(lane);
    return l?.taintedUse ?? [];
  }

  private serve(): void {
    this.udp.on('message', (message, rinfo) => void this.onDatagram(new Uint8Array(message), rinfo));
    this.udp.on('error', () => undefined);
    this.tcp.on('connection', (socket) => this.onConnection(socket));
    this.control.on('connection', (socket) => this.onControl(socket));
  }

  private onControl(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        socket.write(`${JSON.stringify(this.command(line))}\n`);
      }
    });
  }

  private command(line: string): Record<string, unknown> {
    let c: { id?: unknown; op?: unknown; lane?: unknown; seed?: unknown; force?: unknown };
    try {
      c = JSON.parse(line) as typeof c;
    } catch {
      return { error: 'not JSON' };
    }
    const lane = typeof c.lane === 'number' ? c.lane : -1;
    switch (c.op) {
      case 'arm':
        this.arm(lane, typeof c.seed === 'number' ? c.seed : 0, typeof c.force === 'string' ? c.force : undefined);
        return { id: c.id, ok: true };
      case 'report':
        return { id: c.id, report: this.report(lane) ?? null };
      case 'release':
        return { id: c.id, taintedUse: this.release(lane) };
      default:
        return { id: c.id, error: `no operation ${String(c.op)}` };
    }
  }

  // -------------------------------------------------------------------------------------------
  // Transport

  private async onDatagram(request: Uint8Array, rinfo: RemoteInfo): Promise<void> {
    const action = await this.handle(request, 'udp');
    if (action === 'relay') {
      const reply = await this.relayUdp(request);
      if (reply !== undefined && !this.closed) this.udp.send(reply, rinfo.port, rinfo.address, () => undefined);
      return;
    }
    if (action.kind === 'reply' && !this.closed) this.udp.send(action.bytes, rinfo.port, rinfo.address, () => undefined);
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let received = Buffer.alloc(0);
    let busy = false;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (busy || received.length < 4) return;
      const n = received.readUInt32BE(0);
      if (n > MAX_REQUEST) return void socket.destroy();
      if (received.length < 4 + n) return;
      busy = true;
      const request = new Uint8Array(received.subarray(4, 4 + n));
      void this.answerTcp(socket, request);
    });
  }

  private async answerTcp(socket: Socket, request: Uint8Array): Promise<void> {
    const action = await this.handle(request, 'tcp');
    if (socket.destroyed) return;
    if (action === 'relay') {
      const reply = await this.relayTcp(request);
      if (reply === undefined) return void socket.destroy();
      return void socket.end(concatBytes(lengthPrefix(reply.length), reply));
    }
    if (action.kind === 'drop') return void socket.destroy();
    const bytes = action.bytes;
    const framed = concatBytes(lengthPrefix(bytes.length), bytes);
    switch (action.framing ?? 'framed') {
      case 'framed':
        return void socket.end(framed);
      case 'split': {
        // Written in pieces, a turn of the event loop apart: the client must put them together.
        const cuts = [1, 3, 4, 5, Math.floor(framed.length / 2), framed.length - 1].filter((c, i, a) => c > 0 && c < framed.length && a.indexOf(c) === i);
        let from = 0;
        for (const cut of cuts) {
          socket.write(framed.subarray(from, cut));
          from = cut;
          await new Promise((resolve) => setImmediate(resolve));
          if (socket.destroyed) return;
        }
        return void socket.end(framed.subarray(from));
      }
      case 'long-close':
        return void socket.end(concatBytes(lengthPrefix(bytes.length + 100), bytes));
      case 'long-hang':
        // Claims more than it sends and keeps the connection open: the client's deadline ends it.
        return void socket.write(concatBytes(lengthPrefix(bytes.length + 1), bytes));
      case 'high-bit':
        return void socket.end(concatBytes(lengthPrefix((0x80000000 | bytes.length) >>> 0), bytes));
      case 'all-ones':
        return void socket.end(concatBytes(lengthPrefix(0xffffffff), bytes));
      case 'over-limit':
        return void socket.end(concatBytes(lengthPrefix((1 << 20) + 1), bytes));
      case 'zero':
        return void socket.end(concatBytes(lengthPrefix(0), bytes));
      case 'short':
        return void socket.end(concatBytes(lengthPrefix(Math.max(0, bytes.length - 1)), bytes));
      case 'trailing':
        return void socket.end(concatBytes(framed, Uint8Array.of(0, 0, 0, 5, 1, 2, 3, 4, 5)));
      case 'close':
        return void socket.end();
      case 'partial-close':
        return void socket.end(framed.subarray(0, Math.max(1, Math.floor(framed.length / 2))));
      case 'silence':
        return; // nothing, and the connection stays open: the client's deadline ends it
      case 'reset':
        return void socket.resetAndDestroy();
    }
  }

  private relayUdp(request: Uint8Array): Promise<Uint8Array | undefined> {
    return new Promise((resolve) => {
      const socket = createSocket('udp4');
      this.relays.add(socket);
      const done = (reply: Uint8Array | undefined): void => {
        clearTimeout(timer);
        this.relays.delete(socket);
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        try {
          socket.close();
        } catch {
          // closed already
        }
        resolve(reply);
      };
      const timer = setTimeout(() => done(undefined), RELAY_WAIT_MS);
      socket.on('error', () => done(undefined));
      socket.on('message', (m) => done(new Uint8Array(m)));
      socket.send(request, this.options.upstream.port, this.options.upstream.host, (error) => {
        if (error) done(undefined);
      });
    });
  }

  private relayTcp(request: Uint8Array): Promise<Uint8Array | undefined> {
    return new Promise((resolve) => {
      const socket = connect({ host: this.options.upstream.host, port: this.options.upstream.port });
      this.sockets.add(socket);
      let received = Buffer.alloc(0);
      let settled = false;
      const done = (reply: Uint8Array | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.sockets.delete(socket);
        socket.destroy();
        resolve(reply);
      };
      const timer = setTimeout(() => done(undefined), RELAY_WAIT_MS);
      socket.on('error', () => done(undefined));
      socket.on('close', () => done(undefined));
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 4 && received.length >= 4 + received.readUInt32BE(0)) done(new Uint8Array(received.subarray(4, 4 + received.readUInt32BE(0))));
      });
      socket.on('connect', () => socket.write(concatBytes(lengthPrefix(request.length), request)));
    });
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  /** Which lane a request is of: an AS-REQ by its client, a TGS-REQ by its service; undefined for anyone else's. */
  private laneOf(req: KdcReq): number | undefined {
    const body = req.reqBody;
    const names = req.msgType === KRB_MSG_TYPE.AS_REQ ? body.cname?.nameString : body.sname?.nameString;
    if (names === undefined) return undefined;
    const text = names.join('/');
    const match = req.msgType === KRB_MSG_TYPE.AS_REQ ? /^rogue(\d{1,4})$/.exec(text) : /^HTTP\/rogue(\d{1,4})\.fuzz\.sspi-emu\.local$/.exec(text);
    return match === null ? undefined : Number(match[1]);
  }

  private async handle(request: Uint8Array, transport: 'udp' | 'tcp'): Promise<Action | 'relay'> {
    let req: KdcReq;
    try {
      req = unpackKdcReq(request);
    } catch {
      return 'relay';
    }
    const laneNumber = this.laneOf(req);
    if (laneNumber === undefined || laneNumber >= this.options.lanes) return 'relay';
    const lane = this.lanes.get(laneNumber);
    const real = async (): Promise<Uint8Array> => (await this.kdc.handle(request, transport, 'rogue')).reply;
    if (lane === undefined) return { kind: 'reply', bytes: await real() };
    const as = req.msgType === KRB_MSG_TYPE.AS_REQ;
    if (lane.phase === 'probe') {
      if (!as) {
        const presented = presentedTicket(req);
        if (presented !== undefined && lane.tainted.has(presented))
          lane.taintedUse.push(`a TGS-REQ presented the ticket of the ${lane.step} it had to refuse (${lane.hostile?.mutation ?? ''})`);
      }
      return { kind: 'reply', bytes: this.replies.refusal(req, KRB_ERROR_CODE.KDC_ERR_CLIENT_REVOKED, 'the rogue KDC refuses everything in the probe phase') };
    }
    const step: RogueStep = !as ? 'tgs-rep' : (req.padata ?? []).some((p) => p.padataType === PA_TYPE.ENC_TIMESTAMP) ? 'as-rep' : 'as-error';
    // A client that gave up waiting for the datagram asks again over TCP with the same request: it gets the same hostile reply.
    const again = lane.targetNonce === req.reqBody.nonce;
    if (step !== lane.step || (lane.targetNonce !== undefined && !again)) {
      const bytes = await real();
      this.replies.remember(step, bytes);
      return { kind: 'reply', bytes };
    }
    lane.targetNonce = req.reqBody.nonce;
    lane.making ??= real().then((honest) => {
      const made = this.replies.hostile(lane, req, honest);
      this.replies.remember(step, honest);
      for (const t of made.tainted) lane.tainted.add(t);
      return made;
    });
    const h = (lane.hostile = await lane.making);
    if (transport === 'udp') {
      if (lane.delivery === 'udp-drop' && !lane.deferred) {
        lane.deferred = true;
        return { kind: 'drop' };
      }
      if (lane.delivery === 'tcp' || h.bytes.length > MAX_DATAGRAM) {
        lane.deferred = true;
        return { kind: 'reply', bytes: this.kdc.tooBig(request, h.bytes.length) };
      }
    }
    lane.delivered = true;
    return { kind: 'reply', bytes: h.bytes, framing: transport === 'tcp' ? lane.framing : 'framed' };
  }
}

/** The ciphertext (hex) of the ticket a TGS-REQ presents. */
function presentedTicket(req: KdcReq): string | undefined {
  try {
    const pa = req.padata?.find((p) => p.padataType === PA_TYPE.TGS_REQ);
    return pa === undefined ? undefined : hexOf(unpackApReq(pa.padataValue).ticket.encPart.cipher);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The fuzz app's side of the control connection

type ControlReply = { id: number; ok?: boolean; report?: RogueReport | null; taintedUse?: string[]; error?: string };

/** One control connection to a rogue KDC (JSON lines, correlated by id). */
export class RogueControl {
  private readonly socket: Socket;
  private readonly pending = new Map<number, { resolve: (r: ControlReply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private buffered = '';

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffered += chunk.toString('utf8');
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        const reply = JSON.parse(this.buffered.slice(0, nl)) as ControlReply;
        this.buffered = this.buffered.slice(nl + 1);
        const waiting = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        waiting?.resolve(reply);
      }
    });
    const fail = (): void => {
      for (const p of this.pending.values()) p.reject(new Error('the rogue KDC closed its control connection'));
      this.pending.clear();
    };
    socket.on('close', fail);
    socket.on('error', fail);
  }

  static connect(host: string, port: number): Promise<RogueControl> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RogueControl(socket));
      });
    });
  }

  private call(command: Record<string, unknown>): Promise<ControlReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  async arm(lane: number, seed: number, force?: string): Promise<void> {
    const r = await this.call({ op: 'arm', lane, seed, ...(force === undefined ? {} : { force }) });
    if (r.ok !== true) throw new Error(`the rogue KDC did not arm lane ${lane}: ${r.error ?? 'no reason'}`);
  }

  async report(lane: number): Promise<RogueReport | undefined> {
    return (await this.call({ op: 'report', lane })).report ?? undefined;
  }

  async release(lane: number): Promise<string[]> {
    return (await this.call({ op: 'release', lane })).taintedUse ?? [];
  }

  close(): void {
    this.socket.destroy();
  }
}
