import { describe, expect, it } from 'vitest';
import type { CallStatsOptions, CallStatsResult } from '../lib/cms/client.js';
import type { CallStatsQuery } from '../lib/cms/request.js';
import type { StatsSource } from '../lib/cms/stats-source.js';
import { CollectionFailedError, runCollection } from '../lib/collector.js';
import { CmsResultError, CmsTimeoutError, SecretError } from '../lib/errors.js';
import { ALL_METRICS } from '../lib/metrics/build-datums.js';
import type { Datum, MetricSink, PublishReport } from '../lib/metrics/metric-sink.js';
import type { Counters, SkillStats } from '../lib/model.js';
import { fakeSource } from './support/live-queue.js';

const NOW = Date.UTC(2026, 10, 26, 8, 2, 30);
const WINDOW = Date.UTC(2026, 10, 26, 8, 0, 0);

function counters(offered: number, answered: number, abandoned: number): Counters {
  return {
    CallsOffered: offered,
    CallsAnswered: answered,
    CallsAbandoned: abandoned,
    CallsEnded: answered,
    CallsAnsweredIn20s: answered,
    WrapUps: answered,
    WrapUpTime: answered * 30,
    IvrTalkTime: offered * 10,
  };
}

const stats = (skillId: number, c: Counters): SkillStats => ({ skillId, windowStart: WINDOW, counters: c });

function result(
  query: CallStatsQuery,
  skills: SkillStats[],
  extra: Partial<CallStatsResult> = {},
): CallStatsResult {
  return {
    ccId: query.ccId,
    vdn: query.vdn,
    requestedSkillIds: query.skillIds,
    skills,
    missingSkillIds: query.skillIds.filter((id) => !skills.some((skill) => skill.skillId === id)),
    failures: [],
    slowestBatchMs: 40,
    requests: 1,
    clock: { cmsAt: NOW, localAt: NOW },
    ...extra,
  };
}

/** A CMS that answers per VDN with a canned behaviour, recording the deadlines it was given. */
function fakeCms(byVdn: Record<number, (query: CallStatsQuery) => CallStatsResult | Error>) {
  const deadlines: number[] = [];
  const source: StatsSource = fakeSource(async (query: CallStatsQuery, options: CallStatsOptions) => {
    deadlines.push(options.deadline);
    const answer = byVdn[query.vdn]?.(query);
    if (answer === undefined) throw new Error(`no behaviour for VDN ${query.vdn}`);
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return { source, deadlines };
}

function recordingSink(
  behaviour: (datums: readonly Datum[]) => PublishReport = (d) => ({
    published: d.length,
    calls: 1,
    failures: [],
  }),
) {
  const published: Datum[][] = [];
  const sink: MetricSink = {
    publish: async (datums) => {
      published.push([...datums]);
      return behaviour(datums);
    },
  };
  return { sink, published };
}

function recordingLog() {
  const lines: { level: string; message: string; extra: unknown }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: unknown[]) => {
      lines.push({ level, message, extra });
    };
  return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

const targets = [
  { ccId: 1, vdn: 170, skillIds: [1, 2] },
  { ccId: 1, vdn: 171, skillIds: [5] },
];

const value = (datums: readonly Datum[], name: string, dims: Record<string, string>) =>
  datums.find((d) => d.name === name && JSON.stringify(d.dimensions) === JSON.stringify(dims))?.value;

describe('a collection run', () => {
  it('publishes skills, roll-ups and health for every target and summarises the run', async () => {
    const cms = fakeCms({
      170: (q) => result(q, [stats(1, counters(10, 8, 2)), stats(2, counters(0, 0, 0))]),
      171: (q) => result(q, [stats(5, counters(4, 3, 1))]),
    });
    const { sink, published } = recordingSink();
    const { log } = recordingLog();
    const summary = await runCollection(
      { cms: cms.source, sink, log, now: () => NOW },
      { targets, deadline: NOW + 30_000, selection: ALL_METRICS },
    );
    const datums = published.flat();
    expect(value(datums, 'AbandonmentRate', { CcId: '1', Vdn: '170', SkillId: '1' })).toBe(20);
    expect(value(datums, 'AbandonmentRate', { CcId: '1', Vdn: '170', SkillId: '2' })).toBeUndefined();
    expect(value(datums, 'CallsOffered', { CcId: '1', Vdn: '170' })).toBe(10);
    expect(value(datums, 'CollectionSuccess', { CcId: '1', Vdn: '171' })).toBe(1);
    expect(summary).toMatchObject({
      targets: 2,
      targetsSucceeded: 2,
      skillsRequested: 3,
      skillsReturned: 3,
      skillsMissing: 0,
      cmsRequests: 2,
      datums: datums.length,
      datumsPublished: datums.length,
      publishCalls: 1,
      failures: [],
    });
  });

  it('still publishes the healthy VDN when the other one fails, with CollectionSuccess 0 for the failed one', async () => {
    const cms = fakeCms({
      170: (q) => result(q, [stats(1, counters(10, 8, 2))]),
      171: (q) =>
        result(q, [], {
          failures: [{ skillIds: q.skillIds, error: new CmsResultError('0100001', 'bad vdn') }],
        }),
    });
    const { sink, published } = recordingSink();
    const { log, lines } = recordingLog();
    const summary = await runCollection(
      { cms: cms.source, sink, log, now: () => NOW },
      { targets, deadline: NOW + 30_000, selection: ALL_METRICS },
    );
    const datums = published.flat();
    expect(value(datums, 'CallsOffered', { CcId: '1', Vdn: '170', SkillId: '1' })).toBe(10);
    expect(value(datums, 'CollectionSuccess', { CcId: '1', Vdn: '170' })).toBe(1);
    expect(value(datums, 'CollectionSuccess', { CcId: '1', Vdn: '171' })).toBe(0);
    expect(summary.targetsSucceeded).toBe(1);
    expect(summary.failures).toEqual([
      {
        ccId: 1,
        vdn: 171,
        skillIds: '5',
        type: 'CmsResultError',
        code: 'CMS_RESULT_ERROR',
        message: 'CMS result code 0100001 (the call failed on the CMS side): bad vdn',
      },
    ]);
    expect(lines.some((line) => line.level === 'error' && line.message === 'CMS collection failed')).toBe(
      true,
    );
  });

  it('keeps the skills of the batches that succeeded when one batch of a VDN fails', async () => {
    const cms = fakeCms({
      170: (q) =>
        result(q, [stats(1, counters(3, 3, 0))], {
          failures: [{ skillIds: [2], error: new CmsTimeoutError('CMS did not answer within 5000 ms') }],
          missingSkillIds: [],
        }),
      171: (q) => result(q, [stats(5, counters(1, 1, 0))]),
    });
    const { sink, published } = recordingSink();
    const summary = await runCollection(
      { cms: cms.source, sink, log: recordingLog().log, now: () => NOW },
      { targets, deadline: NOW + 30_000, selection: ALL_METRICS },
    );
    expect(value(published.flat(), 'CallsOffered', { CcId: '1', Vdn: '170', SkillId: '1' })).toBe(3);
    expect(value(published.flat(), 'CollectionSuccess', { CcId: '1', Vdn: '170' })).toBe(0);
    expect(summary.failures.map((f) => f.code)).toEqual(['CMS_TIMEOUT']);
  });

  it('publishes CollectionSuccess 0 everywhere and then throws when nothing could be collected', async () => {
    const cms = fakeCms({
      170: () => new SecretError('cannot read secret cms from Secrets Manager (AccessDeniedException)'),
      171: () => new SecretError('cannot read secret cms from Secrets Manager (AccessDeniedException)'),
    });
    const { sink, published } = recordingSink();
    const run = runCollection(
      { cms: cms.source, sink, log: recordingLog().log, now: () => NOW },
      { targets, deadline: NOW + 30_000, selection: ALL_METRICS },
    );
    await expect(run).rejects.toThrow(CollectionFailedError);
    await expect(run).rejects.toThrow(
      'no target could be collected (1/170: SECRET_ERROR; 1/171: SECRET_ERROR)',
    );
    const datums = published.flat();
    expect(datums.filter((d) => d.name === 'CollectionSuccess').map((d) => d.value)).toEqual([0, 0]);
  });

  it('throws when CMS answered but not a single datum could be published', async () => {
    const cms = fakeCms({
      170: (q) => result(q, [stats(1, counters(1, 1, 0))]),
      171: (q) => result(q, [stats(5, counters(1, 1, 0))]),
    });
    const { sink } = recordingSink((datums) => ({
      published: 0,
      calls: 1,
      failures: [{ datums: datums.length, error: 'AccessDenied' }],
    }));
    await expect(
      runCollection(
        { cms: cms.source, sink, log: recordingLog().log, now: () => NOW },
        { targets, deadline: NOW + 30_000, selection: ALL_METRICS },
      ),
    ).rejects.toThrow(/none of the \d+ datums could be published/);
  });

  it('returns normally when some datums were published and others failed, reporting the loss', async () => {
    const cms = fakeCms({
      170: (q) => result(q, [stats(1, counters(1, 1, 0))]),
      171: (q) => result(q, [stats(5, counters(1, 1, 0))]),
    });
    const { sink } = recordingSink((datums) => ({
      published: datums.length - 3,
      calls: 2,
      failures: [{ datums: 3, error: 'InvalidParameterValue' }],
    }));
    const summary = await runCollection(
      { cms: cms.source, sink, log: recordingLog().log, now: () => NOW },
      { targets, deadline: NOW + 30_000, selection: ALL_METRICS },
    );
    expect(summary.publishFailures).toEqual([{ datums: 3, error: 'InvalidParameterValue' }]);
    expect(summary.datumsPublished).toBe(summary.datums - 3);
  });

  it('gives CMS the run budget less a reserve for publishing', async () => {
    const cms = fakeCms({ 170: (q) => result(q, []), 171: (q) => result(q, []) });
    await runCollection(
      { cms: cms.source, sink: recordingSink().sink, log: recordingLog().log, now: () => NOW },
      { targets, deadline: NOW + 20_000, selection: ALL_METRICS },
    );
    expect(cms.deadlines).toEqual([NOW + 15_000, NOW + 15_000]);
  });

  it('logs inconsistent counters as data-quality warnings and withholds the impossible rate', async () => {
    const cms = fakeCms({
      170: (q) => result(q, [stats(1, counters(2, 5, 0))]),
      171: (q) => result(q, [stats(5, counters(1, 1, 0))]),
    });
    const { sink, published } = recordingSink();
    const { log, lines } = recordingLog();
    const summary = await runCollection(
      { cms: cms.source, sink, log, now: () => NOW },
      { targets, deadline: NOW + 30_000, selection: ALL_METRICS },
    );
    expect(summary.dataQualityWarnings).toBeGreaterThan(0);
    expect(lines.some((line) => line.level === 'warn')).toBe(true);
    expect(value(published.flat(), 'AnswerRate', { CcId: '1', Vdn: '170', SkillId: '1' })).toBeUndefined();
    expect(value(published.flat(), 'CallsAnswered', { CcId: '1', Vdn: '170', SkillId: '1' })).toBe(5);
  });

  it('logs one summary line per run', async () => {
    const cms = fakeCms({ 170: (q) => result(q, []), 171: (q) => result(q, []) });
    const { log, lines } = recordingLog();
    await runCollection(
      { cms: cms.source, sink: recordingSink().sink, log, now: () => NOW },
      { targets, deadline: NOW + 30_000, selection: ALL_METRICS },
    );
    expect(lines.filter((line) => line.message === 'collection run')).toHaveLength(1);
  });
});
