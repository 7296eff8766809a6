// Option parsing shared by the commands: node:util parseArgs, with usage errors for anything off.

import { writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BUILTIN_PACKAGES, DEFAULT_PACKAGES } from '../lsa/index.js';
import { devtoolsUrl } from '../ipc/index.js';
import {
  formatTimeline,
  INSPECT_DEADLINE_MS,
  machineTraceFile,
  type InspectOptions,
  type LsaIsolation,
  type Machine,
  type MachineOptions,
} from '../machine/index.js';
import { UsageError } from './usage.js';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** Options that take a value, declared by name. */
export function valued<const K extends string>(...names: K[]): Record<K, { type: 'string' }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'string' }])) as Record<K, { type: 'string' }>;
}

/** Options that may be given more than once, each a value. */
export function repeated<const K extends string>(...names: K[]): Record<K, { type: 'string'; multiple: true }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'string', multiple: true }])) as Record<K, { type: 'string'; multiple: true }>;
}

/** Options that are present or not. */
export function flags<const K extends string>(...names: K[]): Record<K, { type: 'boolean' }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'boolean' }])) as Record<K, { type: 'boolean' }>;
}

/** --package and --load: which package a command uses and which modules the LSA loads besides. */
export const PACKAGE_OPTIONS = { ...valued('package'), ...repeated('load') };

/** --lsa-isolation thread|process: where the LSA of the machine a command boots runs (MachineOptions.lsaIsolation). */
export const ISOLATION_OPTIONS = valued('lsa-isolation');

/** The machine option --lsa-isolation asks for, to spread into MachineOptions (nothing when absent). */
export function lsaIsolation(value: string | undefined): { lsaIsolation?: LsaIsolation } {
  if (value === undefined) return {};
  if (value !== 'thread' && value !== 'process') throw new UsageError(`--lsa-isolation takes thread or process, not ${JSON.stringify(value)}`);
  return { lsaIsolation: value };
}

/** --user, --domain, --password: the identity a client authenticates as. */
export const IDENTITY_OPTIONS = valued('user', 'domain', 'password');

/**
 * --account USER:PASSWORD or DOMAIN\USER:PASSWORD (repeatable), as run, serve, dc and run --domain
 * take it, checked here as the LSA's account store reads it (lsa/accounts.ts parseAccount), so
 * that a malformed one is a usage error before any machine boots, not a failed boot. The password
 * may be empty, as a Windows account's may; the user name and a given domain may not.
 */
export function accountSpecs(specs: string[] | undefined): string[] | undefined {
  for (const spec of specs ?? []) {
    const colon = spec.indexOf(':');
    const name = colon < 0 ? '' : spec.slice(0, colon);
    let problem: string | undefined;
    if (colon < 0) problem = '';
    else if (name.startsWith('\\')) problem = ': the domain is empty';
    else if (name.slice(name.indexOf('\\') + 1) === '') problem = ': the user name is empty';
    if (problem !== undefined) throw new UsageError(`--account ${JSON.stringify(spec)} is not USER:PASSWORD or DOMAIN\\USER:PASSWORD${problem}`);
  }
  return specs;
}

/**
 * A command's arguments: strict parseArgs (unknown options are usage errors), at most
 * `maxPositionals` positionals, and every complaint a UsageError.
 */
export function parseCommand<const O extends OptionSpecs>(
  argv: string[],
  options: O,
  maxPositionals = 0,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  const parsed = asUsage(() => parseArgs({ args: withNegativeValues(argv, options), allowPositionals: true, options, strict: true }));
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  return parsed;
}

/**
 * `--messages -3` as `--messages=-3`: parseArgs takes a value that starts with a dash for an
 * option of its own and refuses it as ambiguous, where the user meant a (bad) number, which the
 * option's own check then refuses with its range.
 */
function withNegativeValues(argv: string[], options: OptionSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Runs an argument parse (node:util parseArgs), turning its complaints into usage errors (their first line: the rest is parseArgs' advice). */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    // parseArgs' own advice (how to pass a positional that starts with a dash) is left out.
    throw new UsageError((error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/\. To specify .*$/, ''));
  }
}

/**
 * A whole-number option from `min` to `max` (the fallback when absent); anything else is a usage
 * error naming the range.
 */
export function wholeNumber(value: string | undefined, name: string, fallback: number, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(
      `${name} takes a whole number ${max === Number.MAX_SAFE_INTEGER ? `from ${min}` : `from ${min} to ${max}`}, not ${JSON.stringify(value)}`,
    );
  return n;
}

/** A whole-number option from 0 (see wholeNumber for a range of its own). */
export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  return wholeNumber(value, name, fallback, 0);
}

/** A duration in seconds: a number greater than 0 (fractions allowed), or the fallback when absent. */
export function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`${name} takes seconds, a number greater than 0, not ${JSON.stringify(value)}`);
  return n;
}

/**
 * Package module paths from --load, and --package when it names a module rather than a package.
 * A machine in a realm (--realm) loads the Kerberos package too, as every Windows domain member
 * has it: Negotiate then offers Kerberos first.
 */
export function packageList(load: string[] | undefined, pkg: string | undefined, realm?: string): { packages: string[]; packageName: string | undefined } {
  const packages = [...DEFAULT_PACKAGES, ...(realm === undefined ? [] : ['kerberos']), ...(load ?? [])];
  if (pkg !== undefined && /[\\/]|\.m?js$/.test(pkg)) return { packages: [...packages, pkg], packageName: undefined };
  // A built-in package named by --package is loaded too, as if it were in the Security Packages list.
  if (pkg !== undefined && BUILTIN_PACKAGES.has(pkg.toLowerCase()) && !packages.some((p) => p.toLowerCase() === pkg.toLowerCase()))
    packages.push(pkg.toLowerCase());
  return { packages, packageName: pkg };
}

/**
 * --inspect PROCESS[:[HOST:]PORT] and --inspect-brk (the same, waiting for a debugger before the
 * process starts its work), each repeatable, and --deadline MS (every deadline of the machine).
 */
export const INSPECT_OPTIONS = { ...repeated('inspect', 'inspect-brk'), ...valued('deadline') };

/** The first inspector's port when none is given; the next ones take the ports after it, as given in order. */
const FIRST_INSPECTOR_PORT = 9229;

/** What the machine (and the demo's applications) are asked to wait at most, in ms. */
export interface Deadlines {
  lpcTimeoutMs?: number;
  packageCallTimeoutMs?: number;
  packageLoadTimeoutMs?: number;
  processTimeoutMs?: number;
  bootTimeoutMs?: number;
  /** How long an application waits for its peer's next message (the demo's apps). */
  receiveTimeoutMs?: number;
}

/**
 * The machine options --inspect, --inspect-brk and --deadline ask for: the inspected processes
 * (each among `processes`, the ones the command runs), their URLs told on stderr as they open,
 * and the deadlines (--deadline sets them all; while inspecting, the machine's default for those
 * not set is INSPECT_DEADLINE_MS).
 */
export function inspection(
  values: { inspect?: string[] | undefined; 'inspect-brk'?: string[] | undefined; deadline?: string | undefined },
  processes: readonly string[],
  stderr: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  /** What the command's deadlines are while debugging, when not the machine's alone (check has its own). */
  deadlineNote?: string,
): Pick<MachineOptions, 'inspect' | 'onInspector'> & Deadlines {
  const asked = [...(values.inspect ?? []).map((spec) => ({ spec, wait: false })), ...(values['inspect-brk'] ?? []).map((spec) => ({ spec, wait: true }))];
  const inspect = asked.map(({ spec, wait }, i) => inspectTarget(spec, wait, processes, FIRST_INSPECTOR_PORT + i));
  const seen = new Set<string>();
  for (const target of inspect) {
    if (seen.has(target.process)) throw new UsageError(`--inspect: ${target.process} is named twice`);
    seen.add(target.process);
  }
  const out: Pick<MachineOptions, 'inspect' | 'onInspector'> & Deadlines = {};
  if (values.deadline !== undefined) {
    const ms = wholeNumber(values.deadline, '--deadline', 0, 1, 24 * 3600 * 1000);
    Object.assign(out, { lpcTimeoutMs: ms, packageCallTimeoutMs: ms, packageLoadTimeoutMs: ms, processTimeoutMs: ms, bootTimeoutMs: ms, receiveTimeoutMs: ms });
  }
  if (inspect.length === 0) return out;
  out.inspect = inspect;
  const deadline = values.deadline === undefined ? `${INSPECT_DEADLINE_MS / 60_000} minutes (--deadline MS to change)` : `${out.lpcTimeoutMs} ms`;
  if (out.receiveTimeoutMs === undefined) out.receiveTimeoutMs = INSPECT_DEADLINE_MS;
  stderr(
    `sspi-emu: debugging: ${deadlineNote ?? `every deadline of the machine is ${deadline}`}; the other processes time out (SEC_E_INTERNAL_ERROR, TIMEOUT) if a paused one keeps them waiting longer`,
  );
  out.onInspector = (name, url, wait) => {
    const address = url.replace(/^ws:\/\//, '').replace(/\/.*$/, '');
    stderr(`sspi-emu: ${name}: inspector listening on ${url}${wait ? ' (waiting for a debugger before it starts)' : ''}`);
    stderr(`sspi-emu: ${name}: attach VS Code to ${address}, or open ${devtoolsUrl(url)} in Chrome`);
  };
  return out;
}

/** One --inspect value: PROCESS, PROCESS:PORT or PROCESS:HOST:PORT. */
function inspectTarget(spec: string, wait: boolean, processes: readonly string[], defaultPort: number): InspectOptions {
  const option = wait ? '--inspect-brk' : '--inspect';
  const [name = '', ...rest] = spec.split(':');
  if (!processes.includes(name))
    throw new UsageError(`${option} takes ${processes.join(', ')} (a process this command runs), optionally :PORT or :HOST:PORT, not ${JSON.stringify(spec)}`);
  const target: InspectOptions = { process: name, port: defaultPort, wait };
  if (rest.length === 0) return target;
  const portText = rest.at(-1)!;
  target.port = wholeNumber(portText, `${option} ${name}'s port`, defaultPort, 0, 65535);
  if (rest.length > 1) {
    const host = rest
      .slice(0, -1)
      .join(':')
      .replace(/^\[(.*)\]$/, '$1');
    if (host === '') throw new UsageError(`${option} ${JSON.stringify(spec)}: the host is empty`);
    target.host = host;
  }
  return target;
}

/**
 * --realm R, --kdc HOST[:PORT] (repeatable), --keytab FILE: the machine joins a Kerberos realm (the
 * Kerberos package's settings: packages/kerberos/settings.ts). --kdc and --keytab need --realm.
 */
export const REALM_OPTIONS = { ...valued('realm', 'keytab'), ...repeated('kdc') };

/** The package settings --realm, --kdc and --keytab ask for (nothing when none is given), to spread into MachineOptions. */
export function realmSettings(values: { realm?: string; kdc?: string[]; keytab?: string }): { packageSettings?: Record<string, Record<string, unknown>> } {
  if (values.realm === undefined) {
    if (values.kdc !== undefined || values.keytab !== undefined) throw new UsageError('--kdc and --keytab go with --realm');
    return {};
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(values.realm)) throw new UsageError(`--realm ${JSON.stringify(values.realm)} is not a realm name (EXAMPLE.TEST)`);
  for (const kdc of values.kdc ?? [])
    if (!/^(?:\[[^\]]+\]|[^:[\]]+)(?::\d{1,5})?$/.test(kdc)) throw new UsageError(`--kdc ${JSON.stringify(kdc)} is not HOST or HOST:PORT`);
  const kerberos: Record<string, unknown> = { realm: values.realm };
  if (values.kdc !== undefined) kerberos.kdc = values.kdc;
  if (values.keytab !== undefined) kerberos.keytab = values.keytab;
  return { packageSettings: { kerberos } };
}

/** --trace FILE (the timeline as text) and --trace-json FILE (machine/trace-file.ts: absolute times, to merge with other machines'). */
export const TRACE_OPTIONS = valued('trace', 'trace-json');

/** Whether the machine a command boots records trace events: when either trace file is asked for. */
export function tracing(values: { trace?: string | undefined; 'trace-json'?: string | undefined }): boolean {
  return values.trace !== undefined || values['trace-json'] !== undefined;
}

/**
 * Writes the trace files asked for: --trace the timeline, --trace-json the machine's events with
 * absolute times, named `name` (the command's: "dc", "serve", "connect", "fetch"), for run
 * --domain or anyone to merge with the other machines' files on one clock.
 */
export async function writeTraceFiles(
  machine: Machine,
  values: { trace?: string | undefined; 'trace-json'?: string | undefined },
  name: string,
  command: string,
): Promise<void> {
  if (values.trace !== undefined) await writeFile(values.trace, formatTimeline(await machine.events()) + '\n');
  if (values['trace-json'] !== undefined) await writeFile(values['trace-json'], JSON.stringify(await machineTraceFile(machine, name, command)) + '\n');
}
