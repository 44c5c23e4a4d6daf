import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeExportResponse,
  OtlpMetricsEncoder,
  type SkillPoints,
  type SkillRead,
} from '../lib/metrics/otlp-protobuf.js';
import { COUNTERS, type Counters, OTLP_COUNTER_NAMES, OTLP_UNITS, WINDOW_MS } from '../lib/model.js';
import { decodeOfficially, partialSuccessBody } from './support/otlp-receiver.js';

// What the hand-written encoder writes, read back with the official OpenTelemetry schema.

const WINDOW = Date.UTC(2026, 10, 26, 9, 5);

const counterValues = fc.record(
  Object.fromEntries(COUNTERS.map(({ name }) => [name, fc.maxSafeNat()])) as Record<
    keyof Counters,
    fc.Arbitrary<number>
  >,
);

const skillRead: fc.Arbitrary<SkillRead> = fc
  .record({
    ccId: fc.integer({ min: 1, max: 65_535 }),
    vdn: fc.integer({ min: 1, max: 5_000 }),
    skillId: fc.integer({ min: 1, max: 5_000 }),
    window: fc.integer({ min: -100_000, max: 100_000 }),
    into: fc.integer({ min: 1, max: WINDOW_MS - 1 }),
    counters: counterValues,
  })
  .map(({ window, into, ...read }) => ({
    ...read,
    windowStart: WINDOW + window * WINDOW_MS,
    readAt: WINDOW + window * WINDOW_MS + into,
  }));

/** What the official schema must read for `reads`: every counter each read carries, metric by metric. */
function expectedPoints(reads: readonly SkillPoints[]) {
  return COUNTERS.flatMap((counter) =>
    reads
      .flatMap((read) => (read.counters[counter.name] === undefined ? [] : [read]))
      .map((read) => ({
        name: OTLP_COUNTER_NAMES[counter.name],
        unit: OTLP_UNITS[counter.unit],
        resource: { 'service.name': 'cms-skill-metrics' },
        scope: 'cms-skill-metrics',
        attributes: { cc_id: String(read.ccId), vdn: String(read.vdn), skill_id: String(read.skillId) },
        start: read.windowStart,
        time: read.readAt,
        value: String(read.counters[counter.name]),
        valueKind: 'asInt',
        temporality: 2,
        monotonic: true,
      })),
  );
}

describe('OTLP metrics encoder', () => {
  it('writes every counter of every read as the official schema reads it: name, unit, attributes, times, value', () => {
    fc.assert(
      fc.property(fc.array(skillRead, { minLength: 1, maxLength: 30 }), (reads) => {
        const encoder = new OtlpMetricsEncoder();
        expect(decodeOfficially(encoder.encode(reads))).toEqual(expectedPoints(reads));
      }),
    );
  });

  it('writes only the counters a read carries, and no metric that no read carries', () => {
    const subset = fc.tuple(skillRead, fc.subarray(COUNTERS.map(({ name }) => name))).map(
      ([read, names]): SkillPoints => ({
        ...read,
        counters: Object.fromEntries(names.map((name) => [name, read.counters[name]])),
      }),
    );
    fc.assert(
      fc.property(fc.array(subset, { minLength: 1, maxLength: 30 }), (reads) => {
        const encoder = new OtlpMetricsEncoder();
        const sent = decodeOfficially(encoder.encode(reads));
        expect(sent).toEqual(expectedPoints(reads));
        for (const read of reads)
          expect(encoder.readBytes(read)).toBe(
            Object.keys(read.counters).length * encoder.readBytes({ ...read, counters: { WrapUps: 0 } }),
          );
      }),
    );
  });

  it('says exactly how many bytes each read adds to a request', () => {
    fc.assert(
      fc.property(fc.array(skillRead, { minLength: 1, maxLength: 20 }), skillRead, (reads, extra) => {
        const encoder = new OtlpMetricsEncoder();
        const grown = encoder.encode([...reads, extra]).length - encoder.encode(reads).length;
        // Besides, only the length prefixes of the enclosing messages may grow, by a byte at most each: the
        // request's, the resource's, the scope's, and each of the eight metrics' and sums'.
        expect(grown - encoder.readBytes(extra)).toBeGreaterThanOrEqual(0);
        expect(grown - encoder.readBytes(extra)).toBeLessThanOrEqual(3 + 2 * COUNTERS.length);
      }),
    );
  });

  it('gives the same bytes for a skill whether its attributes were written before or not', () => {
    const read: SkillRead = {
      ccId: 1,
      vdn: 170,
      skillId: 12,
      windowStart: WINDOW,
      readAt: WINDOW + 61_000,
      counters: Object.fromEntries(COUNTERS.map(({ name }, index) => [name, index])) as Counters,
    };
    const warm = new OtlpMetricsEncoder();
    warm.encode([read]);
    expect(warm.encode([read])).toEqual(new OtlpMetricsEncoder().encode([read]));
  });
});

describe('OTLP answers', () => {
  it('reads a partial success written with the official schema', () => {
    expect(decodeExportResponse(partialSuccessBody(3, 'too old'))).toEqual({
      rejectedDataPoints: 3,
      errorMessage: 'too old',
    });
  });

  it('reads an empty answer as everything accepted', () => {
    expect(decodeExportResponse(new Uint8Array())).toBeUndefined();
  });

  it('refuses bytes that are not a response', () => {
    expect(() => decodeExportResponse(Uint8Array.from([0x0a, 0x20, 0x01]))).toThrow();
  });
});
