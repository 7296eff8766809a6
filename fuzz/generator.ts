// What a fuzz generator is, and the SSPI plumbing every generator shares. Generators run inside an
// app process (fuzz/app.ts), on that process's own SSPI library: every handshake call crosses LPC
// into the LSA and reaches the package's LSA-mode half; message calls run on the mapped user-mode
// half in the process, as an application's would.

import {
  ASC_REQ,
  ISC_REQ,
  SECBUFFER,
  SECBUFFER_READONLY,
  SECBUFFER_READONLY_WITH_CHECKSUM,
  SECPKG_CRED,
  type SecBuffer,
  SEC_E_OK,
  statusName,
  type Status,
  tokenBytes,
} from '../headers/index.js';
import type { CredHandle, CtxtHandle, ContextResult, Secur32 } from '../sspi/index.js';
import type { FuzzKdc } from './kerberos-domain.js';
import type { RogueKdcAddress } from './kerberos-rogue-kdc.js';
import type { Rng } from './rng.js';
import type { FuzzedFunction } from './statuses.js';

/** One SSPI call a trial made, and its answer. */
export interface Call {
  fn: FuzzedFunction;
  status: Status;
  /** The message of a SEC_E_INTERNAL_ERROR's cause, when it has one. */
  cause?: string;
}

/**
 * One fuzz input as it is being tried. The generator records the hostile bytes before it sends
 * them (so that an exception still reports them), every call it makes, and any expectation the
 * answer broke ("a valid message was refused", "an altered message was accepted").
 */
export class Trial {
  input: Uint8Array = new Uint8Array(0);
  mutation = '';
  /** The strategy: the first word of the mutation's family, for coverage counts. */
  strategy = '';
  readonly calls: Call[] = [];
  readonly violations: string[] = [];

  hostile(strategy: string, input: Uint8Array, mutation: string): void {
    this.strategy = strategy;
    this.input = input;
    this.mutation = mutation;
  }

  /** Records a call made on the way (setup, delivery): its answer is checked, not counted. */
  record(fn: FuzzedFunction, result: { status: Status; cause?: { message?: string } | undefined }): Status {
    const call: Call = { fn, status: result.status >>> 0 };
    if (result.cause?.message !== undefined) call.cause = result.cause.message;
    this.calls.push(call);
    return call.status;
  }

  /** Records the call that received the hostile input: its answer is the one the generator counts. */
  answer(fn: FuzzedFunction, result: { status: Status; cause?: { message?: string } | undefined }): Status {
    const status = this.record(fn, result);
    this.judged = this.calls[this.calls.length - 1];
    return status;
  }

  /** Records a broken expectation when `ok` is false. */
  expect(ok: boolean, what: string): void {
    if (!ok) this.violations.push(what);
  }

  expectStatus(status: Status, expected: Status, what: string): void {
    if (status >>> 0 !== expected >>> 0) this.violations.push(`${what}: expected ${statusName(expected)}, got ${statusName(status)}`);
  }

  /** The call that received the hostile input, once made. */
  judged: Call | undefined;

  /** What answered an input that reaches no SSPI function (a KDC's reply), counted in place of a status. */
  outcome: string | undefined;
}

/** What a generator instance runs in: one batch, one process, the credentials of the run's account. */
export interface FuzzEnv {
  readonly sspi: Secur32;
  /** The package name as SSPI knows it: "NTLM" or "Example". */
  readonly packageName: string;
  readonly account: { user: string; domain: string; password: string };
  readonly clientCredential: CredHandle;
  readonly serverCredential: CredHandle;
  readonly lanes: number;
  /** The domain controller's KDC, when the package fuzzed is Kerberos. */
  readonly kdc?: FuzzKdc;
  /** The rogue KDC the fuzzed machine's Kerberos package is pointed at (kerberos/kdc-reply), when the run has one. */
  readonly rogueKdc?: RogueKdcAddress;
}

/** A generator as it runs in a batch: one input per call of `run`, on lane `lane`; `index` is the input's index in its generator. */
export interface GeneratorInstance {
  run(rng: Rng, lane: number, trial: Trial, index: number): Promise<void>;
  /** Deletes whatever the instance kept between inputs; returns problems (a delete that failed). */
  close(): Promise<string[]>;
}

export interface GeneratorSpec {
  /** "ntlm/authenticate", "example/hello", "ntlm/decrypt-message", ... */
  readonly name: string;
  /** Whose generator it is: a package's own (structure-aware), or one for any package. */
  readonly packageKey: 'ntlm' | 'example' | 'negotiate' | 'kerberos' | 'generic';
  readonly target: 'tokens' | 'messages';
  /** The function whose answer to the hostile input is judged; 'KDC' for bytes sent to a KDC, whose replies are counted (Trial.outcome). */
  readonly fn: FuzzedFunction | 'KDC';
  /** What the generator feeds, for the report. */
  readonly describe: string;
  create(env: FuzzEnv): Promise<GeneratorInstance>;
}

// ---------------------------------------------------------------------------------------------
// Handshake plumbing

/** What an application asks for when it wants everything: integrity, confidentiality, replay and sequence detection. */
/** `make` run once per fuzz environment (a batch): generators that share a capture share its result. */
export function oncePerEnv<T>(make: (env: FuzzEnv) => Promise<T>): (env: FuzzEnv) => Promise<T> {
  const made = new WeakMap<FuzzEnv, Promise<T>>();
  return (env) => {
    let found = made.get(env);
    if (found === undefined) {
      found = make(env);
      made.set(env, found);
    }
    return found;
  };
}

export const CLIENT_REQ = ISC_REQ.INTEGRITY | ISC_REQ.CONFIDENTIALITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONNECTION;
export const SERVER_REQ = ASC_REQ.INTEGRITY | ASC_REQ.CONFIDENTIALITY | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT | ASC_REQ.CONNECTION;

export function tokenBuffer(token: Uint8Array): SecBuffer[] {
  return [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }];
}

export function outputToken(result: ContextResult): Uint8Array | undefined {
  const token = tokenBytes(result.output);
  return token === undefined || token.byteLength === 0 ? undefined : token;
}

/** Deletes a context; anything but SEC_E_OK is a problem (it would leave a context behind). */
export async function dropContext(sspi: Secur32, context: CtxtHandle | undefined, problems: string[], what: string): Promise<void> {
  if (context === undefined) return;
  const deleted = await sspi.deleteSecurityContext(context);
  if (deleted.status !== SEC_E_OK) problems.push(`DeleteSecurityContext of ${what}: ${statusName(deleted.status)}`);
}

/** The first leg of a client: InitializeSecurityContext without a context. */
export async function firstClientLeg(env: FuzzEnv, contextReq = CLIENT_REQ, input: SecBuffer[] | null = null): Promise<ContextResult> {
  return env.sspi.initializeSecurityContext({ credential: env.clientCredential, contextReq, input, targetName: 'HTTP/fuzz.sspi-emu.local' });
}

/** Rounds (a client call and a server call) a handshake may take: more than NTLM's two and the example's two, for packages of more legs. */
const MAX_ROUNDS = 8;

export interface Pair {
  client: CtxtHandle;
  server: CtxtHandle;
  /** Every status of the handshake, in order. */
  statuses: Status[];
}

/** A complete handshake between a client and a server context of this process. */
export async function handshake(env: FuzzEnv, clientReq = CLIENT_REQ, serverReq = SERVER_REQ): Promise<Pair | { failed: string }> {
  const { sspi } = env;
  let client: CtxtHandle | undefined;
  let server: CtxtHandle | undefined;
  let input: SecBuffer[] | null = null;
  const statuses: Status[] = [];
  const fail = async (why: string) => {
    const problems: string[] = [];
    await dropContext(sspi, client, problems, 'a failed handshake client');
    await dropContext(sspi, server, problems, 'a failed handshake server');
    return { failed: [why, ...problems].join('; ') };
  };
  for (let leg = 0; leg < MAX_ROUNDS; leg++) {
    const c = await sspi.initializeSecurityContext({
      credential: env.clientCredential,
      context: client ?? null,
      contextReq: clientReq,
      input,
      targetName: 'HTTP/fuzz.sspi-emu.local',
    });
    statuses.push(c.status);
    client = c.context ?? client;
    if (c.status !== SEC_E_OK && statusName(c.status) !== 'SEC_I_CONTINUE_NEEDED') return fail(`InitializeSecurityContext: ${statusName(c.status)}`);
    const token = outputToken(c);
    if (token === undefined) return c.status === SEC_E_OK && server !== undefined ? { client: client!, server, statuses } : fail('no token to send');
    const s = await sspi.acceptSecurityContext({ credential: env.serverCredential, context: server ?? null, input: tokenBuffer(token), contextReq: serverReq });
    statuses.push(s.status);
    server = s.context ?? server;
    if (s.status !== SEC_E_OK && statusName(s.status) !== 'SEC_I_CONTINUE_NEEDED') return fail(`AcceptSecurityContext: ${statusName(s.status)}`);
    const reply = outputToken(s);
    if (s.status === SEC_E_OK && c.status === SEC_E_OK) return { client: client!, server: server!, statuses };
    if (s.status === SEC_E_OK && reply === undefined)
      return c.status === SEC_E_OK ? { client: client!, server: server!, statuses } : fail('server done, client not');
    input = reply === undefined ? null : tokenBuffer(reply);
  }
  return fail(`the handshake did not finish in ${MAX_ROUNDS} rounds`);
}

/** Acquires the run account's outbound credential and an inbound one, in the env's process. */
export async function acquireCredentials(
  sspi: Secur32,
  packageName: string,
  account: FuzzEnv['account'],
): Promise<{ clientCredential: CredHandle; serverCredential: CredHandle } | { failed: string }> {
  const out = await sspi.acquireCredentialsHandle({
    package: packageName,
    credentialUse: SECPKG_CRED.OUTBOUND,
    authData: { User: account.user, Domain: account.domain, Password: account.password },
  });
  const inb = await sspi.acquireCredentialsHandle({ package: packageName, credentialUse: SECPKG_CRED.INBOUND });
  if (out.credential === undefined || inb.credential === undefined)
    return { failed: `AcquireCredentialsHandle: ${statusName(out.status)} / ${statusName(inb.status)}` };
  return { clientCredential: out.credential, serverCredential: inb.credential };
}

// ---------------------------------------------------------------------------------------------
// Hostile input buffer lists: where the token travels, not what it says

/** BufferType values beyond the named ones: attribute bits, unknown types, numbers no C caller could pass. */
const ODD_TYPES: readonly number[] = [
  SECBUFFER.EMPTY,
  SECBUFFER.DATA,
  SECBUFFER.PADDING,
  SECBUFFER.STREAM,
  SECBUFFER.EXTRA,
  SECBUFFER.MISSING,
  SECBUFFER.PKG_PARAMS,
  0x7fff,
  0x0fffffff,
  0xffffffff,
  SECBUFFER.TOKEN | SECBUFFER_READONLY,
  SECBUFFER.TOKEN | SECBUFFER_READONLY_WITH_CHECKSUM,
  SECBUFFER.TOKEN | 0x40000000,
  -1,
  2.5,
  Number.NaN,
  2 ** 32 + SECBUFFER.TOKEN,
];

/** The token in a buffer of its own memory, or as a view into a larger ArrayBuffer, or in shared memory. */
export function placed(rng: Rng, token: Uint8Array): { bytes: Uint8Array; how: string } {
  const how = rng.weighted<'own' | 'view' | 'shared'>([
    [8, 'own'],
    [2, 'view'],
    [1, 'shared'],
  ]);
  if (how === 'own') return { bytes: token, how };
  if (how === 'view') {
    const before = rng.range(1, 37);
    const backing = new Uint8Array(before + token.length + rng.range(0, 64)).fill(0xa5);
    backing.set(token, before);
    return { bytes: backing.subarray(before, before + token.length), how: `view at ${before} of a ${backing.length}-byte buffer` };
  }
  const shared = new Uint8Array(new SharedArrayBuffer(token.length));
  shared.set(token);
  return { bytes: shared, how: 'in a SharedArrayBuffer' };
}

/**
 * The input SecBufferDesc for a token: usually [TOKEN], sometimes without a TOKEN, with attribute
 * bits, with a decoy TOKEN first, with extra buffers, with too many buffers, or with channel
 * bindings (`bindings` gives well-formed or malformed SEC_CHANNEL_BINDINGS).
 */
export function inputList(rng: Rng, token: Uint8Array, bindings: () => Uint8Array): { buffers: SecBuffer[]; how: string } {
  const { bytes, how: placement } = placed(rng, token);
  const shape = rng.weighted<string>([
    [30, 'token'],
    [2, 'none'],
    [2, 'odd-type'],
    [2, 'decoy-first'],
    [2, 'extra'],
    [2, 'bindings'],
    [1, 'too-many'],
    [1, 'empty-list'],
  ]);
  const token0: SecBuffer = { BufferType: SECBUFFER.TOKEN, pvBuffer: bytes };
  let buffers: SecBuffer[];
  switch (shape) {
    case 'none':
      buffers = [{ BufferType: SECBUFFER.EMPTY, pvBuffer: bytes }];
      break;
    case 'odd-type':
      buffers = [{ BufferType: rng.pick(ODD_TYPES), pvBuffer: bytes }];
      break;
    case 'decoy-first':
      buffers = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: rng.bytes(rng.length(64)) }, token0];
      break;
    case 'extra':
      buffers = [token0];
      for (let i = rng.range(1, 4); i > 0; i--)
        buffers.splice(rng.int(buffers.length + 1), 0, { BufferType: rng.pick(ODD_TYPES), pvBuffer: rng.bytes(rng.length(32)) });
      break;
    case 'bindings':
      buffers = rng.chance(0.5)
        ? [token0, { BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: bindings() }]
        : [{ BufferType: SECBUFFER.CHANNEL_BINDINGS, pvBuffer: bindings() }, token0];
      break;
    case 'too-many':
      buffers = [token0, ...Array.from({ length: 16 }, () => ({ BufferType: SECBUFFER.EMPTY, pvBuffer: new Uint8Array(0) }))];
      break;
    case 'empty-list':
      buffers = [];
      break;
    default:
      buffers = [token0];
  }
  return { buffers, how: shape === 'token' && placement === 'own' ? '' : ` [input: ${shape}${placement === 'own' ? '' : ', token ' + placement}]` };
}

/** Output buffer types: usually one TOKEN; sometimes none, the wrong type, or two. */
export function outputList(rng: Rng): { types: number[]; how: string } {
  const shape = rng.weighted<string>([
    [40, 'token'],
    [1, 'none'],
    [1, 'empty'],
    [1, 'two'],
    [1, 'readonly'],
  ]);
  switch (shape) {
    case 'none':
      return { types: [], how: ' [output: none]' };
    case 'empty':
      return { types: [SECBUFFER.EMPTY], how: ' [output: EMPTY]' };
    case 'two':
      return { types: [SECBUFFER.TOKEN, SECBUFFER.TOKEN], how: ' [output: two TOKENs]' };
    case 'readonly':
      return { types: [SECBUFFER.TOKEN | SECBUFFER_READONLY], how: ' [output: READONLY TOKEN]' };
    default:
      return { types: [SECBUFFER.TOKEN], how: '' };
  }
}
