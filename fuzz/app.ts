// The fuzzer's application module, run inside an app process by the machine (proc.runApp): it
// acquires the run account's credentials in this process, then for each job runs `count` inputs
// of one generator, from input index `start`, on `lanes` lanes at once (lane k takes the indices
// congruent to k, in order, so every input sees the same history whatever the timing). Each input
// is generated here from its own seed and crosses into the LSA through this process's SSPI
// library like any application's call. It answers with a tally per generator: the answers by
// status name, and the first input of each kind of offence (an exception, SEC_E_INTERNAL_ERROR,
// an undocumented status, a broken expectation, a context that would not delete).

import { SEC_E_INTERNAL_ERROR, SEC_E_OK, statusName } from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import type { AppArgs, AppContext, AppResult } from '../process/index.js';
import { toHex } from './bytes.js';
import { acquireCredentials, Trial, type FuzzEnv, type GeneratorInstance } from './generator.js';
import { generatorByName } from './generators.js';
import type { FuzzKdc } from './kerberos-domain.js';
import type { RogueKdcAddress } from './kerberos-rogue-kdc.js';
import { inputSeed, Rng } from './rng.js';
import { isDocumentedAnswer, type FuzzedFunction } from './statuses.js';

export interface BatchJob {
  generator: string;
  start: number;
  count: number;
}

export interface BatchPlan {
  /** The package's SecPkgInfo Name. */
  packageName: string;
  seed: number;
  lanes: number;
  account: { user: string; domain: string; password: string };
  jobs: BatchJob[];
  /** The domain controller's KDC, when the package fuzzed is Kerberos. */
  kdc?: FuzzKdc;
  /** The rogue KDC of kerberos/kdc-reply, when the run has one. */
  rogueKdc?: RogueKdcAddress;
}

export type OffenceKind = 'exception' | 'internal-error' | 'undocumented' | 'expectation' | 'cleanup';

/** One offending input, with what it takes to replay it. */
export interface Offender {
  kind: OffenceKind;
  generator: string;
  /** The input's index in its generator; -1 for a problem outside any input (setup, cleanup). */
  index: number;
  seed: number;
  inputSeed: number;
  strategy: string;
  mutation: string;
  /** The hostile bytes in hex (the first 4096 bytes of a longer input). */
  inputHex: string;
  inputBytes: number;
  detail: string;
}

export interface GeneratorTally {
  generator: string;
  fn: FuzzedFunction | 'KDC';
  inputs: number;
  /** Answers to the hostile call, by status name. */
  statuses: Record<string, number>;
  /** Inputs by strategy, for coverage. */
  strategies: Record<string, number>;
  exceptions: number;
  internalErrors: number;
  undocumented: number;
  expectations: number;
  cleanup: number;
  /** The first offender of each kind. */
  offenders: Offender[];
}

const MAX_HEX_BYTES = 4096;

export function emptyTally(generator: string, fn: FuzzedFunction | 'KDC'): GeneratorTally {
  return {
    generator,
    fn,
    inputs: 0,
    statuses: {},
    strategies: {},
    exceptions: 0,
    internalErrors: 0,
    undocumented: 0,
    expectations: 0,
    cleanup: 0,
    offenders: [],
  };
}

function offend(tally: GeneratorTally, offender: Offender): void {
  if (!tally.offenders.some((o) => o.kind === offender.kind)) tally.offenders.push(offender);
}

function offender(kind: OffenceKind, plan: BatchPlan, generator: string, index: number, trial: Trial | undefined, detail: string): Offender {
  const input = trial?.input ?? new Uint8Array(0);
  return {
    kind,
    generator,
    index,
    seed: plan.seed,
    inputSeed: index < 0 ? 0 : inputSeed(plan.seed, generator, index),
    strategy: trial?.strategy ?? '',
    mutation: trial?.mutation ?? '',
    inputHex: toHex(input.subarray(0, MAX_HEX_BYTES)),
    inputBytes: input.length,
    detail,
  };
}

/** Checks one finished (or thrown) input against the invariants and counts it. */
function judge(plan: BatchPlan, tally: GeneratorTally, index: number, trial: Trial, thrown: unknown): void {
  tally.inputs++;
  tally.strategies[trial.strategy || 'setup'] = (tally.strategies[trial.strategy || 'setup'] ?? 0) + 1;
  const answer = trial.outcome ?? (trial.judged === undefined ? '(no answer: setup failed)' : statusName(trial.judged.status));
  tally.statuses[answer] = (tally.statuses[answer] ?? 0) + 1;
  if (thrown !== undefined) {
    tally.exceptions++;
    offend(tally, offender('exception', plan, tally.generator, index, trial, `unhandled exception: ${describeError(thrown)}`));
  }
  for (const call of trial.calls) {
    if (call.status === SEC_E_INTERNAL_ERROR) {
      tally.internalErrors++;
      offend(
        tally,
        offender(
          'internal-error',
          plan,
          tally.generator,
          index,
          trial,
          `${call.fn} answered SEC_E_INTERNAL_ERROR${call.cause === undefined ? '' : `: ${call.cause}`}`,
        ),
      );
    } else if (!isDocumentedAnswer(call.fn, call.status, plan.packageName)) {
      tally.undocumented++;
      offend(
        tally,
        offender('undocumented', plan, tally.generator, index, trial, `${call.fn} answered ${statusName(call.status)}, which it does not document`),
      );
    }
  }
  if (trial.violations.length > 0) {
    tally.expectations++;
    offend(tally, offender('expectation', plan, tally.generator, index, trial, trial.violations.join('; ')));
  }
}

/** Set once a call got no answer at all: the LSA's thread is held, and every later input would wait out the LPC deadline too. */
interface RunState {
  unanswered: boolean;
}

/**
 * The process's SSPI as the generators get it: every call's answer is looked at for a failure of
 * the LPC deadline itself (a TransportError TIMEOUT as its cause: the LSA did not answer at all,
 * where a package that merely never returns is answered for by the LSA's own deadline), which
 * stops the run, whichever generator or setup step made the call.
 */
function watchingForNoAnswer(sspi: FuzzEnv['sspi'], state: RunState): FuzzEnv['sspi'] {
  const noAnswer = (result: unknown): boolean => {
    const cause = (result as { cause?: { name?: unknown; code?: unknown } } | null)?.cause;
    return cause?.name === 'TransportError' && cause.code === 'TIMEOUT';
  };
  return new Proxy(sspi, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const answer: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(answer instanceof Promise)) return answer;
        return answer.then((result: unknown) => {
          if (noAnswer(result)) state.unanswered = true;
          return result;
        });
      };
    },
  });
}

async function runJob(plan: BatchPlan, env: FuzzEnv, job: BatchJob, state: RunState): Promise<GeneratorTally> {
  const spec = generatorByName(job.generator);
  if (spec === undefined) throw new Error(`no fuzz generator ${JSON.stringify(job.generator)}`);
  const tally = emptyTally(spec.name, spec.fn);
  if (state.unanswered) return tally;
  let instance: GeneratorInstance;
  try {
    instance = await spec.create(env);
  } catch (error) {
    tally.exceptions++;
    offend(tally, offender('exception', plan, spec.name, -1, undefined, `the generator could not start: ${describeError(error)}`));
    return tally;
  }
  const end = job.start + job.count;
  const lanes = Array.from({ length: Math.max(1, plan.lanes) }, async (_, lane) => {
    for (let index = job.start + lane; index < end && !state.unanswered; index += plan.lanes) {
      const trial = new Trial();
      let thrown: unknown;
      try {
        await instance.run(new Rng(inputSeed(plan.seed, spec.name, index)), lane, trial, index);
      } catch (error) {
        thrown = error ?? new Error('undefined was thrown');
      }
      judge(plan, tally, index, trial, thrown);
    }
  });
  await Promise.all(lanes);
  // With the LSA held, closing the generator's contexts would wait out the deadline once more each.
  if (state.unanswered) return tally;
  for (const problem of await instance.close()) {
    tally.cleanup++;
    offend(tally, offender('cleanup', plan, spec.name, -1, undefined, problem));
  }
  return tally;
}

export async function main(ctx: AppContext, args: AppArgs): Promise<AppResult> {
  const plan = args as unknown as BatchPlan;
  const packageName = plan.packageName;
  const acquired = await acquireCredentials(ctx.sspi, packageName, plan.account);
  if ('failed' in acquired) return { status: SEC_E_INTERNAL_ERROR, statusName: 'SEC_E_INTERNAL_ERROR', detail: acquired.failed };
  const state: RunState = { unanswered: false };
  const env: FuzzEnv = {
    sspi: watchingForNoAnswer(ctx.sspi, state),
    packageName,
    account: plan.account,
    lanes: Math.max(1, plan.lanes),
    ...acquired,
    ...(plan.kdc === undefined ? {} : { kdc: plan.kdc }),
    ...(plan.rogueKdc === undefined ? {} : { rogueKdc: plan.rogueKdc }),
  };
  const tallies: GeneratorTally[] = [];
  try {
    for (const job of plan.jobs) if (!state.unanswered) tallies.push(await runJob(plan, env, job, state));
  } finally {
    for (const credential of state.unanswered ? [] : [acquired.clientCredential, acquired.serverCredential]) {
      const freed = await ctx.sspi.freeCredentialsHandle(credential);
      const first = tallies[0];
      if (freed.status !== SEC_E_OK && first !== undefined) {
        first.cleanup++;
        offend(first, offender('cleanup', plan, first.generator, -1, undefined, `FreeCredentialsHandle: ${statusName(freed.status)}`));
      }
    }
  }
  return { status: SEC_E_OK, statusName: 'SEC_E_OK', data: { tallies, ...(state.unanswered ? { lsaUnanswered: true } : {}) } };
}
