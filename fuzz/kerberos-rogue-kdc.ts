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
//     Every other reply is the real KDC's.
//   - everyone else (the run account and the other Kerberos generators): relayed to the domain
//     controller's KDC as they are, so the rest of the run sees its real KDC.
//
// The control connection (JSON lines over TCP, loopback) arms a lane, asks what was sent (which
// also turns the lane to its probe phase) and releases it. In the probe phase every AS-REQ is
// refused and so is every TGS-REQ; a TGS-REQ that presents a ticket from a reply the client had to
// refuse is recorded (released lanes report it): the client cached a TGT it should not have.

import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { decrypt, encrypt, KEY_USAGE, makeRandomKey, stringToKey, SUPPORTED_ETYPES, type EncryptionKey } from '../packages/kerberos/crypto/index.js';
import { Kdc, KdcDatabase, kdcPolicy, type KdcPrincipalSpec } from '../packages/kerberos/kdc/index.js';
import {
  KRB_ERROR_CODE,
  KRB_MSG_TYPE,
  KRB_NT,
  PA_TYPE,
  packEncKdcRepPart,
  packEtypeInfo2,
  packKdcRep,
  packKrbError,
  packMethodData,
  unpackApReq,
  unpackAuthenticator,
  unpackEncKdcRepPart,
  unpackEncTicketPart,
  unpackKdcRep,
  unpackKdcReq,
  type EncKdcRepPart,
  type EtypeInfo2Entry,
  type KdcRep,
  type KdcReq,
  type PaData,
  type PrincipalName,
} from '../packages/kerberos/messages/index.js';
import { anyByteMutation, concatBytes, noise, toHex } from './bytes.js';
import { derMutation } from './negotiate.js';
import { Rng } from './rng.js';

/** The lane users' password and salt: every lane user has the same keys (made once), under its own name. */
export const ROGUE_PASSWORD = 'rogue-kdc-lane-password';
const ROGUE_SALT = 'ROGUE.FUZZ.SSPI-EMU.TESTlanes';

export function rogueUser(lane: number): string {
  return `rogue${lane}`;
}

export function rogueTarget(lane: number): string {
  return `HTTP/rogue${lane}.fuzz.sspi-emu.local`;
}

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

/** Which reply of the exchange is the hostile one. */
export type RogueStep = 'as-error' | 'as-rep' | 'tgs-rep';

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

interface Hostile {
  bytes: Uint8Array;
  strategy: string;
  mutation: string;
  mustReject: boolean;
  expectOk: boolean;
  /** Tickets (their enc-part ciphertext, hex) the client must not keep. */
  tainted: string[];
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
/** How many real replies of each step the rogue keeps, to replay one as the answer to another request. */
const HISTORY = 8;
/** The forgeries a client must refuse, which a test may ask for by name (RogueControl.arm's force), "step:name". */
export const FORCEABLE_MUST_REJECT: readonly string[] = [
  'as-rep:nonce',
  'as-rep:cname',
  'as-rep:crealm',
  'as-rep:sname',
  'as-rep:wrong-key',
  'tgs-rep:nonce',
  'tgs-rep:cname',
  'tgs-rep:crealm',
  'tgs-rep:sname',
  'tgs-rep:wrong-key',
];

/** Every reply a test may ask for by name: the forgeries, the real reply, and what the first runs found. */
export const FORCEABLE: readonly string[] = [
  ...FORCEABLE_MUST_REJECT,
  'tgs-rep:valid',
  // Not must-reject, but what the first runs found: a session key of the wrong length, and s2kparams past the client's limit.
  'tgs-rep:short-session-key',
  'as-error:s2k-16777215',
];

// ---------------------------------------------------------------------------------------------
// Raw DER, for what the message packers refuse to make

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const content = concatBytes(...parts);
  return concatBytes(Uint8Array.of(tag), derLength(content.length), content);
}

/** `depth` SEQUENCEs one inside the next around a NULL, under `outer` (built in one pass: a deep tree is not a recursion here). */
export function deeplyNested(outer: number, depth: number): Uint8Array {
  const lengths: number[] = [];
  let inner = 2;
  for (let i = 0; i < depth; i++) {
    lengths.push(inner);
    inner += 1 + derLength(inner).length;
  }
  const body = new Uint8Array(inner);
  let at = 0;
  for (let i = depth - 1; i >= 0; i--) {
    body[at++] = 0x30;
    const l = derLength(lengths[i]!);
    body.set(l, at);
    at += l.length;
  }
  body[at++] = 0x05;
  body[at++] = 0x00;
  return tlv(outer, body);
}

function lengthPrefix(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// ---------------------------------------------------------------------------------------------
// The rogue KDC

export class RogueKdc {
  readonly address: RogueKdcAddress;
  private readonly options: RogueKdcOptions;
  private readonly kdc: Kdc;
  private readonly userKeys: ReadonlyMap<number, EncryptionKey>;
  private readonly krbtgtKeys: ReadonlyMap<number, EncryptionKey>;
  private readonly lanes = new Map<number, Lane>();
  private readonly history: Record<RogueStep, Uint8Array[]> = { 'as-error': [], 'as-rep': [], 'tgs-rep': [] };
  private readonly udp: UdpSocket;
  private readonly tcp: Server;
  private readonly control: Server;
  private readonly sockets = new Set<Socket>();
  private readonly relays = new Set<UdpSocket>();
  private closed = false;

  private constructor(
    options: RogueKdcOptions,
    kdc: Kdc,
    userKeys: Map<number, EncryptionKey>,
    krbtgtKeys: Map<number, EncryptionKey>,
    udp: UdpSocket,
    tcp: Server,
    control: Server,
  ) {
    this.options = options;
    this.kdc = kdc;
    this.userKeys = userKeys;
    this.krbtgtKeys = krbtgtKeys;
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
      const rogue = new RogueKdc(options, kdc, userKeys, krbtgtKeys, udp, tcp, control);
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
      return { kind: 'reply', bytes: this.refusal(req, KRB_ERROR_CODE.KDC_ERR_CLIENT_REVOKED, 'the rogue KDC refuses everything in the probe phase') };
    }
    const step: RogueStep = !as ? 'tgs-rep' : (req.padata ?? []).some((p) => p.padataType === PA_TYPE.ENC_TIMESTAMP) ? 'as-rep' : 'as-error';
    // A client that gave up waiting for the datagram asks again over TCP with the same request: it gets the same hostile reply.
    const again = lane.targetNonce === req.reqBody.nonce;
    if (step !== lane.step || (lane.targetNonce !== undefined && !again)) {
      const bytes = await real();
      this.remember(step, bytes);
      return { kind: 'reply', bytes };
    }
    lane.targetNonce = req.reqBody.nonce;
    lane.making ??= real().then((honest) => {
      const made = this.hostile(lane, req, honest);
      this.remember(step, honest);
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

  private remember(step: RogueStep, bytes: Uint8Array): void {
    const list = this.history[step];
    list.push(bytes);
    if (list.length > HISTORY) list.shift();
  }

  private refusal(req: KdcReq | undefined, code: number, text: string, eData?: Uint8Array): Uint8Array {
    const realm = this.options.realm;
    return packKrbError({
      stime: new Date(Math.floor(Date.now() / 1000) * 1000),
      susec: 0,
      errorCode: code,
      realm,
      sname: req?.reqBody.sname ?? { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', realm] },
      eText: text,
      ...(eData === undefined ? {} : { eData }),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Hostile replies

  private hostile(lane: Lane, req: KdcReq, honest: Uint8Array): Hostile {
    const rng = lane.rng;
    const base: Hostile = {
      bytes: honest,
      strategy: 'valid',
      mutation: 'the real reply',
      mustReject: this.options.liar === true,
      expectOk: this.options.liar !== true,
      tainted: [],
    };
    const isRep = honest[0] === 0x6b || honest[0] === 0x6d;
    if (lane.force !== undefined) {
      const name = lane.force.split(':')[1]!;
      if (name === 's2k-16777215') {
        const entries: EtypeInfo2Entry[] = [{ etype: 18, salt: ROGUE_SALT, s2kparams: Uint8Array.of(0, 0xff, 0xff, 0xff) }];
        const eData = packMethodData([{ padataType: PA_TYPE.ETYPE_INFO2, padataValue: packEtypeInfo2(entries) }]);
        const bytes = this.refusal(req, KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED, 'rogue', eData);
        return {
          bytes,
          strategy: 'etype-info',
          mutation: `KDC_ERR_PREAUTH_REQUIRED: ETYPE-INFO2 ${describeEntries(entries)}`,
          mustReject: false,
          expectOk: false,
          tainted: [],
        };
      }
      if (name === 'valid') return base;
      const forced = !isRep
        ? undefined
        : name === 'short-session-key'
          ? this.fields(rng, lane.step, req, honest, 'short')
          : this.semantic(rng, lane.step, req, honest, name);
      return forced ?? { ...base, strategy: 'unreached', mutation: `the real KDC refused: no reply to force ${lane.force} on`, expectOk: false };
    }
    const strategy = rng.weighted<string>(
      lane.step === 'as-error'
        ? [
            [2, 'valid'],
            [7, 'etype-info'],
            [4, 'error'],
            [1, 'replay'],
            [3, 'der'],
            [2, 'bytes'],
            [1, 'nesting'],
            [1, 'noise'],
          ]
        : [
            [2, 'valid'],
            [7, 'must-reject'],
            [6, 'fields'],
            [2, 'inner-der'],
            [3, 'error'],
            [1, 'replay'],
            [3, 'der'],
            [2, 'bytes'],
            [1, 'nesting'],
            [1, 'noise'],
          ],
    );
    if (strategy === 'valid') return base;
    // One draw whatever the history holds, so that the rest of the input's choices do not depend on what other inputs did.
    const others = [...this.history['as-rep'], ...this.history['tgs-rep'], honest];
    const other = others[rng.next() % others.length]!;
    switch (strategy) {
      case 'etype-info':
        return { ...this.etypeInfo(rng, req), strategy, expectOk: false, tainted: [] };
      case 'error':
        return { ...this.anyError(rng, req), strategy, expectOk: false, tainted: [] };
      case 'replay': {
        const old = this.history[lane.step].filter((b) => hexOf(b) !== hexOf(honest));
        const draw = rng.next();
        if (old.length === 0) return { ...base, strategy, mutation: 'nothing to replay yet: the real reply', mustReject: false };
        const bytes = old[draw % old.length]!;
        // An old AS-REP or TGS-REP answers another request (another nonce, key or client): never to be taken.
        const rep = lane.step !== 'as-error';
        return { bytes, strategy, mutation: `a reply to an earlier request replayed`, mustReject: rep, expectOk: false, tainted: rep ? ticketsOf(bytes) : [] };
      }
      case 'must-reject':
      case 'fields':
      case 'inner-der': {
        if (!isRep) return { ...base, strategy, mutation: 'the real KDC refused: its KRB-ERROR', mustReject: false, expectOk: false };
        const made =
          strategy === 'must-reject'
            ? this.semantic(rng, lane.step, req, honest, undefined)
            : strategy === 'fields'
              ? this.fields(rng, lane.step, req, honest)
              : this.innerDer(rng, lane.step, req, honest);
        return made ?? { ...base, strategy, mutation: 'the reply could not be opened: the real reply', mustReject: false, expectOk: false };
      }
      case 'der': {
        const m = derMutation(rng, honest, undefined);
        return { bytes: m.bytes, strategy, mutation: `DER: ${m.mutation}`, mustReject: false, expectOk: false, tainted: [] };
      }
      case 'bytes': {
        const m = anyByteMutation(rng, honest, other, 70_000);
        return { bytes: m.bytes, strategy, mutation: m.mutation, mustReject: false, expectOk: false, tainted: [] };
      }
      case 'nesting': {
        const depth = rng.pick([64, 1000, 10_000, 60_000, 200_000]);
        const tag = rng.pick([0x6b, 0x6d, 0x7e, 0x30]);
        return {
          bytes: deeplyNested(tag, depth),
          strategy,
          mutation: `${depth} SEQUENCEs nested under 0x${tag.toString(16)}`,
          mustReject: false,
          expectOk: false,
          tainted: [],
        };
      }
      default: {
        const m = noise(rng, Uint8Array.of(rng.pick([0x6b, 0x6d, 0x7e, 0x30, 0x00])), 4096);
        return { bytes: m.bytes, strategy: 'noise', mutation: m.mutation, mustReject: false, expectOk: false, tainted: [] };
      }
    }
  }

  /** The reply's enc-part opened: its key and usage (the user's key for an AS-REP; the TGS-REQ's subkey, or the TGT's session key). */
  private opened(
    step: RogueStep,
    req: KdcReq,
    honest: Uint8Array,
  ): { rep: KdcRep; part: EncKdcRepPart; key: EncryptionKey; usage: number; session?: EncryptionKey } | undefined {
    try {
      const rep = unpackKdcRep(honest);
      if (step === 'as-rep') {
        const key = this.userKeys.get(rep.encPart.etype);
        if (key === undefined) return undefined;
        return { rep, part: unpackEncKdcRepPart(decrypt(key, KEY_USAGE.AS_REP_ENC_PART, rep.encPart.cipher)), key, usage: KEY_USAGE.AS_REP_ENC_PART };
      }
      const apReq = unpackApReq(req.padata!.find((p) => p.padataType === PA_TYPE.TGS_REQ)!.padataValue);
      const krbtgt = this.krbtgtKeys.get(apReq.ticket.encPart.etype)!;
      const session = unpackEncTicketPart(decrypt(krbtgt, KEY_USAGE.KDC_REP_TICKET, apReq.ticket.encPart.cipher)).key;
      const authenticator = unpackAuthenticator(decrypt(session, KEY_USAGE.TGS_REQ_AUTHENTICATOR, apReq.authenticator.cipher));
      const [key, usage] =
        authenticator.subkey === undefined ? [session, KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY] : [authenticator.subkey, KEY_USAGE.TGS_REP_ENC_PART_SUBKEY];
      return { rep, part: unpackEncKdcRepPart(decrypt(key, usage, rep.encPart.cipher)), key, usage, session };
    } catch {
      return undefined;
    }
  }

  private sealed(rep: KdcRep, part: EncKdcRepPart, key: EncryptionKey, usage: number, plaintext?: Uint8Array): Uint8Array {
    const cipher = encrypt(key, usage, plaintext ?? packEncKdcRepPart(part));
    return packKdcRep({ ...rep, encPart: { ...rep.encPart, etype: key.keytype, cipher } });
  }

  /**
   * A reply that does not answer this request, sealed right otherwise: another nonce, client,
   * realm or service, or an enc-part under another key or key usage. The client must refuse it.
   */
  private semantic(rng: Rng, step: RogueStep, req: KdcReq, honest: Uint8Array, forced: string | undefined): Hostile | undefined {
    const o = this.opened(step, req, honest);
    if (o === undefined) return undefined;
    const { rep, part, key, usage } = o;
    const kind =
      forced ??
      rng.pick(['nonce', 'cname', 'crealm', 'sname', 'ticket-sname', 'srealm', 'ticket-realm', 'wrong-key', 'usage', 'msg-type', 'etype-label'] as const);
    const otherName = (n: PrincipalName): PrincipalName =>
      rng.pick<PrincipalName>([
        { nameType: n.nameType, nameString: [rogueUser(rng.range(0, 999) + 1000)] },
        { nameType: KRB_NT.PRINCIPAL, nameString: ['alice'] },
        { nameType: KRB_NT.PRINCIPAL, nameString: [...n.nameString, 'x'] },
        { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', this.options.realm] },
        { nameType: n.nameType, nameString: n.nameString.map((s) => (s.toUpperCase() === s ? s.toLowerCase() + 'X' : s.toUpperCase())) },
      ]);
    const otherRealm = (): string => rng.pick(['OTHER.TEST', `${this.options.realm}.EVIL`, 'A', 'FUZZ']);
    const otherService = (): PrincipalName =>
      rng.pick<PrincipalName>([
        { nameType: KRB_NT.SRV_INST, nameString: ['krbtgt', 'OTHER.TEST'] },
        { nameType: KRB_NT.SRV_INST, nameString: ['HTTP', 'evil.example'] },
        { nameType: KRB_NT.SRV_INST, nameString: rogueTarget(1000 + rng.range(0, 99)).split('/') },
        { nameType: KRB_NT.PRINCIPAL, nameString: ['krbtgt'] },
      ]);
    let bytes: Uint8Array;
    let how: string;
    switch (kind) {
      case 'nonce': {
        const nonce = rng.pick([(part.nonce + 1) >>> 0, 0, 0xffffffff, (part.nonce ^ 0x40000000) >>> 0, rng.next() >>> 0].filter((n) => n !== part.nonce));
        bytes = this.sealed(rep, { ...part, nonce }, key, usage);
        how = `nonce ${nonce}, the request's ${part.nonce}`;
        break;
      }
      case 'cname': {
        const cname = otherName(rep.cname);
        bytes = this.sealed({ ...rep, cname }, part, key, usage);
        how = `cname ${cname.nameString.join('/')}`;
        break;
      }
      case 'crealm': {
        const crealm = otherRealm();
        bytes = this.sealed({ ...rep, crealm }, part, key, usage);
        how = `crealm ${crealm}`;
        break;
      }
      case 'sname': {
        const sname = otherService();
        bytes = this.sealed(rep, { ...part, sname }, key, usage);
        how = `the enc-part's sname ${sname.nameString.join('/')}`;
        break;
      }
      case 'ticket-sname': {
        const sname = otherService();
        bytes = this.sealed({ ...rep, ticket: { ...rep.ticket, sname } }, part, key, usage);
        how = `the ticket's sname ${sname.nameString.join('/')}`;
        break;
      }
      case 'srealm': {
        const srealm = otherRealm();
        bytes = this.sealed(rep, { ...part, srealm }, key, usage);
        how = `srealm ${srealm}`;
        break;
      }
      case 'ticket-realm': {
        const realm = otherRealm();
        bytes = this.sealed({ ...rep, ticket: { ...rep.ticket, realm } }, part, key, usage);
        how = `the ticket's realm ${realm}`;
        break;
      }
      case 'wrong-key': {
        const keys: Array<[EncryptionKey, string]> = [
          [makeRandomKey(key.keytype), 'a random key'],
          [this.krbtgtKeys.get(key.keytype)!, "the krbtgt's key"],
        ];
        if (o.session !== undefined && usage === KEY_USAGE.TGS_REP_ENC_PART_SUBKEY) keys.push([o.session, "the TGT's session key (usage 9)"]);
        if (step === 'tgs-rep') keys.push([this.userKeys.get(key.keytype)!, "the user's long-term key"]);
        const [wrong, name] = rng.pick(keys);
        bytes = this.sealed(rep, part, wrong, usage);
        how = `the enc-part sealed with ${name}`;
        break;
      }
      case 'usage': {
        const swapped = rng.pick(
          [
            KEY_USAGE.AS_REP_ENC_PART,
            KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY,
            KEY_USAGE.TGS_REP_ENC_PART_SUBKEY,
            KEY_USAGE.KDC_REP_TICKET,
            KEY_USAGE.TGS_REQ_AUTHENTICATOR,
            12,
          ].filter((u) => u !== usage),
        );
        if (step === 'tgs-rep' && swapped === KEY_USAGE.TGS_REP_ENC_PART_SESSION_KEY && o.session !== undefined) {
          bytes = this.sealed(rep, part, o.session, swapped);
          how = "the enc-part sealed with the TGT's session key, usage 8, though the request sent a subkey";
        } else {
          bytes = this.sealed(rep, part, key, swapped);
          how = `the enc-part sealed with key usage ${swapped}, not ${usage}`;
        }
        break;
      }
      case 'msg-type': {
        const msgType = step === 'as-rep' ? KRB_MSG_TYPE.TGS_REP : KRB_MSG_TYPE.AS_REP;
        bytes = packKdcRep({ ...rep, msgType });
        how = `answered as ${msgType === KRB_MSG_TYPE.AS_REP ? 'an AS-REP' : 'a TGS-REP'}`;
        break;
      }
      default: {
        const etype = rng.pick([1, 3, 16, 23, 24, 0, -1, 0x7fffffff]);
        bytes = packKdcRep({ ...rep, encPart: { ...rep.encPart, etype } });
        how = `the enc-part labelled etype ${etype}, which the client did not ask for`;
        break;
      }
    }
    return { bytes, strategy: 'must-reject', mutation: `must be refused: ${how}`, mustReject: true, expectOk: false, tainted: ticketsOf(bytes) };
  }

  /** Fields the client may accept or refuse (times, flags, keys, tickets, padata), sealed right: no expectation but a documented answer. */
  private fields(rng: Rng, step: RogueStep, req: KdcReq, honest: Uint8Array, shortKey?: 'short'): Hostile | undefined {
    const o = this.opened(step, req, honest);
    if (o === undefined) return undefined;
    const { rep, key, usage } = o;
    const part = { ...o.part };
    const now = Date.now();
    const at = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
    const kind =
      shortKey !== undefined
        ? 'session-key'
        : rng.pick(['times', 'flags', 'session-key', 'last-req', 'ticket', 'kvno', 'padata', 'caddr', 'trailing'] as const);
    let outer: KdcRep = rep;
    let plaintext: Uint8Array | undefined;
    let how = '';
    switch (kind) {
      case 'times': {
        const which = rng.pick(['expired', 'not-yet-valid', 'authtime-far', 'renew-before-start', 'end-past-till', 'all-equal', 'year-9999', 'epoch'] as const);
        if (which === 'expired') part.endtime = at(now - rng.range(1, 100_000) * 1000);
        else if (which === 'not-yet-valid') part.starttime = at(now + rng.range(600, 1_000_000) * 1000);
        else if (which === 'authtime-far') part.authtime = at(now + rng.pick([-1, 1]) * rng.range(600, 100_000_000) * 1000);
        else if (which === 'renew-before-start') part.renewTill = at(now - 3_600_000);
        else if (which === 'end-past-till') part.endtime = at(now + 400 * 24 * 3_600_000);
        else if (which === 'all-equal') part.starttime = part.endtime = part.authtime = at(now);
        else if (which === 'year-9999') part.endtime = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));
        else part.authtime = part.endtime = new Date(0);
        how = `times: ${which}`;
        break;
      }
      case 'flags':
        part.flags = rng.pick([0, 0xffffffff, rng.next() >>> 0, 0x00800000]) >>> 0;
        how = `flags 0x${part.flags.toString(16)}`;
        break;
      case 'session-key': {
        const which = shortKey ?? rng.pick(['short', 'long', 'empty', 'unsupported-etype', 'other-etype'] as const);
        const k = part.key;
        if (which === 'short') part.key = { keytype: k.keytype, keyvalue: k.keyvalue.subarray(0, rng.range(1, k.keyvalue.length - 1)) };
        else if (which === 'long') part.key = { keytype: k.keytype, keyvalue: concatBytes(k.keyvalue, rng.bytes(rng.range(1, 64))) };
        else if (which === 'empty') part.key = { keytype: k.keytype, keyvalue: new Uint8Array(0) };
        else if (which === 'unsupported-etype') part.key = { keytype: rng.pick([1, 3, 23, 0, -5]), keyvalue: k.keyvalue };
        else part.key = makeRandomKey(rng.pick(SUPPORTED_ETYPES.filter((e) => e !== k.keytype)));
        how = `the session key: ${which} (etype ${part.key.keytype}, ${part.key.keyvalue.length} bytes)`;
        break;
      }
      case 'last-req':
        part.lastReq = Array.from({ length: rng.range(0, 16) }, () => ({
          lrType: rng.pick([0, 1, -1, 0x7fffffff]),
          lrValue: at(now + (rng.next() | 0) * 1000),
        }));
        part.keyExpiration = at(now - 1000);
        how = `${part.lastReq.length} last-req entries, keyExpiration past`;
        break;
      case 'ticket': {
        const which = rng.pick(['empty-cipher', 'huge-cipher', 'tkt-etype', 'huge-kvno'] as const);
        const ticket = rep.ticket;
        if (which === 'empty-cipher') outer = { ...rep, ticket: { ...ticket, encPart: { ...ticket.encPart, cipher: new Uint8Array(0) } } };
        else if (which === 'huge-cipher')
          outer = { ...rep, ticket: { ...ticket, encPart: { ...ticket.encPart, cipher: rng.bytes(rng.pick([4096, 60_000, 300_000])) } } };
        else if (which === 'tkt-etype') outer = { ...rep, ticket: { ...ticket, encPart: { ...ticket.encPart, etype: rng.pick([0, 1, 23, -1]) } } };
        else outer = { ...rep, ticket: { ...ticket, encPart: { ...ticket.encPart, kvno: 0xffffffff } } };
        how = `the ticket: ${which}`;
        break;
      }
      case 'kvno':
        outer = { ...rep, encPart: { ...rep.encPart, kvno: rng.pick([0, 0xffffffff, 0x7fffffff]) } };
        how = `the enc-part's kvno ${outer.encPart.kvno}`;
        break;
      case 'padata': {
        const padata: PaData[] = Array.from({ length: rng.range(1, 60) }, () => ({
          padataType: rng.pick([PA_TYPE.ETYPE_INFO2, PA_TYPE.PAC_REQUEST, 3, 0, -1, 0x7fffffff]),
          padataValue: rng.chance(0.5) ? rng.bytes(rng.length(64)) : safeEtypeInfo2(hostileEntries(rng)),
        }));
        outer = { ...rep, padata };
        how = `${padata.length} PA-DATA in the reply`;
        break;
      }
      case 'caddr':
        part.caddr = Array.from({ length: rng.range(0, 40) }, () => ({ addrType: rng.pick([2, 24, 0, -1]), address: rng.bytes(rng.length(32)) }));
        part.encryptedPaData = [{ padataType: rng.pick([0, 149, -1]), padataValue: rng.bytes(rng.length(32)) }];
        how = `${part.caddr.length} client addresses, encrypted-pa-data`;
        break;
      default:
        plaintext = concatBytes(packEncKdcRepPart(part), rng.bytes(rng.range(1, 40)));
        how = 'bytes after the EncKDCRepPart inside the ciphertext';
    }
    try {
      return { bytes: this.sealed(outer, part, key, usage, plaintext), strategy: 'fields', mutation: how, mustReject: false, expectOk: false, tainted: [] };
    } catch (error) {
      // The packer refused the value (outside its type): the same change written raw is a DER-level one, left to those.
      return {
        bytes: honest,
        strategy: 'fields',
        mutation: `${how}: not packable (${(error as Error).message}); the real reply`,
        mustReject: false,
        expectOk: false,
        tainted: [],
      };
    }
  }

  /** DER-level changes inside the enc-part's plaintext, sealed right: hostile structure behind a valid seal. */
  private innerDer(rng: Rng, step: RogueStep, req: KdcReq, honest: Uint8Array): Hostile | undefined {
    const o = this.opened(step, req, honest);
    if (o === undefined) return undefined;
    const plain = packEncKdcRepPart(o.part);
    const m = rng.chance(0.8) ? derMutation(rng, plain, undefined) : { bytes: deeplyNested(0x79, rng.pick([100, 5000, 50_000])), mutation: 'deep nesting' };
    return {
      bytes: this.sealed(o.rep, o.part, o.key, o.usage, m.bytes),
      strategy: 'inner-der',
      mutation: `inside the sealed enc-part: ${m.mutation}`,
      mustReject: false,
      expectOk: false,
      tainted: [],
    };
  }

  /** KDC_ERR_PREAUTH_REQUIRED (or PREAUTH_FAILED) with hostile ETYPE-INFO2 in its METHOD-DATA. */
  private etypeInfo(rng: Rng, req: KdcReq): Omit<Hostile, 'strategy' | 'expectOk' | 'tainted'> {
    const code = rng.chance(0.85) ? KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED : KRB_ERROR_CODE.KDC_ERR_PREAUTH_FAILED;
    const shape = rng.weighted<string>([
      [6, 'entries'],
      [1, 'garbage-value'],
      [1, 'two-etype-info2'],
      [1, 'none'],
      [1, 'random-method-data'],
    ]);
    let eData: Uint8Array;
    let how: string;
    if (shape === 'entries') {
      const entries = hostileEntries(rng);
      eData = packMethodData([
        { padataType: PA_TYPE.ETYPE_INFO2, padataValue: safeEtypeInfo2(entries) },
        { padataType: PA_TYPE.ENC_TIMESTAMP, padataValue: new Uint8Array(0) },
      ]);
      how = `ETYPE-INFO2 ${describeEntries(entries)}`;
    } else if (shape === 'garbage-value') {
      eData = packMethodData([{ padataType: PA_TYPE.ETYPE_INFO2, padataValue: rng.bytes(rng.length(200)) }]);
      how = 'ETYPE-INFO2 of random bytes';
    } else if (shape === 'two-etype-info2') {
      const a = hostileEntries(rng);
      eData = packMethodData([
        { padataType: PA_TYPE.ETYPE_INFO2, padataValue: safeEtypeInfo2(a) },
        { padataType: PA_TYPE.ETYPE_INFO2, padataValue: safeEtypeInfo2([{ etype: 18, salt: ROGUE_SALT }]) },
      ]);
      how = `two ETYPE-INFO2s, the first ${describeEntries(a)}`;
    } else if (shape === 'none') {
      eData = packMethodData([{ padataType: PA_TYPE.ENC_TIMESTAMP, padataValue: new Uint8Array(0) }]);
      how = 'no ETYPE-INFO2';
    } else {
      const n = rng.pick([0, 1, 64, 65, 500]);
      eData = tlv(
        0x30,
        ...Array.from({ length: n }, () => tlv(0x30, tlv(0xa1, tlv(0x02, Uint8Array.of(rng.int(256)))), tlv(0xa2, tlv(0x04, rng.bytes(rng.length(16)))))),
      );
      how = `METHOD-DATA of ${n} entries, raw`;
    }
    return {
      bytes: this.refusal(req, code, 'rogue', eData),
      mutation: `${code === KRB_ERROR_CODE.KDC_ERR_PREAUTH_REQUIRED ? 'KDC_ERR_PREAUTH_REQUIRED' : 'KDC_ERR_PREAUTH_FAILED'}: ${how}`,
      mustReject: false,
    };
  }

  /** A KRB-ERROR of any code, with e-text and e-data of any shape. */
  private anyError(rng: Rng, req: KdcReq): Omit<Hostile, 'strategy' | 'expectOk' | 'tainted'> {
    const code = rng.chance(0.85) ? rng.pick(Object.values(KRB_ERROR_CODE)) : rng.pick([0, -1, 100, 0x7fffffff, -0x80000000, 1000]);
    const eData = rng.weighted<Uint8Array | undefined>([
      [3, undefined],
      [2, rng.bytes(rng.length(300))],
      [1, packMethodData([{ padataType: PA_TYPE.ETYPE_INFO2, padataValue: safeEtypeInfo2(hostileEntries(rng)) }])],
      [1, deeplyNested(0x30, rng.pick([10, 1000, 20_000]))],
    ]);
    const text = rng.chance(0.2) ? 'x'.repeat(rng.pick([0, 1000, 40_000])) : `rogue error ${code}`;
    try {
      return {
        bytes: this.refusal(req, code, text, eData),
        mutation: `KRB-ERROR ${code}, e-text ${text.length} chars, e-data ${eData?.length ?? 'none'}`,
        mustReject: false,
      };
    } catch (error) {
      return {
        bytes: this.refusal(req, KRB_ERROR_CODE.KRB_ERR_GENERIC, 'rogue'),
        mutation: `KRB-ERROR ${code} not packable (${(error as Error).message}): KRB_ERR_GENERIC`,
        mustReject: false,
      };
    }
  }
}

/** ETYPE-INFO2 entries as a lying KDC writes them: unknown etypes, huge or odd salts, s2kparams of any length and count. */
function hostileEntries(rng: Rng): EtypeInfo2Entry[] {
  const n = rng.pick([1, 1, 2, 3, 10, 64]);
  return Array.from({ length: n }, (_, i) => {
    const etype = rng.chance(0.5) && i === n - 1 ? 18 : rng.pick([0, 1, 3, 16, 17, 18, 19, 20, 23, 24, 25, 26, -1, 0x7fffffff, -0x80000000]);
    const entry: EtypeInfo2Entry = { etype };
    const salt = rng.weighted<string | undefined>([
      [3, ROGUE_SALT],
      [1, undefined],
      [1, ''],
      [1, 'x'.repeat(rng.pick([1000, 10_000, 60_000]))],
      [1, 'é\u0000\uffff'],
    ]);
    if (salt !== undefined) entry.salt = salt;
    const params = rng.weighted<Uint8Array | undefined>([
      [3, undefined],
      [1, new Uint8Array(0)],
      [1, Uint8Array.of(0, 0, 0x10, 0)],
      [1, Uint8Array.of(0, 0, 0, 0)],
      [1, Uint8Array.of(0, 0, 0, 1)],
      [0.3, Uint8Array.of(0, 0xff, 0xff, 0xff)],
      [0.2, Uint8Array.of(0, 0x0f, 0x42, 0x40)],
      [0.3, Uint8Array.of(0, 0x0f, 0x42, 0x41)],
      [1, Uint8Array.of(1, 0, 0, 0)],
      [1, Uint8Array.of(0xff, 0xff, 0xff, 0xff)],
      [1, rng.bytes(rng.pick([1, 3, 5, 8, 100]))],
    ]);
    if (params !== undefined) entry.s2kparams = params;
    return entry;
  });
}

function describeEntries(entries: readonly EtypeInfo2Entry[]): string {
  return entries
    .slice(0, 4)
    .map(
      (e) =>
        `(${e.etype}, salt ${e.salt === undefined ? 'none' : e.salt.length > 20 ? `${e.salt.length} chars` : JSON.stringify(e.salt)}, s2kparams ${e.s2kparams === undefined ? 'none' : toHex(e.s2kparams.subarray(0, 8))})`,
    )
    .join(' ')
    .concat(entries.length > 4 ? ` and ${entries.length - 4} more` : '');
}

/** ETYPE-INFO2's DER, or raw DER when the packer refuses (too many entries, say). */
function safeEtypeInfo2(entries: readonly EtypeInfo2Entry[]): Uint8Array {
  try {
    return packEtypeInfo2(entries);
  } catch {
    return tlv(0x30, ...entries.map((e) => tlv(0x30, tlv(0xa0, tlv(0x02, Uint8Array.of(e.etype & 0x7f))))));
  }
}

/** The ciphertext (hex) of the ticket in a KDC-REP's bytes, if it reads. */
function ticketsOf(bytes: Uint8Array): string[] {
  try {
    return [hexOf(unpackKdcRep(bytes).ticket.encPart.cipher)];
  } catch {
    return [];
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
