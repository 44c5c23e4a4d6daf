import { describe, expect, it } from 'vitest';
import type { CallStatsOptions } from '../lib/cms/client.js';
import type { CallStatsQuery } from '../lib/cms/request.js';
import type { StatsSource } from '../lib/cms/stats-source.js';
import { CONFIRMATION_DELAY_MS, windowCoverage } from '../lib/collector/closing-read.js';
import { runCollection } from '../lib/collector/run.js';
import { CmsHttpError } from '../lib/errors.js';
import { ALL_METRICS } from '../lib/metrics/build-datums.js';
import type { Datum } from '../lib/metrics/metric-sink.js';
import { type Counters, WINDOW_MS } from '../lib/model.js';
import { type FakeAnswer, readOf } from './support/vdn-read.js';

const WINDOW = Date.UTC(2026, 11, 1, 9, 25, 0);
const CLOSING = { guardMs: 5_000, reachMs: 60_000 };
const ONE_TARGET = [{ ccId: 1, vdn: 170, skillIds: [1] }];
const TWO_TARGETS = [...ONE_TARGET, { ccId: 1, vdn: 171, skillIds: [5] }];

/** Offered calls grow by one every 10 s of CMS time; the counters restart with each window. */
function countersAt(cmsTime: number): Counters {
  const offered = Math.floor((cmsTime % WINDOW_MS) / 10_000);
  return {
    CallsOffered: offered,
    CallsAnswered: offered,
    CallsAbandoned: 0,
    CallsEnded: 0,
    CallsAnsweredIn20s: offered,
    WrapUps: 0,
    WrapUpTime: 0,
    IvrTalkTime: 0,
  };
}

interface Event {
  readonly kind: 'read' | 'publish' | 'sleep';
  readonly at: number;
  readonly detail?: unknown;
}

interface WorldOptions {
  /** How far CMS's clock (its windows and its Date header) runs ahead of ours. */
  readonly offsetMs?: number;
  /** How long after the boundary each skill's window starts (its `startTime`), by CMS's clock. */
  readonly trailMs?: number;
  /** How far the Date header runs ahead of the clock CMS's windows follow (a front end's clock). */
  readonly dateAheadMs?: number;
  /** The Date header itself, instead of an IMF-fixdate of CMS's time. */
  readonly date?: string;
  /** Replaces parts of CMS's answer at its time `cmsAt`. */
  readonly answer?: (cmsAt: number) => FakeAnswer;
}

/**
 * A run's world on one fake clock: a CMS whose clock is `offsetMs` ahead of ours, a sink, and a sleep that moves
 * the clock instead of waiting.
 */
function world(start: number, options: WorldOptions = {}) {
  const { offsetMs = 0, trailMs = 0, dateAheadMs = 0, answer = () => ({}) } = options;
  let now = start;
  const events: Event[] = [];
  const published: Datum[][] = [];
  const deadlines: number[] = [];
  const cms: StatsSource = {
    currentCallStats: async (query: CallStatsQuery, callOptions: CallStatsOptions) => {
      const cmsAt = now + offsetMs;
      events.push({ kind: 'read', at: now });
      deadlines.push(callOptions.deadline);
      const boundary = Math.floor((cmsAt - trailMs) / WINDOW_MS) * WINDOW_MS;
      const skills = query.skillIds.map((skillId) => ({
        skillId,
        windowStart: boundary + trailMs,
        counters: countersAt(cmsAt - trailMs),
      }));
      const date = options.date ?? new Date(cmsAt + dateAheadMs).toUTCString();
      return readOf(query, { skills, date, localAt: now, ...answer(cmsAt) });
    },
  };
  const lines: { level: string; message: string }[] = [];
  const log = (level: string) => (message: string) => {
    lines.push({ level, message });
  };
  const deps = {
    cms,
    sink: {
      publish: async (datums: readonly Datum[]) => {
        events.push({ kind: 'publish', at: now });
        published.push([...datums]);
        return { published: datums.length, calls: 1, failures: [] };
      },
    },
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    now: () => now,
    sleep: async (ms: number) => {
      events.push({ kind: 'sleep', at: now, detail: ms });
      now += ms;
    },
  };
  return {
    deps,
    events,
    published,
    deadlines,
    lines,
    warnings: () => lines.filter((line) => line.level === 'warn').map((line) => line.message),
    run: (targets = ONE_TARGET, deadlineMs = 100_000) =>
      runCollection(deps, {
        targets,
        deadline: start + deadlineMs,
        selection: ALL_METRICS,
        closing: CLOSING,
      }),
  };
}

/** The coverage a read whose Date header named `second` s into the window reports. */
const coverageAt = (second: number) => windowCoverage(WINDOW, WINDOW + Math.floor(second) * 1_000 + 500);
const CONFIRM_AT = WINDOW + WINDOW_MS + CONFIRMATION_DELAY_MS;

const find = (datums: readonly Datum[], name: string, vdn = '170') =>
  datums.filter((d) => d.name === name && d.dimensions.Vdn === vdn && d.dimensions.SkillId === undefined);

describe('closing reads', () => {
  it('a run in a window’s last minute publishes its read at once, reads once more 5 s before the end and publishes that read before the end, and its coverage once CMS’s clock is confirmed after the end', async () => {
    // Half a second into CMS's second: the Date header's second, read as its middle, is then exact.
    const w = world(WINDOW + 241_500);
    const summary = await w.run();
    expect(w.events.map((event) => event.kind)).toEqual([
      'read',
      'publish',
      'sleep',
      'read',
      'publish',
      'sleep',
      'read',
      'publish',
    ]);
    expect(w.events[2]?.detail).toBe(53_500);
    expect(w.events[3]?.at).toBe(WINDOW + 295_000);
    // The closing read's counters go out before the window's period ends; its coverage after the confirmation.
    expect(w.events[4]?.at).toBeLessThan(WINDOW + WINDOW_MS);
    expect(w.events[6]?.at).toBe(CONFIRM_AT);
    const [normal, closing, coverage] = w.published as [Datum[], Datum[], Datum[]];
    expect(find(normal, 'CallsOffered')[0]?.value).toBe(24);
    expect(find(closing, 'CallsOffered')[0]).toMatchObject({ value: 29, timestamp: WINDOW });
    expect(find(coverage, 'WindowCoverage')[0]?.value).toBe(coverageAt(295));
    expect(summary.closingReads).toMatchObject({ targets: 1, waitedMs: 63_500, missed: 0, unconfirmed: 0 });
  });

  it('the closing read carries no run health: CollectionSuccess and the others describe the run’s own read', async () => {
    const w = world(WINDOW + 241_000);
    await w.run();
    const closing = w.published.slice(1).flat();
    expect(closing.map((d) => d.name)).not.toContain('CollectionSuccess');
    expect(closing.map((d) => d.name)).not.toContain('DataAge');
  });

  it('a run that is not near a boundary does not wait and publishes no coverage', async () => {
    const w = world(WINDOW + 150_000);
    const summary = await w.run();
    expect(w.events.map((event) => event.kind)).toEqual(['read', 'publish']);
    expect(find(w.published.flat(), 'WindowCoverage')).toEqual([]);
    expect(summary.closingReads).toMatchObject({ targets: 0, waitedMs: 0 });
  });

  it('several targets share one wait and one confirmation', async () => {
    const w = world(WINDOW + 241_000);
    const summary = await w.run(TWO_TARGETS);
    expect(w.events.filter((event) => event.kind === 'sleep')).toHaveLength(2);
    expect(w.events.filter((event) => event.kind === 'read')).toHaveLength(5);
    expect(summary.closingReads.targets).toBe(2);
    for (const vdn of ['170', '171']) {
      expect(find(w.published.slice(1).flat(), 'WindowCoverage', vdn)).toHaveLength(1);
    }
  });

  it.each([10_000, -10_000])(
    'with the CMS clock %i ms off ours, the read is taken 5 s before CMS’s boundary',
    async (offsetMs) => {
      const w = world(WINDOW + 241_500 - offsetMs, { offsetMs });
      await w.run();
      const closingRead = w.events.filter((event) => event.kind === 'read')[1];
      expect((closingRead?.at ?? 0) + offsetMs).toBe(WINDOW + 295_000);
      // The closing read may not be retried past CMS's boundary: it would only read the next window.
      expect(w.deadlines[1]).toBe(WINDOW + WINDOW_MS - offsetMs);
      expect(find(w.published.slice(1).flat(), 'WindowCoverage')[0]?.value).toBe(coverageAt(295));
    },
  );

  it('a startTime trailing the boundary by 2 s is closed like its aligned window and stamped with its start', async () => {
    const w = world(WINDOW + 241_500, { trailMs: 2_000 });
    await w.run();
    const closing = w.published.slice(1).flat();
    expect(find(closing, 'CallsOffered')[0]?.timestamp).toBe(WINDOW);
    expect(find(closing, 'WindowCoverage')[0]).toMatchObject({ timestamp: WINDOW, value: coverageAt(295) });
  });

  it('a closing read that lands in the next window is that window’s first read, and the coverage shows the miss', async () => {
    // CMS's clock jumps 20 s for the closing read: it arrives after its boundary, with a call of the next window
    // (a quiet window would publish no roll-up at all).
    let reads = 0;
    const w = world(WINDOW + 241_000, {
      answer: (cmsAt) => {
        reads += 1;
        if (reads !== 2) return {};
        const late = cmsAt + 20_000;
        return {
          skills: [{ skillId: 1, windowStart: WINDOW + WINDOW_MS, counters: countersAt(late) }],
          date: new Date(late).toUTCString(),
        };
      },
    });
    const summary = await w.run();
    const closing = w.published.slice(1).flat();
    expect(find(closing, 'CallsOffered')[0]).toMatchObject({ timestamp: WINDOW + WINDOW_MS, value: 1 });
    expect(find(closing, 'WindowCoverage')[0]).toMatchObject({ timestamp: WINDOW, value: coverageAt(241) });
    expect(summary.closingReads.missed).toBe(1);
    expect(w.warnings().some((message) => message.includes('closing read missed'))).toBe(true);
  });

  it('a closing read CMS fails keeps the window’s earlier coverage, and the failure is logged', async () => {
    let reads = 0;
    const w = world(WINDOW + 241_000, {
      answer: () => {
        reads += 1;
        return reads === 2 ? { failures: [{ skillIds: [1], error: new CmsHttpError(503) }] } : {};
      },
    });
    const summary = await w.run();
    expect(find(w.published.slice(1).flat(), 'WindowCoverage')[0]?.value).toBe(coverageAt(241));
    expect(summary.closingReads.missed).toBe(1);
    expect(w.lines.some((line) => line.level === 'error' && line.message === 'CMS closing read failed')).toBe(
      true,
    );
  });

  it('a run whose own read fell within the guard reads nothing more before the end, and publishes that read’s coverage once confirmed', async () => {
    const w = world(WINDOW + 297_000);
    await w.run();
    expect(w.events.map((event) => event.kind)).toEqual(['read', 'publish', 'sleep', 'read', 'publish']);
    expect(find(w.published.slice(1).flat(), 'WindowCoverage')[0]?.value).toBe(coverageAt(297));
  });

  it('a run whose deadline comes before the confirmation does not wait, says so, and publishes no coverage', async () => {
    const w = world(WINDOW + 241_000);
    const summary = await w.run(ONE_TARGET, CONFIRM_AT - (WINDOW + 241_000) - 1);
    expect(w.events.map((event) => event.kind)).toEqual(['read', 'publish']);
    expect(summary.closingReads.outOfReach).toBe(1);
    expect(find(w.published.flat(), 'WindowCoverage')).toEqual([]);
    expect(w.warnings().some((message) => message.includes('out of reach'))).toBe(true);
  });
});

describe('a Date header that is not CMS’s clock', () => {
  it('30 s ahead of the clock CMS’s windows follow: no coverage above the truth, one WARN line', async () => {
    const w = world(WINDOW + 241_000, { dateAheadMs: 30_000 });
    const summary = await w.run();
    const coverage = w.published.flat().filter((d) => d.name === 'WindowCoverage');
    expect(coverage).toEqual([]);
    const [normal, closing] = w.published as [Datum[], Datum[]];
    // The closing read fell 30 s early: its counters are the window's at 4:25, never above the window's final.
    expect(find(closing, 'CallsOffered')[0]?.value).toBe(countersAt(WINDOW + 265_000).CallsOffered);
    expect(find(normal, 'CallsOffered')[0]?.value).toBe(24);
    expect(w.warnings()).toEqual([
      "CMS's Date header is not confirmed as its clock: no WindowCoverage published",
    ]);
    expect(summary.closingReads).toMatchObject({ unconfirmed: 1 });
  });

  it.each(['0', 'garbage', 'Sunday, 06-Dec-26 22:30:00 GMT', 'Mon, 07 Dec 2026 22:30:00 GMT'])(
    'Date %j: the closing read is skipped with one WARN line and no coverage',
    async (date) => {
      const w = world(WINDOW + 241_000, { date });
      const summary = await w.run();
      expect(w.events.map((event) => event.kind)).toEqual(['read', 'publish']);
      expect(w.published.flat().filter((d) => d.name === 'WindowCoverage')).toEqual([]);
      expect(w.warnings()).toEqual(['no CMS clock: closing reads skipped, no WindowCoverage published']);
      expect(summary.closingReads).toMatchObject({ skipped: 1, targets: 0 });
    },
  );

  it('no Date header at all: the same', async () => {
    const w = world(WINDOW + 241_000, { answer: () => ({ date: undefined as never }) });
    await w.run(TWO_TARGETS);
    expect(w.warnings()).toEqual(['no CMS clock: closing reads skipped, no WindowCoverage published']);
  });
});

describe('data of a window CMS’s own clock says has ended', () => {
  it('a startTime 1 s before the boundary, read 2 s after it by CMS’s clock, is refused, not published into the previous period', async () => {
    const w = world(WINDOW + WINDOW_MS + 2_000, {
      answer: () => ({
        skills: [
          { skillId: 1, windowStart: WINDOW + WINDOW_MS - 1_000, counters: countersAt(WINDOW + 299_000) },
          // A call already in the new window: a quiet one would publish no roll-up at all.
          { skillId: 5, windowStart: WINDOW + WINDOW_MS, counters: countersAt(WINDOW + 10_000) },
        ],
      }),
    });
    const summary = await w.run([{ ccId: 1, vdn: 170, skillIds: [1, 5] }]);
    const datums = w.published.flat();
    expect(datums.filter((d) => d.timestamp < WINDOW + WINDOW_MS)).toEqual([]);
    expect(datums.filter((d) => d.dimensions.SkillId === '1')).toEqual([]);
    expect(find(datums, 'CallsOffered')[0]?.timestamp).toBe(WINDOW + WINDOW_MS);
    expect(summary.dataQualityWarnings).toBe(1);
    expect(w.warnings()).toEqual([
      "data of a window CMS's own clock says has ended: refused, not published into that window",
    ]);
  });

  it('when every skill still reports the ended window, nothing is published into it', async () => {
    const w = world(WINDOW + WINDOW_MS + 1_000, { trailMs: 2_000 });
    const summary = await w.run();
    expect(w.published.flat().filter((d) => d.timestamp < WINDOW + WINDOW_MS)).toEqual([]);
    expect(summary.dataQualityWarnings).toBe(1);
    expect(summary.skillsReturned).toBe(0);
  });
});
