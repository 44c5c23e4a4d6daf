/**
 * The end-to-end datum check finds what it claims to: any difference between the datums received and the datums
 * a collection should publish. Without this, a passing comparison elsewhere could mean a blind instrument.
 */
import { describe, expect, it } from 'vitest';
import type { CmsQueueRecord, CmsSkillRecord } from '../local/simulator/index.js';
import {
  datumKey,
  expectedVdn,
  failedVdnMismatches,
  healthyVdnMismatches,
  type TargetSpec,
} from './support/expected-datums.js';
import type { ReceivedDatum } from './support/fake-aws.js';

const WINDOW_START = Date.UTC(2025, 4, 6, 10, 5);
const RUN_TIME = WINDOW_START + 250_000;
const TARGET: TargetSpec = { ccId: 1, vdn: 170, skillList: '1-3', skillIds: [1, 2, 3] };

/** Skill 3 is absent; skill 2 takes no calls, so it publishes nothing. */
const served = {
  statsAt: (_ccId: number, _vdn: number, skillId: number): CmsSkillRecord | undefined =>
    skillId === 3
      ? undefined
      : {
          id: skillId,
          startTime: WINDOW_START,
          allCallCount: skillId === 1 ? 30 : 0,
          cnnedCallCount: skillId === 1 ? 25 : 0,
          abanCallCount: skillId === 1 ? 3 : 0,
          callEndCount: skillId === 1 ? 20 : 0,
          talkTimeOnIvr: skillId === 1 ? 400 : 0,
          cnnedIn20sCallCount: skillId === 1 ? 21 : 0,
          clearUpCallCount: skillId === 1 ? 18 : 0,
          clearUpTime: skillId === 1 ? 541 : 0,
        },
  /** Skill 1 has 4 calls waiting, the longest for 130 s; skill 2's queue is empty. */
  queueAt: (_ccId: number, _vdn: number, skillId: number): CmsQueueRecord | undefined =>
    skillId === 3
      ? undefined
      : {
          skillId,
          queueSize: skillId === 1 ? 4 : 0,
          queueTime: skillId === 1 ? 130 : 0,
          loggedOnAgents: 5,
          availAgents: skillId === 1 ? 0 : 2,
          maxQueueSize: 100,
          skillDescrip: '',
          callId: '',
        },
};

function health(name: string, value: number, unit: string): ReceivedDatum {
  return { name, unit, value, timestamp: RUN_TIME, dimensions: { CcId: '1', Vdn: '170' } };
}

function perfectRun(): ReceivedDatum[] {
  return [
    ...expectedVdn(served, TARGET, RUN_TIME).stats.map((datum) => ({ ...datum })),
    ...expectedVdn(served, TARGET, RUN_TIME).live.map((datum) => ({ ...datum, timestamp: RUN_TIME - 40 })),
    health('CollectionSuccess', 1, 'Count'),
    health('CmsLatency', 12, 'Milliseconds'),
    health('SkillsMissing', 1, 'Count'),
    health('DataAge', 250, 'Seconds'),
  ];
}

function mismatchesOf(received: ReceivedDatum[]): string[] {
  return healthyVdnMismatches(received, expectedVdn(served, TARGET, RUN_TIME), TARGET);
}

describe('the datum comparison', () => {
  it('computes counters, rates from the sums, and no rate without calls', () => {
    const byKey = new Map(perfectRun().map((datum) => [datumKey(datum), datum.value]));
    expect(byKey.get('CallsOffered CcId=1 Vdn=170')).toBe(30);
    expect(byKey.get('AbandonmentRate CcId=1 Vdn=170')).toBe(10);
    expect(byKey.get('AverageWrapUpTime CcId=1 Vdn=170 SkillId=1')).toBe(541 / 18);
    expect(byKey.has('AnswerRate CcId=1 Vdn=170 SkillId=2')).toBe(false);
    expect(byKey.has('CallsOffered CcId=1 Vdn=170 SkillId=3')).toBe(false);
  });

  it('expects the VDN’s calls waiting and longest wait, and those of each skill with a queue', () => {
    const byKey = new Map(perfectRun().map((datum) => [datumKey(datum), datum.value]));
    expect(byKey.get('CallsWaiting CcId=1 Vdn=170')).toBe(4);
    expect(byKey.get('LongestWaitTime CcId=1 Vdn=170')).toBe(130);
    expect(byKey.get('LongestWaitTime CcId=1 Vdn=170 SkillId=1')).toBe(130);
    expect(byKey.has('CallsWaiting CcId=1 Vdn=170 SkillId=2')).toBe(false);
  });

  it('reports live figures stamped apart or outside the run', () => {
    const run = perfectRun().map((datum) =>
      datumKey(datum) === 'CallsWaiting CcId=1 Vdn=170' ? { ...datum, timestamp: RUN_TIME + 1 } : datum,
    );
    expect(mismatchesOf(run)).toEqual([expect.stringMatching(/^live queue stamped /)]);
  });

  it('accepts exactly what a successful collection publishes', () => {
    expect(mismatchesOf(perfectRun())).toEqual([]);
  });

  it('reports a wrong value, a missing datum, a duplicate and a stranger', () => {
    const run = perfectRun();
    const wrong = run.findIndex((datum) => datumKey(datum) === 'CallsAbandoned CcId=1 Vdn=170 SkillId=1');
    run[wrong] = { ...(run[wrong] as ReceivedDatum), value: 4 };
    const dropped = run.findIndex((datum) => datumKey(datum) === 'ServiceLevel20s CcId=1 Vdn=170');
    run.splice(dropped, 1);
    run.push({ ...(run[0] as ReceivedDatum) });
    run.push({ ...(run[0] as ReceivedDatum), dimensions: { CcId: '1', Vdn: '170', SkillId: '99' } });

    expect(mismatchesOf(run)).toEqual([
      expect.stringMatching(/^CallsOffered CcId=1 Vdn=170: received 2 times/),
      'ServiceLevel20s CcId=1 Vdn=170: missing',
      expect.stringMatching(/^CallsAbandoned CcId=1 Vdn=170 SkillId=1: got .*"value":4/),
      'CallsOffered CcId=1 Vdn=170 SkillId=99: not expected',
    ]);
  });

  it('reports a failed collection, a wrong window stamp and a DataAge of another time', () => {
    const run = perfectRun().map((datum) => {
      if (datum.name === 'CollectionSuccess') return { ...datum, value: 0 };
      if (datum.name === 'DataAge') return { ...datum, value: 100 };
      if (datumKey(datum) === 'WrapUps CcId=1 Vdn=170 SkillId=1') return { ...datum, timestamp: RUN_TIME };
      return datum;
    });
    expect(mismatchesOf(run)).toEqual([
      expect.stringMatching(/^WrapUps CcId=1 Vdn=170 SkillId=1: got/),
      expect.stringMatching(/^CollectionSuccess:/),
      expect.stringMatching(/^DataAge:/),
    ]);
  });

  it('tells a failed VDN from one that published statistics or claimed success', () => {
    const failed = [
      health('CollectionSuccess', 0, 'Count'),
      health('CmsLatency', 1000, 'Milliseconds'),
      health('SkillsMissing', 0, 'Count'),
    ];
    expect(failedVdnMismatches(failed, TARGET)).toEqual([]);
    expect(failedVdnMismatches(perfectRun(), TARGET)).not.toEqual([]);
    expect(
      failedVdnMismatches([health('CollectionSuccess', 1, 'Count'), ...failed.slice(1)], TARGET),
    ).toEqual(['CollectionSuccess is not 0']);
    // No request reached CMS: no CmsLatency may be published, whatever held the run up.
    expect(failedVdnMismatches(failed, TARGET, { sent: false })).toEqual([
      'published CmsLatency, CollectionSuccess, SkillsMissing',
    ]);
    expect(failedVdnMismatches([failed[0], failed[2]] as typeof failed, TARGET, { sent: false })).toEqual([]);
  });
});
