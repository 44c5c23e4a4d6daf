/**
 * One aligned window everywhere, end to end: skills whose `startTime` trails the boundary by different amounts,
 * a `Date` header from another clock or none usable, and data of a window CMS's own clock says has ended. The
 * real query handler behind real HTTP, the real wallboard and collector handlers, the real CMS client against
 * the simulator over TLS and the real CloudWatch client against the fake AWS endpoint.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STATS_ROUTE_KEYS, statsPath } from '../lib/api/route.js';
import { createCollectorHandler } from '../lib/lambda/collector.js';
import { createQueryHandler } from '../lib/lambda/query.js';
import { createWallboardHandler } from '../lib/lambda/wallboard.js';
import type { Log } from '../lib/log.js';
import { WINDOW_MS } from '../lib/model.js';
import { startApiServer } from '../local/api-server.js';
import type { ReceivedDatum } from './support/fake-aws.js';
import { startWorld, type World, worldCloudWatch, worldCredentials } from './support/world.js';

const SKILLS = Array.from({ length: 200 }, (_, index) => index + 1);
const TARGET = { CC_ID: '1', VDN: '170', SKILL_IDS: '1-200' };

/** How long after each boundary a skill's counting begins: its `startTime` trails the boundary by that much. */
const LAGS: Record<string, (skillId: number) => number> = {
  'on the boundary': () => 0,
  '2 s after it': () => 2_000,
  'spread over 0–2 s': (skillId) => (skillId * 7_919) % 2_001,
  'a mix of 0, 1 and 2 s': (skillId) => (skillId % 3) * 1_000,
};

/**
 * Our clock and the simulator's: it stands still but for every sleep, which moves it on, so that what CMS served
 * at a moment can be asked of the simulator afterwards.
 */
const START = Date.now();
let shiftMs = 0;
const clock = {
  now: () => START + shiftMs,
  sleep: async (ms: number) => {
    shiftMs += ms;
  },
};
let lag: (skillId: number) => number = () => 0;
let date: (at: number) => string = (at) => new Date(at).toUTCString();
let world: World;

beforeAll(async () => {
  world = await startWorld({
    simulator: {
      now: () => clock.now(),
      startTimeLagMs: (skillId) => lag(skillId),
      dateHeader: (at) => date(at),
    },
  });
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => world.aws.clearRecords());

afterEach(() => {
  world.simulator.clearFaults();
  lag = () => 0;
  date = (at) => new Date(at).toUTCString();
});

/** Moves our clock (and CMS's) to `secondsIn` seconds into the current window; returns the window's start. */
function clockAt(secondsIn: number): number {
  const windowStart = Math.floor(START / WINDOW_MS) * WINDOW_MS;
  shiftMs = windowStart + secondsIn * 1_000 - START;
  return windowStart;
}

/** The calls offered to every skill by `at`, as the simulator served them. */
const offeredAt = (at: number) =>
  SKILLS.reduce((sum, skillId) => sum + (world.simulator.statsAt(1, 170, skillId, at)?.allCallCount ?? 0), 0);

interface Line {
  readonly level: string;
  readonly message: string;
}

function recordingLog(lines: Line[]): Log {
  const at = (level: string) => (message: string) => {
    lines.push({ level, message });
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function collect(env: Record<string, string> = {}) {
  const lines: Line[] = [];
  const handler = createCollectorHandler(
    {
      CMS_BASE_URL: world.cmsUrl,
      ...TARGET,
      METRIC_NAMESPACE: 'Test/Window',
      SKILL_METRICS: 'CallsOffered',
      CMS_TIMEOUT_MS: '3000',
      ...env,
    },
    {
      credentials: worldCredentials(world),
      cloudWatch: worldCloudWatch(world),
      log: recordingLog(lines),
      clock,
    },
  );
  const summary = await handler({}, { getRemainingTimeInMillis: () => 100_000 });
  const received: ReceivedDatum[] = world.aws.putMetricDataCalls.flatMap((call) => call.datums);
  const warnings = lines.filter((line) => line.level === 'warn').map((line) => line.message);
  return { summary, received, warnings };
}

/** The largest value published for a VDN's (or a skill's) metric in a window's period, as CloudWatch keeps it. */
function published(received: readonly ReceivedDatum[], name: string, windowStart: number, skillId?: number) {
  const values = received
    .filter(
      (d) =>
        d.name === name && d.dimensions.SkillId === (skillId === undefined ? undefined : String(skillId)),
    )
    .filter((d) => Math.floor(d.timestamp / WINDOW_MS) * WINDOW_MS === windowStart)
    .map((d) => d.value);
  return values.length === 0 ? undefined : Math.max(...values);
}

describe.each(Object.entries(LAGS))('skills of one window whose startTime lies %s', (_, lagOf) => {
  beforeEach(() => {
    lag = lagOf;
  });

  it('the query API answers a total that is the sum of every skill', async () => {
    clockAt(240);
    const handler = createQueryHandler(
      { CMS_BASE_URL: world.cmsUrl, ...TARGET, QUERY_CACHE_SECONDS: '0' },
      { credentials: worldCredentials(world), log: recordingLog([]) },
    );
    const server = await startApiServer({ handler, routes: STATS_ROUTE_KEYS });
    try {
      const response = await fetch(`${server.url}${statsPath(1, 170)}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        skills: { windowStart: string; counters: { CallsOffered: number } }[];
        rollup: { skillCount: number; windowStart: string; counters: { CallsOffered: number } };
      };
      const sum = body.skills.reduce((total, skill) => total + skill.counters.CallsOffered, 0);
      expect(body.skills).toHaveLength(SKILLS.length);
      expect(body.rollup.skillCount).toBe(SKILLS.length);
      expect(body.rollup.counters.CallsOffered).toBe(sum);
      expect(sum).toBeGreaterThan(SKILLS.length);
      expect(new Set(body.skills.map((skill) => skill.windowStart))).toEqual(
        new Set([body.rollup.windowStart]),
      );
    } finally {
      await server.close();
    }
  });

  it('the wallboard shows a total that is the sum of every skill', async () => {
    const windowStart = clockAt(240);
    const handler = createWallboardHandler(
      { CMS_BASE_URL: world.cmsUrl, ...TARGET, QUERY_CACHE_SECONDS: '0', METRIC_NAMESPACE: 'Test/Window' },
      {
        credentials: worldCredentials(world),
        log: recordingLog([]),
        health: { read: async () => ({ kind: 'silent', sinceMinutes: 1 }) },
      },
    );
    const page = await handler(
      {
        ccId: '1',
        vdn: '170',
        widgetContext: { params: { ccId: '1', vdn: '170' }, timezone: { offsetInMinutes: 0 } },
      },
      { getRemainingTimeInMillis: () => 20_000 },
    );
    const total =
      /data-total="vdn"[^>]*><td>VDN 170 \((\d+) skills\)<\/td><td[^>]*>.*?<\/td><td>([\d,]+)<\/td>/.exec(
        page,
      );
    expect(Number(total?.[1])).toBe(SKILLS.length);
    expect(Number(total?.[2]?.replace(/,/g, ''))).toBe(offeredAt(windowStart + 240_000));
  });

  it('the collector publishes a roll-up that is the sum of every skill, stamped with the aligned start', async () => {
    const windowStart = clockAt(240);
    const { received, summary } = await collect({ CLOSING_READ_REACH_SECONDS: '0' });
    const truth = offeredAt(windowStart + 240_000);
    const skillSum = SKILLS.reduce(
      (sum, skillId) => sum + (published(received, 'CallsOffered', windowStart, skillId) ?? 0),
      0,
    );
    expect(published(received, 'CallsOffered', windowStart)).toBe(truth);
    expect(skillSum).toBe(truth);
    const stamps = received.filter((d) => d.name === 'CallsOffered').map((d) => d.timestamp);
    expect(new Set(stamps)).toEqual(new Set([windowStart]));
    expect(summary.dataQualityWarnings).toBe(0);
  });
});

describe('data of a window CMS’s own clock says has ended', () => {
  it('a startTime 1 s before the boundary, answered 2 s after it, is refused and not published into the previous period', async () => {
    const windowStart = clockAt(2);
    world.simulator.inject({ kind: 'startTime', value: windowStart - 1_000, skillId: 5 });
    const { received, summary, warnings } = await collect({ CLOSING_READ_REACH_SECONDS: '0' });
    expect(received.filter((d) => d.timestamp < windowStart)).toEqual([]);
    expect(received.filter((d) => d.dimensions.SkillId === '5')).toEqual([]);
    expect(summary.dataQualityWarnings).toBe(1);
    expect(warnings).toEqual([
      "data of a window CMS's own clock says has ended: refused, not published into that window",
    ]);
  });
});

describe('closing reads and a Date header that is not CMS’s clock', () => {
  it('with Date 30 s ahead of the clock startTime follows, no coverage is published above the truth', async () => {
    date = (at) => new Date(at + 30_000).toUTCString();
    const windowStart = clockAt(241);
    const { received, summary, warnings } = await collect();
    expect(published(received, 'WindowCoverage', windowStart)).toBeUndefined();
    expect(warnings).toEqual([
      "CMS's Date header is not confirmed as its clock: no WindowCoverage published",
    ]);
    expect(summary.closingReads).toMatchObject({ unconfirmed: 1 });
    expect(published(received, 'CallsOffered', windowStart)).toBeLessThanOrEqual(
      offeredAt(windowStart + WINDOW_MS - 1),
    );
  });

  it('with an honest Date, the coverage published is the share of the window the closing read saw', async () => {
    const windowStart = clockAt(241);
    const { received, summary, warnings } = await collect();
    const coverage = published(received, 'WindowCoverage', windowStart) ?? 0;
    expect(coverage).toBeGreaterThanOrEqual(98);
    expect(coverage).toBeLessThanOrEqual(100);
    expect(summary.closingReads).toMatchObject({ targets: 1, missed: 0, unconfirmed: 0 });
    expect(warnings).toEqual([]);
  });

  it.each(['0', 'garbage'])(
    'with Date %j, the closing read is skipped with one WARN line and no coverage',
    async (header) => {
      date = () => header;
      const windowStart = clockAt(241);
      const before = world.simulator.requests.length;
      const { received, summary, warnings } = await collect();
      // The normal read's counters, and no closing read (the live queue is read beside the counters).
      const counters = world.simulator.requests
        .slice(before)
        .filter((request) => request.endpoint === 'currentcallstateinfo');
      expect(counters).toHaveLength(1);
      expect(published(received, 'WindowCoverage', windowStart)).toBeUndefined();
      expect(published(received, 'CallsOffered', windowStart)).toBe(offeredAt(windowStart + 241_000));
      expect(warnings).toEqual(['no CMS clock: closing reads skipped, no WindowCoverage published']);
      expect(summary.closingReads).toMatchObject({ skipped: 1 });
    },
  );
});
