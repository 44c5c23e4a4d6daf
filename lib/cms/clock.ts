// CMS's clock as seen through its answers. CMS windows are CMS's: to act shortly before one ends, the collector
// needs CMS's time, which every HTTP answer carries in its `Date` header (whole seconds).

/** What CMS's clock said (`cmsAt`) when ours said `localAt`, both epoch ms. */
export interface CmsClockReading {
  readonly cmsAt: number;
  readonly localAt: number;
}

/** How far a `Date` header (IMF-fixdate, no fractions) may be from CMS's true time: it truncates to the second. */
const DATE_RESOLUTION_MS = 1_000;

/**
 * The reading of one answer that arrived at `localAt`. The header's second is truncated, so the middle of that
 * second is the best estimate. Without a usable header (a proxy may drop it) our own clock stands in for CMS's.
 */
export function clockReading(dateHeader: string | undefined, localAt: number): CmsClockReading {
  return { cmsAt: cmsTimeOf(dateHeader) ?? localAt, localAt };
}

/** CMS's time by a `Date` header (the middle of its second), or undefined when there is no usable header. */
export function cmsTimeOf(dateHeader: string | undefined): number | undefined {
  const parsed = dateHeader === undefined ? Number.NaN : Date.parse(dateHeader);
  return Number.isFinite(parsed) ? parsed + DATE_RESOLUTION_MS / 2 : undefined;
}
