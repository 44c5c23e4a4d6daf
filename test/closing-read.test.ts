import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClosingDecision,
  type ClosingReadSettings,
  CONFIRMATION_DELAY_MS,
  planClosingRead,
  windowCoverage,
} from '../lib/closing-read.js';
import { WINDOW_MS } from '../lib/model.js';
import { alignedWindowStart } from '../lib/window.js';

const WINDOW = Date.UTC(2026, 11, 1, 9, 25, 0);
const SETTINGS: ClosingReadSettings = { guardMs: 5_000, reachMs: 60_000 };
const FAR = Number.POSITIVE_INFINITY;

/** A run whose read CMS answered `second` s into the window, with CMS's clock `offsetMs` ahead of ours. */
function runAt(
  second: number,
  { offsetMs = 0, trailMs = 0, deadline = FAR, settings = SETTINGS } = {},
): ClosingDecision {
  const cmsAt = WINDOW + second * 1_000;
  const localAt = cmsAt - offsetMs;
  return planClosingRead(
    { windowStart: alignedWindowStart(WINDOW + trailMs), clock: { cmsAt, localAt }, now: localAt, deadline },
    settings,
  );
}

describe('closing-read schedule', () => {
  it('for a run at every second of a window: waits from 4:55 back to 3:55, closes within the guard, else leaves it', () => {
    for (let second = 0; second < 300; second += 1) {
      const decision = runAt(second);
      if (second < 235) expect(decision, `second ${second}`).toEqual({ kind: 'none' });
      else if (second < 295) {
        expect(decision, `second ${second}`).toEqual({
          kind: 'wait',
          windowStart: WINDOW,
          readAt: WINDOW + 295_000,
          endsAt: WINDOW + WINDOW_MS,
        });
      } else {
        expect(decision, `second ${second}`).toEqual({
          kind: 'closed',
          windowStart: WINDOW,
          endsAt: WINDOW + WINDOW_MS,
        });
      }
    }
  });

  it('with a run every minute, whatever its firing delay, exactly one run per window waits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 54_999 }), (delayMs) => {
        const waiting = [0, 1, 2, 3, 4].filter(
          (minute) => runAt(minute * 60 + delayMs / 1_000).kind === 'wait',
        );
        expect(waiting).toEqual([4]);
      }),
    );
  });

  it.each([10_000, -10_000])(
    'with the CMS clock %i ms off ours, the closing read still falls 5 s before the end by CMS’s clock',
    (offsetMs) => {
      for (let second = 0; second < 300; second += 1) {
        const decision = runAt(second, { offsetMs });
        const expected = second < 235 ? 'none' : second < 295 ? 'wait' : 'closed';
        expect(decision.kind, `second ${second}`).toBe(expected);
        if (decision.kind === 'wait') {
          expect(decision.readAt + offsetMs).toBe(WINDOW + 295_000);
          expect(decision.endsAt + offsetMs).toBe(WINDOW + WINDOW_MS);
        }
      }
    },
  );

  it('a startTime trailing the boundary by 2 s belongs to the window that began at the boundary', () => {
    expect(alignedWindowStart(WINDOW + 2_000)).toBe(WINDOW);
    expect(runAt(241, { trailMs: 2_000 })).toEqual(runAt(241));
    expect(runAt(297, { trailMs: 2_000 })).toEqual(runAt(297));
  });

  it('a run whose own work outlasted the window keeps its read as the window’s last instead of waiting', () => {
    const cmsAt = WINDOW + 290_000;
    const decision = planClosingRead(
      { windowStart: WINDOW, clock: { cmsAt, localAt: cmsAt }, now: WINDOW + WINDOW_MS + 500, deadline: FAR },
      SETTINGS,
    );
    expect(decision).toEqual({ kind: 'closed', windowStart: WINDOW, endsAt: WINDOW + WINDOW_MS });
  });

  it('a window CMS still serves after its end is not closed again', () => {
    expect(runAt(301)).toEqual({ kind: 'none' });
  });

  it('a closing read whose confirmation after the end would pass the run’s deadline is out of reach', () => {
    const confirmedBy = WINDOW + WINDOW_MS + CONFIRMATION_DELAY_MS;
    expect(runAt(241, { deadline: confirmedBy - 1 })).toEqual({ kind: 'outOfReach', windowStart: WINDOW });
    expect(runAt(297, { deadline: confirmedBy - 1 })).toEqual({ kind: 'outOfReach', windowStart: WINDOW });
    expect(runAt(241, { deadline: confirmedBy }).kind).toBe('wait');
  });

  it('a reach of 0 turns closing reads off', () => {
    for (const second of [0, 241, 296]) {
      expect(runAt(second, { settings: { guardMs: 5_000, reachMs: 0 } })).toEqual({ kind: 'none' });
    }
  });

  it('a planned read is never in the past, never beyond the reach, and lands inside the window by CMS’s clock', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: WINDOW_MS - 1 }),
        fc.integer({ min: -30_000, max: 30_000 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 1_000, max: 30_000 }),
        fc.integer({ min: 1_000, max: 240_000 }),
        fc.integer({ min: 0, max: 2_000 }),
        (answeredMs, offsetMs, trailMs, guardMs, reachMs, elapsedMs) => {
          const cmsAt = WINDOW + answeredMs;
          const localAt = cmsAt - offsetMs;
          const now = localAt + elapsedMs;
          const decision = planClosingRead(
            {
              windowStart: alignedWindowStart(WINDOW + trailMs),
              clock: { cmsAt, localAt },
              now,
              deadline: FAR,
            },
            { guardMs, reachMs },
          );
          if (decision.kind !== 'wait') return;
          expect(decision.readAt).toBeGreaterThanOrEqual(now);
          expect(decision.readAt - now).toBeLessThanOrEqual(reachMs);
          const readAtCms = decision.readAt + offsetMs;
          expect(readAtCms).toBeGreaterThanOrEqual(WINDOW);
          expect(readAtCms).toBeLessThan(WINDOW + WINDOW_MS);
          // Planned `guard` before the end, or at once when the run's own work took it past that point.
          expect(readAtCms).toBeLessThanOrEqual(Math.max(WINDOW + WINDOW_MS - guardMs, now + offsetMs));
        },
      ),
    );
  });
});

describe('window coverage', () => {
  it('is the share of the 300 s a read saw, in percent', () => {
    expect(windowCoverage(WINDOW, WINDOW + 241_000)).toBeCloseTo(80.333, 3);
    expect(windowCoverage(WINDOW, WINDOW + 295_000)).toBeCloseTo(98.333, 3);
    expect(windowCoverage(WINDOW, WINDOW + WINDOW_MS)).toBe(100);
  });

  it('stays within 0–100 whatever the read time', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), (offset) => {
        const coverage = windowCoverage(WINDOW, WINDOW + offset);
        expect(coverage).toBeGreaterThanOrEqual(0);
        expect(coverage).toBeLessThanOrEqual(100);
      }),
    );
  });
});
