import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../lib/collector/run.js';
import { createCollectorHandler } from '../lib/lambda/collector.js';
import type { Log } from '../lib/log.js';
import { COUNTERS, OTLP_COUNTER_NAMES, OTLP_UNITS, WINDOW_MS } from '../lib/model.js';
import type { CmsSimulator } from '../local/simulator/index.js';
import type { FakeAws, ReceivedDatum } from './support/fake-aws.js';
import { type OtlpReceiver, type ReceivedPoint, startOtlpReceiver } from './support/otlp-receiver.js';
import { startWorld, type World, worldCloudWatch, worldCredentials } from './support/world.js';

/**
 * The OpenTelemetry export end to end: the real collector handler, the real CMS client against the simulator over
 * TLS, the real CloudWatch client against the fake AWS endpoint, and a local OTLP receiver on 127.0.0.1 that
 * reads every request with the official OpenTelemetry schema. One clock for all of them, which only a closing
 * read's wait moves.
 */

const NAMESPACE = 'Test/SkillQueues';
const TARGETS = [
  { ccId: 1, vdn: 170, skillIds: '1-100' },
  { ccId: 1, vdn: 171, skillIds: '101-110' },
] as const;
const SKILLS: Record<number, number[]> = {
  170: Array.from({ length: 100 }, (_, index) => index + 1),
  171: Array.from({ length: 10 }, (_, index) => index + 101),
};
// Skill 7 does not exist in the simulated CMS.
const ABSENT = [7];

let now = 0;
const clock = {
  now: () => now,
  sleep: async (ms: number) => {
    now += ms;
  },
};
/** A window well in the past of the real clock, so that nothing runs ahead of it. */
const WINDOW = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 2 * WINDOW_MS;

let world: World;
let simulator: CmsSimulator;
let aws: FakeAws;
let receiver: OtlpReceiver;
const logged: { level: string; message: string; fields: Record<string, unknown> }[] = [];
const log: Log = {
  debug: () => {},
  info: (message, ...fields) => logged.push({ level: 'INFO', message, fields: Object.assign({}, ...fields) }),
  warn: (message, ...fields) => logged.push({ level: 'WARN', message, fields: Object.assign({}, ...fields) }),
  error: (message, ...fields) =>
    logged.push({ level: 'ERROR', message, fields: Object.assign({}, ...fields) }),
};

beforeAll(async () => {
  [world, receiver] = await Promise.all([
    startWorld({ simulator: { now: () => now, absentSkillIds: ABSENT } }),
    startOtlpReceiver(),
  ]);
  ({ simulator, aws } = world);
});

afterAll(async () => {
  await Promise.all([world?.close(), receiver?.close()]);
});

beforeEach(() => {
  now = WINDOW + 270_000;
  aws.clearRecords();
  receiver.reset();
  logged.length = 0;
});

afterEach(() => aws.clearFaults());

/** A collector handler, as a container keeps it from run to run. */
function collector(env: Record<string, string> = {}) {
  return createCollectorHandler(
    {
      CMS_BASE_URL: simulator.url,
      CMS_TARGETS: JSON.stringify(TARGETS),
      METRIC_NAMESPACE: NAMESPACE,
      OTLP_ENDPOINT: receiver.url,
      CLOSING_READ_REACH_SECONDS: '0',
      ...env,
    },
    { credentials: worldCredentials(world), cloudWatch: worldCloudWatch(world), log, clock },
  );
}

async function collect(env: Record<string, string> = {}, remainingMs = 20_000): Promise<RunSummary> {
  return collector(env)({}, { getRemainingTimeInMillis: () => remainingMs });
}

/** What a read at `at` must send: every counter of every skill CMS served with anything in its window. */
function expectedPoints(at: number): ReceivedPoint[] {
  return TARGETS.flatMap(({ ccId, vdn }) =>
    (SKILLS[vdn] ?? []).flatMap((skillId) => {
      const served = simulator.statsAt(ccId, vdn, skillId, at);
      if (served === undefined || COUNTERS.every(({ cmsField }) => served[cmsField] === 0)) return [];
      return COUNTERS.map((counter) => ({
        name: OTLP_COUNTER_NAMES[counter.name],
        unit: OTLP_UNITS[counter.unit],
        resource: { 'service.name': 'cms-skill-metrics' },
        scope: 'cms-skill-metrics',
        attributes: { cc_id: String(ccId), vdn: String(vdn), skill_id: String(skillId) },
        start: Math.floor(served.startTime / WINDOW_MS) * WINDOW_MS,
        time: at,
        value: String(served[counter.cmsField]),
        valueKind: 'asInt' as const,
        temporality: 2,
        monotonic: true,
      }));
    }),
  );
}

const byKey = (points: readonly ReceivedPoint[]) =>
  [...points].sort((a, b) =>
    `${a.time}|${a.name}|${a.attributes.vdn}|${a.attributes.skill_id?.padStart(5, '0')}`.localeCompare(
      `${b.time}|${b.name}|${b.attributes.vdn}|${b.attributes.skill_id?.padStart(5, '0')}`,
    ),
  );

const classic = (): ReceivedDatum[] => aws.putMetricDataCalls.flatMap((call) => call.datums);

/** The classic publication a run owes whatever OTLP does: each VDN's roll-up and health, nothing per skill. */
function expectClassicIntact(): void {
  for (const { vdn } of TARGETS) {
    const vdnDatums = classic().filter((d) => d.dimensions.Vdn === String(vdn));
    const names = new Set(vdnDatums.map((d) => d.name));
    for (const name of [
      'CallsOffered',
      'CallsAbandoned',
      'CallsAnsweredIn20s',
      'CollectionSuccess',
      'DataAge',
    ])
      expect(names, `${name} of VDN ${vdn}`).toContain(name);
    expect(vdnDatums.find((d) => d.name === 'CollectionSuccess')?.value).toBe(1);
  }
  expect(classic().filter((d) => d.dimensions.SkillId !== undefined)).toEqual([]);
}

/** A run at 4:30 into the window with no closing read, then the handler at 1 s into the next window. */
async function windowEndedWithoutClosingRead(env: Record<string, string> = {}) {
  const handler = collector(env);
  now = WINDOW + 270_000;
  await handler({}, { getRemainingTimeInMillis: () => 20_000 });
  now = WINDOW + WINDOW_MS + 1_000;
  return (remainingMs = 20_000) => handler({}, { getRemainingTimeInMillis: () => remainingMs });
}

describe('OTLP export of a collection run: each window’s totals (the default)', () => {
  it('sends nothing of a read whose window is still open', async () => {
    const summary = await collect();
    expect(receiver.requests).toEqual([]);
    expect(summary.otlp).toMatchObject({ points: 0, requests: 0 });
  });

  it("sends every counter of every busy skill at the window's closing read, as CMS served it: name, attributes, window start, read time, value", async () => {
    now = WINDOW + 241_000;
    const summary = await collect({ CLOSING_READ_REACH_SECONDS: '60' }, 100_000);
    expect(summary.closingReads.targets).toBe(2);
    const closedAt = Math.max(...receiver.accepted.map((point) => point.time));
    expect(closedAt).toBeGreaterThanOrEqual(WINDOW + 290_000);
    expect(closedAt).toBeLessThan(WINDOW + WINDOW_MS);
    const expected = expectedPoints(closedAt);
    expect(expected.length).toBeGreaterThan(8 * 50);
    expect(byKey(receiver.accepted)).toEqual(byKey(expected));
    expect(summary.otlp).toMatchObject({ points: expected.length, accepted: expected.length, failed: 0 });
  });

  it("sends a window's last read with the first run after its end when no closing read was taken", async () => {
    const next = await windowEndedWithoutClosingRead();
    const summary = await next();
    const expected = expectedPoints(WINDOW + 270_000);
    expect(byKey(receiver.accepted)).toEqual(byKey(expected));
    expect(summary.otlp).toMatchObject({ points: expected.length, accepted: expected.length });
  });

  it('sends a closing read the endpoint refused again with the next run, and then never again', async () => {
    const handler = collector({ CLOSING_READ_REACH_SECONDS: '60' });
    now = WINDOW + 241_000;
    receiver.answer(...Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 400 })));
    const refused = await handler({}, { getRemainingTimeInMillis: () => 100_000 });
    expect(receiver.accepted).toEqual([]);
    expect(refused.otlp?.failed).toBe(refused.otlp?.points);
    const closedAt = Math.max(...receiver.requests.flatMap((request) => request.points.map((p) => p.time)));
    receiver.reset();
    now = WINDOW + WINDOW_MS + 1_000;
    await handler({}, { getRemainingTimeInMillis: () => 20_000 });
    expect(byKey(receiver.accepted)).toEqual(byKey(expectedPoints(closedAt)));
    receiver.reset();
    now = WINDOW + WINDOW_MS + 61_000;
    await handler({}, { getRemainingTimeInMillis: () => 20_000 });
    expect(receiver.requests).toEqual([]);
  });

  it('publishes the classic VDN roll-ups and health beside it, and no per-skill classic metric by default', async () => {
    await collect();
    expectClassicIntact();
  });

  it('still publishes the per-skill classic metrics an explicit SKILL_METRICS names', async () => {
    await collect({ SKILL_METRICS: 'CallsOffered' });
    const perSkill = new Set(
      classic()
        .filter((d) => d.dimensions.SkillId !== undefined)
        .map((d) => d.name),
    );
    expect([...perSkill]).toEqual(['CallsOffered']);
  });

  it('counts and logs the datapoints the endpoint rejects in a partial success', async () => {
    const next = await windowEndedWithoutClosingRead();
    receiver.answer({ kind: 'partial', rejected: 3, message: 'duplicate' });
    const summary = await next();
    expect(summary.otlp?.rejected).toBe(3);
    expect(logged).toContainEqual({
      level: 'WARN',
      message: 'OTLP endpoint rejected datapoints',
      fields: { points: 3, error: 'partial success, 3 datapoints rejected: duplicate' },
    });
  });
});

describe('OTLP export of a collection run: every read (OTLP_DATAPOINTS=every-read)', () => {
  const everyRead = { OTLP_DATAPOINTS: 'every-read' };

  it("sends every counter of every busy skill at a window's first read, as CMS served it", async () => {
    const summary = await collect(everyRead);
    const expected = expectedPoints(now);
    expect(expected.length).toBeGreaterThan(8 * 50);
    expect(byKey(receiver.accepted)).toEqual(byKey(expected));
    expect(summary.otlp).toMatchObject({
      points: expected.length,
      accepted: expected.length,
      rejected: 0,
      failed: 0,
    });
  });

  it('sends, run after run in a window, only counters as CMS served them, and a receiver knows every counter at every read', async () => {
    const handler = collector(everyRead);
    const readTimes = [61_000, 121_000, 181_000, 241_000].map((into) => WINDOW + into);
    let points = 0;
    for (const at of readTimes) {
      now = at;
      const summary = await handler({}, { getRemainingTimeInMillis: () => 20_000 });
      points += summary.otlp?.points ?? 0;
    }
    // Every datapoint sent is what CMS served at that read.
    const served = readTimes.flatMap(expectedPoints);
    const key = (point: ReceivedPoint) =>
      `${point.time}|${point.name}|${point.attributes.vdn}|${point.attributes.skill_id}`;
    const servedByKey = new Map(served.map((point) => [key(point), point]));
    for (const point of receiver.accepted) expect(point).toEqual(servedByKey.get(key(point)));
    // At every read, the receiver's latest datapoint of each busy skill's counter is the one CMS served then.
    for (const at of readTimes)
      for (const point of expectedPoints(at)) {
        const known = receiver.accepted
          .filter(
            (sent) =>
              sent.name === point.name &&
              sent.attributes.vdn === point.attributes.vdn &&
              sent.attributes.skill_id === point.attributes.skill_id &&
              sent.start === point.start &&
              sent.time <= at,
          )
          .sort((a, b) => b.time - a.time)[0];
        expect(known?.value, `${key(point)}`).toBe(point.value);
      }
    // What did not change was not sent again.
    expect(receiver.accepted.length).toBeLessThan(served.length);
    expect(points).toBe(receiver.accepted.length);
  });

  it('sends the closing read too, every counter, so that the last point of a window is its total', async () => {
    now = WINDOW + 241_000;
    const summary = await collect({ ...everyRead, CLOSING_READ_REACH_SECONDS: '60' }, 100_000);
    expect(summary.closingReads.targets).toBe(2);
    // The run goes on past the boundary to confirm CMS's clock; the closing read was taken before it.
    const closedAt = Math.max(...receiver.accepted.map((point) => point.time));
    expect(closedAt).toBeGreaterThanOrEqual(WINDOW + 290_000);
    expect(closedAt).toBeLessThan(WINDOW + WINDOW_MS);
    expect(byKey(receiver.accepted)).toEqual(
      byKey([...expectedPoints(WINDOW + 241_000), ...expectedPoints(closedAt)]),
    );
    const last = receiver.accepted.filter((point) => point.time === closedAt);
    expect(last.every((point) => point.start === WINDOW)).toBe(true);
  });
});

describe('OTLP trouble costs the classic path nothing', () => {
  it('an endpoint answering 503 leaves the classic publication whole and the run successful', async () => {
    const next = await windowEndedWithoutClosingRead();
    receiver.answer(...Array.from({ length: 20 }, () => ({ kind: 'status' as const, status: 503 })));
    const summary = await next(4_000);
    expect(summary.otlp?.points).toBeGreaterThan(0);
    expectClassicIntact();
    expect(summary.datumsPublished).toBe(summary.datums);
    expect(summary.otlp?.accepted).toBe(0);
    expect(summary.otlp?.failed).toBe(summary.otlp?.points);
    expect(logged.some((line) => line.level === 'ERROR' && line.message === 'OTLP export failed')).toBe(true);
  });

  it('an endpoint that never answers leaves the classic publication whole and the run within its deadline', async () => {
    const next = await windowEndedWithoutClosingRead();
    receiver.answer({ kind: 'hang' }, { kind: 'hang' });
    const remainingMs = 3_000;
    const started = Date.now();
    const summary = await next(remainingMs);
    expect(summary.otlp?.points).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(remainingMs);
    expectClassicIntact();
    expect(summary.otlp).toMatchObject({ accepted: 0 });
    expect(summary.otlp?.failed).toBe(summary.otlp?.points);
  });

  it('an endpoint nobody listens on costs no run', async () => {
    const gone = await startOtlpReceiver();
    await gone.close();
    const next = await windowEndedWithoutClosingRead({ OTLP_ENDPOINT: gone.url });
    const summary = await next(3_000);
    expectClassicIntact();
    expect(summary.targetsSucceeded).toBe(2);
    expect(summary.otlp?.failed).toBeGreaterThan(0);
  });
});
