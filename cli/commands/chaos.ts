// `sspi-emu chaos`: handshakes and messages under a seeded random schedule of faults; exit 0 only
// when nothing hung and the LSA holds nothing once every dead process was reaped.

import { writeFile } from 'node:fs/promises';
import { runChaos, runDomainChaos } from '../../scenarios/index.js';
import { ISOLATION_OPTIONS, lsaIsolation, parseCommand, seconds, wholeNumber } from '../options.js';
import { UsageError } from '../usage.js';

const PACKAGES: Record<string, { spec: string; name: string }> = {
  example: { spec: 'example', name: 'Example' },
  ntlm: { spec: 'ntlm', name: 'NTLM' },
  negotiate: { spec: 'negotiate', name: 'Negotiate' },
};

export async function chaos(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, {
    package: { type: 'string' },
    duration: { type: 'string' },
    seed: { type: 'string' },
    clients: { type: 'string' },
    json: { type: 'string' },
    scenario: { type: 'string' },
    ...ISOLATION_OPTIONS,
  });
  const scenario = values.scenario ?? 'machine';
  if (scenario !== 'machine' && scenario !== 'domain') throw new UsageError(`--scenario is machine or domain, not ${JSON.stringify(scenario)}`);
  if (scenario === 'domain') {
    if (values.package !== undefined) throw new UsageError('--scenario domain runs NTLM (pass-through) and the KDC: it takes no --package');
    return domainChaos(values);
  }
  const pkg = PACKAGES[(values.package ?? 'example').toLowerCase()];
  if (pkg === undefined) throw new UsageError(`--package is one of ${Object.keys(PACKAGES).join(', ')}`);
  const duration = seconds(values.duration, '--duration', 30);
  const seed = wholeNumber(values.seed, '--seed', 1, 0, 0xffffffff);
  const report = await runChaos({
    package: pkg.name,
    spec: pkg.spec,
    durationMs: duration * 1000,
    seed,
    clients: wholeNumber(values.clients, '--clients', 3, 1, 64),
    lanes: 2,
    faultIntervalMs: 400,
    hangMs: 15_000,
    ...lsaIsolation(values['lsa-isolation']),
    ...(process.stderr.isTTY
      ? { progress: (t: number, total: number, summary: string) => process.stderr.write(`\r${Math.round(t / 1000)}/${total / 1000} s  ${summary}`.padEnd(70)) }
      : {}),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const lines = [
    `chaos: ${report.package}, seed ${report.seed}, ${report.durationMs / 1000} s`,
    `faults injected: ${
      Object.entries(report.faults)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
    `handshakes: ${report.handshakes.completed} completed, ${report.handshakes.failed} failed with a status` +
      (report.handshakes.failed > 0
        ? ` (${Object.entries(report.handshakes.byStatus)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`
        : ''),
    `hangs: ${report.hangs}`,
    `LSA restarts: ${report.lsaRestarts}; processes respawned: ${report.processesRespawned}`,
    `left in the LSA after reaping: ${report.lsaLeft.contexts} contexts, ${report.lsaLeft.credentials} credentials, ${report.lsaLeft.logonSessions} logon sessions, ${report.lsaLeft.processes} processes, ${report.lsaLeft.nested} nested handles`,
    `LSA heap: ${(report.lsaHeap.before / 1048576).toFixed(1)} MiB at start, ${(report.lsaHeap.after / 1048576).toFixed(1)} MiB at the end${report.lsaRestarts > 0 ? ' (of the last LSA)' : ''}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
  const clean =
    report.hangs === 0 && report.lsaLeft.contexts === 0 && report.lsaLeft.credentials === 0 && report.lsaLeft.processes === 0 && report.lsaLeft.nested === 0;
  return clean ? 0 : 1;
}

/** `chaos --scenario domain`: the DC killed and stalled mid-exchange under NTLM pass-through and KDC load (scenarios/domain-chaos.ts). */
async function domainChaos(values: { duration?: string; seed?: string; clients?: string; json?: string; 'lsa-isolation'?: string }): Promise<number> {
  const duration = seconds(values.duration, '--duration', 30);
  const report = await runDomainChaos({
    durationMs: duration * 1000,
    seed: wholeNumber(values.seed, '--seed', 1, 0, 0xffffffff),
    lanes: wholeNumber(values.clients, '--clients', 2, 1, 16),
    faultIntervalMs: 700,
    timeoutMs: 2_000,
    hangMs: 30_000,
    ...lsaIsolation(values['lsa-isolation']),
    ...(process.stderr.isTTY
      ? { progress: (t: number, total: number, summary: string) => process.stderr.write(`\r${Math.round(t / 1000)}/${total / 1000} s  ${summary}`.padEnd(90)) }
      : {}),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const counts = (c: { completed: number; failed: number; byStatus: Record<string, number> }): string =>
    `${c.completed} completed, ${c.failed} failed` +
    (c.failed > 0
      ? ` (${Object.entries(c.byStatus)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`
      : '');
  const lines = [
    `chaos: the domain (a DC, a member server), seed ${report.seed}, ${report.durationMs / 1000} s`,
    `faults on the DC: ${
      Object.entries(report.faults)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }${report.notReached > 0 ? `; ${report.notReached} kills no request reached` : ''}`,
    `NTLM pass-through: ${counts(report.ntlm)}`,
    `Kerberos (a TGT and a service ticket each run): ${counts(report.kerberos)}`,
    `hangs: ${report.hangs}; slowest failure: ${report.slowestFailureMs} ms; DC restarts: ${report.dcRestarts}`,
    `unexpected outcomes: ${
      Object.entries(report.unexpected)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
    `recovered once the DC was back: ${report.recovered ? 'yes' : 'no'}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
  return report.hangs === 0 && Object.keys(report.unexpected).length === 0 && report.recovered ? 0 : 1;
}
