// Fairness: how much one process flooding the LSA slows a well-behaved one. A victim client runs
// handshakes one at a time against a server; a flooder process floods the LSA. Each row has its
// baseline in the same run (the victim's latency alone, on the same machine, just before), and
// the floods are:
// - "SSPI acquires": 512 explicit-credential acquires kept in flight through the flooder's own
//   SSPI library (each makes the package read the identity back with CopyFromClientBuffer);
// - the same with the LSA scheduler's limits lifted (every call runs as soon as it is read; the
//   per-turn slicing and the library's 64 outstanding calls stay), to show what the scheduler adds;
// - "raw LPC frames": frames of 1,000 calls posted on the flooder's port, one a turn, never waiting
//   for a reply (what a process's code can do without its library): the LSA cuts it off; and the
//   same with the LSA in its own OS process (the frames then cross its socket).
// Runnable alone: node dist/bench/fairness.js [--package ntlm] [--duration S] [--json FILE].

import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packagesAlongside, type Account, type ProcessQuota } from '../lsa/index.js';
import { Machine, type LsaIsolation } from '../machine/index.js';
import { percentile } from './stats.js';

const SERVER_APP = fileURLToPath(new URL('./apps/handshake-server.js', import.meta.url));
const CLIENT_APP = fileURLToPath(new URL('./apps/handshake-client.js', import.meta.url));
const FLOOD_APP = fileURLToPath(new URL('./apps/flood.js', import.meta.url));

export interface FairnessOptions {
  /** The package's entry in the Security Packages list, e.g. "ntlm". */
  spec: string;
  account: Account;
  /** How long each phase (alone, flooded) of each row runs. */
  durationMs: number;
  /** Where the LSA runs for the rows that do not say (default a worker thread). */
  lsaIsolation?: LsaIsolation;
}

export type FloodKind =
  | 'SSPI acquires, 512 in flight'
  | 'SSPI acquires, scheduler limits lifted'
  | 'raw LPC frames of 1,000 calls'
  | 'raw LPC frames of 1,000 calls, LSA in its own process';

export interface FairnessRow {
  package: string;
  flood: FloodKind;
  lsaIsolation: LsaIsolation;
  /** Latency figures in ms; null when no handshake completed in the phase. */
  unloaded: { p50: number | null; p99: number | null; max: number | null; handshakes: number };
  flooded: { p50: number | null; p99: number | null; max: number | null; handshakes: number };
  /** flooded p99 / unloaded p99: the goal is at most 3 (null when either phase completed none). */
  p99Ratio: number | null;
  floodCalls: number;
  floodByStatus: Record<string, number>;
  /** Whether the LSA cut the flooder off. */
  cutOff: boolean;
}

/** No limit of the scheduler's that a flood can reach: every call runs as soon as it is read. */
const UNLIMITED: Partial<ProcessQuota> = { concurrentCalls: 1e9, runningCalls: 1e9, queuedCalls: 1e9 };

const SCENARIOS: ReadonlyArray<{ flood: FloodKind; quota?: Partial<ProcessQuota>; lsaIsolation?: LsaIsolation; args: Record<string, unknown> }> = [
  { flood: 'SSPI acquires, 512 in flight', args: { inFlight: 512 } },
  { flood: 'SSPI acquires, scheduler limits lifted', quota: UNLIMITED, args: { inFlight: 512 } },
  { flood: 'raw LPC frames of 1,000 calls', args: { raw: true, frame: 1_000 } },
  { flood: 'raw LPC frames of 1,000 calls, LSA in its own process', lsaIsolation: 'process', args: { raw: true, frame: 1_000 } },
];

export async function fairnessRows(options: FairnessOptions): Promise<FairnessRow[]> {
  const rows: FairnessRow[] = [];
  for (const scenario of SCENARIOS) {
    const lsaIsolation = scenario.lsaIsolation ?? options.lsaIsolation ?? 'thread';
    const machine = await Machine.boot({
      lsaIsolation,
      // Negotiate needs its mechanism (NTLM) loaded beside it, as every other row loads it.
      packages: [options.spec, ...packagesAlongside(options.spec)],
      accounts: [options.account],
      trace: false,
      ...(scenario.quota === undefined ? {} : { processQuota: scenario.quota }),
    });
    try {
      const name = (await machine.lsa.packages()).loaded[0]!.name;
      const server = await machine.spawn('server');
      const victim = await machine.spawn('client', { name: 'victim' });
      const flooder = await machine.spawn('client', { name: 'flooder' });
      const credentials = { user: options.account.user, domain: options.account.domain, password: options.account.password };
      // The flooded phase has no warm-up (the machine is warm from the first): what the flood does at its start counts.
      const handshakes = async (durationMs: number, warmupMs: number): Promise<number[]> => {
        const listen = `fair-${Math.random().toString(36).slice(2)}`;
        const serving = server.runApp(SERVER_APP, { name: listen, package: name, clients: 1 });
        const result = await victim.runApp(CLIENT_APP, { server: listen, package: name, ...credentials, concurrency: 1, durationMs, warmupMs });
        await serving;
        return (result.data as { latencies: number[] }).latencies.sort((a, b) => a - b);
      };
      const unloaded = await handshakes(options.durationMs, 200);
      const flood = flooder.runApp(FLOOD_APP, { package: name, ...credentials, ...scenario.args, durationMs: options.durationMs + 1_000 });
      const flooded = await handshakes(options.durationMs, 0);
      const floodResult = (await flood).data as { calls: number; byStatus: Record<string, number> };
      const cutOff = (await machine.lsa.stats()).disconnected.some((d) => d.name === 'flooder');
      const figures = (l: number[]) =>
        l.length === 0
          ? { p50: null, p99: null, max: null, handshakes: 0 }
          : { p50: round(percentile(l, 50)), p99: round(percentile(l, 99)), max: round(l.at(-1)!), handshakes: l.length };
      rows.push({
        package: name,
        flood: scenario.flood,
        lsaIsolation,
        unloaded: figures(unloaded),
        flooded: figures(flooded),
        p99Ratio: unloaded.length === 0 || flooded.length === 0 ? null : round(percentile(flooded, 99) / percentile(unloaded, 99)),
        floodCalls: floodResult.calls,
        floodByStatus: floodResult.byStatus,
        cutOff,
      });
    } finally {
      await machine.shutdown();
    }
  }
  return rows;
}

export function formatFairness(rows: FairnessRow[]): string {
  const out = ['fairness: a victim handshaking one at a time while another process floods the LSA'];
  out.push(
    'package   flood                                                      alone p50/p99/max ms   flooded p50/p99/max ms   p99 ratio (goal <= 3)   flood calls',
  );
  const f = (x: FairnessRow['unloaded']): string => `${x.p50 ?? '-'} / ${x.p99 ?? '-'} / ${x.max ?? '-'}`;
  for (const r of rows)
    out.push(
      `${r.package.padEnd(9)} ${r.flood.padEnd(58)} ${f(r.unloaded).padEnd(22)} ${f(r.flooded).padEnd(24)} ${String(r.p99Ratio ?? '-').padEnd(23)} ${r.floodCalls}${r.cutOff ? ' (cut off)' : ''}`,
    );
  return out.join('\n');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { json: { type: 'string' }, package: { type: 'string' }, duration: { type: 'string' } } });
  const rows = await fairnessRows({
    spec: values.package ?? 'ntlm',
    account: { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' },
    durationMs: Number(values.duration ?? 3) * 1000,
  });
  console.log(formatFairness(rows));
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(rows, null, 2));
}
