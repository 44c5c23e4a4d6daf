import { describe, expect, it } from 'vitest';
import {
  type AlarmProperties,
  type AlarmState,
  decideState,
  evaluateEveryMinute,
  evaluationRange,
  MetricStore,
  type StoredDatapoint,
} from './support/alarm-evaluation.js';

// The alarm-evaluation model (test/support/alarm-evaluation.ts) against the examples of the CloudWatch User
// Guide it was written from: the missing-data tables, the minute-by-minute shift of a sliding window, the
// clock-aligned periods of a wall-clock window, and late data.

const TREATMENTS = ['missing', 'ignore', 'breaching', 'notBreaching'] as const;

/** `0 - X - X` (oldest first, as the guide writes them): 0 within the threshold, X breaching, - missing. */
const pointsOf = (row: string) =>
  row.split(' ').map((point) => (point === '-' ? undefined : point === 'X' ? 10 : 0));

const RETAINED = 'retain';

/**
 * A row of the guide's table: the state each treatment of missing data sets, in the order missing, ignore,
 * breaching, notBreaching.
 */
function statesOf(row: string, m: number): (AlarmState | typeof RETAINED)[] {
  return TREATMENTS.map((treatment) => {
    const alarm = {
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: m,
      TreatMissingData: treatment,
    };
    // "Retain current state": the same verdict whatever the state was.
    const fromOk = decideState(alarm, pointsOf(row), 'OK');
    const fromAlarm = decideState(alarm, pointsOf(row), 'ALARM');
    return fromOk === 'OK' && fromAlarm === 'ALARM' ? RETAINED : fromOk;
  });
}

describe('the missing-data tables of the guide (evaluation range 5, EvaluationPeriods 3)', () => {
  it.each([
    ['0 - X - X', ['OK', 'OK', 'OK', 'OK']],
    ['0 - - - -', ['OK', 'OK', 'OK', 'OK']],
    ['- - - - -', ['INSUFFICIENT_DATA', RETAINED, 'ALARM', 'OK']],
    ['0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['- - X - -', ['ALARM', RETAINED, 'ALARM', 'OK']],
  ])('3 of 3: %s sets %o (missing, ignore, breaching, notBreaching)', (row, states) => {
    expect(statesOf(row, 3)).toEqual(states);
  });

  it.each([
    ['0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - X -', ['ALARM', RETAINED, 'ALARM', 'OK']],
  ])('2 of 3: %s sets %o (missing, ignore, breaching, notBreaching)', (row, states) => {
    expect(statesOf(row, 2)).toEqual(states);
  });
});

const at = (time: string) => Date.parse(`2026-12-01T${time}Z`);
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);

const METRIC = { Namespace: 'Test', MetricName: 'Errors', Dimensions: [{ Name: 'Queue', Value: 'a' }] };

function alarm(extra: Partial<AlarmProperties> = {}): AlarmProperties {
  return {
    ...METRIC,
    Statistic: 'Maximum',
    Period: 300,
    Threshold: 5,
    ComparisonOperator: 'GreaterThanThreshold',
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
    ...extra,
  };
}

const datapoint = (timestamp: number, value: number, visibleAt = timestamp): StoredDatapoint => ({
  namespace: METRIC.Namespace,
  name: METRIC.MetricName,
  dimensions: { Queue: 'a' },
  timestamp,
  value,
  visibleAt,
});

const starts = (definition: AlarmProperties, time: string) =>
  evaluationRange(definition, new MetricStore([]), at(time), 3).map((period) => clock(period.start));

describe('evaluation windows', () => {
  it('a sliding 5-minute alarm reads periods ending at each evaluation, one minute further each time', () => {
    expect(starts(alarm(), '12:15:00')).toEqual(['12:00', '12:05', '12:10']);
    expect(starts(alarm(), '12:16:00')).toEqual(['12:01', '12:06', '12:11']);
  });

  it('a wall-clock 5-minute alarm reads the same completed periods until the next one ends', () => {
    const wallClock = alarm({ EvaluationWindow: { WallClockWindow: { Timezone: 'Europe/Madrid' } } });
    for (const time of ['12:15:00', '12:16:00', '12:19:00']) {
      expect(starts(wallClock, time)).toEqual(['12:00', '12:05', '12:10']);
    }
    expect(starts(wallClock, '12:20:00')).toEqual(['12:05', '12:10', '12:15']);
  });

  it('a wall-clock hour in Asia/Kolkata (UTC+05:30) runs from half past to half past in UTC', () => {
    const hourly = alarm({
      Period: 3_600,
      EvaluationWindow: { WallClockWindow: { Timezone: 'Asia/Kolkata' } },
    });
    expect(starts(hourly, '14:07:00')).toEqual(['10:30', '11:30', '12:30']);
  });

  it('a wall-clock window reflects a datapoint only once the period holding it has ended', () => {
    const wallClock = alarm({ EvaluationWindow: { WallClockWindow: {} } });
    const store = new MetricStore([datapoint(at('12:10:00'), 9)]);
    const states = evaluateEveryMinute(wallClock, store, at('12:11:00'), at('12:17:00')).map(
      (evaluation) => `${clock(evaluation.at)} ${evaluation.state}`,
    );
    expect(states).toEqual(['12:11 OK', '12:12 OK', '12:13 OK', '12:14 OK', '12:15 ALARM', '12:16 ALARM']);
  });

  it('a sliding window judges a datapoint as soon as it arrives, and while its evaluation range holds it', () => {
    const store = new MetricStore([datapoint(at('12:10:00'), 9, at('12:10:30'))]);
    const history = evaluateEveryMinute(alarm(), store, at('12:10:00'), at('12:27:00'));
    const alarmed = history.filter((evaluation) => evaluation.state === 'ALARM').map((e) => clock(e.at));
    // The range is EvaluationPeriods + 2 periods: 12:10 leaves it after the evaluation at 12:25.
    expect([alarmed[0], alarmed.at(-1), alarmed.length]).toEqual(['12:11', '12:25', 15]);
  });

  it('a late datapoint is included by the next evaluation of its period; the state already set stays', () => {
    const wallClock = alarm({ EvaluationWindow: { WallClockWindow: {} } });
    // The period 12:10–12:15 holds 3 when it ends; a larger value for it arrives at 12:15:20.
    const store = new MetricStore([
      datapoint(at('12:10:00'), 3, at('12:14:00')),
      datapoint(at('12:10:00'), 8, at('12:15:20')),
    ]);
    const history = evaluateEveryMinute(wallClock, store, at('12:15:00'), at('12:17:00'));
    expect(history.map((evaluation) => [clock(evaluation.at), evaluation.state])).toEqual([
      ['12:15', 'OK'],
      ['12:16', 'ALARM'],
    ]);
    expect(history[0]?.periods.at(-1)?.value).toBe(3);
    expect(history[1]?.periods.at(-1)?.value).toBe(8);
  });
});
