// One package's check results as they come in: each check passes, fails or is skipped with what
// was seen; a check never reached is reported skipped.

import { CHECKS, whyOf, type CheckName } from './catalogue.js';

export type CheckOutcome = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  name: CheckName;
  outcome: CheckOutcome;
  /** Why the check matters. */
  why: string;
  /** What was seen: the evidence of a pass, what failed, or why the check did not apply. */
  detail: string;
}

export class Results {
  private readonly outcomes = new Map<CheckName, { outcome: CheckOutcome; detail: string }>();

  pass(name: CheckName, detail: string): void {
    this.outcomes.set(name, { outcome: 'pass', detail });
  }

  fail(name: CheckName, detail: string): void {
    this.outcomes.set(name, { outcome: 'fail', detail });
  }

  /** Skips a check not judged yet (a judgement already made stands). */
  skip(name: CheckName, detail: string): void {
    if (!this.outcomes.has(name)) this.outcomes.set(name, { outcome: 'skip', detail });
  }

  /** Passes with `passed` when `problems` is empty, fails with them otherwise. */
  judge(name: CheckName, problems: readonly string[], passed: string): void {
    if (problems.length === 0) this.pass(name, passed);
    else this.fail(name, problems.join('; '));
  }

  passed(name: CheckName): boolean {
    return this.outcomes.get(name)?.outcome === 'pass';
  }

  /** Why a check that needs `name` to have passed does not run. */
  becauseOf(name: CheckName): string {
    const o = this.outcomes.get(name);
    if (o?.outcome === 'skip') return o.detail;
    return `not run: ${name} did not pass`;
  }

  list(): CheckResult[] {
    return CHECKS.map((c) => {
      const o = this.outcomes.get(c.name) ?? { outcome: 'skip' as const, detail: 'not run' };
      return { name: c.name, outcome: o.outcome, why: whyOf(c.name), detail: o.detail };
    });
  }
}
