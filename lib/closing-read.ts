import { type CmsTime, DATE_AGREEMENT_MS } from './cms/clock.js';
import { WINDOW_MS } from './model.js';

// When to read a CMS window for the last time. CMS counters grow through a 5-minute window and restart at the
// next one, and every datapoint carries its window's start, so the value CloudWatch keeps for a window (its
// Maximum) is the last read taken inside it. A schedule firing at the start of each minute last reads a window
// about 4:01 into it; the closing read is taken `guard` before the window ends instead.
//
// Everything here is judged by CMS's clock, not ours: the window comes from the response's `startTime`
// (aligned down to the 5-minute grid, since `startTime` may trail the boundary by a few seconds) and the time
// from CMS's HTTP `Date` header, so a CMS clock some seconds off does not push the closing read into the next
// window. A `Date` stamped by a front end from another clock can agree with the window and still run ahead of
// it: inside a window nothing tells the two clocks apart. So a window's coverage is published only once a read
// taken just after its end by that `Date` shows CMS's own window has moved on (CONFIRMATION_DELAY_MS).

export interface ClosingReadSettings {
  /** How long before the window's end (by CMS's clock) the closing read is taken. */
  readonly guardMs: number;
  /**
   * A run waits for a closing read only if it is due within this time: the schedule's period, so that exactly
   * one run per window waits. 0 turns closing reads off.
   */
  readonly reachMs: number;
}

/**
 * 3 s before the end: room for the `Date` header's half second, a CMS round trip and a quick retry, while the
 * calls of the window's last 3 s (about 1 % of them) are all a window misses.
 */
export const CLOSING_READ_DEFAULTS = { guardSeconds: 3, reachSeconds: 60 } as const;

/**
 * The guard stays within a minute of the window's end; the reach may cover most of a window (a run due up to
 * 4 minutes before the end may wait), and 0 turns closing reads off.
 */
export const CLOSING_READ_LIMITS = {
  guardSeconds: { min: 1, max: 60 },
  reachSeconds: { min: 0, max: 240 },
} as const;

/**
 * How long after a window's end by CMS's `Date` the read that confirms that clock is taken: past the tolerance
 * of a `Date` that agrees with a window, so that a `Date` running ahead of CMS's window by more shows as one
 * that no longer agrees.
 */
export const CONFIRMATION_DELAY_MS = DATE_AGREEMENT_MS + 2_000;

export type ClosingDecision =
  /** Wait until `readAt` (our clock), then read the window once more; CMS's window ends at `endsAt` (our clock). */
  | { readonly kind: 'wait'; readonly windowStart: number; readonly readAt: number; readonly endsAt: number }
  /** The read just taken was already within the guard: it is the window's closing read. */
  | { readonly kind: 'closed'; readonly windowStart: number; readonly endsAt: number }
  /** The closing read (or its confirmation) would fall after the run's deadline: the timeout is too short. */
  | { readonly kind: 'outOfReach'; readonly windowStart: number }
  /** Not this run's business: the window ends beyond the reach (a later run closes it), or has already ended. */
  | { readonly kind: 'none' };

export interface ClosingInput {
  /** Aligned start of the window CMS answered with (the newest of a VDN's skills). */
  readonly windowStart: number;
  /** CMS's clock when it answered (a `Date` that agrees with the window). */
  readonly clock: CmsTime;
  /** Our clock now. */
  readonly now: number;
  /** Our clock: the last moment a read may still be taken in this run. */
  readonly deadline: number;
}

/** Decides whether this run takes a closing read of the window a CMS answer belongs to, and when. */
export function planClosingRead(input: ClosingInput, settings: ClosingReadSettings): ClosingDecision {
  if (settings.reachMs <= 0) return { kind: 'none' };
  const { windowStart } = input;
  const endsAtCms = windowStart + WINDOW_MS;
  const readAtCms = endsAtCms - settings.guardMs;
  const answeredAt = input.clock.cmsAt;
  // A window CMS still served after its end (or that had not begun by CMS's own clock) is not one to close.
  if (answeredAt >= endsAtCms || answeredAt < windowStart) return { kind: 'none' };
  const offset = input.clock.cmsAt - input.clock.localAt;
  const readAt = readAtCms - offset;
  const endsAt = endsAtCms - offset;
  if (readAt - input.now > settings.reachMs) return { kind: 'none' };
  if (endsAt + CONFIRMATION_DELAY_MS > input.deadline) return { kind: 'outOfReach', windowStart };
  // Answered within the guard, or the run's own work outlasted the window: the read taken is the window's last.
  if (answeredAt >= readAtCms || input.now >= endsAt) return { kind: 'closed', windowStart, endsAt };
  return { kind: 'wait', windowStart, readAt: Math.max(readAt, input.now), endsAt };
}

/**
 * How much of a window a read covered, in percent of its 300 s: 100 for a read at the window's very end. A read
 * taken by CMS's clock at `readAt` of a window starting at `windowStart` (aligned).
 */
export function windowCoverage(windowStart: number, readAt: number): number {
  const covered = (readAt - windowStart) / WINDOW_MS;
  return 100 * Math.min(1, Math.max(0, covered));
}
