import { describe, expect, it } from 'vitest';
import type { CallStatsOptions } from '../lib/cms/client.js';
import type { CallStatsQuery } from '../lib/cms/request.js';
import type { StatsSource } from '../lib/cms/stats-source.js';
import { runCollection } from '../lib/collector.js';
import { ALL_METRICS } from '../lib/metrics/build-datums.js';
import type { Datum } from '../lib/metrics/metric-sink.js';
import { type Counters, WINDOW_MS } from '../lib/model.js';
import { fakeSource } from './support/live-queue.js';

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

/**
 * A run's world on one fake clock: a CMS whose clock is `offsetMs` ahead of ours (and whose window starts
 * `trailMs` after the boundary), a sink, and a sleep that moves the clock instead of waiting.
 */
function world(start: number, { offsetMs = 0, trailMs = 0, answer = (_cmsAt: number) => ({}) } = {}) {
  let now = start;
  const events: Event[] = [];
  const published: Datum[][] = [];
  const deadlines: number[] = [];
  const cms: StatsSource = fakeSource(async (query: CallStatsQuery, options: CallStatsOptions) => {
    const cmsAt = now + offsetMs;
    events.push({ kind: 'read', at: now });
    deadlines.push(options.deadline);
    const windowStart = Math.floor(cmsAt / WINDOW_MS) * WINDOW_MS + trailMs;
    return {
      ccId: query.ccId,
      vdn: query.vdn,
      requestedSkillIds: query.skillIds,
      skills: query.skillIds.map((skillId) => ({ skillId, windowStart, counters: countersAt(cmsAt) })),
      missingSkillIds: [],
      failures: [],
      slowestBatchMs: 40,
      requests: 1,
      clock: { cmsAt, localAt: now },
      ...answer(cmsAt),
    };
  });
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
    run: (targets = ONE_TARGET, deadlineMs = 100_000) =>
      runCollection(deps, {
        targets,
        deadline: start + deadlineMs,
        selection: ALL_METRICS,
        closing: CLOSING,
      }),
  };
}

const find = (datums: readonly Datum[], name: string, vdn = '170') =>
  datums.filter((d) => d.name === name && d.dimensions.Vdn === vdn && d.dimensions.SkillId === undefined);

describe('closing reads', () => {
  it('a run in a window’s last minute publishes its read at once, then reads once more 5 s before the end', async () => {
    const w = world(WINDOW + 241_000);
    const summary = await w.run();
    expect(w.events.map((event) => event.kind)).toEqual(['read', 'publish', 'sleep', 'read', 'publish']);
    expect(w.events[2]?.detail).toBe(54_000);
    expect(w.events[3]?.at).toBe(WINDOW + 295_000);
    const [normal, closing] = w.published as [Datum[], Datum[]];
    expect(find(normal, 'CallsOffered')[0]?.value).toBe(24);
    expect(find(closing, 'CallsOffered')[0]).toMatchObject({ value: 29, timestamp: WINDOW });
    expect(find(closing, 'WindowCoverage')[0]?.value).toBeCloseTo(98.33, 2);
    expect(summary.closingReads).toMatchObject({ targets: 1, waitedMs: 54_000, missed: 0 });
  });

  it('the closing read carries no run health: CollectionSuccess and the others describe the run’s own read', async () => {
    const w = world(WINDOW + 241_000);
    await w.run();
    const closing = w.published[1] ?? [];
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

  it('several targets share one wait', async () => {
    const w = world(WINDOW + 241_000);
    const summary = await w.run(TWO_TARGETS);
    expect(w.events.filter((event) => event.kind === 'sleep')).toHaveLength(1);
    expect(summary.closingReads.targets).toBe(2);
    for (const vdn of ['170', '171']) {
      expect(find(w.published[1] ?? [], 'WindowCoverage', vdn)).toHaveLength(1);
    }
  });

  it.each([10_000, -10_000])(
    'with the CMS clock %i ms off ours, the read is taken 5 s before CMS’s boundary',
    async (offsetMs) => {
      const w = world(WINDOW + 241_000 - offsetMs, { offsetMs });
      await w.run();
      const closingRead = w.events.filter((event) => event.kind === 'read')[1];
      expect((closingRead?.at ?? 0) + offsetMs).toBe(WINDOW + 295_000);
      // The closing read may not be retried past CMS's boundary: it would only read the next window.
      expect(w.deadlines[1]).toBe(WINDOW + WINDOW_MS - offsetMs);
      expect(find(w.published[1] ?? [], 'WindowCoverage')[0]?.value).toBeCloseTo(98.33, 2);
    },
  );

  it('a startTime trailing the boundary by 2 s is closed like its aligned window', async () => {
    const w = world(WINDOW + 241_000, { trailMs: 2_000 });
    await w.run();
    const closing = w.published[1] ?? [];
    expect(find(closing, 'CallsOffered')[0]?.timestamp).toBe(WINDOW + 2_000);
    expect(find(closing, 'WindowCoverage')[0]).toMatchObject({ timestamp: WINDOW + 2_000 });
    expect(find(closing, 'WindowCoverage')[0]?.value).toBeCloseTo(98.33, 2);
  });

  it('a closing read that lands in the next window is that window’s first read, and the coverage shows the miss', async () => {
    // CMS's clock jumps 10 s between the two reads: the closing read arrives after its boundary.
    let reads = 0;
    const w = world(WINDOW + 241_000, {
      answer: (cmsAt) => {
        reads += 1;
        if (reads === 1) return {};
        const late = cmsAt + 10_000;
        return {
          skills: [{ skillId: 1, windowStart: WINDOW + WINDOW_MS, counters: countersAt(late) }],
          clock: { cmsAt: late, localAt: cmsAt },
        };
      },
    });
    const summary = await w.run();
    const closing = w.published[1] ?? [];
    expect(find(closing, 'CallsOffered')[0]).toMatchObject({ timestamp: WINDOW + WINDOW_MS, value: 0 });
    expect(find(closing, 'WindowCoverage')[0]).toMatchObject({ timestamp: WINDOW });
    expect(find(closing, 'WindowCoverage')[0]?.value).toBeCloseTo(80.33, 2);
    expect(summary.closingReads.missed).toBe(1);
    expect(
      w.lines.some((line) => line.level === 'warn' && line.message.includes('closing read missed')),
    ).toBe(true);
  });

  it('a closing read CMS fails keeps the window’s earlier coverage, and the failure is logged', async () => {
    let reads = 0;
    const w = world(WINDOW + 241_000, {
      answer: () => {
        reads += 1;
        if (reads === 1) return {};
        return { skills: [], failures: [{ skillIds: [1], error: new Error('HTTP 503') }], clock: undefined };
      },
    });
    const summary = await w.run();
    expect(find(w.published[1] ?? [], 'WindowCoverage')[0]?.value).toBeCloseTo(80.33, 2);
    expect(summary.closingReads.missed).toBe(1);
    expect(w.lines.some((line) => line.level === 'error' && line.message === 'CMS closing read failed')).toBe(
      true,
    );
  });

  it('a run whose own read fell within the guard publishes that read’s coverage with it and waits for nothing', async () => {
    const w = world(WINDOW + 297_000);
    await w.run();
    expect(w.events.map((event) => event.kind)).toEqual(['read', 'publish']);
    expect(find(w.published[0] ?? [], 'WindowCoverage')[0]?.value).toBe(99);
  });

  it('a run whose deadline comes before the window’s end does not wait, says so, and publishes the coverage it had', async () => {
    const w = world(WINDOW + 241_000);
    const summary = await w.run(ONE_TARGET, 30_000);
    expect(w.events.map((event) => event.kind)).toEqual(['read', 'publish']);
    expect(summary.closingReads.outOfReach).toBe(1);
    expect(find(w.published[0] ?? [], 'WindowCoverage')[0]?.value).toBeCloseTo(80.33, 2);
    expect(w.lines.some((line) => line.message.includes('out of reach'))).toBe(true);
  });
});
