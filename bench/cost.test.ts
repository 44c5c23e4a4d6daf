import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Datum } from '../lib/metrics/metric-sink.js';
import { MeteringSink, metricDollars, monthlyCost } from './cost.js';

const datum = (name: Datum['name'], skillId: string): Datum => ({
  name,
  unit: 'Count',
  value: 1,
  timestamp: 0,
  dimensions: { CcId: '1', Vdn: '170', SkillId: skillId },
});

describe('CloudWatch metric pricing', () => {
  it('charges $0.30 a metric-month up to 10,000 and $0.10 for the next 240,000', () => {
    expect(metricDollars(1)).toBeCloseTo(0.3, 10);
    expect(metricDollars(10_000)).toBeCloseTo(3_000, 6);
    expect(metricDollars(120_320)).toBeCloseTo(3_000 + 110_320 * 0.1, 6);
  });

  it('never charges less for more metrics, nor more than $0.30 each', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 2e6, noNaN: true }),
        fc.double({ min: 0, max: 1e5, noNaN: true }),
        (a, extra) => {
          expect(metricDollars(a + extra)).toBeGreaterThanOrEqual(metricDollars(a) - 1e-9);
          expect(metricDollars(a)).toBeLessThanOrEqual(a * 0.3 + 1e-9);
        },
      ),
    );
  });

  it('turns a day of metering into a month: 730 metric-hours are one metric-month', () => {
    const month = monthlyCost({ metricHours: 24, putMetricDataCalls: 1_440 });
    expect(month.metricHours).toBeCloseTo(730, 6);
    expect(month.metricUsd).toBeCloseTo(0.3, 10);
    expect(month.callsUsd).toBeCloseTo((1_440 * 365) / 12 / 100_000, 10);
  });
});

describe('the metering sink', () => {
  it('counts each metric once per hour in which it receives data, however often', async () => {
    let clock = Date.UTC(2026, 0, 1, 10, 0, 1);
    const sink = new MeteringSink(() => clock);
    await sink.publish([datum('CallsOffered', '1'), datum('CallsAbandoned', '1')]);
    clock += 59 * 60_000;
    await sink.publish([datum('CallsOffered', '1'), datum('CallsOffered', '2')]);
    clock += 60_000;
    await sink.publish([datum('CallsOffered', '1')]);
    expect(sink.metricHours).toBe(4);
    expect(sink.byHour).toEqual([3, 1]);
  });

  it('counts PutMetricData calls of at most 1,000 datums, extra datums batched with their run', async () => {
    const sink = new MeteringSink(() => 0);
    const many = Array.from({ length: 999 }, (_, i) => datum('CallsOffered', String(i + 1)));
    await sink.publish(many);
    expect(sink.calls).toBe(1);
    sink.addToLastRun([datum('CallsAbandoned', '1'), datum('CallsAbandoned', '2')]);
    expect(sink.calls).toBe(2);
    expect(sink.datums).toBe(1_001);
  });
});
