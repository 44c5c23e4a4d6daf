import { WINDOW_MS } from '../model.js';
import { cleanText } from '../text.js';

// CMS's clock as seen through its answers. CMS windows are CMS's: to act shortly before one ends, or to tell an
// ended window from the current one, the product needs CMS's time, which every HTTP answer carries in its `Date`
// header (whole seconds). A front end (NSLB, proxy) may stamp that header from a clock of its own, so it counts
// as CMS's clock only when it is an IMF-fixdate and agrees with the window CMS answered with (cms-api.md
// "The window"); otherwise there is no CMS clock, and nothing that needs one is done.

/** An answer's `Date` header as received, and when it arrived by our clock (epoch ms). */
export interface CmsClockReading {
  readonly date: string | undefined;
  readonly localAt: number;
}

export function clockReading(date: string | undefined, localAt: number): CmsClockReading {
  return { date, localAt };
}

/** What CMS's clock said (`cmsAt`) when ours said `localAt`, both epoch ms. */
export interface CmsTime {
  readonly cmsAt: number;
  readonly localAt: number;
}

/** CMS's time, or why its answers gave none that can be stood behind. */
export type CmsClock = CmsTime | { readonly problem: string };

/**
 * How far outside its window a `Date` may lie and still agree with it: `startTime` may trail the boundary by a
 * few seconds, and the header truncates to the second.
 */
export const DATE_AGREEMENT_MS = 3_000;

/** The header names whole seconds: the middle of its second is the best estimate of the moment. */
const DATE_RESOLUTION_MS = 1_000;
const MAX_QUOTED_CHARS = 40;

/**
 * CMS's time by a `Date` header in the IMF-fixdate form of RFC 9110 (`Sun, 06 Dec 2026 22:30:00 GMT`), the
 * middle of its second; undefined for anything else. The round trip refuses what `Date.parse` would guess at:
 * `0`, the obsolete forms, an impossible day or a weekday that does not match the date.
 */
export function imfFixdate(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const parsed = Date.parse(header);
  if (!Number.isFinite(parsed) || new Date(parsed).toUTCString() !== header) return undefined;
  return parsed + DATE_RESOLUTION_MS / 2;
}

/** Why a `Date` header is not a clock at all, or undefined when it is an IMF-fixdate. */
export function dateHeaderProblem(header: string | undefined): string | undefined {
  if (header === undefined) return 'CMS sent no Date header';
  if (imfFixdate(header) !== undefined) return undefined;
  return `CMS's Date header ${JSON.stringify(cleanText(header, MAX_QUOTED_CHARS))} is not an IMF-fixdate`;
}

/**
 * CMS's clock by the answers of one read whose newest window starts at `windowStart`: the earliest of their
 * `Date` headers, when every one of them is an IMF-fixdate lying inside that window (give or take
 * DATE_AGREEMENT_MS). Undefined when nothing was answered or no window came back: there is nothing to check.
 */
export function cmsClock(
  readings: readonly CmsClockReading[],
  windowStart: number | undefined,
): CmsClock | undefined {
  if (readings.length === 0 || windowStart === undefined) return undefined;
  let earliest: CmsTime | undefined;
  for (const { date, localAt } of readings) {
    const cmsAt = imfFixdate(date);
    if (cmsAt === undefined) return { problem: dateHeaderProblem(date) as string };
    if (cmsAt < windowStart - DATE_AGREEMENT_MS || cmsAt > windowStart + WINDOW_MS + DATE_AGREEMENT_MS) {
      return {
        problem: `CMS's Date header (${date}) lies outside the window its startTime names (${new Date(
          windowStart,
        ).toISOString()}, 5 minutes): a front end stamps it from another clock`,
      };
    }
    if (earliest === undefined || cmsAt < earliest.cmsAt) earliest = { cmsAt, localAt };
  }
  return earliest;
}

/** Whether CMS's clock says that the window starting at `windowStart` has ended: its `Date` second is past it. */
export function hasEnded(windowStart: number, clock: CmsTime): boolean {
  return clock.cmsAt - DATE_RESOLUTION_MS / 2 >= windowStart + WINDOW_MS;
}
