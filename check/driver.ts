// What the checks do to a package, through the real machine: a client and a server process, each
// calling its own SSPI library (Secur32) as an application would, the tokens carried between them
// by this thread one call at a time. Every call's status is kept with the call it answered.

import {
  ASC_REQ,
  ISC_REQ,
  SECBUFFER,
  SECPKG_CRED,
  SEC_E_OK,
  SEC_I_COMPLETE_AND_CONTINUE,
  SEC_I_COMPLETE_NEEDED,
  SEC_I_CONTINUE_NEEDED,
  isSuccess,
  statusName,
  tokenBytes,
  type SecBuffer,
  type SecWinntAuthIdentity,
  type Status,
} from '../headers/index.js';
import { describeError, rebuildError, type SerializedError } from '../ipc/index.js';
import type { AppProcess } from '../machine/index.js';
import type { CredHandle, CtxtHandle } from '../sspi/index.js';

/** A handshake that has sent this many tokens without finishing does not terminate. */
export const MAX_TOKENS = 10;

/** What the client asks for: what the default client application asks for. */
export const CLIENT_REQ =
  ISC_REQ.MUTUAL_AUTH | ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONNECTION;
export const SERVER_REQ =
  ASC_REQ.MUTUAL_AUTH | ASC_REQ.CONFIDENTIALITY | ASC_REQ.INTEGRITY | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.CONNECTION;

/** One SSPI call as the check saw it answered. */
export interface Answer {
  process: string;
  api: string;
  status: Status;
  /** Why, when the call failed with a cause (a package fault, a transport failure). */
  cause?: string;
}

/** The first call of a handshake that did not go on, or why the loop stopped. */
export interface Stop {
  where: string;
  status: Status | null;
  detail: string;
}

export interface Handshake {
  /** Both sides answered SEC_E_OK with nothing left to send. */
  ok: boolean;
  client?: CtxtHandle;
  server?: CtxtHandle;
  clientAttr: number;
  serverAttr: number;
  /** Each token's size, in the order they were sent. */
  tokens: number[];
  stop?: Stop;
  /** The loop was cut at MAX_TOKENS. */
  endless: boolean;
}

/** The SSPI calls the checks make, each recorded. A call that throws (a dead process) is an answer too, then rethrown. */
export class Driver {
  readonly answers: Answer[] = [];
  readonly pkg: string;

  constructor(pkg: string) {
    this.pkg = pkg;
  }

  private note(proc: AppProcess, api: string, result: { status: Status; cause?: SerializedError }): void {
    const answer: Answer = { process: proc.name, api, status: result.status >>> 0 };
    if (result.cause !== undefined) answer.cause = describeError(rebuildError(result.cause));
    this.answers.push(answer);
  }

  async acquire(proc: AppProcess, use: 'outbound' | 'inbound', authData?: SecWinntAuthIdentity): Promise<{ status: Status; credential?: CredHandle }> {
    const r = await proc.sspi.acquireCredentialsHandle({
      package: this.pkg,
      credentialUse: use === 'outbound' ? SECPKG_CRED.OUTBOUND : SECPKG_CRED.INBOUND,
      authData: authData ?? null,
    });
    this.note(proc, 'AcquireCredentialsHandle', r);
    return r.credential === undefined ? { status: r.status } : { status: r.status, credential: r.credential };
  }

  async free(proc: AppProcess, credential: CredHandle): Promise<Status> {
    const r = await proc.sspi.freeCredentialsHandle(credential);
    this.note(proc, 'FreeCredentialsHandle', r);
    return r.status;
  }

  async delete(proc: AppProcess, context: CtxtHandle): Promise<Status> {
    const r = await proc.sspi.deleteSecurityContext(context);
    this.note(proc, 'DeleteSecurityContext', r);
    return r.status;
  }

  async query<A extends number>(proc: AppProcess, context: CtxtHandle, attribute: A) {
    const r = await proc.sspi.queryContextAttributes(context, attribute);
    this.note(proc, 'QueryContextAttributes', r);
    return r;
  }

  async packageInfo(proc: AppProcess) {
    const r = await proc.sspi.querySecurityPackageInfo(this.pkg);
    this.note(proc, 'QuerySecurityPackageInfo', r);
    return r;
  }

  /**
   * The ISC/ASC loop, call by call: the client's token to the server, the server's back, until both
   * answer SEC_E_OK (CompleteAuthToken when asked), one fails, or MAX_TOKENS tokens went unfinished.
   */
  async handshake(client: AppProcess, clientCred: CredHandle, server: AppProcess, serverCred: CredHandle): Promise<Handshake> {
    const out: Handshake = { ok: false, clientAttr: 0, serverAttr: 0, tokens: [], endless: false };
    const stop = (where: string, status: Status | null, detail: string): Handshake => ({ ...out, stop: { where, status, detail } });
    let input: Uint8Array | null = null;
    let serverDone = false;
    for (;;) {
      const ic = await client.sspi.initializeSecurityContext({
        credential: clientCred,
        context: out.client ?? null,
        contextReq: CLIENT_REQ,
        input: input === null ? null : [{ BufferType: SECBUFFER.TOKEN, pvBuffer: input }],
      });
      this.note(client, 'InitializeSecurityContext', ic);
      out.client = ic.context ?? out.client;
      out.clientAttr = ic.contextAttr;
      const clientStatus = await this.completed(client, out.client, ic.status, ic.output);
      if (!isSuccess(clientStatus)) return stop('InitializeSecurityContext (client)', clientStatus, failure(ic.status, ic.cause));
      const clientDone = clientStatus === SEC_E_OK;
      const token = tokenBytes(ic.output);
      if (token === undefined || token.byteLength === 0) {
        if (clientDone && serverDone) return { ...out, ok: true };
        if (clientDone)
          return stop('InitializeSecurityContext (client)', clientStatus, 'the client finished without a token for the server, which has not finished');
        return stop('InitializeSecurityContext (client)', clientStatus, `${statusName(clientStatus)} with no token to send`);
      }
      if (serverDone) return stop('InitializeSecurityContext (client)', clientStatus, 'the client sent a token after the server had finished');
      out.tokens.push(token.byteLength);
      if (out.tokens.length >= MAX_TOKENS) return { ...stop('the handshake', null, `not finished after ${MAX_TOKENS} tokens`), endless: true };

      const as = await server.sspi.acceptSecurityContext({
        credential: serverCred,
        context: out.server ?? null,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }],
        contextReq: SERVER_REQ,
      });
      this.note(server, 'AcceptSecurityContext', as);
      out.server = as.context ?? out.server;
      out.serverAttr = as.contextAttr;
      const serverStatus = await this.completed(server, out.server, as.status, as.output);
      if (!isSuccess(serverStatus)) return stop('AcceptSecurityContext (server)', serverStatus, failure(as.status, as.cause));
      serverDone = serverStatus === SEC_E_OK;
      const reply = tokenBytes(as.output);
      if (reply === undefined || reply.byteLength === 0) {
        if (serverDone && clientDone) return { ...out, ok: true };
        if (serverDone)
          return stop('AcceptSecurityContext (server)', serverStatus, 'the server finished without a token for the client, which has not finished');
        return stop('AcceptSecurityContext (server)', serverStatus, `${statusName(serverStatus)} with no token to send`);
      }
      if (clientDone) return stop('AcceptSecurityContext (server)', serverStatus, 'the server sent a token after the client had finished');
      out.tokens.push(reply.byteLength);
      if (out.tokens.length >= MAX_TOKENS) return { ...stop('the handshake', null, `not finished after ${MAX_TOKENS} tokens`), endless: true };
      input = reply;
    }
  }

  /** SEC_I_COMPLETE_NEEDED and SEC_I_COMPLETE_AND_CONTINUE: CompleteAuthToken first, then SEC_E_OK or SEC_I_CONTINUE_NEEDED. */
  private async completed(proc: AppProcess, context: CtxtHandle | undefined, status: Status, output: SecBuffer[]): Promise<Status> {
    if (status !== SEC_I_COMPLETE_NEEDED && status !== SEC_I_COMPLETE_AND_CONTINUE) return status;
    if (context === undefined) return status;
    const r = await proc.sspi.completeAuthToken(context, output);
    this.note(proc, 'CompleteAuthToken', r);
    if (r.status !== SEC_E_OK) return r.status;
    return status === SEC_I_COMPLETE_NEEDED ? SEC_E_OK : SEC_I_CONTINUE_NEEDED;
  }

  /** MakeSignature into a `size`-byte token: the status and the signature the package wrote. */
  async sign(proc: AppProcess, context: CtxtHandle, data: Uint8Array, size: number): Promise<{ status: Status; signature: Uint8Array }> {
    const r = await proc.sspi.makeSignature(
      context,
      0,
      [
        { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(data) },
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(size) },
      ],
      0,
    );
    this.note(proc, 'MakeSignature', r);
    return { status: r.status, signature: r.message.find((b) => b.BufferType === SECBUFFER.TOKEN)?.pvBuffer ?? new Uint8Array(0) };
  }

  async verify(proc: AppProcess, context: CtxtHandle, data: Uint8Array, signature: Uint8Array): Promise<Status> {
    const r = await proc.sspi.verifySignature(
      context,
      [
        { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(data) },
        { BufferType: SECBUFFER.TOKEN, pvBuffer: Uint8Array.from(signature) },
      ],
      0,
    );
    this.note(proc, 'VerifySignature', r);
    return r.status;
  }

  /** EncryptMessage of `data` with a `size`-byte trailer: the status, the trailer and the sealed bytes. */
  async seal(proc: AppProcess, context: CtxtHandle, data: Uint8Array, size: number): Promise<{ status: Status; trailer: Uint8Array; sealed: Uint8Array }> {
    const r = await proc.sspi.encryptMessage(
      context,
      0,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(size) },
        { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(data) },
      ],
      0,
    );
    this.note(proc, 'EncryptMessage', r);
    return {
      status: r.status,
      trailer: r.message.find((b) => b.BufferType === SECBUFFER.TOKEN)?.pvBuffer ?? new Uint8Array(0),
      sealed: r.message.find((b) => b.BufferType === SECBUFFER.DATA)?.pvBuffer ?? new Uint8Array(0),
    };
  }

  async unseal(proc: AppProcess, context: CtxtHandle, trailer: Uint8Array, sealed: Uint8Array): Promise<{ status: Status; data: Uint8Array }> {
    const r = await proc.sspi.decryptMessage(
      context,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: Uint8Array.from(trailer) },
        { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(sealed) },
      ],
      0,
    );
    this.note(proc, 'DecryptMessage', r);
    return { status: r.status, data: r.message.find((b) => b.BufferType === SECBUFFER.DATA)?.pvBuffer ?? new Uint8Array(0) };
  }
}

function failure(status: Status, cause: SerializedError | undefined): string {
  return cause === undefined ? statusName(status) : `${statusName(status)}: ${describeError(rebuildError(cause))}`;
}
