import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  criticalPathMs,
  expectedCmsCalls,
  extrapolate,
  maxCachedCmsCalls,
  median,
  percentile,
  percentiles,
  waves,
} from './stats.js';

// Durations: never negative (nor -0, which arithmetic would turn into +0).
const samples = fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 });
const sorted = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

describe('median', () => {
  it('is the middle sample of an odd number of samples', () => {
    fc.assert(
      fc.property(samples, (values) => {
        const odd = values.length % 2 === 1 ? values : values.slice(1);
        fc.pre(odd.length > 0);
        expect(median(odd)).toBe(sorted(odd)[(odd.length - 1) / 2]);
      }),
    );
  });

  it('is the mean of the two middle samples of an even number of samples', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('does not depend on the order of the samples', () => {
    const withPermutation = samples.chain((values) =>
      fc.tuple(
        fc.constant(values),
        fc.shuffledSubarray(values, { minLength: values.length, maxLength: values.length }),
      ),
    );
    fc.assert(
      fc.property(withPermutation, ([values, permuted]) => {
        expect(median(permuted)).toBe(median(values));
      }),
    );
  });

  it('is NaN for no samples, so a failed measurement cannot pass a target', () => {
    expect(median([])).toBeNaN();
  });
});

describe('percentile', () => {
  it('is the minimum at 0 and the maximum at 100', () => {
    fc.assert(
      fc.property(samples, (values) => {
        expect(percentile(values, 0)).toBe(Math.min(...values));
        expect(percentile(values, 100)).toBe(Math.max(...values));
      }),
    );
  });

  it('never decreases as p grows', () => {
    fc.assert(
      fc.property(
        samples,
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (values, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          expect(percentile(values, low)).toBeLessThanOrEqual(percentile(values, high));
        },
      ),
    );
  });

  it('interpolates between closest ranks', () => {
    expect(percentile([10, 20, 30, 40, 50], 90)).toBeCloseTo(46, 10);
    expect(percentile([1, 2], 50)).toBe(1.5);
  });

  it('gives the same answers in one call as in several', () => {
    fc.assert(
      fc.property(samples, (values) => {
        expect(percentiles(values, [50, 99])).toEqual([percentile(values, 50), percentile(values, 99)]);
      }),
    );
  });

  it('refuses a p outside 0 to 100', () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('waves', () => {
  it('is the fewest rounds of at most `concurrency` tasks that run every task', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.integer({ min: 1, max: 64 }), (tasks, concurrency) => {
        const rounds = waves(tasks, concurrency);
        expect(rounds * concurrency).toBeGreaterThanOrEqual(tasks);
        expect(Math.max(0, rounds - 1) * concurrency).toBeLessThan(Math.max(1, tasks));
      }),
    );
  });

  it('refuses a concurrency below one', () => {
    expect(() => waves(3, 0)).toThrow(RangeError);
  });
});

describe('criticalPathMs', () => {
  it('adds the CMS waves and the PutMetricData waves, each at its measured round trip', () => {
    const bound = criticalPathMs({
      cmsBatches: 5,
      cmsConcurrency: 4,
      cmsRoundTripMs: 60,
      putMetricDataCalls: 51,
      sinkConcurrency: 8,
      putMetricDataRoundTripMs: 40,
    });
    expect(bound).toBe(2 * 60 + 7 * 40);
  });
});

describe('expectedCmsCalls', () => {
  it('is one request per started thousand skills of each VDN', () => {
    expect(expectedCmsCalls([5_000])).toBe(5);
    expect(expectedCmsCalls(Array.from({ length: 10 }, () => 1_000))).toBe(10);
    expect(expectedCmsCalls([1_001, 1])).toBe(3);
  });
});

describe('maxCachedCmsCalls', () => {
  it('allows one call per query for every started cache period', () => {
    expect(maxCachedCmsCalls(1, 10_000, 1_000)).toBe(10);
    expect(maxCachedCmsCalls(20, 10_040, 1_000)).toBe(220);
  });

  it('allows at least one call per query even in a stretch shorter than a period', () => {
    expect(maxCachedCmsCalls(3, 10, 1_000)).toBe(3);
  });

  it('refuses a cache period of zero, which bounds nothing', () => {
    expect(() => maxCachedCmsCalls(1, 1_000, 0)).toThrow(RangeError);
  });
});

describe('extrapolate', () => {
  it('scales a measurement in proportion to the number of items', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (value, measured, target) => {
          expect(extrapolate(value, measured, target)).toBeCloseTo((value / measured) * target, 6);
        },
      ),
    );
  });

  it('refuses to extrapolate from no items', () => {
    expect(() => extrapolate(10, 0, 500)).toThrow(RangeError);
  });
});
