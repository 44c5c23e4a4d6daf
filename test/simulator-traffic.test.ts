import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WINDOW_MS } from '../lib/model.js';
import {
  ANSWER_TARGET_MS,
  type CmsSkillRecord,
  callEvents,
  countersAt,
  generateWindowCalls,
  IDLE_SHARE,
  isOpen,
  SkillTimeline,
  skillProfile,
  TrafficModel,
  windowStartOf,
  ZERO_COUNTERS,
} from '../local/simulator/traffic.js';

const seeds = fc.integer({ min: -1_000_000, max: 1_000_000 });
const ccIds = fc.integer({ min: 1, max: 65_535 });
const vdns = fc.integer({ min: 1, max: 5_000 });
const skillIds = fc.integer({ min: 1, max: 5_000 });
// 2001-01-01 .. 2100-01-01: epoch milliseconds well beyond 32 bits.
const instants = fc.integer({ min: 978_307_200_000, max: 4_102_444_800_000 });
const offsets = fc.integer({ min: 0, max: WINDOW_MS - 1 });

function counters(record: CmsSkillRecord) {
  const { id: _id, startTime: _startTime, ...rest } = record;
  return rest;
}

describe('traffic model', () => {
  it('aligns windows to 5-minute boundaries of the epoch', () => {
    fc.assert(
      fc.property(instants, (at) => {
        const start = windowStartOf(at);
        expect(start % WINDOW_MS).toBe(0);
        expect(start).toBeLessThanOrEqual(at);
        expect(at - start).toBeLessThan(WINDOW_MS);
      }),
    );
  });

  it('generates the same calls for the same seed, call center, VDN, skill and window', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, (seed, ccId, vdn, skillId, at) => {
        const key = { seed, ccId, vdn, skillId, windowStart: windowStartOf(at) };
        expect(generateWindowCalls(key)).toEqual(generateWindowCalls({ ...key }));
      }),
    );
  });

  it('serves the same statistics from a fresh model as from one with a warm cache', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, (seed, ccId, vdn, skillId, at) => {
        const warm = new TrafficModel({ seed });
        warm.statsAt(ccId, vdn, skillId, windowStartOf(at));
        expect(warm.statsAt(ccId, vdn, skillId, at)).toEqual(
          new TrafficModel({ seed }).statsAt(ccId, vdn, skillId, at),
        );
      }),
    );
  });

  it('only lets counters grow within a window', () => {
    fc.assert(
      fc.property(
        seeds,
        ccIds,
        vdns,
        skillIds,
        instants,
        offsets,
        offsets,
        (seed, ccId, vdn, skillId, at, a, b) => {
          const model = new TrafficModel({ seed });
          const windowStart = windowStartOf(at);
          const earlier = model.statsAt(ccId, vdn, skillId, windowStart + Math.min(a, b));
          const later = model.statsAt(ccId, vdn, skillId, windowStart + Math.max(a, b));
          for (const [field, value] of Object.entries(counters(earlier))) {
            expect(value).toBeLessThanOrEqual(later[field as keyof typeof later]);
          }
        },
      ),
    );
  });

  it('keeps answered + abandoned ≤ offered, in-20s ≤ answered, ended ≤ answered and wrap-ups ≤ ended', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, (seed, ccId, vdn, skillId, at) => {
        const stats = new TrafficModel({ seed }).statsAt(ccId, vdn, skillId, at);
        expect(stats.cnnedCallCount + stats.abanCallCount).toBeLessThanOrEqual(stats.allCallCount);
        expect(stats.cnnedIn20sCallCount).toBeLessThanOrEqual(stats.cnnedCallCount);
        expect(stats.callEndCount).toBeLessThanOrEqual(stats.cnnedCallCount);
        expect(stats.clearUpCallCount).toBeLessThanOrEqual(stats.callEndCount);
        for (const value of Object.values(counters(stats))) {
          expect(Number.isSafeInteger(value) && value >= 0).toBe(true);
        }
      }),
    );
  });

  it('stamps every record with its skill id and its window start', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, (seed, ccId, vdn, skillId, at) => {
        const stats = new TrafficModel({ seed }).statsAt(ccId, vdn, skillId, at);
        expect(stats.id).toBe(skillId);
        expect(stats.startTime).toBe(windowStartOf(at));
      }),
    );
  });

  it('restarts at the boundary: a window counts only its own calls', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, offsets, (seed, ccId, vdn, skillId, at, offset) => {
        const next = windowStartOf(at) + WINDOW_MS;
        const model = new TrafficModel({ seed });
        model.statsAt(ccId, vdn, skillId, next - 1);
        const ownCalls = generateWindowCalls({ seed, ccId, vdn, skillId, windowStart: next });
        expect(counters(model.statsAt(ccId, vdn, skillId, next + offset))).toEqual(
          countersAt(ownCalls, offset),
        );
      }),
    );
  });

  it('drops from last window’s totals to the new window’s first counts at the boundary', () => {
    const model = new TrafficModel({ seed: 1 });
    const windowStart = windowStartOf(Date.UTC(2025, 5, 2, 9, 5));
    const busy = [...Array(50).keys()]
      .map((index) => index + 1)
      .find((skillId) => model.statsAt(1, 1, skillId, windowStart + WINDOW_MS - 1).allCallCount > 5);
    if (busy === undefined) throw new Error('no busy skill among the first 50');
    const lastOfWindow = model.statsAt(1, 1, busy, windowStart + WINDOW_MS - 1);
    const firstOfNext = model.statsAt(1, 1, busy, windowStart + WINDOW_MS);
    expect(firstOfNext.startTime).toBe(windowStart + WINDOW_MS);
    expect(firstOfNext.allCallCount).toBeLessThan(lastOfWindow.allCallCount);
  });

  it('looks counters up exactly as a direct count of the events so far would give them', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, offsets, (seed, ccId, vdn, skillId, at, offset) => {
        const windowStart = windowStartOf(at);
        const calls = generateWindowCalls({ seed, ccId, vdn, skillId, windowStart });
        const timeline = new SkillTimeline(skillId, windowStart, calls);
        expect(counters(timeline.recordAt(windowStart + offset))).toEqual(countersAt(calls, offset));
        expect(timeline.jsonAt(windowStart + offset)).toBe(
          JSON.stringify(timeline.recordAt(windowStart + offset)),
        );
      }),
    );
  });

  it('agrees with the direct count at the exact milliseconds events happen', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, (seed, ccId, vdn, skillId, at) => {
        const windowStart = windowStartOf(at);
        const calls = generateWindowCalls({ seed, ccId, vdn, skillId, windowStart });
        const timeline = new SkillTimeline(skillId, windowStart, calls);
        const moments = calls
          .flatMap(callEvents)
          .map((event) => event.at)
          .filter((time) => time < WINDOW_MS);
        for (const moment of moments) {
          expect(counters(timeline.recordAt(windowStart + moment))).toEqual(countersAt(calls, moment));
        }
      }),
    );
  });

  it('counts a call from the very millisecond it is offered', () => {
    const windowStart = windowStartOf(Date.UTC(2025, 0, 1));
    const skillId = [...Array(50).keys()]
      .map((index) => index + 1)
      .find((id) => generateWindowCalls({ seed: 1, ccId: 1, vdn: 1, skillId: id, windowStart }).length > 0);
    if (skillId === undefined) throw new Error('no busy skill among the first 50');
    const calls = generateWindowCalls({ seed: 1, ccId: 1, vdn: 1, skillId, windowStart });
    const firstOffer = calls[0]?.offeredAt ?? Number.NaN;
    const timeline = new SkillTimeline(skillId, windowStart, calls);
    expect(countersAt(calls, firstOffer).allCallCount).toBeGreaterThanOrEqual(1);
    expect(timeline.recordAt(windowStart + firstOffer).allCallCount).toBeGreaterThanOrEqual(1);
    expect(timeline.recordAt(windowStart + firstOffer - 1).allCallCount).toBe(0);
  });

  it('keeps idle skills at zero all window long', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, (seed, ccId, vdn, skillId, at) => {
        fc.pre(skillProfile(seed, ccId, vdn, skillId).callsPerWindow === 0);
        const model = new TrafficModel({ seed });
        const windowStart = windowStartOf(at);
        expect(generateWindowCalls({ seed, ccId, vdn, skillId, windowStart })).toEqual([]);
        for (const offset of [0, at - windowStart, WINDOW_MS - 1]) {
          expect(counters(model.statsAt(ccId, vdn, skillId, windowStart + offset))).toEqual(ZERO_COUNTERS);
        }
      }),
      // Idle skills are a minority: skip-heavy runs are expected.
      { maxSkipsPerRun: 1_000 },
    );
  });

  it('makes about one skill in six idle', () => {
    const idle = [...Array(3_000).keys()].filter(
      (index) => skillProfile(7, 1, 1, index + 1).callsPerWindow === 0,
    ).length;
    expect(idle / 3_000).toBeGreaterThan(IDLE_SHARE - 0.04);
    expect(idle / 3_000).toBeLessThan(IDLE_SHARE + 0.04);
  });

  it('offers busy skills between one and about forty calls per window on average', () => {
    const windowStart = windowStartOf(Date.UTC(2025, 0, 1));
    const perWindow = [...Array(500).keys()]
      .map((index) => index + 1)
      .filter((skillId) => skillProfile(3, 1, 1, skillId).callsPerWindow > 0)
      .map((skillId) => {
        const counts = [0, 1, 2, 3].map(
          (window) =>
            generateWindowCalls({
              seed: 3,
              ccId: 1,
              vdn: 1,
              skillId,
              windowStart: windowStart + window * WINDOW_MS,
            }).length,
        );
        return counts.reduce((sum, count) => sum + count, 0) / counts.length;
      });
    expect(Math.max(...perWindow)).toBeGreaterThan(25);
    expect(Math.max(...perWindow)).toBeLessThan(55);
    expect(perWindow.reduce((sum, mean) => sum + mean, 0) / perWindow.length).toBeGreaterThan(8);
  });

  it('answers a call within 20 s exactly when it waited at most 20 s, and orders each call’s events', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, (seed, ccId, vdn, skillId, at) => {
        const calls = generateWindowCalls({ seed, ccId, vdn, skillId, windowStart: windowStartOf(at) });
        for (const call of calls) {
          const events = callEvents(call);
          const times = events.map((event) => event.at);
          expect(times).toEqual([...times].sort((a, b) => a - b));
          const in20s = events.some((event) => event.field === 'cnnedIn20sCallCount');
          expect(in20s).toBe(call.outcome === 'answered' && call.waitMs <= ANSWER_TARGET_MS);
        }
      }),
    );
  });

  it('gives every call an offer time inside its window, in arrival order', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, (seed, ccId, vdn, skillId, at) => {
        const calls = generateWindowCalls({ seed, ccId, vdn, skillId, windowStart: windowStartOf(at) });
        const offered = calls.map((call) => call.offeredAt);
        expect(offered).toEqual([...offered].sort((a, b) => a - b));
        for (const time of offered) expect(time >= 0 && time < WINDOW_MS).toBe(true);
      }),
    );
  });

  it('keeps only the newest windows in its cache and regenerates older ones identically', () => {
    const model = new TrafficModel({ seed: 5 });
    const first = windowStartOf(Date.UTC(2025, 0, 1));
    const early = model.statsAt(1, 1, 1, first + 200_000);
    model.statsAt(1, 1, 1, first + WINDOW_MS);
    model.statsAt(1, 1, 1, first + 2 * WINDOW_MS);
    expect(model.cachedWindowStarts).toEqual([first + WINDOW_MS, first + 2 * WINDOW_MS]);
    expect(model.statsAt(1, 1, 1, first + 200_000)).toEqual(early);
    expect(model.cachedWindowStarts).toEqual([first + WINDOW_MS, first + 2 * WINDOW_MS]);
  });

  it('gives different traffic to different seeds', () => {
    const windowStart = windowStartOf(Date.UTC(2025, 0, 1));
    const traffic = (seed: number) =>
      [...Array(20).keys()].map((index) =>
        generateWindowCalls({ seed, ccId: 1, vdn: 1, skillId: index + 1, windowStart }),
      );
    expect(traffic(1)).not.toEqual(traffic(2));
  });
});

describe('opening hours', () => {
  const hours = { opensAtHour: 8, closesAtHour: 20 };

  it('serves zero counters in windows outside the opening hours and the usual traffic inside them', () => {
    fc.assert(
      fc.property(seeds, ccIds, vdns, skillIds, instants, (seed, ccId, vdn, skillId, at) => {
        const stats = new TrafficModel({ seed, openingHours: hours }).statsAt(ccId, vdn, skillId, at);
        const always = new TrafficModel({ seed }).statsAt(ccId, vdn, skillId, at);
        const hour = new Date(windowStartOf(at)).getUTCHours();
        if (hour >= 8 && hour < 20) expect(stats).toEqual(always);
        else expect(counters(stats)).toEqual(ZERO_COUNTERS);
      }),
    );
  });

  it('reads hours that span midnight', () => {
    const night = { opensAtHour: 22, closesAtHour: 6 };
    expect(isOpen(night, Date.UTC(2026, 0, 1, 23))).toBe(true);
    expect(isOpen(night, Date.UTC(2026, 0, 1, 5, 55))).toBe(true);
    expect(isOpen(night, Date.UTC(2026, 0, 1, 6))).toBe(false);
  });

  it('refuses hours that are not whole hours of a day', () => {
    expect(() => new TrafficModel({ seed: 1, openingHours: { opensAtHour: 8.5, closesAtHour: 20 } })).toThrow(
      RangeError,
    );
  });
});
