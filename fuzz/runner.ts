// The fuzzer's main-thread side: for each package it boots a machine (the LSA with example, NTLM and
// Negotiate, NTLM with a fixed challenge and clock so captured messages stay valid, and the modules of
// --load), spawns one app process, and runs the fuzz application (fuzz/app.ts) in it batch by
// batch: a built-in package's own generators, or the generic ones (any package). Around the run it
// checks what no single input can: that no worker died or reported an uncaught error, that no
// batch hung, that the LSA still completes a good handshake between two fresh processes, that
// the LSA holds as many contexts, credentials and logon sessions as before, and that its heap
// (after a full garbage collection) is flat between the end of the warm-up and the end of the run.

import { fileURLToPath } from 'node:url';
import { ISC_REQ, ASC_REQ, SECBUFFER, SECPKG_ATTR, SECPKG_CRED, SECPKG_FLAG, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName } from '../headers/index.js';
import { describeError } from '../ipc/index.js';
import { DEMO_ACCOUNTS, Machine, type AppProcess, type LsaIsolation } from '../machine/index.js';
import type { CtxtHandle } from '../sspi/index.js';
import { emptyTally, type BatchJob, type BatchPlan, type GeneratorTally, type Offender } from './app.js';
import type { GeneratorSpec } from './generator.js';
import { generatorByName, generatorsFor, SSPI_PACKAGE_NAME, type FuzzPackage, type FuzzTarget, type GeneratorSet } from './generators.js';
import { KERBEROS_FUZZ_DOMAIN } from './kerberos-domain.js';
import { KDC_REPLY_GENERATOR } from './kerberos-kdc-reply.js';
import { RogueKdc, type RogueKdcAddress } from './kerberos-rogue-kdc.js';
import { NTLM_FUZZ_SETTINGS } from './ntlm.js';

/** A package to fuzz, and with which generators. */
export interface FuzzSubject {
  /** How the report and the command line name it: ntlm, example, or the package's SecPkgInfo Name. */
  key: string;
  /** Its SecPkgInfo Name. */
  packageName: string;
  /** Its generators: a built-in package's own, the generic ones, or both. */
  sets: readonly GeneratorSet[];
}

export interface FuzzOptions {
  /** The packages to fuzz: a built-in one by its key (its own generators), or a subject. */
  packages: ReadonlyArray<FuzzPackage | FuzzSubject>;
  /** Package modules the LSA loads besides example, NTLM and Negotiate (`--load`): where the subjects that are not built in come from. */
  load?: readonly string[];
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
  onProgress?: (event: { packageKey: string; done: number; total: number }) => void;
  /** Where the LSA runs (MachineOptions.lsaIsolation); default a worker thread. */
  lsaIsolation?: LsaIsolation;
}

export interface HeapFigures {
  bootBytes: number;
  warmBytes: number;
  afterBytes: number;
  /**
   * Kerberos: the member's heap once the replay cache's window had passed since the last input and a
   * fresh handshake had pruned it, measured when the figure at the end of the run was past the
   * tolerance (the cache keeps every authenticator of that window by design). What is judged then.
   */
  settledBytes?: number;
  /** The later of the two figures less the warm-up's. */
  growthBytes: number;
  toleranceBytes: number;
  flat: boolean;
}

export interface PackageFuzzReport {
  /** The subject's key: ntlm, example, or a loaded package's name. */
  packageKey: string;
  /** Its SecPkgInfo Name. */
  packageName: string;
  /** The sets of generators it ran: its own, the generic ones. */
  sets: GeneratorSet[];
  inputs: number;
  durationMs: number;
  generators: GeneratorTally[];
  /** Generators left out, and why (message generators of a package that does not claim to sign or seal). */
  skipped: Array<{ generator: string; why: string }>;
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
  /** The domain controller's LSA heap (its KDC), for Kerberos: flat too. */
  kdcHeap?: HeapFigures;
  /** Every invariant held for this package. */
  ok: boolean;
}

export interface FuzzReport {
  seed: number;
  /** The modules of --load: part of the command that replays an input. */
  load: string[];
  iterations: number;
  targets: FuzzTarget[];
  lanes: number;
  packages: PackageFuzzReport[];
  ok: boolean;
  /** The first offending input, its package, and the command that replays it. */
  firstOffender?: Offender & { package: string; replay: string };
}

const ACCOUNT = { user: 'alice', domain: '', password: 'Passw0rd!' };
const APP = fileURLToPath(new URL('./app.js', import.meta.url));
const DEFAULTS = { lanes: 16, batchSize: 2500, heapToleranceBytes: 1 << 20, batchTimeoutMs: 300_000 };
/**
 * How long the fuzzer's calls wait for the LSA's answer: three times the package deadline (10 s),
 * within which the LSA answers any call whose package entry point merely never returns. A call
 * with no answer at all is an LSA whose thread the input's package call holds (a loop that never
 * yields): the run stops there and names the input, instead of every later input waiting out the
 * machine's 60 s.
 */
const FUZZ_LPC_TIMEOUT_MS = 30_000;

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

/** A built-in package's key as the subject it names: its own generators. */
function subjectOf(p: FuzzPackage | FuzzSubject): FuzzSubject {
  return typeof p === 'string' ? { key: p, packageName: SSPI_PACKAGE_NAME[p], sets: [p] } : p;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const lanes = options.lanes ?? DEFAULTS.lanes;
  const load = [...(options.load ?? [])];
  const report: FuzzReport = { seed: options.seed, load, iterations: options.iterations, targets: [...options.targets], lanes, packages: [], ok: true };
  for (const subject of options.packages.map(subjectOf)) {
    const result = await fuzzPackage(subject, options, lanes);
    report.packages.push(result);
    report.ok &&= result.ok;
  }
  const first = report.packages
    .flatMap((p) => p.generators.flatMap((g) => g.offenders.map((o) => ({ o, inputs: g.inputs, key: p.packageKey }))))
    .find((x) => x !== undefined);
  if (first !== undefined) report.firstOffender = { ...first.o, package: first.key, replay: replayCommand(first.o, first.key, load, first.inputs, lanes) };
  return report;
}

/**
 * The command that replays an offending input. A token input stands alone: its index and the seed
 * rebuild it. A message input also depends on its lane's contexts (what earlier inputs of the lane
 * did to them), so the command reruns the whole generator with the same seed, count and lanes.
 */
function replayCommand(o: Offender, key: string, load: readonly string[], generatorInputs: number, lanes: number): string {
  const quoted = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);
  const modules = load.map((m) => `--load ${quoted(m)} `).join('');
  const base = `sspi-emu fuzz ${modules}--package ${quoted(key)} --generator ${o.generator} --seed ${o.seed}`;
  if (o.index < 0 || generatorByName(o.generator)?.target === 'messages') return `${base} --iterations ${generatorInputs} --lanes ${lanes}`;
  return `${base} --start ${o.index} --iterations 1 --lanes 1`;
}

/** The target name of the check after the run: Kerberos needs the fuzz service's, a package with no KDC none. */
function kerberos(subject: FuzzSubject): string | undefined {
  return subject.packageName.toLowerCase() === 'kerberos' ? KERBEROS_FUZZ_DOMAIN.service : undefined;
}

/** A message generator needs the capability it exercises: why it is left out for this package, or undefined. */
function lacking(spec: GeneratorSpec, capabilities: number): string | undefined {
  if (spec.target !== 'messages') return undefined;
  const sealing = spec.fn === 'EncryptMessage' || spec.fn === 'DecryptMessage';
  const flag = sealing ? SECPKG_FLAG.PRIVACY : SECPKG_FLAG.INTEGRITY;
  return (capabilities & flag) !== 0 ? undefined : `the package does not claim SECPKG_FLAG_${sealing ? 'PRIVACY' : 'INTEGRITY'}`;
}

async function fuzzPackage(subject: FuzzSubject, options: FuzzOptions, lanes: number): Promise<PackageFuzzReport> {
  // Kerberos needs a KDC: a domain controller machine of its own (its KDC in its LSA, on loopback
  // UDP and TCP), whose realm the fuzzed machine joins with the fuzz service's key in its own
  // account store, as a member server's. Nothing outside this process is needed.
  const kerberos = subject.packageName.toLowerCase() === 'kerberos';
  const dc = kerberos
    ? await Machine.boot({
        role: 'domain-controller',
        realm: KERBEROS_FUZZ_DOMAIN.realm,
        accounts: [`${ACCOUNT.user}:${ACCOUNT.password}`],
        services: [`${KERBEROS_FUZZ_DOMAIN.service}:${KERBEROS_FUZZ_DOMAIN.servicePassword}`],
        trace: false,
        ...(options.lsaIsolation === undefined ? {} : { lsaIsolation: options.lsaIsolation }),
      })
    : undefined;
  const kdc = dc?.kdcAddress ?? undefined;
  // kerberos/kdc-reply needs the fuzzed machine to ask a rogue KDC (fuzz/kerberos-rogue-kdc.ts), in
  // this thread, which relays everyone but its lane users to the domain controller's KDC.
  let rogue: RogueKdc | undefined;
  let machine: Machine;
  try {
    if (kdc !== undefined && wantsRogueKdc(subject, options)) rogue = await RogueKdc.start({ realm: KERBEROS_FUZZ_DOMAIN.realm, upstream: kdc, lanes });
    machine = await bootFuzzed(subject, options, rogue?.address ?? kdc);
  } catch (error) {
    await rogue?.close();
    await dc?.shutdown();
    throw error;
  }
  try {
    return await fuzzOn(machine, subject, options, lanes, dc, kdc, rogue?.address);
  } finally {
    await rogue?.close();
    await dc?.shutdown();
  }
}

/** Whether the run has kerberos/kdc-reply among its generators. */
function wantsRogueKdc(subject: FuzzSubject, options: FuzzOptions): boolean {
  return subject.sets.includes('kerberos') && generatorsFor('kerberos', options.targets, options.generators).some((g) => g.name === KDC_REPLY_GENERATOR.name);
}

function bootFuzzed(subject: FuzzSubject, options: FuzzOptions, kdc: { host: string; port: number } | undefined): Promise<Machine> {
  // The acceptor's replay cache keeps every authenticator it took for the clock-skew window (five
  // minutes by default, at most 100,000 of them): at a thousand handshakes a second it would still
  // be filling at the end of a run. Ten seconds keeps it at a few seconds' worth, and is what the heap
  // check waits out when the run ends past its tolerance (fuzzOn); no generator depends on the skew.
  const kerberos: Record<string, Record<string, unknown>> = kdc === undefined
    ? {}
    : {
        kerberos: {
          realm: KERBEROS_FUZZ_DOMAIN.realm,
          kdc: `${kdc.host}:${kdc.port}`,
          services: [KERBEROS_FUZZ_DOMAIN.service],
          maxClockSkewSeconds: KERBEROS_FUZZ_DOMAIN.maxClockSkewSeconds,
        },
      };
  return Machine.boot({
    packages: ['example', 'ntlm', 'negotiate', ...(kdc === undefined ? [] : ['kerberos']), ...(options.load ?? [])],
    lpcTimeoutMs: FUZZ_LPC_TIMEOUT_MS,
    ...(kdc === undefined ? {} : { accounts: [...DEMO_ACCOUNTS, `${KERBEROS_FUZZ_DOMAIN.service}:${KERBEROS_FUZZ_DOMAIN.servicePassword}`] }),
    trace: false,
    // NTLM's own generators, and Negotiate's (NTLM inside SPNEGO), forge messages against a fixed
    // challenge and clock; the generic ones take NTLM as it runs (with a fixed challenge, a
    // captured AUTHENTICATE replayed is accepted).
    packageSettings: {
      ...(subject.sets.includes('ntlm') || subject.sets.includes('negotiate') ? { ntlm: { ...NTLM_FUZZ_SETTINGS } } : {}),
      ...kerberos,
    },
    ...(options.lsaIsolation === undefined ? {} : { lsaIsolation: options.lsaIsolation }),
  });
}

async function fuzzOn(
  machine: Machine,
  subject: FuzzSubject,
  options: FuzzOptions,
  lanes: number,
  dc: Machine | undefined,
  kdc: { host: string; port: number } | undefined,
  rogueKdc?: RogueKdcAddress,
): Promise<PackageFuzzReport> {
  const listed = (
    await machine.lsa.packages().catch(async (error: unknown) => {
      await machine.shutdown();
      throw error;
    })
  ).loaded.find((p) => p.name.toLowerCase() === subject.packageName.toLowerCase());
  if (listed === undefined) {
    await machine.shutdown();
    throw new Error(`no package named ${subject.packageName} is loaded`);
  }
  const capabilities = listed.fCapabilities;
  const skipped: PackageFuzzReport['skipped'] = [];
  const specs = subject.sets
    .flatMap((set) => generatorsFor(set, options.targets, options.generators))
    .filter((spec) => {
      const why = lacking(spec, capabilities);
      if (why !== undefined) skipped.push({ generator: spec.name, why });
      return why === undefined;
    });
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
  const packageKey = subject.key;

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
    const dcHeap = async (): Promise<number> => (dc !== undefined && dc.lsa.alive ? (await dc.lsa.stats({ gc: true })).heapUsed : -1);
    const kdcBoot = await dcHeap();
    let kdcWarm = kdcBoot;
    for (const [n, chunk] of chunks.entries()) {
      for (const job of chunk) {
        const plan: BatchPlan = {
          packageName: subject.packageName,
          seed: options.seed >>> 0,
          lanes,
          account: ACCOUNT,
          jobs: [job],
          ...(kdc === undefined ? {} : { kdc: { ...kdc, realm: KERBEROS_FUZZ_DOMAIN.realm } }),
          ...(rogueKdc === undefined ? {} : { rogueKdc }),
        };
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
        if (outcome.data?.lsaUnanswered === true) {
          // A call got no answer at all: the LSA's thread is held (the input's offender says which
          // call). Nothing more can be asked of it; it is stopped, as a hung lsass would be.
          hangs++;
          crashes.push(`the LSA stopped answering during ${job.generator} (its first offender is the input); the LSA was stopped`);
          await machine.kill(machine.lsa);
          break;
        }
        done += job.count;
        options.onProgress?.({ packageKey, done, total });
      }
      if (hangs > 0 || !fuzzer.alive || !machine.lsa.alive || (dc !== undefined && !dc.lsa.alive)) break;
      if (n === 0) {
        warm = (await counted()).heapUsed;
        kdcWarm = await dcHeap();
      }
    }
    const ended = performance.now();
    const durationMs = ended - began;
    for (const proc of [fuzzer, machine.lsa, ...(dc === undefined ? [] : [dc.lsa])])
      if (proc.crashError !== undefined) crashes.push(`${proc.name} reported an uncaught error: ${describeError(proc.crashError)}`);
    if (dc !== undefined && !dc.lsa.alive) crashes.push("the domain controller's LSA (its KDC) died");
    const lsaAlive = machine.lsa.alive;
    const after = lsaAlive ? await counted() : { contexts: -1, credentials: -1, logonSessions: -1, nested: -1, heapUsed: -1 };
    let goodHandshake = lsaAlive ? await freshHandshake(machine, subject.packageName, capabilities, kerberos(subject)) : 'the LSA is gone';
    const tolerance = options.heapToleranceBytes ?? DEFAULTS.heapToleranceBytes;
    // Kerberos' acceptor keeps every authenticator it took for the skew window (its replay cache,
    // RFC 4120 3.2.3), so a run ends with the last window's worth of them, more at a higher rate, in
    // a hash table whose capacity lags its count: a bounded cache, not a leak, and one that no
    // warm-up can fill to a fixed size. Past the tolerance, the run's end is measured again once the
    // window has passed since the last input (every entry then expired by the LSA's clock, rounded up
    // to the second), after a fresh handshake whose authenticator's admission prunes them.
    let settled: number | undefined;
    if (lsaAlive && dc !== undefined && goodHandshake === 'SEC_E_OK' && after.heapUsed - warm > tolerance) {
      const windowMs = (KERBEROS_FUZZ_DOMAIN.maxClockSkewSeconds + 1) * 1000;
      const left = ended + windowMs - performance.now();
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
      goodHandshake = await freshHandshake(machine, subject.packageName, capabilities, kerberos(subject));
      settled = (await counted()).heapUsed;
    }
    const judged = settled ?? after.heapUsed;
    const heap: HeapFigures = {
      bootBytes: before.heapUsed,
      warmBytes: warm,
      afterBytes: after.heapUsed,
      ...(settled === undefined ? {} : { settledBytes: settled }),
      growthBytes: judged - warm,
      toleranceBytes: tolerance,
      flat: lsaAlive && judged - warm <= tolerance,
    };
    const kdcAfter = await dcHeap();
    const kdcHeap: HeapFigures | undefined =
      dc === undefined
        ? undefined
        : {
            bootBytes: kdcBoot,
            warmBytes: kdcWarm,
            afterBytes: kdcAfter,
            growthBytes: kdcAfter - kdcWarm,
            toleranceBytes: tolerance,
            flat: kdcAfter >= 0 && kdcAfter - kdcWarm <= tolerance,
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
      (kdcHeap?.flat ?? true) &&
      generators.every((g) => offences(g) === 0) &&
      done === total;
    return {
      packageKey,
      packageName: subject.packageName,
      sets: [...subject.sets],
      inputs: done,
      durationMs,
      generators,
      skipped,
      crashes,
      hangs,
      lsaAlive,
      goodHandshake,
      lsa: {
        before: { contexts: before.contexts, credentials: before.credentials, logonSessions: before.logonSessions, nested: before.nested },
        after: { contexts: after.contexts, credentials: after.credentials, logonSessions: after.logonSessions, nested: after.nested },
      },
      heap,
      ...(kdcHeap === undefined ? {} : { kdcHeap }),
      ok,
    };
  } finally {
    await machine.shutdown();
  }
}

/**
 * After the run: a handshake between a new client process and a new server process through the
 * LSA, and one sealed message from the client that the server decrypts (signed and verified for a
 * package that claims integrity and not confidentiality; none for one that claims neither). Both
 * processes are then killed (the LSA reaps them).
 */
export async function freshHandshake(
  machine: Machine,
  packageName: string,
  capabilities = SECPKG_FLAG.INTEGRITY | SECPKG_FLAG.PRIVACY,
  targetName?: string,
): Promise<string> {
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
    for (let leg = 0; leg < 8; leg++) {
      const c = await client.sspi.initializeSecurityContext({
        credential: out.credential,
        context: clientContext ?? null,
        contextReq: clientReq,
        input: input === undefined ? null : [{ BufferType: SECBUFFER.TOKEN, pvBuffer: input }],
        ...(targetName === undefined ? {} : { targetName }),
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
    if ((capabilities & SECPKG_FLAG.PRIVACY) === 0) {
      if ((capabilities & SECPKG_FLAG.INTEGRITY) === 0) return 'SEC_E_OK';
      const sizes = await client.sspi.queryContextAttributes(clientContext, SECPKG_ATTR.SIZES);
      const signed = await client.sspi.makeSignature(
        clientContext,
        0,
        [
          { BufferType: SECBUFFER.DATA, pvBuffer: Uint8Array.from(plaintext) },
          { BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint8Array(sizes.buffer?.cbMaxSignature ?? 64) },
        ],
        0,
      );
      if (signed.status !== SEC_E_OK) return `MakeSignature: ${statusName(signed.status)}`;
      const verified = await server.sspi.verifySignature(serverContext, signed.message, 0);
      return verified.status === SEC_E_OK ? 'SEC_E_OK' : `VerifySignature: ${statusName(verified.status)}`;
    }
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
