// The contact centre's own clock: an IANA time zone (`Europe/Madrid`), daylight saving time included. "Today"
// starts at its local midnight, and the KPI alarms align their 5-minute windows to it. Node.js knows the zones
// through Intl (full ICU), so nothing here carries a zone table of its own.

/** The zone used when none is configured. */
export const DEFAULT_TIME_ZONE = 'UTC';

/** A zone name's path segments start with a capital letter, as IANA spells them (`America/Argentina/Salta`). */
const IANA_SPELLING = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z0-9][A-Za-z0-9_+-]*)+$/;

let knownZones: ReadonlySet<string> | undefined;

/** The canonical IANA zones this Node.js knows, plus `UTC`, which the list leaves out. */
function zones(): ReadonlySet<string> {
  knownZones ??= new Set([...Intl.supportedValuesOf('timeZone'), DEFAULT_TIME_ZONE]);
  return knownZones;
}

/** The canonical name Intl resolves a zone name to, or undefined when Intl does not know it. */
function resolvedZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * A time zone setting: a zone of Intl.supportedValuesOf('timeZone'), `UTC`, or another IANA name of a listed zone
 * (ICU versions disagree on which of `Asia/Calcutta` and `Asia/Kolkata` is canonical, and the machine that
 * packages may run another Node.js than Lambda). Spelled as IANA spells it; anything else is refused.
 */
export function parseTimeZone(text: string): string {
  const known = zones();
  if (known.has(text)) return text;
  const resolved = IANA_SPELLING.test(text) ? resolvedZone(text) : undefined;
  if (resolved !== undefined && known.has(resolved)) return text;
  throw new Error(
    `"${text}" is not an IANA time zone Node.js knows (e.g. Europe/Madrid, America/New_York or ${DEFAULT_TIME_ZONE})`,
  );
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, format);
  }
  return format;
}

/** The local date and time of an instant, as the UTC epoch milliseconds of the same wall-clock reading. */
function wallClock(zone: string, at: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return Date.UTC(year, month - 1, day, hour, minute, second) + (((at % 1_000) + 1_000) % 1_000);
}

/** How far the zone's clock is ahead of UTC at an instant, in milliseconds (negative west of Greenwich). */
function utcOffsetMs(zone: string, at: number): number {
  return wallClock(zone, at) - at;
}

const DAY_MS = 86_400_000;

/** The local calendar day of an instant, as a day number (days since 1970-01-01 on the zone's calendar). */
function localDay(zone: string, at: number): number {
  return Math.floor(wallClock(zone, at) / DAY_MS);
}

/** A day is at most 25 hours long (a clock put back by an hour); looking 27 hours back always finds its start. */
const LONGEST_DAY_MS = 27 * 3_600_000;

/**
 * The first instant of the local day `at` falls on: local midnight, or, where the clock jumps over midnight, the
 * first moment the day exists. A day with a clock change lasts 23 or 25 hours; its start is found, not computed
 * from one offset.
 */
export function startOfLocalDay(zone: string, at: number): number {
  const today = localDay(zone, at);
  let low = at - LONGEST_DAY_MS;
  let high = at;
  while (low < high) {
    const middle = low + Math.floor((high - low) / 2);
    if (localDay(zone, middle) < today) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A change of the zone's UTC offset: from `at` (epoch ms) on, the clock is `offsetMs` ahead of UTC. */
export interface ClockChange {
  readonly at: number;
  readonly offsetMs: number;
}

/**
 * The zone's offset at `from` and every change of it until `to`, found day by day and then to the millisecond
 * (two changes less than a day apart would be missed; no zone has had any since the 1940s).
 */
export function clockChanges(
  zone: string,
  from: number,
  to: number,
): { readonly offsetMs: number; readonly changes: readonly ClockChange[] } {
  const offsetMs = utcOffsetMs(zone, from);
  const changes: ClockChange[] = [];
  let previous = offsetMs;
  for (let dayStart = from; dayStart < to; dayStart += DAY_MS) {
    const dayEnd = Math.min(dayStart + DAY_MS, to);
    const next = utcOffsetMs(zone, dayEnd);
    if (next === previous) continue;
    let low = dayStart;
    let high = dayEnd;
    while (low < high) {
      const middle = low + Math.floor((high - low) / 2);
      if (utcOffsetMs(zone, middle) === previous) low = middle + 1;
      else high = middle;
    }
    changes.push({ at: low, offsetMs: next });
    previous = next;
  }
  return { offsetMs, changes };
}
