import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZERO_COUNTERS } from '../lib/kpi.js';
import { COUNTERS, type Counters, KPIS, type SkillStats } from '../lib/model.js';
import { liveQueueMissing, liveQueueRead } from './support/live-queue.js';
import { reportOf } from './support/vdn-read.js';

const WINDOW = Date.UTC(2020, 11, 8, 1, 25);
const WINDOW_ISO = '2020-12-08T01:25:00.000Z';

const skill = (skillId: number, values: Partial<Counters>, windowStart = WINDOW): SkillStats => ({
  skillId,
  windowStart,
  counters: { ...ZERO_COUNTERS, ...values },
});

const ALL_NULL_KPIS = {
  AbandonmentRate: null,
  AnswerRate: null,
  ServiceLevel20s: null,
  AverageWrapUpTime: null,
};

describe('buildReport', () => {
  it('shows a skill with its ISO window, every counter and every KPI', () => {
    const report = reportOf({
      ccId: 1,
      vdn: 170,
      skills: [skill(2, { CallsOffered: 4, CallsAnswered: 3, CallsAbandoned: 1, CallsAnsweredIn20s: 2 })],
      missingSkillIds: [],
    });
    expect(report).toEqual({
      ccId: 1,
      vdn: 170,
      skills: [
        {
          skillId: 2,
          windowStart: WINDOW_ISO,
          counters: {
            ...ZERO_COUNTERS,
            CallsOffered: 4,
            CallsAnswered: 3,
            CallsAbandoned: 1,
            CallsAnsweredIn20s: 2,
          },
          kpis: { AbandonmentRate: 25, AnswerRate: 75, ServiceLevel20s: 50, AverageWrapUpTime: null },
          queue: null,
        },
      ],
      missingSkillIds: [],
      rollup: {
        windowStart: WINDOW_ISO,
        skillCount: 1,
        counters: {
          ...ZERO_COUNTERS,
          CallsOffered: 4,
          CallsAnswered: 3,
          CallsAbandoned: 1,
          CallsAnsweredIn20s: 2,
        },
        kpis: { AbandonmentRate: 25, AnswerRate: 75, ServiceLevel20s: 50, AverageWrapUpTime: null },
        queue: null,
      },
    });
  });

  it('writes an idle skill’s KPIs as null rather than leaving them out', () => {
    const [view] = reportOf({ ccId: 1, vdn: 170, skills: [skill(1, {})], missingSkillIds: [] }).skills;
    expect(view?.kpis).toEqual(ALL_NULL_KPIS);
    expect(JSON.parse(JSON.stringify(view?.kpis))).toEqual(ALL_NULL_KPIS);
  });

  it('leaves the warnings key out when the counters are consistent', () => {
    const [view] = reportOf({
      ccId: 1,
      vdn: 170,
      skills: [skill(1, { CallsOffered: 1 })],
      missingSkillIds: [],
    }).skills;
    expect(view).not.toHaveProperty('warnings');
  });

  it('lists the details of the warnings of an inconsistent skill, with its withheld KPI as null', () => {
    const [view] = reportOf({
      ccId: 1,
      vdn: 170,
      skills: [skill(1, { CallsOffered: 2, CallsAnswered: 2, CallsAnsweredIn20s: 3 })],
      missingSkillIds: [],
    }).skills;
    expect(view?.kpis.ServiceLevel20s).toBeNull();
    expect(view?.warnings).toEqual([
      'CallsAnsweredIn20s 3 exceeds CallsAnswered 2: ServiceLevel20s withheld',
      'CallsAnsweredIn20s 3 exceeds CallsOffered 2: ServiceLevel20s withheld',
    ]);
  });

  it('shows an empty roll-up when CMS returned no skill', () => {
    const report = reportOf({ ccId: 3, vdn: 9, skills: [], missingSkillIds: [8, 1] });
    expect(report).toEqual({
      ccId: 3,
      vdn: 9,
      skills: [],
      missingSkillIds: [1, 8],
      rollup: { windowStart: null, skillCount: 0, counters: ZERO_COUNTERS, kpis: ALL_NULL_KPIS, queue: null },
    });
  });

  it('sorts skills by id and rolls up only the newest window', () => {
    const report = reportOf({
      ccId: 1,
      vdn: 170,
      skills: [skill(9, { CallsOffered: 6 }), skill(4, { CallsOffered: 100 }, WINDOW - 300_000)],
      missingSkillIds: [],
    });
    expect(report.skills.map((s) => [s.skillId, s.windowStart])).toEqual([
      [4, '2020-12-08T01:20:00.000Z'],
      [9, WINDOW_ISO],
    ]);
    expect(report.rollup).toMatchObject({ windowStart: WINDOW_ISO, skillCount: 1 });
    expect(report.rollup.counters.CallsOffered).toBe(6);
  });

  it('keeps every counter and KPI key, in contract order, for any counters', () => {
    const counterNames = COUNTERS.map((c) => c.name);
    const kpiNames = KPIS.map((k) => k.name);
    const counters = fc.record(
      Object.fromEntries(counterNames.map((name) => [name, fc.nat(1_000_000)])) as Record<
        keyof Counters,
        fc.Arbitrary<number>
      >,
    );
    const skills = fc.array(
      fc.record({ skillId: fc.integer({ min: 1, max: 5000 }), windowStart: fc.constant(WINDOW), counters }),
      { maxLength: 5 },
    );
    fc.assert(
      fc.property(skills, (list) => {
        const report = reportOf({ ccId: 1, vdn: 170, skills: list, missingSkillIds: [] });
        for (const view of [...report.skills, report.rollup]) {
          expect(Object.keys(view.counters)).toEqual(counterNames);
          expect(Object.keys(view.kpis)).toEqual(kpiNames);
          for (const value of Object.values(view.kpis))
            expect(value === null || Number.isFinite(value)).toBe(true);
        }
      }),
    );
  });

  describe('the live queue', () => {
    const stats = [skill(1, { CallsOffered: 3 }), skill(2, { CallsOffered: 5 }), skill(3, {})];
    const answer = { ccId: 1, vdn: 170, skills: stats, missingSkillIds: [] };

    it('gives each skill its four live figures, and null to a skill CMS gave none for', () => {
      const report = reportOf(
        answer,
        liveQueueRead(WINDOW, [
          [1, 4, 185, 6, 0],
          [2, 0, 0, 3, 2],
        ]),
      );
      expect(report.skills.map((view) => view.queue)).toEqual([
        { callsWaiting: 4, longestWaitSeconds: 185, agentsLoggedOn: 6, agentsAvailable: 0 },
        { callsWaiting: 0, longestWaitSeconds: 0, agentsLoggedOn: 3, agentsAvailable: 2 },
        null,
      ]);
    });

    it('rolls the VDN up as calls waiting summed and the longest wait of all, without agents', () => {
      const entry = fc.record({
        waiting: fc.nat(500),
        longest: fc.nat(10_000),
        on: fc.nat(50),
        free: fc.nat(50),
      });
      fc.assert(
        fc.property(fc.array(entry, { maxLength: 20 }), (entries) => {
          const queues = entries.map(
            (each, index) => [index + 1, each.waiting, each.longest, each.on, each.free] as const,
          );
          const { rollup } = reportOf(
            { ccId: 1, vdn: 170, skills: [], missingSkillIds: [] },
            liveQueueRead(WINDOW, queues),
          );
          expect(rollup.queue).toEqual({
            callsWaiting: entries.reduce((sum, each) => sum + each.waiting, 0),
            longestWaitSeconds: entries.reduce((max, each) => Math.max(max, each.longest), 0),
          });
        }),
      );
    });

    it('writes the queue as null everywhere when CMS lacks the live queue', () => {
      const report = reportOf(answer, liveQueueMissing());
      expect(report.skills.every((view) => view.queue === null)).toBe(true);
      expect(report.rollup.queue).toBeNull();
      expect(JSON.parse(JSON.stringify(report)).rollup).toHaveProperty('queue', null);
    });
  });
});
