// `sspi-emu run --domain`: a domain of three machines, each its own OS process (scenarios/domain.ts):
// a domain controller (`sspi-emu dc`), a member server (`serve --tcp`, or `--http`) with the keytab
// the DC exported for it, and a workstation (`connect`, or `fetch`) logging on as a domain user
// through the DC's KDC; then the three timelines merged on one clock, one line per event with its
// machine, and the result: the workstation's status, the package that authenticated (Negotiate
// picks Kerberos), each machine's pid and end. Each machine's start is told on stderr as it
// happens. SIGINT or SIGTERM stops every machine (exit 130); a machine that fails to start or dies
// is named with its stderr (exit 1).

import { writeFile } from 'node:fs/promises';
import { formatHtml, formatMermaid, formatTimeline, toChromeTrace } from '../../machine/index.js';
import { BUILTIN_PACKAGES } from '../../lsa/index.js';
import { DomainError, runDomain, type DomainReport } from '../../scenarios/index.js';
import {
  accountSpecs,
  flags,
  INSPECT_OPTIONS,
  ISOLATION_OPTIONS,
  lsaIsolation,
  PACKAGE_OPTIONS,
  parseCommand,
  REALM_OPTIONS,
  repeated,
  valued,
  wholeNumber,
} from '../options.js';
import { UsageError } from '../usage.js';
import { stopSignal } from '../watch.js';

/** The exit status of a run stopped by SIGINT or SIGTERM (128 + SIGINT's number, as shells report it). */
const INTERRUPTED_EXIT = 130;

/**
 * The built-in packages the member and the workstation can authenticate a domain user with: the
 * member holds no domain user's password, so the package must go through the DC (Kerberos its
 * KDC, NTLM its Netlogon; Negotiate picks one). Example checks the password on the member itself
 * (SEC_E_LOGON_DENIED), and Null is no security package.
 */
const DOMAIN_PACKAGES = ['Negotiate', 'Kerberos', 'NTLM'];

export async function runDomainCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    ...PACKAGE_OPTIONS,
    ...ISOLATION_OPTIONS,
    ...REALM_OPTIONS,
    ...INSPECT_OPTIONS,
    ...valued('user', 'password', 'message', 'mermaid', 'chrome-trace', 'html', 'messages', 'target', 'dc', 'machine'),
    ...repeated('account'),
    ...flags('http', 'json', 'quiet', 'watch'),
  });
  for (const [given, option] of [
    [values.kdc, '--kdc'],
    [values.keytab, '--keytab'],
    [values.messages, '--messages'],
    [values.target, '--target'],
    [values.watch, '--watch'],
    [values.dc, '--dc'],
    [values.machine, '--machine'],
    [values.inspect, '--inspect'],
    [values['inspect-brk'], '--inspect-brk'],
  ] as const)
    if (given !== undefined)
      throw new UsageError(
        `${option} goes without --domain (the domain makes its own KDC, keytab, target and join; the workstation sends one --message; each machine is its own OS process)`,
      );
  const pkg = values.package;
  if (
    pkg !== undefined &&
    !DOMAIN_PACKAGES.some((p) => p.toLowerCase() === pkg.toLowerCase()) &&
    // A package of a --load module is the module's to name: its machines load it (or say why not).
    (values.load === undefined || BUILTIN_PACKAGES.has(pkg.toLowerCase()))
  )
    throw new UsageError(`--package with --domain is ${DOMAIN_PACKAGES.join(', ')} or a package of a --load module, not ${JSON.stringify(pkg)}`);
  if (values.http && values.message !== undefined) throw new UsageError('--message goes with the TCP member (without --http): fetch sends a GET');
  if (values.realm !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(values.realm))
    throw new UsageError(`--realm ${JSON.stringify(values.realm)} is not a realm name (EXAMPLE.TEST)`);
  const accounts = accountSpecs(values.account);
  const deadlineMs = values.deadline === undefined ? undefined : wholeNumber(values.deadline, '--deadline', 0, 1, 24 * 3600 * 1000);
  // --user DOMAIN\user names the user's domain (--domain, alone, is this mode).
  const slash = values.user?.indexOf('\\') ?? -1;
  const user = values.user === undefined ? undefined : values.user.slice(slash + 1);
  if (user === '') throw new UsageError('--user is empty');
  if (user !== undefined && values.password === undefined && !(accounts ?? []).some((a) => a.slice(0, a.indexOf(':')).toLowerCase() === user.toLowerCase()))
    throw new UsageError(`--user ${user} needs --password, or an --account of that name`);
  const isolation = lsaIsolation(values['lsa-isolation']).lsaIsolation;

  const stop = stopSignal();
  let report: DomainReport;
  try {
    report = await runDomain({
      app: values.http ? 'http' : 'tcp',
      ...(values.realm === undefined ? {} : { realm: values.realm }),
      ...(values.package === undefined ? {} : { package: values.package }),
      ...(accounts === undefined ? {} : { accounts }),
      ...(user === undefined ? {} : { user }),
      ...(slash > 0 ? { domain: values.user!.slice(0, slash) } : {}),
      ...(values.password === undefined ? {} : { password: values.password }),
      ...(values.load === undefined ? {} : { load: values.load }),
      ...(isolation === undefined ? {} : { lsaIsolation: isolation }),
      ...(values.message === undefined ? {} : { message: values.message }),
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
      ...(values.quiet ? {} : { onProgress: (line: string) => process.stderr.write(`sspi-emu run: ${line}\n`) }),
      signal: stop.signal,
    });
  } catch (error) {
    if (error instanceof DomainError && error.code === 'ABORTED') {
      process.stderr.write(`sspi-emu run: interrupted; every machine of the domain has stopped\n`);
      return INTERRUPTED_EXIT;
    }
    throw error;
  } finally {
    stop.release();
  }
  await show(report, values);
  return report.ok ? 0 : 1;
}

/** What `run --domain` prints and writes. */
async function show(
  report: DomainReport,
  values: { json?: boolean; quiet?: boolean; mermaid?: string; 'chrome-trace'?: string; html?: string },
): Promise<void> {
  const lines = summary(report);
  if (values.mermaid !== undefined) await writeFile(values.mermaid, formatMermaid(report.events));
  if (values['chrome-trace'] !== undefined) await writeFile(values['chrome-trace'], JSON.stringify(toChromeTrace(report.events)));
  if (values.html !== undefined)
    await writeFile(values.html, formatHtml(report.events, { title: `sspi-emu run --domain: ${report.package} in ${report.realm}`, summary: lines }));
  if (values.json) {
    process.stdout.write(
      JSON.stringify(
        {
          status: report.statusName,
          failedFirst: report.failedFirst,
          detail: report.detail,
          mechanism: report.mechanism,
          package: report.package,
          realm: report.realm,
          app: report.app,
          ...(report.error === undefined ? {} : { error: report.error }),
          machines: report.machines,
          origin: report.origin,
          missingTraces: report.missingTraces,
          events: report.events,
        },
        null,
        2,
      ) + '\n',
    );
    return;
  }
  if (!values.quiet && report.events.length > 0) process.stdout.write(formatTimeline(report.events) + '\n\n');
  process.stdout.write(lines.join('\n') + '\n');
}

/** The result lines: the status and who said it, the package that authenticated, each machine. */
function summary(report: DomainReport): string[] {
  // A machine that failed is named by what happened to it (MACHINE_FAILED, MACHINE_DIED, DEADLINE), not by an SSPI status.
  const lines = [`${report.error?.code ?? report.statusName}: ${report.failedFirst ?? 'workstation'}: ${report.detail}`];
  if (report.mechanism !== null)
    lines.push(
      `package: ${report.mechanism}${report.package.toLowerCase() === 'negotiate' && report.mechanism.toLowerCase() !== 'negotiate' ? ', chosen by Negotiate' : ''}`,
    );
  lines.push('machines, each its own OS process:');
  const width = Math.max(...report.machines.map((m) => m.name.length));
  for (const m of report.machines) {
    const end = m.exit === undefined ? 'running' : m.exit.signal !== null ? `ended by ${m.exit.signal}` : `exit ${m.exit.code}`;
    const last = m.stdout.filter((l) => l.trim() !== '').at(-1);
    const events = m.traceEvents === null ? 'no trace' : `${m.traceEvents} trace events`;
    lines.push(`  ${m.name.padEnd(width)}  pid ${String(m.pid ?? '?').padEnd(7)} ${m.command}, ${end}, ${events}${last === undefined ? '' : `: ${last}`}`);
  }
  for (const missing of report.missingTraces) if (report.error === undefined) lines.push(`  (${missing.why})`);
  return lines;
}
