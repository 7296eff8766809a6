// `sspi-emu bench`: handshake and message throughput across the isolation boundaries, with the
// ideal and in-process baselines and a peer in the same run; a table on stdout, a progress bar on
// stderr when it is a terminal, --json with every figure and --svg a chart.

import { writeFile } from 'node:fs/promises';
import { DEFAULTS, QUICK, runBench, type BenchOptions, formatReport, formatSvg } from '../../bench/index.js';
import { flags, ISOLATION_OPTIONS, lsaIsolation, parseCommand, repeated, seconds, valued } from '../options.js';
import { UsageError } from '../usage.js';

function list(value: string | undefined, name: string): number[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => Number(s.trim()));
  if (items.length === 0 || items.some((n) => !Number.isInteger(n) || n < 1))
    throw new UsageError(`${name} takes whole numbers from 1, separated by commas, not ${JSON.stringify(value)}`);
  return items;
}

export async function bench(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, { ...valued('concurrency', 'clients', 'duration', 'json', 'svg'), ...repeated('package'), ...flags('quick', 'scale'), ...ISOLATION_OPTIONS });
  const base = values.quick ? QUICK : DEFAULTS;
  const duration = values.duration === undefined ? undefined : seconds(values.duration, '--duration', 0);
  const clients = list(values.clients, '--clients');
  if (clients !== undefined && clients.some((k) => k > 4))
    throw new UsageError(`--clients takes whole numbers from 1 to 4 (client processes), not ${JSON.stringify(values.clients)}`);
  const options: BenchOptions = {
    ...base,
    packages: values.package ?? ['null', 'example', 'ntlm'],
    concurrency: list(values.concurrency, '--concurrency') ?? base.concurrency,
    clients: clients ?? base.clients,
    durationMs: duration === undefined ? base.durationMs : duration * 1000,
    scale: values.scale === true,
    ...lsaIsolation(values['lsa-isolation']),
  };
  if (process.stderr.isTTY) {
    options.progress = (done, total, label) => {
      const width = 30;
      const filled = Math.round((done / total) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} ${label.slice(0, 60).padEnd(60)}`);
      if (done === total) process.stderr.write('\n');
    };
  }
  const report = await runBench(options);
  process.stdout.write(formatReport(report) + '\n');
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
  if (values.svg !== undefined) await writeFile(values.svg, formatSvg(report));
  return 0;
}
