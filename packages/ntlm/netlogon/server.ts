// A domain controller's Netlogon (the server side of MS-NRPC's secure channel) on a TCP port: the
// machine accounts of the domain's members (each "NAME$" with its password's NT hash), the
// challenge/credential exchange that makes a channel, and the logons members pass through it.
// It knows no LSA: what a logon means is its host's to answer (lsa/netlogon-host.ts hands it to
// the DC's security package, as Netlogon hands a generic logon's data to the package it names).
//
// One connection is one secure channel, made in two calls in the clear:
//   NetrServerReqChallenge   the member's ClientChallenge, the DC's fresh ServerChallenge
//   NetrServerAuthenticate3  the member's ClientCredential, proving it holds the account's secret;
//                            the DC checks it (and refuses the Zerologon shapes), answers its own
//                            ServerCredential, and the channel is up; a wrong one ends the
//                            connection (STATUS_ACCESS_DENIED), an unknown account too
//                            (STATUS_NO_TRUST_SAM_ACCOUNT)
// then sealed NetrLogonSamLogonEx calls, answered as they complete (each reply names its call),
// each reply sealed with the DC's next sequence number. Anything out of order (a sealed frame
// before the channel, a call in the clear after it, a frame that does not unseal with the sequence
// number expected, bytes that do not parse) ends the connection: nothing a peer sends can reach
// past its own connection, and no call is answered on a channel whose proofs did not pass.

import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  STATUS_ACCESS_DENIED,
  STATUS_INSUFFICIENT_RESOURCES,
  STATUS_INTERNAL_ERROR,
  STATUS_INVALID_PARAMETER,
  STATUS_NO_SUCH_DOMAIN,
  STATUS_NOT_SUPPORTED,
  STATUS_SUCCESS,
} from '../../../headers/index.js';
import { acceptableClientChallenge, computeCredential, computeSessionKey, equalBytes, sealMessage, unsealMessage } from './crypto.js';
import { NetlogonWireError } from './fields.js';
import {
  frame,
  NETLOGON_CLIENT_FLAGS,
  NETLOGON_LOGON_INFO_CLASS,
  NETLOGON_NEG,
  NETLOGON_OPNUM,
  NETLOGON_SECURE_CHANNEL_TYPE,
  NETLOGON_VALIDATION_INFO_CLASS,
  packBody,
  packSealed,
  takeFrames,
  unpackBody,
  unpackFrame,
  type Authenticate3Request,
  type NetlogonReply,
  type ReqChallengeRequest,
  type SamLogonRequest,
} from './messages.js';
import { netlogonStatusName, STATUS_NO_TRUST_SAM_ACCOUNT } from './statuses.js';

/** A member's machine account, as the DC keeps it. */
export interface MachineAccount {
  /** "MEMBER$". */
  accountName: string;
  /** The NT hash of its password: MS-NRPC's shared secret. */
  sharedSecret: Uint8Array;
  /** Its relative id (AccountRid), for the reply. */
  rid: number;
}

/** A secure channel, as the DC's host sees a logon arrive on it. */
export interface SecureChannelPeer {
  accountName: string;
  computerName: string;
  /** "127.0.0.1:53124". */
  peer: string;
}

/** What the host answers for one logon: the call's status and, on success, the package's ValidationData. */
export interface SamLogonAnswer {
  status: number;
  validationData: Uint8Array;
}

/** What the host is told of each call (the LSA traces them; `sspi-emu dc` prints them). */
export interface NetlogonServerRecord {
  call: 'NetrServerReqChallenge' | 'NetrServerAuthenticate3' | 'NetrLogonSamLogonEx';
  /** "STATUS_SUCCESS", "STATUS_ACCESS_DENIED", ... */
  status: string;
  /** The machine account (once known) and the logon's package and domain. */
  account?: string;
  detail?: string;
  peer: string;
  ms: number;
}

export interface NetlogonServerHooks {
  /** Before a call is handled (where a fault plan may stop or kill the DC's LSA, mid-exchange). */
  before?(call: NetlogonServerRecord['call'], peer: string): void;
  after?(record: NetlogonServerRecord): void;
  /** A connection ended for a protocol violation, and why. */
  dropped?(peer: string, why: string): void;
}

export interface NetlogonServerOptions {
  /** The domain's NetBIOS and DNS names: a member asking for another domain is refused. */
  domainName: string;
  dnsDomainName: string;
  /** The machine accounts by their name in lower case ("member$"). */
  accounts: ReadonlyMap<string, MachineAccount>;
  /** Answers one logon on an established channel (never rejects: a failure is a status). */
  samLogon(request: SamLogonRequest, channel: SecureChannelPeer): Promise<SamLogonAnswer>;
  limits?: Partial<NetlogonServerLimits>;
  hooks?: NetlogonServerHooks;
}

export interface NetlogonServerLimits {
  /** Connections served at once; more are closed as they come. */
  maxConnections: number;
  /** A connection that sends nothing for this long is closed. */
  idleTimeoutMs: number;
  /** Logons one channel may have in flight; more are answered STATUS_INSUFFICIENT_RESOURCES. */
  maxInFlightPerChannel: number;
}

export const DEFAULT_NETLOGON_SERVER_LIMITS: Readonly<NetlogonServerLimits> = Object.freeze({
  maxConnections: 1024,
  idleTimeoutMs: 120_000,
  maxInFlightPerChannel: 256,
});

export interface NetlogonServerStats {
  /** Connections open now, and taken since the start. */
  connections: number;
  connectionsTotal: number;
  /** Secure channels made (NetrServerAuthenticate3 that passed). */
  channels: number;
  /** NetrServerAuthenticate3 refused, by status. */
  refused: Record<string, number>;
  /** Logons answered, by the call's status. */
  logons: Record<string, number>;
  /** Connections ended for a protocol violation (bytes that do not parse, a frame that does not unseal, a call out of order). */
  dropped: number;
}

type ChannelState =
  | { stage: 'new' }
  | { stage: 'challenged'; request: ReqChallengeRequest; serverChallenge: Uint8Array }
  | { stage: 'secure'; account: MachineAccount; computerName: string; sessionKey: Uint8Array; received: bigint; sent: bigint; inFlight: number };

export class NetlogonServer {
  readonly address: { host: string; port: number };
  private readonly server: Server;
  private readonly options: NetlogonServerOptions;
  private readonly limits: NetlogonServerLimits;
  private readonly sockets = new Set<Socket>();
  private closed = false;
  private readonly counts = { connectionsTotal: 0, channels: 0, dropped: 0 };
  private readonly refused: Record<string, number> = Object.create(null) as Record<string, number>;
  private readonly logons: Record<string, number> = Object.create(null) as Record<string, number>;

  private constructor(server: Server, address: { host: string; port: number }, options: NetlogonServerOptions, limits: NetlogonServerLimits) {
    this.server = server;
    this.address = address;
    this.options = options;
    this.limits = limits;
    server.maxConnections = limits.maxConnections;
    server.on('connection', (socket) => this.serve(socket));
    server.on('error', () => undefined);
  }

  /** Listens on `host`:`port` (0: a free port). Rejects when the port is taken or the address is not this host's. */
  static listen(where: { host: string; port: number }, options: NetlogonServerOptions): Promise<NetlogonServer> {
    const limits = { ...DEFAULT_NETLOGON_SERVER_LIMITS, ...options.limits };
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', (error) => reject(new Error(`Netlogon cannot listen on TCP ${where.host}:${where.port}: ${error.message}`, { cause: error })));
      server.listen({ host: where.host, port: where.port, exclusive: true }, () => {
        server.removeAllListeners('error');
        const address = server.address();
        const port = typeof address === 'object' && address !== null ? address.port : where.port;
        resolve(new NetlogonServer(server, { host: where.host, port }, options, limits));
      });
    });
  }

  stats(): NetlogonServerStats {
    return { connections: this.sockets.size, ...this.counts, refused: { ...this.refused }, logons: { ...this.logons } };
  }

  /** Stops listening and ends every channel; logons being answered are answered to no one. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.counts.connectionsTotal++;
    this.sockets.add(socket);
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    let state: ChannelState = { stage: 'new' };
    let pending: Buffer = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.setTimeout(this.limits.idleTimeoutMs, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (state.stage === 'secure') state.sessionKey.fill(0);
    });
    const drop = (why: string): void => {
      this.counts.dropped++;
      this.options.hooks?.dropped?.(peer, why);
      socket.destroy();
    };
    const send = (body: Uint8Array): void => {
      if (!socket.destroyed) socket.write(frame(body));
    };

    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let frames: Uint8Array[];
      try {
        ({ frames, rest: pending } = takeFrames(pending));
      } catch (error) {
        return drop((error as Error).message);
      }
      for (const bytes of frames) {
        if (socket.destroyed) return;
        try {
          const next = this.frame(bytes, state, peer, send, socket);
          if (next === 'drop') return drop('a call out of order');
          state = next;
        } catch (error) {
          if (error instanceof NetlogonWireError) return drop(error.message);
          return drop(`the DC failed on a frame: ${(error as Error).message}`);
        }
      }
    });
  }

  /** One frame on a connection: the state it leaves the channel in, or 'drop'. */
  private frame(bytes: Uint8Array, state: ChannelState, peer: string, send: (body: Uint8Array) => void, socket: Socket): ChannelState | 'drop' {
    const parsed = unpackFrame(bytes);
    if (parsed.kind === 'sealed') {
      if (state.stage !== 'secure') return 'drop';
      const opened = unsealMessage(state.sessionKey, state.received, 'client', parsed.sealed);
      if (!opened.ok) throw new NetlogonWireError('BAD_VALUE', `a sealed frame does not open: ${opened.reason}`, 2);
      state.received++;
      const body = unpackBody(opened.message);
      if (body.kind !== 'request' || body.call.opnum !== NETLOGON_OPNUM.NetrLogonSamLogonEx) return 'drop';
      this.samLogon(state, body.callId, body.call, peer, send, socket);
      return state;
    }
    if (parsed.kind !== 'request' || state.stage === 'secure') return 'drop';
    const call = parsed.call;
    const started = performance.now();
    if (call.opnum === NETLOGON_OPNUM.NetrServerReqChallenge) {
      this.options.hooks?.before?.('NetrServerReqChallenge', peer);
      const known = [this.options.domainName, this.options.dnsDomainName].some((d) => d.toLowerCase() === call.domainName.toLowerCase());
      const serverChallenge = new Uint8Array(randomBytes(8));
      const status = known ? STATUS_SUCCESS : STATUS_NO_SUCH_DOMAIN;
      send(
        packBody({ kind: 'reply', callId: parsed.callId, call: { opnum: call.opnum, status, serverChallenge: known ? serverChallenge : new Uint8Array(8) } }),
      );
      this.record(
        'NetrServerReqChallenge',
        status,
        peer,
        started,
        known ? undefined : `a channel for domain ${call.domainName}, not this one`,
        call.computerName,
      );
      return known ? { stage: 'challenged', request: call, serverChallenge } : { stage: 'new' };
    }
    if (call.opnum === NETLOGON_OPNUM.NetrServerAuthenticate3) {
      if (state.stage !== 'challenged') return 'drop';
      this.options.hooks?.before?.('NetrServerAuthenticate3', peer);
      const outcome = this.authenticate(state, call);
      const reply: NetlogonReply = {
        opnum: call.opnum,
        status: outcome.status,
        serverCredential: outcome.ok ? computeCredential(state.serverChallenge, outcome.sessionKey) : new Uint8Array(8),
        negotiateFlags: outcome.ok ? NETLOGON_CLIENT_FLAGS & call.negotiateFlags : 0,
        accountRid: outcome.ok ? outcome.account.rid : 0,
      };
      send(packBody({ kind: 'reply', callId: parsed.callId, call: reply }));
      state.serverChallenge.fill(0);
      this.record('NetrServerAuthenticate3', outcome.status, peer, started, outcome.ok ? undefined : outcome.reason, call.accountName);
      if (!outcome.ok) {
        const name = netlogonStatusName(outcome.status);
        this.refused[name] = (this.refused[name] ?? 0) + 1;
        // A refused proof ends the connection: the next attempt starts with a fresh challenge.
        socket.end();
        return { stage: 'new' };
      }
      this.counts.channels++;
      return {
        stage: 'secure',
        account: outcome.account,
        computerName: call.computerName,
        sessionKey: outcome.sessionKey,
        received: 0n,
        sent: 0n,
        inFlight: 0,
      };
    }
    return 'drop';
  }

  /** NetrServerAuthenticate3's checks (3.5.4.4.2), in order; every refusal says why (for the DC's log, not the wire). */
  private authenticate(
    state: Extract<ChannelState, { stage: 'challenged' }>,
    call: Authenticate3Request,
  ): { ok: true; status: number; account: MachineAccount; sessionKey: Uint8Array } | { ok: false; status: number; reason: string } {
    const account = this.options.accounts.get(call.accountName.toLowerCase());
    if (account === undefined) return { ok: false, status: STATUS_NO_TRUST_SAM_ACCOUNT, reason: `no machine account ${call.accountName}` };
    if (call.secureChannelType !== NETLOGON_SECURE_CHANNEL_TYPE.WorkstationSecureChannel)
      return { ok: false, status: STATUS_INVALID_PARAMETER, reason: `secure channel type ${call.secureChannelType}: only a workstation's (2) is served` };
    if ((call.negotiateFlags & NETLOGON_NEG.SUPPORTS_AES) === 0)
      return {
        ok: false,
        status: STATUS_NOT_SUPPORTED,
        reason: 'the client does not offer AES (NegotiateFlags bit W): refused, as since the Zerologon enforcement',
      };
    const clientChallenge = state.request.clientChallenge;
    if (!acceptableClientChallenge(clientChallenge))
      return { ok: false, status: STATUS_ACCESS_DENIED, reason: "the ClientChallenge's first five bytes are one value (the Zerologon shape)" };
    if (equalBytes(call.clientCredential, clientChallenge))
      return { ok: false, status: STATUS_ACCESS_DENIED, reason: 'the ClientCredential repeats the ClientChallenge' };
    const sessionKey = computeSessionKey(account.sharedSecret, clientChallenge, state.serverChallenge);
    if (!equalBytes(computeCredential(clientChallenge, sessionKey), call.clientCredential)) {
      sessionKey.fill(0);
      return { ok: false, status: STATUS_ACCESS_DENIED, reason: `the ClientCredential of ${call.accountName} does not verify: not its machine secret` };
    }
    return { ok: true, status: STATUS_SUCCESS, account, sessionKey };
  }

  /** One sealed logon: answered (sealed, with the DC's next sequence number) when the host has answered it. */
  private samLogon(
    state: Extract<ChannelState, { stage: 'secure' }>,
    callId: number,
    call: SamLogonRequest,
    peer: string,
    send: (body: Uint8Array) => void,
    socket: Socket,
  ): void {
    const started = performance.now();
    this.options.hooks?.before?.('NetrLogonSamLogonEx', peer);
    const reply = (status: number, validationData: Uint8Array, detail: string): void => {
      if (socket.destroyed) return;
      const body = packBody({
        kind: 'reply',
        callId,
        call: {
          opnum: call.opnum,
          status,
          validationLevel: NETLOGON_VALIDATION_INFO_CLASS.NetlogonValidationGenericInfo2,
          validationData,
          authoritative: true,
        },
      });
      send(packSealed(sealMessage(state.sessionKey, state.sent++, 'server', body, new Uint8Array(randomBytes(8)))));
      const name = netlogonStatusName(status);
      this.logons[name] = (this.logons[name] ?? 0) + 1;
      this.record('NetrLogonSamLogonEx', status, peer, started, detail, state.account.accountName);
    };
    const what = `${call.packageName} logon for domain ${call.logonDomainName}`;
    if (
      call.logonLevel !== NETLOGON_LOGON_INFO_CLASS.NetlogonGenericInformation ||
      call.validationLevel !== NETLOGON_VALIDATION_INFO_CLASS.NetlogonValidationGenericInfo2
    )
      return reply(
        STATUS_INVALID_PARAMETER,
        new Uint8Array(0),
        `logon level ${call.logonLevel}, validation level ${call.validationLevel}: only the generic ones (4, 5)`,
      );
    if (state.inFlight >= this.limits.maxInFlightPerChannel) return reply(STATUS_INSUFFICIENT_RESOURCES, new Uint8Array(0), `${what}: too many in flight`);
    state.inFlight++;
    this.options
      .samLogon(call, { accountName: state.account.accountName, computerName: state.computerName, peer })
      // The host never rejects; if it did, the member gets a status, not silence.
      .catch((): SamLogonAnswer => ({ status: STATUS_INTERNAL_ERROR, validationData: new Uint8Array(0) }))
      .then((answer) => {
        state.inFlight--;
        reply(answer.status, answer.validationData, what);
      });
  }

  private record(call: NetlogonServerRecord['call'], status: number, peer: string, started: number, detail?: string, account?: string): void {
    const hooks = this.options.hooks;
    if (hooks?.after === undefined) return;
    const record: NetlogonServerRecord = { call, status: netlogonStatusName(status), peer, ms: performance.now() - started };
    if (detail !== undefined) record.detail = detail;
    if (account !== undefined) record.account = account;
    hooks.after(record);
  }
}
