import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timestampProblem } from '../lib/metrics/limits.js';
import { WINDOW_MS } from '../lib/model.js';
import { alignedWindowStart, WINDOW_START_TOLERANCE, windowStartProblem } from '../lib/window.js';

const NOW = Date.UTC(2026, 11, 1, 21, 0, 0);

describe('window start plausibility', () => {
  it('accepts every window start within the tolerance, and CloudWatch accepts each of them too', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -WINDOW_START_TOLERANCE.behindMs, max: WINDOW_START_TOLERANCE.aheadMs }),
        (offset) => {
          expect(windowStartProblem(NOW + offset, NOW)).toBeUndefined();
          expect(timestampProblem(NOW + offset, NOW)).toBeUndefined();
        },
      ),
    );
  });

  it('refuses every window start outside the tolerance', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -8.64e15, max: NOW - WINDOW_START_TOLERANCE.behindMs - 1 }),
          fc.integer({ min: NOW + WINDOW_START_TOLERANCE.aheadMs + 1, max: Number.MAX_SAFE_INTEGER }),
        ),
        (windowStart) => {
          expect(windowStartProblem(windowStart, NOW)).toEqual(expect.any(String));
        },
      ),
    );
  });

  it.each([
    ['beyond the Date range', 9e15, /^is not a date/],
    ['0', 0, /^\(1970-01-01T00:00:00\.000Z\) lies \d+ days behind/],
    ['in seconds', Math.floor(NOW / 1000), /^\(1970-01-21T.*\) lies \d+ days behind/],
    ['a day ahead', NOW + 86_400_000, /^\(2026-12-02T21:00:00\.000Z\) lies 24 hours ahead/],
    ['twenty minutes ahead', NOW + 20 * 60_000, /lies 20 minutes ahead/],
  ])('says why a window start %s is refused, quoting it as a date', (_, windowStart, reason) => {
    expect(windowStartProblem(windowStart, NOW)).toMatch(reason);
  });
});

describe('the aligned window of a startTime', () => {
  const epochMs = fc.integer({ min: 0, max: 8.64e15 });

  it('is the 5-minute boundary at or before it', () => {
    fc.assert(
      fc.property(epochMs, (startTime) => {
        const start = alignedWindowStart(startTime);
        expect(start % WINDOW_MS).toBe(0);
        expect(start).toBeLessThanOrEqual(startTime);
        expect(startTime - start).toBeLessThan(WINDOW_MS);
        expect(alignedWindowStart(start)).toBe(start);
      }),
    );
  });

  it('is the same for every startTime of one window, however far each trails the boundary', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 28_000_000 }),
        fc.array(fc.integer({ min: 0, max: WINDOW_MS - 1 })),
        (index, trails) => {
          const boundary = index * WINDOW_MS;
          for (const trail of trails) expect(alignedWindowStart(boundary + trail)).toBe(boundary);
          // One millisecond before the boundary is the previous window.
          expect(alignedWindowStart(boundary - 1)).toBe(boundary - WINDOW_MS);
        },
      ),
    );
  });

  it('never goes backwards as startTime grows', () => {
    fc.assert(
      fc.property(epochMs, epochMs, (a, b) => {
        expect(alignedWindowStart(Math.min(a, b))).toBeLessThanOrEqual(alignedWindowStart(Math.max(a, b)));
      }),
    );
  });
});
