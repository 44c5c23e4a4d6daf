import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { EmfSink } from '../lib/metrics/emf.js';
import type { Datum } from '../lib/metrics/metric-sink.js';
import { ALL_METRIC_NAMES, METRIC_UNITS, type MetricName } from '../lib/model.js';

const WINDOW_START = Date.UTC(2025, 4, 6, 10, 5);
const RUN_TIME = WINDOW_START + 137_000;

/** Units the EMF specification accepts (the CloudWatch StandardUnit values). */
const EMF_UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

/**
 * Checks one line against the EMF specification: a JSON object whose `_aws` member holds an integer
 * `Timestamp` and a non-empty `CloudWatchMetrics` list of directives; each directive has a Namespace (1–255
 * characters), dimension sets of at most 30 names that are string members of the document, and at most 100
 * metric definitions whose names are number members of the document.
 */
function expectValidEmf(line: string): Record<string, unknown> {
  expect(line).not.toContain('\n');
  const document = JSON.parse(line) as Record<string, unknown>;
  const aws = document._aws as { Timestamp: unknown; CloudWatchMetrics: unknown };
  expect(Number.isInteger(aws.Timestamp)).toBe(true);
  expect(Array.isArray(aws.CloudWatchMetrics)).toBe(true);
  const directives = aws.CloudWatchMetrics as { Namespace: unknown; Dimensions: unknown; Metrics: unknown }[];
  expect(directives.length).toBeGreaterThan(0);
  for (const directive of directives) {
    expect(typeof directive.Namespace).toBe('string');
    expect((directive.Namespace as string).length).toBeGreaterThan(0);
    expect((directive.Namespace as string).length).toBeLessThanOrEqual(255);
    const dimensionSets = directive.Dimensions as string[][];
    expect(Array.isArray(dimensionSets)).toBe(true);
    for (const set of dimensionSets) {
      expect(set.length).toBeLessThanOrEqual(30);
      for (const name of set) expect(typeof document[name]).toBe('string');
    }
    const metrics = directive.Metrics as { Name: string; Unit?: string }[];
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics.length).toBeLessThanOrEqual(100);
    expect(new Set(metrics.map((metric) => metric.Name)).size).toBe(metrics.length);
    for (const metric of metrics) {
      expect(typeof document[metric.Name]).toBe('number');
      if (metric.Unit !== undefined) expect(EMF_UNITS.has(metric.Unit)).toBe(true);
    }
  }
  return document;
}

/** The datums a line stands for, read back the way CloudWatch Logs extracts them. */
function extract(line: string): Datum[] {
  const document = expectValidEmf(line);
  const aws = document._aws as {
    Timestamp: number;
    CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  return aws.CloudWatchMetrics.flatMap((directive) =>
    directive.Metrics.map((metric) => ({
      name: metric.Name as MetricName,
      unit: metric.Unit as Datum['unit'],
      value: document[metric.Name] as number,
      timestamp: aws.Timestamp,
      dimensions: Object.fromEntries((directive.Dimensions[0] ?? []).map((name) => [name, document[name]])),
    })),
  );
}

function collect() {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

const skill = (skillId: number, name: MetricName, value: number): Datum => ({
  name,
  unit: METRIC_UNITS[name],
  value,
  timestamp: WINDOW_START,
  dimensions: { CcId: '1', Vdn: '7', SkillId: String(skillId) },
});

const vdn = (name: MetricName, value: number, timestamp: number): Datum => ({
  name,
  unit: METRIC_UNITS[name],
  value,
  timestamp,
  dimensions: { CcId: '1', Vdn: '7' },
});

const byKey = (datum: Datum) => JSON.stringify([datum.timestamp, datum.dimensions, datum.name]);
const sorted = (datums: readonly Datum[]) => [...datums].sort((a, b) => byKey(a).localeCompare(byKey(b)));

describe('EmfSink', () => {
  it('writes one document per dimension set and timestamp, carrying all of its metrics', async () => {
    const { lines, write } = collect();
    const datums = [
      skill(1, 'CallsOffered', 10),
      skill(2, 'CallsOffered', 4),
      skill(1, 'AbandonmentRate', 20),
      vdn('CallsOffered', 14, WINDOW_START),
      vdn('CollectionSuccess', 1, RUN_TIME),
      vdn('CmsLatency', 180, RUN_TIME),
    ];

    const report = await new EmfSink({ namespace: 'HuaweiCEC/SkillQueues', write }).publish(datums);

    expect(report).toEqual({ published: 6, calls: 4, failures: [] });
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        _aws: {
          Timestamp: WINDOW_START,
          CloudWatchMetrics: [
            {
              Namespace: 'HuaweiCEC/SkillQueues',
              Dimensions: [['CcId', 'Vdn', 'SkillId']],
              Metrics: [
                { Name: 'CallsOffered', Unit: 'Count' },
                { Name: 'AbandonmentRate', Unit: 'Percent' },
              ],
            },
          ],
        },
        CcId: '1',
        Vdn: '7',
        SkillId: '1',
        CallsOffered: 10,
        AbandonmentRate: 20,
      },
      expect.objectContaining({ SkillId: '2', CallsOffered: 4 }),
      expect.objectContaining({
        _aws: expect.objectContaining({ Timestamp: WINDOW_START }),
        CallsOffered: 14,
      }),
      expect.objectContaining({
        _aws: expect.objectContaining({ Timestamp: RUN_TIME }),
        CollectionSuccess: 1,
        CmsLatency: 180,
      }),
    ]);
  });

  it('writes lines that follow the EMF specification and carry every datum exactly', async () => {
    const anyDatum = fc.record({
      name: fc.constantFrom(...ALL_METRIC_NAMES),
      value: fc.double({ noNaN: true, noDefaultInfinity: true }),
      timestamp: fc.constantFrom(WINDOW_START, WINDOW_START + 300_000, RUN_TIME),
      skillId: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(anyDatum, { maxLength: 300 }), async (specs) => {
        const datums = specs.map(
          ({ name, value, timestamp, skillId }): Datum => ({
            name,
            unit: METRIC_UNITS[name],
            value,
            timestamp,
            dimensions:
              skillId === undefined
                ? { CcId: '1', Vdn: '7' }
                : { CcId: '1', Vdn: '7', SkillId: String(skillId) },
          }),
        );
        const { lines, write } = collect();
        const report = await new EmfSink({ namespace: 'N', write }).publish(datums);

        expect(report).toEqual({ published: datums.length, calls: lines.length, failures: [] });
        // JSON has no negative zero; to CloudWatch it is zero anyway.
        const expected = datums.map((datum) => ({ ...datum, value: datum.value === 0 ? 0 : datum.value }));
        expect(sorted(lines.flatMap(extract))).toEqual(sorted(expected));
      }),
      {
        numRuns: 60,
        examples: [[[{ name: 'CallsOffered', value: -0, timestamp: WINDOW_START, skillId: 1 }]]],
      },
    );
  });

  it('puts a metric named twice in one group into separate documents', async () => {
    const { lines, write } = collect();
    await new EmfSink({ namespace: 'N', write }).publish([
      skill(1, 'CallsOffered', 3),
      skill(1, 'CallsOffered', 5),
    ]);

    expect(lines.map((line) => JSON.parse(line).CallsOffered)).toEqual([3, 5]);
  });

  it('splits a group of more than 100 metrics into documents of at most 100', async () => {
    // The product has fewer metric names than the limit; made-up names exercise it.
    const datums = Array.from({ length: 250 }, (_, index) => skill(1, `Metric${index}` as MetricName, index));
    const { lines, write } = collect();
    const report = await new EmfSink({ namespace: 'N', write }).publish(datums);

    expect(report.calls).toBe(3);
    expect(lines.map((line) => extract(line).length)).toEqual([100, 100, 50]);
  });

  it('reports datums with a non-finite value instead of writing them', async () => {
    const { lines, write } = collect();
    const report = await new EmfSink({ namespace: 'N', write }).publish([
      skill(1, 'CallsOffered', Number.NaN),
      skill(1, 'CallsAnswered', 2),
    ]);

    expect(report.published).toBe(1);
    expect(report.failures).toEqual([{ datums: 1, error: expect.stringContaining('CallsOffered') }]);
    expect(lines.flatMap(extract).map((datum) => datum.name)).toEqual(['CallsAnswered']);
  });

  it('reports a line that cannot be written and goes on with the others', async () => {
    let writes = 0;
    const write = () => {
      writes += 1;
      if (writes === 1) throw new Error('EPIPE');
    };
    const report = await new EmfSink({ namespace: 'N', write }).publish([
      skill(1, 'CallsOffered', 1),
      skill(1, 'CallsAnswered', 1),
      skill(2, 'CallsOffered', 1),
    ]);

    expect(report).toEqual({ published: 1, calls: 1, failures: [{ datums: 2, error: 'Error: EPIPE' }] });
  });

  it('writes to stdout one line per document by default', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await new EmfSink({ namespace: 'N' }).publish([skill(1, 'CallsOffered', 1)]);

      expect(stdout).toHaveBeenCalledTimes(1);
      const text = String(stdout.mock.calls[0]?.[0]);
      expect(text.endsWith('}\n')).toBe(true);
      expectValidEmf(text.slice(0, -1));
    } finally {
      stdout.mockRestore();
    }
  });

  it('writes nothing for no datums', async () => {
    const { lines, write } = collect();

    expect(await new EmfSink({ namespace: 'N', write }).publish([])).toEqual({
      published: 0,
      calls: 0,
      failures: [],
    });
    expect(lines).toEqual([]);
  });
});
