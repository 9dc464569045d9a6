/**
 * Percentiles by the nearest-rank method: the smallest value with at least p% of the
 * values at or below it, so every percentile is a round trip that really happened.
 * undefined for no values.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** The latency verdict: '' when within `maxMs` (or no maximum), else the failure in words. */
export function latencyFailure(p95Ms: number | undefined, maxMs: number | undefined): string {
  if (maxMs === undefined || p95Ms === undefined || p95Ms <= maxMs) return '';
  return `p95 latency ${p95Ms}ms above max-latency ${maxMs}ms`;
}
