// Token generators for any package, one the fuzzer has never seen (`sspi-emu fuzz --load`), and for
// the built-in ones with --generic:
//
//   generic/accept-token      hostile tokens to AcceptSecurityContext, at each leg of the server
//   generic/initialize-token  hostile tokens to InitializeSecurityContext, at each leg of the client
//                             after the first (and now and then to the first, where none is expected)
//
// Each batch first captures a live handshake of the package in its process (every call, every
// token, both directions). Each input then drives a new handshake with real tokens up to the leg it
// tests, so that the context there is in the state a real peer brings it to, and sends that leg a
// variant of the token it was about to receive (fuzz/mutator.ts: a systematic sweep first, random
// strategies after), in one of the call shapes the other generators use (where the token travels).
//
// What the package must do, besides the invariants of every generator (documented statuses, no
// SEC_E_INTERNAL_ERROR, no exception): answer the live token, unchanged, as it did in the capture;
// and when it accepts an altered token that completes its side (SEC_E_OK), the two contexts the
// handshake then makes must exchange a message (sealed, or signed, as the package claims): an
// alteration the package ignores is no fault, one that leaves the two sides disagreeing is.

import { SECBUFFER, SECPKG_ATTR, SECPKG_FLAG, type SecBuffer, SEC_E_OK, statusName, isSuccess, type Status } from '../headers/index.js';
import { packSecChannelBindings } from '../packages/ntlm/wire.js';
import type { ContextResult, CtxtHandle } from '../sspi/index.js';
import {
  CLIENT_REQ,
  dropContext,
  oncePerEnv,
  outputToken,
  SERVER_REQ,
  tokenBuffer,
  type FuzzEnv,
  type GeneratorInstance,
  type GeneratorSpec,
  type Trial,
} from './generator.js';
import { mutate, sweepItem, sweepLength, type Corpus, type Variant } from './mutator.js';
import type { Rng } from './rng.js';
import { callShape, type HandshakeFunction } from './token-leg.js';

/** One call of the captured handshake. */
interface CapturedCall {
  fn: HandshakeFunction;
  /** The token it received (none for the client's first call). */
  input: Uint8Array | undefined;
  status: Status;
}

interface Capture {
  calls: CapturedCall[];
  corpus: Corpus;
  /** SecPkgInfo fCapabilities: which messages the package claims it can protect. */
  capabilities: number;
}

/** Calls a handshake may take before the fuzzer gives up on it (the check suite allows 10 tokens). */
const MAX_CALLS = 20;

/** A handshake between a client and a server context of the batch's process, one call at a time. */
class LiveHandshake {
  client: CtxtHandle | undefined;
  server: CtxtHandle | undefined;
  clientDone = false;
  serverDone = false;
  /** The token the next call receives. */
  pending: Uint8Array | undefined;
  /** How many calls were made: the next one is the client's when even. */
  calls = 0;
  failed = false;

  private readonly env: FuzzEnv;

  constructor(env: FuzzEnv) {
    this.env = env;
  }

  get next(): HandshakeFunction {
    return this.calls % 2 === 0 ? 'InitializeSecurityContext' : 'AcceptSecurityContext';
  }

  /** Both sides answered SEC_E_OK and no token is left to deliver. */
  get done(): boolean {
    return this.clientDone && this.serverDone && this.pending === undefined;
  }

  /** The next call, with the pending token (or `shape` in its place: a hostile input). */
  async step(shape?: { input: SecBuffer[] | null; contextReq: number; outputTypes: number[] }): Promise<ContextResult> {
    const fn = this.next;
    const input = shape !== undefined ? shape.input : this.pending === undefined ? null : tokenBuffer(this.pending);
    const extra = shape === undefined ? {} : { outputTypes: shape.outputTypes };
    const result =
      fn === 'InitializeSecurityContext'
        ? await this.env.sspi.initializeSecurityContext({
            credential: this.env.clientCredential,
            context: this.client ?? null,
            contextReq: shape?.contextReq ?? CLIENT_REQ,
            input,
            targetName: 'HTTP/fuzz.sspi-emu.local',
            ...extra,
          })
        : await this.env.sspi.acceptSecurityContext({
            credential: this.env.serverCredential,
            context: this.server ?? null,
            input: input ?? [],
            contextReq: shape?.contextReq ?? SERVER_REQ,
            ...extra,
          });
    this.calls++;
    if (fn === 'InitializeSecurityContext') this.client = result.context ?? this.client;
    else this.server = result.context ?? this.server;
    const ok = result.status === SEC_E_OK;
    if (!isSuccess(result.status)) this.failed = true;
    if (fn === 'InitializeSecurityContext') this.clientDone = ok;
    else this.serverDone = ok;
    this.pending = outputToken(result);
    return result;
  }

  /** Deletes both contexts; a delete that fails is a problem. */
  async close(problems: string[]): Promise<void> {
    await dropContext(this.env.sspi, this.client, problems, 'the client context');
    await dropContext(this.env.sspi, this.server, problems, 'the server context');
    this.client = this.server = undefined;
  }
}

/** A live handshake of the package with the run's account, call by call: what each call received and answered. */
async function capture(env: FuzzEnv): Promise<Capture> {
  const info = await env.sspi.querySecurityPackageInfo(env.packageName);
  if (info.info === undefined) throw new Error(`QuerySecurityPackageInfo(${env.packageName}) answered ${statusName(info.status)}`);
  const live = new LiveHandshake(env);
  const calls: CapturedCall[] = [];
  const tokens: Uint8Array[] = [];
  const problems: string[] = [];
  try {
    while (!live.done && live.calls < MAX_CALLS) {
      const fn = live.next;
      const input = live.pending;
      const result = await live.step();
      calls.push({ fn, input, status: result.status });
      if (live.pending !== undefined) tokens.push(live.pending);
      if (live.failed) throw new Error(`the captured handshake failed: ${fn} answered ${statusName(result.status)} at call ${calls.length}`);
      // One side done and nothing to send: the other cannot go on.
      if (live.pending === undefined && !live.done)
        throw new Error(`the captured handshake stopped at call ${calls.length}: ${fn} sent no token and the handshake is not complete`);
    }
    if (!live.done) throw new Error(`the captured handshake did not complete in ${MAX_CALLS} calls`);
  } finally {
    await live.close(problems);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return { calls, corpus: { tokens, maxToken: Math.max(1, info.info.cbMaxToken) }, capabilities: info.info.fCapabilities };
}

/** SEC_CHANNEL_BINDINGS for the call shapes that carry one: well-formed (made as NTLM reads them) or random bytes. */
function bindings(rng: Rng): () => Uint8Array {
  return () =>
    rng.chance(0.5)
      ? packSecChannelBindings({
          initiatorAddrType: 0,
          initiatorAddress: new Uint8Array(0),
          acceptorAddrType: 0,
          acceptorAddress: new Uint8Array(0),
          applicationData: rng.bytes(rng.range(1, 64)),
        })
      : rng.bytes(rng.length(64));
}

/**
 * A message each way between two complete contexts, sealed when the package claims
 * confidentiality, signed when only integrity: 'SEC_E_OK', or what went wrong.
 */
async function exchange(env: FuzzEnv, live: LiveHandshake, capabilities: number, trial: Trial): Promise<string> {
  const seal = (capabilities & SECPKG_FLAG.PRIVACY) !== 0;
  if (!seal && (capabilities & SECPKG_FLAG.INTEGRITY) === 0) return 'SEC_E_OK';
  const pairs: Array<[CtxtHandle, CtxtHandle, string]> = [
    [live.client!, live.server!, 'client to server'],
    [live.server!, live.client!, 'server to client'],
  ];
  for (const [from, to, way] of pairs) {
    // The room SIZES gives for the trailer or the signature (64 bytes from a package that does not say).
    const sizes = await env.sspi.queryContextAttributes(from, SECPKG_ATTR.SIZES);
    const asked = seal ? sizes.buffer?.cbSecurityTrailer : sizes.buffer?.cbMaxSignature;
    const room = sizes.status === SEC_E_OK && typeof asked === 'number' ? asked : 64;
    const plain = Uint8Array.from(Buffer.from(`after an altered token, ${way}`));
    const token: SecBuffer = { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(room) };
    const data: SecBuffer = { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(plain) };
    const sent = seal ? await env.sspi.encryptMessage(from, 0, [token, data], 0) : await env.sspi.makeSignature(from, 0, [data, token], 0);
    trial.record(seal ? 'EncryptMessage' : 'MakeSignature', sent);
    if (sent.status !== SEC_E_OK) return `${seal ? 'EncryptMessage' : 'MakeSignature'} ${way}: ${statusName(sent.status)}`;
    const got = seal ? await env.sspi.decryptMessage(to, sent.message, 0) : await env.sspi.verifySignature(to, sent.message, 0);
    trial.record(seal ? 'DecryptMessage' : 'VerifySignature', got);
    if (got.status !== SEC_E_OK) return `${seal ? 'DecryptMessage' : 'VerifySignature'} ${way}: ${statusName(got.status)}`;
  }
  return 'SEC_E_OK';
}

/** The positions (in the handshake's order of calls) where `fn` receives a token. */
function receivingLegs(base: Capture, fn: HandshakeFunction): number[] {
  return base.calls.flatMap((call, at) => (call.fn === fn && call.input !== undefined ? [at] : []));
}

/** One input: a live handshake up to the leg under test, then a variant of the token that leg was about to receive. */
async function tokenInput(env: FuzzEnv, base: Capture, fn: HandshakeFunction, rng: Rng, index: number, trial: Trial): Promise<void> {
  const legs = receivingLegs(base, fn);
  const lengths = legs.map((at) => base.calls[at]!.input!.length);
  const swept = index < sweepLength(lengths) ? sweepItem(index, lengths) : undefined;
  // A client's first call receives no token: sending it one is the wrong leg (now and then, in the random phase).
  const first = fn === 'InitializeSecurityContext' && swept === undefined && (legs.length === 0 || rng.chance(0.1));
  const at = swept !== undefined ? legs[swept.leg]! : first ? 0 : rng.pick(legs);
  const live = new LiveHandshake(env);
  try {
    while (live.calls < at) {
      const step = live.next;
      const result = await live.step();
      trial.record(step, result);
      const expected = base.calls[live.calls - 1]!.status;
      if (result.status !== expected || (live.pending === undefined && live.calls < at)) {
        trial.hostile('setup', live.pending ?? new Uint8Array(0), `the live handshake to leg ${at + 1}`);
        trial.expectStatus(result.status, expected, `${step} at call ${live.calls} of a live handshake (as in the captured one)`);
        if (result.status === expected) trial.violations.push(`${step} at call ${live.calls} sent no token, where the captured handshake went on`);
        return;
      }
    }
    const token = first ? rng.pick(base.corpus.tokens) : live.pending!;
    const variant: Variant = swept !== undefined ? swept.apply(token) : mutate(rng, token, base.corpus);
    const shape = callShape(rng, variant.bytes, fn === 'AcceptSecurityContext' ? SERVER_REQ : CLIENT_REQ, bindings(rng));
    const where = `; to ${fn} at call ${at + 1} of ${base.calls.length}${first ? ' (the first, where no token is expected)' : ''}`;
    trial.hostile(variant.strategy, variant.bytes, variant.mutation + where + shape.how);
    const result = await live.step(shape);
    const status = trial.answer(fn, result);
    const ordinary = shape.how === '';
    if (variant.unchanged === true && ordinary && !first) trial.expectStatus(status, base.calls[at]!.status, `the live token at call ${at + 1}, unchanged`);
    if (status === SEC_E_OK && variant.unchanged !== true && ordinary) await afterAcceptance(env, base, live, variant, trial);
  } finally {
    await live.close(trial.violations);
  }
}

/**
 * An altered token the package accepted with SEC_E_OK: the handshake goes on with real tokens to
 * its end, and the two contexts must then exchange a message each way.
 */
async function afterAcceptance(env: FuzzEnv, base: Capture, live: LiveHandshake, variant: Variant, trial: Trial): Promise<void> {
  while (!live.done && !live.failed && live.pending !== undefined && live.calls < MAX_CALLS) {
    const step = live.next;
    trial.record(step, await live.step());
  }
  // A peer that refused what came after is the handshake failing late: no two contexts to compare.
  if (!live.done || live.client === undefined || live.server === undefined) return;
  const exchanged = await exchange(env, live, base.capabilities, trial);
  trial.expect(
    exchanged === 'SEC_E_OK',
    `an altered token was accepted (${variant.mutation}) and the two contexts of the handshake then disagree: ${exchanged}`,
  );
}

const captured = oncePerEnv(capture);

function tokenGenerator(name: string, fn: HandshakeFunction, describe: string): GeneratorSpec {
  return {
    name,
    packageKey: 'generic',
    target: 'tokens',
    fn,
    describe,
    create: async (env: FuzzEnv): Promise<GeneratorInstance> => {
      const base = await captured(env);
      return { run: (rng, _lane, trial, index) => tokenInput(env, base, fn, rng, index, trial), close: () => Promise.resolve([]) };
    },
  };
}

export const GENERIC_TOKEN_GENERATORS: readonly GeneratorSpec[] = [
  tokenGenerator(
    'generic/accept-token',
    'AcceptSecurityContext',
    "variants of the package's own tokens (a sweep, then random strategies) to AcceptSecurityContext at each leg of a live handshake",
  ),
  tokenGenerator(
    'generic/initialize-token',
    'InitializeSecurityContext',
    "variants of the package's own tokens to InitializeSecurityContext at each leg after the first (and to the first)",
  ),
];
