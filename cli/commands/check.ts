// `sspi-emu check`: the conformance suite (check/) against the packages of a module, or one
// package by name; a table of checks (or --json), exit 0 when every check passed, 1 naming the
// failures.

import { formatCheckReport, runCheck, type CheckOptions } from '../../check/index.js';
import { flags, inspection, ISOLATION_OPTIONS, lsaIsolation, PACKAGE_OPTIONS, parseCommand, repeated, valued } from '../options.js';
import { UsageError } from '../usage.js';

export async function check(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    ...PACKAGE_OPTIONS,
    ...valued('timeout'),
    ...flags('json'),
    ...ISOLATION_OPTIONS,
    ...repeated('inspect', 'inspect-brk'),
  });
  if ((values.load ?? []).length === 0 && values.package === undefined) throw new UsageError('check needs --load MODULE or --package NAME');
  // --timeout is the suite's deadline for package calls; --inspect adds no other.
  const { inspect, onInspector } = inspection(
    values,
    ['lsa', 'client', 'server'],
    undefined,
    `the machine's deadlines are 10 minutes${values.timeout === undefined ? " (--timeout MS sets the package calls')" : `, package calls ${values.timeout} ms`}; the suite's applications wait 10 s for each other`,
  );
  const options: CheckOptions = {
    load: values.load ?? [],
    ...lsaIsolation(values['lsa-isolation']),
    ...(inspect === undefined ? {} : { inspect }),
    ...(onInspector === undefined ? {} : { onInspector }),
  };
  if (values.package !== undefined) options.package = values.package;
  if (values.timeout !== undefined) {
    const ms = Number(values.timeout);
    if (!Number.isInteger(ms) || ms < 1 || ms > 600_000)
      throw new UsageError(`--timeout takes milliseconds from 1 to 600000, not ${JSON.stringify(values.timeout)}`);
    options.packageCallTimeoutMs = ms;
  }
  const report = await runCheck(options);
  if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(formatCheckReport(report) + '\n');
  if (!report.ok && values.json)
    process.stderr.write(`sspi-emu check: ${report.failed.length === 0 ? 'no package was checked' : `failed: ${report.failed.join(', ')}`}\n`);
  return report.ok ? 0 : 1;
}
