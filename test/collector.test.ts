import { describe, expect, it } from 'vitest';
import type { CallStatsOptions } from '../lib/cms/client.js';
import type { CallStatsQuery } from '../lib/cms/request.js';
import { CmsResultError } from '../lib/cms/result-codes.js';
import type { StatsSource } from '../lib/cms/stats-source.js';
import type { VdnRead } from '../lib/cms/vdn-read.js';
import { CollectionFailedError, runCollection } from '../lib/collector/run.js';
import { CmsNetworkError, CmsTimeoutError, SecretError } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import { ALL_METRICS } from '../lib/metrics/build-datums.js';
import type { Datum, MetricSink, PublishReport } from '../lib/metrics/metric-sink.js';
import type { Counters, SkillStats } from '../lib/model.js';
import { liveQueueRead } from './support/live-queue.js';
import { type FakeAnswer, readOf } from './support/vdn-read.js';

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

function result(query: CallStatsQuery, skills: SkillStats[], extra: FakeAnswer = {}): VdnRead {
  return readOf(query, { skills, cmsAt: NOW, ...extra });
}

/** A CMS that answers per VDN with a canned behaviour, recording the deadlines it was given. */
function fakeCms(byVdn: Record<number, (query: CallStatsQuery) => VdnRead | Error>) {
  const deadlines: number[] = [];
  const source: StatsSource = {
    currentCallStats: async (query: CallStatsQuery, options: CallStatsOptions) => {
      deadlines.push(options.deadline);
      const answer = byVdn[query.vdn]?.(query);
      if (answer === undefined) throw new Error(`no behaviour for VDN ${query.vdn}`);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
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

  it('publishes only the health of a quiet VDN (an idle window, an empty live queue) beside a busy one', async () => {
    const emptyQueue = liveQueueRead(NOW, [[5, 0, 0, 2, 2]]);
    const cms = fakeCms({
      170: (q) => result(q, [stats(1, counters(10, 8, 2))], { liveQueue: emptyQueue }),
      171: (q) => result(q, [stats(5, counters(0, 0, 0))], { liveQueue: emptyQueue }),
    });
    const { sink, published } = recordingSink();
    const { log } = recordingLog();
    await runCollection(
      { cms: cms.source, sink, log, now: () => NOW },
      { targets, deadline: NOW + 30_000, selection: ALL_METRICS },
    );
    const quiet = published.flat().filter((d) => d.dimensions.Vdn === '171');
    expect(quiet.map((d) => d.name)).toEqual(['CollectionSuccess', 'CmsLatency', 'SkillsMissing', 'DataAge']);
    expect(value(published.flat(), 'CallsWaiting', { CcId: '1', Vdn: '170' })).toBe(0);
    expect(value(published.flat(), 'CallsOffered', { CcId: '1', Vdn: '170' })).toBe(10);
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

  it('keeps the summary line and the error short with CMS down for 400 targets: counts by kind, the first few', async () => {
    const many = Array.from({ length: 400 }, (_, index) => ({
      ccId: 1,
      vdn: index + 1,
      // Every other skill: the longest skill list a batch can name.
      skillIds: Array.from({ length: 1_000 }, (_, skill) => 2 * skill + 1),
    }));
    const refused = new CmsNetworkError(
      `connect ECONNREFUSED 10.20.0.5:28443 (TLS session to cms.example.internal, ${'detail '.repeat(80)})`,
    );
    const cms = fakeCms(Object.fromEntries(many.map((target) => [target.vdn, () => refused])));
    const written: string[] = [];
    const log = createLogger('INFO', { write: (line) => written.push(line) });
    const run = runCollection(
      { cms: cms.source, sink: recordingSink().sink, log, now: () => NOW },
      { targets: many, deadline: NOW + 30_000, selection: ALL_METRICS },
    );
    await expect(run).rejects.toThrow(CollectionFailedError);
    const thrown = (await run.catch((error: unknown) => error)) as CollectionFailedError;
    const line = written.find((text) => text.includes('"message":"collection run"')) ?? '';
    expect(line.length).toBeLessThan(16 * 1024);
    const { summary } = JSON.parse(line) as { summary: Record<string, unknown> };
    expect(summary).toMatchObject({
      targets: 400,
      targetsSucceeded: 0,
      failures: {
        count: 400,
        kinds: {
          CMS_NETWORK_ERROR: {
            count: 400,
            first: [
              { ccId: 1, vdn: 1 },
              { ccId: 1, vdn: 2 },
              { ccId: 1, vdn: 3 },
            ],
          },
        },
      },
    });
    expect(thrown.message.length).toBeLessThan(500);
    expect(thrown.message).toBe(
      'no target could be collected (1/1: CMS_NETWORK_ERROR; 1/2: CMS_NETWORK_ERROR; 1/3: CMS_NETWORK_ERROR; ' +
        '1/4: CMS_NETWORK_ERROR; 1/5: CMS_NETWORK_ERROR; and 395 more)',
    );
    // The returned summary keeps every failure for its caller.
    expect(thrown.summary.failures).toHaveLength(400);
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
