import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CollectionFailedError, type RunSummary } from '../lib/collector/run.js';
import { type CollectorHandler, createCollectorHandler } from '../lib/lambda/collector.js';
import type { Log } from '../lib/log.js';
import { KPIS, WINDOW_MS } from '../lib/model.js';
import {
  type CmsSimulator,
  type CmsSimulatorOptions,
  type CmsSkillRecord,
  startCmsSimulator,
} from '../local/simulator/index.js';
import {
  expectedVdn,
  healthyVdnMismatches,
  range,
  type TargetSpec,
  targetsJson,
} from './support/expected-datums.js';
import type { FakeAws, ReceivedDatum } from './support/fake-aws.js';
import { expectedKpis } from './support/kpi-oracle.js';
import { startWorld, useWorldAws, type World } from './support/world.js';

/**
 * The real collector handler, with the real AWS SDK clients talking to a wire-level fake AWS endpoint on
 * 127.0.0.1 and the real CMS client talking to the simulator over TLS.
 */

const SECRET_ID = 'prod/cms-skill-metrics';
const NAMESPACE = 'Test/SkillQueues';
const VDN_170: TargetSpec = { ccId: 1, vdn: 170, skillList: '1-100', skillIds: range(1, 100) };
const VDN_171: TargetSpec = { ccId: 1, vdn: 171, skillList: '101-110', skillIds: range(101, 110) };
// Skill 7 does not exist in the simulated CMS.
const ABSENT = [7];

let world: World;
let simulator: CmsSimulator;
let aws: FakeAws;
let now: number;
let restoreEnv: () => void;

const silentLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function setSecret(accessKey: string, secretKey: string) {
  aws.setSecret(SECRET_ID, JSON.stringify({ accessKey, secretKey, caCertificate: simulator.caCertificate }));
}

function collectorEnv(overrides: Record<string, string> = {}) {
  return {
    CMS_BASE_URL: simulator.url,
    CMS_SECRET_ID: SECRET_ID,
    CMS_TARGETS: targetsJson([VDN_170, VDN_171]),
    METRIC_NAMESPACE: NAMESPACE,
    SKILL_METRICS: 'all',
    CMS_TIMEOUT_MS: '5000',
    CMS_MAX_ATTEMPTS: '2',
    // Closing reads wait for a real window's end: the tests below that want them use a clock that jumps.
    CLOSING_READ_REACH_SECONDS: '0',
    ...overrides,
  };
}

async function runOnce(overrides: Record<string, string> = {}): Promise<RunSummary> {
  const handler: CollectorHandler = createCollectorHandler(collectorEnv(overrides), { log: silentLog });
  return handler({}, { getRemainingTimeInMillis: () => 20_000 });
}

const received = (): ReceivedDatum[] => aws.putMetricDataCalls.flatMap((call) => call.datums);

function datum(name: string, dims: Record<string, string>): ReceivedDatum | undefined {
  const matches = received().filter(
    (d) => d.name === name && JSON.stringify(d.dimensions) === JSON.stringify(dims),
  );
  expect(matches.length).toBeLessThanOrEqual(1);
  return matches[0];
}

beforeAll(async () => {
  // Late in the previous window, whenever the suite runs: busy skills have calls (a skill with none in its
  // window publishes nothing), and the window is already over, so no clock runs ahead of the real one.
  now = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 30_000;
  world = await startWorld({ simulator: { now: () => now, absentSkillIds: ABSENT } });
  ({ simulator, aws } = world);
  restoreEnv = useWorldAws(world);
});

afterAll(async () => {
  restoreEnv?.();
  await world?.close();
});

beforeEach(() => {
  setSecret(world.accessKey, world.secretKey);
  aws.clearRecords();
});

afterEach(() => {
  simulator.clearFaults();
  aws.clearFaults();
  simulator.setCredentials(world.accessKey, world.secretKey);
});

describe('collector against the simulator and a fake AWS endpoint', () => {
  it('publishes every counter and KPI of every returned skill with calls, recomputed from what CMS served', async () => {
    const summary = await runOnce();
    expect(aws.putMetricDataCalls.every((call) => call.namespace === NAMESPACE)).toBe(true);
    // Each VDN's roll-up and its skills with calls, every counter and KPI exactly once with its unit and window
    // timestamp, and its health; absent skills and skills with nothing in this window publish nothing.
    for (const target of [VDN_170, VDN_171]) {
      expect(healthyVdnMismatches(received(), expectedVdn(simulator, target, now), target)).toEqual([]);
    }
    expect(summary).toMatchObject({
      targets: 2,
      targetsSucceeded: 2,
      skillsRequested: 110,
      skillsMissing: 1,
      failures: [],
    });
    expect(summary.datumsPublished).toBe(summary.datums);
  });

  it('publishes each VDN’s CallsWaiting (sum) and LongestWaitTime (maximum) as CMS served them, stamped with the read', async () => {
    const before = Date.now();
    await runOnce({ SKILL_METRICS: 'CallsOffered' });
    const after = Date.now();
    for (const target of [VDN_170, VDN_171]) {
      const queues = target.skillIds.flatMap(
        (skillId) => simulator.queueAt(1, target.vdn, skillId, now) ?? [],
      );
      const dimensions = { CcId: '1', Vdn: String(target.vdn) };
      const waiting = datum('CallsWaiting', dimensions);
      const longest = datum('LongestWaitTime', dimensions);
      expect(waiting).toMatchObject({
        unit: 'Count',
        value: queues.reduce((sum, q) => sum + q.queueSize, 0),
      });
      expect(longest).toMatchObject({
        unit: 'Seconds',
        value: Math.max(...queues.map((queue) => queue.queueTime)),
        timestamp: waiting?.timestamp,
      });
      // Instantaneous: the time of the read, not the window's start.
      expect(waiting?.timestamp).toBeGreaterThanOrEqual(before);
      expect(waiting?.timestamp).toBeLessThanOrEqual(after);
    }
    expect(received().filter((d) => d.name === 'CallsWaiting' && d.dimensions.SkillId)).toEqual([]);
    expect(datum('CallsWaiting', { CcId: '1', Vdn: '170' })?.value).toBeGreaterThan(0);
  });

  it('publishes the VDN roll-up as the sums of the skills with rates from the sums', async () => {
    await runOnce();
    const served = VDN_171.skillIds
      .map((id) => simulator.statsAt(1, 171, id, now))
      .filter((s) => s !== undefined);
    const sum = (field: keyof CmsSkillRecord) => served.reduce((total, s) => total + s[field], 0);
    const dims = { CcId: '1', Vdn: '171' };
    expect(datum('CallsOffered', dims)?.value).toBe(sum('allCallCount'));
    expect(datum('WrapUpTime', dims)?.value).toBe(sum('clearUpTime'));
    const kpis = expectedKpis({
      allCallCount: sum('allCallCount'),
      cnnedCallCount: sum('cnnedCallCount'),
      abanCallCount: sum('abanCallCount'),
      cnnedIn20sCallCount: sum('cnnedIn20sCallCount'),
      clearUpCallCount: sum('clearUpCallCount'),
      clearUpTime: sum('clearUpTime'),
    });
    expect(kpis.AbandonmentRate).toBeDefined();
    for (const { name } of KPIS) expect(datum(name, dims)?.value).toBe(kpis[name]);
    expect(datum('CallsOffered', dims)?.timestamp).toBe(served[0]?.startTime);
  });

  it('publishes collector health per VDN stamped with the run time', async () => {
    const before = Date.now();
    await runOnce();
    const health = (name: string) => datum(name, { CcId: '1', Vdn: '170' });
    expect(health('CollectionSuccess')).toMatchObject({ value: 1, unit: 'Count' });
    expect(health('SkillsMissing')).toMatchObject({ value: 1, unit: 'Count' });
    expect(health('CmsLatency')?.unit).toBe('Milliseconds');
    expect(health('DataAge')).toMatchObject({ unit: 'Seconds' });
    expect(health('CollectionSuccess')?.timestamp).toBeGreaterThanOrEqual(before - 1000);
  });

  it('keeps every PutMetricData call within the service limits and uses the fewest calls', async () => {
    const summary = await runOnce();
    const calls = aws.putMetricDataCalls;
    expect(calls.every((call) => call.datums.length <= 1000 && call.bodyBytes <= 1_000_000)).toBe(true);
    // Bodies this large travel gzipped; the fake endpoint decoded them to count the datums above.
    expect(calls.every((call) => call.gzipped)).toBe(true);
    expect(calls).toHaveLength(Math.ceil(summary.datums / 1000));
  });

  it('publishes only the chosen metrics per level, and health always', async () => {
    await runOnce({ SKILL_METRICS: 'CallsOffered,AbandonmentRate', VDN_METRICS: 'none' });
    const names = new Set(received().map((d) => d.name));
    expect([...names].sort()).toEqual(
      [
        'AbandonmentRate',
        'CallsOffered',
        'CmsLatency',
        'CollectionSuccess',
        'DataAge',
        'SkillsMissing',
      ].sort(),
    );
  });
});

// CMS and AWS faults (HTTP errors, timeouts, malformed answers, a rotated or missing secret, CloudWatch throttling
// and refusals) have their end-to-end cases in test/faults/; these are the collector's own ways with a CMS.
describe('against a CMS of its own', () => {
  let other: CmsSimulator | undefined;
  afterEach(async () => {
    await other?.close();
    other = undefined;
  });

  async function runAgainst(options: CmsSimulatorOptions, log: Log = silentLog) {
    other = await startCmsSimulator({ now: () => now, absentSkillIds: ABSENT, ...options });
    const { accessKey, secretKey } = options;
    aws.setSecret(SECRET_ID, JSON.stringify({ accessKey, secretKey, caCertificate: other.caCertificate }));
    const handler = createCollectorHandler(collectorEnv({ CMS_BASE_URL: other.url }), { log });
    return handler({}, { getRemainingTimeInMillis: () => 20_000 }).then(
      (summary) => ({ summary, thrown: undefined }),
      (thrown: unknown) => ({ summary: undefined, thrown }),
    );
  }

  it('finds the signature layout a CMS accepts and logs it once, at WARN, with the setting that pins it', async () => {
    const warnings: unknown[][] = [];
    const log: Log = { ...silentLog, warn: (...line) => warnings.push(line) };
    const { summary } = await runAgainst(
      { accessKey: 'ak', secretKey: 'sk', signatureLayout: 'huawei-reference-millis' },
      log,
    );
    expect(summary?.failures).toEqual([]);
    expect(other?.refusedSignatures).toBe(2);
    expect(warnings).toEqual([
      [
        expect.stringContaining('set CMS_SIGNATURE=huawei-reference-millis to pin it'),
        expect.objectContaining({ signatureLayout: 'huawei-reference-millis' }),
      ],
    ]);
    expect(datum('CollectionSuccess', { CcId: '1', Vdn: '171' })?.value).toBe(1);
  });

  it('publishes the counters of a CMS without the live queue (0100003), no live figure, and says why once', async () => {
    const warnings: unknown[][] = [];
    const log: Log = { ...silentLog, warn: (...line) => warnings.push(line) };
    const keys = { accessKey: 'ak', secretKey: 'sk' };
    other = await startCmsSimulator({
      now: () => now,
      absentSkillIds: ABSENT,
      liveQueue: 'wrongCtiVersion',
      ...keys,
    });
    aws.setSecret(SECRET_ID, JSON.stringify({ ...keys, caCertificate: other.caCertificate }));
    const handler = createCollectorHandler(collectorEnv({ CMS_BASE_URL: other.url }), { log });
    for (let run = 0; run < 3; run += 1) {
      aws.clearRecords();
      const summary = await handler({}, { getRemainingTimeInMillis: () => 20_000 });
      expect(summary.failures).toEqual([]);
      expect(summary.liveQueue).toMatchObject({ read: 0, unsupported: 2, failed: 0 });
    }
    // The last run's counters and health in full, and nothing of the live queue.
    for (const target of [VDN_170, VDN_171]) {
      const counters = { ...expectedVdn(other, target, now), live: [] };
      expect(healthyVdnMismatches(received(), counters, target)).toEqual([]);
    }
    expect(received().filter((d) => d.name === 'CallsWaiting' || d.name === 'LongestWaitTime')).toEqual([]);
    expect(warnings).toEqual([
      [expect.stringMatching(/^live queue not available: CMS result code 0100003/), expect.anything()],
    ]);
    // The first run asked for both VDNs' at once; no later run asked again.
    expect(other.requests.filter((request) => request.endpoint === 'totalskillstatusex3')).toHaveLength(2);
  });

  it('stops sending to a CMS that locked its IP and publishes CollectionSuccess 0 for every VDN', async () => {
    const { thrown } = await runAgainst({
      accessKey: 'ak',
      secretKey: 'sk',
      lockAfterRefusals: 2,
      signatureLayout: 'empty-query-line',
    });
    expect(thrown).toBeDefined();
    // Two layouts refused, then the lock: the third request learns of it and nothing more is sent.
    expect(other?.requests.map((request) => request.status)).toEqual([401, 401, 403]);
    expect(thrown).toBeInstanceOf(CollectionFailedError);
    expect((thrown as CollectionFailedError).summary.failures.map((failure) => failure.code)).toEqual([
      'CMS_IP_LOCKED',
      'CMS_IP_LOCKED',
    ]);
    expect(datum('CollectionSuccess', { CcId: '1', Vdn: '170' })?.value).toBe(0);
    expect(datum('CollectionSuccess', { CcId: '1', Vdn: '171' })?.value).toBe(0);
  });
});

describe('the Lambda entry point', () => {
  it('reads its configuration from the environment at import and runs a collection', async () => {
    vi.resetModules();
    Object.assign(process.env, collectorEnv(), { LOG_LEVEL: 'ERROR' });
    const { handler } = await import('../handlers/collector.js');
    const summary = await handler(
      { 'detail-type': 'Scheduled Event' },
      { getRemainingTimeInMillis: () => 20_000 },
    );
    expect(summary.targetsSucceeded).toBe(2);
  });

  it('runs only the targets a schedule passes as its input', async () => {
    const summary = await createCollectorHandler(collectorEnv(), { log: silentLog })(
      { targets: [{ ccId: 1, vdn: 171, skillIds: '101-103' }] },
      { getRemainingTimeInMillis: () => 20_000 },
    );
    expect(summary).toMatchObject({ targets: 1, skillsRequested: 3 });
  });

  it('refuses malformed schedule input naming the field', async () => {
    const handler = createCollectorHandler(collectorEnv(), { log: silentLog });
    await expect(
      handler(
        { targets: [{ ccId: 1, vdn: 99999, skillIds: '1' }] },
        { getRemainingTimeInMillis: () => 20_000 },
      ),
    ).rejects.toThrow('targets[0].vdn');
  });

  it('fails at cold start with a message naming a missing variable', () => {
    const { CMS_SECRET_ID: _, ...withoutSecret } = collectorEnv();
    expect(() => createCollectorHandler(withoutSecret)).toThrow('CMS_SECRET_ID: is required');
    expect(() => createCollectorHandler(collectorEnv({ METRICS_SINK: 'kafka' }))).toThrow('METRICS_SINK');
  });
});
