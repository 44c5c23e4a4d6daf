import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Log } from '../lib/log.js';
import { CloudWatchSink } from '../lib/metrics/cloudwatch.js';
import type { Datum, MetricSink } from '../lib/metrics/metric-sink.js';
import { CloudWatchHealth, HealthRecorder } from '../lib/wallboard/health.js';
import { type FakeAws, startFakeAws } from './support/fake-aws.js';

const NAMESPACE = 'Test/SkillQueues';
const silentLog: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const VDN = { ccId: 1, vdn: 170 };

function healthDatums(at: number, success: number): Datum[] {
  const dimensions = { CcId: '1', Vdn: '170' };
  return [
    { name: 'CollectionSuccess', unit: 'Count', value: success, timestamp: at, dimensions },
    { name: 'CmsLatency', unit: 'Milliseconds', value: 84, timestamp: at, dimensions },
    { name: 'SkillsMissing', unit: 'Count', value: 1, timestamp: at, dimensions },
    { name: 'DataAge', unit: 'Seconds', value: 190, timestamp: at, dimensions },
  ];
}

let aws: FakeAws;
let client: CloudWatchClient;

beforeAll(async () => {
  aws = await startFakeAws();
  client = new CloudWatchClient({
    region: 'us-east-1',
    endpoint: aws.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retryStrategy: new ConfiguredRetryStrategy(1, 1),
  });
});

afterAll(async () => {
  client.destroy();
  await aws.close();
});

beforeEach(() => {
  aws.clearRecords();
  aws.clearFaults();
});

describe('collector health read back from CloudWatch', () => {
  it('is the newest health datapoints the collector published for the VDN', async () => {
    const now = Date.now();
    const sink = new CloudWatchSink({ client, namespace: NAMESPACE });
    await sink.publish([...healthDatums(now - 120_000, 1), ...healthDatums(now - 30_000, 0)]);
    const health = new CloudWatchHealth({ client, namespace: NAMESPACE, log: silentLog });
    const reading = await health.read(VDN, Date.now() + 5_000);
    expect(reading).toEqual({
      kind: 'known',
      health: {
        at: Math.floor((now - 30_000) / 60_000) * 60_000,
        collectionSuccess: 0,
        cmsLatencyMs: 84,
        skillsMissing: 1,
        dataAgeSeconds: 190,
      },
    });
  });

  it('is silent when the collector published nothing for the VDN lately', async () => {
    const health = new CloudWatchHealth({ client, namespace: NAMESPACE, log: silentLog });
    expect(await health.read({ ccId: 1, vdn: 171 }, Date.now() + 5_000)).toEqual({
      kind: 'silent',
      sinceMinutes: 15,
    });
  });

  it('is unavailable, with the reason, when CloudWatch refuses', async () => {
    aws.inject({ kind: 'accessDenied', operation: 'GetMetricData' });
    const health = new CloudWatchHealth({ client, namespace: NAMESPACE, log: silentLog });
    const reading = await health.read(VDN, Date.now() + 5_000);
    expect(reading).toEqual({
      kind: 'unavailable',
      reason: 'CloudWatch could not be read: AccessDeniedException',
    });
  });

  it('is read once per VDN per cache period, however many viewers ask', async () => {
    const health = new CloudWatchHealth({ client, namespace: NAMESPACE, log: silentLog });
    await Promise.all(Array.from({ length: 50 }, () => health.read(VDN, Date.now() + 5_000)));
    await health.read(VDN, Date.now() + 5_000);
    expect(aws.getMetricDataCalls).toHaveLength(1);
  });

  it('asks CloudWatch for the four metrics it shows and no other, since each one is billed', async () => {
    const health = new CloudWatchHealth({ client, namespace: NAMESPACE, log: silentLog });
    await health.read(VDN, Date.now() + 5_000);
    expect(aws.getMetricDataCalls).toEqual([{ queries: 4 }]);
  });
});

describe('collector health recorded in a local run', () => {
  it('keeps the newest health datums that passed to the sink', async () => {
    const published: Datum[] = [];
    const sink: MetricSink = {
      publish: async (datums) => {
        published.push(...datums);
        return { published: datums.length, calls: 1, failures: [] };
      },
    };
    const now = Date.now();
    const recorder = new HealthRecorder(() => now);
    await recorder
      .recording(sink)
      .publish([...healthDatums(now - 60_000, 0), ...healthDatums(now - 1_000, 1)]);
    expect(published).toHaveLength(8);
    expect(await recorder.read(VDN)).toMatchObject({
      kind: 'known',
      health: { at: now - 1_000, collectionSuccess: 1, dataAgeSeconds: 190 },
    });
  });

  it('is silent for a VDN the collector has not published', async () => {
    const recorder = new HealthRecorder();
    expect(await recorder.read(VDN)).toEqual({ kind: 'silent', sinceMinutes: 1 });
  });
});
