import {
  CloudWatchClient,
  PutMetricDataCommand,
  type PutMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PutMetricDataFastProtocol, putMetricDataJson } from '../lib/metrics/put-metric-data-protocol.js';
import { createCloudWatchClient } from '../lib/metrics/sinks.js';

/** The exact body a client would send for `input`, captured before it leaves the process. */
async function bodyOf(client: CloudWatchClient, input: PutMetricDataCommandInput): Promise<string> {
  let body = '';
  client.middlewareStack.add(
    () => async (args) => {
      const request = (args as { request: { body: string | Uint8Array } }).request;
      body = typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8');
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'finalizeRequest', priority: 'low', name: 'captureBody' },
  );
  await client.send(new PutMetricDataCommand(input));
  return body;
}

const clientConfig = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  // The comparison is about serialisation; compression would only hide it.
  disableRequestCompression: true,
};
const sdkClient = () => new CloudWatchClient(clientConfig);
const fastClient = () => createCloudWatchClient(clientConfig);

const text = fc.string({ unit: 'binary', maxLength: 40 });
const datum = fc.record({
  MetricName: text,
  Dimensions: fc.array(fc.record({ Name: text, Value: text }), { maxLength: 30 }),
  Timestamp: fc.date({ min: new Date(0), max: new Date(4_102_444_800_000), noInvalidDate: true }),
  Value: fc.double({ noNaN: true, noDefaultInfinity: true }),
  Unit: fc.constantFrom('Count', 'Seconds', 'Percent', 'Milliseconds'),
});

describe('PutMetricData bodies', () => {
  it('are byte for byte what the SDK serializer writes, for any datums the sink can send', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(datum, { maxLength: 20 }), async (namespace, data) => {
        const input = { Namespace: namespace, MetricData: data } as PutMetricDataCommandInput;
        expect(putMetricDataJson(input)).toBeDefined();
        expect(await bodyOf(fastClient(), input)).toBe(await bodyOf(sdkClient(), input));
      }),
      { numRuns: 150 },
    );
  });

  it.each([
    ['statistic sets', { StatisticValues: { SampleCount: 2, Sum: 3, Minimum: 1, Maximum: 2 } }],
    ['value arrays', { Values: [1, 2], Counts: [3, 4] }],
    ['high-resolution storage', { StorageResolution: 1 }],
    ['a value that is not finite', { Value: Number.NaN }],
    ['dimensions written Value first', { Dimensions: [{ Value: '1', Name: 'CcId' }] }],
  ])('fall back to the SDK serializer for %s', async (_, extra) => {
    const input = {
      Namespace: 'Test',
      MetricData: [
        {
          MetricName: 'CallsOffered',
          Dimensions: [],
          Timestamp: new Date(0),
          Value: 1,
          Unit: 'Count',
          ...extra,
        },
      ],
    } as PutMetricDataCommandInput;
    expect(putMetricDataJson(input)).toBeUndefined();
    expect(await bodyOf(fastClient(), input)).toBe(await bodyOf(sdkClient(), input));
  });

  it('are written by the collector client', () => {
    const warnings: string[] = [];
    const client = createCloudWatchClient(
      { region: 'us-east-1' },
      { warn: (message) => warnings.push(message) },
    );
    expect(client.config.protocol).toBeInstanceOf(PutMetricDataFastProtocol);
    expect(warnings).toEqual([]);
  });

  it('are left to the SDK, with a WARN line, when its CloudWatch protocol is not the one the writer replaces', () => {
    const warnings: unknown[][] = [];
    const client = createCloudWatchClient(
      { region: 'us-east-1', protocol: AwsQueryProtocol },
      { warn: (...line) => warnings.push(line) },
    );
    expect(client.config.protocol).toBeInstanceOf(AwsQueryProtocol);
    expect(client.config.protocol).not.toBeInstanceOf(PutMetricDataFastProtocol);
    expect(warnings).toEqual([[expect.stringContaining('SDK'), { sdkProtocol: 'AwsQueryProtocol' }]]);
  });
});
