// A domain of machines, each its own OS process, as `sspi-emu run --domain` runs it (and the tests
// drive it): a domain controller (`sspi-emu dc`: its LSA runs the KDC, with a service principal for
// the member server, whose keys it exports as a keytab), a member server (`sspi-emu serve --tcp` or
// `--http` with --realm, --kdc and the keytab: it opens service tickets with its own key), and a
// workstation (`sspi-emu connect` or `fetch` with --realm and --kdc, logging on as a domain user:
// its LSA gets a TGT and a service ticket from the DC's KDC). They talk over loopback sockets only.
// The user's password is given to the DC (its account) and to the workstation (the logon), never to
// the member: its arguments and environment hold none, and its account store only a local account.
//
// Each machine writes its trace with absolute times (--trace-json, machine/trace-file.ts); the
// harness merges the three on one clock. Every wait has a deadline and an abort signal; whatever
// happens (a machine that does not start, one that dies during the run, a deadline, an abort,
// an exception here), every machine started is stopped (SIGTERM, then SIGKILL after a grace) before
// the harness returns or throws; and each machine is started with an IPC channel, so that it ends
// by itself if the program running the harness is killed outright (cli/main.ts).

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError } from '../ipc/index.js';
import { DEMO_ACCOUNTS, mergeMachineTraces, parseMachineTraceFile, type MachineTraceEvent, type MachineTraceFile } from '../machine/index.js';

/** The member server's one local account (with a random password each run): its account store holds no domain user. */
export const MEMBER_LOCAL_ACCOUNT = 'localadmin';

/** The member server's computer name: its machine account MEMBER$ at the DC, over which its NTLM passes domain logons through (Netlogon). */
export const MEMBER_COMPUTER_NAME = 'MEMBER';

/** The three machines, in the order they start. */
export type DomainMachineName = 'dc' | 'member' | 'workstation';
export const DOMAIN_MACHINES: readonly DomainMachineName[] = ['dc', 'member', 'workstation'];

/** What each machine is, in messages: "the domain controller (sspi-emu dc)". */
const ROLES: Readonly<Record<DomainMachineName, string>> = {
  dc: 'the domain controller',
  member: 'the member server',
  workstation: 'the workstation',
};

export interface DomainOptions {
  /** The realm (and domain); default EXAMPLE.TEST. */
  realm?: string;
  /** What the member serves and the workstation asks for: 'tcp' (serve --tcp, connect; the default) or 'http' (serve --http, fetch). */
  app?: 'tcp' | 'http';
  /** The package both the member and the workstation use; default Negotiate (which picks Kerberos). */
  package?: string;
  /** The domain's users, the DC's accounts ("user:password"); default alice and bob (DEMO_ACCOUNTS). */
  accounts?: readonly string[];
  /** Whom the workstation logs on as, and with what password; default the first account. */
  user?: string;
  password?: string;
  /** The user's domain as the workstation gives it; default the realm. */
  domain?: string;
  /** Package modules the member and the workstation load (--load). */
  load?: readonly string[];
  /** Where each machine's LSA runs (--lsa-isolation). */
  lsaIsolation?: 'thread' | 'process';
  /** The message the workstation sends over TCP (connect --message). */
  message?: string;
  /** How long each machine may take to start, and the workstation to finish; default 60 s. */
  deadlineMs?: number;
  /** How long a machine asked to stop (SIGTERM) may take before it is killed (SIGKILL); default 10 s. */
  stopGraceMs?: number;
  /** Where the keytab and the trace files go; default a new temporary folder, removed by close(). */
  dir?: string;
  /** More arguments for one machine's command (after the harness's own). */
  extraArgs?: Partial<Record<DomainMachineName, readonly string[]>>;
  /** Told each machine's progress as it happens: "dc (pid 4242): kdc listening on 127.0.0.1:40123". */
  onProgress?: (line: string) => void;
  /** Aborting stops every machine and rejects what waits with code ABORTED. */
  signal?: AbortSignal;
  /** The sspi-emu CLI to run (default: this build's dist/cli/main.js) and the Node.js to run it with. */
  cli?: string;
  node?: string;
}

export type DomainErrorCode =
  /** A machine exited before it was ready (listening), or could not be started. */
  | 'MACHINE_FAILED'
  /** A machine ended while the workstation ran. */
  | 'MACHINE_DIED'
  /** A machine did not get ready, or the workstation did not finish, within the deadline. */
  | 'DEADLINE'
  /** The run was aborted (SIGINT). */
  | 'ABORTED';

/** Why a domain run stopped short: which machine, and what it printed on stderr. */
export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly machine: DomainMachineName;
  /** The machine's stderr so far. */
  readonly stderr: string;
  constructor(code: DomainErrorCode, machine: DomainMachineName, message: string, stderr: string) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.machine = machine;
    this.stderr = stderr;
  }
}

/** How one machine's OS process ended. */
export interface MachineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One machine of the domain: its command as an OS process, its output line by line. */
export class DomainMachine {
  readonly name: DomainMachineName;
  /** The sspi-emu command it runs ("dc", "serve", "connect", "fetch"). */
  readonly command: string;
  /** Its arguments after the command, as given (the workstation's and the DC's hold the user's password). */
  readonly args: readonly string[];
  readonly child: ChildProcess;
  readonly traceFile: string;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  /** Resolves when the OS process has ended (never rejects). */
  readonly exited: Promise<MachineExit>;
  exit: MachineExit | undefined;
  /** Set when the harness asked it to stop: its end is then expected. */
  stopping = false;
  private readonly waiters = new Set<() => void>();
  private spawnError: Error | undefined;

  constructor(name: DomainMachineName, node: string, cli: string, command: string, args: readonly string[], traceFile: string) {
    this.name = name;
    this.command = command;
    this.args = args;
    this.traceFile = traceFile;
    // An IPC channel that the command follows: should this program die, the machine ends too.
    this.child = spawn(node, [cli, command, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    // The end is 'close': the process has exited and its output is all read (an LSA of its own,
    // --lsa-isolation process, holds the same pipes until it has ended too).
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
        this.wake();
      });
      this.child.once('error', (error) => {
        // Not started at all (no such program): no 'close' may come.
        this.spawnError = error;
        if (this.child.pid === undefined) {
          this.exit = { code: null, signal: null };
          resolve(this.exit);
        }
        this.wake();
      });
    });
    readLines(this.child.stdout!, (line) => {
      this.stdout.push(line);
      this.wake();
    });
    readLines(this.child.stderr!, (line) => {
      this.stderr.push(line);
      this.wake();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** "the member server (sspi-emu serve, pid 4243)". */
  describe(): string {
    return `${ROLES[this.name]} (sspi-emu ${this.command}${this.pid === undefined ? '' : `, pid ${this.pid}`})`;
  }

  /** Its arguments with the passwords in them masked, to show. */
  shownArgs(): string[] {
    return redact(this.args);
  }

  /** How it ended, in words: "exited with status 1", "was ended by SIGKILL". */
  describeExit(): string {
    if (this.spawnError !== undefined && this.exit?.code === null && this.exit.signal === null)
      return `could not be started: ${describeError(this.spawnError)}`;
    if (this.exit === undefined) return 'is running';
    return this.exit.signal !== null ? `was ended by ${this.exit.signal}` : `exited with status ${this.exit.code}`;
  }

  /** Its stderr, indented under a message; "(nothing on stderr)" when empty. */
  stderrText(): string {
    const lines = this.stderr.filter((l) => l.trim() !== '');
    return lines.length === 0 ? '(nothing on stderr)' : lines.join('\n');
  }

  /**
   * The first stdout line matching `pattern` (seen or to come). Rejects with MACHINE_FAILED if the
   * machine ends first, DEADLINE after `deadlineMs`, ABORTED when `signal` aborts.
   */
  waitForLine(pattern: RegExp, what: string, deadlineMs: number, signal: AbortSignal | undefined): Promise<string> {
    return this.until(() => this.stdout.find((l) => pattern.test(l)), `before ${what}`, deadlineMs, signal);
  }

  /** The machine's end, within `deadlineMs` (DEADLINE) unless `signal` aborts (ABORTED). */
  waitForExit(deadlineMs: number, signal: AbortSignal | undefined): Promise<MachineExit> {
    return this.until(() => this.exit, '', deadlineMs, signal);
  }

  /** What `found` finds, once it does; MACHINE_FAILED if the machine ends first (`before`: before what), DEADLINE, ABORTED. */
  private until<T>(found: () => T | undefined, before: string, deadlineMs: number, signal: AbortSignal | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        this.waiters.delete(check);
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
      };
      const check = (): void => {
        const value = found();
        if (value !== undefined) {
          settle();
          resolve(value);
        } else if (this.exit !== undefined) {
          settle();
          reject(
            new DomainError(
              'MACHINE_FAILED',
              this.name,
              `${this.describe()} ${this.describeExit()}${before === '' ? '' : ` ${before}`}; its stderr:\n${indent(this.stderrText())}`,
              this.stderrText(),
            ),
          );
        }
      };
      const aborted = (): void => {
        settle();
        reject(new DomainError('ABORTED', this.name, `interrupted while waiting for ${this.describe()}`, this.stderrText()));
      };
      if (signal?.aborted) return aborted();
      this.waiters.add(check);
      signal?.addEventListener('abort', aborted, { once: true });
      timer = setTimeout(() => {
        settle();
        reject(
          new DomainError(
            'DEADLINE',
            this.name,
            `${this.describe()} did not ${before === '' ? 'finish' : `get ready (${before.replace(/^before /, '')})`} within ${deadlineMs} ms; its stderr:\n${indent(this.stderrText())}`,
            this.stderrText(),
          ),
        );
      }, deadlineMs);
      check();
    });
  }

  /**
   * Asks it to stop (SIGTERM), kills it (SIGKILL) past `graceMs`, and past twice that stops
   * reading its output (a process it started that holds the pipes open must not keep us waiting);
   * resolves when it has ended.
   */
  async stop(graceMs: number): Promise<MachineExit> {
    this.stopping = true;
    if (this.exit !== undefined) return this.exit;
    this.child.kill('SIGTERM');
    const kill = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const release = setTimeout(() => {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      this.child.disconnect?.();
    }, 2 * graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(kill);
      clearTimeout(release);
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** The workstation's run: how it ended and what it printed. */
export interface WorkstationOutcome {
  exit: MachineExit;
  stdout: string[];
  stderr: string[];
}

/** A domain whose DC and member server are up: run the workstation against it, then stop it. */
export class Domain {
  readonly options: Readonly<DomainOptions>;
  readonly realm: string;
  readonly dir: string;
  readonly keytab: string;
  /** The machines started so far, in order. */
  readonly machines: DomainMachine[] = [];
  /** Where the DC's KDC listens (UDP and TCP). */
  kdc: { host: string; port: number } | undefined;
  /** Where the DC's Netlogon listens (the member's secure channel, for NTLM pass-through). */
  netlogon: { host: string; port: number } | undefined;
  /**
   * The member's machine account secret, made for this domain: the DC is given MEMBER:secret
   * (--machine), the member the same to join (an offline domain join provisions both ends so).
   */
  private readonly machineSecret = randomBytes(18).toString('base64url');
  /** Where the member server listens. */
  memberPort: number | undefined;
  private readonly ownDir: boolean;
  private readonly cli: string;
  private readonly node: string;

  constructor(options: DomainOptions, dir: string, ownDir: boolean) {
    this.options = options;
    this.realm = options.realm ?? 'EXAMPLE.TEST';
    this.dir = dir;
    this.ownDir = ownDir;
    this.keytab = join(dir, 'member.keytab');
    this.cli = options.cli ?? fileURLToPath(new URL('../cli/main.js', import.meta.url));
    this.node = options.node ?? process.execPath;
  }

  /**
   * Starts the DC and waits for its KDC, then the member server and waits for it to listen. A
   * machine that fails stops the others and rejects (DomainError naming it, with its stderr).
   */
  static async start(options: DomainOptions = {}): Promise<Domain> {
    const ownDir = options.dir === undefined;
    const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'sspi-emu-domain-')));
    const domain = new Domain(options, dir, ownDir);
    try {
      await domain.up();
      return domain;
    } catch (error) {
      await domain.close();
      throw error;
    }
  }

  /** Starts the DC, then the member server; rejects (DomainError) at the first that fails, leaving the rest to stop(). */
  async up(): Promise<void> {
    await this.startDc();
    await this.startMember();
  }

  get deadlineMs(): number {
    return this.options.deadlineMs ?? 60_000;
  }

  machine(name: DomainMachineName): DomainMachine | undefined {
    return this.machines.find((m) => m.name === name);
  }

  /** The service principal the member serves as: host/localhost (TCP) or HTTP/localhost. */
  get servicePrincipal(): string {
    return this.options.app === 'http' ? 'HTTP/localhost' : 'host/localhost';
  }

  private get accounts(): readonly string[] {
    return this.options.accounts ?? DEMO_ACCOUNTS;
  }

  private get packageName(): string {
    return this.options.package ?? 'Negotiate';
  }

  /** --load and --lsa-isolation, as the member and the workstation take them. */
  private commonArgs(): string[] {
    return [
      ...(this.options.load ?? []).flatMap((m) => ['--load', m]),
      ...(this.options.lsaIsolation === undefined ? [] : ['--lsa-isolation', this.options.lsaIsolation]),
    ];
  }

  private launch(name: DomainMachineName, command: string, args: string[]): DomainMachine {
    const traceFile = join(this.dir, `${name}.trace.json`);
    const machine = new DomainMachine(
      name,
      this.node,
      this.cli,
      command,
      [...args, '--trace-json', traceFile, ...(this.options.extraArgs?.[name] ?? [])],
      traceFile,
    );
    this.machines.push(machine);
    return machine;
  }

  private async startDc(): Promise<void> {
    const dc = this.launch('dc', 'dc', [
      '--realm',
      this.realm,
      '--port',
      '0',
      ...this.accounts.flatMap((a) => ['--account', a]),
      '--service',
      this.servicePrincipal,
      '--export-keytab',
      this.keytab,
      '--machine',
      `${MEMBER_COMPUTER_NAME}:${this.machineSecret}`,
      ...(this.options.lsaIsolation === undefined ? [] : ['--lsa-isolation', this.options.lsaIsolation]),
    ]);
    const address = async (service: 'kdc' | 'netlogon'): Promise<{ host: string; port: number; line: string }> => {
      const line = await dc.waitForLine(
        new RegExp(`^${service} listening on `),
        `its ${service === 'kdc' ? 'KDC' : 'Netlogon'} listened`,
        this.deadlineMs,
        this.options.signal,
      );
      const match = /^\w+ listening on (.+):(\d+)$/.exec(line);
      if (match === null)
        throw new DomainError(
          'MACHINE_FAILED',
          'dc',
          `${dc.describe()} printed ${JSON.stringify(line)}, not "${service} listening on HOST:PORT"`,
          dc.stderrText(),
        );
      return { host: match[1]!, port: Number(match[2]), line };
    };
    const kdc = await address('kdc');
    const netlogon = await address('netlogon');
    this.kdc = { host: kdc.host, port: kdc.port };
    this.netlogon = { host: netlogon.host, port: netlogon.port };
    this.options.onProgress?.(`dc (pid ${dc.pid}): ${kdc.line}, ${netlogon.line}; the member's keys exported to ${this.keytab}`);
  }

  private async startMember(): Promise<void> {
    const member = this.launch('member', 'serve', [
      this.options.app === 'http' ? '--http' : '--tcp',
      '--port',
      '0',
      '--package',
      this.packageName,
      '--realm',
      this.realm,
      '--kdc',
      this.kdcArg(),
      '--keytab',
      this.keytab,
      // Joined to the domain as MEMBER: its NTLM passes a domain user's logon through to the DC.
      '--domain',
      this.realm,
      '--dc',
      `${this.netlogon!.host}:${this.netlogon!.port}`,
      '--machine',
      `${MEMBER_COMPUTER_NAME}:${this.machineSecret}`,
      // Its own account store holds one local account of its own, not the domain's users (serve's
      // default is the demo accounts, which would let it check a domain user's NTLM response itself).
      '--account',
      `${MEMBER_LOCAL_ACCOUNT}:${randomBytes(12).toString('base64url')}`,
      ...this.commonArgs(),
    ]);
    const line = await member.waitForLine(/^listening on /, 'it listened', this.deadlineMs, this.options.signal);
    const match = /^listening on .+:(\d+)$/.exec(line);
    if (match === null)
      throw new DomainError(
        'MACHINE_FAILED',
        'member',
        `${member.describe()} printed ${JSON.stringify(line)}, not "listening on HOST:PORT"`,
        member.stderrText(),
      );
    this.memberPort = Number(match[1]);
    this.options.onProgress?.(`member (pid ${member.pid}): ${line} as ${this.servicePrincipal}`);
  }

  private kdcArg(): string {
    return `${this.kdc!.host}:${this.kdc!.port}`;
  }

  /**
   * Runs the workstation to its end: connect (or fetch) to the member (at `port`, default the
   * member's own: a test may put a proxy between them), logging on as the domain user through the
   * DC's KDC. Rejects with MACHINE_DIED (and stops the workstation) when the DC or the member ends
   * meanwhile, DEADLINE when the workstation has not finished within the deadline (`deadlineMs`,
   * default the domain's), ABORTED.
   */
  async runWorkstation(at: { port?: number; deadlineMs?: number } = {}): Promise<WorkstationOutcome> {
    const port = at.port ?? this.memberPort!;
    const user = this.options.user ?? this.accounts[0]!.slice(0, this.accounts[0]!.indexOf(':'));
    const password = this.options.password ?? passwordOf(this.accounts, user);
    const identity = ['--user', user, '--domain', this.options.domain ?? this.realm, '--password', password];
    const realm = ['--package', this.packageName, '--realm', this.realm, '--kdc', this.kdcArg()];
    const args =
      this.options.app === 'http'
        ? [`http://localhost:${port}/`, ...realm, ...identity, ...this.commonArgs()]
        : [
            '--tcp',
            `127.0.0.1:${port}`,
            '--target',
            this.servicePrincipal,
            '--message',
            this.options.message ?? 'hello',
            ...realm,
            ...identity,
            ...this.commonArgs(),
          ];
    const workstation = this.launch('workstation', this.options.app === 'http' ? 'fetch' : 'connect', args);
    this.options.onProgress?.(`workstation (pid ${workstation.pid}): sspi-emu ${workstation.command} ${workstation.shownArgs().join(' ')}`);
    // The DC or the member ending while the workstation runs ends the run.
    const others = this.machines.filter((m) => m !== workstation);
    const died = new AbortController();
    let dead: DomainMachine | undefined;
    for (const m of others)
      void m.exited.then(() => {
        if (m.stopping || dead !== undefined) return;
        dead = m;
        died.abort();
      });
    const abort = (): void => died.abort();
    this.options.signal?.addEventListener('abort', abort, { once: true });
    if (this.options.signal?.aborted) died.abort();
    try {
      const exit = await workstation.waitForExit(at.deadlineMs ?? this.deadlineMs, died.signal);
      return { exit, stdout: workstation.stdout, stderr: workstation.stderr };
    } catch (error) {
      await workstation.stop(this.options.stopGraceMs ?? 10_000);
      if (dead !== undefined && error instanceof DomainError && error.code === 'ABORTED')
        throw new DomainError(
          'MACHINE_DIED',
          dead.name,
          `${dead.describe()} ${dead.describeExit()} while the workstation ran; its stderr:\n${indent(dead.stderrText())}`,
          dead.stderrText(),
        );
      throw error;
    } finally {
      this.options.signal?.removeEventListener('abort', abort);
    }
  }

  /** Stops every machine still running (the member first, then the DC) and waits for each to end. */
  async stop(): Promise<void> {
    const grace = this.options.stopGraceMs ?? 10_000;
    for (const machine of [...this.machines].reverse()) await machine.stop(grace);
  }

  /** Stops every machine and removes the folder the harness made. */
  async close(): Promise<void> {
    try {
      await this.stop();
    } finally {
      if (this.ownDir) await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** The trace files the machines wrote (after stop()), and the machines that wrote none or a bad one. */
  async traces(): Promise<{ files: MachineTraceFile[]; missing: Array<{ machine: DomainMachineName; why: string }> }> {
    const files: MachineTraceFile[] = [];
    const missing: Array<{ machine: DomainMachineName; why: string }> = [];
    for (const machine of this.machines) {
      let text: string;
      try {
        text = await readFile(machine.traceFile, 'utf8');
      } catch {
        missing.push({ machine: machine.name, why: `${machine.describe()} wrote no trace (it ${machine.describeExit()})` });
        continue;
      }
      try {
        files.push({ ...parseMachineTraceFile(text, machine.traceFile), machine: machine.name });
      } catch (error) {
        missing.push({ machine: machine.name, why: describeError(error) });
      }
    }
    return { files, missing };
  }
}

/** What one machine was and how it ended, in a domain run's report. */
export interface DomainMachineReport {
  name: DomainMachineName;
  /** "sspi-emu dc", "sspi-emu serve", ... */
  command: string;
  /** Its arguments, passwords masked. */
  args: string[];
  pid: number | undefined;
  exit: MachineExit | undefined;
  stdout: string[];
  stderr: string[];
  /** Events in its trace file; null when it wrote none. */
  traceEvents: number | null;
}

export interface DomainReport {
  /** The workstation's status (its AppExit event), the member's when it refused the workstation, or SEC_E_INTERNAL_ERROR when a machine failed. */
  statusName: string;
  /** What the workstation (or the member, or the failure) said. */
  detail: string;
  /** The machine whose failure `statusName` is (the member's refusal before the workstation's view of it), or null. */
  failedFirst: DomainMachineName | null;
  ok: boolean;
  /** The package that authenticated, by the member's trace: "Kerberos", "NTLM", ...; null when none did. */
  mechanism: string | null;
  /** The package asked for (Negotiate by default). */
  package: string;
  realm: string;
  app: 'tcp' | 'http';
  machines: DomainMachineReport[];
  /** The three timelines on one clock: `t` in ms since `origin` (ms since the Unix epoch), the first machine's boot. */
  origin: number;
  events: MachineTraceEvent[];
  /** Machines whose trace is not in `events`, and why. */
  missingTraces: Array<{ machine: DomainMachineName; why: string }>;
  /** Why the run stopped short, when it did. */
  error?: { code: DomainErrorCode; machine: DomainMachineName; message: string };
}

/**
 * A whole domain run: start the DC and the member, run the workstation, stop them all, merge the
 * three traces. A run that stops short (a machine that fails or dies, the deadline) is a report
 * with `error`; an abort rejects (ABORTED) once every machine has stopped.
 */
export async function runDomain(options: DomainOptions = {}): Promise<DomainReport> {
  const ownDir = options.dir === undefined;
  const domain = new Domain(options, options.dir ?? (await mkdtemp(join(tmpdir(), 'sspi-emu-domain-'))), ownDir);
  try {
    let failure: DomainError | undefined;
    let outcome: WorkstationOutcome | undefined;
    try {
      await domain.up();
      outcome = await domain.runWorkstation();
    } catch (error) {
      if (!(error instanceof DomainError) || error.code === 'ABORTED') throw error;
      failure = error;
    } finally {
      await domain.stop();
    }
    const traces = await domain.traces();
    return report(options, domain, outcome, failure, mergeMachineTraces(traces.files), traces.missing);
  } finally {
    await domain.close();
  }
}

function report(
  options: DomainOptions,
  domain: Domain,
  outcome: WorkstationOutcome | undefined,
  failure: DomainError | undefined,
  merged: { origin: number; events: MachineTraceEvent[] },
  missing: Array<{ machine: DomainMachineName; why: string }>,
): DomainReport {
  const machines = domain.machines;
  const counts = new Map<string, number>();
  for (const e of merged.events) counts.set(e.machine, (counts.get(e.machine) ?? 0) + 1);
  const appExit = merged.events.findLast((e) => e.machine === 'workstation' && e.call === 'AppExit');
  let statusName: string;
  let detail: string;
  let failedFirst: DomainMachineName | null = null;
  if (failure !== undefined) {
    statusName = 'SEC_E_INTERNAL_ERROR';
    detail = failure.message;
    failedFirst = failure.machine;
  } else if (appExit?.status !== undefined) {
    statusName = appExit.status;
    detail = appExit.detail ?? '';
  } else {
    statusName = 'SEC_E_INTERNAL_ERROR';
    const ws = machines.find((m) => m.name === 'workstation');
    detail = `the workstation ${ws?.describeExit() ?? 'did not run'} without a result; its stderr:\n${indent(ws?.stderrText() ?? '')}`;
  }
  const ok = failure === undefined && statusName === 'SEC_E_OK' && outcome?.exit.code === 0;
  if (!ok && failure === undefined) {
    // The member's verdict first, as run names the server's: the workstation of a refused gss-sample
    // handshake only sees the connection close, an HTTP one a 401.
    const refused = merged.events.findLast(
      (e) => e.machine === 'member' && e.process !== 'lsa' && e.call === 'AcceptSecurityContext' && e.phase === 'return' && failedStatus(e.status),
    );
    if (refused !== undefined) {
      detail = `AcceptSecurityContext answered ${refused.status}${refused.detail === undefined ? '' : ` (${refused.detail})`}; then workstation: ${statusName}: ${detail}`;
      statusName = refused.status!;
      failedFirst = 'member';
    } else failedFirst = 'workstation';
  }
  return {
    statusName,
    detail,
    failedFirst,
    ok,
    mechanism: mechanismOf(merged.events),
    package: options.package ?? 'Negotiate',
    realm: domain.realm,
    app: options.app ?? 'tcp',
    machines: machines.map((m) => ({
      name: m.name,
      command: `sspi-emu ${m.command}`,
      args: m.shownArgs(),
      pid: m.pid,
      exit: m.exit,
      stdout: m.stdout,
      stderr: m.stderr,
      traceEvents: missing.some((x) => x.machine === m.name) ? null : (counts.get(m.name) ?? 0),
    })),
    origin: merged.origin,
    events: merged.events,
    missingTraces: missing,
    ...(failure === undefined ? {} : { error: { code: failure.code, machine: failure.machine, message: failure.message } }),
  };
}

/**
 * The package that did the work on the member, from its LSA's trace: the last context call it
 * dispatched (Negotiate's inner mechanism is dispatched after Negotiate itself, "Kerberos, for
 * Negotiate"). The workstation's trace answers when the member's is missing.
 */
export function mechanismOf(events: readonly MachineTraceEvent[]): string | null {
  for (const [machine, call] of [
    ['member', 'SpAcceptLsaModeContext'],
    ['workstation', 'SpInitLsaModeContext'],
  ] as const) {
    const last = events.filter((e) => e.machine === machine && e.process === 'lsa' && e.call === call && e.phase === 'call' && e.detail !== undefined).at(-1);
    if (last !== undefined) return last.detail!.split(',')[0]!.trim();
  }
  return null;
}

/** Arguments with passwords masked: --password's value, and the password of --account USER:PASSWORD. */
export function redact(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    const option = args[i - 1];
    if (option === '--password') return '***';
    if (option === '--account' && arg.includes(':')) return `${arg.slice(0, arg.indexOf(':'))}:***`;
    return arg;
  });
}

function passwordOf(accounts: readonly string[], user: string): string {
  const account = accounts.find((a) => a.slice(0, a.indexOf(':')).toLowerCase() === user.toLowerCase());
  if (account === undefined) throw new Error(`no password for ${user}: name one with the password option or among the accounts`);
  return account.slice(account.indexOf(':') + 1);
}

function failedStatus(status: string | undefined): boolean {
  return status !== undefined && status !== 'SEC_E_OK' && !status.startsWith('SEC_I_');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let newline: number;
    while ((newline = rest.indexOf('\n')) >= 0) {
      onLine(rest.slice(0, newline));
      rest = rest.slice(newline + 1);
    }
  });
  stream.on('end', () => {
    if (rest.length > 0) onLine(rest);
  });
}
