import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LiveQueueRead } from '../lib/cms/live-queue.js';
import type { VdnRead } from '../lib/cms/vdn-read.js';
import { CmsTimeoutError } from '../lib/errors.js';
import { ZERO_COUNTERS } from '../lib/kpi.js';
import {
  ALL_METRICS,
  buildDatums,
  DEFAULT_METRICS,
  type MetricSelection,
  parseMetricSelection,
} from '../lib/metrics/build-datums.js';
import {
  COUNTERS,
  type Counters,
  HEALTH_METRICS,
  KPIS,
  LIVE_QUEUE_METRICS,
  METRIC_UNITS,
  type SkillStats,
} from '../lib/model.js';
import { liveQueueMissing, liveQueueRead } from './support/live-queue.js';
import { readOf } from './support/vdn-read.js';

const WINDOW = 1_607_390_700_000;
const NOW = WINDOW + 42_000;

const skill = (skillId: number, values: Partial<Counters>, windowStart = WINDOW): SkillStats => ({
  skillId,
  windowStart,
  counters: { ...ZERO_COUNTERS, ...values },
});

/** A skill whose batch failed, in a read that did not succeed. */
const FAILED_SKILL = 4_999;

/** What CMS said about a VDN, as the client reads it (test/support/vdn-read.ts). */
function outcome({
  ccId = 1,
  vdn = 170,
  skills = [] as SkillStats[],
  missingSkillIds = [] as number[],
  succeeded = true,
  slowestBatchMs = 120,
  sent = true,
  liveQueue = undefined as LiveQueueRead | undefined,
}): VdnRead {
  const failures = succeeded ? [] : [{ skillIds: [FAILED_SKILL], error: new CmsTimeoutError('no answer') }];
  const skillIds = [
    ...skills.map((each) => each.skillId),
    ...missingSkillIds,
    ...(succeeded ? [] : [FAILED_SKILL]),
  ];
  return readOf(
    { ccId, vdn, skillIds },
    { skills, failures, ms: slowestBatchMs, requests: sent ? 1 : 0, liveQueue },
  );
}

const only = (...names: string[]): MetricSelection => ({
  skill: parseMetricSelection(names.join(',')),
  vdn: parseMetricSelection(names.join(',')),
});

const NONE: MetricSelection = { skill: new Set(), vdn: new Set() };

const VDN = { CcId: '1', Vdn: '170' };

describe('buildDatums', () => {
  it('publishes only health metrics for a VDN whose skills were not returned', () => {
    const datums = buildDatums([outcome({ missingSkillIds: [4, 5], succeeded: true })], {
      now: NOW,
      selection: ALL_METRICS,
    });
    expect(datums).toEqual([
      { name: 'CollectionSuccess', unit: 'Count', value: 1, timestamp: NOW, dimensions: VDN },
      { name: 'CmsLatency', unit: 'Milliseconds', value: 120, timestamp: NOW, dimensions: VDN },
      { name: 'SkillsMissing', unit: 'Count', value: 2, timestamp: NOW, dimensions: VDN },
    ]);
  });

  it('publishes the exact datums of a two-skill VDN: roll-up, skills by id, health last', () => {
    const datums = buildDatums(
      [
        outcome({
          skills: [
            skill(7, { CallsOffered: 3, CallsAbandoned: 3 }),
            skill(2, { CallsOffered: 1, CallsAnswered: 1 }),
          ],
        }),
      ],
      { now: NOW, selection: only('CallsOffered', 'AbandonmentRate') },
    );
    expect(datums).toEqual([
      { name: 'CallsOffered', unit: 'Count', value: 4, timestamp: WINDOW, dimensions: VDN },
      { name: 'AbandonmentRate', unit: 'Percent', value: 75, timestamp: WINDOW, dimensions: VDN },
      {
        name: 'CallsOffered',
        unit: 'Count',
        value: 1,
        timestamp: WINDOW,
        dimensions: { ...VDN, SkillId: '2' },
      },
      {
        name: 'AbandonmentRate',
        unit: 'Percent',
        value: 0,
        timestamp: WINDOW,
        dimensions: { ...VDN, SkillId: '2' },
      },
      {
        name: 'CallsOffered',
        unit: 'Count',
        value: 3,
        timestamp: WINDOW,
        dimensions: { ...VDN, SkillId: '7' },
      },
      {
        name: 'AbandonmentRate',
        unit: 'Percent',
        value: 100,
        timestamp: WINDOW,
        dimensions: { ...VDN, SkillId: '7' },
      },
      { name: 'CollectionSuccess', unit: 'Count', value: 1, timestamp: NOW, dimensions: VDN },
      { name: 'CmsLatency', unit: 'Milliseconds', value: 120, timestamp: NOW, dimensions: VDN },
      { name: 'SkillsMissing', unit: 'Count', value: 0, timestamp: NOW, dimensions: VDN },
      { name: 'DataAge', unit: 'Seconds', value: 42, timestamp: NOW, dimensions: VDN },
    ]);
  });

  it('publishes all eight counters and the four KPIs of a busy skill in contract order', () => {
    const busy = skill(1, {
      CallsOffered: 10,
      CallsAnswered: 8,
      CallsAbandoned: 2,
      CallsEnded: 7,
      CallsAnsweredIn20s: 5,
      WrapUps: 4,
      WrapUpTime: 100,
      IvrTalkTime: 30,
    });
    const datums = buildDatums([outcome({ skills: [busy] })], { now: NOW, selection: ALL_METRICS });
    const perSkill = datums.filter((d) => d.dimensions.SkillId === '1');
    expect(perSkill.map((d) => [d.name, d.value])).toEqual([
      ['CallsOffered', 10],
      ['CallsAnswered', 8],
      ['CallsAbandoned', 2],
      ['CallsEnded', 7],
      ['CallsAnsweredIn20s', 5],
      ['WrapUps', 4],
      ['WrapUpTime', 100],
      ['IvrTalkTime', 30],
      ['AbandonmentRate', 20],
      ['AnswerRate', 80],
      ['ServiceLevel20s', 50],
      ['AverageWrapUpTime', 25],
    ]);
  });

  it('publishes nothing for a skill whose counters are all zero, whatever the selection', () => {
    const datums = buildDatums([outcome({ skills: [skill(3, {}), skill(4, { CallsOffered: 1 })] })], {
      now: NOW,
      selection: ALL_METRICS,
    });
    expect(datums.filter((d) => d.dimensions.SkillId === '3')).toEqual([]);
    expect(datums.filter((d) => d.dimensions.SkillId === '4').length).toBeGreaterThan(0);
  });

  /** Skill 3 has 2 calls waiting, the longest for 40 s; skill 4's queue is empty. */
  const waiting = liveQueueRead(NOW, [
    [3, 2, 40, 1, 0],
    [4, 0, 0, 1, 1],
  ]);
  const emptyQueue = liveQueueRead(NOW, [
    [3, 0, 0, 1, 1],
    [4, 0, 0, 1, 1],
  ]);
  const idleSkills = [skill(3, {}), skill(4, {})];
  const HEALTH_NAMES = ['CollectionSuccess', 'CmsLatency', 'SkillsMissing', 'DataAge'];

  it('publishes only the health of a quiet VDN: an idle window and an empty live queue', () => {
    const datums = buildDatums([outcome({ skills: idleSkills, liveQueue: emptyQueue })], {
      now: NOW,
      selection: ALL_METRICS,
    });
    expect(datums.map((d) => [d.name, d.dimensions])).toEqual(HEALTH_NAMES.map((name) => [name, VDN]));
  });

  it('publishes only the health of a quiet VDN whose live queue was not read or is unavailable', () => {
    for (const liveQueue of [undefined, liveQueueMissing()]) {
      const datums = buildDatums([outcome({ skills: idleSkills, liveQueue })], {
        now: NOW,
        selection: ALL_METRICS,
      });
      expect(datums.map((d) => d.name)).toEqual(HEALTH_NAMES);
    }
  });

  it('publishes the zero roll-up of an idle window while calls are waiting', () => {
    const datums = buildDatums([outcome({ skills: idleSkills, liveQueue: waiting })], {
      now: NOW,
      selection: ALL_METRICS,
    });
    expect(datums.filter((d) => d.dimensions.SkillId !== undefined)).toEqual([]);
    expect(datums.filter((d) => d.timestamp === WINDOW).map((d) => [d.name, d.value, d.dimensions])).toEqual(
      COUNTERS.map(({ name }) => [name, 0, VDN]),
    );
  });

  it('publishes the roll-up of a busy window while nobody is waiting', () => {
    const datums = buildDatums(
      [outcome({ skills: [skill(3, { CallsOffered: 1 }), skill(4, {})], liveQueue: emptyQueue })],
      { now: NOW, selection: only('CallsOffered') },
    );
    expect(datums.filter((d) => d.timestamp === WINDOW).map((d) => [d.name, d.value, d.dimensions])).toEqual([
      ['CallsOffered', 1, VDN],
      ['CallsOffered', 1, { ...VDN, SkillId: '3' }],
    ]);
  });

  it('publishes nothing for the closing read of a quiet window', () => {
    // A closing read reads the counters alone: no live queue, and its health is the window's coverage.
    const options = { now: NOW, selection: ALL_METRICS, health: false };
    expect(buildDatums([outcome({ skills: idleSkills })], options)).toEqual([]);
    expect(buildDatums([outcome({ skills: [skill(3, { WrapUps: 1 })] })], options).length).toBeGreaterThan(0);
  });

  it('publishes no rate for a skill that was offered no call, but its counters', () => {
    const datums = buildDatums([outcome({ skills: [skill(3, { WrapUps: 1, WrapUpTime: 30 })] })], {
      now: NOW,
      selection: ALL_METRICS,
    });
    const names = datums.filter((d) => d.dimensions.SkillId === '3').map((d) => d.name);
    expect(names).toEqual([...COUNTERS.map((c) => c.name), 'AverageWrapUpTime']);
  });

  it('publishes per skill by default only the counters behind the abandonment rate, per VDN everything', () => {
    const datums = buildDatums([outcome({ skills: [skill(1, { CallsOffered: 10, CallsAbandoned: 2 })] })], {
      now: NOW,
      selection: DEFAULT_METRICS,
    });
    expect(datums.filter((d) => d.dimensions.SkillId === '1').map((d) => [d.name, d.value])).toEqual([
      ['CallsOffered', 10],
      ['CallsAbandoned', 2],
    ]);
    expect(datums.filter((d) => d.dimensions.SkillId === undefined).map((d) => d.name)).toEqual(
      expect.arrayContaining([
        ...COUNTERS.map((c) => c.name),
        'AbandonmentRate',
        'AnswerRate',
        'ServiceLevel20s',
      ]),
    );
  });

  it('withholds an inconsistent rate and still publishes the raw counters', () => {
    const datums = buildDatums([outcome({ skills: [skill(3, { CallsOffered: 2, CallsAnswered: 5 })] })], {
      now: NOW,
      selection: only('CallsAnswered', 'AnswerRate'),
    });
    expect(datums.filter((d) => d.dimensions.SkillId === '3').map((d) => [d.name, d.value])).toEqual([
      ['CallsAnswered', 5],
    ]);
  });

  it('publishes only health metrics when nothing is selected', () => {
    const datums = buildDatums([outcome({ skills: [skill(1, { CallsOffered: 5 })] })], {
      now: NOW,
      selection: NONE,
    });
    expect(datums.map((d) => d.name)).toEqual([
      'CollectionSuccess',
      'CmsLatency',
      'SkillsMissing',
      'DataAge',
    ]);
  });

  it('applies the skill and the VDN selections to their own level', () => {
    const datums = buildDatums([outcome({ skills: [skill(1, { CallsOffered: 5 })] })], {
      now: NOW,
      selection: { skill: new Set(['CallsOffered']), vdn: new Set(['AnswerRate']) },
    });
    expect(datums.filter((d) => d.timestamp === WINDOW).map((d) => [d.name, d.dimensions.SkillId])).toEqual([
      ['AnswerRate', undefined],
      ['CallsOffered', '1'],
    ]);
  });

  it('reports a partial outcome: failure, missing skills and the skills that did come back', () => {
    const datums = buildDatums(
      [outcome({ skills: [skill(1, { CallsOffered: 5 })], missingSkillIds: [2, 3, 4], succeeded: false })],
      { now: NOW, selection: only('CallsOffered') },
    );
    expect(datums.map((d) => [d.name, d.value, d.dimensions.SkillId])).toEqual([
      ['CallsOffered', 5, undefined],
      ['CallsOffered', 5, '1'],
      ['CollectionSuccess', 0, undefined],
      ['CmsLatency', 120, undefined],
      ['SkillsMissing', 3, undefined],
      ['DataAge', 42, undefined],
    ]);
  });

  it('omits the latency when no request was attempted', () => {
    const datums = buildDatums([outcome({ succeeded: false, sent: false, missingSkillIds: [1] })], {
      now: NOW,
      selection: ALL_METRICS,
    });
    expect(datums.map((d) => [d.name, d.value])).toEqual([
      ['CollectionSuccess', 0],
      ['SkillsMissing', 1],
    ]);
  });

  it('stamps each skill with its own window and rolls up only the newest one', () => {
    const datums = buildDatums(
      [
        outcome({
          skills: [skill(1, { CallsOffered: 9 }, WINDOW - 300_000), skill(2, { CallsOffered: 4 }, WINDOW)],
        }),
      ],
      { now: NOW, selection: only('CallsOffered') },
    );
    expect(datums.slice(0, 3).map((d) => [d.dimensions.SkillId, d.value, d.timestamp])).toEqual([
      [undefined, 4, WINDOW],
      ['1', 9, WINDOW - 300_000],
      ['2', 4, WINDOW],
    ]);
  });

  it('measures the data age from the freshest window returned', () => {
    const datums = buildDatums(
      [outcome({ skills: [skill(1, {}, WINDOW - 300_000), skill(2, {}, WINDOW)] })],
      { now: WINDOW + 1_500, selection: NONE },
    );
    expect(datums.find((d) => d.name === 'DataAge')?.value).toBe(1.5);
  });

  it('orders VDNs by call center, then VDN', () => {
    const datums = buildDatums(
      [outcome({ ccId: 2, vdn: 1 }), outcome({ ccId: 1, vdn: 300 }), outcome({ ccId: 1, vdn: 20 })],
      { now: NOW, selection: NONE },
    );
    const order = datums.filter((d) => d.name === 'CollectionSuccess').map((d) => d.dimensions);
    expect(order).toEqual([
      { CcId: '1', Vdn: '20' },
      { CcId: '1', Vdn: '300' },
      { CcId: '2', Vdn: '1' },
    ]);
  });

  it('gives the same datums whatever the order of reads and of the skills CMS answered', () => {
    const skills = [skill(1, { CallsOffered: 1 }), skill(2, { CallsOffered: 2 })];
    const a = outcome({ vdn: 1, skills });
    const b = outcome({ vdn: 2, skills: [skill(5, { CallsOffered: 3 })] });
    const reversedA = outcome({ vdn: 1, skills: [...skills].reverse() });
    const options = { now: NOW, selection: ALL_METRICS };
    expect(buildDatums([b, reversedA], options)).toEqual(buildDatums([a, b], options));
  });

  it('publishes finite values with the units of the metric contract', () => {
    const counters = fc.record(
      Object.fromEntries(COUNTERS.map(({ name }) => [name, fc.maxSafeNat()])) as Record<
        keyof Counters,
        fc.Arbitrary<number>
      >,
    );
    const skills = fc.array(
      fc.record({
        skillId: fc.integer({ min: 1, max: 5000 }),
        windowStart: fc.integer({ min: WINDOW - 900_000, max: WINDOW }),
        counters,
      }),
      { maxLength: 6 },
    );
    const outcomes = fc.array(
      fc.record({
        ccId: fc.integer({ min: 1, max: 65_535 }),
        vdn: fc.integer({ min: 1, max: 5000 }),
        skills,
        missingSkillIds: fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 5 }),
        succeeded: fc.boolean(),
        slowestBatchMs: fc.nat(60_000),
        sent: fc.boolean(),
      }),
      { maxLength: 4 },
    );
    fc.assert(
      fc.property(outcomes, (list) => {
        for (const d of buildDatums(list.map(outcome), { now: NOW, selection: ALL_METRICS })) {
          expect(Number.isFinite(d.value)).toBe(true);
          expect(d.unit).toBe(METRIC_UNITS[d.name]);
        }
      }),
    );
  });

  it('always publishes the success flag and the missing-skill count of every VDN', () => {
    const health = HEALTH_METRICS.map((m) => m.name as string);
    const datums = buildDatums([outcome({ vdn: 1 }), outcome({ vdn: 2 })], { now: NOW, selection: NONE });
    expect(datums.every((d) => health.includes(d.name))).toBe(true);
    expect(datums.filter((d) => d.name === 'CollectionSuccess')).toHaveLength(2);
    expect(datums.filter((d) => d.name === 'SkillsMissing')).toHaveLength(2);
  });
});

describe('parseMetricSelection', () => {
  const everything = [...COUNTERS, ...KPIS, ...LIVE_QUEUE_METRICS].map((m) => m.name);

  it('selects every counter, KPI and live-queue metric for "all"', () => {
    expect([...parseMetricSelection(' all ')]).toEqual(everything);
  });

  it('selects nothing for "none"', () => {
    expect(parseMetricSelection('none').size).toBe(0);
  });

  it('reads a comma list with spaces', () => {
    expect([...parseMetricSelection(' CallsOffered , AnswerRate')]).toEqual(['CallsOffered', 'AnswerRate']);
  });

  it('rejects an unknown name, listing every valid name', () => {
    const attempt = () => parseMetricSelection('CallsOffered,CallsDropped');
    expect(attempt).toThrow(/^"CallsDropped" is not a counter, KPI or live-queue metric name/);
    for (const name of everything) expect(attempt).toThrow(name);
  });

  it('rejects a health metric, which no selection can switch off', () => {
    expect(() => parseMetricSelection('CollectionSuccess')).toThrow(/always published/);
  });

  it('rejects an empty entry', () => {
    expect(() => parseMetricSelection('CallsOffered,,AnswerRate')).toThrow('an empty entry');
  });

  it('rejects keywords mixed into a list', () => {
    expect(() => parseMetricSelection('all,CallsOffered')).toThrow(
      '"all" is not a counter, KPI or live-queue metric name',
    );
  });

  it('accepts exactly the counter and KPI names', () => {
    fc.assert(
      fc.property(fc.subarray(everything, { minLength: 1 }), (names) => {
        expect([...parseMetricSelection(names.join(','))]).toEqual(names);
      }),
    );
  });
});
