/**
 * A model of how CloudWatch evaluates a metric alarm, written from the CloudWatch User Guide ("Alarm evaluation
 * window", "Configuring how CloudWatch alarms treat missing data", "Avoiding premature transitions to alarm
 * state") and the connected-data-source page's worked example, for checking the stack's alarms against the
 * datapoints the collector really publishes:
 *
 * - An alarm is evaluated every minute, whatever its period.
 * - Sliding window (the default): the periods end at the evaluation time and shift by one minute each time
 *   ("for the alarm evaluation at 12:15:00, CloudWatch expects data points with timestamps of 12:00:00, 12:05:00,
 *   and 12:10:00 … at 12:16:00, 12:01:00, 12:06:00, and 12:11:00").
 * - Wall-clock window: the periods are aligned to the clock of its time zone, and each evaluation looks at the
 *   most recently completed ones, so a datapoint counts only once the period holding it has ended.
 * - The evaluation range is more periods than EvaluationPeriods: the guide's 5-minute example retrieves 5 for 3
 *   (EvaluationPeriods + 2, the default here).
 * - Each period's value is the statistic of the datapoints CloudWatch holds at that evaluation, so a datapoint that
 *   arrives late is included by the next evaluations whose range still holds its period; a state already set is
 *   never revised (each evaluation is recorded at its own time).
 * - Missing data: with EvaluationPeriods or more real datapoints in the range, the most recent EvaluationPeriods
 *   real ones decide and TreatMissingData is not consulted; with fewer, every real one counts and the shortfall is
 *   filled as TreatMissingData says (breaching, notBreaching), or is not filled (missing, ignore). With `missing`,
 *   no real datapoint at all is INSUFFICIENT_DATA; with `ignore` it keeps the state. A premature transition
 *   is avoided yet a lone breaching run is not: with fewer real datapoints than EvaluationPeriods, all of them
 *   breaching and the oldest of them within the last EvaluationPeriods periods at least DatapointsToAlarm periods
 *   old, `missing` goes to ALARM and `ignore` keeps the state. (The guide's wording of that rule and its tables
 *   disagree in one case, `0 - X - -` with 2 of 3; the rule here reproduces every row of both tables.)
 * - DatapointsToAlarm or more breaching datapoints among those evaluated is ALARM, fewer is OK.
 *
 * Metric math alarms compute their expression per period from the MetricStat values (stack-math.ts).
 */
import { evaluateMetricMath } from './stack-math.js';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

interface MetricSpec {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions?: readonly { readonly Name: string; readonly Value: unknown }[];
}

interface MetricQuery {
  readonly Id: string;
  readonly MetricStat?: { readonly Metric: MetricSpec; readonly Period: number; readonly Stat: string };
  readonly Expression?: string;
  readonly ReturnData?: boolean;
}

/** The properties of an AWS::CloudWatch::Alarm this model reads, as the template holds them. */
export interface AlarmProperties {
  readonly Namespace?: string;
  readonly MetricName?: string;
  readonly Dimensions?: readonly { readonly Name: string; readonly Value: unknown }[];
  readonly Statistic?: string;
  readonly Period?: number;
  readonly Metrics?: readonly MetricQuery[];
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly TreatMissingData?: TreatMissingData;
  readonly EvaluationWindow?: {
    readonly SlidingWindow?: object;
    readonly WallClockWindow?: { readonly Timezone?: string };
  };
}

/** A datapoint as CloudWatch holds it: what PutMetricData sent, and from when it is there to be read. */
export interface StoredDatapoint {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly timestamp: number;
  readonly value: number;
  /** Epoch ms: when CloudWatch has it. */
  readonly visibleAt: number;
}

/** One period of an evaluation range, [start, end) in epoch ms, and its value then (undefined: missing). */
export interface EvaluatedPeriod {
  readonly start: number;
  readonly end: number;
  readonly value: number | undefined;
}

export interface Evaluation {
  readonly at: number;
  readonly state: AlarmState;
  /** The evaluation range, oldest first. */
  readonly periods: readonly EvaluatedPeriod[];
}

const MINUTE_MS = 60_000;

const COMPARE: Readonly<Record<string, (value: number, threshold: number) => boolean>> = {
  GreaterThanThreshold: (value, threshold) => value > threshold,
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

/** The alarm's period, in seconds: its own, or that of its metric math's metrics (which must all agree). */
function periodOf(alarm: AlarmProperties): number {
  const periods = new Set(
    alarm.Metrics === undefined
      ? [alarm.Period]
      : alarm.Metrics.flatMap((query) => (query.MetricStat ? [query.MetricStat.Period] : [])),
  );
  const [period] = periods;
  if (periods.size !== 1 || period === undefined) throw new Error('an alarm needs one period');
  return period;
}

/** How far the zone's clock is ahead of UTC at `at`, in ms, from Intl. */
function zoneOffsetMs(timeZone: string, at: number): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
      .formatToParts(at)
      .filter((part) => part.type !== 'literal')
      .map((part) => [part.type, Number(part.value)]),
  );
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  return wall - Math.floor(at / 1_000) * 1_000;
}

/** Periods up to an hour align on the zone's clock; longer wall-clock periods are not modelled. */
const ALIGNABLE_PERIODS = [60, 300, 3_600];

/** The end of the evaluation range of an evaluation at `at`. */
function rangeEnd(alarm: AlarmProperties, at: number, periodMs: number): number {
  const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS;
  const wallClock = alarm.EvaluationWindow?.WallClockWindow;
  if (wallClock === undefined) return minute;
  if (!ALIGNABLE_PERIODS.includes(periodMs / 1_000)) {
    throw new Error(`wall-clock periods of ${periodMs / 1_000} s are not modelled`);
  }
  const offset = zoneOffsetMs(wallClock.Timezone ?? 'UTC', minute);
  return Math.floor((minute + offset) / periodMs) * periodMs - offset;
}

/** Reads the stored datapoints as an alarm's metrics do. */
export class MetricStore {
  constructor(private readonly datapoints: readonly StoredDatapoint[]) {}

  /** The statistic of one metric over [start, end) as CloudWatch holds it at `asOf`; undefined without data. */
  statistic(metric: MetricSpec, stat: string, start: number, end: number, asOf: number): number | undefined {
    const dimensions = Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, String(d.Value)]));
    const values = this.datapoints
      .filter(
        (point) =>
          point.visibleAt <= asOf &&
          point.timestamp >= start &&
          point.timestamp < end &&
          point.namespace === metric.Namespace &&
          point.name === metric.MetricName &&
          Object.keys(point.dimensions).length === Object.keys(dimensions).length &&
          Object.entries(dimensions).every(([name, value]) => point.dimensions[name] === value),
      )
      .map((point) => point.value);
    if (values.length === 0) return undefined;
    switch (stat) {
      case 'Maximum':
        return Math.max(...values);
      case 'Minimum':
        return Math.min(...values);
      case 'Sum':
        return values.reduce((sum, value) => sum + value, 0);
      case 'SampleCount':
        return values.length;
      case 'Average':
        return values.reduce((sum, value) => sum + value, 0) / values.length;
      default:
        throw new Error(`statistic ${stat} is not modelled`);
    }
  }
}

/** The alarm's value of one period as CloudWatch holds it at `asOf`. */
function periodValue(
  alarm: AlarmProperties,
  store: MetricStore,
  start: number,
  end: number,
  asOf: number,
): number | undefined {
  if (alarm.Metrics === undefined) {
    const metric = {
      Namespace: alarm.Namespace ?? '',
      MetricName: alarm.MetricName ?? '',
      Dimensions: alarm.Dimensions ?? [],
    };
    return store.statistic(metric, alarm.Statistic ?? '', start, end, asOf);
  }
  const values: Record<string, number | undefined> = {};
  for (const query of alarm.Metrics) {
    if (query.MetricStat) {
      values[query.Id] = store.statistic(query.MetricStat.Metric, query.MetricStat.Stat, start, end, asOf);
    }
  }
  const returned = alarm.Metrics.filter((query) => query.ReturnData !== false);
  const [result] = returned;
  if (returned.length !== 1 || result === undefined) throw new Error('an alarm returns one series');
  if (result.Expression === undefined) return values[result.Id];
  return evaluateMetricMath(result.Expression, values);
}

/** The evaluation range of an evaluation at `at`, oldest period first, with each period's value then. */
export function evaluationRange(
  alarm: AlarmProperties,
  store: MetricStore,
  at: number,
  periods = alarm.EvaluationPeriods + 2,
): EvaluatedPeriod[] {
  const periodMs = periodOf(alarm) * 1_000;
  const end = rangeEnd(alarm, at, periodMs);
  return Array.from({ length: periods }, (_, index) => {
    const periodEnd = end - (periods - 1 - index) * periodMs;
    const start = periodEnd - periodMs;
    return { start, end: periodEnd, value: periodValue(alarm, store, start, periodEnd, at) };
  });
}

/**
 * The state an evaluation sets from the values of its range (oldest first; undefined is missing), by the rules of
 * the module comment.
 */
export function decideState(
  alarm: Pick<
    AlarmProperties,
    'Threshold' | 'ComparisonOperator' | 'EvaluationPeriods' | 'DatapointsToAlarm' | 'TreatMissingData'
  >,
  values: readonly (number | undefined)[],
  current: AlarmState,
): AlarmState {
  const compare = COMPARE[alarm.ComparisonOperator];
  if (compare === undefined) throw new Error(`comparison ${alarm.ComparisonOperator} is not modelled`);
  const n = alarm.EvaluationPeriods;
  const m = alarm.DatapointsToAlarm ?? n;
  const treatment = alarm.TreatMissingData ?? 'missing';
  const breaches = (value: number) => compare(value, alarm.Threshold);
  const real = values.filter((value): value is number => value !== undefined);
  const verdict = (breaching: number): AlarmState => (breaching >= m ? 'ALARM' : 'OK');
  if (real.length >= n) return verdict(real.slice(-n).filter(breaches).length);
  const shortfall = n - real.length;
  const breachingReal = real.filter(breaches).length;
  if (treatment === 'breaching') return verdict(breachingReal + shortfall);
  if (treatment === 'notBreaching') return verdict(breachingReal);
  if (real.length === 0) return treatment === 'missing' ? 'INSUFFICIENT_DATA' : current;
  const recent = values.slice(-n);
  const oldestBreaching = recent.findIndex((value) => value !== undefined);
  const premature =
    breachingReal === real.length && oldestBreaching >= 0 && recent.length - oldestBreaching >= m;
  if (premature) return treatment === 'missing' ? 'ALARM' : current;
  return verdict(breachingReal);
}

/**
 * Evaluates the alarm every minute from `from` to `to` (epoch ms, `to` excluded), each evaluation on the data
 * CloudWatch holds at that moment; the history is never rewritten.
 */
export function evaluateEveryMinute(
  alarm: AlarmProperties,
  store: MetricStore,
  from: number,
  to: number,
  initial: AlarmState = 'INSUFFICIENT_DATA',
): Evaluation[] {
  const history: Evaluation[] = [];
  let state = initial;
  for (let at = Math.ceil(from / MINUTE_MS) * MINUTE_MS; at < to; at += MINUTE_MS) {
    const periods = evaluationRange(alarm, store, at);
    state = decideState(
      alarm,
      periods.map((period) => period.value),
      state,
    );
    history.push({ at, state, periods });
  }
  return history;
}
