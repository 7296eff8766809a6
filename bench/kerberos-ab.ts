// Two builds' cached-ticket Kerberos handshakes in one run, alternated: this tree's and another
// build's (a copy of an earlier dist/), each with its own domain controller and member machine in
// this OS process. Windows alternate A B, B A, ... so that both builds see the same moments of a
// shared machine's load; each row gives the medians of the windows' hs/s and their paired ratio
// (bench/stats.ts pairedRatio), and, what load moves least, CPU per handshake: of the whole OS
// process (process.cpuUsage: every thread, V8's helpers included) and of its busiest thread in the
// window, the member machine's LSA (Linux's /proc/self/task; left out elsewhere).
// Only one build's machines work at a time; the other's stand idle.
//
//   on the commit before the change, after npm run build:
//     mkdir /tmp/before && cp -r dist package.json /tmp/before/ && ln -s "$PWD/node_modules" /tmp/before/
//   then on the change:
//     node dist/bench/kerberos-ab.js --baseline /tmp/before/dist [--duration S] [--repetitions N] [--concurrency 1,16]
//
// The baseline's dist/ needs its tree's package.json beside it ("type": "module") and a
// node_modules it can resolve.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Account } from '../lsa/index.js';
import type { HandshakeRun } from './handshakes.js';
import { median, pairedRatio, round } from './stats.js';

const REALM = 'BENCH.TEST';
const ACCOUNT: Account = { user: 'alice', domain: REALM, password: 'Passw0rd!' };
const SERVICE = 'host/localhost';

/** What one build's modules give this bench (its Machine and HandshakeBench, loaded from its dist/). */
interface BuildSide {
  label: string;
  run(concurrency: number, durationMs: number, warmupMs: number): Promise<HandshakeRun>;
  stop(): Promise<void>;
}

interface Window {
  hsPerSec: number;
  /** CPU of the whole OS process per handshake started (warm-up included, as the CPU is). */
  processCpuUs: number;
  /** CPU of the busiest thread per handshake started: the member's LSA; NaN without /proc. */
  busiestThreadCpuUs: number;
  failures: number;
}

export interface KerberosAbRow {
  concurrency: number;
  baseline: { hsPerSec: number; processCpuUsPerHs: number; lsaCpuUsPerHs: number; windows: number[] };
  current: { hsPerSec: number; processCpuUsPerHs: number; lsaCpuUsPerHs: number; windows: number[] };
  /** Median of each repetition's current / baseline hs/s. */
  hsRatio: number;
  /** Median of each repetition's current / baseline CPU per handshake (below 1: cheaper). */
  processCpuRatio: number;
  lsaCpuRatio: number;
  failures: number;
}

async function buildSide(label: string, dist: string, dir: string): Promise<BuildSide> {
  const { Machine } = (await import(pathToFileURL(join(dist, 'machine/index.js')).href)) as typeof import('../machine/index.js');
  const { HandshakeBench } = (await import(pathToFileURL(join(dist, 'bench/handshakes.js')).href)) as typeof import('./handshakes.js');
  const dc = await Machine.boot({ role: 'domain-controller', realm: REALM, accounts: [ACCOUNT], services: [SERVICE], trace: false });
  try {
    const keytab = join(dir, `${label}.keytab`);
    await writeFile(keytab, await dc.lsa.exportKeytab(), { mode: 0o600 });
    const kdc = `${dc.kdcAddress!.host}:${dc.kdcAddress!.port}`;
    const member = await HandshakeBench.start('kerberos', ACCOUNT, { packageSettings: { kerberos: { realm: REALM, kdc, keytab } } });
    return {
      label,
      run: (concurrency, durationMs, warmupMs) => member.run(concurrency, 1, durationMs, warmupMs, 0, { target: SERVICE }),
      stop: async () => {
        await member.stop();
        await dc.shutdown();
      },
    };
  } catch (error) {
    await dc.shutdown();
    throw error;
  }
}

/** CPU ms of each thread of this process (Linux); empty elsewhere. */
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync('/proc/self/task')) return out;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(tid, (Number(fields[11]) + Number(fields[12])) * 10); // utime + stime, in USER_HZ ticks of 10 ms
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

async function measure(side: BuildSide, concurrency: number, durationMs: number, warmupMs: number): Promise<Window> {
  const threadsBefore = threadCpuMs();
  const before = process.cpuUsage();
  const run = await side.run(concurrency, durationMs, warmupMs);
  const used = process.cpuUsage(before);
  const threadsAfter = threadCpuMs();
  let busiest = threadsAfter.size === 0 ? NaN : 0;
  for (const [tid, ms] of threadsAfter) busiest = Math.max(busiest, ms - (threadsBefore.get(tid) ?? 0));
  const started = Math.max(1, run.started ?? 0);
  return { hsPerSec: run.hsPerSec, processCpuUs: (used.user + used.system) / started, busiestThreadCpuUs: (busiest * 1000) / started, failures: run.failures };
}

export async function kerberosAb(options: {
  baselineDist: string;
  durationMs: number;
  repetitions: number;
  concurrency: number[];
  progress?: (line: string) => void;
}): Promise<KerberosAbRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sspi-emu-bench-krb-ab-'));
  const sides: BuildSide[] = [];
  try {
    sides.push(await buildSide('baseline', resolve(options.baselineDist), dir));
    sides.push(await buildSide('current', fileURLToPath(new URL('..', import.meta.url)), dir));
    // Warm both paths first: V8's first seconds of a path are not its speed.
    for (const side of sides) await side.run(16, 3_000, 0);
    const rows: KerberosAbRow[] = [];
    for (const concurrency of options.concurrency) {
      const windows: Record<string, Window[]> = { baseline: [], current: [] };
      for (let r = 0; r < options.repetitions; r++) {
        for (const side of r % 2 === 0 ? sides : [...sides].reverse()) windows[side.label]!.push(await measure(side, concurrency, options.durationMs, 300));
      }
      const [base, cur] = [windows.baseline!, windows.current!];
      const summary = (w: Window[]) => ({
        hsPerSec: Math.round(median(w.map((x) => x.hsPerSec))),
        processCpuUsPerHs: Math.round(median(w.map((x) => x.processCpuUs))),
        lsaCpuUsPerHs: Math.round(median(w.map((x) => x.busiestThreadCpuUs))),
        windows: w.map((x) => Math.round(x.hsPerSec)),
      });
      const ratio = (pick: (x: Window) => number): number => round(pairedRatio(cur.map((x, i) => [pick(x), pick(base[i]!)] as const)), 3);
      rows.push({
        concurrency,
        baseline: summary(base),
        current: summary(cur),
        hsRatio: ratio((x) => x.hsPerSec),
        processCpuRatio: ratio((x) => x.processCpuUs),
        lsaCpuRatio: ratio((x) => x.busiestThreadCpuUs),
        failures: [...base, ...cur].reduce((n, x) => n + x.failures, 0),
      });
      options.progress?.(`${concurrency} in flight done`);
    }
    return rows;
  } finally {
    for (const side of sides) await side.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatKerberosAb(rows: KerberosAbRow[]): string {
  const header = [
    'in flight',
    'hs/s before',
    'hs/s after',
    'x hs/s',
    'CPU us/hs before',
    'after',
    'x CPU',
    'LSA CPU us/hs before',
    'after',
    'x LSA CPU',
    'failures',
  ];
  const body = rows.map((r) => [
    String(r.concurrency),
    r.baseline.hsPerSec.toLocaleString('en-US'),
    r.current.hsPerSec.toLocaleString('en-US'),
    String(r.hsRatio),
    String(r.baseline.processCpuUsPerHs),
    String(r.current.processCpuUsPerHs),
    String(r.processCpuRatio),
    String(r.baseline.lsaCpuUsPerHs),
    String(r.current.lsaCpuUsPerHs),
    String(r.lsaCpuRatio),
    String(r.failures),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [
    'Cached-ticket Kerberos handshakes, this build (after) against the baseline build (before), windows alternated; medians of the',
    "windows, x: the median of the repetitions' own after / before; CPU per handshake started: the OS process's, and its busiest thread's (the member's LSA)",
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      baseline: { type: 'string' },
      duration: { type: 'string' },
      repetitions: { type: 'string' },
      concurrency: { type: 'string' },
      json: { type: 'string' },
    },
  });
  if (values.baseline === undefined) {
    process.stderr.write('usage: node dist/bench/kerberos-ab.js --baseline DIST [--duration S] [--repetitions N] [--concurrency 1,16] [--json FILE]\n');
    process.exit(2);
  }
  const rows = await kerberosAb({
    baselineDist: values.baseline,
    durationMs: Number(values.duration ?? 2) * 1000,
    repetitions: Number(values.repetitions ?? 6),
    concurrency: (values.concurrency ?? '1,16').split(',').map(Number),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(formatKerberosAb(rows));
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(rows, null, 2) + '\n');
}
