// The fuzzer's main-thread side: for each package it boots a machine (the LSA with example and
// NTLM, NTLM with a fixed challenge and clock so captured messages stay valid), spawns one app
// process, and runs the fuzz application (fuzz/app.ts) in it batch by batch. Around the run it
// checks what no single input can: that no worker died or reported an uncaught error, that no
// batch hung, that the LSA still completes a good handshake between two fresh processes, that
// the LSA holds as many contexts, credentials and logon sessions as before, and that its heap
// (after a full garbage collection) is flat between the end of the warm-up and the end of the run.

import { fileURLToPath } from 'node:url';
import { ISC_REQ, ASC_REQ, SECBUFFER, SECPKG_CRED, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName } from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import { Machine, type AppProcess, type LsaIsolation } from '../machine/index.js';
import type { CtxtHandle } from '../sspi/index.js';
import { emptyTally, type BatchJob, type BatchPlan, type GeneratorTally, type Offender } from './app.js';
import { generatorByName, generatorsFor, SSPI_PACKAGE_NAME, type FuzzPackage, type FuzzTarget } from './generators.js';
import { NTLM_FUZZ_SETTINGS } from './ntlm.js';

export interface FuzzOptions {
  packages: readonly FuzzPackage[];
  /** Inputs per package, shared out evenly over its generators. */
  iterations: number;
  seed: number;
  targets: readonly FuzzTarget[];
  /** Only these generators (by name). */
  generators?: readonly string[];
  /** The first input index of every generator (for replaying one input). */
  start?: number;
  /** Inputs in flight at once in the app process. */
  lanes?: number;
  /** Inputs per generator per runApp call. */
  batchSize?: number;
  /** How much the LSA heap may grow between the warm-up and the end before it counts as growth. */
  heapToleranceBytes?: number;
  /** A batch that has not answered after this long is a hang. */
  batchTimeoutMs?: number;
  onProgress?: (event: { packageKey: FuzzPackage; done: number; total: number }) => void;
  /** Where the LSA runs (MachineOptions.lsaIsolation); default a worker thread. */
  lsaIsolation?: LsaIsolation;
}

export interface HeapFigures {
  bootBytes: number;
  warmBytes: number;
  afterBytes: number;
  growthBytes: number;
  toleranceBytes: number;
  flat: boolean;
}

export interface PackageFuzzReport {
  packageKey: FuzzPackage;
  inputs: number;
  durationMs: number;
  generators: GeneratorTally[];
  /** Uncaught errors of workers ('error' events) and app exceptions, with the per-input ones in the tallies. */
  crashes: string[];
  hangs: number;
  lsaAlive: boolean;
  /** The status of a handshake between two fresh processes after the run, with a sealed message. */
  goodHandshake: string;
  lsa: {
    /** `nested`: handles packages hold of other packages (Negotiate's NTLM credentials and contexts). */
    before: { contexts: number; credentials: number; logonSessions: number; nested: number };
    after: { contexts: number; credentials: number; logonSessions: number; nested: number };
  };
  heap: HeapFigures;
  /** Every invariant held for this package. */
  ok: boolean;
}

export interface FuzzReport {
  seed: number;
  iterations: number;
  targets: FuzzTarget[];
  lanes: number;
  packages: PackageFuzzReport[];
  ok: boolean;
  /** The first offending input, and the command that replays it. */
  firstOffender?: Offender & { replay: string };
}

const ACCOUNT = { user: 'alice', domain: '', password: 'Passw0rd!' };
const APP = fileURLToPath(new URL('./app.js', import.meta.url));
const DEFAULTS = { lanes: 16, batchSize: 2500, heapToleranceBytes: 1 << 20, batchTimeoutMs: 300_000 };

/** The invariant figures of a tally: all must be zero. */
export function offences(t: GeneratorTally): number {
  return t.exceptions + t.internalErrors + t.undocumented + t.expectations + t.cleanup;
}

function mergeTally(into: GeneratorTally, from: GeneratorTally): void {
  into.inputs += from.inputs;
  for (const [k, v] of Object.entries(from.statuses)) into.statuses[k] = (into.statuses[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.strategies)) into.strategies[k] = (into.strategies[k] ?? 0) + v;
  into.exceptions += from.exceptions;
  into.internalErrors += from.internalErrors;
  into.undocumented += from.undocumented;
  into.expectations += from.expectations;
  into.cleanup += from.cleanup;
  for (const o of from.offenders) if (!into.offenders.some((x) => x.kind === o.kind)) into.offenders.push(o);
}

/** Splits `total` inputs over `n` generators: the first ones get the remainder. */
function shares(total: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}

function timeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const lanes = options.lanes ?? DEFAULTS.lanes;
  const report: FuzzReport = { seed: options.seed, iterations: options.iterations, targets: [...options.targets], lanes, packages: [], ok: true };
  for (const packageKey of options.packages) {
    const result = await fuzzPackage(packageKey, options, lanes);
    report.packages.push(result);
    report.ok &&= result.ok;
  }
  const first = report.packages.flatMap((p) => p.generators.flatMap((g) => g.offenders.map((o) => ({ o, inputs: g.inputs })))).find((x) => x !== undefined);
  if (first !== undefined) report.firstOffender = { ...first.o, replay: replayCommand(first.o, first.inputs, lanes) };
  return report;
}

/**
 * The command that replays an offending input. A token input stands alone: its index and the seed
 * rebuild it. A message input also depends on its lane's contexts (what earlier inputs of the lane
 * did to them), so the command reruns the whole generator with the same seed, count and lanes.
 */
function replayCommand(o: Offender, generatorInputs: number, lanes: number): string {
  const pkg = o.generator.split('/')[0]!;
  const base = `sspi-emu fuzz --package ${pkg} --generator ${o.generator} --seed ${o.seed}`;
  if (o.index < 0 || generatorByName(o.generator)?.target === 'messages') return `${base} --iterations ${generatorInputs} --lanes ${lanes}`;
  return `${base} --start ${o.index} --iterations 1 --lanes 1`;
}

async function fuzzPackage(packageKey: FuzzPackage, options: FuzzOptions, lanes: number): Promise<PackageFuzzReport> {
  const specs = generatorsFor(packageKey, options.targets, options.generators);
  const counts = shares(options.iterations, specs.length);
  const batchSize = options.batchSize ?? DEFAULTS.batchSize;
  const start = options.start ?? 0;
  const tallies = new Map(specs.map((s) => [s.name, emptyTally(s.name, s.fn)]));
  // Each generator's inputs in chunks; the first chunk of every generator is the warm-up.
  const chunks: BatchJob[][] = [];
  specs.forEach((spec, i) => {
    for (let done = 0, n = 0; done < counts[i]!; done += batchSize, n++) {
      (chunks[n] ??= []).push({ generator: spec.name, start: start + done, count: Math.min(batchSize, counts[i]! - done) });
    }
  });
  const total = counts.reduce((a, b) => a + b, 0);

  const machine = await Machine.boot({
    packages: ['example', 'ntlm', 'negotiate'],
    trace: false,
    packageSettings: { ntlm: { ...NTLM_FUZZ_SETTINGS } },
    ...(options.lsaIsolation === undefined ? {} : { lsaIsolation: options.lsaIsolation }),
  });
  const crashes: string[] = [];
  let hangs = 0;
  let done = 0;
  const began = performance.now();
  try {
    const fuzzer = await machine.spawn('client', { name: 'fuzzer' });
    const counted = async () => {
      const s = await machine.lsa.stats({ gc: true });
      return {
        contexts: s.contexts,
        credentials: s.credentials,
        logonSessions: s.logonSessions,
        nested: s.nested.contexts + s.nested.credentials,
        heapUsed: s.heapUsed,
      };
    };
    const before = await counted();
    let warm = before.heapUsed;
    for (const [n, chunk] of chunks.entries()) {
      for (const job of chunk) {
        const plan: BatchPlan = { packageKey, seed: options.seed >>> 0, lanes, account: ACCOUNT, jobs: [job] };
        const outcome = await timeout(
          fuzzer.runApp(APP, plan as unknown as Record<string, unknown>).then(
            (r) => r,
            (error: unknown) => error as Error,
          ),
          options.batchTimeoutMs ?? DEFAULTS.batchTimeoutMs,
        );
        if (outcome === 'timeout') {
          hangs++;
          crashes.push(
            `${job.generator} inputs ${job.start}..${job.start + job.count - 1} did not finish within ${options.batchTimeoutMs ?? DEFAULTS.batchTimeoutMs} ms`,
          );
          break;
        }
        if (outcome instanceof Error) {
          crashes.push(`${job.generator} inputs ${job.start}..${job.start + job.count - 1}: the fuzz app failed: ${describeError(outcome)}`);
          if (!fuzzer.alive) break;
          continue;
        }
        if (outcome.status !== SEC_E_OK) crashes.push(`${job.generator}: the fuzz app could not start: ${outcome.detail ?? outcome.statusName}`);
        for (const t of (outcome.data?.tallies as GeneratorTally[] | undefined) ?? []) mergeTally(tallies.get(t.generator)!, t);
        done += job.count;
        options.onProgress?.({ packageKey, done, total });
      }
      if (hangs > 0 || !fuzzer.alive || !machine.lsa.alive) break;
      if (n === 0) warm = (await counted()).heapUsed;
    }
    const durationMs = performance.now() - began;
    for (const proc of [fuzzer, machine.lsa])
      if (proc.crashError !== undefined) crashes.push(`${proc.name} reported an uncaught error: ${describeError(proc.crashError)}`);
    const lsaAlive = machine.lsa.alive;
    const after = lsaAlive ? await counted() : { contexts: -1, credentials: -1, logonSessions: -1, nested: -1, heapUsed: -1 };
    const goodHandshake = lsaAlive ? await freshHandshake(machine, SSPI_PACKAGE_NAME[packageKey]) : 'the LSA is gone';
    const tolerance = options.heapToleranceBytes ?? DEFAULTS.heapToleranceBytes;
    const heap: HeapFigures = {
      bootBytes: before.heapUsed,
      warmBytes: warm,
      afterBytes: after.heapUsed,
      growthBytes: after.heapUsed - warm,
      toleranceBytes: tolerance,
      flat: lsaAlive && after.heapUsed - warm <= tolerance,
    };
    const generators = [...tallies.values()];
    const balanced =
      after.contexts === before.contexts &&
      after.credentials === before.credentials &&
      after.logonSessions === before.logonSessions &&
      after.nested === before.nested;
    const ok =
      crashes.length === 0 &&
      hangs === 0 &&
      lsaAlive &&
      goodHandshake === 'SEC_E_OK' &&
      balanced &&
      heap.flat &&
      generators.every((g) => offences(g) === 0) &&
      done === total;
    return {
      packageKey,
      inputs: done,
      durationMs,
      generators,
      crashes,
      hangs,
      lsaAlive,
      goodHandshake,
      lsa: {
        before: { contexts: before.contexts, credentials: before.credentials, logonSessions: before.logonSessions, nested: before.nested },
        after: { contexts: after.contexts, credentials: after.credentials, logonSessions: after.logonSessions, nested: after.nested },
      },
      heap,
      ok,
    };
  } finally {
    await machine.shutdown();
  }
}

/**
 * After the run: a handshake between a new client process and a new server process through the
 * LSA, and one sealed message from the client that the server decrypts. Both processes are then
 * killed (the LSA reaps them).
 */
export async function freshHandshake(machine: Machine, packageName: string): Promise<string> {
  let client: AppProcess | undefined;
  let server: AppProcess | undefined;
  try {
    client = await machine.spawn('client', { name: 'check-client' });
    server = await machine.spawn('server', { name: 'check-server' });
    const out = await client.sspi.acquireCredentialsHandle({
      package: packageName,
      credentialUse: SECPKG_CRED.OUTBOUND,
      authData: { User: ACCOUNT.user, Domain: ACCOUNT.domain, Password: ACCOUNT.password },
    });
    const inb = await server.sspi.acquireCredentialsHandle({ package: packageName, credentialUse: SECPKG_CRED.INBOUND });
    if (out.credential === undefined || inb.credential === undefined) return statusName(out.status || inb.status);
    let clientContext: CtxtHandle | undefined;
    let serverContext: CtxtHandle | undefined;
    let input: Uint8Array | undefined;
    const clientReq = ISC_REQ.CONFIDENTIALITY | ISC_REQ.INTEGRITY | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT;
    const serverReq = ASC_REQ.CONFIDENTIALITY | ASC_REQ.INTEGRITY | ASC_REQ.REPLAY_DETECT | ASC_REQ.SEQUENCE_DETECT;
    for (let leg = 0; leg < 4; leg++) {
      const c = await client.sspi.initializeSecurityContext({
        credential: out.credential,
        context: clientContext ?? null,
        contextReq: clientReq,
        input: input === undefined ? null : [{ BufferType: SECBUFFER.TOKEN, pvBuffer: input }],
      });
      clientContext = c.context ?? clientContext;
      if (c.status !== SEC_E_OK && c.status !== SEC_I_CONTINUE_NEEDED) return statusName(c.status);
      const token = c.output[0]?.pvBuffer;
      if (token === undefined || token.byteLength === 0) break;
      const s = await server.sspi.acceptSecurityContext({
        credential: inb.credential,
        context: serverContext ?? null,
        input: [{ BufferType: SECBUFFER.TOKEN, pvBuffer: token }],
        contextReq: serverReq,
      });
      serverContext = s.context ?? serverContext;
      if (s.status !== SEC_E_OK && s.status !== SEC_I_CONTINUE_NEEDED) return statusName(s.status);
      if (s.status === SEC_E_OK && c.status === SEC_E_OK) break;
      input = s.output[0]?.pvBuffer;
      if (s.status === SEC_E_OK && (input === undefined || input.byteLength === 0)) break;
    }
    if (clientContext === undefined || serverContext === undefined) return 'no contexts';
    const plaintext = Uint8Array.from(Buffer.from('after the fuzz run'));
    const sealed = await client.sspi.encryptMessage(
      clientContext,
      0,
      [
        { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(64) },
        { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(plaintext) },
      ],
      0,
    );
    if (sealed.status !== SEC_E_OK) return `EncryptMessage: ${statusName(sealed.status)}`;
    const opened = await server.sspi.decryptMessage(serverContext, sealed.message, 0);
    if (opened.status !== SEC_E_OK) return `DecryptMessage: ${statusName(opened.status)}`;
    if (Buffer.compare(opened.message[1]!.pvBuffer, plaintext) !== 0) return 'DecryptMessage returned other bytes';
    return 'SEC_E_OK';
  } catch (error) {
    return `failed: ${describeError(error)}`;
  } finally {
    for (const proc of [client, server]) if (proc !== undefined) await machine.kill(proc).catch(() => null);
  }
}
