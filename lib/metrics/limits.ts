/**
 * PutMetricData service limits. One datum outside them makes CloudWatch refuse the whole request, so the sink
 * keeps such datums out of its batches and CMS data is held to them before anything is built from it.
 */
export const PUT_METRIC_DATA_LIMITS = {
  datumsPerCall: 1_000,
  requestBytes: 1_048_576,
  dimensionsPerDatum: 30,
  /** Timestamps may lie up to two weeks back... */
  timestampMaxAgeMs: 14 * 24 * 3_600_000,
  /** ...and up to two hours ahead of the service's clock. */
  timestampMaxAheadMs: 2 * 3_600_000,
} as const;

/** Why CloudWatch would refuse a datum stamped `timestamp` when sent at `now`, or undefined when it would not. */
export function timestampProblem(timestamp: number, now: number): string | undefined {
  if (!Number.isFinite(timestamp)) return 'is not a finite number';
  if (timestamp < now - PUT_METRIC_DATA_LIMITS.timestampMaxAgeMs) return 'is more than two weeks old';
  if (timestamp > now + PUT_METRIC_DATA_LIMITS.timestampMaxAheadMs) return 'is more than two hours ahead';
  return undefined;
}
