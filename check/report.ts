// The check report as people read it: per package, one line per check (pass, FAIL, skip) with what
// was seen, and for each failure why it matters; then the failures by name.

import type { CheckReport } from './suite.js';

const MARK = { pass: 'pass', fail: 'FAIL', skip: 'skip' } as const;

export function formatCheckReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const p of report.packages) {
    lines.push(p.module === p.name ? p.name : `${p.name} (${p.module})`);
    const width = Math.max(...p.checks.map((c) => c.name.length));
    for (const c of p.checks) {
      lines.push(`  ${MARK[c.outcome]}  ${c.name.padEnd(width)}  ${c.detail}`);
      if (c.outcome === 'fail') lines.push(`        ${' '.repeat(width)}  why it matters: ${c.why}`);
    }
    const count = (o: 'pass' | 'fail' | 'skip'): number => p.checks.filter((c) => c.outcome === o).length;
    lines.push(`  ${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped`, '');
  }
  if (report.packages.length === 0) lines.push('no package was checked');
  lines.push(report.ok ? 'all checks passed' : `failed: ${report.failed.join(', ')}`);
  return lines.join('\n');
}
