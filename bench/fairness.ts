// Fairness: how much one process flooding the LSA slows a well-behaved one. A victim client runs
// handshakes one at a time against a server; a flooder process keeps hundreds of explicit-
// credential acquires in flight. Each row has its baseline in the same run: the victim's latency
// alone, then beside the flood, with the LSA's scheduler as configured (lsa/scheduler.ts) and with
// its limits lifted (every call runs at once, as before the scheduler), so the ratio shows what the
// round-robin buys. Runnable alone: node dist/bench/fairness.js [--json FILE].

import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Account } from '../lsa/accounts.js';
import type { ProcessQuota } from '../lsa/config.js';
import { Machine } from '../machine/machine.js';
import { percentile } from './stats.js';

const SERVER_APP = fileURLToPath(new URL('./apps/handshake-server.js', import.meta.url));
const CLIENT_APP = fileURLToPath(new URL('./apps/handshake-client.js', import.meta.url));
const FLOOD_APP = fileURLToPath(new URL('./apps/flood.js', import.meta.url));

export interface FairnessOptions {
  /** The package's entry in the Security Packages list, e.g. "ntlm". */
  spec: string;
  account: Account;
  durationMs: number;
  /** The flooder's acquires in flight. */
  floodInFlight: number;
  /** Instead: the flooder's acquires all made at once, in one turn (0: none). */
  floodBurst?: number;
  /** The flooder keeps what it acquires (into its quota). */
  floodHold?: boolean;
  /** The flooder posts raw LPC frames of this many calls, one a turn, never waiting for replies (0: it uses its SSPI library). */
  floodRawFrame?: number;
}

export interface FairnessRow {
  package: string;
  scheduler: 'default limits' | 'no limits';
  unloaded: { p50: number; p99: number; handshakes: number };
  flooded: { p50: number; p99: number; handshakes: number };
  /** flooded p99 / unloaded p99: the goal is at most 3. */
  p99Ratio: number;
  floodCalls: number;
  floodByStatus: Record<string, number>;
}

/** No limit that a flood can reach: every call runs as soon as it arrives. */
const UNLIMITED: Partial<ProcessQuota> = { concurrentCalls: 1e9, runningCalls: 1e9, queuedCalls: 1e9 };

export async function fairnessRows(options: FairnessOptions): Promise<FairnessRow[]> {
  const rows: FairnessRow[] = [];
  for (const scheduler of ['default limits', 'no limits'] as const) {
    const machine = await Machine.boot({
      packages: [options.spec],
      accounts: [options.account],
      trace: false,
      ...(scheduler === 'no limits' ? { processQuota: UNLIMITED } : {}),
    });
    try {
      const name = (await machine.lsa.packages()).loaded[0]!.name;
      const server = await machine.spawn('server');
      const victim = await machine.spawn('client', { name: 'victim' });
      const flooder = await machine.spawn('client', { name: 'flooder' });
      const credentials = { user: options.account.user, domain: options.account.domain, password: options.account.password };
      const handshakes = async (durationMs: number): Promise<number[]> => {
        const listen = `fair-${Math.random().toString(36).slice(2)}`;
        const serving = server.runApp(SERVER_APP, { name: listen, package: name, clients: 1 });
        const result = await victim.runApp(CLIENT_APP, { server: listen, package: name, ...credentials, concurrency: 1, durationMs, warmupMs: 200 });
        await serving;
        return (result.data as { latencies: number[] }).latencies;
      };
      const unloaded = await handshakes(options.durationMs);
      const flood = flooder.runApp(FLOOD_APP, {
        package: name,
        ...credentials,
        inFlight: options.floodInFlight,
        burst: options.floodBurst ?? 0,
        hold: options.floodHold === true,
        raw: (options.floodRawFrame ?? 0) > 0,
        frame: options.floodRawFrame ?? 0,
        durationMs: options.durationMs + 1_000,
      });
      const flooded = await handshakes(options.durationMs);
      const floodResult = (await flood).data as { calls: number; byStatus: Record<string, number> };
      unloaded.sort((a, b) => a - b);
      flooded.sort((a, b) => a - b);
      const figures = (l: number[]) => ({ p50: round(percentile(l, 50)), p99: round(percentile(l, 99)), handshakes: l.length });
      const row: FairnessRow = {
        package: name,
        scheduler,
        unloaded: figures(unloaded),
        flooded: figures(flooded),
        p99Ratio: round(percentile(flooded, 99) / percentile(unloaded, 99)),
        floodCalls: floodResult.calls,
        floodByStatus: floodResult.byStatus,
      };
      rows.push(row);
    } finally {
      await machine.shutdown();
    }
  }
  return rows;
}

export function formatFairness(rows: FairnessRow[]): string {
  const out = ['fairness: a victim handshaking one at a time while another process floods the LSA with acquires'];
  out.push('package   scheduler        unloaded p50/p99 ms   flooded p50/p99 ms   p99 ratio (goal <= 3)   flood calls');
  for (const r of rows)
    out.push(
      `${r.package.padEnd(9)} ${r.scheduler.padEnd(16)} ${`${r.unloaded.p50} / ${r.unloaded.p99}`.padEnd(21)} ${`${r.flooded.p50} / ${r.flooded.p99}`.padEnd(20)} ${String(r.p99Ratio).padEnd(23)} ${r.floodCalls}`,
    );
  return out.join('\n');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { json: { type: 'string' }, package: { type: 'string' }, duration: { type: 'string' }, 'in-flight': { type: 'string' }, burst: { type: 'string' }, hold: { type: 'boolean' }, raw: { type: 'string' } },
  });
  const rows = await fairnessRows({
    spec: values.package ?? 'ntlm',
    account: { user: 'alice', domain: 'SSPI-EMU', password: 'Passw0rd!' },
    durationMs: Number(values.duration ?? 3) * 1000,
    floodInFlight: Number(values['in-flight'] ?? 512),
    floodBurst: Number(values.burst ?? 0),
    floodHold: values.hold === true,
    floodRawFrame: Number(values.raw ?? 0),
  });
  console.log(formatFairness(rows));
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(rows, null, 2));
}
