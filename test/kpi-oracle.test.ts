/**
 * The tests' own KPI arithmetic is trustworthy: its rounding is the one a single IEEE division performs, and it
 * withholds and omits rates as metrics.md and lib/kpi.ts's stated rules say.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectedKpis, nearestDouble } from './support/kpi-oracle.js';

const counters = {
  allCallCount: 20,
  cnnedCallCount: 11,
  abanCallCount: 3,
  cnnedIn20sCallCount: 7,
  clearUpCallCount: 18,
  clearUpTime: 541,
};

describe('the exact rounding', () => {
  it('agrees with IEEE division wherever both operands are exact doubles', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 53n }),
        fc.bigInt({ min: 1n, max: 2n ** 53n }),
        (numerator, denominator) => {
          expect(nearestDouble(numerator, denominator)).toBe(Number(numerator) / Number(denominator));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('rounds a quotient beyond double precision once, to nearest, ties to even', () => {
    // 2^53 + 1 lies halfway between two doubles: ties go to the even significand, 2^53.
    expect(nearestDouble(2n ** 53n + 1n, 1n)).toBe(2 ** 53);
    expect(nearestDouble(2n ** 53n + 3n, 1n)).toBe(2 ** 53 + 4);
    // Just above the halfway point rounds up.
    expect(nearestDouble(2n ** 54n + 3n, 2n)).toBe(2 ** 53 + 2);
  });

  it('refuses what is not a rate', () => {
    expect(() => nearestDouble(1n, 0n)).toThrow(RangeError);
    expect(() => nearestDouble(-1n, 3n)).toThrow(RangeError);
  });
});

describe('the expected KPIs', () => {
  it('are whole where the exact rate is whole, with no rounding residue', () => {
    expect(expectedKpis(counters)).toEqual({
      AbandonmentRate: 15,
      AnswerRate: 55,
      ServiceLevel20s: 35,
      AverageWrapUpTime: 541 / 18,
    });
  });

  it('omit every rate without calls and the average without wrap-ups', () => {
    expect(expectedKpis({ ...counters, allCallCount: 0, clearUpCallCount: 0 })).toEqual({});
  });

  it('withhold a rate whose part exceeds its whole', () => {
    expect(Object.keys(expectedKpis({ ...counters, cnnedCallCount: 21, abanCallCount: 21 }))).toEqual([
      'ServiceLevel20s',
      'AverageWrapUpTime',
    ]);
    expect(expectedKpis({ ...counters, cnnedIn20sCallCount: 12 })).not.toHaveProperty('ServiceLevel20s');
  });
});
