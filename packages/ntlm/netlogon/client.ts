// A member's Netlogon: its secure channel to its domain controller, made when the first logon
// needs it (as Windows' Netlogon makes it at start and again whenever it broke) and kept for the
// logons after. It proves the machine account's secret without sending it (the ClientCredential,
// crypto.ts), checks the DC's own proof (the ServerCredential: a DC that does not know the secret
// cannot make it), and seals every logon and reads every answer sealed with the channel's session
// key. Logons go out as they come, several in flight on the one channel, each answered by its call
// id.
//
// Failures are outcomes, never throws, with the NTSTATUS Windows' Netlogon gives its callers:
//   STATUS_NO_LOGON_SERVERS               no DC answers: refused, reset, or no answer by the
//                                         logon's deadline (a stalled DC); the channel is dropped
//                                         and the next logon makes a new one
//   STATUS_TRUSTED_RELATIONSHIP_FAILURE   the DC refused the machine's proof (a wrong machine
//                                         secret, no such machine account, another domain), or
//                                         its ServerCredential did not verify (not our DC)
// and a logon the DC answered carries the DC's status and the package's ValidationData.

import { randomBytes } from 'node:crypto';
import { connect, isIPv6, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { STATUS_NO_LOGON_SERVERS, STATUS_SUCCESS } from '../../../headers/index.js';
import { acceptableClientChallenge, computeCredential, computeSessionKey, equalBytes, sealMessage, unsealMessage } from './crypto.js';
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
  type NetlogonReply,
  type NetlogonRequest,
} from './messages.js';
import { netlogonStatusName, STATUS_TRUSTED_RELATIONSHIP_FAILURE } from './statuses.js';

export interface NetlogonClientOptions {
  /** The DC's Netlogon address. */
  dc: { host: string; port: number };
  /** The domain joined (NetBIOS name): the DC refuses a channel for another. */
  domainName: string;
  /** This machine's NetBIOS name; its account is `${computerName}$` unless `accountName` says otherwise. */
  computerName: string;
  accountName: string;
  /** The NT hash of the machine account's password (crypto.ts sharedSecretOf). */
  sharedSecret: Uint8Array;
  /** How long one logon may take, channel included, before it is STATUS_NO_LOGON_SERVERS. */
  timeoutMs: number;
}

/** One logon's answer: the DC's (with the package's ValidationData) or why there is none. */
export type SamLogonOutcome = { ok: true; status: number; validationData: Uint8Array } | { ok: false; status: number; reason: string };

export interface NetlogonClientStatus {
  dc: string;
  accountName: string;
  /** 'none' before the first logon; 'up' while a channel is open; 'down' after one failed or broke. */
  channel: 'none' | 'connecting' | 'up' | 'down';
  /** Channels made so far (one per connection). */
  channelsMade: number;
  /** The last failure: its status name and why. */
  lastError: { status: string; reason: string } | null;
  logons: { sent: number; answered: number; failed: number };
}

/** Raised inside the client to end a channel attempt with a status; never leaves it. */
class ChannelFailure extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface Waiter {
  resolve(reply: NetlogonReply): void;
  reject(error: ChannelFailure): void;
}

/** An established secure channel: one TCP connection with its session key and sequence numbers. */
class SecureChannel {
  private readonly socket: Socket;
  private readonly sessionKey: Uint8Array;
  private sent = 0n;
  private received = 0n;
  private nextCallId: number;
  private readonly waiters = new Map<number, Waiter>();
  private failure: ChannelFailure | null = null;
  private readonly onDown: (channel: SecureChannel) => void;

  constructor(socket: Socket, sessionKey: Uint8Array, firstCallId: number, onDown: (channel: SecureChannel) => void) {
    this.socket = socket;
    this.sessionKey = sessionKey;
    this.nextCallId = firstCallId;
    this.onDown = onDown;
  }

  get down(): boolean {
    return this.failure !== null;
  }

  /** A frame that arrived for this channel: a sealed reply, opened and handed to its caller. Anything else ends the channel. */
  deliver(bytes: Uint8Array): void {
    if (this.failure !== null) return;
    const parsed = unpackFrame(bytes);
    if (parsed.kind !== 'sealed') return this.fail(new ChannelFailure(STATUS_NO_LOGON_SERVERS, 'the DC sent a frame in the clear on a sealed channel'));
    const opened = unsealMessage(this.sessionKey, this.received, 'server', parsed.sealed);
    if (!opened.ok) return this.fail(new ChannelFailure(STATUS_NO_LOGON_SERVERS, `a reply does not unseal: ${opened.reason}`));
    this.received++;
    const body = unpackBody(opened.message);
    const waiter = body.kind === 'reply' ? this.waiters.get(body.callId) : undefined;
    if (body.kind !== 'reply' || waiter === undefined)
      return this.fail(new ChannelFailure(STATUS_NO_LOGON_SERVERS, 'the DC answered a call that was not made'));
    this.waiters.delete(body.callId);
    waiter.resolve(body.call);
  }

  /** Sends one sealed call; resolves with its reply, rejects with a ChannelFailure when the channel ends first. */
  call(request: NetlogonRequest): Promise<NetlogonReply> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const callId = this.nextCallId++;
    return new Promise((resolve, reject) => {
      this.waiters.set(callId, { resolve, reject });
      const body = packBody({ kind: 'request', callId, call: request });
      this.socket.write(frame(packSealed(sealMessage(this.sessionKey, this.sent++, 'client', body, new Uint8Array(randomBytes(8))))));
    });
  }

  /** Ends the channel: every call waiting on it fails with `failure`. */
  fail(failure: ChannelFailure): void {
    if (this.failure !== null) return;
    this.failure = failure;
    this.socket.destroy();
    this.sessionKey.fill(0);
    for (const waiter of this.waiters.values()) waiter.reject(failure);
    this.waiters.clear();
    this.onDown(this);
  }
}

export class NetlogonClient {
  private readonly options: NetlogonClientOptions;
  private channel: SecureChannel | null = null;
  private connecting: Promise<SecureChannel> | null = null;
  private closed = false;
  private readonly counts = { channelsMade: 0, sent: 0, answered: 0, failed: 0 };
  private lastError: { status: string; reason: string } | null = null;

  constructor(options: NetlogonClientOptions) {
    this.options = { ...options, sharedSecret: new Uint8Array(options.sharedSecret) };
  }

  status(): NetlogonClientStatus {
    return {
      dc: `${this.options.dc.host}:${this.options.dc.port}`,
      accountName: this.options.accountName,
      channel:
        this.connecting !== null ? 'connecting' : this.channel !== null ? 'up' : this.counts.channelsMade > 0 || this.lastError !== null ? 'down' : 'none',
      channelsMade: this.counts.channelsMade,
      lastError: this.lastError === null ? null : { ...this.lastError },
      logons: { sent: this.counts.sent, answered: this.counts.answered, failed: this.counts.failed },
    };
  }

  /**
   * NetrLogonSamLogonEx with a NETLOGON_GENERIC_INFO: `logonData` delivered to package
   * `packageName` on the DC, its answer back. Never rejects.
   */
  async samLogon(logonDomainName: string, packageName: string, logonData: Uint8Array): Promise<SamLogonOutcome> {
    const deadline = performance.now() + this.options.timeoutMs;
    this.counts.sent++;
    try {
      const channel = await this.withDeadline(this.secureChannel(deadline), deadline, 'making the secure channel');
      const reply = await this.withDeadline(
        channel.call({
          opnum: NETLOGON_OPNUM.NetrLogonSamLogonEx,
          logonServer: this.options.dc.host,
          computerName: this.options.computerName,
          logonLevel: NETLOGON_LOGON_INFO_CLASS.NetlogonGenericInformation,
          logonDomainName,
          packageName,
          logonData,
          validationLevel: NETLOGON_VALIDATION_INFO_CLASS.NetlogonValidationGenericInfo2,
        }),
        deadline,
        'the logon',
        channel,
      );
      if (reply.opnum !== NETLOGON_OPNUM.NetrLogonSamLogonEx) throw new ChannelFailure(STATUS_NO_LOGON_SERVERS, 'the DC answered another call');
      this.counts.answered++;
      return { ok: true, status: reply.status, validationData: reply.validationData };
    } catch (error) {
      this.counts.failed++;
      const failure = error instanceof ChannelFailure ? error : new ChannelFailure(STATUS_NO_LOGON_SERVERS, (error as Error).message);
      this.lastError = { status: netlogonStatusName(failure.status), reason: failure.message };
      return { ok: false, status: failure.status, reason: failure.message };
    }
  }

  /** Makes the secure channel now if there is none (nltest /sc_verify); resolves with the outcome. */
  async verify(): Promise<{ ok: true } | { ok: false; status: number; reason: string }> {
    const deadline = performance.now() + this.options.timeoutMs;
    try {
      await this.withDeadline(this.secureChannel(deadline), deadline, 'making the secure channel');
      return { ok: true };
    } catch (error) {
      const failure = error instanceof ChannelFailure ? error : new ChannelFailure(STATUS_NO_LOGON_SERVERS, (error as Error).message);
      this.lastError = { status: netlogonStatusName(failure.status), reason: failure.message };
      return { ok: false, status: failure.status, reason: failure.message };
    }
  }

  /** Ends the channel; logons in flight fail with STATUS_NO_LOGON_SERVERS, later ones too. */
  close(): void {
    this.closed = true;
    this.channel?.fail(new ChannelFailure(STATUS_NO_LOGON_SERVERS, 'Netlogon is stopping'));
    this.options.sharedSecret.fill(0);
  }

  /** `work`, or a ChannelFailure at the deadline (then the channel, stuck on a DC that does not answer, is dropped). */
  private withDeadline<T>(work: Promise<T>, deadline: number, what: string, channel?: SecureChannel): Promise<T> {
    const left = deadline - performance.now();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          const failure = new ChannelFailure(
            STATUS_NO_LOGON_SERVERS,
            `no answer from the DC at ${this.options.dc.host}:${this.options.dc.port} within ${this.options.timeoutMs} ms (${what})`,
          );
          (channel ?? this.channel)?.fail(failure);
          reject(failure);
        },
        Math.max(0, left),
      );
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private secureChannel(deadline: number): Promise<SecureChannel> {
    if (this.closed) return Promise.reject(new ChannelFailure(STATUS_NO_LOGON_SERVERS, 'Netlogon is stopped'));
    if (this.channel !== null && !this.channel.down) return Promise.resolve(this.channel);
    this.connecting ??= this.establish(deadline).finally(() => (this.connecting = null));
    return this.connecting;
  }

  /** Connects, then NetrServerReqChallenge and NetrServerAuthenticate3; the channel, or a ChannelFailure. */
  private async establish(deadline: number): Promise<SecureChannel> {
    const { dc } = this.options;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: dc.host, port: dc.port, family: isIPv6(dc.host) ? 6 : 4 });
      const timer = setTimeout(
        () => {
          s.destroy();
          reject(new ChannelFailure(STATUS_NO_LOGON_SERVERS, `no connection to the DC at ${dc.host}:${dc.port} within ${this.options.timeoutMs} ms`));
        },
        Math.max(0, deadline - performance.now()),
      );
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (error) => {
        clearTimeout(timer);
        reject(new ChannelFailure(STATUS_NO_LOGON_SERVERS, `no DC at ${dc.host}:${dc.port}: ${error.message}`));
      });
    });
    socket.setNoDelay(true);
    // Until the channel is up, replies in the clear go to the one call waiting; after, frames go to the channel.
    let waiting: Waiter | null = null;
    let channel: SecureChannel | null = null;
    let pending: Buffer = Buffer.alloc(0);
    const broken = (why: string): void => {
      const failure = new ChannelFailure(STATUS_NO_LOGON_SERVERS, why);
      if (channel !== null) channel.fail(failure);
      else {
        waiting?.reject(failure);
        waiting = null;
        socket.destroy();
      }
    };
    socket.on('error', (error) => broken(`the connection to the DC failed: ${error.message}`));
    socket.on('close', () => broken('the DC closed the connection'));
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      try {
        const taken = takeFrames(pending);
        pending = taken.rest;
        for (const bytes of taken.frames) {
          if (channel !== null) {
            channel.deliver(bytes);
            continue;
          }
          const parsed = unpackFrame(bytes);
          if (parsed.kind !== 'reply' || waiting === null) return broken('the DC sent a frame no call waits for');
          const w: Waiter = waiting;
          waiting = null;
          w.resolve(parsed.call);
        }
      } catch (error) {
        broken(`the DC sent bytes that are not Netlogon: ${(error as Error).message}`);
      }
    });
    // The whole exchange has the logon's deadline: a DC that took the connection and answers nothing (stalled) is given up on.
    const giveUp = setTimeout(
      () => broken(`no answer from the DC at ${dc.host}:${dc.port} within ${this.options.timeoutMs} ms (making the secure channel)`),
      Math.max(0, deadline - performance.now()),
    );
    const ask = (callId: number, call: NetlogonRequest): Promise<NetlogonReply> =>
      new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(frame(packBody({ kind: 'request', callId, call })));
      });

    try {
      let clientChallenge: Uint8Array;
      do clientChallenge = new Uint8Array(randomBytes(8));
      while (!acceptableClientChallenge(clientChallenge));
      const { computerName, domainName, accountName } = this.options;
      const challenged = await ask(1, { opnum: NETLOGON_OPNUM.NetrServerReqChallenge, primaryName: dc.host, domainName, computerName, clientChallenge });
      if (challenged.opnum !== NETLOGON_OPNUM.NetrServerReqChallenge) throw new ChannelFailure(STATUS_NO_LOGON_SERVERS, 'the DC answered another call');
      if (challenged.status !== STATUS_SUCCESS)
        throw new ChannelFailure(
          STATUS_TRUSTED_RELATIONSHIP_FAILURE,
          `the DC refused a secure channel for domain ${domainName}: NetrServerReqChallenge ${netlogonStatusName(challenged.status)}`,
        );
      const sessionKey = computeSessionKey(this.options.sharedSecret, clientChallenge, challenged.serverChallenge);
      const authenticated = await ask(2, {
        opnum: NETLOGON_OPNUM.NetrServerAuthenticate3,
        primaryName: dc.host,
        accountName,
        secureChannelType: NETLOGON_SECURE_CHANNEL_TYPE.WorkstationSecureChannel,
        computerName,
        clientCredential: computeCredential(clientChallenge, sessionKey),
        negotiateFlags: NETLOGON_CLIENT_FLAGS,
      });
      if (authenticated.opnum !== NETLOGON_OPNUM.NetrServerAuthenticate3) throw new ChannelFailure(STATUS_NO_LOGON_SERVERS, 'the DC answered another call');
      if (authenticated.status !== STATUS_SUCCESS) {
        sessionKey.fill(0);
        throw new ChannelFailure(
          STATUS_TRUSTED_RELATIONSHIP_FAILURE,
          `the DC refused the machine account ${accountName}: NetrServerAuthenticate3 ${netlogonStatusName(authenticated.status)}${
            netlogonStatusName(authenticated.status) === 'STATUS_ACCESS_DENIED' ? ' (a wrong machine secret)' : ''
          }`,
        );
      }
      // Mutual: the DC proves it derived the same session key, so it knows the machine's secret.
      if (!equalBytes(authenticated.serverCredential, computeCredential(challenged.serverChallenge, sessionKey))) {
        sessionKey.fill(0);
        throw new ChannelFailure(STATUS_TRUSTED_RELATIONSHIP_FAILURE, "the DC's ServerCredential does not verify: it does not hold this machine's secret");
      }
      if ((authenticated.negotiateFlags & NETLOGON_NEG.SUPPORTS_AES) === 0) {
        sessionKey.fill(0);
        throw new ChannelFailure(STATUS_TRUSTED_RELATIONSHIP_FAILURE, 'the DC did not agree to AES');
      }
      const made = new SecureChannel(socket, sessionKey, 3, (down) => {
        if (this.channel === down) this.channel = null;
      });
      channel = made;
      this.channel = made;
      this.counts.channelsMade++;
      if (this.closed) made.fail(new ChannelFailure(STATUS_NO_LOGON_SERVERS, 'Netlogon is stopping'));
      return made;
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(giveUp);
    }
  }
}
