/**
 * CC-CMS misbehaving, end to end: the real collector handler (real SDK clients on a fake AWS endpoint, the real
 * logger) and the real query handler behind the local API Gateway, both talking to the simulator over TLS.
 * In every collector case one VDN is hit by the fault and the other must come through in full.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statsPath } from '../../lib/api/route.js';
import { alignedWindowStart } from '../../lib/cms/window.js';
import { type CollectorHandler, createCollectorHandler } from '../../lib/lambda/collector.js';
import { createQueryHandler } from '../../lib/lambda/query.js';
import { COUNTERS } from '../../lib/model.js';
import { type ApiServer, startApiServer } from '../../local/api-server.js';
import type { SimFault } from '../../local/simulator/index.js';
import {
  expectedVdn,
  failedVdnMismatches,
  healthyVdnMismatches,
  type TargetSpec,
} from '../support/expected-datums.js';
import {
  ACCESS_KEY,
  auditSecrets,
  type Bench,
  benchEnv,
  type CollectorRun,
  exchange,
  FAULTY,
  HEALTHY,
  invokeCollector,
  onlyFaulty,
  resetBench,
  SECRET_ID,
  SECRET_KEY,
  secretJson,
  startBench,
} from './harness.js';

const ROTATED_SECRET_KEY = `${SECRET_KEY}-rotated`;
const MAX_ATTEMPTS = 3;
const TIMEOUT_MS = 1_000;
/** The CMS client's response cap where no function memory is announced (lib/config.ts). */
const RESPONSE_CAP_BYTES = 16 * 1024 * 1024;
const always = { ...onlyFaulty, times: Number.POSITIVE_INFINITY };

let bench: Bench;

beforeAll(async () => {
  bench = await startBench();
});

afterAll(async () => {
  await bench?.close();
});

afterEach(() => {
  resetBench(bench);
});

function collectorEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return benchEnv(bench, {
    CMS_TIMEOUT_MS: String(TIMEOUT_MS),
    CMS_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    ...overrides,
  });
}

function invoke(handler: CollectorHandler, remainingMs?: number): Promise<CollectorRun> {
  return invokeCollector(bench, handler, remainingMs);
}

function collect(overrides: Record<string, string> = {}, remainingMs?: number): Promise<CollectorRun> {
  return invoke(createCollectorHandler(collectorEnv(overrides)), remainingMs);
}

function expectHealthy(run: CollectorRun, target: TargetSpec): void {
  expect(healthyVdnMismatches(run.received, expectedVdn(bench.simulator, target, bench.at), target)).toEqual(
    [],
  );
}

/** The faulty VDN failed with `code`, the healthy one was published in full, and the log says why. */
function expectFaultyVdnFailed(run: CollectorRun, code: string, message?: RegExp): void {
  expect(run.thrown).toBeUndefined();
  expect(run.summary.failures).toEqual([
    expect.objectContaining({ ccId: FAULTY.ccId, vdn: FAULTY.vdn, skillIds: FAULTY.skillList, code }),
  ]);
  if (message) expect(run.summary.failures[0]?.message).toMatch(message);
  expect(run.summary.targetsSucceeded).toBe(1);
  expectHealthy(run, HEALTHY);
  expect(failedVdnMismatches(run.received, FAULTY)).toEqual([]);
  expect(run.summary.publishFailures).toEqual([]);
  expect(run.received).toHaveLength(run.summary.datums);
  expect(run.logs).toContainEqual(
    expect.objectContaining({
      level: 'ERROR',
      message: 'CMS collection failed',
      vdn: FAULTY.vdn,
      error: expect.objectContaining({ code }),
    }),
  );
}

function expectBothHealthy(run: CollectorRun): void {
  expect(run.thrown).toBeUndefined();
  expect(run.summary.failures).toEqual([]);
  expectHealthy(run, HEALTHY);
  expectHealthy(run, FAULTY);
  expect(run.received).toHaveLength(run.summary.datums);
}

describe('collector: CMS too slow', () => {
  it('fails a VDN whose CMS answers after CMS_TIMEOUT_MS on every attempt, and publishes the other in full', async () => {
    bench.simulator.inject({ kind: 'latency', ms: TIMEOUT_MS + 1_500 }, always);
    const run = await collect({ CMS_MAX_ATTEMPTS: '2' });
    expectFaultyVdnFailed(run, 'CMS_TIMEOUT', new RegExp(`did not answer within ${TIMEOUT_MS} ms`));
    expect(run.faultyStatuses).toHaveLength(2);
  });

  it('gives a VDN up at the deadline Lambda leaves, without retrying past it, and publishes what did arrive', async () => {
    bench.simulator.inject({ kind: 'latency', ms: 8_000 }, always);
    // 3 s left: the CMS share of it runs out long before the 5 s per-attempt limit would.
    const run = await collect({ CMS_TIMEOUT_MS: '5000' }, 3_000);
    expectFaultyVdnFailed(run, 'CMS_TIMEOUT', /deadline/);
    expect(run.faultyStatuses).toHaveLength(1);
  });
});

describe('collector: broken connections and bodies', () => {
  it('retries a connection reset in the middle of the response, then reports CMS_NETWORK_ERROR', async () => {
    bench.simulator.inject({ kind: 'resetMidResponse' }, always);
    const run = await collect();
    expectFaultyVdnFailed(run, 'CMS_NETWORK_ERROR');
    expect(run.faultyStatuses).toHaveLength(MAX_ATTEMPTS);
  });

  it.each([
    ['malformed JSON', { kind: 'malformedJson' } as const, /not valid JSON/],
    ['truncated JSON', { kind: 'truncatedJson' } as const, /not valid JSON/],
  ])('reports %s as CMS_PROTOCOL_ERROR without retrying it', async (_, fault, message) => {
    bench.simulator.inject(fault, always);
    const run = await collect();
    expectFaultyVdnFailed(run, 'CMS_PROTOCOL_ERROR', message);
    expect(run.faultyStatuses).toEqual([200]);
  });

  it('reports counters of the wrong type naming the skill and the field', async () => {
    bench.simulator.inject({ kind: 'wrongTypes' }, always);
    const run = await collect();
    expectFaultyVdnFailed(
      run,
      'CMS_PROTOCOL_ERROR',
      /skill 101: allCallCount is .*expected a non-negative integer/,
    );
  });

  it('refuses a response beyond the client cap as CMS_PROTOCOL_ERROR', async () => {
    bench.simulator.inject({ kind: 'hugeResponse', bytes: RESPONSE_CAP_BYTES + 1 }, always);
    const run = await collect();
    expectFaultyVdnFailed(run, 'CMS_PROTOCOL_ERROR', new RegExp(`more than ${RESPONSE_CAP_BYTES} bytes`));
    expect(run.faultyStatuses).toEqual([200]);
  });

  it('caps responses so that CMS_CONCURRENCY of them fit the function memory: 4 MiB is too much at 128 MB', async () => {
    bench.simulator.inject({ kind: 'hugeResponse', bytes: 4 * 1024 * 1024 }, always);
    // 64 MiB for 4 answers in flight at 6 bytes of memory per byte read: 2.67 MiB each.
    const cap = Math.floor((64 * 1024 * 1024) / 24);
    const run = await collect({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128', CMS_CONCURRENCY: '4' });
    expectFaultyVdnFailed(run, 'CMS_PROTOCOL_ERROR', new RegExp(`more than ${cap} bytes`));
  });

  it('reads a large response within the cap and publishes both VDNs in full', async () => {
    bench.simulator.inject({ kind: 'hugeResponse', bytes: 4 * 1024 * 1024 }, always);
    const run = await collect();
    expectBothHealthy(run);
  });
});

/** Window starts no current window can have, each as one skill of the faulty VDN carries it. */
const IMPLAUSIBLE_STARTS = [
  { case: 'beyond the range of a JavaScript Date', startTime: () => 9e15, says: /is not a date/ },
  { case: 'a day ahead', startTime: () => bench.at + 86_400_000, says: /lies 2\d hours ahead/ },
  { case: '0', startTime: () => 0, says: /\(1970-01-01T00:00:00\.000Z\) lies \d+ days behind/ },
  {
    case: 'in seconds',
    startTime: () => Math.floor(bench.at / 1000),
    says: /\(1970-.*\) lies \d+ days behind/,
  },
];

describe('collector: implausible window starts', () => {
  it.each(IMPLAUSIBLE_STARTS)(
    'refuses the VDN of a skill whose startTime is $case, and publishes the other VDN in full',
    async ({ startTime, says }) => {
      const value = startTime();
      bench.simulator.inject({ kind: 'startTime', value, skillId: 103 }, always);
      const run = await collect();
      const windowStart = alignedWindowStart(value);
      expectFaultyVdnFailed(
        run,
        'CMS_PROTOCOL_ERROR',
        new RegExp(`^skill 103: window start ${windowStart} `),
      );
      expect(run.summary.failures[0]?.message).toMatch(says);
      expect(run.logs).toContainEqual(
        expect.objectContaining({
          level: 'WARN',
          message: 'implausible window start from CMS: the VDN is not published',
          vdn: FAULTY.vdn,
          skillId: 103,
          windowStart,
        }),
      );
      expect(run.summary.dataQualityWarnings).toBe(1);
      // Nothing of the faulty VDN reached a request of the healthy one: CloudWatch refused none.
      expect(bench.aws.attempts.map((attempt) => attempt.error ?? attempt.status)).toEqual(
        bench.aws.attempts.map(() => 200),
      );
      expect(run.received.every((datum) => Math.abs(datum.timestamp - Date.now()) < 3_600_000)).toBe(true);
    },
  );
});

/** A result code and text as a hostile CMS might send them: 2 MB long, with terminal escapes and line breaks. */
const HOSTILE_RESULT: SimFault = {
  kind: 'resultCode',
  code: `0100001\u001b[2J\r\n${'9'.repeat(2 * 1024 * 1024)}`,
  desc: `busy\u001b]0;owned\u0007\r\nFAKE LOG LINE ${'x'.repeat(100_000)}`,
};
// biome-ignore lint/suspicious/noControlCharactersInRegex: what must never reach a sink.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe('collector: hostile CMS text', () => {
  it('logs a 2 MB result code with escape sequences as short, clean lines', async () => {
    bench.simulator.inject(HOSTILE_RESULT, always);
    const run = await collect();
    expectFaultyVdnFailed(run, 'CMS_RESULT_ERROR', /^CMS result code 0100001 /);
    const lines = bench.output.lines.slice(-run.logs.length);
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(16 * 1024);
    for (const record of run.logs)
      expect(JSON.stringify(Object.values(record))).not.toMatch(/\\u001b|\\r|\\n/);
    expect(run.summary.failures[0]?.message).not.toMatch(CONTROL);
  });
});

describe('collector: the log of a failed VDN', () => {
  it("carries the cause's own text on the error line, in a field the logger keeps", async () => {
    bench.simulator.inject({ kind: 'status', status: 503 }, always);
    const run = await collect();
    const cause = run.summary.failures[0]?.message ?? '';
    expect(cause).toMatch(/HTTP 503/);
    const line = run.logs.find((record) => record.message === 'CMS collection failed');
    expect(JSON.stringify(line)).toContain(cause);
  });
});

describe('collector: HTTP 5xx bursts', () => {
  it('rides out a burst shorter than CMS_MAX_ATTEMPTS: data published, CollectionSuccess 1', async () => {
    bench.simulator.inject({ kind: 'status', status: 503 }, { ...onlyFaulty, times: MAX_ATTEMPTS - 1 });
    const run = await collect();
    expectBothHealthy(run);
    expect(run.faultyStatuses).toEqual([...Array(MAX_ATTEMPTS - 1).fill(503), 200]);
  });

  it('reports a burst as long as CMS_MAX_ATTEMPTS as CMS_HTTP_ERROR', async () => {
    bench.simulator.inject({ kind: 'status', status: 503 }, { ...onlyFaulty, times: MAX_ATTEMPTS });
    const run = await collect();
    expectFaultyVdnFailed(run, 'CMS_HTTP_ERROR', /HTTP 503/);
    expect(run.faultyStatuses).toEqual(Array(MAX_ATTEMPTS).fill(503));
  });
});

describe('collector: HTTP 401', () => {
  it('re-reads a rotated secret once and then collects both VDNs', async () => {
    const handler = createCollectorHandler(collectorEnv({ SECRET_TTL_SECONDS: '3600' }));
    expect((await invoke(handler)).summary.failures).toEqual([]);
    bench.simulator.setCredentials(ACCESS_KEY, ROTATED_SECRET_KEY);
    bench.aws.setSecret(SECRET_ID, secretJson(ACCESS_KEY, ROTATED_SECRET_KEY));
    bench.aws.clearRecords();

    const run = await invoke(handler);
    expect(run.thrown).toBeUndefined();
    expect(run.summary.failures).toEqual([]);
    // The rotation met every request in flight, the live queue's too. The counters come first: both VDNs are
    // published in full, while the live queue gives way rather than take the refusal budget's last free charge;
    // it is signed again once the refused charges have aged out (CMS_REFUSAL_PERIOD_SECONDS).
    for (const target of [HEALTHY, FAULTY]) {
      const counters = { ...expectedVdn(bench.simulator, target, bench.at), live: [] };
      const received = run.received.filter(
        (datum) => !['CallsWaiting', 'LongestWaitTime'].includes(datum.name),
      );
      expect(healthyVdnMismatches(received, counters, target)).toEqual([]);
    }
    expect(run.summary.liveQueue).toMatchObject({ read: 0, failed: 2 });
    expect(run.faultyStatuses).toEqual([401, 200]);
    // Each VDN's refused call asks for a fresh pair; refreshes that overlap share one read.
    expect(bench.aws.getSecretValueCalls.length).toBeGreaterThanOrEqual(1);
    expect(bench.aws.getSecretValueCalls.length).toBeLessThanOrEqual(2);
  });

  it('reports CMS_UNAUTHORIZED for a VDN refused again after the re-read, and publishes the other', async () => {
    bench.simulator.inject({ kind: 'unauthorized' }, always);
    const run = await collect();
    expectFaultyVdnFailed(run, 'CMS_UNAUTHORIZED');
    // The re-read gave the same key pair, so signing again could not help.
    expect(run.faultyStatuses).toEqual([401]);
  });

  it('fails the invocation with CMS_SIGNING_PAUSED when the secret still holds the old key, after publishing CollectionSuccess 0', async () => {
    bench.simulator.setCredentials(ACCESS_KEY, ROTATED_SECRET_KEY);
    const before = bench.simulator.requests.length;
    const run = await collect();
    expect(run.thrown).toMatchObject({
      code: 'COLLECTION_FAILED',
      message: expect.stringMatching(
        /no target could be collected \(1\/170: CMS_SIGNING_PAUSED; 1\/171: CMS_SIGNING_PAUSED\)/,
      ),
    });
    for (const failure of run.summary.failures) {
      expect(failure.code).toBe('CMS_SIGNING_PAUSED');
      expect(failure.message).toMatch(/in every layout .*key is wrong.* nothing is signed until \d{4}-/);
    }
    expect(failedVdnMismatches(run.received, HEALTHY)).toEqual([]);
    expect(failedVdnMismatches(run.received, FAULTY)).toEqual([]);
    // One try of each signature layout across both VDNs, then nothing more: the IP lock stays far.
    expect(bench.simulator.requests.slice(before).map((request) => request.status)).toEqual([
      401, 401, 401, 401,
    ]);
    // The first read, then at most one re-read per refused VDN.
    expect(bench.aws.getSecretValueCalls.length).toBeGreaterThanOrEqual(2);
    expect(bench.aws.getSecretValueCalls.length).toBeLessThanOrEqual(3);
  });
});

// --- the query API ----------------------------------------------------------------------------------------

/** The simulator's host and port, or any IP address: internal topology no answer body may carry. */
const CMS_ADDRESS = /127\.0\.0\.1|\d+\.\d+\.\d+\.\d+|:\d{4,5}\b|certificate/i;

interface ErrorBody {
  error: { code: string; message: string; requestId?: string; cmsResultCode?: string };
}

interface StatsBody {
  vdn: number;
  skills: { skillId: number; counters: Record<string, number> }[];
  missingSkillIds: number[];
}

const servers: ApiServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** How long API Gateway waits, and the function's timeout within that. */
interface ApiTimes {
  readonly timeoutMs: number;
  readonly lambdaTimeoutMs: number;
}

async function queryApi(
  overrides: Record<string, string> = {},
  times: Partial<ApiTimes> = {},
): Promise<string> {
  const handler = createQueryHandler(collectorEnv(overrides));
  const server = await startApiServer({
    handler,
    ...times,
    onError: (error) => bench.evidence.addError('API server', error),
  });
  servers.push(server);
  return server.url;
}

async function askFaultyVdn(url: string) {
  return exchange(bench.evidence, `${url}${statsPath(FAULTY.ccId, FAULTY.vdn)}`);
}

/** The counters CMS served for the faulty VDN's skills, as the API reports them. */
function servedSkills(): StatsBody['skills'] {
  return FAULTY.skillIds.flatMap((skillId) => {
    const record = bench.simulator.statsAt(FAULTY.ccId, FAULTY.vdn, skillId, bench.at);
    if (record === undefined) return [];
    const counters = Object.fromEntries(COUNTERS.map(({ name, cmsField }) => [name, record[cmsField]]));
    return [{ skillId, counters }];
  });
}

function expectServed(body: unknown): void {
  const stats = body as StatsBody;
  expect(stats.vdn).toBe(FAULTY.vdn);
  expect(stats.missingSkillIds).toEqual([]);
  expect(stats.skills.map(({ skillId, counters }) => ({ skillId, counters }))).toEqual(servedSkills());
}

interface QueryFault {
  readonly cms: string;
  readonly fault: SimFault;
  /** Requests the fault hits; every one when absent. */
  readonly times?: number;
  readonly status: number;
  readonly code: string;
  /** What the answer says: fixed words, nothing of the CMS address or of what CMS sent. */
  readonly message: RegExp;
  /** What the log line of the request says: the detail, for the operator. */
  readonly logged: RegExp;
}

const QUERY_FAULTS: QueryFault[] = [
  {
    cms: 'slower than CMS_TIMEOUT_MS',
    fault: { kind: 'latency', ms: TIMEOUT_MS + 1_500 },
    status: 504,
    code: 'CMS_TIMEOUT',
    message: /did not answer in time/,
    logged: /did not answer within/,
  },
  {
    cms: 'resetting mid-response',
    fault: { kind: 'resetMidResponse' },
    status: 502,
    code: 'CMS_NETWORK_ERROR',
    message: /could not be reached/,
    logged: /closed the connection|connection failed/,
  },
  {
    cms: 'answering 503 to every attempt',
    fault: { kind: 'status', status: 503 },
    times: MAX_ATTEMPTS,
    status: 502,
    code: 'CMS_HTTP_ERROR',
    message: /HTTP 503/,
    logged: /HTTP 503/,
  },
  {
    cms: 'answering malformed JSON',
    fault: { kind: 'malformedJson' },
    status: 502,
    code: 'CMS_PROTOCOL_ERROR',
    message: /other than the documented statistics/,
    logged: /not valid JSON/,
  },
  {
    cms: 'answering truncated JSON',
    fault: { kind: 'truncatedJson' },
    status: 502,
    code: 'CMS_PROTOCOL_ERROR',
    message: /other than the documented statistics/,
    logged: /not valid JSON/,
  },
  {
    cms: 'answering counters of the wrong type',
    fault: { kind: 'wrongTypes' },
    status: 502,
    code: 'CMS_PROTOCOL_ERROR',
    message: /other than the documented statistics/,
    logged: /skill 101: allCallCount/,
  },
  {
    cms: 'answering beyond the client cap',
    fault: { kind: 'hugeResponse', bytes: RESPONSE_CAP_BYTES + 1 },
    status: 502,
    code: 'CMS_PROTOCOL_ERROR',
    message: /other than the documented statistics/,
    logged: new RegExp(`more than ${RESPONSE_CAP_BYTES} bytes`),
  },
  {
    cms: 'refusing the signature again after the re-read, in every layout',
    fault: { kind: 'unauthorized' },
    status: 502,
    code: 'CMS_SIGNING_PAUSED',
    message: /too many signed requests; requests resume at \d{4}-/,
    logged: /HTTP 401\) in every layout/,
  },
];

describe('query API: CMS faults', () => {
  it.each(QUERY_FAULTS)(
    'answers $status $code when CMS is $cms',
    async ({ fault, times, status, code, message, logged }) => {
      const url = await queryApi();
      bench.simulator.inject(fault, { ...onlyFaulty, times: times ?? Number.POSITIVE_INFINITY });
      const answer = await askFaultyVdn(url);
      expect(answer.status).toBe(status);
      expect((answer.json as ErrorBody).error).toEqual({
        code,
        message: expect.stringMatching(message),
        requestId: expect.any(String),
      });
      expect(answer.text).not.toMatch(CMS_ADDRESS);
      const requestLine = bench.output
        .records()
        .filter((line) => line.message === 'query request')
        .at(-1);
      expect(requestLine).toMatchObject({
        requestId: (answer.json as ErrorBody).error.requestId,
        error: { code, message: expect.stringMatching(logged) },
      });
    },
  );

  it('answers 504 when CMS is slower than the time Lambda has left, before API Gateway gives up', async () => {
    // 2.5 s of function time leave the handler 1.5 s, well inside the 5 s per-attempt limit; the gateway waits
    // 4 s, as a deployment's waits longer than its function (30 s against 25 s). A handler that waited for the
    // per-attempt limit would answer after the gateway had given up.
    const url = await queryApi({ CMS_TIMEOUT_MS: '5000' }, { lambdaTimeoutMs: 2_500, timeoutMs: 4_000 });
    bench.simulator.inject({ kind: 'latency', ms: 8_000 }, always);
    const answer = await askFaultyVdn(url);
    expect(answer.status).toBe(504);
    expect((answer.json as ErrorBody).error).toEqual({
      code: 'CMS_TIMEOUT',
      message: expect.stringMatching(/did not answer in time/),
      requestId: expect.any(String),
    });
  });

  it('answers 200 with the served counters after riding out a 5xx burst shorter than CMS_MAX_ATTEMPTS', async () => {
    const url = await queryApi();
    bench.simulator.inject({ kind: 'status', status: 503 }, { ...onlyFaulty, times: MAX_ATTEMPTS - 1 });
    const answer = await askFaultyVdn(url);
    expect(answer.status).toBe(200);
    expectServed(answer.json);
  });

  it.each(IMPLAUSIBLE_STARTS)(
    "answers 502 CMS_PROTOCOL_ERROR when a skill's startTime is $case",
    async ({ startTime }) => {
      const url = await queryApi();
      bench.simulator.inject({ kind: 'startTime', value: startTime(), skillId: 103 }, always);
      const answer = await askFaultyVdn(url);
      expect(answer.status).toBe(502);
      expect((answer.json as ErrorBody).error.code).toBe('CMS_PROTOCOL_ERROR');
    },
  );

  it('answers a 2 MB result code with escape sequences in a short body free of control characters', async () => {
    const url = await queryApi();
    bench.simulator.inject(HOSTILE_RESULT, always);
    const answer = await askFaultyVdn(url);
    expect(answer.status).toBe(502);
    expect(answer.text.length).toBeLessThan(1_000);
    expect(answer.text).not.toMatch(/\\u001b|\\r|\\n/);
    const error = (answer.json as ErrorBody).error;
    expect(error.cmsResultCode).toMatch(/^0100001 \[2J 9+…$/);
    expect(error.message).not.toMatch(CONTROL);
  });

  it('answers 200 for a large response within the cap', async () => {
    const url = await queryApi();
    bench.simulator.inject({ kind: 'hugeResponse', bytes: 4 * 1024 * 1024 }, always);
    const answer = await askFaultyVdn(url);
    expect(answer.status).toBe(200);
    expectServed(answer.json);
  });

  it('answers 200 after a rotation once the warm container re-read the secret', async () => {
    const url = await queryApi({ SECRET_TTL_SECONDS: '3600' });
    expect((await askFaultyVdn(url)).status).toBe(200);
    bench.simulator.setCredentials(ACCESS_KEY, ROTATED_SECRET_KEY);
    bench.aws.setSecret(SECRET_ID, secretJson(ACCESS_KEY, ROTATED_SECRET_KEY));
    bench.aws.clearRecords();
    const answer = await askFaultyVdn(url);
    expect(answer.status).toBe(200);
    expectServed(answer.json);
    expect(bench.aws.getSecretValueCalls).toHaveLength(1);
  });

  it('answers 502 CMS_UNAUTHORIZED when the secret still holds the old key, in a pinned layout', async () => {
    const url = await queryApi({ CMS_SIGNATURE: 'huawei-reference' });
    bench.simulator.setCredentials(ACCESS_KEY, ROTATED_SECRET_KEY);
    const answer = await askFaultyVdn(url);
    expect(answer.status).toBe(502);
    expect((answer.json as ErrorBody).error.code).toBe('CMS_UNAUTHORIZED');
  });
});

/**
 * The faults whose messages carry CMS's own text or follow a refused signature: where a key could slip out. The
 * audit drives them itself, through both handlers, so that it has evidence of its own when it runs alone; after
 * the other tests of the file it reads theirs as well.
 */
const AUDITED_FAULTS: readonly SimFault[] = [
  { kind: 'unauthorized' },
  HOSTILE_RESULT,
  { kind: 'malformedJson' },
  { kind: 'resetMidResponse' },
];

describe('secrets', () => {
  it('never appear in a log line, a thrown error, an HTTP answer or a PutMetricData body', async () => {
    const url = await queryApi();
    for (const fault of AUDITED_FAULTS) {
      bench.simulator.inject(fault, always);
      await collect();
      await askFaultyVdn(url);
      bench.simulator.clearFaults();
    }
    const audit = auditSecrets(bench);
    expect(audit.loggerLines).toBeGreaterThan(0);
    expect(audit.secretServed).toBe(true);
    expect(audit.leaks).toEqual([]);
  });
});
