/**
 * Refused signatures as CMS counts them. CMS locks the caller's IP after too many wrong signatures within a
 * period, and counts every one that arrives, whether the client reads the 401 or not. Here the simulator counts
 * every 401 it sends, with its moment, while it delivers them as hostile deployments do (late, cut, as a reset,
 * with a huge body), refuses spuriously, or times out; the real collector and query handlers talk to it over
 * HTTPS on a clock the test moves. The bound: never more than CMS_REFUSAL_LIMIT refusals reach CMS within any
 * CMS_REFUSAL_PERIOD_SECONDS of one process, and signing resumes by itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { statsPath } from '../../lib/api/route.js';
import { staticCredentials } from '../../lib/cms/credentials.js';
import type { SignatureSetting } from '../../lib/cms/signature-negotiation.js';
import { loadCmsSettings } from '../../lib/config.js';
import { createCollectorHandler } from '../../lib/lambda/collector.js';
import { createQueryHandler } from '../../lib/lambda/query.js';
import type { Log } from '../../lib/log.js';
import type { Datum, MetricSink } from '../../lib/metrics/metric-sink.js';
import { startApiServer } from '../../local/api-server.js';
import { type CmsSimulator, type RefusalDelivery, startCmsSimulator } from '../../local/simulator/index.js';
import { hashIntegers } from '../../local/simulator/random.js';
import { range, targetsJson } from '../support/expected-datums.js';

const KEYS = { accessKey: 'refusal-suite-ak', secretKey: 'refusal-suite-sk' };
const TIMEOUT_MS = 200;
const PERIOD_SECONDS = 300;
const PERIOD_MS = PERIOD_SECONDS * 1_000;
/** CMS_REFUSAL_LIMIT's default, as the functions read it. */
const LIMIT = loadCmsSettings({ CMS_BASE_URL: 'https://cms.example' }).refusals.limit;
const TARGETS = [
  { ccId: 1, vdn: 170, skillList: '1-12', skillIds: range(1, 12) },
  { ccId: 1, vdn: 171, skillList: '101-106', skillIds: range(101, 106) },
];
const MINUTE = 60_000;

/** The clock of CMS and of the functions alike; each test moves it. */
const clock = { at: 0 };
const closables: { close(): unknown }[] = [];

afterEach(async () => {
  await Promise.all(closables.splice(0).map((closable) => closable.close()));
});

async function cms(): Promise<CmsSimulator> {
  // A window's middle, so that no run meets a window's end.
  clock.at = Date.UTC(2025, 4, 6, 7, 0, 0) + 150_000;
  const simulator = await startCmsSimulator({ ...KEYS, now: () => clock.at });
  closables.push(simulator);
  return simulator;
}

function env(simulator: CmsSimulator, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    LOG_LEVEL: 'SILENT',
    CMS_BASE_URL: simulator.url,
    CMS_TARGETS: targetsJson(TARGETS),
    CMS_TIMEOUT_MS: String(TIMEOUT_MS),
    CMS_REFUSAL_PERIOD_SECONDS: String(PERIOD_SECONDS),
    CLOSING_READ_REACH_SECONDS: '0',
    QUERY_CACHE_SECONDS: '0',
    ...overrides,
  };
}

/** The key pair the functions sign with: the suite's, unless CMS was given another. */
function credentials(simulator: CmsSimulator, secretKey = KEYS.secretKey) {
  return staticCredentials({ ...KEYS, secretKey, caCertificate: simulator.caCertificate });
}

function recordingLog() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => lines.push({ level, message });
  const log: Log = { debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
  return { lines, log };
}

interface Run {
  /** Failure codes, one per failed VDN. */
  readonly codes: readonly string[];
  /** CollectionSuccess per VDN. */
  readonly success: readonly number[];
  /** Requests that reached CMS during the run. */
  readonly requests: number;
}

/** A warm collector container: each call is one scheduled run, `MINUTE` after the previous one. */
function collector(simulator: CmsSimulator, overrides: Record<string, string>, secretKey?: string) {
  let published: Datum[] = [];
  const sink: MetricSink = {
    publish: (datums) => {
      published = [...datums];
      return Promise.resolve({ published: datums.length, calls: 1, failures: [] });
    },
  };
  const { lines, log } = recordingLog();
  const handler = createCollectorHandler(env(simulator, overrides), {
    credentials: credentials(simulator, secretKey),
    clock: { now: () => clock.at, sleep: () => Promise.resolve() },
    sink,
    log,
  });
  const run = async (): Promise<Run> => {
    const before = simulator.requests.length;
    const summary = await handler({}, { getRemainingTimeInMillis: () => 20_000 }).catch(
      (error: { summary: Awaited<ReturnType<typeof handler>> }) => error.summary,
    );
    clock.at += MINUTE;
    return {
      codes: summary.failures.map((failure) => failure.code ?? failure.type),
      success: published.filter((datum) => datum.name === 'CollectionSuccess').map((datum) => datum.value),
      requests: simulator.requests.length - before,
    };
  };
  return { run, logLines: lines };
}

/** The moments CMS refused a signature (every 401 it sent, whatever reached the client). */
function refusalsAtCms(simulator: CmsSimulator): number[] {
  return simulator.requests.filter((request) => request.status === 401).map((request) => request.at);
}

/** The most refusals within any one period. */
function busiestPeriod(moments: readonly number[]): number {
  const sorted = [...moments].sort((a, b) => a - b);
  let first = 0;
  let most = 0;
  for (let last = 0; last < sorted.length; last += 1) {
    while ((sorted[last] ?? 0) - (sorted[first] ?? 0) >= PERIOD_MS) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

const HOSTILE_REFUSALS: readonly [string, RefusalDelivery][] = [
  ['a 401 after the client timeout', { kind: 'late', ms: 2 * TIMEOUT_MS }],
  ['a 401 whose body is cut', { kind: 'cut' }],
  ['a reset after the request', { kind: 'reset' }],
  ['a 17 MB 401', { kind: 'huge', bytes: 17 * 1024 * 1024 }],
];
const SETTINGS: readonly SignatureSetting[] = ['auto', 'huawei-reference'];
const CASES = SETTINGS.flatMap((signature) =>
  HOSTILE_REFUSALS.map(([what, delivery]) => ({ what, delivery, signature })),
);

describe('a key pair CMS refuses, the refusals delivered as hostile deployments do', () => {
  it.each(CASES)(
    'collector, CMS_SIGNATURE=$signature, $what: never more than the limit in any period over 20 warm runs',
    async ({ delivery, signature }) => {
      const simulator = await cms();
      simulator.deliverRefusals(delivery);
      const { run } = collector(simulator, { CMS_SIGNATURE: signature }, 'not-the-secret-key');
      const runs: Run[] = [];
      for (let index = 0; index < 20; index += 1) runs.push(await run());

      const refusals = refusalsAtCms(simulator);
      expect(busiestPeriod(refusals)).toBeLessThanOrEqual(LIMIT);
      // Signing resumed by itself in later periods: more than one budget's worth over the 20 minutes.
      expect(refusals.length).toBeGreaterThan(LIMIT);
      // Runs that find the budget spent send nothing, and publish CollectionSuccess 0 for every VDN.
      const silent = runs.filter((each) => each.requests === 0);
      expect(silent.length).toBeGreaterThan(0);
      for (const each of silent) {
        expect(each.codes).toEqual(['CMS_SIGNING_PAUSED', 'CMS_SIGNING_PAUSED']);
        expect(each.success).toEqual([0, 0]);
      }
    },
  );

  it.each(CASES)(
    'query API, CMS_SIGNATURE=$signature, $what: never more than the limit in any period over rounds of concurrent calls',
    async ({ delivery, signature }) => {
      const simulator = await cms();
      simulator.deliverRefusals(delivery);
      const handler = createQueryHandler(env(simulator, { CMS_SIGNATURE: signature }), {
        credentials: credentials(simulator, 'not-the-secret-key'),
        now: () => clock.at,
      });
      const api = await startApiServer({ handler });
      closables.push(api);
      const answers: { status: number; code: string; retryAfter: string | null }[] = [];
      for (let round = 0; round < 5; round += 1) {
        const calls = [170, 171, 170, 171].map(async (vdn) => {
          const response = await fetch(`${api.url}${statsPath(1, vdn)}`);
          const body = (await response.json()) as { error: { code: string } };
          return {
            status: response.status,
            code: body.error.code,
            retryAfter: response.headers.get('retry-after'),
          };
        });
        answers.push(...(await Promise.all(calls)));
        clock.at += 2 * MINUTE;
      }

      const refusals = refusalsAtCms(simulator);
      expect(busiestPeriod(refusals)).toBeLessThanOrEqual(LIMIT);
      expect(refusals.length).toBeGreaterThan(LIMIT);
      const paused = answers.filter((answer) => answer.code === 'CMS_SIGNING_PAUSED');
      expect(paused.length).toBeGreaterThan(0);
      for (const answer of paused) {
        expect(answer.status).toBe(502);
        expect(Date.parse(answer.retryAfter ?? '')).toBeGreaterThan(0);
      }
    },
  );
});

describe('a CMS that mostly accepts', () => {
  it('recovers from 3 % spurious 401s over 200 runs: never more than the limit in a period, and never dead', async () => {
    const simulator = await cms();
    let request = 0;
    simulator.inject(
      { kind: 'unauthorized' },
      { times: Number.POSITIVE_INFINITY, when: () => hashIntegers([16, request++]) / 2 ** 32 < 0.03 },
    );
    const { run } = collector(simulator, { CMS_SIGNATURE: 'huawei-reference' });
    const runs: Run[] = [];
    for (let index = 0; index < 200; index += 1) runs.push(await run());
    expect(busiestPeriod(refusalsAtCms(simulator))).toBeLessThanOrEqual(LIMIT);
    // More spurious 401s than a budget that never refills would survive.
    expect(simulator.refusedSignatures).toBeGreaterThan(2 * LIMIT);
    // A run fails for its own spurious 401 (or a pause it led to), and the next ones collect again: past the run
    // of the LIMIT-th refusal, where a budget that never refilled would have stopped signing for good.
    const failed = runs.flatMap((each, index) => (each.codes.length > 0 ? [index] : []));
    expect(failed.length).toBeLessThanOrEqual(simulator.refusedSignatures);
    const afterwards = runs.slice((failed[LIMIT - 1] ?? 0) + 1);
    const collected = afterwards.filter((each) => each.codes.length === 0);
    expect(collected.length).toBeGreaterThanOrEqual(afterwards.length - simulator.refusedSignatures);
  });

  it('finds the right layout under auto after the period, when CMS refused only its very first request', async () => {
    const simulator = await cms();
    simulator.inject({ kind: 'unauthorized' });
    const { run, logLines } = collector(simulator, { CMS_SIGNATURE: 'auto' });
    const started = clock.at;
    const first = await run();
    // The spurious 401 sent the search through every layout: one refusal each, then nothing more.
    expect(simulator.refusedSignatures).toBe(LIMIT);
    expect(first.codes).toEqual(['CMS_SIGNING_PAUSED', 'CMS_SIGNING_PAUSED']);
    const waiting: Run[] = [];
    while (clock.at < started + PERIOD_MS) waiting.push(await run());
    expect(waiting.map((each) => each.requests)).toEqual(waiting.map(() => 0));

    const later: Run[] = [];
    for (let index = 0; index < 5; index += 1) later.push(await run());
    expect(later.map((each) => each.codes)).toEqual(later.map(() => []));
    expect(simulator.refusedSignatures).toBe(LIMIT);
    expect(logLines).toContainEqual({
      level: 'WARN',
      message: `CMS accepted the C2 signature layout huawei-reference after refusing ${LIMIT}; set CMS_SIGNATURE=huawei-reference to pin it`,
    });
  });

  it('keeps the budget and keeps answering when CMS times out one request in three', async () => {
    const simulator = await cms();
    let request = 0;
    simulator.inject(
      { kind: 'latency', ms: 3 * TIMEOUT_MS },
      { times: Number.POSITIVE_INFINITY, when: () => request++ % 3 === 0 },
    );
    // The default period: the timeouts of one period alone would spend the budget, were they not refunded.
    const { run } = collector(simulator, {
      CMS_SIGNATURE: 'huawei-reference',
      CMS_REFUSAL_PERIOD_SECONDS: '900',
    });
    const runs: Run[] = [];
    for (let index = 0; index < 30; index += 1) runs.push(await run());

    expect(runs.map((each) => each.codes)).toEqual(runs.map(() => []));
    expect(request).toBeGreaterThanOrEqual(60);
    expect(simulator.refusedSignatures).toBe(0);
  });
});
