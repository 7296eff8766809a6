// The benchmark report for people: readable tables for the terminal, and an SVG chart of
// handshakes/s against concurrency per package with the ideal baseline drawn in.

import { formatDomain } from './domain.js';
import { formatPool } from './pool.js';
import { formatKerberos } from './kerberos.js';
import type { BenchReport } from './run.js';
import type { SocketRow } from './http-sockets.js';
import { targetLines } from './targets.js';

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (r: Array<string | number>): string => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return String(Math.round(n * 100) / 100);
}

export function formatReport(report: BenchReport): string {
  const out: string[] = [];
  out.push(`sspi-emu bench on ${report.machine.cpus} x ${report.machine.cpuModel}, Node ${report.machine.node}`);
  out.push('');
  out.push('Handshakes per second (full path: client process, LSA, server process, mapped into both, deleted), median of repetitions;');
  out.push("each repetition is an in-process window, the row's, an ideal window, and each ratio the median of the repetitions' own");
  out.push("(CPU: us of the whole OS process per handshake, and the ideal's over the full path's)");
  out.push(
    table(
      [
        'package',
        'in flight',
        'clients',
        'hs/s',
        'min',
        'max',
        'p50 ms',
        'p99 ms',
        'ideal hs/s',
        'x ideal',
        'in-process hs/s',
        'x in-process',
        'CPU us/hs',
        'ideal',
        'CPU x ideal',
        'bottleneck',
      ],
      report.handshakes.map((r) => [
        r.package,
        r.concurrency,
        r.clients,
        r.hsPerSec,
        r.hsPerSecMin,
        r.hsPerSecMax,
        r.p50Ms,
        r.p99Ms,
        r.idealHsPerSec,
        r.ratioToIdeal,
        r.inProcessHsPerSec,
        r.ratioToInProcess,
        r.cpuUsPerHandshake,
        r.idealCpuUsPerHandshake,
        r.cpuRatioToIdeal,
        r.bottleneck,
      ]),
    ),
  );
  out.push('');
  if (report.cryptoFloor.length > 0) {
    out.push("Crypto floor: one handshake's cryptography alone, both sides, one thread, interleaved with the in-process baseline in ~1 ms batches");
    out.push("(bench/crypto-floor.ts; rates of the thread's own time, GC included; wall: the same batches by the clock)");
    out.push(
      table(
        [
          'package',
          'floor hs/s',
          'us per handshake',
          'in-process hs/s',
          'in-process / floor',
          'wall',
          'GC in-process',
          'batches',
          'what one handshake computes',
        ],
        report.cryptoFloor.map((r) => [
          r.package,
          r.floorHsPerSec,
          r.floorUsPerHandshake,
          r.inProcessHsPerSec,
          r.inProcessOverFloor,
          r.wall.inProcessOverFloor,
          r.gcShare.inProcess,
          r.batches,
          r.what,
        ]),
      ),
    );
    out.push('');
  }
  out.push('Messages after the handshake, ops/s (an op is make+verify or encrypt+decrypt): mapped over a window; interleaved with the raw primitives');
  out.push("in ~1 ms batches of the app's thread (rates of its own time, GC included; wall: the same batches by the clock)");
  out.push(
    table(
      ['package', 'op', 'bytes', 'mapped ops/s', 'MB/s', 'interleaved: mapped', 'raw', 'mapped / raw', 'wall', 'via LPC ops/s', 'mapped / LPC'],
      report.messages.map((m) => [
        m.package,
        m.op,
        m.size,
        m.mappedOpsPerSec,
        m.mappedMBps,
        m.interleaved?.mappedOpsPerSec ?? '-',
        m.rawOpsPerSec,
        m.mappedOverRaw,
        m.interleaved === null ? '-' : Math.round((m.interleaved.wall.mappedOpsPerSec / m.interleaved.wall.rawOpsPerSec) * 1000) / 1000,
        m.lpcOpsPerSec,
        m.mappedOverLpc,
      ]),
    ),
  );
  const loaded = [...new Set(report.messages.filter((m) => m.rawBaseline === 'package in-process').map((m) => m.package))];
  if (loaded.length > 0) out.push(`raw for ${loaded.join(', ')} (no primitives written for it): its own user-mode functions called directly in one thread`);
  out.push('');
  out.push('LSA memory');
  const memRows: Array<Array<string | number>> = [];
  for (const [pkg, rows] of Object.entries(report.memory.measurements))
    for (const r of rows) memRows.push([pkg, r.contexts, r.bytesPerContext, r.lsaHeapBytes]);
  out.push(table(['package', 'live contexts', 'bytes per context', 'LSA heap bytes'], memRows));
  out.push(`logon session: ${formatNumber(report.memory.lsaBytesPerLogonSession)} bytes each`);
  if (report.memory.scale !== undefined)
    out.push(`scale: ${formatNumber(report.memory.scale.contexts)} live contexts, LSA heap ${formatNumber(report.memory.scale.lsaHeapBytes / 1048576)} MiB`);
  out.push('');
  if (report.isolation.length > 0) {
    out.push('The LSA in a worker thread and in its own OS process (lsaIsolation), same handshakes, one client (bench/isolation.ts)');
    out.push(
      table(
        ['package', 'in flight', 'thread hs/s', 'p50 ms', 'p99 ms', 'process hs/s', 'p50 ms', 'p99 ms', 'process / thread', 'bottleneck (process)'],
        report.isolation.map((r) => [
          r.package,
          r.concurrency,
          r.thread.hsPerSec,
          r.thread.p50Ms,
          r.thread.p99Ms,
          r.process.hsPerSec,
          r.process.p50Ms,
          r.process.p99Ms,
          r.processOverThread,
          r.process.bottleneck,
        ]),
      ),
    );
    out.push('');
  }
  out.push('One handshake hop by hop: microseconds per LPC call, one handshake in flight (bench/hops.ts)');
  out.push(
    table(
      ['package', 'calls/hs', 'round trip', 'LSA decode', 'LSA queue', 'in package', 'LSA total', 'LSA frames', 'transit', 'client->server->client'],
      report.hops.map((h) => [
        h.package,
        h.callsPerHandshake,
        h.roundTripUs,
        h.lsaDecodeUs,
        h.lsaQueuedUs,
        h.lsaPackageUs,
        h.lsaHandledUs,
        h.lsaFramesUs,
        h.transitUs,
        h.serverTripUs,
      ]),
    ),
  );
  out.push('');
  out.push('Peer');
  for (const p of report.peer)
    out.push('skipped' in p ? `${p.name}: skipped (${p.skipped})` : `${p.name} ${p.version}: ${formatNumber(p.opsPerSec)} ops/s (${p.what})`);
  out.push('');
  out.push('Fairness: one process handshaking one at a time while another floods the LSA (bench/fairness.ts)');
  out.push(
    table(
      ['package', 'flood', 'alone p50 ms', 'p99', 'max', 'flooded p50 ms', 'p99', 'max', 'p99 ratio', 'flood calls', 'flooder cut off'],
      report.fairness.map((r) => [
        r.package,
        r.flood,
        r.unloaded.p50 ?? '-',
        r.unloaded.p99 ?? '-',
        r.unloaded.max ?? '-',
        r.flooded.p50 ?? '-',
        r.flooded.p99 ?? '-',
        r.flooded.max ?? '-',
        r.p99Ratio ?? '-',
        r.floodCalls,
        r.cutOff ? 'yes' : 'no',
      ]),
    ),
  );
  if (report.sockets.length > 0) out.push('', formatSocketRows(report.sockets));
  if (report.pool !== null) out.push('', ...formatPool(report.pool));
  if (report.kerberos !== null) out.push('', formatKerberos(report.kerberos));
  if (report.domain !== null) out.push('', ...formatDomain(report.domain));
  out.push('');
  out.push('Targets');
  out.push(...targetLines(report.targets));
  if (report.interrupted !== undefined) out.push('', `Interrupted: ${report.interrupted}`);
  if (report.failed.length > 0) {
    out.push('', 'Failed (the rest of the run went on; targets of these parts are left out)');
    for (const f of report.failed) out.push(`${f.section}: ${f.error.split('\n')[0]}`);
  }
  return out.join('\n');
}

/** The HTTP socket rows (bench/http-sockets.ts), with their heading. */
export function formatSocketRows(rows: SocketRow[]): string {
  return [
    'HTTP NTLM over loopback sockets: a handshake is a new connection and its three requests kept alive (bench/http-sockets.ts)',
    table(
      [
        'server',
        'clients',
        'hs/s',
        'min',
        'max',
        'p50 ms',
        'p99 ms',
        'x plain',
        'bottleneck',
        'CPU cores',
        'CPU us per handshake by thread',
        'server CPU x plain',
        'handshakes',
        'failures',
      ],
      rows.map((r) => [
        r.server,
        r.clients,
        r.hsPerSec,
        r.hsPerSecMin,
        r.hsPerSecMax,
        r.p50Ms,
        r.p99Ms,
        r.ratioToPlain ?? '-',
        r.bottleneck,
        r.cpuCores,
        Object.entries(r.cpuUsPerHandshake)
          .map(([thread, us]) => `${thread} ${us}`)
          .join(', ') || '-',
        r.serverCpuRatioToPlain ?? '-',
        r.handshakes,
        r.failures,
      ]),
    ),
  ].join('\n');
}

/** handshakes/s against concurrency (log scale), one line per package (clients = 1), ideal dashed. */
export function formatSvg(report: BenchReport): string {
  const rows = report.handshakes.filter((r) => r.clients === Math.min(...report.handshakes.map((x) => x.clients)));
  const packages = [...new Set(rows.map((r) => r.package))];
  const xs = [...new Set(rows.map((r) => r.concurrency))].sort((a, b) => a - b);
  const maxY = Math.max(1, ...rows.flatMap((r) => [r.hsPerSec, r.idealHsPerSec]));
  const W = 720;
  const H = 420;
  const L = 70;
  const B = 50;
  const T = 40;
  const R = 150;
  const x = (c: number): number => L + (xs.length === 1 ? 0 : (Math.log2(c) - Math.log2(xs[0]!)) / (Math.log2(xs.at(-1)!) - Math.log2(xs[0]!))) * (W - L - R);
  const y = (v: number): number => H - B - (v / maxY) * (H - B - T);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="20" font-size="14">Handshakes per second vs handshakes in flight (1 client process)</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
  ];
  for (const c of xs) parts.push(`<text x="${x(c)}" y="${H - B + 18}" text-anchor="middle">${c}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (maxY * i) / 4;
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v).toLocaleString('en-US')}</text>`);
    parts.push(`<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#ddd"/>`);
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">handshakes in flight</text>`);
  packages.forEach((pkg, i) => {
    const color = colors[i % colors.length]!;
    const pts = rows.filter((r) => r.package === pkg).sort((a, b) => a.concurrency - b.concurrency);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${x(p.concurrency)},${y(p.hsPerSec)}`).join(' ')}"/>`);
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1" stroke-dasharray="5,4" points="${pts.map((p) => `${x(p.concurrency)},${y(p.idealHsPerSec)}`).join(' ')}"/>`,
    );
    for (const p of pts) parts.push(`<circle cx="${x(p.concurrency)}" cy="${y(p.hsPerSec)}" r="3" fill="${color}"/>`);
    parts.push(`<text x="${W - R + 10}" y="${T + 20 * i}" fill="${color}">${pkg}</text>`);
  });
  parts.push(`<text x="${W - R + 10}" y="${T + 20 * packages.length + 10}" fill="#555">dashed: ideal</text>`);
  parts.push(`<text x="${W - R + 10}" y="${T + 20 * packages.length + 26}" fill="#555">(raw messages)</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
