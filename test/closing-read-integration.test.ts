import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCollectorHandler } from '../lib/lambda/collector.js';
import type { Log } from '../lib/log.js';
import { WINDOW_MS } from '../lib/model.js';
import type { CmsSimulator } from '../local/simulator/index.js';
import type { FakeAws, ReceivedDatum } from './support/fake-aws.js';
import { jumpingClock } from './support/jumping-clock.js';
import { startWorld, type World, worldCloudWatch, worldCredentials } from './support/world.js';

/**
 * Closing reads end to end: the real collector handler, the real CMS client against the simulator over TLS and
 * the real CloudWatch client against the fake AWS endpoint, all on one clock that jumps instead of sleeping.
 */

const NAMESPACE = 'Test/SkillQueues';
// Enough skills (a few thousand calls a window) that the calls of the window's last seconds are a steady share.
const SKILLS = Array.from({ length: 500 }, (_, index) => index + 1);
const silentLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Our clock, moved on by every sleep. CMS's clock runs `cmsOffsetMs` ahead of it. */
const clock = jumpingClock();
let cmsOffsetMs = 0;

let world: World;
let simulator: CmsSimulator;
let aws: FakeAws;

beforeAll(async () => {
  world = await startWorld({ simulator: { now: () => clock.now() + cmsOffsetMs } });
  ({ simulator, aws } = world);
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => aws.clearRecords());
afterEach(() => simulator.clearFaults());

/** Moves our clock to `secondsIn` seconds into the current window of CMS's clock; returns that window's start. */
function startRunAt(secondsIn: number, offsetMs: number): number {
  cmsOffsetMs = offsetMs;
  const cmsNow = Date.now() + cmsOffsetMs;
  const windowStart = Math.floor(cmsNow / WINDOW_MS) * WINDOW_MS;
  clock.set(windowStart + secondsIn * 1_000 - cmsOffsetMs);
  return windowStart;
}

async function collect(env: Record<string, string> = {}) {
  const handler = createCollectorHandler(
    {
      CMS_BASE_URL: simulator.url,
      CC_ID: '1',
      VDN: '170',
      SKILL_IDS: '1-500',
      METRIC_NAMESPACE: NAMESPACE,
      CMS_TIMEOUT_MS: '2000',
      ...env,
    },
    {
      credentials: worldCredentials(world),
      cloudWatch: worldCloudWatch(world),
      log: silentLog,
      clock,
    },
  );
  return handler({}, { getRemainingTimeInMillis: () => 100_000 });
}

const received = (): ReceivedDatum[] => aws.putMetricDataCalls.flatMap((call) => call.datums);

/** The window's published value of a VDN roll-up metric: the Maximum CloudWatch would keep for its period. */
function published(name: string, windowStart: number): number | undefined {
  const values = received()
    .filter(
      (d) =>
        d.name === name &&
        d.dimensions.SkillId === undefined &&
        Math.floor(d.timestamp / WINDOW_MS) * WINDOW_MS === windowStart,
    )
    .map((d) => d.value);
  return values.length === 0 ? undefined : Math.max(...values);
}

/** The window's true final count of offered calls in the simulator's model. */
function finalOffered(windowStart: number, skillId?: number): number {
  const last = windowStart + WINDOW_MS - 1;
  return (skillId === undefined ? SKILLS : [skillId]).reduce(
    (sum, id) => sum + (simulator.statsAt(1, 170, id, last)?.allCallCount ?? 0),
    0,
  );
}

describe('closing reads against the simulator', () => {
  it.each([0, 10_000, -10_000])(
    'a run at 4:01 publishes ≥ 98 % of the window’s final calls offered, never more (CMS clock %i ms off)',
    async (offsetMs) => {
      const windowStart = startRunAt(241, offsetMs);
      const summary = await collect();

      const truth = finalOffered(windowStart);
      const offered = published('CallsOffered', windowStart) ?? 0;
      expect(truth).toBeGreaterThan(500);
      expect(offered).toBeGreaterThanOrEqual(0.98 * truth);
      expect(offered).toBeLessThanOrEqual(truth);
      expect(published('WindowCoverage', windowStart)).toBeGreaterThanOrEqual(98);
      expect(summary.closingReads).toMatchObject({ targets: 1, missed: 0 });
    },
  );

  it('no skill’s published count ever exceeds its window’s final count', async () => {
    const windowStart = startRunAt(241, 0);
    await collect();
    for (const skillId of SKILLS) {
      const values = received()
        .filter((d) => d.name === 'CallsOffered' && d.dimensions.SkillId === String(skillId))
        .filter((d) => Math.floor(d.timestamp / WINDOW_MS) * WINDOW_MS === windowStart);
      for (const d of values) expect(d.value).toBeLessThanOrEqual(finalOffered(windowStart, skillId));
    }
  });

  it('without the closing read the same run publishes only what the window had at 4:01', async () => {
    const windowStart = startRunAt(241, 0);
    await collect({ CLOSING_READ_REACH_SECONDS: '0' });
    const offered = published('CallsOffered', windowStart) ?? 0;
    expect(offered).toBeLessThan(0.9 * finalOffered(windowStart));
    expect(published('WindowCoverage', windowStart)).toBeUndefined();
  });

  it('a closing read refused once with HTTP 503 is retried within its guard and still closes the window', async () => {
    const windowStart = startRunAt(241, 0);
    simulator.inject({ kind: 'status', status: 503 }, { when: () => clock.now() >= windowStart + 290_000 });
    const summary = await collect();
    // The normal read, the refused closing read, its retry, the read after the end that confirms CMS's clock.
    expect(simulator.requests.slice(-4).map((request) => request.status)).toEqual([200, 503, 200, 200]);
    expect(published('CallsOffered', windowStart)).toBeGreaterThanOrEqual(0.98 * finalOffered(windowStart));
    expect(summary.closingReads.missed).toBe(0);
  });
});
