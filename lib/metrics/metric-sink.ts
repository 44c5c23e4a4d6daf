import type { MetricName, MetricUnit } from '../model.js';

type DimensionName = 'CcId' | 'Vdn' | 'SkillId';

/** One CloudWatch datapoint, independent of the sink that publishes it. */
export interface Datum {
  readonly name: MetricName;
  readonly unit: MetricUnit;
  readonly value: number;
  /** Epoch milliseconds: the window's start for counters and KPIs, the run's time for health metrics. */
  readonly timestamp: number;
  /** In the order CcId, Vdn[, SkillId]; values are decimal strings. */
  readonly dimensions: Readonly<Partial<Record<DimensionName, string>>>;
}

export interface PublishFailure {
  /** How many datums this failure lost. */
  readonly datums: number;
  /** failureText of what went wrong. */
  readonly error: string;
}

/** What a publish failure says of its cause, whichever sink met it: the error's type and message. */
export function failureText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export interface PublishReport {
  readonly published: number;
  /** PutMetricData calls made, or documents/lines written. */
  readonly calls: number;
  readonly failures: readonly PublishFailure[];
}

export interface PublishOptions {
  /** The run's deadline: aborts calls still waiting on the service (their datums are reported as failed). */
  readonly signal?: AbortSignal;
}

/** Where datums go: CloudWatch PutMetricData, EMF lines on stdout, or a human-readable table. */
export interface MetricSink {
  publish(datums: readonly Datum[], options?: PublishOptions): Promise<PublishReport>;
}

/**
 * Splits off the datums no metrics backend takes: a non-finite value or timestamp, more dimensions than
 * `maxDimensions`. CloudWatch refuses a whole call for one of them, so each sink reports them instead of sending
 * them along with good ones.
 */
export function partitionPublishable(
  datums: readonly Datum[],
  maxDimensions: number,
): { valid: Datum[]; rejected: PublishFailure[] } {
  const valid: Datum[] = [];
  const nonFinite: string[] = [];
  const tooManyDimensions: string[] = [];
  for (const datum of datums) {
    if (!Number.isFinite(datum.value) || !Number.isFinite(datum.timestamp)) nonFinite.push(datum.name);
    else if (Object.keys(datum.dimensions).length > maxDimensions) tooManyDimensions.push(datum.name);
    else valid.push(datum);
  }
  const rejected: PublishFailure[] = [];
  const reject = (names: readonly string[], why: string) => {
    if (names.length > 0)
      rejected.push({
        datums: names.length,
        error: `InvalidDatum: ${why} (${[...new Set(names)].sort().join(', ')})`,
      });
  };
  reject(nonFinite, 'non-finite value or timestamp');
  reject(tooManyDimensions, `more than ${maxDimensions} dimensions`);
  return { valid, rejected };
}
