import { PUT_METRIC_DATA_LIMITS } from './metrics/limits.js';
import { WINDOW_MS } from './model.js';

/**
 * The start of the clock-aligned 5-minute window a CMS `startTime` belongs to: the one window rule of the product
 * (cms-api.md "The window"). Skills of one window may carry `startTime` values a few seconds apart, since each
 * skill's counting may begin a little after the boundary; aligned, they name the same window.
 */
export function alignedWindowStart(startTime: number): number {
  return Math.floor(startTime / WINDOW_MS) * WINDOW_MS;
}

/**
 * How far a window start from CMS may lie from this host's clock and still be the current window. CMS restarts
 * its window every five minutes, so a start a day old means CMS is stuck or speaks another unit (seconds, or 0
 * for "none"); a start well ahead means a clock that no roll-up or DataAge can be trusted with. Both bounds lie
 * inside what CloudWatch accepts, so a window start that passes can always be published.
 */
export const WINDOW_START_TOLERANCE = {
  behindMs: Math.min(24 * 3_600_000, PUT_METRIC_DATA_LIMITS.timestampMaxAgeMs),
  aheadMs: Math.min(15 * 60_000, PUT_METRIC_DATA_LIMITS.timestampMaxAheadMs),
} as const;

/** The largest epoch millisecond a JavaScript Date holds (±100,000,000 days). */
const MAX_DATE_MS = 8.64e15;

/**
 * Why `windowStart` (epoch ms, as CMS sent it) cannot be the current window at `now`, or undefined when it can.
 * The reason quotes the value as a date when it is one, so an operator sees at once a unit or a clock problem.
 */
export function windowStartProblem(windowStart: number, now: number): string | undefined {
  if (!(Math.abs(windowStart) <= MAX_DATE_MS)) return 'is not a date (epoch milliseconds expected)';
  const offset = windowStart - now;
  const when = new Date(windowStart).toISOString();
  if (offset < -WINDOW_START_TOLERANCE.behindMs) {
    return `(${when}) lies ${describeSpan(-offset)} behind this host's clock (epoch milliseconds of the current window expected)`;
  }
  if (offset > WINDOW_START_TOLERANCE.aheadMs) {
    return `(${when}) lies ${describeSpan(offset)} ahead of this host's clock`;
  }
  return undefined;
}

function describeSpan(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  return hours < 48 ? `${hours} hours` : `${Math.round(ms / 86_400_000)} days`;
}
