// `sspi-emu run`: one handshake and N messages between a client and a server process through the
// LSA, shown as a timeline and a sequence diagram (or as JSON). The summary names the status that
// failed first (and whose it was), the package's exceptions with their stacks, and, in one line,
// what the default apps needed from the package and did not get (scenarios/diagnose.ts). With
// --watch, the machine stays up and the run is made again after each reload of a --load module.
// With --domain, three machines in OS processes of their own instead (run-domain.ts).

import { writeFile } from 'node:fs/promises';
import { SEC_E_OK } from '../../headers/index.js';
import { formatHtml, formatMermaid, formatTimeline, toChromeTrace } from '../../machine/index.js';
import { diagnoseRun, formatKlist, formatNeeds, runDemo, runWatching, type DemoReport, type RunDiagnosis } from '../../scenarios/index.js';
import {
  accountSpecs,
  flags,
  IDENTITY_OPTIONS,
  INSPECT_OPTIONS,
  inspection,
  ISOLATION_OPTIONS,
  lsaIsolation,
  PACKAGE_OPTIONS,
  packageList,
  parseCommand,
  REALM_OPTIONS,
  realmSettings,
  repeated,
  valued,
  wholeNumber,
} from '../options.js';
import { domainJoin, JOIN_OPTIONS } from '../domain-options.js';
import { UsageError } from '../usage.js';
import { runDomainCommand } from './run-domain.js';
import { RELOAD_LINES, stopSignal, watchedModules } from '../watch.js';
import type { TraceEvent } from '../../ipc/index.js';
import { DerError } from '../../packages/negotiate/wire.js';
import { NtlmParseError } from '../../packages/ntlm/wire.js';
import { describeToken, type TokenDescription } from '../tokens.js';

export async function run(argv: string[]): Promise<number> {
  // `--domain` with no value (last, or before another option) is the domain of machines;
  // `--domain D` stays the client's domain.
  const domainFlag = argv.findIndex((arg, i) => arg === '--domain' && (i + 1 === argv.length || argv[i + 1]!.startsWith('-')));
  if (domainFlag >= 0) return runDomainCommand([...argv.slice(0, domainFlag), ...argv.slice(domainFlag + 1)]);
  const { values } = parseCommand(argv, {
    ...PACKAGE_OPTIONS,
    ...IDENTITY_OPTIONS,
    ...JOIN_OPTIONS,
    ...valued('messages', 'mermaid', 'chrome-trace', 'html', 'target'),
    ...REALM_OPTIONS,
    ...ISOLATION_OPTIONS,
    ...INSPECT_OPTIONS,
    ...repeated('account'),
    ...flags('json', 'quiet', 'watch', 'klist'),
  });
  const accounts = accountSpecs(values.account);
  const { packages, packageName } = packageList(values.load, values.package, values.realm);
  const messages = wholeNumber(values.messages, '--messages', 3, 0, 100_000);
  const options: Parameters<typeof runDemo>[0] = {
    packages,
    messages,
    ...lsaIsolation(values['lsa-isolation']),
    ...inspection(values, ['lsa', 'client', 'server']),
    ...realmSettings(values),
    // --dc and --machine: the machine joins the client's --domain, its server passes the client's logon through to the DC.
    ...domainJoin(values),
  };
  if (values.target !== undefined) options.targetName = values.target;
  if (accounts !== undefined) options.accounts = accounts;
  if (packageName !== undefined) options.package = packageName;
  if (values.user !== undefined) options.user = values.user;
  if (values.domain !== undefined) options.domain = values.domain;
  if (values.password !== undefined) options.password = values.password;
  if (values.klist) {
    // klist lists a logon's tickets; explicit credentials' tickets are the credential's, not the logon's.
    if (values.user !== undefined || values.domain !== undefined || values.password !== undefined)
      throw new UsageError("--klist runs the client as the first account's logon: it takes no --user, --domain or --password");
    options.klist = true;
  }

  const hints = realmHints(options.package, values);
  if (values.watch) {
    const modules = watchedModules(values.load, values.package);
    const stop = stopSignal();
    try {
      const status = await runWatching(
        options,
        modules,
        { ran: async (report) => void (await show(report, values, options.package, hints)), ...RELOAD_LINES },
        stop.signal,
      );
      return status === SEC_E_OK ? 0 : 1;
    } finally {
      stop.release();
    }
  }
  return show(await runDemo(options), values, options.package, hints);
}

/**
 * What a failed Kerberos run should say beyond its statuses, which say what failed but not why:
 * on a machine in no realm it fails at once (the server has no credentials, the client no KDC);
 * in a realm, the server needs its service key (a keytab) and the client must be a user of the
 * realm, or its first call finds no authority (the default account is SSPI-EMU's, not the realm's).
 */
function realmHints(packageName: string | undefined, values: { realm?: string; keytab?: string; domain?: string; dc?: string }): string[] {
  if (packageName?.toLowerCase() !== 'kerberos') return [];
  const realm = values.realm;
  if (realm === undefined)
    return [
      'Kerberos needs a realm: this machine is in none. Start a KDC (`sspi-emu dc --realm EXAMPLE.TEST --port 0 --account alice:Passw0rd! --service host/localhost --export-keytab services.keytab`), then give --realm EXAMPLE.TEST --kdc 127.0.0.1:PORT --keytab services.keytab --domain EXAMPLE.TEST --target host/localhost; or run a whole domain with `sspi-emu run --domain`.',
    ];
  const hints: string[] = [];
  // A machine joined with --dc has its keys from its machine account; one that is not needs a keytab.
  if (values.keytab === undefined && values.dc === undefined)
    hints.push(`The server takes its service key from --keytab FILE (\`sspi-emu dc ... --service host/localhost --export-keytab FILE\` writes one): without it, it has no credentials.`);
  if (values.domain === undefined || values.domain.toUpperCase() !== realm.toUpperCase())
    hints.push(
      `The client logs on as a user of ${values.domain === undefined ? "its account's domain (the default accounts' is SSPI-EMU)" : values.domain}, and Kerberos asks a KDC only of this machine's realm: give --domain ${realm} for a user of the realm.`,
    );
  return hints;
}

/** What `run` prints of one run and writes to the files asked for; the exit status. */
async function show(
  report: DemoReport,
  values: { json?: boolean; quiet?: boolean; mermaid?: string; 'chrome-trace'?: string; html?: string },
  packageName: string | undefined,
  hints: readonly string[] = [],
): Promise<number> {
  const diagnosis = diagnoseRun(report.events);
  const failed = report.status !== SEC_E_OK;
  if (values.mermaid !== undefined) await writeFile(values.mermaid, formatMermaid(report.events));
  if (values['chrome-trace'] !== undefined) await writeFile(values['chrome-trace'], JSON.stringify(toChromeTrace(report.events)));
  if (values.html !== undefined)
    await writeFile(
      values.html,
      formatHtml(report.events, { title: `sspi-emu run: ${packageName ?? 'the default package'}`, summary: summary(report, diagnosis, failed ? hints : []) }),
    );

  if (values.json) {
    process.stdout.write(
      JSON.stringify(
        {
          status: report.statusName,
          failedFirst: report.failedFirst,
          client: report.client,
          server: report.server,
          ...(report.error === undefined ? {} : { error: report.error }),
          ...(report.lsaExited === undefined ? {} : { lsaExited: report.lsaExited }),
          exceptions: diagnosis.exceptions,
          faults: diagnosis.faults,
          lacking: diagnosis.lacking,
          ...(diagnosis.lacking.length === 0 ? {} : { needs: formatNeeds(diagnosis.lacking) }),
          ...(failed && hints.length > 0 ? { hints } : {}),
          lpc: report.lpc,
          ...(report.klist === undefined ? {} : { klist: report.klist }),
          events: report.events.map(withDecodedTokens),
        },
        (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
        2,
      ) + '\n',
    );
  } else {
    if (!values.quiet) {
      process.stdout.write(formatTimeline(report.events) + '\n\n');
      process.stdout.write('Sequence diagram (Mermaid):\n\n' + formatMermaid(report.events) + '\n');
    }
    process.stdout.write(summary(report, diagnosis, failed ? hints : []).join('\n') + '\n');
    process.stdout.write(`LPC messages: handshake ${report.lpc.handshake}, message phase ${report.lpc.messages}\n`);
    if (report.klist !== undefined) process.stdout.write(`\nklist (the client's logon):\n${formatKlist(report.klist).join('\n')}\n`);
  }
  // A package fault fails the run even when the handshake and messages got through (a delete that timed out).
  return report.status === SEC_E_OK && diagnosis.faults.length === 0 && (report.klist === undefined || report.klist.failedAt === undefined) ? 0 : 1;
}

/**
 * The result lines: the status that failed first and whose it was, then what the other side got;
 * each package exception with its stack; the one line of what the default apps needed; then what a
 * failed run should know beyond its statuses (hints).
 */
function summary(report: DemoReport, diagnosis: RunDiagnosis, hints: readonly string[]): string[] {
  const first = report.failedFirst;
  const firstResult = first === 'server' ? report.server : report.client;
  const otherName = first === 'server' ? 'client' : 'server';
  const other = first === 'server' ? report.client : report.server;
  let line = `${report.statusName}: ${first === null ? '' : `${first}: `}${firstResult?.detail ?? report.error ?? ''}`;
  if (first !== null && other !== null && other.status !== SEC_E_OK && other.detail !== firstResult?.detail)
    line += `; then ${otherName}: ${other.statusName}${other.detail === undefined ? '' : `: ${other.detail}`}`;
  const lines = [line];
  // The processes' failures only follow from the LSA's end: say it, and what it died of.
  if (report.lsaExited !== undefined) lines.push(report.lsaExited);
  for (const exception of diagnosis.exceptions) {
    lines.push(`package exception in ${exception.process}: ${exception.message}`);
    if (exception.stack !== undefined) for (const frame of exception.stack.split('\n').filter((l) => /^\s+at /.test(l))) lines.push(`    ${frame.trim()}`);
  }
  for (const fault of diagnosis.faults) lines.push(`package fault in ${fault.process}: ${fault.message}`);
  // What the apps could not query after the LSA went is no lack of the package's.
  const needs = report.lsaExited === undefined ? formatNeeds(diagnosis.lacking) : '';
  if (needs !== '') lines.push(needs);
  lines.push(...hints);
  return lines;
}

/** An event whose tokens are NTLM messages or SPNEGO tokens carries them decoded too (tokenInDecoded, tokenOutDecoded). */
function withDecodedTokens(event: TraceEvent): TraceEvent & { tokenInDecoded?: TokenDescription; tokenOutDecoded?: TokenDescription } {
  const tokenInDecoded = decoded(event.tokenIn);
  const tokenOutDecoded = decoded(event.tokenOut);
  return { ...event, ...(tokenInDecoded && { tokenInDecoded }), ...(tokenOutDecoded && { tokenOutDecoded }) };
}

function decoded(base64: string | undefined): TokenDescription | undefined {
  if (base64 === undefined) return undefined;
  try {
    return describeToken(Buffer.from(base64, 'base64'));
  } catch (error) {
    // A token of another package (the example's), or one that only starts like NTLM or SPNEGO, keeps just its base64.
    if (error instanceof NtlmParseError || error instanceof DerError) return undefined;
    throw error;
  }
}
