// The bench's Targets block: each figure the performance issue sets a goal for, as a ratio (or a
// size) measured in this same run, with the direction that counts as met. A target whose figure
// could not be measured in this run (its rows were not asked for) is left out, not reported met.

export type Comparison = '>=' | '<=';

export interface Target {
  target: string;
  value: number;
  comparison: Comparison;
  goal: number;
  met: boolean;
  /** What else this run measured that bears on the figure (printed under it), if anything. */
  context?: string;
}

/** A target from its figure: met when `value comparison goal` holds (NaN and Infinity never meet a >= goal). */
export function target(name: string, value: number, comparison: Comparison, goal: number, context?: string): Target {
  const rounded = Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value;
  const met = Number.isFinite(value) && (comparison === '>=' ? value >= goal : value <= goal);
  return { target: name, value: rounded, comparison, goal, met, ...(context === undefined ? {} : { context }) };
}

/** One line per target, as the table report prints them, and its context indented beneath. */
export function targetLines(targets: Target[]): string[] {
  return targets.flatMap((t) => {
    const line = `${t.met ? 'met    ' : 'NOT MET'}  ${t.target}: ${t.value} (goal ${t.comparison} ${t.goal})`;
    return t.context === undefined ? [line] : [line, `         ${t.context}`];
  });
}
