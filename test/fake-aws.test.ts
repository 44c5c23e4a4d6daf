import {
  CloudWatchClient,
  type CloudWatchClientConfig,
  GetMetricDataCommand,
  InvalidParameterValueException,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchSink } from '../lib/metrics/cloudwatch.js';
import type { Datum } from '../lib/metrics/metric-sink.js';
import { type FakeAws, type ReceivedDatum, startFakeAws } from './support/fake-aws.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const WINDOW_START = Date.UTC(2025, 4, 6, 10, 5);

let fake: FakeAws;
const clients: { destroy(): void }[] = [];

beforeEach(async () => {
  // The service clock a little after the fixed window, so the timestamp limits apply as they would then.
  fake = await startFakeAws({ now: () => WINDOW_START + 60_000 });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await fake.close();
});

function secretsClient(): SecretsManagerClient {
  const client = new SecretsManagerClient({ region: 'us-east-1', endpoint: fake.url, credentials });
  clients.push(client);
  return client;
}

/** A real CloudWatch client whose retries wait 1 ms instead of the SDK's backoff, to keep the suite quick. */
function cloudWatchClient(config: Partial<CloudWatchClientConfig> = {}): CloudWatchClient {
  const client = new CloudWatchClient({
    region: 'us-east-1',
    endpoint: fake.url,
    credentials,
    retryStrategy: new ConfiguredRetryStrategy(3, 1),
    ...config,
  });
  clients.push(client);
  return client;
}

function skillDatums(count: number): Datum[] {
  return Array.from(
    { length: count },
    (_, index): Datum => ({
      name: index % 2 === 0 ? 'CallsOffered' : 'WrapUpTime',
      unit: index % 2 === 0 ? 'Count' : 'Seconds',
      value: index * 1.25,
      timestamp: WINDOW_START + index * 1_000,
      dimensions: { CcId: '1', Vdn: '7', SkillId: String(index + 1) },
    }),
  );
}

function asReceived(datum: Datum): ReceivedDatum {
  return {
    name: datum.name,
    unit: datum.unit,
    value: datum.value,
    timestamp: datum.timestamp,
    dimensions: { ...datum.dimensions },
  };
}

function received(): ReceivedDatum[] {
  return fake.putMetricDataCalls
    .flatMap((call) => call.datums)
    .sort((a, b) => Number(a.dimensions.SkillId) - Number(b.dimensions.SkillId));
}

describe('fake Secrets Manager', () => {
  it('returns a stored secret by name', async () => {
    fake.setSecret('cms/credentials', '{"accessKey":"AK"}');
    const answer = await secretsClient().send(new GetSecretValueCommand({ SecretId: 'cms/credentials' }));

    expect(answer.SecretString).toBe('{"accessKey":"AK"}');
    expect(answer.Name).toBe('cms/credentials');
    expect(fake.getSecretValueCalls).toEqual([{ secretId: 'cms/credentials' }]);
  });

  it('returns a stored secret by its full ARN and by its ARN without the random suffix', async () => {
    fake.setSecret('cms/credentials', 'value');
    const client = secretsClient();
    const { ARN: arn = '' } = await client.send(new GetSecretValueCommand({ SecretId: 'cms/credentials' }));

    expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:\d{12}:secret:cms\/credentials-[A-Za-z0-9]{6}$/);
    expect((await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString).toBe('value');
    expect((await client.send(new GetSecretValueCommand({ SecretId: arn.slice(0, -7) }))).SecretString).toBe(
      'value',
    );
  });

  it('answers by name a secret stored under an ARN', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cms/credentials-AbC123';
    fake.setSecret(arn, 'value');
    const answer = await secretsClient().send(new GetSecretValueCommand({ SecretId: 'cms/credentials' }));

    expect(answer.ARN).toBe(arn);
  });

  it('raises ResourceNotFoundException for a secret it does not hold', async () => {
    const call = secretsClient().send(new GetSecretValueCommand({ SecretId: 'missing' }));

    await expect(call).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(fake.getSecretValueCalls).toEqual([]);
  });

  it('raises ResourceNotFoundException for a held secret while the fault lasts, then returns it', async () => {
    fake.setSecret('cms/credentials', 'value');
    fake.inject({ kind: 'secretNotFound' });
    const client = secretsClient();

    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'cms/credentials' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'cms/credentials' }))).SecretString).toBe(
      'value',
    );
  });

  it('raises AccessDeniedException when access is denied', async () => {
    fake.setSecret('cms/credentials', 'value');
    fake.inject({ kind: 'accessDenied', operation: 'GetSecretValue' });
    const call = secretsClient().send(new GetSecretValueCommand({ SecretId: 'cms/credentials' }));

    await expect(call).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('secretsmanager:GetSecretValue'),
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('forgets recorded calls and attempts on clearRecords, keeping its secrets', async () => {
    fake.setSecret('cms/credentials', 'value');
    const client = secretsClient();
    await client.send(new GetSecretValueCommand({ SecretId: 'cms/credentials' }));
    fake.clearRecords();

    expect(fake.getSecretValueCalls).toEqual([]);
    expect(fake.attempts).toEqual([]);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'cms/credentials' }))).SecretString).toBe(
      'value',
    );
  });

  it('delays matching calls while a latency fault lasts', async () => {
    fake.setSecret('cms/credentials', 'value');
    fake.inject({ kind: 'latency', ms: 80, operation: 'GetSecretValue' });
    const started = performance.now();
    await secretsClient().send(new GetSecretValueCommand({ SecretId: 'cms/credentials' }));

    // Only a lower bound: a loaded machine may be arbitrarily slower, never faster than the injected delay.
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
  });
});

describe('fake CloudWatch with CloudWatchSink', () => {
  it('receives 3,500 datums in 4 calls with exact names, units, values, dimensions and timestamps', async () => {
    const datums = skillDatums(3_500);
    const report = await new CloudWatchSink({
      client: cloudWatchClient(),
      namespace: 'HuaweiCEC/SkillQueues',
    }).publish(datums);

    expect(report).toEqual({ published: 3_500, calls: 4, failures: [] });
    expect(fake.putMetricDataCalls).toHaveLength(4);
    expect(fake.putMetricDataCalls.every((call) => call.namespace === 'HuaweiCEC/SkillQueues')).toBe(true);
    expect(received()).toEqual(datums.map(asReceived));
  });

  it('decodes gzip-compressed bodies, which the SDK sends for large requests', async () => {
    await new CloudWatchSink({ client: cloudWatchClient(), namespace: 'N', maxConcurrency: 1 }).publish(
      skillDatums(1_001),
    );

    expect(
      fake.putMetricDataCalls.map(({ datums, gzipped }) => ({ datums: datums.length, gzipped })),
    ).toEqual([
      { datums: 1_000, gzipped: true },
      { datums: 1, gzipped: false },
    ]);
    const [large] = fake.putMetricDataCalls;
    expect(large?.bodyBytes).toBeLessThan(large?.payloadBytes ?? 0);
  });

  it('keeps every request body as the service read it, gunzipped, refused requests included', async () => {
    fake.inject({ kind: 'fail', operation: 'PutMetricData' });
    const client = cloudWatchClient();
    const metricData = [{ MetricName: 'CallsOffered', Value: 1, Timestamp: new Date(WINDOW_START) }];
    await expect(
      client.send(new PutMetricDataCommand({ Namespace: 'Refused', MetricData: metricData })),
    ).rejects.toBeInstanceOf(InvalidParameterValueException);
    await new CloudWatchSink({ client, namespace: 'Large' }).publish(skillDatums(1_000));

    const [refused, large] = fake.attempts;
    expect(refused).toMatchObject({ operation: 'PutMetricData', status: 400 });
    expect(JSON.parse(refused?.body ?? '')).toMatchObject({
      Namespace: 'Refused',
      MetricData: [{ Value: 1 }],
    });
    expect(fake.putMetricDataCalls[0]?.gzipped).toBe(true);
    expect(JSON.parse(large?.body ?? '').MetricData).toHaveLength(1_000);
  });

  it('stays under the 1 MB payload limit when long dimension values make batches split on size', async () => {
    const datums = skillDatums(1_500).map((datum) => ({
      ...datum,
      dimensions: { ...datum.dimensions, CcId: 'c'.repeat(1_024), Vdn: 'v'.repeat(1_024) },
    }));
    const report = await new CloudWatchSink({ client: cloudWatchClient(), namespace: 'N' }).publish(datums);

    expect(report.failures).toEqual([]);
    // The count limit alone would need 2 calls.
    expect(report.calls).toBeGreaterThan(2);
    expect(Math.max(...fake.putMetricDataCalls.map((call) => call.payloadBytes))).toBeLessThanOrEqual(
      1_048_576,
    );
    expect(received()).toEqual(datums.map(asReceived));
  });

  it('publishes after throttling, through the SDK retries', async () => {
    fake.inject({ kind: 'throttle', operation: 'PutMetricData' }, { times: 2 });
    const report = await new CloudWatchSink({ client: cloudWatchClient(), namespace: 'N' }).publish(
      skillDatums(10),
    );

    expect(report).toEqual({ published: 10, calls: 1, failures: [] });
    expect(fake.attempts.map((attempt) => attempt.error ?? attempt.status)).toEqual([
      'Throttling',
      'Throttling',
      200,
    ]);
  });

  it('reports the batch as failed, throttled, when throttling outlasts the deadline', async () => {
    fake.inject({ kind: 'throttle', operation: 'PutMetricData' }, { times: Number.POSITIVE_INFINITY });
    const report = await new CloudWatchSink({ client: cloudWatchClient(), namespace: 'N' }).publish(
      skillDatums(10),
      { signal: AbortSignal.timeout(1_500) },
    );

    expect(report.published).toBe(0);
    expect(report.failures).toEqual([{ datums: 10, error: 'Throttling: Rate exceeded' }]);
    // The SDK's three attempts per call, and the sink's calls after their backoff.
    expect(fake.attempts.length).toBeGreaterThan(3);
    expect(report.calls).toBeGreaterThan(1);
  });

  it('splits a batch refused as invalid and delivers its datums in the halves', async () => {
    fake.inject({ kind: 'fail', operation: 'PutMetricData' });
    const datums = skillDatums(2_500);
    const report = await new CloudWatchSink({
      client: cloudWatchClient(),
      namespace: 'N',
      maxConcurrency: 1,
    }).publish(datums);

    expect(report).toEqual({ published: 2_500, calls: 5, failures: [] });
    expect(received().sort((a, b) => a.timestamp - b.timestamp)).toEqual(datums.map(asReceived));
    expect(fake.attempts.map((attempt) => attempt.error ?? attempt.status)).toEqual([
      'InvalidParameterValue',
      200,
      200,
      200,
      200,
    ]);
  });

  it('loses only the one datum the service refuses, not the thousand it was sent with', async () => {
    const datums = skillDatums(1_000);
    // Three hours ahead of the service's clock: refused, and with it the whole request it is part of.
    datums[617] = { ...(datums[617] as Datum), timestamp: WINDOW_START + 3 * 3_600_000 };
    const report = await new CloudWatchSink({ client: cloudWatchClient(), namespace: 'N' }).publish(datums);

    expect(report.published).toBe(999);
    expect(report.failures).toEqual([{ datums: 1, error: expect.stringMatching(/^InvalidParameterValue/) }]);
    expect(report.calls).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(1_000)));
    expect(received()).toHaveLength(999);
  });

  it('reports access denied without retrying', async () => {
    fake.inject({ kind: 'accessDenied', operation: 'PutMetricData' });
    const report = await new CloudWatchSink({ client: cloudWatchClient(), namespace: 'N' }).publish(
      skillDatums(1),
    );

    expect(report.failures).toEqual([
      { datums: 1, error: expect.stringMatching(/^AccessDenied: .*PutMetricData/) },
    ]);
    expect(fake.attempts).toHaveLength(1);
  });
});

describe('fake CloudWatch limits', () => {
  const metricData = (count: number, vdn = '7') =>
    Array.from({ length: count }, (_, index) => ({
      MetricName: 'CallsOffered',
      Value: index,
      Dimensions: [
        { Name: 'Vdn', Value: vdn },
        { Name: 'SkillId', Value: String(index) },
      ],
    }));

  it('refuses more than 1,000 datums in one call', async () => {
    const call = cloudWatchClient().send(
      new PutMetricDataCommand({ Namespace: 'N', MetricData: metricData(1_001) }),
    );

    await expect(call).rejects.toBeInstanceOf(InvalidParameterValueException);
    await expect(call).rejects.toThrow('1000');
    expect(fake.putMetricDataCalls).toEqual([]);
  });

  it('refuses a payload over 1 MB', async () => {
    const call = cloudWatchClient().send(
      new PutMetricDataCommand({ Namespace: 'N', MetricData: metricData(600, 'v'.repeat(2_000)) }),
    );

    await expect(call).rejects.toThrow('exceeds the limit of 1048576 bytes');
    expect(fake.putMetricDataCalls).toEqual([]);
  });

  it('refuses an unsigned request', async () => {
    const response = await fetch(fake.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData',
      },
      body: JSON.stringify({ Namespace: 'N', MetricData: metricData(1) }),
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-query-error')).toBe('MissingAuthenticationToken;Sender');
    expect(fake.putMetricDataCalls).toEqual([]);
  });

  it('refuses a body announced as gzip that is not, and keeps it as received', async () => {
    const response = await fetch(fake.url, {
      method: 'POST',
      headers: {
        authorization: 'AWS4-HMAC-SHA256 Credential=test',
        'content-encoding': 'gzip',
        'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData',
      },
      body: '{"Namespace":"N"}',
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-query-error')).toBe('SerializationException;Sender');
    expect(fake.attempts).toEqual([
      { operation: 'PutMetricData', body: '{"Namespace":"N"}', status: 400, error: 'SerializationException' },
    ]);
  });

  it('refuses an operation it does not implement', async () => {
    const response = await fetch(fake.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'GraniteServiceVersion20100801.ListMetrics' },
      body: '{}',
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});

describe('fake CloudWatch GetMetricData', () => {
  it('answers a statistic per period from the datums it received, newest first, for exact dimensions only', async () => {
    const client = cloudWatchClient();
    const dims = (vdn: string) => [
      { Name: 'CcId', Value: '1' },
      { Name: 'Vdn', Value: vdn },
    ];
    const at = (minute: number, second: number) => new Date(WINDOW_START + minute * 60_000 + second * 1_000);
    await client.send(
      new PutMetricDataCommand({
        Namespace: 'Test/SkillQueues',
        MetricData: [
          { MetricName: 'CollectionSuccess', Value: 1, Timestamp: at(0, 5), Dimensions: dims('170') },
          { MetricName: 'CollectionSuccess', Value: 0, Timestamp: at(1, 5), Dimensions: dims('170') },
          { MetricName: 'CollectionSuccess', Value: 1, Timestamp: at(1, 35), Dimensions: dims('170') },
          { MetricName: 'CollectionSuccess', Value: 1, Timestamp: at(2, 5), Dimensions: dims('171') },
        ],
      }),
    );
    const output = await client.send(
      new GetMetricDataCommand({
        StartTime: at(0, 0),
        EndTime: at(5, 0),
        ScanBy: 'TimestampDescending',
        MetricDataQueries: [
          {
            Id: 'success',
            MetricStat: {
              Metric: {
                Namespace: 'Test/SkillQueues',
                MetricName: 'CollectionSuccess',
                Dimensions: dims('170'),
              },
              Period: 60,
              Stat: 'Minimum',
            },
          },
        ],
      }),
    );
    expect(output.MetricDataResults).toEqual([
      expect.objectContaining({
        Id: 'success',
        StatusCode: 'Complete',
        Timestamps: [at(1, 0), at(0, 0)],
        Values: [0, 1],
      }),
    ]);
    expect(fake.getMetricDataCalls).toEqual([{ queries: 1 }]);
  });
});
