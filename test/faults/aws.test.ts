/**
 * AWS misbehaving, end to end: Secrets Manager refusing or holding a broken secret, CloudWatch throttling or
 * refusing a batch. The real handlers reach the fake endpoint through AWS_ENDPOINT_URL with the real SDK.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { statsPath } from '../../lib/api/route.js';
import { invocationDeadline } from '../../lib/deadline.js';
import { createCollectorHandler } from '../../lib/lambda/collector.js';
import { createQueryHandler } from '../../lib/lambda/query.js';
import type { HealthMetricName } from '../../lib/model.js';
import { startApiServer } from '../../local/api-server.js';
import {
  datumKey,
  expectedVdn,
  failedVdnMismatches,
  healthyVdnMismatches,
  type TargetSpec,
  targetsJson,
} from '../support/expected-datums.js';
import type { AwsFault } from '../support/fake-aws.js';
import {
  ACCESS_KEY,
  auditSecrets,
  type Bench,
  benchEnv,
  type CollectorRun,
  describeThrown,
  exchange,
  FAULTY,
  HEALTHY,
  invokeCollector,
  leaksIn,
  resetBench,
  SECRET_ID,
  SECRET_KEY,
  startBench,
} from './harness.js';

/** Attempts per PutMetricData call of the CloudWatch client handed to the collector. */
const SDK_ATTEMPTS = 3;
/** Enough skills for more than one PutMetricData call (1,000 datums each). */
const LARGE: TargetSpec = {
  ccId: 1,
  vdn: 170,
  skillList: '1-100',
  skillIds: Array.from({ length: 100 }, (_, index) => index + 1),
};

let bench: Bench;
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  bench = await startBench();
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await bench?.close();
});

afterEach(() => {
  resetBench(bench);
});

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return benchEnv(bench, { CMS_TIMEOUT_MS: '1000', CMS_MAX_ATTEMPTS: '2', ...overrides });
}

/**
 * The handler builds its CloudWatch client from the environment, where only the number of attempts can be set,
 * not the backoff; this one is built the same way (region and endpoint from the environment) but retries after
 * 10 ms instead of the SDK's throttling backoff of up to seconds.
 */
function fastRetryingCloudWatch(): CloudWatchClient {
  const client = new CloudWatchClient({ retryStrategy: new ConfiguredRetryStrategy(SDK_ATTEMPTS, 10) });
  clients.push(client);
  return client;
}

function collect(overrides: Record<string, string> = {}): Promise<CollectorRun> {
  return invokeCollector(
    bench,
    createCollectorHandler(env(overrides), { cloudWatch: fastRetryingCloudWatch() }),
  );
}

const putMetricDataAttempts = () =>
  bench.aws.attempts
    .filter((attempt) => attempt.operation === 'PutMetricData')
    .map((a) => a.error ?? a.status);

// --- Secrets Manager -----------------------------------------------------------------------------------------

const SECRET_FAULTS: { case: string; arrange: () => void; detail: RegExp }[] = [
  {
    case: 'the secret does not exist',
    arrange: () => bench.aws.inject({ kind: 'secretNotFound' }, { times: Number.POSITIVE_INFINITY }),
    detail:
      /cannot read secret prod\/cms-skill-metrics\/fault-suite from Secrets Manager \(ResourceNotFoundException\)/,
  },
  {
    case: 'reading the secret is denied',
    arrange: () =>
      bench.aws.inject(
        { kind: 'accessDenied', operation: 'GetSecretValue' },
        { times: Number.POSITIVE_INFINITY },
      ),
    detail: /cannot read secret .* \(AccessDeniedException\)/,
  },
  {
    case: 'the secret is not JSON',
    arrange: () => bench.aws.setSecret(SECRET_ID, `{"accessKey":"${ACCESS_KEY}","secretKey":"${SECRET_KEY}"`),
    detail: /secret prod\/cms-skill-metrics\/fault-suite is not JSON/,
  },
  {
    case: 'the secret is a JSON array',
    arrange: () => bench.aws.setSecret(SECRET_ID, JSON.stringify([ACCESS_KEY, SECRET_KEY])),
    detail: /is not a JSON object/,
  },
  {
    case: 'the secret lacks secretKey',
    arrange: () =>
      bench.aws.setSecret(SECRET_ID, JSON.stringify({ accessKey: ACCESS_KEY, secret: SECRET_KEY })),
    detail: /field "secretKey" is missing or not a non-empty string/,
  },
  {
    case: 'the secret has a caCertificate that is not PEM',
    arrange: () =>
      bench.aws.setSecret(
        SECRET_ID,
        JSON.stringify({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, caCertificate: `MII${SECRET_KEY}` }),
      ),
    detail: /field "caCertificate" holds no PEM certificate/,
  },
];

describe('collector: Secrets Manager faults', () => {
  it.each(SECRET_FAULTS)(
    'when $case, publishes CollectionSuccess 0 for every VDN, then fails saying what is wrong',
    async ({ arrange, detail }) => {
      arrange();
      const requestsBefore = bench.simulator.requests.length;
      const run = await collect();

      expect(run.thrown).toMatchObject({
        code: 'COLLECTION_FAILED',
        message: 'no target could be collected (1/170: SECRET_ERROR; 1/171: SECRET_ERROR)',
      });
      expect(run.summary.failures).toEqual(
        [HEALTHY, FAULTY].map((target) =>
          expect.objectContaining({
            vdn: target.vdn,
            type: 'SecretError',
            code: 'SECRET_ERROR',
            message: expect.stringMatching(detail),
          }),
        ),
      );
      // Nothing reached CMS: a slow or failing Secrets Manager is no CMS latency.
      expect(failedVdnMismatches(run.received, HEALTHY, { sent: false })).toEqual([]);
      expect(failedVdnMismatches(run.received, FAULTY, { sent: false })).toEqual([]);
      expect(bench.simulator.requests.length).toBe(requestsBefore);
      expect(leaksIn(describeThrown(run.thrown))).toEqual([]);
    },
  );
});

describe('query API: Secrets Manager faults', () => {
  it.each(SECRET_FAULTS)(
    'when $case, answers 502 with a generic message and logs the detail',
    async ({ arrange, detail }) => {
      arrange();
      const server = await startApiServer({ handler: createQueryHandler(env()) });
      const linesBefore = bench.output.lines.length;
      try {
        const answer = await exchange(bench.evidence, `${server.url}${statsPath(HEALTHY.ccId, HEALTHY.vdn)}`);
        expect(answer.status).toBe(502);
        expect(answer.json).toEqual({
          error: {
            code: 'CMS_CREDENTIALS_UNAVAILABLE',
            message:
              'the credentials for CC-CMS could not be loaded; the details are in the service log under the request id',
            requestId: expect.any(String),
          },
        });
        const logged = bench.output.lines
          .slice(linesBefore)
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(logged).toContainEqual(
          expect.objectContaining({
            level: 'ERROR',
            message: 'query request',
            status: 502,
            error: expect.objectContaining({ code: 'SECRET_ERROR', message: expect.stringMatching(detail) }),
          }),
        );
      } finally {
        await server.close();
      }
    },
  );
});

// --- a slow AWS and the Lambda deadline ---------------------------------------------------------------------

/** How slow the faked service is, against the Lambda time left: the handler must not wait it out. */
const SLOW_AWS_MS = 30_000;
const LAMBDA_LEFT_MS = 3_000;
/**
 * A handler that stops at its own deadline (Lambda's time less the second it keeps back: a rule with a test of
 * its own) ends about 2 s in, one that waits the call out only after SLOW_AWS_MS. The bound lies 2 s past that
 * deadline, so that a loaded machine cannot fail it.
 */
const ENDED_BY_MS = invocationDeadline(LAMBDA_LEFT_MS, 0) + 2_000;
/** API Gateway waits longer than the function's timeout, as in a deployment (30 s against 25 s). */
const GATEWAY_TIMEOUT_MS = LAMBDA_LEFT_MS + 2_000;

describe('collector: a slow AWS within the time Lambda leaves', () => {
  it('gives up a 30 s GetSecretValue at the deadline, then publishes CollectionSuccess 0 and logs the summary', async () => {
    bench.aws.inject({ kind: 'latency', ms: SLOW_AWS_MS, operation: 'GetSecretValue' }, { times: 1 });
    const started = Date.now();
    const run = await invokeCollector(
      bench,
      createCollectorHandler(env(), { cloudWatch: fastRetryingCloudWatch() }),
      LAMBDA_LEFT_MS,
    );
    expect(Date.now() - started).toBeLessThan(ENDED_BY_MS);
    expect(run.thrown).toMatchObject({
      code: 'COLLECTION_FAILED',
      message: expect.stringMatching(/^no target could be collected/),
    });
    expect(run.summary.failures.map((failure) => [failure.vdn, failure.code, failure.message])).toEqual(
      [HEALTHY, FAULTY].map((target) => [
        target.vdn,
        'CMS_TIMEOUT',
        'the deadline passed while the CMS credentials were being read',
      ]),
    );
    expect(failedVdnMismatches(run.received, HEALTHY, { sent: false })).toEqual([]);
    expect(failedVdnMismatches(run.received, FAULTY, { sent: false })).toEqual([]);
    expect(run.logs).toContainEqual(expect.objectContaining({ level: 'INFO', message: 'collection run' }));
  });

  it('gives up a 30 s PutMetricData at the deadline and still logs the summary', async () => {
    bench.aws.inject({ kind: 'latency', ms: SLOW_AWS_MS, operation: 'PutMetricData' }, { times: 1 });
    const started = Date.now();
    const run = await invokeCollector(
      bench,
      createCollectorHandler(env(), { cloudWatch: fastRetryingCloudWatch() }),
      LAMBDA_LEFT_MS,
    );
    expect(Date.now() - started).toBeLessThan(ENDED_BY_MS);
    expect(run.summary.failures).toEqual([]);
    expect(run.summary.datumsPublished).toBe(0);
    expect(run.summary.publishFailures).toEqual([
      { datums: run.summary.datums, error: expect.stringMatching(/abort/i) },
    ]);
    expect(run.thrown).toMatchObject({ code: 'COLLECTION_FAILED' });
    expect(run.logs).toContainEqual(expect.objectContaining({ level: 'INFO', message: 'collection run' }));
  });
});

describe('query API: a slow Secrets Manager within the time Lambda leaves', () => {
  it('answers 504 before the gateway gives up, instead of waiting 30 s for the secret', async () => {
    bench.aws.inject({ kind: 'latency', ms: SLOW_AWS_MS, operation: 'GetSecretValue' }, { times: 1 });
    const server = await startApiServer({
      handler: createQueryHandler(env()),
      timeoutMs: GATEWAY_TIMEOUT_MS,
      lambdaTimeoutMs: LAMBDA_LEFT_MS,
    });
    try {
      const started = Date.now();
      const answer = await exchange(bench.evidence, `${server.url}${statsPath(HEALTHY.ccId, HEALTHY.vdn)}`);
      expect(Date.now() - started).toBeLessThan(ENDED_BY_MS);
      expect(answer.status).toBe(504);
      expect(answer.json).toMatchObject({ error: { code: 'CMS_TIMEOUT' } });
    } finally {
      await server.close();
    }
  });
});

// --- CloudWatch ----------------------------------------------------------------------------------------------

describe('collector: CloudWatch faults', () => {
  it('publishes everything through a throttling burst shorter than the SDK attempts', async () => {
    bench.aws.inject({ kind: 'throttle', operation: 'PutMetricData' }, { times: SDK_ATTEMPTS - 1 });
    const run = await collect();

    expect(run.thrown).toBeUndefined();
    expect(run.summary.publishFailures).toEqual([]);
    for (const target of [HEALTHY, FAULTY]) {
      expect(
        healthyVdnMismatches(run.received, expectedVdn(bench.simulator, target, bench.at), target),
      ).toEqual([]);
    }
    expect(putMetricDataAttempts()).toEqual([...Array(SDK_ATTEMPTS - 1).fill('Throttling'), 200]);
  });

  it.each<[string, AwsFault]>([
    ['400 Throttling', { kind: 'throttle', operation: 'PutMetricData' }],
    ['429 Too Many Requests', { kind: 'throttle', operation: 'PutMetricData', status: 429 }],
  ])(
    'publishes everything through %s longer than the SDK attempts, backing off within the deadline',
    async (_, fault) => {
      bench.aws.inject(fault, { times: 2 * SDK_ATTEMPTS });
      const run = await collect();

      expect(run.thrown).toBeUndefined();
      expect(run.summary.publishFailures).toEqual([]);
      expect(run.summary.datumsPublished).toBe(run.summary.datums);
      expect(putMetricDataAttempts().filter((attempt) => attempt === 200)).toHaveLength(1);
    },
  );

  it.each<[string, AwsFault, RegExp, number]>([
    [
      'throttling that outlasts the run',
      { kind: 'throttle', operation: 'PutMetricData' },
      /Throttling/,
      // Short, since publishing now backs off until the deadline.
      3_000,
    ],
    ['access denied', { kind: 'accessDenied', operation: 'PutMetricData' }, /AccessDenied/, 20_000],
  ])('fails the run when %s loses every datum, naming the cause', async (_, fault, cause, remainingMs) => {
    bench.aws.inject(fault, { times: Number.POSITIVE_INFINITY });
    const run = await invokeCollector(
      bench,
      createCollectorHandler(env(), { cloudWatch: fastRetryingCloudWatch() }),
      remainingMs,
    );

    expect(run.summary.failures).toEqual([]);
    expect(run.summary.datumsPublished).toBe(0);
    expect(run.summary.publishFailures).toEqual([
      { datums: run.summary.datums, error: expect.stringMatching(cause) },
    ]);
    expect(run.thrown).toMatchObject({
      code: 'COLLECTION_FAILED',
      message: `none of the ${run.summary.datums} datums could be published`,
    });
    expect(run.logs).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'publishing failed',
        error: expect.stringMatching(cause),
      }),
    );
  });

  it('splits a batch refused as too large (HTTP 413) and delivers every datum of both batches', async () => {
    bench.aws.inject({ kind: 'tooLarge', operation: 'PutMetricData' });
    const run = await collect({ CMS_TARGETS: targetsJson([LARGE, FAULTY]) });

    const keys = publishOrder([LARGE, FAULTY]);
    expect(run.received.map(datumKey).sort()).toEqual([...keys].sort());
    expect(run.summary).toMatchObject({ datumsPublished: keys.length, publishCalls: 4, publishFailures: [] });
    expect(run.thrown).toBeUndefined();
    expect(putMetricDataAttempts().map(String).sort()).toEqual([
      '200',
      '200',
      '200',
      'RequestEntityTooLarge',
    ]);
  });

  it('splits a batch refused as invalid and delivers every datum of both batches', async () => {
    bench.aws.inject({ kind: 'fail', operation: 'PutMetricData' });
    const run = await collect({ CMS_TARGETS: targetsJson([LARGE, FAULTY]) });

    const keys = publishOrder([LARGE, FAULTY]);
    expect(run.received.map(datumKey).sort()).toEqual([...keys].sort());
    expect(run.summary).toMatchObject({
      datums: keys.length,
      datumsPublished: keys.length,
      publishCalls: 4,
      failures: [],
      publishFailures: [],
    });
    expect(run.thrown).toBeUndefined();
    // A refused batch is not a throttle: the SDK does not send it again as it was; the halves go instead.
    expect(putMetricDataAttempts().sort()).toEqual([200, 200, 200, 'InvalidParameterValue']);
  });
});

/** The keys of every datum of a successful run, in the order the collector publishes them (metrics.md). */
function publishOrder(targets: readonly TargetSpec[]): string[] {
  const health: HealthMetricName[] = ['CollectionSuccess', 'CmsLatency', 'SkillsMissing', 'DataAge'];
  return targets.flatMap((target) => [
    ...expectedVdn(bench.simulator, target, bench.at).stats.map(datumKey),
    ...expectedVdn(bench.simulator, target, bench.at).live.map((datum) =>
      datumKey({ ...datum, timestamp: 0 }),
    ),
    ...health.map((name) =>
      datumKey({
        name,
        unit: undefined,
        value: 0,
        timestamp: 0,
        dimensions: { CcId: String(target.ccId), Vdn: String(target.vdn) },
      }),
    ),
  ]);
}

describe('secrets', () => {
  // The audit drives the file's faults itself, through both handlers, so that it has evidence of its own when it
  // runs alone; after the other tests of the file it reads theirs as well.
  it('never appear in a log line, a thrown error, an HTTP answer or a PutMetricData body', async () => {
    await collect();
    bench.aws.inject(
      { kind: 'accessDenied', operation: 'PutMetricData' },
      { times: Number.POSITIVE_INFINITY },
    );
    await collect();
    for (const { arrange } of SECRET_FAULTS) {
      resetBench(bench);
      arrange();
      await collect();
      const server = await startApiServer({ handler: createQueryHandler(env()) });
      try {
        await exchange(bench.evidence, `${server.url}${statsPath(HEALTHY.ccId, HEALTHY.vdn)}`);
      } finally {
        await server.close();
      }
    }
    const audit = auditSecrets(bench);
    expect(audit.loggerLines).toBeGreaterThan(0);
    expect(audit.secretServed).toBe(true);
    expect(audit.leaks).toEqual([]);
  });
});
