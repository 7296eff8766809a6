// Feeding a token variant to the handshake leg that reads it, the same way for every package's
// generators: the call around the token gets a random shape (where the token sits among other
// buffers, which output buffers are offered, now and then odd ISC/ASC_REQ flags), the hostile bytes
// are recorded before they are sent, the answer is judged against the variant's expected status
// when the call was otherwise ordinary, and the context is deleted afterwards.

import { SEC_I_CONTINUE_NEEDED, type SecBuffer, type Status } from '../headers/index.js';
import type { ContextResult, CtxtHandle } from '../sspi/index.js';
import {
  CLIENT_REQ,
  dropContext,
  inputList,
  oncePerEnv,
  outputList,
  outputToken,
  SERVER_REQ,
  type FuzzEnv,
  type GeneratorInstance,
  type GeneratorSpec,
  type Trial,
} from './generator.js';
import type { Rng } from './rng.js';

/** One hostile token and what the package must answer to it, when that is known. */
export interface TokenVariant {
  bytes: Uint8Array;
  mutation: string;
  strategy: string;
  expected?: Status;
}

export type HandshakeFunction = 'AcceptSecurityContext' | 'InitializeSecurityContext';

export interface Leg {
  fn: HandshakeFunction;
  /** The context whose peer this token answers; none for a first call. */
  context?: CtxtHandle;
  /** What the token is, for the violation text ("the ClientHello"). */
  what: string;
  /** A SEC_CHANNEL_BINDINGS for when the shape puts one in the input list. */
  bindings: () => Uint8Array;
  /** Something else unusual about this call (appended to the mutation): the expectation is then not checked. */
  note?: string;
}

/** The buffer and output shapes around a token, and the call's ISC/ASC_REQ flags. */
export function callShape(
  rng: Rng,
  token: Uint8Array,
  defaultReq: number,
  bindings: () => Uint8Array,
): { input: SecBuffer[]; outputTypes: number[]; contextReq: number; how: string } {
  const { buffers, how: inputHow } = inputList(rng, token, bindings);
  const { types, how: outputHow } = outputList(rng);
  const odd = rng.chance(0.05);
  const contextReq = odd ? rng.next() : defaultReq;
  return { input: buffers, outputTypes: types, contextReq, how: `${inputHow}${outputHow}${odd ? ` [contextReq 0x${contextReq.toString(16)}]` : ''}` };
}

/** Sends `variant` to its leg, judges the answer, and deletes the context the leg worked on. Answers the ISC/ASC_REQ flags the call was made with. */
export async function feedVariant(env: FuzzEnv, rng: Rng, trial: Trial, leg: Leg, variant: TokenVariant): Promise<number> {
  const server = leg.fn === 'AcceptSecurityContext';
  const shape = callShape(rng, variant.bytes, server ? SERVER_REQ : CLIENT_REQ, leg.bindings);
  trial.hostile(variant.strategy, variant.bytes, variant.mutation + shape.how + (leg.note ?? ''));
  const call = { context: leg.context ?? null, input: shape.input, contextReq: shape.contextReq, outputTypes: shape.outputTypes };
  const result = server
    ? await env.sspi.acceptSecurityContext({ credential: env.serverCredential, ...call })
    : await env.sspi.initializeSecurityContext({ credential: env.clientCredential, targetName: 'HTTP/fuzz.sspi-emu.local', ...call });
  const status = trial.answer(leg.fn, result);
  if (variant.expected !== undefined && shape.how === '' && leg.note === undefined) trial.expectStatus(status, variant.expected, leg.what);
  await dropContext(env.sspi, leg.context ?? result.context, trial.violations, server ? 'the server context' : 'the client context');
  return shape.contextReq;
}

/**
 * Checks the first leg that sets up the one under test: it must continue with a context and its
 * output token. Returns both, or undefined after recording the failed setup (and deleting what it
 * made).
 */
export async function firstLeg(
  env: FuzzEnv,
  trial: Trial,
  fn: HandshakeFunction,
  first: ContextResult,
  input: Uint8Array,
  what: string,
): Promise<{ context: CtxtHandle; token: Uint8Array } | undefined> {
  const token = outputToken(first);
  if (first.status === SEC_I_CONTINUE_NEEDED && first.context !== undefined && token !== undefined) return { context: first.context, token };
  trial.hostile('setup', input, what);
  trial.record(fn, first);
  trial.expectStatus(first.status, SEC_I_CONTINUE_NEEDED, `the first ${fn}`);
  await dropContext(env.sspi, first.context, trial.violations, fn === 'AcceptSecurityContext' ? 'the server context' : 'the client context');
  return undefined;
}

/** One token generator of a package: the leg it feeds, and one input's run given the capture. */
export interface TokenGeneratorSpec<Base> {
  name: string;
  fn: HandshakeFunction;
  describe: string;
  run(env: FuzzEnv, base: Base, rng: Rng, trial: Trial): Promise<void>;
}

/**
 * A package's token generators. `capture` (real messages of a handshake in this batch's process)
 * runs once per batch and every generator of the package starts from it; they keep nothing
 * between inputs (each deletes its own contexts), so closing them has nothing to do.
 */
export function tokenGenerators<Base>(
  packageKey: GeneratorSpec['packageKey'],
  capture: (env: FuzzEnv) => Promise<Base>,
  specs: readonly TokenGeneratorSpec<Base>[],
): GeneratorSpec[] {
  const captured = oncePerEnv(capture);
  return specs.map((spec) => ({
    name: spec.name,
    packageKey,
    target: 'tokens',
    fn: spec.fn,
    describe: spec.describe,
    create: async (env: FuzzEnv): Promise<GeneratorInstance> => {
      const base = await captured(env);
      return { run: (rng, _lane, trial) => spec.run(env, base, rng, trial), close: () => Promise.resolve([]) };
    },
  }));
}
