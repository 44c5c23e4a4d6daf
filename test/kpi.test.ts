import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCallStatsResponse } from '../lib/cms/response.js';
import { checkConsistency, computeKpis, rollup, sumCounters, ZERO_COUNTERS } from '../lib/kpi.js';
import { COUNTERS, type Counters, KPIS, type SkillStats, WINDOW_MS } from '../lib/model.js';

const counters = (values: Partial<Counters>): Counters => ({ ...ZERO_COUNTERS, ...values });

const RATES = ['AbandonmentRate', 'AnswerRate', 'ServiceLevel20s'] as const;

const countersUpTo = (max: number): fc.Arbitrary<Counters> =>
  fc.record(
    Object.fromEntries(COUNTERS.map(({ name }) => [name, fc.integer({ min: 0, max })])) as Record<
      keyof Counters,
      fc.Arbitrary<number>
    >,
  );

/** Any non-negative integer counters, consistent or not. */
const anyCounters = countersUpTo(Number.MAX_SAFE_INTEGER);

/** Counters that any handful of skills can add up without leaving the exact integers of a double. */
const summableCounters = countersUpTo(2 ** 40);

/** Counters that honour every relation CMS should keep. */
const consistentCounters = fc
  .record({
    offered: fc.nat(1_000_000),
    answeredShare: fc.double({ min: 0, max: 1, noNaN: true }),
    abandonedShare: fc.double({ min: 0, max: 1, noNaN: true }),
    in20sShare: fc.double({ min: 0, max: 1, noNaN: true }),
    ended: fc.nat(1_000_000),
    wrapUps: fc.nat(1_000_000),
    wrapUpTime: fc.nat(1_000_000_000),
    ivr: fc.nat(1_000_000_000),
  })
  .map(({ offered, answeredShare, abandonedShare, in20sShare, ended, wrapUps, wrapUpTime, ivr }) => {
    const answered = Math.floor(offered * answeredShare);
    const abandoned = Math.floor((offered - answered) * abandonedShare);
    return counters({
      CallsOffered: offered,
      CallsAnswered: answered,
      CallsAbandoned: abandoned,
      CallsAnsweredIn20s: Math.floor(answered * in20sShare),
      CallsEnded: ended,
      WrapUps: wrapUps,
      WrapUpTime: wrapUps === 0 ? 0 : wrapUpTime,
      IvrTalkTime: ivr,
    });
  });

const skill = (skillId: number, windowStart: number, values: Partial<Counters>): SkillStats => ({
  skillId,
  windowStart,
  counters: counters(values),
});

describe('computeKpis', () => {
  it('computes the four KPIs of metrics.md', () => {
    expect(
      computeKpis(
        counters({
          CallsOffered: 40,
          CallsAnswered: 30,
          CallsAbandoned: 10,
          CallsAnsweredIn20s: 20,
          WrapUps: 4,
          WrapUpTime: 90,
        }),
      ),
    ).toEqual({ AbandonmentRate: 25, AnswerRate: 75, ServiceLevel20s: 50, AverageWrapUpTime: 22.5 });
  });

  it('keeps full precision instead of rounding', () => {
    const kpis = computeKpis(counters({ CallsOffered: 3, CallsAnswered: 1, WrapUps: 3, WrapUpTime: 10 }));
    expect(kpis.AnswerRate).toBeCloseTo(100 / 3, 12);
    expect(kpis.AverageWrapUpTime).toBeCloseTo(10 / 3, 12);
  });

  it('gives whole-number rates exactly, with a single rounding', () => {
    const kpis = computeKpis(
      counters({ CallsOffered: 20, CallsAnswered: 11, CallsAbandoned: 9, CallsAnsweredIn20s: 11 }),
    );
    expect(kpis.AnswerRate).toBe(55);
    expect(kpis.ServiceLevel20s).toBe(55);
    expect(computeKpis(counters({ CallsOffered: 12, CallsAbandoned: 1 })).AbandonmentRate).toBe(100 / 12);
  });

  it('leaves the rates absent, not zero, when no call was offered', () => {
    const kpis = computeKpis(counters({ WrapUps: 2, WrapUpTime: 10 }));
    expect(Object.keys(kpis)).toEqual(['AverageWrapUpTime']);
  });

  it('leaves the average wrap-up time absent when there was no wrap-up', () => {
    expect(computeKpis(counters({ CallsOffered: 5, WrapUpTime: 0 }))).not.toHaveProperty('AverageWrapUpTime');
  });

  it('publishes a zero rate when calls were offered and none abandoned', () => {
    expect(computeKpis(counters({ CallsOffered: 5 })).AbandonmentRate).toBe(0);
  });

  it('reaches exactly 100 when every offered call was answered', () => {
    expect(computeKpis(counters({ CallsOffered: 7, CallsAnswered: 7 })).AnswerRate).toBe(100);
  });

  it('withholds the answer rate when more calls were answered than offered', () => {
    expect(computeKpis(counters({ CallsOffered: 5, CallsAnswered: 6 }))).not.toHaveProperty('AnswerRate');
  });

  it('withholds the abandonment rate when more calls were abandoned than offered', () => {
    expect(computeKpis(counters({ CallsOffered: 5, CallsAbandoned: 6 }))).not.toHaveProperty(
      'AbandonmentRate',
    );
  });

  it('withholds the service level when more calls were answered within 20 s than answered', () => {
    const kpis = computeKpis(counters({ CallsOffered: 10, CallsAnswered: 3, CallsAnsweredIn20s: 4 }));
    expect(kpis).not.toHaveProperty('ServiceLevel20s');
    expect(kpis.AnswerRate).toBe(30);
  });

  it('withholds the service level when more calls were answered within 20 s than offered', () => {
    const kpis = computeKpis(counters({ CallsOffered: 3, CallsAnswered: 5, CallsAnsweredIn20s: 4 }));
    expect(kpis).not.toHaveProperty('ServiceLevel20s');
  });

  it('keeps rates within 0-100 for consistent counters', () => {
    fc.assert(
      fc.property(consistentCounters, (values) => {
        const kpis = computeKpis(values);
        for (const rate of RATES) {
          const value = kpis[rate];
          if (value !== undefined) {
            expect(value).toBeGreaterThanOrEqual(0);
            expect(value).toBeLessThanOrEqual(100);
          }
        }
      }),
    );
  });

  it('keeps every rate within 0-100 or absent for any non-negative counters', () => {
    fc.assert(
      fc.property(anyCounters, (values) => {
        const kpis = computeKpis(values);
        for (const rate of RATES) {
          const value = kpis[rate];
          if (value !== undefined) expect(value >= 0 && value <= 100).toBe(true);
        }
      }),
    );
  });

  it('never yields NaN or an infinity, even for counters near the largest double', () => {
    const huge = fc.oneof(fc.maxSafeNat(), fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }));
    const hugeCounters = fc.record(
      Object.fromEntries(COUNTERS.map(({ name }) => [name, huge])) as Record<
        keyof Counters,
        fc.Arbitrary<number>
      >,
    );
    fc.assert(
      fc.property(hugeCounters, (values) => {
        for (const value of Object.values(computeKpis(values))) expect(Number.isFinite(value)).toBe(true);
      }),
    );
  });

  it('omits a KPI exactly when its denominator is zero for consistent counters', () => {
    fc.assert(
      fc.property(consistentCounters, (values) => {
        const kpis = computeKpis(values);
        for (const rate of RATES) expect(rate in kpis).toBe(values.CallsOffered > 0);
        expect('AverageWrapUpTime' in kpis).toBe(values.WrapUps > 0);
      }),
    );
  });

  it('names only KPIs of the metric contract', () => {
    const names = KPIS.map((kpi) => kpi.name as string);
    fc.assert(
      fc.property(anyCounters, (values) => {
        for (const name of Object.keys(computeKpis(values))) expect(names).toContain(name);
      }),
    );
  });
});

describe('checkConsistency', () => {
  it('finds nothing wrong with consistent counters', () => {
    fc.assert(
      fc.property(consistentCounters, (values) => {
        expect(checkConsistency(values)).toEqual([]);
      }),
    );
  });

  it('reports answered above offered and the rate it withholds', () => {
    expect(checkConsistency(counters({ CallsOffered: 5, CallsAnswered: 6 }))).toEqual([
      {
        relation: 'CallsAnswered <= CallsOffered',
        detail: 'CallsAnswered 6 exceeds CallsOffered 5: AnswerRate withheld',
      },
      {
        relation: 'CallsAnswered + CallsAbandoned <= CallsOffered',
        detail: 'CallsAnswered 6 + CallsAbandoned 0 exceeds CallsOffered 5',
      },
    ]);
  });

  it('reports abandoned above offered', () => {
    const relations = checkConsistency(counters({ CallsOffered: 5, CallsAbandoned: 6 })).map(
      (w) => w.relation,
    );
    expect(relations).toEqual([
      'CallsAbandoned <= CallsOffered',
      'CallsAnswered + CallsAbandoned <= CallsOffered',
    ]);
  });

  it('reports answered plus abandoned above offered even when each alone fits', () => {
    expect(checkConsistency(counters({ CallsOffered: 5, CallsAnswered: 3, CallsAbandoned: 3 }))).toEqual([
      {
        relation: 'CallsAnswered + CallsAbandoned <= CallsOffered',
        detail: 'CallsAnswered 3 + CallsAbandoned 3 exceeds CallsOffered 5',
      },
    ]);
  });

  it('reports calls answered within 20 s above calls answered', () => {
    const warnings = checkConsistency(counters({ CallsOffered: 9, CallsAnswered: 3, CallsAnsweredIn20s: 4 }));
    expect(warnings).toEqual([
      {
        relation: 'CallsAnsweredIn20s <= CallsAnswered',
        detail: 'CallsAnsweredIn20s 4 exceeds CallsAnswered 3: ServiceLevel20s withheld',
      },
    ]);
  });

  it('reports calls answered within 20 s above calls offered', () => {
    const relations = checkConsistency(
      counters({ CallsOffered: 3, CallsAnswered: 3, CallsAnsweredIn20s: 4 }),
    ).map((w) => w.relation);
    expect(relations).toEqual(['CallsAnsweredIn20s <= CallsAnswered', 'CallsAnsweredIn20s <= CallsOffered']);
  });

  it('reports wrap-up time without any wrap-up', () => {
    expect(checkConsistency(counters({ WrapUpTime: 12 }))).toEqual([
      { relation: 'WrapUpTime = 0 when WrapUps = 0', detail: 'WrapUpTime 12 s with no WrapUps' },
    ]);
  });

  it('accepts more wrap-ups than ended calls, as a window boundary allows', () => {
    expect(checkConsistency(counters({ CallsEnded: 1, WrapUps: 3, WrapUpTime: 30 }))).toEqual([]);
  });

  it('warns about every rate it withholds', () => {
    fc.assert(
      fc.property(anyCounters, (values) => {
        const kpis = computeKpis(values);
        const warned = checkConsistency(values).length > 0;
        for (const rate of RATES) {
          if (values.CallsOffered > 0 && !(rate in kpis)) expect(warned).toBe(true);
        }
      }),
    );
  });
});

describe('sumCounters', () => {
  it('is all zero for no counters', () => {
    expect(sumCounters([])).toEqual(ZERO_COUNTERS);
  });

  it('adds counter by counter', () => {
    expect(
      sumCounters([
        counters({ CallsOffered: 2, WrapUpTime: 5 }),
        counters({ CallsOffered: 3, IvrTalkTime: 7 }),
      ]),
    ).toEqual(counters({ CallsOffered: 5, WrapUpTime: 5, IvrTalkTime: 7 }));
  });

  it('does not depend on the order of its input', () => {
    const listAndShuffle = fc
      .array(summableCounters, { maxLength: 8 })
      .chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })));
    fc.assert(
      fc.property(listAndShuffle, ([list, shuffled]) => {
        expect(sumCounters(shuffled)).toEqual(sumCounters(list));
      }),
    );
  });
});

describe('rollup', () => {
  const WINDOW = 1_607_390_700_000;

  it('is undefined when no skill was returned', () => {
    expect(rollup([])).toBeUndefined();
  });

  it('sums the skills of the newest window and recomputes the KPIs from the sums', () => {
    const result = rollup([
      skill(1, WINDOW, { CallsOffered: 10, CallsAbandoned: 5 }),
      skill(2, WINDOW, { CallsOffered: 90, CallsAbandoned: 5 }),
    ]);
    // The average of the per-skill rates (50 % and 5.6 %) would be 27.8 %: the roll-up must say 10 %.
    expect(result).toEqual({
      windowStart: WINDOW,
      skillCount: 2,
      counters: counters({ CallsOffered: 100, CallsAbandoned: 10 }),
      kpis: { AbandonmentRate: 10, AnswerRate: 0, ServiceLevel20s: 0 },
    });
  });

  it('leaves out a skill still reporting the previous window', () => {
    const result = rollup([
      skill(1, WINDOW - 300_000, { CallsOffered: 500 }),
      skill(2, WINDOW, { CallsOffered: 4, CallsAnswered: 1 }),
    ]);
    expect(result?.windowStart).toBe(WINDOW);
    expect(result?.skillCount).toBe(1);
    expect(result?.counters.CallsOffered).toBe(4);
  });

  const skillsOverWindows = fc.array(
    fc.record({
      skillId: fc.integer({ min: 1, max: 5000 }),
      windowStart: fc.constantFrom(WINDOW - 300_000, WINDOW, WINDOW + 300_000),
      counters: anyCounters,
    }),
    { minLength: 1, maxLength: 10 },
  );

  it('gives KPIs equal to those of the summed counters', () => {
    fc.assert(
      fc.property(skillsOverWindows, (skills) => {
        const result = rollup(skills);
        expect(result?.kpis).toEqual(computeKpis(result?.counters ?? ZERO_COUNTERS));
      }),
    );
  });

  it('ignores every skill of an older window', () => {
    const current = fc.array(
      fc.record({
        skillId: fc.integer({ min: 1, max: 5000 }),
        windowStart: fc.constant(WINDOW),
        counters: anyCounters,
      }),
      { minLength: 1, maxLength: 5 },
    );
    const older = fc.array(
      fc.record({
        skillId: fc.integer({ min: 1, max: 5000 }),
        windowStart: fc.integer({ min: 0, max: WINDOW - 1 }),
        counters: anyCounters,
      }),
      { maxLength: 5 },
    );
    fc.assert(
      fc.property(current, older, fc.boolean(), (fresh, stale, staleFirst) => {
        const mixed = staleFirst ? [...stale, ...fresh] : [...fresh, ...stale];
        expect(rollup(mixed)).toEqual(rollup(fresh));
      }),
    );
  });

  it('sums every skill of the newest aligned window, whatever the spread of their startTime within it', () => {
    const ids = fc.uniqueArray(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 40 });
    const windowIndex = fc.integer({ min: 3, max: 20_000_000 });
    fc.assert(
      fc.property(ids, windowIndex, fc.nat(), (skillIds, index, seed) => {
        const windowStart = index * WINDOW_MS;
        // Some skills trail the boundary by up to the whole window, a few still report an older window.
        const records = skillIds.map((id, position): Record<string, number> => {
          const spread = (seed + id * 7_919) % WINDOW_MS;
          const older = position % 4 === 3;
          return {
            id,
            startTime: older ? windowStart - WINDOW_MS * (1 + (id % 3)) + spread : windowStart + spread,
            ...Object.fromEntries(
              COUNTERS.map(({ cmsField }, field) => [cmsField, (id * (field + 7)) % 1_000]),
            ),
          };
        });
        const body = JSON.stringify({ resultCode: '0100000', resultDesc: records });
        const fresh = records.filter((_, position) => position % 4 !== 3);
        const total = rollup(parseCallStatsResponse(body));
        if (fresh.length === 0) {
          expect(total?.windowStart).toBeLessThan(windowStart);
          return;
        }
        expect(total?.windowStart).toBe(windowStart);
        expect(total?.skillCount).toBe(fresh.length);
        for (const { name, cmsField } of COUNTERS) {
          expect(total?.counters[name]).toBe(fresh.reduce((sum, record) => sum + (record[cmsField] ?? 0), 0));
        }
      }),
    );
  });
});
