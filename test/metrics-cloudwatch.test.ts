import type { PutMetricDataCommand, PutMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCH_BYTE_BUDGET,
  CloudWatchSink,
  estimateDatumBytes,
  type PutMetricDataClient,
  planBatches,
} from '../lib/metrics/cloudwatch.js';
import { PUT_METRIC_DATA_LIMITS } from '../lib/metrics/limits.js';
import type { Datum } from '../lib/metrics/metric-sink.js';

const WINDOW_START = Date.UTC(2025, 4, 6, 10, 5);

function skillDatum(skillId: number, value = skillId): Datum {
  return {
    name: 'CallsOffered',
    unit: 'Count',
    value,
    timestamp: WINDOW_START,
    dimensions: { CcId: '1', Vdn: '7', SkillId: String(skillId) },
  };
}

function skillDatums(count: number): Datum[] {
  return Array.from({ length: count }, (_, index) => skillDatum(index + 1));
}

/** The body the SDK serializes for a batch: the JSON the service measures against its 1 MB limit. */
function wireBytes(namespace: string, batch: readonly Datum[]): number {
  const body = {
    Namespace: namespace,
    MetricData: batch.map((datum) => ({
      MetricName: datum.name,
      Dimensions: Object.entries(datum.dimensions).map(([Name, Value]) => ({ Name, Value })),
      Timestamp: datum.timestamp / 1000,
      Value: datum.value,
      Unit: datum.unit,
    })),
  };
  return Buffer.byteLength(JSON.stringify(body));
}

/** Datums whose dimension values vary in length from a handful of bytes up to the service's 1,024 characters. */
const datumsOfVaryingSize = fc
  .record({
    count: fc.integer({ min: 0, max: 2_600 }),
    lengths: fc.array(fc.integer({ min: 1, max: 1_024 }), { minLength: 1, maxLength: 8 }),
    value: fc.double({ noNaN: true, noDefaultInfinity: true }),
  })
  .map(({ count, lengths, value }) =>
    Array.from(
      { length: count },
      (_, index): Datum => ({
        name: 'WrapUpTime',
        unit: 'Seconds',
        value,
        timestamp: WINDOW_START + index,
        dimensions: {
          CcId: '1',
          Vdn: 'v'.repeat(lengths[index % lengths.length] ?? 1),
          SkillId: String(index),
        },
      }),
    ),
  );

describe('planBatches', () => {
  it('keeps every batch within the datum count and request size limits', () => {
    fc.assert(
      fc.property(datumsOfVaryingSize, (datums) => {
        for (const batch of planBatches(datums)) {
          expect(batch.length).toBeGreaterThan(0);
          expect(batch.length).toBeLessThanOrEqual(PUT_METRIC_DATA_LIMITS.datumsPerCall);
          expect(wireBytes('N'.repeat(255), batch)).toBeLessThanOrEqual(PUT_METRIC_DATA_LIMITS.requestBytes);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('keeps the order and loses nothing', () => {
    fc.assert(
      fc.property(datumsOfVaryingSize, (datums) => {
        expect(planBatches(datums).flat()).toEqual(datums);
      }),
      { numRuns: 40 },
    );
  });

  it('makes the fewest calls the count limit allows when datums are small', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5_500 }), (count) => {
        expect(planBatches(skillDatums(count))).toHaveLength(Math.ceil(count / 1_000));
      }),
      { numRuns: 60 },
    );
  });

  it('closes a batch only when it is full or the next datum would overflow the size budget', () => {
    fc.assert(
      fc.property(datumsOfVaryingSize, (datums) => {
        const batches = planBatches(datums);
        batches.slice(0, -1).forEach((batch, index) => {
          const next = batches[index + 1]?.[0] as Datum;
          const bytes = [...batch, next].reduce((sum, datum) => sum + estimateDatumBytes(datum), 0);
          expect(batch.length === PUT_METRIC_DATA_LIMITS.datumsPerCall || bytes > BATCH_BYTE_BUDGET).toBe(
            true,
          );
        });
      }),
      { numRuns: 40 },
    );
  });

  it('splits on size before the count limit when dimension values are long', () => {
    const long = skillDatums(1_000).map((datum) => ({
      ...datum,
      dimensions: { ...datum.dimensions, Vdn: 'v'.repeat(1_024) },
    }));
    expect(planBatches(long).length).toBeGreaterThan(1);
  });

  it('never estimates a datum below its serialized size', () => {
    fc.assert(
      fc.property(datumsOfVaryingSize, (datums) => {
        for (const datum of datums.slice(0, 50)) {
          expect(estimateDatumBytes(datum)).toBeGreaterThan(wireBytes('', [datum]) - wireBytes('', []));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('plans no batch for no datums', () => {
    expect(planBatches([])).toEqual([]);
  });
});

type Reply = (command: PutMetricDataCommand) => Promise<PutMetricDataCommandOutput>;

/** Records every command and answers with `reply`; counts calls in flight to observe the concurrency bound. */
function recordingClient(reply: Reply = async () => ({ $metadata: {} })) {
  const commands: PutMetricDataCommand[] = [];
  const state = { inFlight: 0, maxInFlight: 0 };
  const client: PutMetricDataClient = {
    async send(command) {
      commands.push(command);
      state.inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        await new Promise((resolve) => setImmediate(resolve));
        return await reply(command);
      } finally {
        state.inFlight -= 1;
      }
    },
  };
  return { client, commands, state };
}

describe('CloudWatchSink', () => {
  it('sends each datum with its name, unit, value, timestamp as a Date and dimensions in datum order', async () => {
    const { client, commands } = recordingClient();
    const sink = new CloudWatchSink({ client, namespace: 'HuaweiCEC/SkillQueues' });
    const datum: Datum = {
      name: 'AbandonmentRate',
      unit: 'Percent',
      value: 12.345678,
      timestamp: WINDOW_START,
      dimensions: { CcId: '1', Vdn: '7', SkillId: '35' },
    };

    await sink.publish([datum]);

    expect(commands.map((command) => command.input)).toEqual([
      {
        Namespace: 'HuaweiCEC/SkillQueues',
        MetricData: [
          {
            MetricName: 'AbandonmentRate',
            Unit: 'Percent',
            Value: 12.345678,
            Timestamp: new Date(WINDOW_START),
            Dimensions: [
              { Name: 'CcId', Value: '1' },
              { Name: 'Vdn', Value: '7' },
              { Name: 'SkillId', Value: '35' },
            ],
          },
        ],
      },
    ]);
  });

  it('reports every datum published and one call per batch of 1,000', async () => {
    const { client, commands } = recordingClient();
    const report = await new CloudWatchSink({ client, namespace: 'N' }).publish(skillDatums(2_001));

    expect(report).toEqual({ published: 2_001, calls: 3, failures: [] });
    expect(commands.map((command) => command.input.MetricData?.length)).toEqual([1_000, 1_000, 1]);
  });

  it('keeps at most maxConcurrency calls in flight', async () => {
    const { client, state } = recordingClient();
    await new CloudWatchSink({ client, namespace: 'N', maxConcurrency: 3 }).publish(skillDatums(10_000));

    expect(state.maxInFlight).toBe(3);
  });

  it('runs up to 8 calls at once by default', async () => {
    const { client, state } = recordingClient();
    await new CloudWatchSink({ client, namespace: 'N' }).publish(skillDatums(12_000));

    expect(state.maxInFlight).toBe(8);
  });

  it('reports a failed call with its datum count and error while the other batches are published', async () => {
    const { client } = recordingClient(async (command) => {
      if (command.input.MetricData?.[0]?.Dimensions?.[2]?.Value === '1001') {
        throw Object.assign(new Error('not authorized'), { name: 'AccessDenied' });
      }
      return { $metadata: {} };
    });
    const report = await new CloudWatchSink({ client, namespace: 'N' }).publish(skillDatums(2_500));

    expect(report).toEqual({
      published: 1_500,
      calls: 3,
      failures: [{ datums: 1_000, error: 'AccessDenied: not authorized' }],
    });
  });

  /** A client that refuses the first `times` calls with `error`, then accepts every call. */
  function refusingFirst(times: number, error: () => unknown) {
    let refused = 0;
    return recordingClient(async () => {
      if (refused < times) {
        refused += 1;
        throw error();
      }
      return { $metadata: {} };
    });
  }

  const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
  const tooManyRequests = () =>
    Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 429 } });
  const tooLarge = () =>
    Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 413 } });

  it.each([
    ['400 Throttling', throttling],
    ['HTTP 429', tooManyRequests],
  ])('sends a batch refused with %s again after a backoff, until it is taken', async (_, error) => {
    const { client, commands } = refusingFirst(5, error);
    const sink = new CloudWatchSink({ client, namespace: 'N', random: () => 0 });
    const report = await sink.publish(skillDatums(10), { signal: AbortSignal.timeout(5_000) });

    expect(report).toEqual({ published: 10, calls: 6, failures: [] });
    expect(commands).toHaveLength(6);
  });

  it('gives a throttled batch up when the deadline comes, reporting what throttled it', async () => {
    const { client } = recordingClient(() => Promise.reject(throttling()));
    const sink = new CloudWatchSink({ client, namespace: 'N', random: () => 0.5 });
    const started = Date.now();
    const report = await sink.publish(skillDatums(10), { signal: AbortSignal.timeout(300) });

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(report.published).toBe(0);
    expect(report.failures).toEqual([{ datums: 10, error: 'Throttling: Rate exceeded' }]);
  });

  it('splits a batch refused as too large (HTTP 413) and sends both halves', async () => {
    const { client, commands } = refusingFirst(1, tooLarge);
    const report = await new CloudWatchSink({ client, namespace: 'N' }).publish(skillDatums(10));

    expect(report).toEqual({ published: 10, calls: 3, failures: [] });
    expect(commands.map((command) => command.input.MetricData?.length)).toEqual([10, 5, 5]);
  });

  it('reports a rejection that is not an Error by its text', async () => {
    const { client } = recordingClient(() => Promise.reject('connection reset'));
    const report = await new CloudWatchSink({ client, namespace: 'N' }).publish(skillDatums(3));

    expect(report.failures).toEqual([{ datums: 3, error: 'connection reset' }]);
  });

  it('reports datums with a non-finite value instead of sending them, and sends the rest', async () => {
    const { client, commands } = recordingClient();
    const report = await new CloudWatchSink({ client, namespace: 'N' }).publish([
      skillDatum(1, Number.NaN),
      skillDatum(2),
      skillDatum(3, Number.POSITIVE_INFINITY),
    ]);

    expect(report.published).toBe(1);
    expect(report.failures).toEqual([{ datums: 2, error: expect.stringContaining('non-finite') }]);
    expect(commands[0]?.input.MetricData?.map((datum) => datum.Value)).toEqual([2]);
  });

  it('makes no call for no datums', async () => {
    const { client, commands } = recordingClient();
    const report = await new CloudWatchSink({ client, namespace: 'N' }).publish([]);

    expect(report).toEqual({ published: 0, calls: 0, failures: [] });
    expect(commands).toHaveLength(0);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses maxConcurrency %s', (maxConcurrency) => {
    expect(
      () => new CloudWatchSink({ client: recordingClient().client, namespace: 'N', maxConcurrency }),
    ).toThrow('maxConcurrency');
  });

  it('refuses an empty namespace', () => {
    expect(() => new CloudWatchSink({ client: recordingClient().client, namespace: '' })).toThrow(
      'namespace',
    );
  });
});
