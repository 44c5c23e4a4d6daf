import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StatsSource } from '../lib/cms/stats-source.js';
import { createWallboardHandler, loadWallboardConfig } from '../lib/lambda/wallboard.js';
import type { Log } from '../lib/log.js';
import { CloudWatchSink } from '../lib/metrics/cloudwatch.js';
import type { Datum, MetricSink } from '../lib/metrics/metric-sink.js';
import { WINDOW_MS } from '../lib/model.js';
import type { HealthSource } from '../lib/wallboard/service.js';
import { CloudWatchToday, TODAY_COUNTERS, TodayRecorder } from '../lib/wallboard/today.js';
import { type FakeAws, startFakeAws } from './support/fake-aws.js';
import { readOf } from './support/vdn-read.js';
import { worldCloudWatch } from './support/world.js';

// The VDN's day so far on the wallboard: read back from CloudWatch (the real SDK client against the fake
// endpoint), from local midnight in TIME_ZONE, each window once, and only from the VDN's own series.

const NAMESPACE = 'Test/SkillQueues';
const silentLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const VDN = { ccId: 1, vdn: 170 };
const VDN_DIMENSIONS = { CcId: '1', Vdn: '170' };

/** The fake's clock, for the timestamps it accepts: moved to the days being seeded. */
let awsNow = Date.now();
let aws: FakeAws;
let client: CloudWatchClient;

beforeAll(async () => {
  aws = await startFakeAws({ now: () => awsNow });
  client = worldCloudWatch({ awsUrl: aws.url });
});

afterAll(async () => {
  client.destroy();
  await aws.close();
});

beforeEach(() => {
  aws.clearRecords();
  aws.clearFaults();
});

const datum = (
  name: string,
  value: number,
  timestamp: number,
  dimensions: Record<string, string>,
): Datum => ({
  name: name as Datum['name'],
  unit: 'Count',
  value,
  timestamp,
  dimensions,
});

/**
 * What the collector publishes for every window from `from` to `to`: each window read twice (a partial read, then
 * its final one: 2 offered, 2 answered, 1 within 20 s), per skill as well, and another VDN beside it.
 */
async function publishWindows(from: string, to: string): Promise<void> {
  const datums: Datum[] = [];
  for (let at = Date.parse(from); at < Date.parse(to); at += WINDOW_MS) {
    for (const [offered, in20s] of [
      [1, 0],
      [2, 1],
    ] as const) {
      datums.push(
        datum('CallsOffered', offered, at, VDN_DIMENSIONS),
        datum('CallsAnswered', offered, at, VDN_DIMENSIONS),
        datum('CallsAbandoned', 0, at, VDN_DIMENSIONS),
        datum('CallsAnsweredIn20s', in20s, at, VDN_DIMENSIONS),
        datum('CallsOffered', 1_000, at, { ...VDN_DIMENSIONS, SkillId: '3' }),
        datum('CallsOffered', 1_000, at, { CcId: '1', Vdn: '171' }),
      );
    }
  }
  awsNow = Date.parse(to);
  await new CloudWatchSink({ client, namespace: NAMESPACE }).publish(datums);
}

const noCms: StatsSource = {
  currentCallStats: async (query) => readOf(query),
};
const noHealth: HealthSource = { read: async () => ({ kind: 'silent', sinceMinutes: 15 }) };

/** The calls offered today that the wallboard shows at `nowIso`, TIME_ZONE Europe/Madrid (a fresh container). */
async function offeredTodayAt(nowIso: string): Promise<number> {
  const handler = createWallboardHandler(
    {
      CC_ID: '1',
      VDN: '170',
      SKILL_IDS: '1-2',
      METRIC_NAMESPACE: NAMESPACE,
      TIME_ZONE: 'Europe/Madrid',
    },
    { cms: noCms, health: noHealth, cloudWatch: client, log: silentLog, now: () => Date.parse(nowIso) },
  );
  const page = await handler({ ccId: 1, vdn: 170 }, { getRemainingTimeInMillis: () => 10_000 });
  const row = /<tr data-today="[a-z]+"><td>VDN 170<\/td><td class="status">.*?<\/td><td>(\d+)<\/td>/.exec(
    page,
  );
  if (row === null) throw new Error(`no day so far on the page: ${page}`);
  expect(page).toContain('<th>Today since 00:00 Europe/Madrid</th>');
  return Number(row[1]);
}

/** Calls offered since `midnightIso` up to the window at `endIso`: two per window, each window once. */
const twoPerWindowSince = (midnightIso: string, endIso: string) =>
  2 * ((Date.parse(endIso) - Date.parse(midnightIso)) / WINDOW_MS + 1);

describe('the day so far on the wallboard', () => {
  it('on the 25-hour day of Europe/Madrid (2026-10-25) starts at local midnight before and after the clock goes back', async () => {
    await publishWindows('2026-10-24T20:00:00Z', '2026-10-26T01:00:00Z');
    const midnight = '2026-10-24T22:00:00Z';
    expect(await offeredTodayAt('2026-10-25T00:57:00Z')).toBe(
      twoPerWindowSince(midnight, '2026-10-25T00:55:00Z'),
    );
    expect(await offeredTodayAt('2026-10-25T22:59:00Z')).toBe(2 * 25 * 12);
    expect(await offeredTodayAt('2026-10-25T23:01:00Z')).toBe(2);
  });

  it('on the 23-hour day of Europe/Madrid (2026-03-29) starts at local midnight before and after the clock goes forward', async () => {
    await publishWindows('2026-03-28T20:00:00Z', '2026-03-30T01:00:00Z');
    const midnight = '2026-03-28T23:00:00Z';
    expect(await offeredTodayAt('2026-03-29T00:57:00Z')).toBe(
      twoPerWindowSince(midnight, '2026-03-29T00:55:00Z'),
    );
    expect(await offeredTodayAt('2026-03-29T21:59:00Z')).toBe(2 * 23 * 12);
    expect(await offeredTodayAt('2026-03-29T22:01:00Z')).toBe(2);
  });

  it('reads back the VDN’s four roll-up counters only, never a per-skill series, from the start of the day', async () => {
    const since = Date.parse('2026-10-24T22:00:00Z');
    const today = new CloudWatchToday({
      client,
      namespace: NAMESPACE,
      log: silentLog,
      now: () => since + 3_600_000,
    });
    expect(await today.read(VDN, since, Date.now() + 5_000)).toMatchObject({ kind: 'known', since });
    const requests = aws.attempts.filter((attempt) => attempt.operation === 'GetMetricData');
    expect(requests).toHaveLength(1);
    const body = JSON.parse(requests[0]?.body ?? '{}') as {
      StartTime: number;
      MetricDataQueries: {
        MetricStat: { Metric: { MetricName: string; Dimensions: unknown[] }; Period: number; Stat: string };
      }[];
    };
    expect(body.StartTime).toBe(since / 1_000);
    expect(body.MetricDataQueries.map((query) => query.MetricStat.Metric.MetricName)).toEqual([
      ...TODAY_COUNTERS,
    ]);
    for (const { MetricStat } of body.MetricDataQueries) {
      expect(MetricStat.Metric.Dimensions).toEqual([
        { Name: 'CcId', Value: '1' },
        { Name: 'Vdn', Value: '170' },
      ]);
      expect([MetricStat.Stat, MetricStat.Period]).toEqual(['Maximum', 300]);
    }
  });

  it('is read once per VDN per cache period, however many viewers ask', async () => {
    const today = new CloudWatchToday({ client, namespace: NAMESPACE, log: silentLog });
    const since = Date.now() - 3_600_000;
    await Promise.all(Array.from({ length: 50 }, () => today.read(VDN, since, Date.now() + 5_000)));
    await today.read(VDN, since, Date.now() + 5_000);
    expect(aws.getMetricDataCalls).toHaveLength(1);
  });

  it('is unavailable, with the reason, when CloudWatch refuses', async () => {
    aws.inject({ kind: 'accessDenied', operation: 'GetMetricData' });
    const today = new CloudWatchToday({ client, namespace: NAMESPACE, log: silentLog });
    expect(await today.read(VDN, Date.now() - 3_600_000, Date.now() + 5_000)).toEqual({
      kind: 'unavailable',
      reason: 'CloudWatch could not be read: AccessDeniedException',
    });
  });
});

describe('the day so far recorded in a local run', () => {
  it('adds up each VDN window of the day once, with its largest read, passing every datum on', async () => {
    const published: Datum[] = [];
    const sink: MetricSink = {
      publish: async (datums) => {
        published.push(...datums);
        return { published: datums.length, calls: 1, failures: [] };
      },
    };
    const since = Date.parse('2026-12-01T00:00:00Z');
    const recorder = new TodayRecorder();
    const sent = [
      // Yesterday's last window.
      datum('CallsOffered', 50, since - WINDOW_MS, VDN_DIMENSIONS),
      datum('CallsOffered', 3, since, VDN_DIMENSIONS),
      datum('CallsOffered', 5, since, VDN_DIMENSIONS),
      datum('CallsAbandoned', 1, since, VDN_DIMENSIONS),
      datum('CallsOffered', 4, since + WINDOW_MS, VDN_DIMENSIONS),
      datum('CallsOffered', 900, since, { ...VDN_DIMENSIONS, SkillId: '3' }),
    ];
    await recorder.recording(sink).publish(sent);
    expect(published).toEqual(sent);
    expect(await recorder.read(VDN, since)).toEqual({
      kind: 'known',
      since,
      counters: { CallsOffered: 9, CallsAnswered: 0, CallsAbandoned: 1, CallsAnsweredIn20s: 0 },
    });
  });
});

describe('the wallboard’s time zone', () => {
  it('is UTC unless TIME_ZONE names another', () => {
    const base = { CC_ID: '1', VDN: '170', SKILL_IDS: '1-20' };
    expect(loadWallboardConfig(base).timeZone).toBe('UTC');
    expect(loadWallboardConfig({ ...base, TIME_ZONE: 'Europe/Madrid' }).timeZone).toBe('Europe/Madrid');
  });

  it('refuses an unknown zone at cold start, naming TIME_ZONE', () => {
    expect(() =>
      loadWallboardConfig({ CC_ID: '1', VDN: '170', SKILL_IDS: '1-20', TIME_ZONE: 'Mars/Olympus' }),
    ).toThrow(/^TIME_ZONE: "Mars\/Olympus" is not an IANA time zone Node\.js knows/);
  });
});
