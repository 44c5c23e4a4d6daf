/**
 * The arithmetic behind every figure of the benchmark report, kept pure so that it can be checked on its own:
 * a report whose medians or bounds were wrong would mislead more than no report at all.
 */

/** The middle value (mean of the two middle values for an even count); NaN for no samples. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/**
 * The p-th percentile by linear interpolation between closest ranks (the "R-7" rule of spreadsheets and NumPy),
 * so p50 is the median and p100 the maximum. NaN for no samples.
 */
export function percentile(samples: readonly number[], p: number): number {
  return percentiles(samples, [p])[0] as number;
}

/** Several percentiles of one sample, sorting it once (latency samples run to hundreds of thousands). */
export function percentiles(samples: readonly number[], ps: readonly number[]): number[] {
  for (const p of ps) {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`a percentile lies in [0, 100], got ${p}`);
  }
  if (samples.length === 0) return ps.map(() => Number.NaN);
  const sorted = Float64Array.from(samples).sort();
  return ps.map((p) => {
    const rank = (p / 100) * (sorted.length - 1);
    const below = Math.floor(rank);
    const lower = sorted[below] as number;
    const upper = sorted[Math.min(below + 1, sorted.length - 1)] as number;
    return lower + (upper - lower) * (rank - below);
  });
}

/** Sequential waves a bounded-concurrency pool needs for `tasks` equal tasks. */
export function waves(tasks: number, concurrency: number): number {
  if (!Number.isInteger(tasks) || tasks < 0) throw new RangeError(`tasks must be a count, got ${tasks}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  return Math.ceil(tasks / concurrency);
}

export interface CriticalPathInput {
  readonly cmsBatches: number;
  readonly cmsConcurrency: number;
  /** One CMS request of a full batch, measured alone. */
  readonly cmsRoundTripMs: number;
  readonly putMetricDataCalls: number;
  readonly sinkConcurrency: number;
  /** One full PutMetricData call, measured alone. */
  readonly putMetricDataRoundTripMs: number;
}

/**
 * The least wall time a collection can take: all CMS batches in waves of the client's concurrency, then (the
 * datums need every answer) all PutMetricData calls in waves of the sink's concurrency. A ratio of the measured
 * time to this bound shows what the code adds beyond the round trips it cannot avoid.
 */
export function criticalPathMs(input: CriticalPathInput): number {
  return (
    waves(input.cmsBatches, input.cmsConcurrency) * input.cmsRoundTripMs +
    waves(input.putMetricDataCalls, input.sinkConcurrency) * input.putMetricDataRoundTripMs
  );
}

/** Requests that must reach CMS for these targets when every batch holds up to `perRequest` skills. */
export function expectedCmsCalls(skillsPerVdn: readonly number[], perRequest = 1_000): number {
  return skillsPerVdn.reduce((sum, skills) => sum + Math.ceil(skills / perRequest), 0);
}

/**
 * The most CMS requests a coalescing cache may let through in `durationMs` for `distinctQueries` queries: one
 * per query and cache period. With no cache (ttl 0) there is no period to speak of.
 */
export function maxCachedCmsCalls(distinctQueries: number, durationMs: number, ttlMs: number): number {
  if (!(ttlMs > 0)) throw new RangeError(`the cache period must be positive, got ${ttlMs}`);
  return distinctQueries * Math.max(1, Math.ceil(durationMs / ttlMs));
}

/** Straight-line extrapolation of a time measured on `measured` items to `target` items. */
export function extrapolate(valueForMeasured: number, measured: number, target: number): number {
  if (!(measured > 0)) throw new RangeError(`cannot extrapolate from ${measured} items`);
  return (valueForMeasured * target) / measured;
}
