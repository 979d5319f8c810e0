// Latency summaries for the load test and the bench: nearest-rank percentiles (the value of an observation, never an
// interpolation between two), so a p99 of 12 ms means one alert really took 12 ms.

/** Count, mean and the percentiles of a set of durations, ms; every figure null when there are none. */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

/**
 * The nearest-rank `p`-th percentile of ascending `sorted` values: the smallest value with at least p % of the values
 * at or below it. Undefined for an empty list.
 *
 * @param p 0–100
 */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0–100, got ${p}`);
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Summarises `values` (any order; the array is not modified). */
export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: null, p95: null, p99: null, max: null, mean: null };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => percentile(sorted, p) as number;
  return {
    count: sorted.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: sorted[sorted.length - 1] as number,
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
  };
}
