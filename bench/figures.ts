// The bench's arithmetic and reports: medians, ratios, targets, and the two files it writes.
// Pure; bench/run.ts does the measuring.

export interface Figure {
  readonly name: string;
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly unit: string;
  readonly baseline_median: number | null;
  readonly ratio: number | null;
  readonly target: string;
  readonly met: boolean | null;
  readonly runs: number;
  readonly note?: string;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

/**
 * A figure from its samples. `check` says whether the target is met, given the median and
 * the ratio to the baseline (when there is one).
 */
export function figure(
  name: string,
  unit: string,
  samples: readonly number[],
  target: string,
  check: (median: number, ratio: number | null) => boolean,
  baseline?: readonly number[],
  note?: string,
): Figure {
  const m = median(samples);
  const b = baseline && baseline.length > 0 ? median(baseline) : null;
  const ratio = b ? m / b : null;
  return {
    name,
    median: round(m),
    min: round(Math.min(...samples)),
    max: round(Math.max(...samples)),
    unit,
    baseline_median: b === null ? null : round(b),
    ratio: ratio === null ? null : round(ratio),
    target,
    met: check(m, ratio),
    runs: samples.length,
    ...(note ? { note } : {}),
  };
}

export function markdown(machine: Record<string, string | number>, figures: readonly Figure[], mode: string): string {
  const show = (v: number | null) => (v === null ? '–' : String(v));
  return [
    '# deploy-kit benchmark',
    '',
    `Mode: ${mode}. Machine: ${Object.entries(machine).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    '| Figure | Median | Min | Max | Unit | Baseline median | Ratio | Target | Met |',
    '|---|---:|---:|---:|---|---:|---:|---|---|',
    ...figures.map((f) => `| ${f.name} | ${show(f.median)} | ${show(f.min)} | ${show(f.max)} | ${f.unit} | ${show(f.baseline_median)} | ${show(f.ratio)} | ${f.target} | ${f.met === null ? 'not measured' : f.met ? 'yes' : '**no**'} |`),
    '',
    ...figures.filter((f) => f.note).map((f) => `- **${f.name}**: ${f.note}`),
    '',
  ].join('\n');
}
