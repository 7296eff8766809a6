// The fuzz report as text: per package, per generator the inputs and the answers by status name,
// then each invariant with its figure, then the first offending input with its seed, its hex and
// the command that replays it.

import type { Offender } from './app.js';
import { offences, type FuzzReport, type PackageFuzzReport } from './runner.js';

/** How much of an offending input the text report shows. */
const TEXT_HEX_BYTES = 256;
const n = (value: number): string => value.toLocaleString('en-US');
const mib = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(2)} MiB`;
const signedMib = (bytes: number): string => `${bytes >= 0 ? '+' : '-'}${mib(Math.abs(bytes))}`;

function packageSection(p: PackageFuzzReport): string[] {
  const seconds = p.durationMs / 1000;
  // A built-in package fuzzed with the generic generators says so (it may appear twice: its own, then those).
  const named =
    (p.packageKey.toLowerCase() === p.packageName.toLowerCase() ? '' : ` (${p.packageName})`) +
    (p.sets.length === 1 && p.sets[0] === 'generic' && p.packageKey !== p.packageName ? ', generic generators' : '');
  const lines = [`${p.packageKey}${named}: ${n(p.inputs)} inputs in ${seconds.toFixed(1)} s (${n(Math.round(p.inputs / Math.max(seconds, 0.001)))} inputs/s)`];
  const nameWidth = Math.max(...p.generators.map((g) => g.generator.length), 9);
  const fnWidth = Math.max(...p.generators.map((g) => g.fn.length), 8);
  lines.push(`  ${'generator'.padEnd(nameWidth)}  ${'function'.padEnd(fnWidth)}  ${'inputs'.padStart(7)}  answers`);
  for (const g of p.generators) {
    const answers = Object.entries(g.statuses)
      .sort((a, b) => b[1] - a[1])
      .map(([status, count]) => `${status} ${n(count)}`)
      .join(', ');
    lines.push(`  ${g.generator.padEnd(nameWidth)}  ${g.fn.padEnd(fnWidth)}  ${n(g.inputs).padStart(7)}  ${answers}`);
  }
  for (const s of p.skipped) lines.push(`  ${s.generator.padEnd(nameWidth)}  skipped: ${s.why}`);
  const sum = (key: 'exceptions' | 'internalErrors' | 'undocumented' | 'expectations' | 'cleanup'): number => p.generators.reduce((s, g) => s + g[key], 0);
  const { before, after } = p.lsa;
  lines.push(
    `  unhandled exceptions  ${n(sum('exceptions') + p.crashes.length)}${p.crashes.length > 0 ? ` (${p.crashes.join('; ')})` : ''}`,
    `  internal errors       ${n(sum('internalErrors'))}`,
    `  undocumented answers  ${n(sum('undocumented'))}`,
    `  broken expectations   ${n(sum('expectations'))}`,
    `  failed cleanups       ${n(sum('cleanup'))}`,
    `  hangs                 ${n(p.hangs)}`,
    `  LSA alive             ${p.lsaAlive ? 'yes' : 'NO'}; a fresh handshake and sealed message after the run: ${p.goodHandshake}`,
    // Of an LSA that is gone nothing is left to count: its tables and heap went with it.
    p.lsaAlive
      ? `  contexts left         ${after.contexts - before.contexts} (LSA contexts ${before.contexts} -> ${after.contexts}, credentials ${before.credentials} -> ${after.credentials}, logon sessions ${before.logonSessions} -> ${after.logonSessions}, nested handles ${before.nested} -> ${after.nested})`
      : `  contexts left         not counted: the LSA is gone (at boot: contexts ${before.contexts}, credentials ${before.credentials}, logon sessions ${before.logonSessions}, nested handles ${before.nested})`,
    p.lsaAlive
      ? `  LSA heap              ${mib(p.heap.bootBytes)} at boot, ${mib(p.heap.warmBytes)} after the warm-up batch, ${mib(p.heap.afterBytes)} after the run${p.heap.settledBytes === undefined ? '' : `, ${mib(p.heap.settledBytes)} once the replay cache's window had passed`} (${signedMib(p.heap.growthBytes)}; tolerance ${mib(p.heap.toleranceBytes)}): ${p.heap.flat ? 'flat' : 'GREW'}`
      : `  LSA heap              ${mib(p.heap.bootBytes)} at boot, ${mib(p.heap.warmBytes)} after the warm-up batch; not measured after the run: the LSA is gone`,
  );
  if (p.kdcHeap !== undefined)
    lines.push(
      `  DC's LSA heap (KDC)   ${mib(p.kdcHeap.bootBytes)} at boot, ${mib(p.kdcHeap.warmBytes)} after the warm-up batch, ${mib(p.kdcHeap.afterBytes)} after the run (${signedMib(p.kdcHeap.growthBytes)}; tolerance ${mib(p.kdcHeap.toleranceBytes)}): ${p.kdcHeap.flat ? 'flat' : 'GREW'}`,
    );
  return lines;
}

export function formatOffender(o: Offender & { replay?: string; package?: string }): string[] {
  const pkg = o.package === undefined || o.generator.startsWith(`${o.package}/`) ? '' : `${o.package}: `;
  const where =
    o.index < 0
      ? `${pkg}${o.generator} (outside any input)`
      : `${pkg}${o.generator} input #${o.index} (seed ${o.seed}, input seed 0x${o.inputSeed.toString(16).padStart(8, '0')})`;
  const lines = [`first offending input: ${where}`, `  ${o.kind}: ${o.detail}`];
  if (o.mutation !== '') lines.push(`  input: ${o.mutation}`);
  if (o.inputBytes > 0) {
    const hex = o.inputHex.slice(0, TEXT_HEX_BYTES * 2);
    lines.push(`  hex (${n(o.inputBytes)} bytes${o.inputBytes * 2 > hex.length ? `, first ${n(hex.length / 2)} shown; --json has up to 4,096` : ''}): ${hex}`);
  }
  if (o.replay !== undefined) lines.push(`  replay: ${o.replay}`);
  return lines;
}

export function formatFuzzReport(report: FuzzReport): string {
  const lines = [
    `sspi-emu fuzz: seed ${report.seed}, ${n(report.iterations)} inputs per package (${report.targets.join(' and ')}), ${report.lanes} in flight`,
    '',
  ];
  for (const p of report.packages) lines.push(...packageSection(p), '');
  if (report.firstOffender !== undefined) lines.push(...formatOffender(report.firstOffender), '');
  const failing = [...new Set(report.packages.filter((p) => !p.ok).map((p) => p.packageKey))];
  lines.push(report.ok ? 'result: every invariant held' : `result: invariants broken for ${failing.join(', ')}`);
  return lines.join('\n');
}

/** The report as JSON data (offender counts included per generator). */
export function fuzzReportJson(report: FuzzReport): unknown {
  return {
    ...report,
    packages: report.packages.map((p) => ({ ...p, generators: p.generators.map((g) => ({ ...g, offences: offences(g) })) })),
  };
}
