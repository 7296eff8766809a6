// `sspi-emu soak`: a long load with about 1% of calls hit by faults (bench/soak.ts); exit 0 when
// the LSA's handles came back to the baseline, its heap did not grow, and the healthy handshakes'
// p99 stayed within 2x of the run without faults.

import { writeFile } from 'node:fs/promises';
import { runSoak } from '../../scenarios/index.js';
import { ISOLATION_OPTIONS, lsaIsolation, parseCommand, seconds, valued, wholeNumber } from '../options.js';
import { UsageError } from '../usage.js';

/** The built-in packages soak loads by name (Kerberos needs a realm and a KDC, which soak's machine has not). */
const PACKAGES = ['example', 'ntlm', 'negotiate', 'null'];

export async function soak(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, { ...valued('package', 'duration', 'fault-rate', 'seed', 'in-flight', 'json'), ...ISOLATION_OPTIONS });
  const duration = seconds(values.duration, '--duration', 600);
  const rate = values['fault-rate'];
  const faultRate = rate === undefined ? 0.01 : rate.trim() === '' ? NaN : Number(rate);
  if (!(faultRate >= 0 && faultRate <= 1)) throw new UsageError(`--fault-rate takes a share from 0 to 1, not ${JSON.stringify(rate)}`);
  const inFlight = wholeNumber(values['in-flight'], '--in-flight', 256, 1, 4096);
  const seed = wholeNumber(values.seed, '--seed', 1, 0, 0xffffffff);
  const pkg = values.package ?? 'example';
  // A built-in name in any case; a module path as written.
  const isPath = /[\\/]/.test(pkg);
  const spec = isPath ? pkg : pkg.toLowerCase();
  if (!isPath && !PACKAGES.includes(spec))
    throw new UsageError(`--package is one of ${PACKAGES.join(', ')}, or a package module's path, not ${JSON.stringify(pkg)}`);
  const report = await runSoak({
    spec,
    durationMs: duration * 1000,
    clients: 4,
    inFlightPerClient: inFlight,
    faultRate,
    seed,
    ...lsaIsolation(values['lsa-isolation']),
  });
  const phase = (name: string, p: typeof report.withFaults): string =>
    `${name}: ${p.hsPerSec} hs/s, ${p.completed} completed, ${p.failed} failed${
      p.failed > 0
        ? ` (${Object.entries(p.byStatus)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`
        : ''
    }, p50 ${p.p50Ms.toFixed(1)} ms, p99 ${p.p99Ms.toFixed(1)} ms`;
  process.stdout.write(
    [
      `soak: ${report.package}, 4 clients x ${report.options.inFlightPerClient} in flight, ${duration} s, fault rate ${faultRate}`,
      phase('without faults', report.withoutFaults),
      phase('with faults   ', report.withFaults),
      `faults injected: ${
        Object.entries(report.faultsInjected)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none'
      }`,
      `p99 with faults / without: ${report.p99Ratio} (goal <= 2): ${report.verdict.p99Within2x ? 'met' : 'NOT MET'}`,
      `LSA handles before / after reaping: ${report.lsaBefore.contexts}/${report.lsaAfter.contexts} contexts, ${report.lsaBefore.credentials}/${report.lsaAfter.credentials} credentials, ${report.lsaBefore.logonSessions}/${report.lsaAfter.logonSessions} logon sessions: ${report.verdict.handlesBack ? 'back at the baseline' : 'NOT back'}`,
      `LSA heap before / after: ${(report.lsaBefore.heapUsed / 1048576).toFixed(1)} / ${(report.lsaAfter.heapUsed / 1048576).toFixed(1)} MiB: ${report.verdict.heapFlat ? 'flat' : 'GREW'}`,
    ].join('\n') + '\n',
  );
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
  return report.verdict.handlesBack && report.verdict.heapFlat && report.verdict.p99Within2x ? 0 : 1;
}
