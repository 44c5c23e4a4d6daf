import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDashboardBody, placeholder } from '../stack/dashboard.js';
import { monitoringSettings } from '../stack/settings.js';
import { evaluateSeriesMath } from './support/stack-series-math.js';
import { STAGE_SETTINGS } from './support/stack-settings.js';

// The dashboard's "today so far" tile of a VDN, evaluated as CloudWatch evaluates its metric math over the
// windows of its time range: each day starts at local midnight of the stage's time zone, daylight saving time
// included, and counts each window once.

/** Packaged mid-2026: the tile knows the clock changes of 2026 to 2035. */
const PACKAGED_AT = Date.UTC(2026, 5, 1);

const COUNTER_IDS = {
  offered: 'CallsOffered',
  answered: 'CallsAnswered',
  abandoned: 'CallsAbandoned',
  answered20s: 'CallsAnsweredIn20s',
} as const;
type Window = Record<keyof typeof COUNTER_IDS, number>;

interface RawTodayWidget {
  properties: {
    title: string;
    view: string;
    start: string;
    period: number;
    stat: string;
    metrics: unknown[][];
  };
}

function todayWidget(timeZone: string): RawTodayWidget {
  const settings = monitoringSettings({ ...STAGE_SETTINGS, timeZone }, PACKAGED_AT);
  const body = buildDashboardBody([{ ccId: 1, vdn: 170 }], settings, () =>
    placeholder('WallboardLambdaFunction.Arn'),
  );
  const widgets = JSON.parse(body['Fn::Sub']).widgets as RawTodayWidget[];
  const found = widgets.find((widget) => widget.properties.title.includes('today so far'));
  if (!found) throw new Error('no today widget');
  return found;
}

/**
 * What the tile shows at the end of its range: each window's datapoints are all its reads (a window read several
 * times, by overlapping or retried runs too), aggregated as the tile asks (Maximum per 300 s period), then its
 * expressions in order. `timestamps` are the windows' starts, epoch seconds.
 */
function shown(
  widget: RawTodayWidget,
  timestamps: number[],
  reads: Window[][],
): Record<string, number | undefined> {
  const series: Record<string, (number | undefined)[]> = {};
  for (const row of widget.properties.metrics) {
    const options = row.at(-1) as { id: string; expression?: string };
    if (options.expression !== undefined) {
      series[options.id] = evaluateSeriesMath(options.expression, { timestamps, series });
      continue;
    }
    const name = row[1] as string;
    const key = (Object.keys(COUNTER_IDS) as (keyof Window)[]).find((id) => COUNTER_IDS[id] === name);
    if (key === undefined) throw new Error(`unexpected metric ${name}`);
    series[options.id] = reads.map((windowReads) =>
      windowReads.length === 0 ? undefined : Math.max(...windowReads.map((read) => read[key])),
    );
  }
  // A single-value widget shows each series' newest datapoint.
  return Object.fromEntries(
    Object.entries(series).map(([id, points]) => [id, points.findLast((point) => point !== undefined)]),
  );
}

/** 26 hours of 5-minute windows: the tile's own range. */
const RANGE_WINDOWS = 26 * 12;

/** The window starts (epoch seconds) of the tile's range, the newest at `end`. */
const rangeEndingAt = (end: number) =>
  Array.from({ length: RANGE_WINDOWS }, (_, index) => end - (RANGE_WINDOWS - 1 - index) * 300);

/** The local calendar date of an instant, straight from Intl: the oracle of which day a window belongs to. */
const localDate = (timeZone: string, epochSeconds: number) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    epochSeconds * 1_000,
  );

const windowTotals = fc
  .record({ offered: fc.nat(40), answered: fc.nat(100), abandoned: fc.nat(100), in20s: fc.nat(100) })
  .map(({ offered, answered, abandoned, in20s }): Window => {
    const answeredCalls = Math.floor((offered * answered) / 100);
    return {
      offered,
      answered: answeredCalls,
      abandoned: Math.min(offered - answeredCalls, Math.floor((offered * abandoned) / 100)),
      answered20s: Math.floor((answeredCalls * in20s) / 100),
    };
  });
/** A window's reads: none (not collected), or some growing partial reads, repeats, then the final one. */
const windowReads = fc
  .tuple(windowTotals, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }), fc.nat(2))
  .map(([final, shares, repeats]) => {
    if (shares.length === 0 && repeats === 0) return [] as Window[];
    const partial = shares.map((share) => {
      const scaled = (value: number) => Math.floor(value * share);
      return {
        offered: scaled(final.offered),
        answered: scaled(final.answered),
        abandoned: scaled(final.abandoned),
        answered20s: scaled(final.answered20s),
      };
    });
    return [...partial, ...Array.from({ length: repeats + 1 }, () => final)];
  });

/** Offered calls the tile counts for today at `endIso` when every window of its range had one call. */
function oneCallPerWindowToday(timeZone: string, endIso: string): number | undefined {
  const end = Date.parse(endIso) / 1_000;
  const one: Window = { offered: 1, answered: 1, abandoned: 0, answered20s: 1 };
  return shown(
    todayWidget(timeZone),
    rangeEndingAt(end),
    Array.from({ length: RANGE_WINDOWS }, () => [one]),
  ).offeredToday;
}

/** Windows from `midnightIso` to `endIso`, both included. */
const windowsSince = (midnightIso: string, endIso: string) =>
  (Date.parse(endIso) - Date.parse(midnightIso)) / 300_000 + 1;

describe('today so far on the dashboard', () => {
  it('reads each window’s Maximum over 5-minute periods, over the last 26 hours whatever the dashboard shows', () => {
    expect(todayWidget('UTC').properties).toMatchObject({
      view: 'singleValue',
      start: '-PT26H',
      period: 300,
      stat: 'Maximum',
    });
  });

  it('names the time zone whose midnight starts the day', () => {
    expect(todayWidget('UTC').properties.title).toContain('since 00:00 UTC');
    expect(todayWidget('Europe/Madrid').properties.title).toContain('since 00:00 Europe/Madrid');
  });

  it('adds up each window of the local day once, with its final value, however often it was read', () => {
    fc.assert(
      fc.property(
        fc.array(windowReads, { minLength: RANGE_WINDOWS, maxLength: RANGE_WINDOWS }),
        // Any window of 2026 and 2027, days with a clock change included.
        fc.integer({ min: 0, max: 2 * 365 * 288 }),
        fc.constantFrom(
          'UTC',
          'Asia/Shanghai',
          'Asia/Kolkata',
          'America/New_York',
          'America/St_Johns',
          'Europe/Madrid',
          'Australia/Lord_Howe',
          'Pacific/Chatham',
          'America/Santiago',
        ),
        (reads, endWindow, timeZone) => {
          const end = Date.UTC(2026, 0, 1) / 1_000 + endWindow * 300;
          const timestamps = rangeEndingAt(end);
          const today = localDate(timeZone, end);
          const day = reads.filter((_, index) => localDate(timeZone, timestamps[index] ?? 0) === today);
          const total = (key: keyof Window) =>
            day.reduce((sum, windowReads) => sum + (windowReads.at(-1)?.[key] ?? 0), 0);

          const values = shown(todayWidget(timeZone), timestamps, reads);
          expect(values.offeredToday).toBe(total('offered'));
          expect(values.answeredToday).toBe(total('answered'));
          expect(values.abandonedToday).toBe(total('abandoned'));
          if (total('offered') === 0) {
            expect(values.abandonmentToday).toBeUndefined();
            expect(values.serviceLevelToday).toBeUndefined();
          } else {
            expect(values.abandonmentToday).toBeCloseTo((100 * total('abandoned')) / total('offered'), 9);
            expect(values.serviceLevelToday).toBeCloseTo((100 * total('answered20s')) / total('offered'), 9);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('on the 25-hour day of Europe/Madrid (2026-10-25) today starts at local midnight before and after the clock goes back', () => {
    const midnight = '2026-10-24T22:00:00Z'; // 00:00 CEST
    // 02:55 CEST, before the clock goes back from 03:00 CEST to 02:00 CET.
    expect(oneCallPerWindowToday('Europe/Madrid', '2026-10-25T00:55:00Z')).toBe(
      windowsSince(midnight, '2026-10-25T00:55:00Z'),
    );
    // 23:55 CET: the whole day, 25 hours of windows.
    expect(oneCallPerWindowToday('Europe/Madrid', '2026-10-25T22:55:00Z')).toBe(25 * 12);
    // 00:00 CET of the next day: a new day of one window.
    expect(oneCallPerWindowToday('Europe/Madrid', '2026-10-25T23:00:00Z')).toBe(1);
  });

  it('on the 23-hour day of Europe/Madrid (2026-03-29) today starts at local midnight before and after the clock goes forward', () => {
    const midnight = '2026-03-28T23:00:00Z'; // 00:00 CET
    // 01:55 CET, before the clock jumps from 02:00 CET to 03:00 CEST.
    expect(oneCallPerWindowToday('Europe/Madrid', '2026-03-29T00:55:00Z')).toBe(
      windowsSince(midnight, '2026-03-29T00:55:00Z'),
    );
    // 23:55 CEST: the whole day, 23 hours of windows.
    expect(oneCallPerWindowToday('Europe/Madrid', '2026-03-29T21:55:00Z')).toBe(23 * 12);
    expect(oneCallPerWindowToday('Europe/Madrid', '2026-03-29T22:00:00Z')).toBe(1);
  });

  it('a line closed at night, whose quiet windows publish nothing, counts today from midnight: 0 before its first call', () => {
    const one: Window = { offered: 1, answered: 1, abandoned: 0, answered20s: 1 };
    /** One call in each window from 08:00 to 20:00 UTC, no datapoint in the others. */
    const openHours = (timestamps: number[]) =>
      timestamps.map((at) => {
        const hour = new Date(at * 1_000).getUTCHours();
        return hour >= 8 && hour < 20 ? [one] : [];
      });
    const at = (iso: string) => {
      const timestamps = rangeEndingAt(Date.parse(iso) / 1_000);
      return shown(todayWidget('UTC'), timestamps, openHours(timestamps)).offeredToday;
    };
    // Yesterday's 144 windows are not today's.
    expect(at('2026-03-10T07:55:00Z')).toBe(0);
    expect(at('2026-03-10T09:55:00Z')).toBe(24);
    expect(at('2026-03-10T23:55:00Z')).toBe(144);
  });

  it('its day expression stays short enough for metric math in the zone with the most clock changes', () => {
    // Africa/Casablanca changes its clock around Ramadan too: about four changes a year.
    const day = todayWidget('Africa/Casablanca')
      .properties.metrics.map((row) => row.at(-1) as { id?: string; expression?: string })
      .find((options) => options.id === 'day');
    expect(day?.expression?.length).toBeLessThan(1_024);
  });
});
